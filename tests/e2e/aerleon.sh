#!/usr/bin/env bash
# End-to-end: Aerleon accepts cmflow's Aerleon export.
#
# Installs aerleon (PyPI) into a temporary virtual environment, exports examples/contoso,
# examples/standalone-primary and a generated model (`--scale small`) with
# `cmflow export --target aerleon --phase all`, runs `aclgen` on each export, and checks
# that it exits 0 and writes, for every policy, the iptables filter and the
# windows_advfirewall script. Needs cargo and python3 (with venv); builds what it needs.
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
exit $failed
