//! End-to-end tests of the `cmflow` binary: exit codes, every input diagnostic's
//! rendering (snapshots of `short` and `human` without color), the examples, bad input.

mod common;

use common::{cmflow, root, run};

use std::path::PathBuf;

/// The codes of `rules.md` § Input.
const INPUT_CODES: [&str; 7] = [
    "kdl/syntax",
    "schema/unknown-node",
    "schema/unknown-property",
    "schema/invalid-value",
    "schema/missing-value",
    "schema/duplicate-name",
    "schema/unknown-reference",
];

/// The codes of `rules.md` § Firewalls and policies, and `sql/browser-port`: each has a
/// folder under `tests/fixtures/checks/` (the shared `base.kdl` plus the mistake).
const CHECK_CODES: [&str; 10] = [
    "firewall/blocked-flow",
    "firewall/no-path",
    "firewall/unused-rule",
    "firewall/shadowed-rule",
    "firewall/indeterminate",
    "firewall/overly-broad",
    "policy/forbidden-flow",
    "policy/conflict",
    "lint/unused-suppression",
    "sql/browser-port",
];

fn input_fixtures() -> Vec<(String, PathBuf)> {
    fixtures("input")
}

/// The fixture folders under `tests/fixtures/<kind>/`, sorted.
fn fixtures(kind: &str) -> Vec<(String, PathBuf)> {
    let mut dirs: Vec<(String, PathBuf)> =
        std::fs::read_dir(root().join("tests/fixtures").join(kind))
            .expect("fixtures")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_dir())
            .map(|p| {
                (
                    p.file_name().expect("name").to_string_lossy().into_owned(),
                    p,
                )
            })
            .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_input_diagnostic_has_a_fixture_with_short_and_human_snapshots() {
    let fixtures = input_fixtures();
    let names: Vec<&str> = fixtures.iter().map(|(n, _)| n.as_str()).collect();
    for code in INPUT_CODES {
        assert!(
            names.contains(&code.replace('/', "-").as_str()),
            "no fixture for {code}"
        );
    }
    for (name, dir) in fixtures {
        let code = name.replacen('-', "/", 1);
        let short = run(&dir, &["check", "--format", "short"]);
        assert_eq!(short.code, 1, "{name}: {}", short.stderr);
        for line in short
            .stdout
            .lines()
            .filter(|l| !l.starts_with("    help: "))
        {
            assert!(
                line.contains(&format!("[{code}]")),
                "{name}: unexpected diagnostic {line}"
            );
        }
        insta::assert_snapshot!(format!("{name}-short"), short.stdout);
        let human = run(&dir, &["check", "--format", "human", "--color", "never"]);
        assert_eq!(human.code, 1);
        insta::assert_snapshot!(format!("{name}-human"), human.stdout);
    }
}

#[test]
fn every_firewall_and_policy_check_has_a_fixture_with_short_and_human_snapshots() {
    let fixtures = fixtures("checks");
    let names: Vec<&str> = fixtures.iter().map(|(n, _)| n.as_str()).collect();
    for code in CHECK_CODES {
        assert!(
            names.contains(&code.replace('/', "-").as_str()),
            "no fixture for {code}"
        );
    }
    for (name, dir) in fixtures {
        // A folder is named after its code, with a suffix for a second case
        // (`sql-browser-port-2025`: the same check under the 2025 edition).
        let code = CHECK_CODES
            .into_iter()
            .filter(|c| name.starts_with(&c.replace('/', "-")))
            .max_by_key(|c| c.len())
            .unwrap_or_else(|| panic!("{name} names no code"));
        let short = run(&dir, &["check", "--format", "short", "--fail-on", "info"]);
        assert_eq!(short.code, 1, "{name}: {}", short.stderr);
        assert!(
            short.stdout.contains(&format!("[{code}]")),
            "{name}: no {code} in\n{}",
            short.stdout
        );
        insta::assert_snapshot!(format!("check-{name}-short"), short.stdout);
        let human = run(&dir, &["check", "--format", "human", "--color", "never"]);
        insta::assert_snapshot!(format!("check-{name}-human"), human.stdout);
    }
}

