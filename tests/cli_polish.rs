//! The command line's details (issue "CLI polish"): success and summary lines, help on
//! `short`'s continuation line, `--quiet`, `--output-file`, filters of `flows` that fail
//! on unknown names with a "did you mean", `explain` by rule name, `init` beside a model,
//! fatal errors without internal codes, completions, examples in `fmt` layout.

mod common;

use common::{root, run};

#[test]
fn a_clean_short_run_says_so_and_quiet_keeps_it_silent() {
    let r = run(&root(), &["check", "examples/contoso", "--format", "short"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "All checks passed (7 files, 217 required flows checked)\n"
    );
    let quiet = run(
        &root(),
        &["check", "examples/contoso", "--format", "short", "-q"],
    );
    assert_eq!((quiet.code, quiet.stdout.as_str()), (0, ""));
    let human = run(
        &root(),
        &["check", "examples/contoso", "--format", "human", "--quiet"],
    );
    assert_eq!((human.code, human.stdout.as_str()), (0, ""));
}

#[test]
fn short_prints_the_help_on_an_indented_continuation_line() {
    let r = run(
        &root(),
        &[
            "check",
            "examples/broken/base.kdl",
            "examples/broken/schema-unknown-reference.kdl",
            "--format",
            "short",
        ],
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        "examples/broken/schema-unknown-reference.kdl:2:41: error[schema/unknown-reference] zone `ofice` does not exist\n    help: did you mean `office`?\n"
    );
}

#[test]
fn summaries_count_in_the_singular_and_plural() {
    let r = run(
        &root(),
        &[
            "check",
            "examples/broken/base.kdl",
            "examples/broken/schema-unknown-reference.kdl",
            "--format",
            "human",
        ],
    );
    let last = r.stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("1 error, 0 warnings, 0 infos in 2 files ("),
        "{last}"
    );
}

#[test]
fn output_file_replaces_a_link_instead_of_writing_through_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = dir.path().join("report.json");
    let r = run(
        &root(),
        &[
            "check",
            "examples/contoso",
            "--format",
            "json",
            "--output-file",
            report.to_str().expect("utf-8"),
        ],
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    let text = std::fs::read_to_string(&report).expect("written");
    assert!(text.starts_with("{\n  \"version\": 1,"), "{text}");
    #[cfg(unix)]
    {
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "keep me").expect("write");
        let link = dir.path().join("link.sarif");
        std::os::unix::fs::symlink(&victim, &link).expect("symlink");
        let r = run(
            &root(),
            &[
                "check",
                "examples/contoso",
                "--format",
                "sarif",
                "--output-file",
                link.to_str().expect("utf-8"),
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep me");
        assert!(!link.symlink_metadata().expect("meta").is_symlink());
    }
}

#[test]
fn flow_filters_fail_on_unknown_names_with_a_suggestion() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["--from", "zone:hqq"],
            "error: --from: zone `hqq` does not exist\n  help: did you mean `hq`?\n",
        ),
        (
            &["--to", "host:cm-p01.contoso.co"],
            "error: --to: host `cm-p01.contoso.co` does not exist\n  help: did you mean `cm-p01.contoso.com`?\n",
        ),
        (
            &["--firewall", "fw-cor"],
            "error: --firewall: the model has no network firewall `fw-cor`\n  help: did you mean `fw-core`?\n",
        ),
        (
            &["--service", "HTTPs2"],
            "error: --service: the model has no required flow of service `HTTPs2`\n  help: did you mean `HTTPS`?\n",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["flows", "examples/contoso"];
        all.extend_from_slice(args);
        let r = run(&root(), &all);
        assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{args:?}");
        assert_eq!(r.stderr, expected, "{args:?}");
    }
}

