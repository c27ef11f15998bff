//! End-to-end tests of `check`'s integration formats (SARIF, GitHub, Azure, JUnit),
//! `--statistics`, `--stdin-filename` and `--fail-on never`, and of the editor setups of
//! `docs/editors.md` (the VS Code problem matcher runs against real `short` output).

mod common;

use std::path::{Path, PathBuf};

use common::{cmflow, copy_tree, root, run};

/// The fixture whose names and file name hold what the formats must escape.
const ESCAPING: &str = "tests/data/escaping";

fn has_kdl_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| e.path().extension().is_some_and(|x| x == "kdl"))
    })
}

fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// The folders below `dir` (at any depth) that hold `.kdl` files, sorted.
fn model_folders(dir: &Path, out: &mut Vec<PathBuf>) {
    for folder in subfolders(dir) {
        if has_kdl_files(&folder) {
            out.push(folder.clone());
        }
        model_folders(&folder, out);
    }
}

/// Every model the tests know, relative to the repository: each folder under
/// `tests/fixtures/` holding `.kdl` files (the input and check fixtures, and the
/// `<code>/<case>/` fixtures of the ConfigMgr checks), each file of
/// `tests/fixtures/bad-input/`, the examples and the escaping fixture.
fn every_model() -> Vec<String> {
    let mut models = Vec::new();
    model_folders(&root().join("tests/fixtures"), &mut models);
    models.retain(|m| !m.ends_with("bad-input"));
    let mut bad: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/bad-input"))
        .expect("bad input")
        .map(|e| e.expect("entry").path())
        .collect();
    bad.sort();
    models.extend(bad);
    models.extend(
        subfolders(&root().join("examples"))
            .into_iter()
            .filter(|d| has_kdl_files(d)),
    );
    models.push(root().join(ESCAPING));
    models
        .iter()
        .map(|p| {
            p.strip_prefix(root())
                .expect("inside the repository")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}

#[test]
fn sarif_of_every_fixture_validates_against_the_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/data/sarif-schema-2.1.0.json"))
            .expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    // The validator does reject what the schema forbids.
    let mut wrong = serde_json::json!({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "cmflow"}},
        "results": [{"message": {"text": "m"}, "level": "fatal"}]
    }]});
    assert!(!validator.is_valid(&wrong));
    wrong["runs"][0]["results"][0]["level"] = "note".into();
    assert!(validator.is_valid(&wrong));
    let models = every_model();
    assert!(models.len() > 20, "{models:?}");
    for model in &models {
        let r = run(
            &root(),
            &["check", model, "--format", "sarif", "--phase", "all"],
        );
        assert!(r.code == 0 || r.code == 1, "{model}: {}", r.stderr);
        let log: serde_json::Value = serde_json::from_str(&r.stdout).expect("SARIF is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{model}: {errors:#?}");
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        for result in run["results"].as_array().expect("results") {
            let index = result["ruleIndex"].as_u64().expect("ruleIndex");
            let index = usize::try_from(index).expect("small");
            assert_eq!(rules[index]["id"], result["ruleId"], "{model}");
            for location in std::iter::once(&result["locations"][0])
                .chain(result["relatedLocations"].as_array().into_iter().flatten())
            {
                let uri = location["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .expect("uri");
                // A catalog flow's section on Microsoft Learn: absolute, no region.
                if uri.starts_with("https://learn.microsoft.com/") {
                    assert!(location["physicalLocation"]["region"].is_null(), "{model}");
                    continue;
                }
                assert!(
                    !uri.starts_with('/') && !uri.contains(':') && !uri.contains('\\'),
                    "{model}: {uri} is not relative"
                );
                let region = &location["physicalLocation"]["region"];
                assert!(region["startLine"].as_u64() >= Some(1), "{model}");
                assert!(region["startColumn"].as_u64() >= Some(1), "{model}");
                assert!(region["endLine"].as_u64() >= region["startLine"].as_u64());
            }
            assert!(
                result["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .is_some_and(|h| h.contains(':')),
                "{model}"
            );
        }
    }
}

#[test]
fn sarif_describes_every_rule_and_every_diagnostic() {
    let r = run(&root(), &["check", "examples/broken", "--format", "sarif"]);
    assert_eq!(r.code, 1);
    let log: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let listed = run(&root(), &["rules", "--format", "json"]);
    let registry: serde_json::Value = serde_json::from_str(&listed.stdout).expect("json");
    let registry = registry.as_array().expect("rules");
    assert_eq!(rules.len(), registry.len());
    for (rule, entry) in rules.iter().zip(registry) {
        assert_eq!(rule["id"], entry["code"]);
        assert_eq!(rule["shortDescription"]["text"], entry["summary"]);
        assert_eq!(rule["helpUri"], entry["url"]);
        let docs = rule["fullDescription"]["markdown"].as_str().expect("docs");
        assert!(docs.contains("## What it does") && docs.contains("## Fixed example"));
        assert_eq!(
            rule["fullDescription"]["text"],
            rule["fullDescription"]["markdown"]
        );
        let level = match entry["severity"].as_str() {
            Some("info") => "note",
            other => other.expect("severity"),
        };
        assert_eq!(rule["defaultConfiguration"]["level"], level);
    }
    let json = run(&root(), &["check", "examples/broken", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let diagnostics = json["diagnostics"].as_array().expect("diagnostics");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), diagnostics.len());
    let mut anchored = 0;
    for (result, d) in results.iter().zip(diagnostics) {
        assert_eq!(result["ruleId"], d["code"]);
        let mut labels: Vec<serde_json::Value> = d["labels"].as_array().expect("labels").clone();
        // A blocked flow whose required role is in another file than the firewall is
        // placed on the role, the firewall's rule first among the related locations.
        let uri = &result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        if d["code"] == "firewall/blocked-flow" && *uri != d["file"] {
            labels.swap(0, 1);
            assert_eq!(*uri, labels[0]["file"]);
            anchored += 1;
        }
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], labels[0]["line"]);
        assert_eq!(region["startColumn"], labels[0]["column"]);
        assert_eq!(region["endLine"], labels[0]["end_line"]);
        assert_eq!(region["endColumn"], labels[0]["end_column"]);
        // Secondary labels are related locations, with their text; then each label that
        // cites a section on Microsoft Learn (`url`) gives that section as one more.
        let cited: Vec<&serde_json::Value> =
            labels.iter().filter(|l| l["url"].is_string()).collect();
        let none = Vec::new();
        let related = result["relatedLocations"].as_array().unwrap_or(&none);
        assert_eq!(related.len(), labels.len() - 1 + cited.len());
        for (location, label) in related.iter().zip(&labels[1..]) {
            assert_eq!(location["message"]["text"], label["text"]);
        }
        for (location, label) in related[labels.len() - 1..].iter().zip(cited) {
            assert_eq!(location["message"]["text"], label["text"]);
            assert_eq!(
                location["physicalLocation"]["artifactLocation"]["uri"],
                label["url"]
            );
            assert!(location["physicalLocation"]["region"].is_null());
        }
    }
    assert!(
        results.iter().any(|r| r["relatedLocations"].is_array()),
        "the duplicate zone has a related location"
    );
    assert_eq!(
        anchored, 1,
        "the broken example's blocked flow is placed on its role"
    );
    insta::assert_snapshot!(
        "sarif-broken-results",
        serde_json::to_string_pretty(&log["runs"][0]["results"]).expect("json")
    );
}

