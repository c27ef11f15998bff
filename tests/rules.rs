//! The ConfigMgr checks end to end (`rules.md` § Hierarchy, § Ports, § WSUS and SQL
//! Server): every rule has failing and passing fixtures under
//! `tests/fixtures/<code>/<case>/`, whose `short` and `human` output is snapshot-tested;
//! and `docs/rules.md` is the registry's documentation, byte for byte.

mod common;

use common::{root, run};

use std::path::PathBuf;

/// The codes whose fixtures live under `tests/fixtures/<code>/`.
const CONFIGMGR_CODES: [&str; 15] = [
    "hierarchy/site-code",
    "hierarchy/parent",
    "hierarchy/role-placement",
    "hierarchy/missing-role",
    "hierarchy/server-in-two-sites",
    "ports/secondary-override",
    "ports/non-default-client-ports",
    "ports/internet-https",
    "ports/conflict",
    "ports/alternate-same",
    "wsus/https-port",
    "sql/dynamic-port",
    "sql/shared-instance",
    "sql/duplicate-port",
    "catalog/removed-role",
];

/// The case folders of one code, sorted.
fn cases(code: &str) -> Vec<(String, PathBuf)> {
    let dir = root().join("tests/fixtures").join(code);
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no fixtures for {code} in {}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .map(|p| {
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                p,
            )
        })
        .collect();
    cases.sort();
    cases
}

/// The checks added with boundary groups and waivers (`rules.md` § Added with boundary
/// groups, waivers, editions and sources), with fixtures under `tests/fixtures/<code>/`.
const ADDED_CODES: [&str; 5] = [
    "hierarchy/boundary-group",
    "hierarchy/software-update-point",
    "hierarchy/cmg-management-point",
    "firewall/redundant-rule",
    "lint/unused-waiver",
];

#[test]
fn every_configmgr_check_fails_and_passes_on_its_fixtures() {
    for code in CONFIGMGR_CODES.iter().chain(&ADDED_CODES) {
        let cases = cases(code);
        assert!(
            cases.iter().any(|(n, _)| n.starts_with("fail")),
            "{code}: no failing fixture"
        );
        assert!(
            cases.iter().any(|(n, _)| n.starts_with("pass")),
            "{code}: no passing fixture"
        );
        for (name, dir) in cases {
            let snapshot = format!("{}-{name}", code.replace('/', "-"));
            let short = run(&dir, &["check", "--format", "short", "--fail-on", "info"]);
            let tag = format!("[{code}]");
            if name.starts_with("pass") {
                // Passing fixtures are complete models: nothing at all to report.
                common::assert_clean(&short, &format!("{code}/{name} should pass"));
                continue;
            }
            assert_eq!(short.code, 1, "{code}/{name}");
            assert!(
                short.stdout.lines().any(|l| l.contains(&tag)),
                "{code}/{name}: no {code} in\n{}",
                short.stdout
            );
            insta::assert_snapshot!(format!("{snapshot}-short"), short.stdout);
            let human = run(&dir, &["check", "--format", "human", "--color", "never"]);
            insta::assert_snapshot!(format!("{snapshot}-human"), human.stdout);
        }
    }
}

#[test]
fn explain_and_rules_cover_every_code() {
    let listed = run(&root(), &["rules", "--format", "json"]);
    assert_eq!(listed.code, 0);
    let rows: serde_json::Value = serde_json::from_str(&listed.stdout).expect("json");
    let codes: Vec<&str> = rows
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    let expected: Vec<&str> = cmflow::rules::SPEC_CODES
        .iter()
        .copied()
        .filter(|c| !cmflow::rules::PENDING_CODES.contains(c))
        .collect();
    assert_eq!(codes, expected);
    for code in codes {
        let r = run(&root(), &["explain", code]);
        assert_eq!(r.code, 0, "{code}");
        assert!(r.stdout.starts_with(&format!("# {code}\n")), "{code}");
        for section in [
            "## What it does",
            "## Why",
            "## Example that fails",
            "## Fixed example",
        ] {
            assert!(r.stdout.contains(section), "{code} lacks {section}");
        }
    }
    insta::assert_snapshot!("rules-text", run(&root(), &["rules"]).stdout);
    insta::assert_snapshot!(
        "explain-wsus-https-port",
        run(&root(), &["explain", "wsus/https-port"]).stdout
    );
    let unknown = run(&root(), &["explain", "wsus/https-prt"]);
    assert_eq!(unknown.code, 2);
}

#[test]
fn docs_rules_md_is_generated_from_the_registry() {
    let path = root().join("docs/rules.md");
    let expected = cmflow::rules::markdown();
    if std::env::var_os("CMFLOW_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).expect("write docs/rules.md");
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/rules.md is out of date: run `CMFLOW_UPDATE_DOCS=1 cargo test --test rules`"
    );
}

#[test]
fn the_broken_hierarchy_example_shows_every_configmgr_check() {
    let r = run(
        &root(),
        &[
            "check",
            "examples/broken-hierarchy",
            "--format",
            "short",
            "--fail-on",
            "info",
        ],
    );
    assert_eq!(r.code, 1);
    // The example is a 2020-edition model: `catalog/removed-role` needs the 2025 edition
    // and has its own fixtures.
    for code in CONFIGMGR_CODES
        .into_iter()
        .filter(|c| *c != "catalog/removed-role")
    {
        assert!(
            r.stdout.contains(&format!("[{code}]")),
            "examples/broken-hierarchy lacks {code}:\n{}",
            r.stdout
        );
    }
    insta::assert_snapshot!("broken-hierarchy-short", r.stdout);
}
