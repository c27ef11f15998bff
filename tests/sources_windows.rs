//! End-to-end tests of the Windows Firewall sources: a `windows-firewall` whose rules are
//! read from a `netfirewallrule-json` export or a `gpo-registry` file gives diagnostics
//! that point at the line and column of the rule in that file.

mod common;

use std::path::Path;

use common::run;

const MODEL: &str = r#"zone "datacenter" { subnet "10.0.0.0/24" }
zone "office" { subnet "10.20.0.0/16" }

site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="datacenter" address="10.0.0.10" {
        site-server
        sms-provider
        management-point
        sql-instance "MSSQLSERVER"
        windows-firewall source="exports/cm01.FORMAT_EXT" format="FORMAT"
    }
}
clients "Office PCs" site="P01" zone="office"
"#;

/// Everything inbound allowed, but client notification from the office blocked and HTTP allowed only to
/// one program.
const EXPORT: &str = r#"{
    "Profiles":  [
        { "Name":  "Domain", "Enabled":  1, "DefaultInboundAction":  2, "DefaultOutboundAction":  2 }
    ],
    "Rules":  [
        {
            "DisplayName":  "Block client notification from the office",
            "Enabled":  1,
            "Profile":  0,
            "Direction":  1,
            "Action":  4,
            "PortFilter":  { "Protocol":  "TCP", "LocalPort":  "10123", "RemotePort":  "Any" },
            "AddressFilter":  { "LocalAddress":  "Any", "RemoteAddress":  "10.20.0.0/255.255.0.0" }
        },
        {
            "DisplayName":  "Block HTTP except IIS",
            "Enabled":  "True",
            "Profile":  "Any",
            "Direction":  "Inbound",
            "Action":  "Block",
            "PortFilter":  { "Protocol":  6, "LocalPort":  ["80"], "RemotePort":  "Any" },
            "AddressFilter":  { "LocalAddress":  "Any", "RemoteAddress":  "Any" },
            "ApplicationFilter":  { "Program":  "%SystemRoot%\\system32\\notepad.exe" }
        }
    ]
}
"#;

const REG_RULES: &str = "; the GPO's rules\n\
v2.31|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=10123|RA4=10.20.0.0/16|Name=Block client notification from the office|\n\
v2.31|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=80|App=%SystemRoot%\\system32\\notepad.exe|Name=Block HTTP except IIS|\n\
v2.31|Action=Allow|Active=TRUE|Dir=In|Name=Everything else|\n";

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn model_with(dir: &Path, format: &str, ext: &str, source: &str) {
    let model = MODEL.replace("FORMAT_EXT", ext).replace("FORMAT", format);
    std::fs::write(dir.join("model.kdl"), model).expect("write");
    std::fs::create_dir_all(dir.join("exports")).expect("folder");
    std::fs::write(dir.join(format!("exports/cm01.{ext}")), source).expect("write");
}

fn check(dir: &Path) -> String {
    let r = run(
        dir,
        &["check", ".", "--format", "short", "--fail-on", "never"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

fn assert_points(out: &str, file: &str, text: &str, at: &str, code: &str, what: &str) {
    let (line, col) = line_col(text, text.find(at).expect("in the source"));
    let prefix = format!("{file}:{line}:{col}: ");
    assert!(
        out.lines().any(|l| l.starts_with(&prefix)
            && l.contains(&format!("[{code}]"))
            && l.contains(what)),
        "no {code} at {prefix}:\n{out}"
    );
}

#[test]
fn netfirewallrule_json_diagnostics_point_into_the_export() {
    let dir = tempfile::tempdir().expect("folder");
    model_with(dir.path(), "netfirewallrule-json", "json", EXPORT);
    let out = check(dir.path());
    let file = "exports/cm01.json";
    // The block rule decides: the diagnostic points at its object.
    let rule = "{\n            \"DisplayName\":  \"Block client notification from the office\"";
    assert_points(
        &out,
        file,
        EXPORT,
        rule,
        "firewall/blocked-flow",
        "Office PCs",
    );
    let program = "\"%SystemRoot%";
    assert_points(&out, file, EXPORT, program, "source/unsupported", "program");
    assert!(out.contains("[firewall/indeterminate]"), "{out}");
    // The human report quotes the export's own lines.
    let human = run(dir.path(), &["check", ".", "--format", "human"]);
    insta::assert_snapshot!("sources-netfirewallrule-human", human.stdout);
}

#[test]
fn gpo_registry_diagnostics_point_into_the_rule_strings() {
    let dir = tempfile::tempdir().expect("folder");
    model_with(dir.path(), "gpo-registry", "txt", REG_RULES);
    let out = check(dir.path());
    let file = "exports/cm01.txt";
    let rule = "v2.31|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=10123";
    assert_points(
        &out,
        file,
        REG_RULES,
        rule,
        "firewall/blocked-flow",
        "Office PCs",
    );
    assert_points(
        &out,
        file,
        REG_RULES,
        "App=",
        "source/unsupported",
        "program",
    );
    assert!(out.contains("[firewall/indeterminate]"), "{out}");
}

#[test]
fn a_bad_export_is_a_parse_error_at_the_value() {
    let dir = tempfile::tempdir().expect("folder");
    let bad = EXPORT.replace("\"Direction\":  1", "\"Direction\":  7");
    model_with(dir.path(), "netfirewallrule-json", "json", &bad);
    let out = check(dir.path());
    let at = "7,";
    assert_points(
        &out,
        "exports/cm01.json",
        &bad,
        at,
        "source/parse",
        "Direction",
    );
}