/// Copies a check fixture into a temporary folder, applying `(file, from, to)` edits.
fn edited_fixture(name: &str, edits: &[(&str, &str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = root().join("tests/fixtures/checks").join(name);
    for file in ["base.kdl", "firewalls.kdl"] {
        let mut text = std::fs::read_to_string(dir.join(file)).expect("fixture");
        for (f, from, to) in edits {
            if *f == file {
                assert!(text.contains(from), "{name}/{file} lacks {from}");
                text = text.replace(from, to);
            }
        }
        std::fs::write(tmp.path().join(file), text).expect("write");
    }
    tmp
}

#[test]
fn sql_browser_port_follows_the_catalog_edition() {
    // 2020: the same model without UDP 1434 reports nothing.
    let tmp = edited_fixture(
        "sql-browser-port",
        &[("base.kdl", r#" tcp="1433" udp="1434""#, r#" tcp="1433""#)],
    );
    let r = run(
        tmp.path(),
        &["check", "--format", "short", "--fail-on", "info"],
    );
    common::assert_clean(&r, "");
    // 2025: opening UDP 1434 to the named instance's server is the fix, and no longer
    // reported as unneeded.
    let tmp = edited_fixture(
        "sql-browser-port-2025",
        &[(
            "base.kdl",
            r#"tcp="1450,4022""#,
            r#"tcp="1450,4022" udp="1434""#,
        )],
    );
    let r = run(
        tmp.path(),
        &["check", "--format", "short", "--fail-on", "info"],
    );
    common::assert_clean(&r, "");
    // 2025 with the instance on 1433: the Browser is not needed, and allowing it is no
    // finding of this edition either.
    let tmp = edited_fixture(
        "sql-browser-port-2025",
        &[
            ("base.kdl", "port=1450", "port=1433"),
            (
                "base.kdl",
                r#"tcp="1450,4022""#,
                r#"tcp="1433,4022" udp="1434""#,
            ),
        ],
    );
    let r = run(
        tmp.path(),
        &["check", "--format", "short", "--fail-on", "info"],
    );
    common::assert_clean(&r, "");
}

#[test]
fn suppressions_silence_and_lint_overrides_change_severity() {
    let dir = root().join("tests/fixtures/checks/firewall-unused-rule");
    // The suppressed rule ("kept for the migration") is not reported; the other is.
    let r = run(&dir, &["check", "--format", "short"]);
    assert_eq!(r.code, 0, "warnings do not fail by default");
    assert_eq!(
        r.stdout,
        "firewalls.kdl:5:5: warning[firewall/unused-rule] rule \"old telnet\" of firewall `fw-core` allows no required flow\n    \
         help: remove the rule; if something outside the model needs it, declare that with a `flow` node\n"
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    for file in ["base.kdl", "firewalls.kdl"] {
        std::fs::copy(dir.join(file), tmp.path().join(file)).expect("copy");
    }
    std::fs::write(
        tmp.path().join("lint.kdl"),
        "lint {\n    severity \"firewall/unused-rule\" \"error\"\n}\n",
    )
    .expect("write");
    let r = run(tmp.path(), &["check", "--format", "short"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("error[firewall/unused-rule]"),
        "{}",
        r.stdout
    );
    std::fs::write(
        tmp.path().join("lint.kdl"),
        "lint {\n    severity \"firewall/unused-rule\" \"off\"\n}\n",
    )
    .expect("write");
    let r = run(tmp.path(), &["check", "--format", "short"]);
    common::assert_clean(&r, "");
}

#[test]
fn flows_show_verdicts_firewalls_and_the_deciding_rules() {
    let dir = root().join("tests/fixtures/checks/firewall-blocked-flow");
    let r = run(&dir, &["flows", "--format", "csv"]);
    assert_eq!(r.code, 0, "verdicts never change the exit code of flows");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].ends_with(
            ",firewalls,verdict,decided_by,source_addresses,destination_addresses,waived_by"
        ),
        "{}",
        lines[0]
    );
    let notification = lines
        .iter()
        .find(|l| l.contains(",10123,"))
        .expect("client notification flow");
    assert!(
        notification.ends_with(
            ",fw-core,blocked,\"fw-core: \"\"no client notification\"\"\",10.20.0.0/16,10.0.0.10,"
        ),
        "{notification}"
    );
    let sql = lines
        .iter()
        .find(|l| l.starts_with("cm01.contoso.com,") && l.contains(",1433,"))
        .expect("SQL flow");
    assert!(
        sql.ends_with(",,blocked,sql01.contoso.com inbound: default,10.0.0.10,10.0.0.20,"),
        "{sql}"
    );
    insta::assert_snapshot!("flows-blocked-table", run(&dir, &["flows"]).stdout);
}

#[test]
fn json_output_has_the_documented_shape() {
    let dir = root().join("tests/fixtures/input/schema-unknown-reference");
    let r = run(&dir, &["check", "--format", "json"]);
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(v["version"], 1);
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["summary"]["files"], 2);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "schema/unknown-reference");
    assert_eq!(d["file"], "schema-unknown-reference.kdl");
    assert!(d["line"].as_u64().is_some() && d["end_column"].as_u64().is_some());
    assert_eq!(d["labels"][0]["text"], "no such zone");
    assert_eq!(d["help"], "did you mean `office`?");
    assert!(
        d["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("#schema-unknown-reference"))
    );
    insta::assert_snapshot!("json-unknown-reference", r.stdout);
}

#[test]
fn good_examples_pass_and_broken_fails_with_every_input_code() {
    for example in ["contoso", "standalone-primary", "aerleon-repo"] {
        let r = run(
            &root(),
            &[
                "check",
                &format!("examples/{example}"),
                "--format",
                "short",
                "--fail-on",
                "info",
            ],
        );
        common::assert_clean(&r, example);
    }
    let r = run(&root(), &["check", "examples/broken", "--format", "short"]);
    assert_eq!(r.code, 1);
    for code in INPUT_CODES.iter().chain(&CHECK_CODES) {
        assert!(
            r.stdout.contains(&format!("[{code}]")),
            "examples/broken lacks {code}:\n{}",
            r.stdout
        );
    }
    assert!(
        r.stdout
            .lines()
            .all(|l| l.starts_with("examples/broken/") || l.starts_with("    help: ")),
        "paths are relative with /"
    );
    let base = run(
        &root(),
        &["check", "examples/broken/base.kdl", "--format", "short"],
    );
    assert_eq!(base.code, 0, "{}", base.stdout);
}

#[test]
fn human_output_ends_with_the_summary_line() {
    let r = run(
        &root(),
        &["check", "examples/standalone-primary", "--format", "human"],
    );
    assert_eq!(r.code, 0);
    let last = r.stdout.lines().last().expect("a line");
    assert!(
        last.starts_with("0 errors, 0 warnings, 0 infos in 1 file (")
            && last.ends_with(" required flows checked)"),
        "{last}"
    );
}

#[test]
fn fail_on_sets_the_threshold() {
    let dir = root().join("tests/fixtures/input/schema-duplicate-name");
    assert_eq!(
        run(&dir, &["check", "--format", "short", "--fail-on", "never"]).code,
        0
    );
    assert_eq!(
        run(&dir, &["check", "--format", "short", "--fail-on", "error"]).code,
        1
    );
}

#[test]
fn lint_overrides_and_suppressions_apply_to_input_diagnostics() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("m.kdl"),
        "zone \"a\"\nserver \"x.contoso.com\" zone=\"b\" {\n    suppress \"schema/unknown-reference\" reason=\"zone b is declared by the network team\"\n}\nserver \"y.contoso.com\" zone=\"c\"\nlint { severity \"schema/unknown-reference\" \"warning\"; }\n",
    )
    .expect("write");
    let r = run(tmp.path(), &["check", "--format", "short"]);
    assert_eq!(
        r.stdout,
        "m.kdl:5:29: warning[schema/unknown-reference] zone `c` does not exist\n"
    );
    assert_eq!(r.code, 0);
    assert_eq!(
        run(
            tmp.path(),
            &["check", "--format", "short", "--fail-on", "warning"]
        )
        .code,
        1
    );
}

#[test]
fn bad_input_gives_diagnostics_never_panics() {
    let dir = root().join("tests/fixtures/bad-input");
    let expect = [
        (
            "deep.kdl",
            1,
            "error[kdl/syntax] nodes are nested more than 128 levels deep",
        ),
        ("empty.kdl", 0, ""),
        ("huge-numbers.kdl", 1, "is not a port"),
        ("kdl-v1.kdl", 0, ""),
        (
            "not-utf8.kdl",
            1,
            "not-utf8.kdl:1:9: error[kdl/syntax] the file is not valid UTF-8",
        ),
        ("random.kdl", 1, "error[kdl/syntax]"),
    ];
    for (file, code, needle) in expect {
        let r = run(&dir, &["check", file, "--format", "short"]);
        assert_eq!(r.code, code, "{file}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains(needle), "{file}: {}", r.stdout);
        assert!(!r.stderr.contains("panicked"), "{file}: {}", r.stderr);
    }
}

#[test]
fn unreadable_paths_and_empty_folders_exit_2_with_one_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let r = run(tmp.path(), &["check", "missing-folder"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot read missing-folder"),
        "{}",
        r.stderr
    );
    let r = run(tmp.path(), &["check", "."]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no .kdl file found in ."), "{}", r.stderr);
    assert_eq!(run(tmp.path(), &["check", "--format", "nope"]).code, 2);
}

#[test]
fn folders_honour_gitignore_and_skip_hidden_folders() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(tmp.path().join(".hidden")).expect("mkdir");
    std::fs::create_dir_all(tmp.path().join("out")).expect("mkdir");
    std::fs::write(tmp.path().join(".gitignore"), "out/\n").expect("write");
    std::fs::write(tmp.path().join("good.kdl"), "zone \"a\"\n").expect("write");
    std::fs::write(tmp.path().join(".hidden/bad.kdl"), "zone {\n").expect("write");
    std::fs::write(tmp.path().join("out/bad.kdl"), "zone {\n").expect("write");
    let r = run(tmp.path(), &["check", "--format", "short"]);
    common::assert_clean(&r, "");
}

#[test]
fn stdin_filename_replaces_the_file_on_disk() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(tmp.path().join("a.kdl"), "zone \"a\"\n").expect("write");
    std::fs::write(
        tmp.path().join("b.kdl"),
        "server \"x.contoso.com\" zone=\"a\"\n",
    )
    .expect("write");
    let out = cmflow(tmp.path())
        .args(["check", "--format", "short", "--stdin-filename", "b.kdl"])
        .write_stdin("server \"x.contoso.com\" zone=\"q\"\n")
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "b.kdl:1:29: error[schema/unknown-reference] zone `q` does not exist\n"
    );
}

