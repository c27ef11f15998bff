//! One mistake, one diagnostic: a file that does not parse stops the model checks
//! instead of flooding the output with what follows from its absence; syntax errors
//! come first; a missing brace or quote is one error; KDL 1 keywords get their KDL 2
//! spelling; an unknown reference is not followed by the unused rules it empties.

mod common;

use std::path::Path;

use common::{copy_tree, root, run};

/// A copy of contoso with one line of one file replaced.
fn contoso_with(file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&root().join("examples/contoso"), &dir.path().join("m"));
    let path = dir.path().join("m").join(file);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(from), "{from} not in {file}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
    dir
}

fn short(dir: &Path, args: &[&str]) -> common::Run {
    let mut all = vec!["check", "--format", "short"];
    all.extend_from_slice(args);
    run(dir, &all)
}

#[test]
fn a_kdl1_boolean_is_one_diagnostic_with_the_kdl2_spelling() {
    // Before: 103 diagnostics (the syntax error last, 58 unknown references, 27 unused
    // rules, boundary-group warnings).
    let dir = contoso_with(
        "sites.kdl",
        "distribution-point pxe=#true",
        "distribution-point pxe=true",
    );
    let r = short(dir.path(), &["m"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        "m/sites.kdl:112:32: error[kdl/syntax] `true` is not a value in KDL 2\n    \
         help: cmflow reads KDL 2, where `true` is written `#true`\n"
    );
    assert_eq!(r.stderr, "cmflow: 1 file not checked (syntax errors)\n");
    let human = run(dir.path(), &["check", "m", "--format", "human"]);
    assert_eq!(
        human.stdout.lines().last(),
        Some(
            "1 error, 0 warnings, 0 infos in 7 files (15 required flows checked); \
             1 file not checked (syntax errors)"
        )
    );
    let json = run(dir.path(), &["check", "m", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(doc["summary"]["unchecked_files"], 1);
    assert_eq!(doc["diagnostics"].as_array().map(Vec::len), Some(1));
}

#[test]
fn a_missing_brace_or_quote_is_one_diagnostic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        (
            "brace.kdl",
            "zone \"a\" {\n    subnet \"10.0.0.0/8\"\n\nzone \"b\"\n",
            "brace.kdl:1:10: error[kdl/syntax] No closing '}' for child block\n",
        ),
        (
            "quote.kdl",
            "zone \"a {\n    subnet \"10.0.0.0/8\"\n}\nzone \"b\"\n",
            "quote.kdl:1:6: error[kdl/syntax] Unexpected newline in single-line quoted string\n",
        ),
    ];
    for (name, text, first) in cases {
        std::fs::write(dir.path().join(name), text).expect("write");
        let r = short(dir.path(), &[name]);
        assert_eq!(r.code, 1);
        let diagnostics: Vec<&str> = r
            .stdout
            .lines()
            .filter(|l| !l.starts_with("    help: "))
            .collect();
        assert_eq!(diagnostics.len(), 1, "{name}: {}", r.stdout);
        assert!(r.stdout.starts_with(first), "{name}: {}", r.stdout);
    }
}

#[test]
fn syntax_errors_come_first_in_every_format() {
    let dir = tempfile::tempdir().expect("temp dir");
    // `a.kdl` sorts first but only has a schema error; `b.kdl` does not parse.
    std::fs::write(dir.path().join("a.kdl"), "zone \"a\" colour=\"red\"\n").expect("write");
    std::fs::write(dir.path().join("b.kdl"), "zone \"b\" {\n").expect("write");
    let r = short(dir.path(), &["."]);
    let codes: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| !l.starts_with("    help: "))
        .map(|l| l.split_once(": ").map_or(l, |(f, _)| f))
        .collect();
    assert_eq!(codes, ["b.kdl:1:10", "a.kdl:1:10"], "{}", r.stdout);
    let json = run(dir.path(), &["check", ".", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(doc["diagnostics"][0]["code"], "kdl/syntax");
    assert_eq!(doc["diagnostics"][1]["code"], "schema/unknown-property");
}

#[test]
fn an_unknown_zone_is_one_diagnostic_not_a_trail_of_unused_rules() {
    // Before: 1 error and 2 `firewall/unused-rule` warnings for the rules that name the
    // server.
    let dir = contoso_with(
        "sites.kdl",
        "server \"cm-dp-hq01.contoso.com\" zone=\"hq\"",
        "server \"cm-dp-hq01.contoso.com\" zone=\"hqq\"",
    );
    let r = short(dir.path(), &["m", "--fail-on", "info"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        "m/sites.kdl:62:42: error[schema/unknown-reference] zone `hqq` does not exist\n    \
         help: did you mean `hq`?\n"
    );
}
