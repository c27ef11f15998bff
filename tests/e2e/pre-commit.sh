#!/usr/bin/env bash
# End to end, as a user gets them:
#  1. the hooks of .pre-commit-hooks.yaml, installed by pre-commit itself (from PyPI, in
#     a throwaway virtual environment) from the committed HEAD of this checkout, pass on a
#     good model and fail, showing the diagnostic, on a broken one; cmflow-fmt rewrites a
#     messy file and fails the run;
#  2. every YAML file of the repository (action, hooks) and every ```yaml block of
#     docs/ci.md parses;
#  3. the Vim errorformat of docs/editors.md reads `cmflow check --format short` output
#     (when vim is installed).
# Needs cargo, git and python3 (with venv); run from anywhere. pre-commit builds cmflow
# with `cargo install`; set CMFLOW_E2E_TARGET_DIR to reuse a target folder across runs.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
rev="$(git -C "$repo" rev-parse HEAD)"
if [ -n "$(git -C "$repo" status --porcelain -- src Cargo.toml Cargo.lock .pre-commit-hooks.yaml)" ]; then
    echo "note: uncommitted changes are not part of this test: pre-commit installs the committed $rev"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
started=$SECONDS

step() { echo "-- $* ($((SECONDS - started)) s)"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

step "pre-commit into a virtual environment"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check pre-commit
pre_commit="$work/venv/bin/pre-commit"
"$pre_commit" --version
export PRE_COMMIT_HOME="$work/pre-commit-home"
export CARGO_TARGET_DIR="${CMFLOW_E2E_TARGET_DIR:-$work/target}"

step "a repository holding a good model"
model="$work/model"
mkdir -p "$model/models"
cd "$model"
git init --quiet --initial-branch=main
git config user.name "cmflow e2e"
git config user.email "e2e@cmflow.invalid"
cp "$repo/examples/standalone-primary/fabrikam.kdl" models/fabrikam.kdl
cat > .pre-commit-config.yaml <<EOF
repos:
  - repo: $repo
    rev: $rev
    hooks:
      - id: cmflow
        args: [models]
      - id: cmflow-fmt
EOF
git add -A

step "install the hooks (cargo install of cmflow at $rev)"
install_started=$SECONDS
"$pre_commit" install-hooks
echo "hook environment built in $((SECONDS - install_started)) s"
cmflow_bin="$(find "$PRE_COMMIT_HOME" -path '*/bin/cmflow' -type f | head -n 1)"
[ -x "$cmflow_bin" ] || fail "pre-commit did not install a cmflow binary"
"$cmflow_bin" fmt models >/dev/null
git add -A

# shellcheck source=tests/e2e/hooks.sh
source "$repo/tests/e2e/hooks.sh"
hooks_pass_fail_and_format

step "YAML files and the docs' YAML blocks parse"
"$work/venv/bin/python" - "$repo" <<'EOF'
import pathlib, re, sys
import yaml  # pre-commit depends on PyYAML

repo = pathlib.Path(sys.argv[1])
checked = 0
for path in [repo / "action.yml", repo / ".pre-commit-hooks.yaml"]:
    yaml.safe_load(path.read_text())
    checked += 1
for doc in [repo / "docs/ci.md", repo / "docs/editors.md"]:
    for block in re.findall(r"```yaml\n(.*?)```", doc.read_text(), re.S):
        yaml.safe_load(block)
        checked += 1
hooks = yaml.safe_load((repo / ".pre-commit-hooks.yaml").read_text())
assert [h["id"] for h in hooks] == ["cmflow", "cmflow-fmt"], hooks
action = yaml.safe_load((repo / "action.yml").read_text())
assert action["runs"]["using"] == "composite", action
print(f"{checked} YAML documents parse")
EOF

step "the composite action's check step (action.yml) with the installed cmflow"
"$work/venv/bin/python" - "$repo" "$(dirname "$cmflow_bin")" "$work" <<'EOF'
import json, os, pathlib, re, subprocess, sys
import yaml

repo, bindir, work = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])
action = yaml.safe_load((repo / "action.yml").read_text())
steps = action["runs"]["steps"]
defaults = {name: spec.get("default", "") for name, spec in action["inputs"].items()}

def run_step(step=next(s for s in steps if s.get("id") == "check"), **inputs):
    """Runs the step as a GitHub runner does: inputs substituted, `bash -eo pipefail`."""
    values = {**defaults, **inputs}
    sub = lambda v: re.sub(r"\$\{\{ inputs\.([a-z-]+) \}\}", lambda m: values[m.group(1)], v)
    output = work / "github-output"
    output.write_text("")
    summary = work / "step-summary.md"
    summary.write_text("")
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ["PATH"],
           "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
           "RUNNER_TEMP": str(work)}
    env.update({k: sub(v) for k, v in step["env"].items()})
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                          cwd=repo, env=env, capture_output=True, text=True)
    return done, output.read_text()

done, outputs = run_step(paths="examples/broken", format="sarif", **{"fail-on": "never",
                         "sarif-file": str(work / "cmflow.sarif")})
