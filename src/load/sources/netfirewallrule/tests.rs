use std::fmt::Write as _;
use std::path::Path;

use super::*;
use crate::load::sources::test_support::{at, ends, input, ports};
use crate::model::SourceId;

const DP01: &str = include_str!("../../../../tests/fixtures/sources/netfirewallrule/dp01.json");
const MP01: &str = include_str!("../../../../tests/fixtures/sources/netfirewallrule/mp01.json");

fn read_text(text: &str) -> Result<HostRules, SourceError> {
    read(&input(text, "export.json"))
}

#[test]
fn distribution_point_export() {
    let out = read_text(DP01).unwrap();
    let names: Vec<&str> = out
        .rules
        .iter()
        .map(|r| r.name.as_ref().unwrap().value.as_str())
        .collect();
    // The disabled "Legacy FTP" rule is skipped without a finding.
    assert_eq!(
        names,
        [
            "ConfigMgr DP HTTP and HTTPS",
            "ConfigMgr PXE TFTP",
            "Windows Deployment Services (RPC-In)",
            "RPC Endpoint Mapper",
            "Block SMB from the build range",
            "File and Printer Sharing (Echo Request - ICMPv4-In)",
            "Software update scan",
        ]
    );
    let web = &out.rules[0];
    assert_eq!((web.direction, web.action), (Direction::In, Action::Allow));
    assert_eq!(ports(web.traffic.tcp.as_ref()), "80,443");
    assert!(web.traffic.udp.is_none() && !web.traffic.icmp);
    assert_eq!(
        ends(&web.traffic.from),
        ["cidr:10.1.0.0/16", "cidr:10.2.0.0/16"]
    );
    assert_eq!(ends(&web.traffic.to), ["any"]);
    assert_eq!(web.profiles, ["domain"]);
    assert_eq!(web.uncertain, None);
    assert!(at(DP01, web.span).starts_with('{'));
    assert!(at(DP01, web.span).contains("ConfigMgr DP HTTP and HTTPS"));
    assert_eq!(
        at(DP01, web.traffic.from[0].span),
        "\"10.1.0.0/255.255.0.0\""
    );

    let pxe = &out.rules[1];
    assert_eq!(ports(pxe.traffic.udp.as_ref()), "69");
    assert_eq!(pxe.profiles, ["domain", "private"]);

    let wds = &out.rules[2];
    assert_eq!(ports(wds.traffic.tcp.as_ref()), "rpc");
    assert_eq!(
        at(DP01, wds.uncertain.unwrap()),
        "\"%SystemRoot%\\\\system32\\\\svchost.exe\""
    );
    let epmap = &out.rules[3];
    assert_eq!(ports(epmap.traffic.tcp.as_ref()), "rpc-epmap");
    assert_eq!(at(DP01, epmap.uncertain.unwrap()), "\"LocalSubnet\"");

    let smb = &out.rules[4];
    assert_eq!(smb.action, Action::Deny);
    assert_eq!(ports(smb.traffic.tcp.as_ref()), "445");
    assert_eq!(
        ends(&smb.traffic.from),
        [
            "cidr:10.0.0.1/32",
            "cidr:10.0.0.2/31",
            "cidr:10.0.0.4/30",
            "cidr:10.0.0.8/29",
            "cidr:10.0.0.16/30",
            "cidr:10.0.0.20/32",
        ]
    );
    let ping = &out.rules[5];
    assert!(ping.traffic.icmp && ping.traffic.tcp.is_none());
    let scan = &out.rules[6];
    assert_eq!(scan.direction, Direction::Out);
    assert_eq!(ports(scan.traffic.tcp.as_ref()), "8530,8531");
    assert_eq!(ends(&scan.traffic.to), ["cidr:10.0.1.10/32"]);
    assert_eq!(ends(&scan.traffic.from), ["any"]);

    let found: Vec<(&str, &str)> = out
        .unsupported
        .iter()
        .map(|u| (u.construct.as_str(), at(DP01, u.span)))
        .collect();
    assert_eq!(
        found,
        [
            (
                "program `%SystemRoot%\\system32\\svchost.exe`",
                "\"%SystemRoot%\\\\system32\\\\svchost.exe\""
            ),
            ("service `WdsServer`", "\"WdsServer\""),
            ("address keyword `LocalSubnet`", "\"LocalSubnet\""),
        ]
    );
    assert_eq!(out.inbound.as_ref().map(|a| a.value), Some(Action::Deny));
    assert_eq!(out.outbound.as_ref().map(|a| a.value), Some(Action::Allow));
    assert_eq!(at(DP01, out.inbound.unwrap().span), "4");
}