/// (rule, `primaryLocationLineHash`, start line) of each SARIF result of the model in `dir`.
fn fingerprints(dir: &Path) -> Vec<(String, String, u64)> {
    let r = run(dir, &["check", "--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().expect("id").to_owned(),
                r["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .expect("hash")
                    .to_owned(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .expect("line"),
            )
        })
        .collect()
}

#[test]
fn sarif_fingerprints_survive_unrelated_edits() {
    let tmp = tempfile::tempdir().expect("tmp");
    copy_tree(
        &root().join("tests/fixtures/input/schema-unknown-reference"),
        tmp.path(),
    );
    let before = fingerprints(tmp.path());
    assert_eq!(before.len(), 1);
    // Lines added above the finding move it, and the fingerprint stays.
    let file = tmp.path().join("schema-unknown-reference.kdl");
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, format!("// a new comment\n\n{text}")).expect("write");
    let after = fingerprints(tmp.path());
    assert_eq!(after[0].2, before[0].2 + 2, "the finding moved");
    assert_eq!(after[0].1, before[0].1, "the fingerprint did not");
    // A second identical finding gets its own occurrence number.
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(
        &file,
        format!("{text}clients \"Warehouse PCs\" site=\"BR1\" zone=\"ofice\"\n"),
    )
    .expect("write");
    // (The same group twice is also a duplicate name: keep the unknown references.)
    let twice: Vec<_> = fingerprints(tmp.path())
        .into_iter()
        .filter(|f| f.0 == "schema/unknown-reference")
        .collect();
    assert_eq!(twice.len(), 2);
    let (hash, first) = twice[0].1.rsplit_once(':').expect("hash:n");
    assert_eq!(
        (first, twice[1].1.as_str()),
        ("1", format!("{hash}:2").as_str())
    );
}

