use std::path::Path;

use super::*;
use crate::model::SourceId;

fn zones() -> Vec<String> {
    ["sitesystems", "clients", "internet"]
        .map(String::from)
        .to_vec()
}

fn read_text(text: &str) -> Result<NetworkRules, SourceError> {
    let zones = zones();
    read(&SourceInput {
        id: SourceId(0),
        text,
        path: Path::new("nsg.json"),
        zones: &zones,
        attached: Some("sitesystems"),
    })
}

fn at(text: &str, span: Span) -> &str {
    &text[span.start..span.end]
}

fn endpoints(list: &[Spanned<Endpoint>]) -> Vec<String> {
    list.iter().map(|e| e.value.to_string()).collect()
}

fn ports(p: Option<&Spanned<PortList>>) -> Option<String> {
    p.map(|p| p.value.to_string())
}

fn names(rules: &NetworkRules) -> Vec<&str> {
    rules
        .rules
        .iter()
        .map(|r| r.name.as_ref().map_or("", |n| n.value.as_str()))
        .collect()
}

fn into() -> RuleGuard {
    RuleGuard::IntoZone("sitesystems".into())
}

fn out_of() -> RuleGuard {
    RuleGuard::OutOfZone("sitesystems".into())
}

#[test]
fn az_nsg_show_reads_by_priority_with_the_file_defaults() {
    let text = include_str!("../../../../tests/fixtures/sources/azure-nsg/az-nsg-show.json");
    let rules = read_text(text).unwrap();
    assert_eq!(
        names(&rules),
        [
            "Allow-Clients-HTTPS",
            "Deny-SMB-From-Clients",
            "Allow-PXE",
            "Allow-AzureMonitor-Out",
            "Deny-Internet-In",
            "AllowVnetInBound",
            "AllowVnetOutBound",
            "AllowInternetOutBound",
            "DenyAllInBound",
            "DenyAllOutBound",
        ]
    );
    assert!(
        rules.default.is_none(),
        "the firewall node's default decides other flows"
    );
    let https = &rules.rules[0];
    assert_eq!(https.action, Action::Allow);
    assert_eq!(https.guard, into());
    assert_eq!(
        endpoints(&https.traffic.from),
        ["cidr:10.10.0.0/16", "cidr:10.20.0.0/16"]
    );
    assert_eq!(at(text, https.traffic.from[1].span), "\"10.20.0.0/16\"");
    assert_eq!(endpoints(&https.traffic.to), ["cidr:10.1.0.0/24"]);
    assert_eq!(ports(https.traffic.tcp.as_ref()).as_deref(), Some("80,443"));
    assert_eq!(https.traffic.udp, None);
    assert!(at(text, https.span).starts_with('{'));
    assert!(at(text, https.span).contains("\"name\": \"Allow-Clients-HTTPS\""));
    assert_eq!(
        at(text, https.name.as_ref().unwrap().span),
        "\"Allow-Clients-HTTPS\""
    );
    let smb = &rules.rules[1];
    assert_eq!(smb.action, Action::Deny);
    assert_eq!(endpoints(&smb.traffic.to), ["any"]);
    assert_eq!(at(text, smb.traffic.to[0].span), "\"*\"");
    let pxe = &rules.rules[2];
    assert_eq!(ports(pxe.traffic.udp.as_ref()).as_deref(), Some("67-69"));
    assert_eq!(pxe.traffic.tcp, None);
    // A service tag cmflow cannot resolve: unsupported where written, rule uncertain.
    let monitor = &rules.rules[3];
    assert_eq!(monitor.guard, out_of());
    assert_eq!(at(text, monitor.uncertain.unwrap()), "\"AzureMonitor\"");
    assert_eq!(rules.unsupported.len(), 1);
    assert_eq!(rules.unsupported[0].construct, "service tag `AzureMonitor`");
    let internet = &rules.rules[4];
    assert_eq!(endpoints(&internet.traffic.from), ["zone:internet"]);
    assert!(internet.traffic.matches_all_protocols());
    // VirtualNetwork: every zone but internet.
    let vnet = &rules.rules[5];
    assert_eq!(
        endpoints(&vnet.traffic.from),
        ["zone:sitesystems", "zone:clients"]
    );
    assert_eq!(vnet.guard, into());
    assert_eq!(endpoints(&rules.rules[7].traffic.to), ["zone:internet"]);
    let deny_in = &rules.rules[8];
    assert_eq!(
        (deny_in.action, deny_in.guard.clone()),
        (Action::Deny, into())
    );
    assert!(at(text, deny_in.span).contains("\"DenyAllInBound\""));
    assert_eq!(rules.rules[9].guard, out_of());
}

