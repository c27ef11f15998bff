#!/usr/bin/env bash
# End-to-end: two cmflow binaries print byte-identical diagnostics and flow lists.
#
# Usage: tests/e2e/same-output.sh BASE_BIN NEW_BIN [MODEL...]
#
# Runs `check` (short, json and sarif, default phase and `--phase all`), `flows --phase
# all` in every format (table, csv, json, markdown) and `export --target csv --phase all`
# with both binaries on each model, and compares stdout, stderr and the exit code with
# `cmp`. Without MODEL it uses examples/contoso, examples/standalone-primary,
# examples/broken, and models written by `cargo run --release --example generate`:
# medium, medium with boundary groups, and the stress variants (`--stress`, `--stress
# --host-firewalls`: default-deny firewalls that block most flows, tens of thousands of
# findings) at small and medium scale. Set SAME_OUTPUT_MAX=1 to add the max-scale stress
# models (minutes, about 1.5 GB of memory per run).
# For a change to the output code: build the base binary first (e.g. from a worktree of
# the previous commit), then the new one.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ $# -lt 2 ]; then
    echo "usage: $0 BASE_BIN NEW_BIN [MODEL...]" >&2
    exit 2
fi
base=$(realpath "$1")
new=$(realpath "$2")
shift 2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ $# -eq 0 ]; then
    generate() {
        local dir=$1
        shift
        cargo run --quiet --release --locked --example generate -- "$@" "$work/$dir" 2>/dev/null
    }
    generate medium --scale medium
    generate medium-groups --scale medium --boundary-groups
    set -- examples/contoso examples/standalone-primary examples/broken "$work/medium" "$work/medium-groups"
    for scale in small medium; do
        generate "stress-$scale" --scale "$scale" --stress
        generate "stress-hosts-$scale" --scale "$scale" --stress --host-firewalls
        set -- "$@" "$work/stress-$scale" "$work/stress-hosts-$scale"
    done
    if [ "${SAME_OUTPUT_MAX:-}" = 1 ]; then
        generate stress-max --scale max --stress
        generate stress-hosts-max --scale max --stress --host-firewalls
        set -- "$@" "$work/stress-max" "$work/stress-hosts-max"
    fi
fi

# Runs one command with a binary; writes NAME.out, NAME.err and NAME.code.
run() {
    local bin=$1 name=$2
    shift 2
    local code=0
    "$bin" "$@" >"$work/$name.out" 2>"$work/$name.err" || code=$?
    echo "$code" >"$work/$name.code"
}

failed=0
compared=0
for model in "$@"; do
    commands=()
    for format in table csv json markdown; do
        commands+=("flows --format $format --phase all")
    done
    commands+=("export --target csv --phase all")
    for format in short json sarif; do
        commands+=("check --format $format" "check --format $format --phase all")
    done
    for command in "${commands[@]}"; do
        # shellcheck disable=SC2086 # the command is split into its arguments on purpose
        run "$base" base $command "$model"
        # shellcheck disable=SC2086
        run "$new" new $command "$model"
        for part in out err code; do
            if ! cmp -s "$work/base.$part" "$work/new.$part"; then
                echo "DIFFERENT: cmflow $command $model ($part: out = stdout, err = stderr, code = exit code)" >&2
                cmp "$work/base.$part" "$work/new.$part" >&2 || true
                failed=1
            fi
        done
        compared=$((compared + 1))
    done
done

if [ "$failed" -ne 0 ]; then
    exit 1
fi
echo "same output: $compared commands on $# models"
