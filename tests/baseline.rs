//! `check --write-baseline` / `check --baseline`: a copy of `examples/broken` (20
//! diagnostics) is baselined, then edited above, below and inside baselined nodes, and
//! each run's reported diagnostics, counts and exit code are pinned exactly.

mod common;

use std::path::Path;

use common::{copy_tree, root, run};

/// The diagnostic on the `old telnet` rule (line 48 of `firewalls.kdl`).
const TELNET: &str = "warning[firewall/unused-rule] rule \"old telnet\" of firewall `fw-core` allows no required flow";

/// A temporary folder holding the broken example as `m/` and its baseline `b.json`.
fn baselined() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&root().join("examples/broken"), &dir.path().join("m"));
    let wrote = run(dir.path(), &["check", "m", "--write-baseline", "b.json"]);
    assert_eq!(wrote.code, 0, "{}", wrote.stderr);
    assert_eq!(wrote.stdout, "");
    assert_eq!(wrote.stderr, "cmflow: recorded 20 diagnostics in b.json\n");
    dir
}

/// `check m --baseline b.json --format short` with `extra` arguments.
fn check(dir: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec!["check", "m", "--baseline", "b.json", "--format", "short"];
    args.extend_from_slice(extra);
    run(dir, &args)
}

/// Rewrites `m/firewalls.kdl` line by line: `edit` gets each 1-based line number and
/// text and returns the lines to put in its place.
fn edit_firewalls(dir: &Path, edit: impl Fn(usize, &str) -> Vec<String>) {
    let path = dir.join("m/firewalls.kdl");
    let text = std::fs::read_to_string(&path).expect("read");
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        for l in edit(i + 1, line) {
            out.push_str(&l);
            out.push('\n');
        }
    }
    std::fs::write(&path, out).expect("write");
}

/// What a short run with nothing to report prints.
const PASSED: &str = "All checks passed (9 files, 12 required flows checked)\n";

fn counts(hidden: usize, absent: usize) -> String {
    // `kdl-syntax.kdl` does not parse: its note follows the baseline's.
    format!(
        "cmflow: baseline: {hidden} hidden, {absent} no longer occurring\n\
         cmflow: 1 file not checked (syntax errors)\n"
    )
}

#[test]
fn a_baselined_model_is_clean() {
    let dir = baselined();
    let without = run(dir.path(), &["check", "m", "--format", "short"]);
    assert_eq!(without.code, 1);
    let diagnostics = without
        .stdout
        .lines()
        .filter(|l| !l.starts_with("    help: "));
    assert_eq!(diagnostics.count(), 20);
    let with = check(dir.path(), &["--fail-on", "info"]);
    assert_eq!((with.code, with.stdout.as_str()), (0, PASSED));
    assert_eq!(with.stderr, counts(20, 0));
}

