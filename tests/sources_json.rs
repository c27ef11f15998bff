//! End to end: firewalls read from `nftables-json` and `azure-nsg-json` files
//! (`tests/fixtures/sources/*/e2e-*`), through the real binary. The blocked flow points at
//! the rule object in the JSON file; an unsupported construct gives `source/unsupported`
//! and an indeterminate verdict; a file that cannot be read gives `source/parse`.

mod common;

use common::{root, run};
use serde_json::Value;

/// `check --format json` of a fixture folder: `code file:line:column message` of each
/// diagnostic, and the exit code.
fn check(folder: &str) -> (i32, Vec<String>) {
    let dir = root().join("tests/fixtures/sources").join(folder);
    let r = run(&dir, &["check", "--format", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    let lines = v["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| {
                    format!(
                        "{} {}:{}:{} {}",
                        d["code"].as_str().unwrap_or(""),
                        d["file"].as_str().unwrap_or(""),
                        d["line"],
                        d["column"],
                        d["message"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (r.code, lines)
}

/// `flows --format json`: `source -> destination ports: verdict (decided_by)` of each
/// flow, sorted.
fn flows(folder: &str) -> Vec<String> {
    let dir = root().join("tests/fixtures/sources").join(folder);
    let r = run(&dir, &["flows", "--format", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    let mut out: Vec<String> = v["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .map(|f| {
            let by: Vec<&str> = f["decided_by"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            format!(
                "{} -> {} {}: {} ({})",
                f["source"].as_str().unwrap_or(""),
                f["destination"].as_str().unwrap_or(""),
                f["ports"].as_str().unwrap_or(""),
                f["verdict"].as_str().unwrap_or(""),
                by.join("; ")
            )
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

const UNREPRESENTABLE: &str = "the rule holds a construct of its source file that cmflow cannot represent exactly (`source/unsupported`)";

#[test]
fn nftables_blocked_flow_points_at_the_rule_in_the_json_file() {
    assert_eq!(
        check("nftables/e2e-blocked"),
        (
            1,
            vec![
                "firewall/blocked-flow ruleset.json:136:5 rule \"no client notification\" of firewall `fw-linux` blocks Office PCs -> cm01.contoso.com: tcp 10123 (Client notification)".to_owned()
            ]
        )
    );
    assert_eq!(
        flows("nftables/e2e-blocked"),
        [
            "Office PCs -> cm01.contoso.com 10123: blocked (fw-linux: \"no client notification\")",
            "Office PCs -> cm01.contoso.com 80: allowed (fw-linux: \"office to cm01 web\")",
            "cm01.contoso.com -> internet 80: allowed (fw-linux: \"site server to Microsoft\")",
        ]
    );
}

#[test]
fn nftables_interface_match_is_unsupported_and_indeterminate() {
    assert_eq!(
        check("nftables/e2e-interface"),
        (
            0,
            vec![
                format!("firewall/indeterminate ruleset.json:136:5 cannot tell whether rule \"client notification from the office VLAN\" of firewall `fw-linux` matches Office PCs -> cm01.contoso.com: {UNREPRESENTABLE}; affected: tcp 10123 (Client notification)"),
                "source/unsupported ruleset.json:145:22 cmflow cannot represent interface match `iifname` exactly".to_owned(),
            ]
        )
    );
    assert!(flows("nftables/e2e-interface").contains(
        &"Office PCs -> cm01.contoso.com 10123: indeterminate (fw-linux: \"client notification from the office VLAN\")".to_owned()
    ));
}

#[test]
fn nftables_truncated_file_is_a_parse_error() {
    let (code, lines) = check("nftables/e2e-parse");
    assert_eq!(code, 1);
    assert_eq!(
        lines.last().map(String::as_str),
        Some("source/parse ruleset.json:130:11 invalid JSON: Unterminated object")
    );
    // Every verdict through the firewall is indeterminate, none blocked or allowed.
    assert!(
        lines[..lines.len() - 1]
            .iter()
            .all(|l| l.starts_with("firewall/indeterminate firewall.kdl:2:28 ")),
        "{lines:#?}"
    );
}

#[test]
fn azure_nsg_blocked_flow_points_at_the_security_rule() {
    assert_eq!(
        check("azure-nsg/e2e-blocked"),
        (
            1,
            vec![
                "firewall/blocked-flow nsg.json:163:5 rule \"Deny-Client-Notification\" of firewall `nsg-datacenter` blocks Office PCs -> cm01.contoso.com: tcp 10123 (Client notification)".to_owned()
            ]
        )
    );
    // Inbound rules by priority, then the file's default rules in both directions.
    assert_eq!(
        flows("azure-nsg/e2e-blocked"),
        [
            "Office PCs -> cm01.contoso.com 10123: blocked (nsg-datacenter: \"Deny-Client-Notification\")",
            "Office PCs -> cm01.contoso.com 3389: allowed (nsg-datacenter: \"AllowVnetInBound\")",
            "Office PCs -> cm01.contoso.com 80: allowed (nsg-datacenter: \"Allow-Office-Web\")",
            "cm01.contoso.com -> Office PCs 2701: allowed (nsg-datacenter: \"AllowVnetOutBound\")",
            "cm01.contoso.com -> internet 80: allowed (nsg-datacenter: \"AllowInternetOutBound\")",
        ]
    );
}

#[test]
fn azure_nsg_service_tag_is_unsupported_and_indeterminate() {
    assert_eq!(
        check("azure-nsg/e2e-service-tag"),
        (
            0,
            vec![
                format!("firewall/indeterminate nsg.json:163:5 cannot tell whether rule \"Allow-Notification-From-Cloud\" of firewall `nsg-datacenter` matches Office PCs -> cm01.contoso.com: {UNREPRESENTABLE}; affected: tcp 10123 (Client notification)"),
                "source/unsupported nsg.json:177:30 cmflow cannot represent service tag `AzureCloud` exactly".to_owned(),
            ]
        )
    );
}

#[test]
fn azure_nsg_list_of_two_is_a_parse_error() {
    let (code, lines) = check("azure-nsg/e2e-parse");
    assert_eq!(code, 1);
    assert_eq!(
        lines.last().map(String::as_str),
        Some("source/parse nsg.json:1:1 the file holds 2 network security groups")
    );
}

#[test]
fn import_reads_both_formats() {
    let dir = root().join("tests/fixtures/sources");
    let r = run(&dir, &["import", "nftables-json", "nftables/router.json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(
            "allow \"HTTP and HTTPS\" from=\"cidr:10.10.0.0/16\" to=\"cidr:10.1.0.0/24,cidr:10.2.0.10/32\" tcp=\"80,443\""
        ),
        "{}",
        r.stdout
    );
    let r = run(
        &dir,
        &[
            "import",
            "azure-nsg-json",
            "azure-nsg/az-nsg-show.json",
            "--attached",
            "sitesystems",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("deny \"DenyAllInBound\" from=\"any\" to=\"zone:sitesystems\""),
        "{}",
        r.stdout
    );
}