#[test]
fn the_arm_resource_json_with_documented_defaults() {
    let text = include_str!("../../../../tests/fixtures/sources/azure-nsg/arm-resource.json");
    let rules = read_text(text).unwrap();
    assert_eq!(
        names(&rules),
        [
            "Allow-Clients-HTTPS",
            "Deny-SMB-From-Clients",
            "Allow-PXE",
            "AllowVnetInBound",
            "AllowVnetOutBound",
            "AllowInternetOutBound",
            "DenyAllInBound",
            "DenyAllOutBound",
        ]
    );
    assert_eq!(
        ports(rules.rules[0].traffic.tcp.as_ref()).as_deref(),
        Some("80,443")
    );
    // The documented defaults point at the NSG's name.
    let deny = &rules.rules[6];
    assert_eq!(at(text, deny.span), "\"nsg-snet-sitesystems\"");
    assert_eq!(deny.action, Action::Deny);
    assert!(deny.traffic.matches_all_protocols());
    assert_eq!(endpoints(&deny.traffic.from), ["any"]);
}

#[test]
fn powershell_convertto_json_spellings() {
    // Get-AzNetworkSecurityGroup | ConvertTo-Json: PascalCase, lists for ranges and
    // prefixes, one-item lists unwrapped; numeric enums from other scripts.
    let text = r#"{
  "Name": "nsg-ps",
  "SecurityRules": [
    {"Name": "rdp", "Protocol": "TCP", "SourcePortRange": ["*"], "DestinationPortRange": ["3389", "5985-5986"],
     "SourceAddressPrefix": ["10.10.0.0/16"], "DestinationAddressPrefix": "*", "Access": "Allow", "Priority": 300, "Direction": "Inbound"},
    {"Name": "numeric", "Protocol": "Icmp", "SourcePortRange": "*", "DestinationPortRange": "*",
     "SourceAddressPrefix": "Any", "DestinationAddressPrefix": "*", "Access": 1, "Priority": "310", "Direction": 0}
  ]
}"#;
    let rules = read_text(text).unwrap();
    let rdp = &rules.rules[0];
    assert_eq!(
        ports(rdp.traffic.tcp.as_ref()).as_deref(),
        Some("3389,5985-5986")
    );
    assert_eq!(endpoints(&rdp.traffic.from), ["cidr:10.10.0.0/16"]);
    let icmp = &rules.rules[1];
    assert_eq!((icmp.action, icmp.guard.clone()), (Action::Deny, into()));
    assert!(icmp.traffic.icmp && icmp.traffic.tcp.is_none() && icmp.traffic.udp.is_none());
    assert_eq!(endpoints(&icmp.traffic.from), ["any"]);
}

/// An NSG with one rule `r`: `*` everywhere, Inbound Allow, with `fields` (JSON
/// members) replacing or adding to those.
fn one_rule(fields: &[(&str, &str)]) -> String {
    let mut members: Vec<(String, String)> = [
        ("name", "\"r\""),
        ("priority", "100"),
        ("direction", "\"Inbound\""),
        ("access", "\"Allow\""),
        ("protocol", "\"*\""),
        ("sourcePortRange", "\"*\""),
        ("destinationPortRange", "\"*\""),
        ("sourceAddressPrefix", "\"*\""),
        ("destinationAddressPrefix", "\"*\""),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in fields {
        match members.iter_mut().find(|(key, _)| key == k) {
            Some(m) => m.1 = v.to_string(),
            None => members.push((k.to_string(), v.to_string())),
        }
    }
    let rule: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v}"))
        .collect();
    format!(
        r#"{{"name": "nsg", "securityRules": [{{{}}}], "defaultSecurityRules": []}}"#,
        rule.join(", ")
    )
}