#[test]
fn ci_formats_match_their_snapshots() {
    for (name, dir, model) in [
        ("broken", root(), "examples/broken"),
        ("escaping", root().join(ESCAPING), "."),
    ] {
        for format in ["github", "azure", "junit"] {
            let r = run(&dir, &["check", model, "--format", format]);
            assert_eq!(r.code, 1, "{name} {format}: {}", r.stderr);
            insta::assert_snapshot!(format!("{format}-{name}"), r.stdout);
        }
    }
    let r = run(&root().join(ESCAPING), &["check", "--format", "sarif"]);
    insta::assert_snapshot!("sarif-escaping", r.stdout);
}

#[test]
fn github_commands_escape_properties_and_drop_columns_across_lines() {
    let r = run(&root().join(ESCAPING), &["check", "--format", "github"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("::error file=Île-de-France%2C 100%25.kdl,line="))
    );
    // A line break in a name is refused at load time, and shown, never written raw.
    assert!(
        lines.iter().any(|l| l.contains(
            "::Île-de-France, 100%25.kdl:17:36: `zone` holds the control character \\u{000a}%0Ahelp: "
        )),
        "{}",
        r.stdout
    );
    // The forbidden-flow error of the broken example covers a rule and its `suppress`
    // child, lines 32 to 34: no columns.
    let r = run(&root(), &["check", "examples/broken", "--format", "github"]);
    let multi = r
        .stdout
        .lines()
        .find(|l| l.contains("line=32,endLine=34,"))
        .expect("a multi-line annotation");
    assert!(
        !multi.contains("col=") && !multi.contains("endColumn="),
        "{multi}"
    );
    assert!(r.stdout.lines().any(|l| l.starts_with("::warning ")));
    assert!(r.stdout.lines().any(|l| l.starts_with("::notice ")));
}

#[test]
fn azure_issues_escape_and_report_infos_as_warnings() {
    let r = run(&root().join(ESCAPING), &["check", "--format", "azure"]);
    assert!(
        r.stdout.contains(
            "##vso[task.logissue type=error;sourcepath=Île-de-France, 100%AZP25.kdl;linenumber=14;columnnumber=35;code=schema/unknown-reference]Île-de-France, 100%AZP25.kdl:14:35: zone `bureau: 50%AZP25, étage 2; [a]` does not exist\n"
        ),
        "{}",
        r.stdout
    );
    let r = run(&root(), &["check", "examples/broken", "--format", "azure"]);
    let info = r
        .stdout
        .lines()
        .find(|l| l.contains("code=sql/browser-port]"))
        .expect("the info diagnostic");
    assert!(
        info.starts_with("##vso[task.logissue type=warning;"),
        "{info}"
    );
    assert!(
        info.contains(":52:76: info: rule \"SQL Browser\""),
        "{info}"
    );
}