#[test]
fn output_is_deterministic() {
    let a = run(&root(), &["check", "examples/broken", "--format", "json"]);
    let b = run(&root(), &["check", "examples/broken", "--format", "json"]);
    assert_eq!(a.stdout, b.stdout);
    let a = run(
        &root(),
        &[
            "flows",
            "examples/contoso",
            "--format",
            "csv",
            "--phase",
            "all",
        ],
    );
    let b = run(
        &root(),
        &[
            "flows",
            "examples/contoso",
            "--format",
            "csv",
            "--phase",
            "all",
        ],
    );
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn rules_and_explain() {
    let r = run(&root(), &["rules"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("schema/unknown-node") && l.contains("error"))
    );
    let r = run(&root(), &["rules", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert!(
        v.as_array()
            .is_some_and(|a| a.iter().any(|r| r["code"] == "kdl/syntax"))
    );
    let r = run(&root(), &["explain", "schema/unknown-node"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("## What it does") && r.stdout.contains("## Fixed example"));
    let r = run(&root(), &["explain", "schema/unknown-nod"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `schema/unknown-node`?"),
        "{}",
        r.stderr
    );
}

#[test]
fn init_writes_a_starter_model_that_passes_check() {
    let tmp = tempfile::tempdir().expect("tmp");
    let r = run(tmp.path(), &["init", "model"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(
        tmp.path(),
        &["check", "model", "--format", "short", "--fail-on", "info"],
    );
    common::assert_clean(&r, "");
    assert_eq!(
        run(tmp.path(), &["init", "model"]).code,
        2,
        "never overwrites"
    );
}

#[test]
fn flows_formats_on_the_standalone_example() {
    for format in ["table", "csv", "json", "markdown"] {
        let r = run(
            &root(),
            &["flows", "examples/standalone-primary", "--format", format],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        insta::assert_snapshot!(format!("flows-standalone-{format}"), r.stdout);
    }
    let r = run(
        &root(),
        &[
            "flows",
            "examples/standalone-primary",
            "--format",
            "json",
            "--from",
            "clients:North office",
            "--to",
            "role:management-point",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let flows = v["flows"].as_array().expect("flows");
    assert!(!flows.is_empty());
    for f in flows {
        assert_eq!(f["source"], "North office");
        assert_eq!(f["verdict"], "allowed");
        assert_eq!(f["firewalls"], serde_json::json!([]));
    }
}

#[test]
fn flows_with_input_errors_list_what_they_can_and_exit_1() {
    let r = run(&root(), &["flows", "examples/broken", "--format", "csv"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.starts_with("source,source_kind,"));
    assert!(
        r.stdout.lines().count() > 1,
        "flows of the valid part are listed"
    );
    assert!(
        r.stderr.contains("[schema/unknown-reference]"),
        "{}",
        r.stderr
    );
}

/// A pull distribution point's `sources` and the PXE responder: every mistake at once.
const DP_SOURCES_MODEL: &str = r#"zone "datacenter"
zone "branch"

site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="datacenter" {
        site-server
        sms-provider
        management-point
        distribution-point
        sql-instance "MSSQLSERVER"
    }
    server "sup01.contoso.com" zone="datacenter" {
        software-update-point
    }
    server "dp01.contoso.com" zone="branch" {
        distribution-point pull=#true sources="cm01.contoso.co,sup01.contoso.com,dp01.contoso.com,cm01.contoso.com"
    }
    server "dp02.contoso.com" zone="branch" {
        distribution-point sources="cm01.contoso.com" pxe-responder=#true
    }
}
"#;

#[test]
fn distribution_point_sources_and_pxe_responder_are_checked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("model.kdl"), DP_SOURCES_MODEL).expect("write");
    let r = run(tmp.path(), &["check", "--format", "short"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "model.kdl:17:48: error[schema/unknown-reference] server `cm01.contoso.co` does not exist\n    help: did you mean `cm01.contoso.com`?\nmodel.kdl:17:64: error[schema/unknown-reference] source `sup01.contoso.com` of pull distribution point dp01.contoso.com holds no `distribution-point`\n    help: a pull distribution point's sources are distribution points: name one of cm01.contoso.com, dp02.contoso.com, or add `distribution-point` to sup01.contoso.com\nmodel.kdl:17:82: error[schema/unknown-reference] pull distribution point dp01.contoso.com names itself as a source\n    help: name the distribution points it downloads content from\nmodel.kdl:20:36: error[schema/missing-value] distribution point dp02.contoso.com has `sources` but is not a pull distribution point\n    help: add pull=#true (the distribution point downloads its content from these sources), or remove `sources`\nmodel.kdl:20:69: error[schema/missing-value] distribution point dp02.contoso.com has a PXE responder but no PXE support\n    help: add pxe=#true (Enable PXE support for clients), or remove pxe-responder\n"
    );
    let human = run(
        tmp.path(),
        &["check", "--format", "human", "--color", "never"],
    );
    insta::assert_snapshot!("check-dp-sources-human", human.stdout);
    // Fixed: the sources are distribution points of a pull distribution point, and the
    // PXE responder comes with PXE.
    let fixed = DP_SOURCES_MODEL
        .replace(
            "cm01.contoso.co,sup01.contoso.com,dp01.contoso.com,cm01.contoso.com",
            "cm01.contoso.com,dp02.contoso.com",
        )
        .replace(
            r#"distribution-point sources="cm01.contoso.com" pxe-responder=#true"#,
            "distribution-point pxe=#true pxe-responder=#true",
        );
    std::fs::write(tmp.path().join("model.kdl"), fixed).expect("write");
    let r = run(tmp.path(), &["check", "--format", "short"]);
    common::assert_clean(&r, "");
}

#[test]
fn flows_link_every_document_reference_to_microsoft_learn() {
    let contoso = root().join("examples/contoso");
    let json = run(&contoso, &["flows", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let flows = doc["flows"].as_array().expect("flows");
    for f in flows {
        if f["reference"] == "User-declared flow" {
            // A user `flow` cites no document.
            assert!(f["reference_url"].is_null(), "{f}");
        } else {
            let url = f["reference_url"]
                .as_str()
                .expect("a catalog flow has a link");
            assert!(
                url.starts_with("https://learn.microsoft.com/en-us/") && url.contains('#'),
                "{url}"
            );
        }
    }
    let mp = flows
        .iter()
        .find(|f| {
            f["reference"] == "Ports used in Configuration Manager: Client --> Management point"
        })
        .expect("client to MP");
    assert_eq!(
        mp["reference_url"],
        "https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_PortsClient-MP"
    );
    // CSV: the column after `reference`, empty for the user flow.
    let csv = run(&contoso, &["flows", "--format", "csv"]);
    assert!(csv.stdout.starts_with(
        "source,source_kind,source_role,source_zone,destination,destination_kind,destination_role,destination_zone,protocol,ports,service,phase,reference,reference_url,firewalls,verdict,decided_by,source_addresses,destination_addresses,waived_by\n"
    ));
    assert!(
        csv.stdout
            .contains(",site server backup agent,operation,User-declared flow,,")
    );
    // Table: footnotes after the count; the user flow's has no address.
    let table = run(&contoso, &["flows"]);
    assert!(table.stdout.contains(
        "[2] Ports used in Configuration Manager: Client --> Management point\n    https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_PortsClient-MP\n"
    ), "{}", table.stdout);
    assert!(table.stdout.contains("] User-declared flow\n"));
    // Markdown: the reference is a link.
    let md = run(&contoso, &["flows", "--format", "markdown"]);
    assert!(md.stdout.contains(
        " | [Ports used in Configuration Manager: Client --> Management point](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_PortsClient-MP) |\n"
    ));
    // check --format json: the requirement label carries the section.
    let broken = run(&root(), &["check", "examples/broken", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&broken.stdout).expect("json");
    let labels: Vec<&serde_json::Value> = doc["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .flat_map(|d| d["labels"].as_array().into_iter().flatten())
        .filter(|l| !l["url"].is_null())
        .collect();
    assert!(!labels.is_empty());
    for l in labels {
        assert!(
            l["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("needs this flow ("))
        );
    }
}

/// On a Windows Firewall (no rule order) a specific rule that a broad one also matches is
/// not unused, and the broad rule's narrowed form leaves out what the specific one allows,
/// so that following both pieces of advice keeps the site database reachable.
#[test]
fn windows_firewall_rules_have_no_order() {
    let dir = root().join("tests/fixtures/windows-firewall-no-order");
    let r = run(&dir, &["check", "--format", "short", "--fail-on", "info"]);
    assert_eq!(
        r.stdout,
        "model.kdl:18:9: warning[firewall/overly-broad] rule \"high ports\" of the inbound \
         Windows Firewall of `sql01.contoso.com` opens 48127 TCP ports that no required flow uses\n    \
         help: narrow it to the flows it serves that no other rule allows: allow in \"high ports\" \
         from=\"host:cm01.contoso.com\" tcp=\"rpc\"\n"
    );
    let json = run(&dir, &["check", "--format", "json", "--fail-on", "never"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(
        doc["diagnostics"][0]["help"],
        "narrow it to the flows it serves that no other rule allows: allow in \"high ports\" \
         from=\"host:cm01.contoso.com\" tcp=\"rpc\""
    );
}

/// Suppressions are judged over every phase: one used only by an install-phase
/// diagnostic is not "unused" under `--phase operation`.
#[test]
fn suppressions_are_judged_over_every_phase() {
    let dir = root().join("tests/fixtures/suppression-phases");
    for phase in ["operation", "install", "all"] {
        let r = run(
            &dir,
            &[
                "check",
                "--format",
                "short",
                "--fail-on",
                "info",
                "--phase",
                phase,
            ],
        );
        common::assert_clean(&r, &format!("--phase {phase}"));
    }
}

/// `flows` lists waived flows with the waiver's reason and every endpoint's addresses.
#[test]
fn flows_list_waived_flows_and_addresses() {
    let dir = root().join("tests/fixtures/export-intent");
    let r = run(&dir, &["flows", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("flows-intent-json", r.stdout);
    let r = run(&dir, &["flows", "--format", "csv"]);
    let waived: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains(",waived,"))
        .collect();
    assert_eq!(
        waived,
        [
            "PAW01,console,console,admin,internet,internet,internet,internet,tcp,80,HTTP,operation,Ports used in Configuration Manager: Configuration Manager console --> Internet,https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_PortsConsole-Internet,fw-core,waived,,10.5.0.10,,admin workstations are offline",
            "PAW01,console,console,admin,internet,internet,internet,internet,tcp,443,HTTPS,operation,Ports used in Configuration Manager: Configuration Manager console --> Internet,https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_PortsConsole-Internet,fw-core,waived,,10.5.0.10,,admin workstations are offline",
        ]
    );
}
