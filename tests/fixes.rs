//! Diagnostics' fixes end to end: `--format json`'s `fix` and SARIF's `fixes` for the
//! fixtures of `tests/fixtures/fixes/`, and the property every fix must have: applied
//! to the text, the diagnostic it fixes is gone.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::{copy_tree, root, run};
use serde_json::Value;

const FIXTURES: &str = "tests/fixtures/fixes";

/// The fixture folders, sorted.
fn fixtures() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join(FIXTURES))
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn name(dir: &Path) -> String {
    dir.file_name()
        .expect("a folder name")
        .to_string_lossy()
        .into_owned()
}

/// `check --format json --phase all` in `dir`, parsed.
fn check_json(dir: &Path) -> Value {
    let r = run(
        dir,
        &[
            "check",
            "--format",
            "json",
            "--phase",
            "all",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).expect("JSON")
}

/// The diagnostics of a JSON document.
fn diagnostics(doc: &Value) -> &[Value] {
    doc["diagnostics"].as_array().expect("diagnostics")
}

fn number(v: &Value) -> usize {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .expect("a number")
}

/// The byte offset of a 1-based line and column (columns count characters).
fn offset(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line == 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map(|(i, _)| i + 1)
            .expect("the line exists")
    };
    text[line_start..]
        .char_indices()
        .map(|(i, _)| line_start + i)
        .chain([text.len()])
        .nth(column - 1)
        .expect("the column exists")
}

/// `text` with a JSON `fix` applied.
fn apply(text: &str, fix: &Value) -> String {
    let range = &fix["range"];
    let start = offset(text, number(&range["line"]), number(&range["column"]));
    let end = offset(
        text,
        number(&range["end_line"]),
        number(&range["end_column"]),
    );
    assert!(start <= end, "{fix}");
    let mut out = text.to_owned();
    out.replace_range(
        start..end,
        fix["replacement"].as_str().expect("replacement"),
    );
    out
}

/// Each fix of a fixture as text to review: the diagnostic, then the lines its edit
/// touches before and after it.
fn fixes_shown(dir: &Path) -> String {
    let doc = check_json(dir);
    let mut out = String::new();
    for d in diagnostics(&doc) {
        let fix = &d["fix"];
        if fix.is_null() {
            continue;
        }
        let file = fix["file"].as_str().expect("file");
        let text = std::fs::read_to_string(dir.join(file)).expect("read");
        let fixed = apply(&text, fix);
        let first = number(&fix["range"]["line"]);
        let last = number(&fix["range"]["end_line"]);
        let lines = |t: &str| {
            t.lines()
                .skip(first - 1)
                .take(last - first + 1)
                .collect::<Vec<_>>()
                .join("\n")
        };
        let _ = write!(
            out,
            "{file}:{}:{} {} ({})\n- {}\n+ {}\n\n",
            d["line"],
            d["column"],
            d["code"],
            d["help"],
            lines(&text),
            lines(&fixed)
        );
    }
    out
}

#[test]
fn every_fixture_carries_its_fixes() {
    let mut all = String::new();
    for dir in fixtures() {
        let shown = fixes_shown(&dir);
        assert!(!shown.is_empty(), "{}: no fix", name(&dir));
        let _ = write!(all, "## {}\n\n{shown}", name(&dir));
    }
    insta::assert_snapshot!("fixes-applied", all);
}

#[test]
fn applying_a_fix_removes_its_diagnostic() {
    for dir in fixtures() {
        let before = check_json(&dir);
        for d in diagnostics(&before).iter().filter(|d| !d["fix"].is_null()) {
            let code = &d["code"];
            let fix = &d["fix"];
            let file = fix["file"].as_str().expect("file");
            let work = tempfile::tempdir().expect("temp dir");
            copy_tree(&dir, work.path());
            let path = work.path().join(file);
            let text = std::fs::read_to_string(&path).expect("read");
            std::fs::write(&path, apply(&text, fix)).expect("write");
            let after = check_json(work.path());
            let count = |doc: &Value| {
                diagnostics(doc)
                    .iter()
                    .filter(|x| &x["code"] == code)
                    .count()
            };
            let context = format!("{}: {d}", name(&dir));
            assert!(count(&after) < count(&before), "{context}");
            assert!(
                !diagnostics(&after).iter().any(|x| &x["code"] == code
                    && x["file"] == d["file"]
                    && x["line"] == d["line"]
                    && x["column"] == d["column"]),
                "{context}"
            );
        }
    }
}

#[test]
fn json_fix_is_null_without_a_fix_and_an_edit_with_one() {
    let r = run(
        &root().join(FIXTURES).join("wsus"),
        &["check", "--format", "json", "--phase", "all"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    insta::assert_snapshot!("fixes-json-wsus", r.stdout);
    // A diagnostic without a fix keeps the key, as `help` does.
    let names = check_json(&root().join(FIXTURES).join("names"));
    let without: Vec<&Value> = diagnostics(&names)
        .iter()
        .filter(|d| d["code"] == "firewall/unused-rule")
        .collect();
    assert_eq!(without.len(), 1);
    assert!(
        without[0]
            .as_object()
            .is_some_and(|o| o.contains_key("fix"))
    );
    assert!(without[0]["fix"].is_null());
}

/// The `fixes` of every SARIF result of the fixtures, with the result's rule and line.
#[test]
fn sarif_results_carry_their_fixes() {
    let mut shown = Vec::new();
    for dir in fixtures() {
        let r = run(&dir, &["check", "--format", "sarif", "--phase", "all"]);
        let log: Value = serde_json::from_str(&r.stdout).expect("SARIF is JSON");
        let results = log["runs"][0]["results"].as_array().expect("results");
        for result in results {
            if let Some(fixes) = result.get("fixes") {
                shown.push(serde_json::json!({
                    "fixture": name(&dir),
                    "ruleId": result["ruleId"],
                    "line": result["locations"][0]["physicalLocation"]["region"]["startLine"],
                    "fixes": fixes,
                }));
            }
        }
        // Every JSON fix is a SARIF fix, and nothing else is.
        let json = check_json(&dir);
        let with_fix = diagnostics(&json)
            .iter()
            .filter(|d| !d["fix"].is_null())
            .count();
        let sarif_fixes = results.iter().filter(|r| r.get("fixes").is_some()).count();
        assert_eq!(with_fix, sarif_fixes, "{}", name(&dir));
    }
    insta::assert_snapshot!(
        "fixes-sarif",
        serde_json::to_string_pretty(&shown).expect("JSON")
    );
}

#[test]
fn sarif_with_fixes_validates_against_the_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/data/sarif-schema-2.1.0.json"))
            .expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    // The schema does judge a fix: one without its region is refused.
    let mut wrong = serde_json::json!({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "cmflow"}},
        "results": [{"message": {"text": "m"}, "fixes": [{"artifactChanges": [{
            "artifactLocation": {"uri": "a.kdl"},
            "replacements": [{"insertedContent": {"text": "x"}}]
        }]}]}]
    }]});
    assert!(!validator.is_valid(&wrong));
    wrong["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"] =
        serde_json::json!({"startLine": 1, "startColumn": 1});
    assert!(validator.is_valid(&wrong));
    for dir in fixtures() {
        let r = run(&dir, &["check", "--format", "sarif", "--phase", "all"]);
        let log: Value = serde_json::from_str(&r.stdout).expect("SARIF is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", name(&dir));
    }
}