#[test]
fn management_point_export() {
    let out = read_text(MP01).unwrap();
    // GRE and ICMPv6 destination-unreachable match no required flow: not read.
    assert_eq!(out.rules.len(), 7);
    let winrm = &out.rules[2];
    assert_eq!(winrm.profiles, ["domain", "private"]);
    assert_eq!(at(MP01, winrm.uncertain.unwrap()), "\"Intranet\"");
    assert_eq!(ends(&winrm.traffic.from), ["any"]);

    let netbios = &out.rules[3];
    assert_eq!(
        (netbios.direction, netbios.action),
        (Direction::Out, Action::Deny)
    );
    assert_eq!(ports(netbios.traffic.udp.as_ref()), "137-138");
    assert!(netbios.source_ports.is_none());

    let wol = &out.rules[4];
    assert_eq!(ports(wol.traffic.udp.as_ref()), "9");
    assert_eq!(ports(wol.source_ports.as_ref()), "1024-65535");
    assert_eq!(
        at(MP01, wol.source_ports.as_ref().unwrap().span),
        "\"1024-65535\""
    );

    assert_eq!(at(MP01, out.rules[5].uncertain.unwrap()), "\"Ethernet 2\"");
    let bypass = &out.rules[6];
    assert_eq!(bypass.action, Action::Allow);
    assert_eq!(at(MP01, bypass.uncertain.unwrap()), "3");

    let constructs: Vec<&str> = out
        .unsupported
        .iter()
        .map(|u| u.construct.as_str())
        .collect();
    assert_eq!(
        constructs,
        [
            "address keyword `Intranet`",
            "interface `Ethernet 2`",
            "action `AllowBypass` (authenticated traffic bypasses block rules)",
            "the Public profile's default outbound action, which differs from the Domain profile's",
        ]
    );
    // The Domain profile's default is used; the Public profile's differing value is named.
    assert_eq!(out.outbound.as_ref().map(|a| a.value), Some(Action::Allow));
    assert_eq!(at(MP01, out.unsupported[3].span), "4");
}

#[test]
fn a_bare_array_of_flat_rules_reads() {
    let text = r#"[{"DisplayName": "web", "Direction": "Outbound", "Action": "Block",
        "Protocol": 17, "RemotePort": "53", "LocalPort": "49152-65535",
        "RemoteAddress": "192.168.1.0/24", "LocalAddress": "Any", "Profile": "Public"}]"#;
    let out = read_text(text).unwrap();
    let r = &out.rules[0];
    assert_eq!((r.direction, r.action), (Direction::Out, Action::Deny));
    assert_eq!(ports(r.traffic.udp.as_ref()), "53");
    assert_eq!(ports(r.source_ports.as_ref()), "49152-65535");
    assert_eq!(ends(&r.traffic.to), ["cidr:192.168.1.0/24"]);
    assert_eq!(r.profiles, ["public"]);
    assert!(out.inbound.is_none() && out.outbound.is_none());
}

#[test]
fn port_keywords_are_unsupported_and_cover_every_port() {
    let text = r#"[{"Direction": 1, "Action": 2, "Protocol": "TCP", "LocalPort": ["IPHTTPSIn", "80"],
        "RemoteAddress": "Any"}]"#;
    let out = read_text(text).unwrap();
    assert_eq!(ports(out.rules[0].traffic.tcp.as_ref()), "1-65535,80");
    assert_eq!(out.unsupported[0].construct, "port keyword `IPHTTPSIn`");
    assert_eq!(at(text, out.unsupported[0].span), "\"IPHTTPSIn\"");
    assert_eq!(out.rules[0].uncertain, Some(out.unsupported[0].span));
}

#[test]
fn protocol_any_matches_every_protocol() {
    let text =
        r#"[{"Direction": 1, "Action": 4, "Protocol": "Any", "RemoteAddress": "10.9.0.0/16"}]"#;
    let out = read_text(text).unwrap();
    assert!(out.rules[0].traffic.matches_all_protocols());
}

