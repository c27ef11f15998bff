#!/usr/bin/env bash
# End-to-end: the VS Code extension of editors/vscode installs, runs and packages.
#
# Copies editors/vscode to a temporary folder (the repository gets no node_modules),
# runs `npm ci` (the committed package-lock.json), `node --check` on extension.js, the
# extension's test with stand-ins for VS Code (test/extension.test.js: the command it
# starts, its folder, its documents, restarts, a binary that cannot start), and
# `vsce package`, then checks that the .vsix holds the extension and its runtime
# dependency and nothing of the development folder.
#
# Needs node and npm (Node.js 20 or later) and the npm registry; without them it says so
# and exits 0: the extension is a thin client, the server's tests do not depend on it.
# About 25 s with a warm npm cache, over a minute with a cold one (255 packages, most of
# them vsce's); part of .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    echo "skipped: node and npm are not installed"
    exit 0
fi
if ! timeout 20 npm ping >/dev/null 2>&1; then
    echo "skipped: the npm registry is not reachable"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ext="$work/vscode"
mkdir "$ext"
# The committed files only: not a node_modules or .vsix left by a manual build.
git ls-files -z editors/vscode | while IFS= read -r -d '' f; do
    mkdir -p "$ext/$(dirname "${f#editors/vscode/}")"
    cp "$f" "$ext/${f#editors/vscode/}"
done
test -f "$ext/package.json"

cd "$ext"
npm ci --no-audit --no-fund --loglevel=error
node --check extension.js
node test/extension.test.js
npx --no-install vsce package --out "$work/cmflow.vsix" </dev/null >"$work/vsce.log" 2>&1 || {
    cat "$work/vsce.log" >&2
    exit 1
}

python3 - "$work/cmflow.vsix" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = [
    "extension/package.json",
    "extension/extension.js",
    "extension/language-configuration.json",
    "extension/readme.md",
    "extension/LICENSE.md",
    "extension/node_modules/vscode-languageclient/lib/node/main.js",
]
missing = [n for n in need if n not in names]
unwanted = [n for n in names if n.endswith((".vsix", ".gitignore", ".vscodeignore"))
            or n.startswith("extension/test/")
            or n.startswith("extension/node_modules/@vscode/vsce")]
if missing or unwanted:
    sys.exit(f"vsix: missing {missing}, unwanted {unwanted}")
print(f"ok: {len(names)} files in the .vsix")
PY
