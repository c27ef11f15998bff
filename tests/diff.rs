//! `cmflow diff`: a scripted git repository holding `examples/contoso` goes through
//! several commits (a rule narrowed, a rule removed, a rule added, rules reordered,
//! lines moved by comments, the damage repaired); each diff's counts, changed verdicts,
//! rule changes, diagnostics and exit code are pinned, in `--git` and two-folder form.

mod common;

use std::path::Path;
use std::process::Command;

use common::{copy_tree, root, run};
use serde_json::Value;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.email=ci@example.com", "-c", "user.name=ci"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Rewrites `model/firewalls.kdl` of `dir` with `edit` and commits it as `message`.
fn commit_edit(dir: &Path, message: &str, edit: impl Fn(String) -> String) {
    let path = dir.join("model/firewalls.kdl");
    let text = std::fs::read_to_string(&path).expect("read");
    let edited = edit(text.clone());
    assert_ne!(text, edited, "{message}: the edit changed nothing");
    std::fs::write(&path, edited).expect("write");
    git(dir, &["commit", "-qam", message]);
}

/// A repository whose first commit holds contoso in `model/`.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&root().join("examples/contoso"), &dir.path().join("model"));
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "contoso"]);
    dir
}

const MP_RULE: &str = "to=\"role:management-point@P01\" tcp=\"80,443,10123\"";
const WOL: &str = "    allow \"P01 site server wakes HQ desktops\" from=\"role:site-server@P01\" to=\"clients:HQ desktops\" udp=\"9\"\n";

fn json_diff(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    all.extend(["--format", "json"]);
    let r = run(dir, &all);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    (r.code, serde_json::from_str(&r.stdout).expect("json"))
}

fn summary(v: &Value) -> String {
    let s = &v["summary"];
    format!(
        "flows +{} -{}, verdicts {} ({} blocked, {} allowed), rules +{} -{} ~{} moved {}, diagnostics +{} ({} errors) -{}",
        s["flows_added"],
        s["flows_removed"],
        s["verdicts_changed"],
        s["now_blocked"],
        s["now_allowed"],
        s["rules_added"],
        s["rules_removed"],
        s["rules_changed"],
        s["rules_moved"],
        s["diagnostics_new"],
        s["new_errors"],
        s["diagnostics_fixed"]
    )
}