#[test]
fn protocols_and_ports() {
    // `*` with ports: TCP and UDP on those ports (ICMP has none).
    let text = one_rule(&[
        ("destinationPortRanges", r#"["53"]"#),
        ("destinationPortRange", "null"),
    ]);
    let r = &read_text(&text).unwrap().rules[0];
    assert_eq!(
        (
            ports(r.traffic.tcp.as_ref()),
            ports(r.traffic.udp.as_ref()),
            r.traffic.icmp
        ),
        (Some("53".into()), Some("53".into()), false)
    );
    // 0-65535 is every port.
    let text = one_rule(&[
        ("destinationPortRanges", r#"["0-65535"]"#),
        ("destinationPortRange", "null"),
    ]);
    assert!(
        read_text(&text).unwrap().rules[0]
            .traffic
            .matches_all_protocols()
    );
    // Esp and Ah: no required flow.
    let text = one_rule(&[("protocol", r#""Esp""#)]);
    let rules = read_text(&text).unwrap();
    assert!(!names(&rules).contains(&"r"));
}

#[test]
fn source_ports_against_the_ephemeral_range() {
    let rules_for = |sport: &str| {
        let text = one_rule(&[
            ("sourcePortRanges", &format!("[{sport}]")),
            ("sourcePortRange", "null"),
        ]);
        let rules = read_text(&text).unwrap();
        (
            rules
                .rules
                .iter()
                .any(|r| r.name.as_ref().unwrap().value == "r"),
            rules.rules.first().and_then(|r| r.uncertain).is_some(),
            rules.unsupported.len(),
        )
    };
    assert_eq!(rules_for(r#""1024-65535""#), (true, false, 0));
    assert_eq!(rules_for(r#""53""#), (false, false, 0));
    assert_eq!(rules_for(r#""60000-65535""#), (true, true, 1));
}

#[test]
fn tags_groups_and_load_balancer() {
    let text = one_rule(&[
        (
            "sourceApplicationSecurityGroups",
            r#"[{"id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/applicationSecurityGroups/asg-web"}]"#,
        ),
        ("sourceAddressPrefix", "null"),
    ]);
    let rules = read_text(&text).unwrap();
    assert_eq!(
        rules.unsupported[0].construct,
        "application security group `asg-web`"
    );
    assert!(rules.rules[0].uncertain.is_some());
    assert_eq!(endpoints(&rules.rules[0].traffic.from), ["any"]);
    // AzureLoadBalancer in a custom rule is an unsupported tag.
    let text = one_rule(&[("destinationAddressPrefix", r#""AzureLoadBalancer""#)]);
    let rules = read_text(&text).unwrap();
    assert_eq!(
        rules.unsupported[0].construct,
        "service tag `AzureLoadBalancer`"
    );
    assert_eq!(
        at(&text, rules.unsupported[0].span),
        "\"AzureLoadBalancer\""
    );
}

#[test]
fn malformed_rules_are_parse_errors() {
    let e = read_text(&one_rule(&[("direction", r#""Sideways""#)])).unwrap_err();
    assert!(e.message.contains("direction"), "{e:?}");
    let text = one_rule(&[("destinationPortRange", r#""80-x""#)]);
    let e = read_text(&text).unwrap_err();
    assert!(e.message.contains("is not a port"), "{e:?}");
    let text = one_rule(&[("sourceAddressPrefix", r#""10.0.0.300/8""#)]);
    let e = read_text(&text).unwrap_err();
    assert_eq!(at(&text, e.span.unwrap()), "\"10.0.0.300/8\"");
    let e = read_text(r#"{"name": "nsg", "securityRules": [{"name": "r"}]}"#).unwrap_err();
    assert_eq!(e.message, "this security rule has no `priority`");
    let e = read_text("[1, 2]").unwrap_err();
    assert!(e.message.contains("a security rule is an object"), "{e:?}");
    let e = read_text(r#"[{"securityRules": []}, {"securityRules": []}]"#).unwrap_err();
    assert!(e.message.contains("2 network security groups"));
    let e = read_text("\"nsg\"").unwrap_err();
    assert!(e.message.contains("found a string"));
}

#[test]
fn attached_is_required() {
    let zones = zones();
    let e = read(&SourceInput {
        id: SourceId(0),
        text: "{}",
        path: Path::new("nsg.json"),
        zones: &zones,
        attached: None,
    })
    .unwrap_err();
    assert!(e.message.contains("attached="), "{e:?}");
}

#[test]
fn a_rule_list_reads_with_the_documented_defaults() {
    // `az network nsg rule list`: the rules only.
    let text = r#"[{"name": "r", "priority": 100, "direction": "Outbound", "access": "Deny", "protocol": "Udp", "sourceAddressPrefix": "*", "destinationAddressPrefix": "VirtualNetwork", "sourcePortRange": "*", "destinationPortRange": "1434"}]"#;
    let rules = read_text(text).unwrap();
    assert_eq!(names(&rules)[0], "r");
    assert_eq!(rules.rules.len(), 6);
    assert_eq!(rules.rules[0].guard, out_of());
    assert_eq!(
        endpoints(&rules.rules[0].traffic.to),
        ["zone:sitesystems", "zone:clients"]
    );
    // The defaults' span: the whole array (no NSG name).
    assert_eq!(rules.rules[1].span, rules.rules[5].span);
}

#[test]
fn one_rule_object_reads_as_a_list_of_one() {
    let text = r#"{"name": "r", "priority": 100, "direction": "Inbound", "access": "Deny", "protocol": "Tcp", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "sourcePortRange": "*", "destinationPortRange": "445"}"#;
    let rules = read_text(text).unwrap();
    assert_eq!(names(&rules)[0], "r");
    assert_eq!(rules.rules.len(), 6);
}

#[test]
fn five_thousand_rules() {
    let rules: Vec<String> = (0..5000)
        .map(|i| {
            format!(
                r#"{{"name": "r{i}", "priority": {}, "direction": "{}", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "10.{}.{}.0/24", "destinationAddressPrefix": "*", "sourcePortRange": "*", "destinationPortRange": "{}"}}"#,
                100 + i / 2,
                if i % 2 == 0 { "Inbound" } else { "Outbound" },
                i / 256,
                i % 256,
                1000 + i
            )
        })
        .collect();
    let text = format!(
        r#"{{"name": "big", "securityRules": [{}]}}"#,
        rules.join(",\n")
    );
    let start = std::time::Instant::now();
    let read = read_text(&text).unwrap();
    eprintln!("azure-nsg-json: 5000 rules read in {:?}", start.elapsed());
    assert_eq!(read.rules.len(), 5005);
}

#[test]
fn without_zones_virtual_network_is_unsupported() {
    // `cmflow import` reads a file with no firewall around it: no zones.
    let text = include_str!("../../../../tests/fixtures/sources/azure-nsg/arm-resource.json");
    let rules = read(&SourceInput {
        id: SourceId(0),
        text,
        path: Path::new("nsg.json"),
        zones: &[],
        attached: Some("sitesystems"),
    })
    .unwrap();
    let vnet = rules
        .rules
        .iter()
        .find(|r| r.name.as_ref().unwrap().value == "AllowVnetInBound")
        .unwrap();
    assert_eq!(endpoints(&vnet.traffic.from), ["any"]);
    assert!(vnet.uncertain.is_some());
    assert_eq!(rules.unsupported.len(), 1);
    assert_eq!(
        rules.unsupported[0].construct,
        "service tag `VirtualNetwork` (the firewall names no zones)"
    );
    let text = one_rule(&[("sourceAddressPrefix", r#""VirtualNetwork""#)]);
    let rules = read(&SourceInput {
        id: SourceId(0),
        text: &text,
        path: Path::new("nsg.json"),
        zones: &[],
        attached: Some("sitesystems"),
    })
    .unwrap();
    assert!(rules.rules[0].uncertain.is_some());
}

#[test]
fn a_shallow_convertto_json_export_says_how_to_fix_it() {
    let text = r#"{"Name": "nsg", "SecurityRules": ["Microsoft.Azure.Commands.Network.Models.PSSecurityRule"]}"#;
    let e = read_text(text).unwrap_err();
    assert_eq!(e.message, "a security rule is an object, found a string");
    assert_eq!(
        e.help.as_deref(),
        Some("export with `ConvertTo-Json -Depth 10`")
    );
}

#[test]
fn a_list_of_one_nsg_reads_as_that_nsg() {
    // `az network nsg list` filtered to one NSG.
    let text = format!(
        "[{}]",
        include_str!("../../../../tests/fixtures/sources/azure-nsg/arm-resource.json")
    );
    let rules = read_text(&text).unwrap();
    assert_eq!(names(&rules)[0], "Allow-Clients-HTTPS");
    assert_eq!(rules.rules.len(), 8);
}