assert done.returncode == 0, done.stderr
assert outputs == f"report={work / 'cmflow.sarif'}\n", outputs
log = json.loads((work / "cmflow.sarif").read_text())
assert log["version"] == "2.1.0" and log["runs"][0]["results"], "no SARIF results"
done, _ = run_step(paths="examples/broken examples/contoso")
assert done.returncode == 1, (done.returncode, done.stderr)
assert done.stdout.startswith("::error file=examples/broken/"), done.stdout[:200]
done, _ = run_step(paths="examples/contoso", **{"fail-on": "info"})
assert (done.returncode, done.stdout) == (0, ""), done
print("the action's check step writes SARIF, annotates, and fails only on findings")
diff_step = next(s for s in steps if s.get("name") == "Compare with the base revision")
done, _ = run_step(diff_step, paths="examples/contoso", **{"diff-base": "HEAD", "diff-comment": "false"})
assert done.returncode == 0, done.stderr
summary = (work / "step-summary.md").read_text()
assert summary.startswith("### cmflow diff: HEAD → work tree\n"), summary[:200]
print("the action's diff step writes the comparison to the job summary")
EOF

# The editors are optional: on a CI machine where the script may install packages, get
# them so that the recipes of docs/editors.md are tried; elsewhere test what is there.
if [ "${CI:-}" = "true" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=""
    command -v vim >/dev/null || missing="$missing vim-nox"
    command -v emacs >/dev/null || missing="$missing emacs-nox"
    if [ -n "$missing" ]; then
        step "installing$missing"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing; } \
            >/dev/null 2>&1 || echo "note: could not install$missing; skipping those editors"
    fi
fi

if command -v vim >/dev/null; then
    step "Vim's errorformat (docs/editors.md) reads short output"
    cd "$repo"
    "$cmflow_bin" check examples/broken --format short > "$work/short.txt" || true
    efm="$(sed -n 's/^set errorformat=\(.*\)$/\1/p' docs/editors.md | head -n 1)"
    [ -n "$efm" ] || fail "no errorformat line in docs/editors.md"
    vim -Nu NONE -i NONE -es \
        -c "set errorformat=$efm" \
        -c "cgetfile $work/short.txt" \
        -c "call writefile(map(getqflist(), {_, e -> bufname(e.bufnr) .. ':' .. e.lnum .. ':' .. e.col .. ':' .. e.type .. ':' .. e.text}), '$work/qf.txt')" \
        -c "qa!" </dev/null || true
    # Expected from the short lines: FILE:LINE:COL:TYPE:[CODE] MESSAGE, TYPE e/w/i.
    # One entry per diagnostic line; the indented help lines are not entries.
    grep -v '^    help: ' "$work/short.txt" \
        | sed -E 's/^([^:]+):([0-9]+):([0-9]+): (e|w|i)[a-z]*(\[.*)$/\1:\2:\3:\4:\5/' > "$work/expected.txt"
    diff "$work/expected.txt" "$work/qf.txt" || fail "the quickfix list differs from the short output"
    echo "$(wc -l < "$work/qf.txt") quickfix entries, each with file, line, column, type and message"
fi

if command -v emacs >/dev/null; then
    step "Emacs' compilation-mode entry (docs/editors.md) reads short output"
    cd "$repo"
    [ -s "$work/short.txt" ] || "$cmflow_bin" check examples/broken --format short > "$work/short.txt" || true
    awk '/^```elisp$/{f=1; next} /^```$/{f=0} f' docs/editors.md > "$work/cmflow.el"
    cat >> "$work/cmflow.el" <<EOF
(with-current-buffer (get-buffer-create "*cmflow*")
  (insert-file-contents "$work/short.txt")
  (compilation-mode)
  (compilation--ensure-parse (point-max))
  (goto-char (point-min))
  (let (out)
    (while (not (eobp))
      (let ((msg (get-text-property (point) 'compilation-message)))
        (when msg
          (let ((loc (compilation--message->loc msg)))
            (push (format "%s:%d:%d:%s"
                          (caar (compilation--loc->file-struct loc))
                          (compilation--loc->line loc)
                          ;; The column as written (Emacs subtracts compilation-first-column
                          ;; when it moves there).
                          (compilation--loc->col loc)
                          (nth (compilation--message->type msg) '("info" "warning" "error")))
                  out))))
      (forward-line 1))
    (with-temp-file "$work/emacs.txt"
      (insert (mapconcat #'identity (nreverse out) "\n") "\n"))))
EOF
    emacs --batch -Q -l "$work/cmflow.el" 2>"$work/emacs.log" || { cat "$work/emacs.log"; fail "emacs failed"; }
    grep -v '^    help: ' "$work/short.txt" \
        | sed -E 's/^([^:]+):([0-9]+):([0-9]+): (error|warning|info)\[.*$/\1:\2:\3:\4/' > "$work/expected-emacs.txt"
    diff "$work/expected-emacs.txt" "$work/emacs.txt" || fail "compilation-mode read the short output differently"
    echo "$(wc -l < "$work/emacs.txt") compilation messages, each with file, line, column and level"
fi

echo "pre-commit end-to-end: passed in $((SECONDS - started)) s"