#[test]
fn each_commit_of_a_scripted_history_diffs_as_expected() {
    let repo = repository();
    let dir = repo.path();

    // No change: nothing to report.
    let (code, v) = json_diff(dir, &["--git", "HEAD", "model"]);
    assert_eq!(code, 0);
    assert_eq!(
        summary(&v),
        "flows +0 -0, verdicts 0 (0 blocked, 0 allowed), rules +0 -0 ~0 moved 0, diagnostics +0 (0 errors) -0"
    );

    // 2: the management point rule loses 443, the Wake on LAN rule goes.
    commit_edit(dir, "narrow the MP rule, drop wake on LAN", |t| {
        t.replace(MP_RULE, "to=\"role:management-point@P01\" tcp=\"80,10123\"")
            .replace(WOL, "")
    });
    let (code, v) = json_diff(dir, &["--git", "HEAD~1", "model"]);
    assert_eq!(code, 1, "new errors exit 1");
    assert_eq!(
        summary(&v),
        "flows +0 -0, verdicts 2 (2 blocked, 0 allowed), rules +0 -1 ~1 moved 0, diagnostics +2 (2 errors) -0"
    );
    let changed = &v["verdicts_changed"][0];
    assert_eq!(changed["source"], "HQ desktops");
    assert_eq!(changed["destination"], "cm-p01.contoso.com");
    assert_eq!(changed["ports"], "443");
    assert_eq!(changed["base_verdict"], "allowed");
    assert_eq!(changed["head_verdict"], "blocked");
    assert_eq!(changed["head_decided_by"][0], "fw-core: default");
    assert_eq!(
        changed["base_decided_by"][0],
        "fw-core: \"HQ desktops to P01 management point\""
    );
    let rules = v["rules"].as_array().expect("rules");
    let shape: Vec<String> = rules
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {} line {} turns {}",
                r["change"],
                r["firewall"],
                r["name"],
                r["file"],
                r["line"],
                r["flows"].as_array().map_or(0, Vec::len)
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            "\"removed\" \"fw-core\" \"P01 site server wakes HQ desktops\" \"model/firewalls.kdl\" line 25 turns 1",
            "\"changed\" \"fw-core\" \"HQ desktops to P01 management point\" \"model/firewalls.kdl\" line 16 turns 1",
        ]
    );
    let new: Vec<String> = v["diagnostics_new"]
        .as_array()
        .expect("new")
        .iter()
        .map(|d| format!("{}:{} {}", d["file"], d["line"], d["code"]))
        .collect();
    assert_eq!(
        new,
        [
            "\"model/firewalls.kdl\":9 \"firewall/blocked-flow\"",
            "\"model/firewalls.kdl\":9 \"firewall/blocked-flow\"",
        ]
    );

    // 3: comments above every rule move every line; nothing else changes.
    commit_edit(dir, "comments", |t| {
        t.replace(
            "firewall \"fw-core\"",
            "// moved down\n// by two lines\nfirewall \"fw-core\"",
        )
    });
    let (code, v) = json_diff(dir, &["--git", "HEAD~1", "model"]);
    assert_eq!(code, 0);
    assert_eq!(
        summary(&v),
        "flows +0 -0, verdicts 0 (0 blocked, 0 allowed), rules +0 -0 ~0 moved 0, diagnostics +0 (0 errors) -0",
        "moved lines are not new diagnostics"
    );

    // 4: the deny rule moves below the next two allows: a first-match firewall's order.
    commit_edit(dir, "reorder", |t| {
        let deny = "    deny \"no SQL Server Browser\" udp=\"1434\"\n";
        let mp = t
            .lines()
            .find(|l| l.contains("P01 and its branches to P01 software update point"))
            .expect("mp rule")
            .to_owned()
            + "\n";
        t.replace(deny, "").replace(&mp, &format!("{mp}{deny}"))
    });
    let (code, v) = json_diff(dir, &["--git", "HEAD~1", "model"]);
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["rules_moved"], 1);
    assert_eq!(v["rules"][0]["change"], "moved");
    assert_eq!(v["rules"][0]["name"], "no SQL Server Browser");

    // 5: repaired: against the first commit, only the reorder and the comments remain;
    // against the last, the two errors are fixed and two verdicts allowed again.
    commit_edit(dir, "repair", |t| {
        t.replace("to=\"role:management-point@P01\" tcp=\"80,10123\"", MP_RULE)
            .replace(
                "    allow \"P01 and its branches to P01 software update point\"",
                &format!("{WOL}    allow \"P01 and its branches to P01 software update point\""),
            )
    });
    let (code, v) = json_diff(dir, &["--git", "HEAD~1", "model"]);
    assert_eq!(code, 0);
    assert_eq!(
        summary(&v),
        "flows +0 -0, verdicts 2 (0 blocked, 2 allowed), rules +1 -0 ~1 moved 0, diagnostics +0 (0 errors) -2"
    );
    let (_, v) = json_diff(dir, &["--git", "main~4", "model"]);
    assert_eq!(v["summary"]["verdicts_changed"], 0);
    assert_eq!(v["summary"]["diagnostics_new"], 0);
    assert_eq!(v["summary"]["diagnostics_fixed"], 0);

    // From a subfolder, with the default path `.`: the same comparison.
    let sub = run(
        &dir.join("model"),
        &["diff", "--git", "HEAD~1", "--format", "json"],
    );
    let sub: Value = serde_json::from_str(&sub.stdout).expect("json");
    assert_eq!(sub["summary"]["diagnostics_fixed"], 2);
    assert_eq!(sub["rules"][0]["file"], "firewalls.kdl");
}

#[test]
fn two_folders_compare_by_relative_names() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&root().join("examples/contoso"), &dir.path().join("old"));
    copy_tree(&root().join("examples/contoso"), &dir.path().join("new"));
    let path = dir.path().join("new/firewalls.kdl");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace(WOL, "")).expect("write");
    let (code, v) = json_diff(dir.path(), &["old", "new"]);
    assert_eq!(code, 1);
    assert_eq!(
        (v["base"].as_str(), v["head"].as_str()),
        (Some("old"), Some("new"))
    );
    assert_eq!(v["summary"]["diagnostics_new"], 1);
    assert_eq!(
        v["summary"]["diagnostics_fixed"], 0,
        "same names on both sides"
    );
    assert_eq!(v["diagnostics_new"][0]["file"], "firewalls.kdl");
    let human = run(dir.path(), &["diff", "old", "new"]);
    insta::assert_snapshot!("diff-human", human.stdout);
    let markdown = run(dir.path(), &["diff", "old", "new", "--format", "markdown"]);
    insta::assert_snapshot!("diff-markdown", markdown.stdout);
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let one = run(dir.path(), &["diff", "only-one"]);
    assert_eq!(one.code, 2);
    assert!(
        one.stderr.contains("diff needs two models, got 1"),
        "{}",
        one.stderr
    );
    let not_repo = run(dir.path(), &["diff", "--git", "HEAD"]);
    assert_eq!(not_repo.code, 2);
    assert!(
        not_repo.stderr.contains("not a git repository"),
        "{}",
        not_repo.stderr
    );
    let repo = repository();
    let bad = run(repo.path(), &["diff", "--git", "no-such-branch"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("no-such-branch is not a revision of this repository"),
        "{}",
        bad.stderr
    );
    let outside = run(repo.path(), &["diff", "--git", "HEAD", "../x"]);
    assert_eq!(outside.code, 2);
    assert!(
        outside.stderr.contains("is not under the current folder"),
        "{}",
        outside.stderr
    );
}