#[test]
fn junit_has_a_case_per_rule_and_file_and_a_failure_per_diagnostic() {
    let r = run(&root(), &["check", "examples/broken", "--format", "junit"]);
    let json = run(&root(), &["check", "examples/broken", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let diagnostics = json["diagnostics"].as_array().expect("diagnostics").len();
    let rules = run(&root(), &["rules"]).stdout.lines().count();
    let files = std::fs::read_dir(root().join("examples/broken"))
        .expect("dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "kdl"))
        })
        .count();
    assert_eq!(r.stdout.matches("<testcase ").count(), rules * files);
    assert_eq!(r.stdout.matches("<testsuite ").count(), files);
    assert_eq!(r.stdout.matches("<failure ").count(), diagnostics);
    assert!(
        r.stdout
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites ")
    );
    assert!(r.stdout.contains(&format!(
        "<testsuites name=\"cmflow\" tests=\"{}\"",
        rules * files
    )));
}

#[test]
fn statistics_count_per_rule_as_a_table_or_json() {
    let r = run(&root(), &["check", "examples/broken", "--statistics"]);
    assert_eq!(r.code, 1, "the exit code is the usual one");
    insta::assert_snapshot!("statistics-broken", r.stdout);
    let first = r.stdout.lines().next().expect("a row");
    assert!(first.starts_with("2  "), "{first}");
    let r = run(
        &root(),
        &[
            "check",
            "examples/broken",
            "--statistics",
            "--format",
            "json",
        ],
    );
    let rows: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let rows = rows.as_array().expect("a list");
    let total: u64 = rows
        .iter()
        .map(|r| r["count"].as_u64().expect("count"))
        .sum();
    let json = run(&root(), &["check", "examples/broken", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(
        usize::try_from(total).expect("small"),
        json["diagnostics"].as_array().expect("diagnostics").len()
    );
    assert!(
        rows.iter()
            .all(|r| r["summary"].as_str().is_some_and(|s| !s.is_empty()))
    );
    let counts: Vec<u64> = rows
        .iter()
        .map(|r| r["count"].as_u64().expect("count"))
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "sorted by count");
    let clean = run(
        &root(),
        &[
            "check",
            "examples/contoso",
            "--statistics",
            "--fail-on",
            "info",
        ],
    );
    assert_eq!((clean.code, clean.stdout.as_str()), (0, ""));
    let refused = run(
        &root(),
        &[
            "check",
            "examples/broken",
            "--statistics",
            "--format",
            "sarif",
        ],
    );
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("--statistics works with"),
        "{}",
        refused.stderr
    );
}

#[test]
fn stdin_filename_checks_an_unsaved_buffer_with_the_rest_of_the_model() {
    let tmp = tempfile::tempdir().expect("tmp");
    copy_tree(
        &root().join("tests/fixtures/input/schema-unknown-reference"),
        tmp.path(),
    );
    // On disk the file has the typo; the editor's buffer has it fixed.
    let out = cmflow(tmp.path())
        .args([
            "check",
            ".",
            "--format",
            "short",
            "--stdin-filename",
            "schema-unknown-reference.kdl",
        ])
        .write_stdin("clients \"Warehouse PCs\" site=\"BR1\" zone=\"office\"\n")
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A new file never saved: its references resolve against the files on disk.
    let out = cmflow(tmp.path())
        .args(["check", "--format", "short", "--stdin-filename", "new.kdl"])
        .write_stdin("clients \"Lab PCs\" site=\"BR9\" zone=\"office\"\n")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("new.kdl:1:"), "{stdout}");
    assert!(
        stdout.contains("schema-unknown-reference.kdl:2:"),
        "{stdout}"
    );
}

#[test]
fn fail_on_never_prints_everything_and_exits_0() {
    for format in ["short", "json", "sarif", "github", "azure", "junit"] {
        let r = run(
            &root(),
            &[
                "check",
                "examples/broken",
                "--format",
                format,
                "--fail-on",
                "never",
            ],
        );
        assert_eq!(r.code, 0, "{format}");
        assert!(r.stdout.contains("schema/unknown-reference"), "{format}");
    }
}

#[test]
fn vscode_problem_matcher_reads_short_output() {
    let tasks: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/editors/vscode-tasks.json")).expect("tasks"),
    )
    .expect("tasks.json is JSON");
    let matcher = &tasks["tasks"][0]["problemMatcher"];
    let pattern = &matcher["pattern"];
    let regex = regex::Regex::new(pattern["regexp"].as_str().expect("regexp")).expect("regex");
    let group =
        |name: &str| usize::try_from(pattern[name].as_u64().expect("group number")).expect("small");
    let r = run(&root(), &["check", "examples/broken", "--format", "short"]);
    let json = run(&root(), &["check", "examples/broken", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let diagnostics = json["diagnostics"].as_array().expect("diagnostics");
    // The help continuation lines are not the matcher's: they never match its pattern.
    let (lines, helps): (Vec<&str>, Vec<&str>) =
        r.stdout.lines().partition(|l| !l.starts_with("    help: "));
    assert!(helps.iter().all(|h| !regex.is_match(h)), "{helps:?}");
    assert_eq!(lines.len(), diagnostics.len());
    for (line, d) in lines.iter().zip(diagnostics) {
        let caps = regex
            .captures(line)
            .unwrap_or_else(|| panic!("no match: {line}"));
        let get = |name: &str| caps.get(group(name)).expect(name).as_str();
        assert_eq!(get("file"), d["file"], "{line}");
        assert_eq!(get("line"), d["line"].to_string(), "{line}");
        assert_eq!(get("column"), d["column"].to_string(), "{line}");
        assert_eq!(get("severity"), d["severity"], "{line}");
        assert_eq!(get("code"), d["code"], "{line}");
        assert_eq!(get("message"), d["message"], "{line}");
    }
    // The escaping fixture's file name holds a comma and a colon-free `%`.
    let r = run(&root().join(ESCAPING), &["check", "--format", "short"]);
    for line in r.stdout.lines().filter(|l| !l.starts_with("    help: ")) {
        let caps = regex
            .captures(line)
            .unwrap_or_else(|| panic!("no match: {line}"));
        assert_eq!(&caps[group("file")], "Île-de-France, 100%.kdl");
    }
}
