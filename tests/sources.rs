//! Firewalls read from their own formats (`source=`/`format=`), end to end: diagnostics
//! point into the source file, unreadable and malformed files are `source/parse`, what
//! cannot be represented is `source/unsupported` and `firewall/indeterminate`, and the
//! `source`/`format`/`attached` properties are checked like every other.

mod common;

use std::path::Path;

use common::{root, run};

fn fixture() -> std::path::PathBuf {
    root().join("tests/fixtures/sources/iptables")
}

/// The diagnostic lines of short output (without their `help:` continuation lines).
fn diagnostic_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with(char::is_whitespace))
        .map(str::to_owned)
        .collect()
}

/// `cmflow check --format short` in `dir`: exit code and diagnostic lines.
fn short(dir: &Path) -> (i32, Vec<String>) {
    let r = run(dir, &["check", ".", "--format", "short"]);
    (r.code, diagnostic_lines(&r.stdout))
}

/// A model of two zones and one firewall in a temporary folder: `model.kdl` holding
/// `kdl`, and the other files given.
fn model(kdl: &str, files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let head = "zone \"hq\" { subnet \"10.1.0.0/16\"; }\nzone \"dc\" { subnet \"10.2.0.0/16\"; }\n";
    std::fs::write(dir.path().join("model.kdl"), format!("{head}{kdl}")).expect("write");
    for (name, bytes) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }
    dir
}

#[test]
fn diagnostics_point_at_the_lines_of_the_iptables_save_file() {
    let (code, lines) = short(&fixture());
    assert_eq!(code, 1);
    assert_eq!(
        lines,
        [
            "rules/fw-core.rules:4:10: error[firewall/blocked-flow] the default of firewall `fw-core` blocks app01.contoso.com -> db01.contoso.com: tcp 1433 (sql)",
            "rules/fw-core.rules:10:1: error[firewall/blocked-flow] rule \"no SMB from offices\" of firewall `fw-core` blocks app01.contoso.com -> db01.contoso.com: tcp 445 (smb)",
            "rules/fw-core.rules:12:1: warning[firewall/indeterminate] cannot tell whether rule \"admin ssh\" of firewall `fw-core` matches app01.contoso.com -> db01.contoso.com: the rule holds a construct of its source file that cmflow cannot represent exactly (`source/unsupported`); affected: tcp 22 (ssh)",
            "rules/fw-core.rules:12:13: warning[source/unsupported] cmflow cannot represent interface match `-i eth1` exactly",
        ]
    );
    let human = run(&fixture(), &["check", ".", "--format", "human"]);
    insta::assert_snapshot!("sources-iptables-human", human.stdout);
}

#[test]
fn verdicts_come_from_the_file_and_the_source_file_counts_as_a_file() {
    let r = run(&fixture(), &["flows", ".", "--format", "json"]);
    // The loader's warning goes to stderr; it is no input error.
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "rules/fw-core.rules:12:13: warning[source/unsupported] cmflow cannot represent interface match `-i eth1` exactly\n    help: whether the rule matches is unknown: the verdicts it decides are indeterminate\n"
    );
    let json: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let verdicts: Vec<String> = json["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .map(|f| {
            format!(
                "{} {}: {} by {}",
                f["protocol"].as_str().unwrap_or_default(),
                f["ports"].as_str().unwrap_or_default(),
                f["verdict"].as_str().unwrap_or_default(),
                f["decided_by"][0].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            "icmp echo: allowed by fw-core: \"ping everywhere\"",
            "tcp 22: indeterminate by fw-core: \"admin ssh\"",
            "tcp 443: allowed by fw-core: \"web to db01\"",
            "tcp 445: blocked by fw-core: \"no SMB from offices\"",
            "tcp 1433: blocked by fw-core: default",
        ]
    );
    let check = run(&fixture(), &["check", ".", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&check.stdout).expect("json");
    assert_eq!(json["summary"]["files"], 2, "{}", json["summary"]);
    // Same input, same bytes.
    let again = run(&fixture(), &["check", ".", "--format", "json"]);
    assert_eq!(check.stdout, again.stdout);
}

