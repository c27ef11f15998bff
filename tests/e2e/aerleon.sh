#!/usr/bin/env bash
# End-to-end: Aerleon accepts cmflow's Aerleon export.
#
# Installs aerleon (PyPI) into a temporary virtual environment, exports examples/contoso,
# examples/standalone-primary and a generated model (`--scale small`) with
# `cmflow export --target aerleon --phase all`, runs `aclgen` on each export, and checks
# that it exits 0 and writes, for every policy, the iptables filter and the
# windows_advfirewall script. Needs cargo and python3 (with venv); builds what it needs.
#
# Then the round trip of the readers (issue 14, 3b): the Aerleon policy of
# examples/aerleon-repo, read by cmflow as `aerleon`, and the same policy rendered by
# `aclgen` to iptables and nftables, loaded into the kernel in a fresh network namespace
# (`unshare -n`, root; installs iptables and nftables when missing) and read back as
# `iptables-save` and `nftables-json`, give the same verdict on every required flow.
set -euo pipefail
cd "$(dirname "$0")/../.."

target_dir=${CARGO_TARGET_DIR:-target}
# The binary as .ci/run builds it; the generator separately (examples build with the
# dev-dependencies' features).
cargo build --release --locked
cargo build --release --locked --example generate
cmflow="$target_dir/release/cmflow"
generate="$target_dir/release/examples/generate"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "-- installing aerleon into a virtual environment"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check aerleon
"$work/venv/bin/pip" show aerleon | grep -E '^(Name|Version)'

"$generate" --scale small "$work/generated-small" 2>/dev/null

failed=0
for model in examples/contoso examples/standalone-primary "$work/generated-small"; do
    name=$(basename "$model")
    out="$work/export-$name"
    "$cmflow" export "$model" --target aerleon --phase all --out "$out"
    policies=$(find "$out/policies/pol" -name '*.yaml' 2>/dev/null | sort || true)
    if [ -z "$policies" ]; then
        # A model without network firewalls exports definitions only.
        test -s "$out/def/networks.yaml" && test -s "$out/def/services.yaml"
        echo "ok   $name: no network firewall, definitions only"
        continue
    fi
    if ! (cd "$out" && "$work/venv/bin/aclgen" --base_directory policies \
            --definitions_directory def --output_directory rendered >"$work/aclgen-$name.log" 2>&1); then
        echo "FAIL $name: aclgen exited with an error" >&2
        cat "$work/aclgen-$name.log" >&2
        failed=1
        continue
    fi
    if grep -q "error encountered" "$work/aclgen-$name.log"; then
        echo "FAIL $name: aclgen reported errors" >&2
        cat "$work/aclgen-$name.log" >&2
        failed=1
        continue
    fi
    count=0
    for policy in $policies; do
        stem=$(basename "$policy" .yaml)
        for rendered in "$out/rendered/$stem" "$out/rendered/$stem.bat"; do
            if [ ! -s "$rendered" ]; then
                echo "FAIL $name: aclgen wrote no $(basename "$rendered")" >&2
                failed=1
            fi
        done
        grep -q -- '-j ACCEPT' "$out/rendered/$stem" || { echo "FAIL $name: $stem has no ACCEPT rule" >&2; failed=1; }
        count=$((count + 1))
    done
    echo "ok   $name: $count policies rendered for iptables and windows_advfirewall"
done

echo "-- round trip: examples/aerleon-repo read as aerleon, iptables-save and nftables-json"
roundtrip() {
    local rt="$work/roundtrip" acl fw
    cp -r examples/aerleon-repo "$rt"
    acl="$rt/acl"
    fw="$rt/cmflow/firewalls.kdl"
    # Aerleon's nftables generator renders input or output chains only: the policy gains
    # an nftables target, and its rendering is hooked at forward before it is loaded.
    sed -i 's/^        iptables: FORWARD DROP$/&\n        nftables: mixed INPUT/' "$acl/policies/pol/fw-dc.yaml"
    grep -q 'nftables: mixed INPUT' "$acl/policies/pol/fw-dc.yaml"
    if ! (cd "$acl" && "$work/venv/bin/aclgen" --base_directory policies \
            --definitions_directory def --output_directory rendered >"$work/aclgen-roundtrip.log" 2>&1) \
        || grep -q "error encountered" "$work/aclgen-roundtrip.log"; then
        echo "FAIL round trip: aclgen could not render the policy" >&2
        cat "$work/aclgen-roundtrip.log" >&2
        return 1
    fi
    # aclgen's iptables output is a list of iptables arguments (-P, -N, -A): run each in
    # the namespace, then read the table back as iptables-save writes it.
    unshare -n bash -c 'set -e; grep -E "^-" "$1" | while IFS= read -r line; do eval "iptables $line"; done; iptables-save -t filter' \
        _ "$acl/rendered/fw-dc" >"$acl/rendered/fw-dc.iptables-save"
    sed 's/hook input/hook forward/' "$acl/rendered/fw-dc.nft" >"$acl/rendered/fw-dc-forward.nft"
    unshare -n sh -c 'nft -f "$1" && nft -j list ruleset' _ "$acl/rendered/fw-dc-forward.nft" \
        >"$acl/rendered/fw-dc.nft.json"
    "$cmflow" check "$rt/cmflow" --format short
    "$cmflow" flows "$rt/cmflow" --format json >"$work/flows-aerleon.json"
    for variant in "iptables-save:fw-dc.iptables-save" "nftables-json:fw-dc.nft.json"; do
        format=${variant%%:*}
        file=${variant#*:}
        sed -i -E "s|source=\"[^\"]*\" format=\"[^\"]*\"|source=\"../acl/rendered/$file\" format=\"$format\"|" "$fw"
        grep -q "format=\"$format\"" "$fw"
        "$cmflow" flows "$rt/cmflow" --format json >"$work/flows-$format.json"
    done
    python3 - "$work/flows-aerleon.json" "$work/flows-iptables-save.json" "$work/flows-nftables-json.json" <<'PY'
import json, sys

def verdicts(path):
    flows = json.load(open(path))["flows"]
    out = {}
    for f in flows:
        key = (f["source"], f["source_role"], f["destination"], f["destination_role"],
               f["protocol"], f["ports"], f["service"], f["phase"])
        out[key] = f["verdict"]
    return out

base = verdicts(sys.argv[1])
bad = 0
for path in sys.argv[2:]:
    other = verdicts(path)
    if other.keys() != base.keys():
        print(f"FAIL {path}: not the same flows", file=sys.stderr)
        bad = 1
    for key, verdict in sorted(base.items()):
        if other.get(key) != verdict:
            print(f"FAIL {path}: {key}: aerleon {verdict}, here {other.get(key)}", file=sys.stderr)
            bad = 1
print(f"{len(base)} flows compared over {len(sys.argv) - 2} formats")
sys.exit(bad)
PY
}
can_netns() {
    [ "$(id -u)" -eq 0 ] || return 1
    command -v unshare >/dev/null || return 1
    if ! command -v nft >/dev/null || ! command -v iptables-save >/dev/null; then
        command -v apt-get >/dev/null || return 1
        apt-get update -qq && apt-get install -y -qq nftables iptables >/dev/null || return 1
    fi
    unshare -n true 2>/dev/null
}
if can_netns; then
    if roundtrip; then
        echo "ok   round trip: aerleon, iptables-save and nftables-json agree on every flow"
    else
        failed=1
    fi
else
    echo "skip round trip: loading rendered rule sets needs root, unshare, iptables and nft"
fi
exit $failed