#[test]
fn the_baseline_file_is_sorted_versioned_and_deterministic() {
    let dir = baselined();
    let first = std::fs::read_to_string(dir.path().join("b.json")).expect("read");
    let again = run(dir.path(), &["check", "m", "--write-baseline", "b.json"]);
    assert_eq!(again.code, 0);
    let second = std::fs::read_to_string(dir.path().join("b.json")).expect("read");
    assert_eq!(first, second);
    let doc: serde_json::Value = serde_json::from_str(&first).expect("json");
    assert_eq!(doc["version"], 1);
    let entries = doc["diagnostics"].as_array().expect("list");
    assert_eq!(entries.len(), 20);
    let keys: Vec<(String, String, String)> = entries
        .iter()
        .map(|e| {
            let field = |k: &str| e[k].as_str().expect(k).to_owned();
            (field("file"), field("code"), field("fingerprint"))
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // The fingerprints are SARIF's.
    let sarif = run(dir.path(), &["check", "m", "--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("sarif");
    let mut from_sarif: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            r["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .expect("hash")
        })
        .collect();
    let mut recorded: Vec<&str> = keys.iter().map(|k| k.2.as_str()).collect();
    from_sarif.sort_unstable();
    recorded.sort_unstable();
    assert_eq!(from_sarif, recorded);
}

#[test]
fn lines_added_above_a_baselined_node_change_nothing() {
    let dir = baselined();
    edit_firewalls(dir.path(), |n, line| match n {
        1 => vec!["// owner: network team".into(), String::new(), line.into()],
        48 => vec!["    // review in Q3".into(), line.into()],
        _ => vec![line.into()],
    });
    // The lines did move: the telnet rule is now on line 51.
    let without = run(dir.path(), &["check", "m", "--format", "short"]);
    assert!(
        without
            .stdout
            .contains(&format!("m/firewalls.kdl:51:5: {TELNET}\n")),
        "{}",
        without.stdout
    );
    let with = check(dir.path(), &["--fail-on", "info"]);
    assert_eq!((with.code, with.stdout.as_str()), (0, PASSED));
    assert_eq!(with.stderr, counts(20, 0));
}

#[test]
fn lines_added_below_a_baselined_node_change_nothing() {
    let dir = baselined();
    edit_firewalls(dir.path(), |n, line| match n {
        48 => vec![line.into(), String::new(), "    // more rules here".into()],
        _ => vec![line.into()],
    });
    let path = dir.path().join("m/firewalls.kdl");
    let mut text = std::fs::read_to_string(&path).expect("read");
    text.push_str("\n// end of the firewalls\n");
    std::fs::write(&path, text).expect("write");
    let with = check(dir.path(), &["--fail-on", "info"]);
    assert_eq!((with.code, with.stdout.as_str()), (0, PASSED));
    assert_eq!(with.stderr, counts(20, 0));
}

#[test]
fn changing_the_baselined_line_reports_it_as_new() {
    let dir = baselined();
    edit_firewalls(dir.path(), |n, line| {
        vec![if n == 48 {
            line.replace("tcp=\"23\"", "tcp=\"23,2323\"")
        } else {
            line.into()
        }]
    });
    let with = check(dir.path(), &[]);
    // A warning: below the default `--fail-on error`.
    assert_eq!(with.code, 0);
    assert_eq!(
        with.stdout,
        format!(
            "m/firewalls.kdl:48:5: {TELNET}\n    help: remove the rule; if something outside the model needs it, declare that with a `flow` node\n"
        )
    );
    assert_eq!(with.stderr, counts(19, 1));
    assert_eq!(check(dir.path(), &["--fail-on", "warning"]).code, 1);
}

#[test]
fn a_line_added_inside_a_baselined_node_reports_it_as_new() {
    let dir = baselined();
    // Lines 32-34: the `office to cm01` rule with its `suppress` child. The
    // forbidden-flow error covers the whole node; the unused-suppression warning covers
    // line 33 alone.
    edit_firewalls(dir.path(), |n, line| match n {
        33 => vec![line.into(), "        // ticket 4711".into()],
        _ => vec![line.into()],
    });
    let with = check(dir.path(), &[]);
    assert_eq!(with.code, 1);
    assert_eq!(
        with.stdout,
        "m/firewalls.kdl:32:5: error[policy/forbidden-flow] rule \"office to cm01\" of firewall \
         `fw-core` allows traffic that policy \"no SMB across the WAN\" forbids \
         (from=\"zone:office\" to=\"zone:datacenter\" tcp=\"445\")\n    help: Offices fetch \
         content over HTTP(S) only. Remove or narrow what allows it, or insert above this rule: \
         deny \"no SMB across the WAN\" from=\"zone:office\" to=\"zone:datacenter\" tcp=\"445\"\n"
    );
    assert_eq!(with.stderr, counts(19, 1));
}

#[test]
fn a_fixed_finding_is_counted_as_no_longer_occurring() {
    let dir = baselined();
    edit_firewalls(dir.path(), |n, line| {
        if (47..=48).contains(&n) {
            Vec::new()
        } else {
            vec![line.into()]
        }
    });
    let with = check(dir.path(), &["--fail-on", "info"]);
    assert_eq!((with.code, with.stdout.as_str()), (0, PASSED));
    assert_eq!(with.stderr, counts(19, 1));

    // The other formats carry the counts in their own output.
    let human = run(
        dir.path(),
        &["check", "m", "--baseline", "b.json", "--format", "human"],
    );
    assert_eq!(
        human.stdout.lines().last(),
        Some(
            "0 errors, 0 warnings, 0 infos in 9 files (12 required flows checked); \
             baseline: 19 hidden, 1 no longer occurring; 1 file not checked (syntax errors)"
        )
    );
    assert_eq!(human.stderr, "");
    let expected = serde_json::json!({ "hidden": 19, "absent": 1 });
    let json = run(
        dir.path(),
        &["check", "m", "--baseline", "b.json", "--format", "json"],
    );
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(doc["summary"]["baseline"], expected);
    assert_eq!(doc["summary"]["errors"], 0);
    assert_eq!(json.stderr, "");
    let sarif = run(
        dir.path(),
        &["check", "m", "--baseline", "b.json", "--format", "sarif"],
    );
    let log: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("sarif");
    assert_eq!(log["runs"][0]["properties"]["baseline"], expected);
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn a_missing_or_malformed_baseline_stops_the_run() {
    let dir = baselined();
    let missing = run(dir.path(), &["check", "m", "--baseline", "none.json"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("cannot read baseline none.json"),
        "{}",
        missing.stderr
    );
    for (text, says) in [
        ("{", "is not a cmflow baseline"),
        ("[]", "no `version` field"),
        (r#"{"version": 1}"#, "missing field `diagnostics`"),
        (
            r#"{"version": 2, "diagnostics": []}"#,
            "has version 2; this cmflow reads version 1",
        ),
    ] {
        std::fs::write(dir.path().join("bad.json"), text).expect("write");
        let bad = run(dir.path(), &["check", "m", "--baseline", "bad.json"]);
        assert_eq!(bad.code, 2, "{text}");
        assert!(bad.stderr.contains(says), "{text}: {}", bad.stderr);
        assert_eq!(bad.stdout, "");
    }
    let both = run(
        dir.path(),
        &[
            "check",
            "m",
            "--baseline",
            "b.json",
            "--write-baseline",
            "c.json",
        ],
    );
    assert_eq!(both.code, 2);
}