#[test]
fn a_missing_or_malformed_source_is_source_parse() {
    let fw = |source: &str| {
        format!(
            "firewall \"fw\" source=\"{source}\" format=\"iptables-save\" {{\n    zones \"hq\" \"dc\"\n}}\n"
        )
    };
    let missing = model(&fw("nowhere.rules"), &[]);
    let (code, lines) = short(missing.path());
    assert_eq!(code, 1);
    assert_eq!(
        lines,
        [
            "model.kdl:3:22: error[source/parse] cannot read `nowhere.rules`: No such file or directory (os error 2)"
        ]
    );
    let garbage = model(
        &fw("fw.rules"),
        &[(
            "fw.rules",
            b"*filter\n:FORWARD DROP [0:0]\n-A FORWARD -s 10.0.0.0/33 -j ACCEPT\nCOMMIT\n",
        )],
    );
    let (code, lines) = short(garbage.path());
    assert_eq!(code, 1);
    assert_eq!(
        lines,
        ["fw.rules:3:15: error[source/parse] `10.0.0.0/33` is not an address or network"]
    );
    let binary = model(&fw("fw.rules"), &[("fw.rules", b"\x00\x9f\x92\x96")]);
    let (_, lines) = short(binary.path());
    assert_eq!(
        lines,
        [
            "model.kdl:3:22: error[source/parse] cannot read `fw.rules`: the file is not valid UTF-8 (byte 1)"
        ]
    );
}

#[test]
fn a_utf16_file_from_windows_reads_like_utf8() {
    let text =
        "*filter\r\n:FORWARD ACCEPT [0:0]\r\n-A FORWARD -p tcp --dport 1433 -j DROP\r\nCOMMIT\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let dir = model(
        r#"server "a.contoso.com" zone="hq"
server "b.contoso.com" zone="dc"
flow "sql" from="host:a.contoso.com" to="host:b.contoso.com" tcp="1433"
firewall "fw" source="sub/fw.rules" format="iptables-save" { zones "hq" "dc"; }
"#,
        &[("sub/fw.rules", &bytes)],
    );
    let (_, lines) = short(dir.path());
    assert_eq!(
        lines,
        [
            "sub/fw.rules:3:1: error[firewall/blocked-flow] rule 1 of firewall `fw` blocks a.contoso.com -> b.contoso.com: tcp 1433 (sql)"
        ]
    );
}

#[test]
fn source_format_and_attached_are_checked() {
    let dir = model(
        r#"firewall "a" source="fw.rules" format="iptables-save" {
    zones "hq" "dc"
    allow "web" tcp="443"
}
firewall "b" source="fw.rules" { zones "hq" "dc"; }
firewall "c" source="fw.json" format="gpo-registry" { zones "hq" "dc"; }
firewall "d" source="nsg.json" format="azure-nsg-json" { zones "hq" "dc"; }
"#,
        &[("fw.rules", b"*filter\n:FORWARD DROP [0:0]\nCOMMIT\n")],
    );
    let (code, lines) = short(dir.path());
    assert_eq!(code, 1);
    assert_eq!(
        lines,
        [
            "model.kdl:5:5: error[schema/unknown-node] a `firewall` with `source` takes its rules from that file, not from `allow` nodes",
            "model.kdl:7:21: error[schema/missing-value] `firewall` has `source` but no `format`",
            "model.kdl:8:38: error[schema/invalid-value] `gpo-registry` describes a Windows Firewall, not a `firewall`",
            "model.kdl:9:39: error[schema/missing-value] a firewall read from an Azure NSG needs `attached`: the zone of the subnet it guards",
        ]
    );
    let help = run(dir.path(), &["check", ".", "--format", "human"]).stdout;
    assert!(
        help.contains(
            "help: read it from a `windows-firewall` node; a `firewall` takes \"aerleon\","
        ),
        "{help}"
    );
}