#[test]
fn flows_filter_by_verdict_firewall_and_service() {
    let csv = |args: &[&str]| {
        let mut all = vec!["flows", "examples/broken", "--format", "csv"];
        all.extend_from_slice(args);
        let r = run(&root(), &all);
        r.stdout
            .lines()
            .skip(1)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let all = csv(&[]);
    let blocked = csv(&["--verdict", "blocked"]);
    assert!(!blocked.is_empty() && blocked.len() < all.len());
    assert!(
        blocked.iter().all(|l| l.contains(",blocked,")),
        "{blocked:?}"
    );
    let two = csv(&["--verdict", "blocked,no-path"]);
    assert!(two.len() > blocked.len());
    let http = csv(&["--service", "http"]);
    assert!(!http.is_empty());
    assert!(http.iter().all(|l| l.contains(",HTTP,")), "{http:?}");
    let through = csv(&["--firewall", "fw-core"]);
    assert!(
        through.iter().all(|l| l.contains(",fw-core,")),
        "{through:?}"
    );
    assert!(through.len() < all.len());
}

#[test]
fn explain_finds_a_rule_by_its_name_alone() {
    let r = run(&root(), &["explain", "blocked-flow"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.starts_with("# firewall/blocked-flow\n"),
        "{}",
        r.stdout
    );
    let unknown = run(&root(), &["explain", "blocked-flo"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("did you mean"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn init_refuses_a_folder_that_holds_a_model() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("sites.kdl"), "zone \"a\"\n").expect("write");
    let r = run(dir.path(), &["init", "."]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: . already holds a model (1 .kdl file)\n  help: check it with `cmflow check .`, or give an empty folder: `cmflow init new-model`\n"
    );
    assert!(!dir.path().join("cmflow.kdl").exists());
    let fresh = run(dir.path(), &["init", "new-model"]);
    assert_eq!(fresh.code, 0, "{}", fresh.stderr);
    let checked = run(dir.path(), &["check", "new-model", "--format", "short"]);
    assert_eq!(checked.code, 0, "{}", checked.stdout);
}

#[test]
fn fatal_errors_say_their_cause_once_without_internal_codes() {
    let r = run(&root(), &["check", "/nonexistent-cmflow-path"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: cannot read /nonexistent-cmflow-path: No such file or directory (os error 2)\n"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = run(dir.path(), &["check", "."]);
    assert_eq!(empty.code, 2);
    assert_eq!(
        empty.stderr,
        "error: no .kdl file found in .\n  help: give the files or folders that hold the model (`cmflow check path/to/model`), or write a starter model with `cmflow init`\n"
    );
}

#[test]
fn completions_and_help_examples() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let r = run(&root(), &["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("cmflow"), "{shell}");
    }
    for command in [
        "check", "flows", "export", "graph", "fmt", "init", "diff", "lsp",
    ] {
        let r = run(&root(), &[command, "--help"]);
        assert!(
            r.stdout.contains("\nExamples:\n  cmflow "),
            "{command} --help has no examples"
        );
    }
}

#[test]
fn shipped_examples_are_in_fmt_layout() {
    // Every example file but the one whose syntax error is the point.
    let r = run(
        &root(),
        &[
            "fmt",
            "--check",
            "examples/contoso",
            "examples/standalone-primary",
            "examples/broken-hierarchy",
            "examples/broken/base.kdl",
            "examples/broken/firewalls.kdl",
            "examples/broken/schema-duplicate-name.kdl",
            "examples/broken/schema-invalid-value.kdl",
            "examples/broken/schema-missing-value.kdl",
            "examples/broken/schema-unknown-node.kdl",
            "examples/broken/schema-unknown-property.kdl",
            "examples/broken/schema-unknown-reference.kdl",
        ],
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
}

#[test]
fn timings_give_each_stage_and_each_check_of_the_rules_stage() {
    let out = common::cmflow(&root())
        .env("CMFLOW_TIMINGS", "1")
        .args(["check", "--format", "short", "examples/contoso"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let timed: Vec<&str> = stderr
        .lines()
        .filter_map(|line| {
            let (name, time) = line.split_once(": ")?;
            let seconds = time.strip_suffix(" s")?;
            assert!(seconds.parse::<f64>().is_ok(), "not a time: {line}");
            Some(name)
        })
        .collect();
    let checks = [
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
        "hierarchy/boundary-group",
        "hierarchy/software-update-point",
        "hierarchy/cmg-management-point",
        "lint/unused-waiver",
        "firewall/blocked-flow",
        "firewall/no-path",
        "firewall/indeterminate",
        "(rule spaces)",
        "(rule usage)",
        "(shadowed rules)",
        "firewall/shadowed-rule",
        "firewall/unused-rule",
        "firewall/overly-broad",
        "firewall/redundant-rule",
        "sql/browser-port",
        "policy/forbidden-flow",
        "policy/conflict",
    ];
    let mut expected = vec!["load", "flows", "evaluate"];
    let steps: Vec<String> = checks.iter().map(|c| format!("  rules/{c}")).collect();
    expected.extend(steps.iter().map(String::as_str));
    expected.extend(["rules", "report"]);
    assert_eq!(timed, expected);
}
