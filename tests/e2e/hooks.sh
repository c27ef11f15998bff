# shellcheck shell=bash disable=SC2154 # $pre_commit and $work are the caller's
# Sourced by pre-commit.sh and wheel.sh: the hooks, once installed, on a scratch
# repository in the current folder whose `models/` holds a good model. Needs the caller's
# `step` and `fail`, `$pre_commit` and `$work`.
#  - the hooks pass on the good model;
#  - they fail on a broken model, showing the diagnostic;
#  - cmflow-fmt rewrites a messy file and fails the run, and the hooks pass afterwards.
hooks_pass_fail_and_format() {
    step "the hooks pass on the good model"
    "$pre_commit" run --all-files > "$work/good.log" 2>&1 || { cat "$work/good.log"; fail "hooks failed on a good model"; }
    cat "$work/good.log"
    grep -q "^cmflow check.*Passed" "$work/good.log" || fail "cmflow check did not pass"
    grep -q "^cmflow fmt.*Passed" "$work/good.log" || fail "cmflow fmt did not pass"

    step "the hooks fail on a broken model, showing the diagnostic"
    cat > models/branch.kdl <<'EOF'
clients "Warehouse PCs" site="PS1" zone="ofice"
EOF
    git add -A
    if "$pre_commit" run --all-files > "$work/broken.log" 2>&1; then
        cat "$work/broken.log"
        fail "hooks passed on a broken model"
    fi
    cat "$work/broken.log"
    grep -q "^cmflow check.*Failed" "$work/broken.log" || fail "cmflow check did not fail"
    grep -q "models/branch.kdl:1:.*error\[schema/unknown-reference\] zone \`ofice\` does not exist" "$work/broken.log" \
        || fail "the diagnostic is not in the hook's output"

    step "cmflow-fmt rewrites a messy file and fails the run"
    cat > models/branch.kdl <<'EOF'
clients   "Warehouse PCs"   site="PS1" zone="north-office"
zone "lab"{subnet "10.99.0.0/16"}
EOF
    git add -A
    if "$pre_commit" run cmflow-fmt --all-files > "$work/fmt.log" 2>&1; then
        cat "$work/fmt.log"
        fail "cmflow-fmt passed on a messy file"
    fi
    cat "$work/fmt.log"
    grep -q "files were modified by this hook" "$work/fmt.log" || fail "cmflow-fmt did not rewrite the file"
    local expected='clients "Warehouse PCs" site="PS1" zone="north-office"
zone "lab" {
    subnet "10.99.0.0/16"
}'
    [ "$(cat models/branch.kdl)" = "$expected" ] || { cat models/branch.kdl; fail "unexpected formatting"; }
    git add -A
    "$pre_commit" run --all-files > "$work/fixed.log" 2>&1 || { cat "$work/fixed.log"; fail "hooks failed after formatting"; }
}