#[test]
fn stdin_filename_paths_are_relative_to_the_named_file() {
    let dir = model(
        r#"server "a.contoso.com" zone="hq"
server "b.contoso.com" zone="dc"
flow "sql" from="host:a.contoso.com" to="host:b.contoso.com" tcp="1433"
"#,
        &[(
            "sub/fw.rules",
            b"*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp --dport 1433 -j DROP\nCOMMIT\n",
        )],
    );
    let text =
        "firewall \"fw\" source=\"fw.rules\" format=\"iptables-save\" { zones \"hq\" \"dc\"; }\n";
    let out = common::cmflow(dir.path())
        .args([
            "check",
            ".",
            "--stdin-filename",
            "sub/unsaved.kdl",
            "--format",
            "short",
        ])
        .write_stdin(text)
        .output()
        .expect("runs");
    assert_eq!(
        diagnostic_lines(&String::from_utf8_lossy(&out.stdout)),
        [
            "sub/fw.rules:3:1: error[firewall/blocked-flow] rule 1 of firewall `fw` blocks a.contoso.com -> b.contoso.com: tcp 1433 (sql)"
        ]
    );
}

/// The rule-set checks never report an uncertain rule (shadowed, overly broad) nor let
/// one shadow another; the same rules without the interface match are reported.
#[test]
fn uncertain_rules_are_neither_shadowed_nor_shadowing_nor_overly_broad() {
    let rules = |iface: &str| {
        format!(
            "*filter\n:FORWARD DROP [0:0]\n\
             -A FORWARD {iface}-p tcp --dport 443 -m comment --comment \"a\" -j DROP\n\
             -A FORWARD -p tcp --dport 443 -m comment --comment \"b\" -j ACCEPT\n\
             -A FORWARD {iface}-p tcp --dport 443 -m comment --comment \"c\" -j ACCEPT\n\
             -A FORWARD {iface}-m comment --comment \"d\" -j ACCEPT\n\
             COMMIT\n"
        )
    };
    let kdl = r#"server "a.contoso.com" zone="hq"
server "b.contoso.com" zone="dc"
flow "web" from="host:a.contoso.com" to="host:b.contoso.com" tcp="443"
flow "smb" from="host:a.contoso.com" to="host:b.contoso.com" tcp="445"
firewall "fw" source="fw.rules" format="iptables-save" { zones "hq" "dc"; }
"#;
    let codes = |text: &str| {
        let dir = model(kdl, &[("fw.rules", text.as_bytes())]);
        let (_, lines) = short(dir.path());
        lines
            .iter()
            .map(|l| {
                let code = l
                    .split('[')
                    .nth(1)
                    .and_then(|c| c.split(']').next())
                    .unwrap_or_default();
                let at = l.split(':').take(2).collect::<Vec<_>>().join(":");
                format!("{at} {code}")
            })
            .collect::<Vec<_>>()
    };
    // Exact: "a" blocks web, shadows "b"; "c" is shadowed; "d" allows smb and is overly broad.
    assert_eq!(
        codes(&rules("")),
        [
            "fw.rules:3 firewall/blocked-flow",
            "fw.rules:4 firewall/shadowed-rule",
            "fw.rules:5 firewall/shadowed-rule",
            "fw.rules:6 firewall/overly-broad",
        ]
    );
    // With `-i eth1`: "a", "c" and "d" are uncertain. "a" decides web as unknown; "b"
    // is neither shadowed by it nor unused (it decides web when "a" does not match);
    // "c" is not shadowed, "d" not overly broad: they decide what they may match.
    assert_eq!(
        codes(&rules("-i eth1 ")),
        [
            "fw.rules:3 firewall/indeterminate",
            "fw.rules:3 source/unsupported",
            "fw.rules:5 source/unsupported",
            "fw.rules:6 firewall/indeterminate",
            "fw.rules:6 source/unsupported",
        ]
    );
}