#[test]
fn bad_values_are_parse_errors_at_the_value() {
    let cases = [
        (
            r#"[{"Direction": 3, "Action": 2, "Protocol": "TCP", "RemoteAddress": "Any"}]"#,
            "3",
            "`Direction` is not one of",
        ),
        (
            r#"[{"Direction": 1, "Action": "Deny", "Protocol": "TCP", "RemoteAddress": "Any"}]"#,
            "\"Deny\"",
            "`Action` is not one of",
        ),
        (
            r#"[{"Direction": 1, "Action": 2, "Protocol": "SCTP", "RemoteAddress": "Any"}]"#,
            "\"SCTP\"",
            "`Protocol` is not",
        ),
        (
            r#"[{"Direction": 1, "Action": 2, "Protocol": "TCP", "LocalPort": "70000", "RemoteAddress": "Any"}]"#,
            "\"70000\"",
            "is not a port",
        ),
        (
            r#"[{"Direction": 1, "Action": 2, "Protocol": "TCP", "RemoteAddress": "10.0.0.0/255.0.255.0"}]"#,
            "\"10.0.0.0/255.0.255.0\"",
            "not contiguous",
        ),
        (
            r#"[{"Direction": 1, "Action": 2, "Protocol": "TCP", "RemoteAddress": "10.0.0.9-10.0.0.1"}]"#,
            "\"10.0.0.9-10.0.0.1\"",
            "low to high",
        ),
        (
            r#"[{"Direction": 1, "Action": 2, "Profile": 9, "Protocol": "TCP", "RemoteAddress": "Any"}]"#,
            "9",
            "not a combination",
        ),
        (
            r#"[{"Direction": 1, "Action": 2, "Profile": "Work", "Protocol": "TCP", "RemoteAddress": "Any"}]"#,
            "\"Work\"",
            "`Work` is not a profile",
        ),
        (r"[42]", "42", "expected a rule object"),
        (r#""rules""#, "\"rules\"", "expected an object with `Rules`"),
    ];
    for (text, spot, message) in cases {
        let e = read_text(text).unwrap_err();
        assert!(e.message.contains(message), "{text}: {e:?}");
        assert_eq!(at(text, e.span.unwrap()), spot, "{text}");
    }
}

#[test]
fn missing_filters_name_the_script() {
    let text = r#"[{"Direction": 1, "Action": 2, "Protocol": "TCP"}]"#;
    let e = read_text(text).unwrap_err();
    assert_eq!(e.message, "the rule has no `RemoteAddress`");
    assert!(e.help.unwrap().contains("Export-CmflowFirewallRules.ps1"));
    let e = read_text(r#"{"Profiles": []}"#).unwrap_err();
    assert_eq!(e.message, "the export has no `Rules` member");
}

#[test]
fn tokens() {
    assert_eq!(
        port_token(" 8530-8531 "),
        Ok(PortToken::Item(PortItem::Range(8530, 8531)))
    );
    assert_eq!(
        port_token("RPC-EPMap"),
        Ok(PortToken::Item(PortItem::RpcEpmap))
    );
    assert_eq!(port_token("*"), Ok(PortToken::Any));
    assert!(port_token("0").is_err());
    assert!(port_token("90-80").is_err());
    let nets = |s: &str| match address_token(s) {
        Ok(AddressToken::Nets(n)) => n.iter().map(ToString::to_string).collect::<Vec<_>>(),
        other => panic!("{s}: {other:?}"),
    };
    assert_eq!(nets("10.0.0.7"), ["10.0.0.7/32"]);
    assert_eq!(nets("10.1.2.3/16"), ["10.1.0.0/16"]);
    assert_eq!(nets("fe80::/64"), ["fe80::/64"]);
    assert_eq!(nets("2001:db8::-2001:db8::3"), ["2001:db8::/126"]);
    assert_eq!(
        address_token("DefaultGateway"),
        Ok(AddressToken::Keyword("DefaultGateway".into()))
    );
    assert!(address_token("10.0.0.1-fe80::1").is_err());
    assert!(address_token("10.0.0/8").is_err());
    assert!(icmp_includes_echo("8:*", 8));
    assert!(icmp_includes_echo("128", 128));
    assert!(!icmp_includes_echo("8:3", 8));
    assert!(!icmp_includes_echo("0", 8));
}

/// The time to read 5,000 rules in each Windows format (issue 14's closing note):
/// `cargo test --release --lib five_thousand -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn five_thousand_rules_in_each_windows_format() {
    let rule = |i: usize| {
        format!(
            r#"{{"DisplayName": "rule {i}", "Enabled": 1, "Profile": 1, "Direction": {}, "Action": {},
            "PortFilter": {{"Protocol": "TCP", "LocalPort": ["{}", "8530-8531"], "RemotePort": "Any"}},
            "AddressFilter": {{"LocalAddress": "Any", "RemoteAddress": ["10.{}.0.0/16", "10.0.0.1-10.0.0.20"]}},
            "ApplicationFilter": {{"Program": "Any"}}, "ServiceFilter": {{"Service": "Any"}}}}"#,
            1 + i % 2,
            if i.is_multiple_of(7) { 4 } else { 2 },
            1 + i % 60000,
            i % 256
        )
    };
    let json = format!(
        "{{\"Rules\": [{}]}}",
        (0..5000).map(rule).collect::<Vec<_>>().join(",\n")
    );
    let start = std::time::Instant::now();
    let out = read_text(&json).unwrap();
    println!(
        "netfirewallrule-json: 5,000 rules ({} bytes) in {:?}",
        json.len(),
        start.elapsed()
    );
    assert_eq!(out.rules.len(), 5000);
    let mut lines = String::new();
    for i in 0..5000 {
        _ = writeln!(
            lines,
            "v2.31|Action=Allow|Active=TRUE|Dir=In|Protocol=6|Profile=Domain|LPort={}|LPort=8530-8531|RA4=10.{}.0.0/16|RA4=10.0.0.1-10.0.0.20|Name=rule {i}|",
            1 + i % 60000,
            i % 256
        );
    }
    let start = std::time::Instant::now();
    let out = super::super::gpo_registry::read(&SourceInput {
        id: SourceId(0),
        text: &lines,
        path: Path::new("rules.txt"),
        zones: &[],
        attached: None,
    })
    .unwrap();
    println!(
        "gpo-registry: 5,000 rules ({} bytes) in {:?}",
        lines.len(),
        start.elapsed()
    );
    assert_eq!(out.rules.len(), 5000);
}

