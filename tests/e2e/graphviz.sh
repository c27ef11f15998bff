#!/usr/bin/env bash
# End-to-end: Graphviz renders every `cmflow graph` DOT output.
#
# Installs Graphviz from the distribution's packages when `dot` is missing (Debian or
# Ubuntu: apt-get, through sudo when not root), then renders every view of every example
# with `dot -Tsvg` and checks that each gives an SVG. With --write-docs it also writes
# the pictures of docs/graphs.md (docs/img/contoso-VIEW.svg).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v dot >/dev/null; then
    echo "-- installing graphviz"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq graphviz >/dev/null
fi
dot -V

target_dir=${CARGO_TARGET_DIR:-target}
cargo build --release --locked
cmflow="$target_dir/release/cmflow"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=0
for example in contoso standalone-primary broken; do
    for view in hierarchy network flows; do
        # `broken` has input errors (exit 1, on stderr); the picture is still drawn.
        "$cmflow" graph "examples/$example" --view "$view" >"$work/$example-$view.dot" 2>/dev/null || true
        if dot -Tsvg "$work/$example-$view.dot" -o "$work/$example-$view.svg" \
            && grep -q '<svg' "$work/$example-$view.svg"; then
            echo "ok   $example $view"
        else
            echo "FAIL $example $view: dot cannot render it" >&2
            failed=1
        fi
    done
done

if [ "${1:-}" = "--write-docs" ]; then
    mkdir -p docs/img
    for view in hierarchy network flows; do
        cp "$work/contoso-$view.svg" "docs/img/contoso-$view.svg"
        echo "wrote docs/img/contoso-$view.svg"
    done
fi
exit $failed
