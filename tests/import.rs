//! `cmflow import FORMAT FILE`: a firewall source file written as KDL that, loaded in
//! place of the `source=`, gives the same verdicts.

mod common;

use std::path::Path;

use common::{root, run};

fn fixture() -> std::path::PathBuf {
    root().join("tests/fixtures/sources/iptables")
}

#[test]
fn iptables_save_imports_as_a_formatted_firewall() {
    let r = run(
        &fixture(),
        &["import", "iptables-save", "rules/fw-core.rules"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("import-iptables-save", r.stdout);
    assert_eq!(
        r.stderr,
        "rules/fw-core.rules:12:13: warning[source/unsupported] cmflow cannot represent interface match `-i eth1` exactly\n    help: the KDL rule matches without it: review it (whether the rule matches is unknown: the verdicts it decides are indeterminate)\n"
    );
    // Already formatted: `cmflow fmt` leaves it as it is.
    assert_eq!(
        cmflow::format::format_kdl(&r.stdout),
        cmflow::format::Formatted::Text(r.stdout.clone())
    );
}

/// `source -> destination protocol ports: verdict` of every flow of the model in `dir`.
fn verdicts(dir: &Path) -> Vec<String> {
    let r = run(dir, &["flows", ".", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    json["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .map(|f| {
            format!(
                "{} -> {} {} {}: {}",
                f["source"].as_str().unwrap_or_default(),
                f["destination"].as_str().unwrap_or_default(),
                f["protocol"].as_str().unwrap_or_default(),
                f["ports"].as_str().unwrap_or_default(),
                f["verdict"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn the_imported_kdl_gives_the_verdicts_of_the_source() {
    let imported = run(
        &fixture(),
        &["import", "iptables-save", "rules/fw-core.rules"],
    )
    .stdout;
    let dir = tempfile::tempdir().expect("tempdir");
    let model = std::fs::read_to_string(fixture().join("model.kdl")).expect("model");
    let start = model.find("firewall \"fw-core\"").expect("firewall node");
    let kdl = imported.replace(
        "// zones \"ZONE\" \"ZONE\" // the zones this firewall separates: name them and remove the leading `//`",
        "zones \"hq\" \"dc\"",
    );
    std::fs::write(
        dir.path().join("model.kdl"),
        format!("{}{kdl}", &model[..start]),
    )
    .expect("write");
    let from_source = verdicts(&fixture());
    let from_kdl = verdicts(dir.path());
    assert_eq!(from_source.len(), 5);
    for (a, b) in from_source.iter().zip(&from_kdl) {
        if a.contains(" tcp 22:") {
            // The interface-bound rule: unknown from the source, exact in KDL (the
            // comment above it says so).
            assert_eq!(
                (a.as_str(), b.as_str()),
                (
                    "app01.contoso.com -> db01.contoso.com tcp 22: indeterminate",
                    "app01.contoso.com -> db01.contoso.com tcp 22: allowed"
                )
            );
        } else {
            assert_eq!(a, b);
        }
    }
    assert_eq!(from_source.len(), from_kdl.len());
}

#[test]
fn out_writes_the_stem_and_refuses_links() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("kdl");
    let file = fixture().join("rules/fw-core.rules");
    let r = run(
        dir.path(),
        &[
            "import",
            "iptables-save",
            file.to_str().expect("path"),
            "--out",
            "kdl",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    let written = std::fs::read_to_string(out.join("fw-core.kdl")).expect("written");
    assert!(
        written.contains("firewall \"fw-core\" default=\"deny\" {"),
        "{written}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&out).expect("dir").collect();
    assert_eq!(leftovers.len(), 1);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&out, dir.path().join("link")).expect("link");
        let r = run(
            dir.path(),
            &[
                "import",
                "iptables-save",
                file.to_str().expect("path"),
                "--out",
                "link",
            ],
        );
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains("is a symbolic link"), "{}", r.stderr);
    }
}

#[test]
fn a_malformed_file_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bad.rules"),
        "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -j nowhere\nCOMMIT\n",
    )
    .expect("write");
    let r = run(dir.path(), &["import", "iptables-save", "bad.rules"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "bad.rules:3:15: error[source/parse] `nowhere` is no chain of the filter table and no target cmflow knows\n    help: declare the chain with `:NAME - [0:0]`; terminal targets are ACCEPT, DROP and REJECT\n"
    );
    let missing = run(dir.path(), &["import", "iptables-save", "none.rules"]);
    assert_eq!(missing.code, 2);
    let configmgr = run(dir.path(), &["import", "configmgr", "inventory.json"]);
    assert_eq!(configmgr.code, 2);
    assert_eq!(
        configmgr.stderr,
        "error: cannot read inventory.json: No such file or directory (os error 2)\n"
    );
}