#[test]
fn profiles_by_name_not_configured_and_off() {
    let text = r#"{"Profiles": [
        {"Name": "Domain", "Enabled": "True", "DefaultInboundAction": "NotConfigured", "DefaultOutboundAction": "Block"},
        {"Name": "Private", "Enabled": false, "DefaultInboundAction": "Allow", "DefaultOutboundAction": "Block"},
        {"Name": "Public", "Enabled": 2}
    ], "Rules": [
        {"Direction": "Outbound", "Action": "Allow", "Enabled": false, "Protocol": "TCP", "RemoteAddress": "Any"},
        {"Direction": "Outbound", "Action": "Allow", "Enabled": true, "Protocol": "UDP", "RemoteAddress": "Any"}
    ]}"#;
    let out = read_text(text).unwrap();
    assert_eq!(out.rules.len(), 1);
    assert!(out.rules[0].traffic.udp.is_some());
    // Domain states no inbound default: the node's applies, and Private's differs.
    assert!(out.inbound.is_none());
    assert_eq!(out.outbound.as_ref().map(|a| a.value), Some(Action::Deny));
    let found: Vec<(&str, &str)> = out
        .unsupported
        .iter()
        .map(|u| (u.construct.as_str(), at(text, u.span)))
        .collect();
    assert_eq!(
        found,
        [
            (
                "the Private profile with Windows Firewall turned off",
                "false"
            ),
            (
                "the Private profile's default inbound action, which differs from the Domain profile's",
                "\"Allow\""
            )
        ]
    );
    let only_private =
        r#"{"Profiles": [{"Name": "Private", "DefaultInboundAction": 2}], "Rules": []}"#;
    let out = read_text(only_private).unwrap();
    assert_eq!(out.inbound.as_ref().map(|a| a.value), Some(Action::Allow));
    assert!(out.unsupported.is_empty());
    let e = read_text(r#"{"Profiles": [{"Enabled": 1}], "Rules": []}"#).unwrap_err();
    assert_eq!(e.message, "the profile has no `Name`");
    let text = r#"{"Profiles": [{"Name": "Domain", "DefaultInboundAction": 3}], "Rules": []}"#;
    let e = read_text(text).unwrap_err();
    assert_eq!(at(text, e.span.unwrap()), "3");
}
