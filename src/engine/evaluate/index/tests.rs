//! The index decides exactly as the scan it replaced: same verdicts, same decisions in the
//! same order, on random firewalls and flows.

use std::fmt::Write as _;

use proptest::prelude::*;

use super::super::scan;
use super::*;
use crate::engine::{Phase, required_flows};
use crate::model::{Model, RuleGuard};

/// Ports where rules and flows meet often: around the well-known ones and at the edges
/// of the default and the servers' own RPC ranges.
const PORTS: &[u16] = &[
    1, 79, 80, 81, 135, 443, 1000, 49151, 49152, 49200, 50000, 50050, 50100, 50101, 65534, 65535,
];

const ENDPOINTS: &[&str] = &[
    "any",
    "zone:a",
    "zone:b",
    "zone:c",
    "host:a1.contoso.com",
    "host:a2.contoso.com",
    "host:b1.contoso.com",
    "host:c1.contoso.com",
    // Hosts without an address make these unknown.
    "cidr:10.1.0.0/24",
    "cidr:10.2.0.0/16",
    "cidr:10.0.0.0/8",
    "cidr:10.3.0.4/30",
];

const SERVERS: &[&str] = &[
    "a1.contoso.com",
    "a2.contoso.com",
    "b1.contoso.com",
    "b2.contoso.com",
    "c1.contoso.com",
];

const MODEL: &str = r#"
zone "a" { subnet "10.1.0.0/16" }
zone "b" { subnet "10.2.0.0/16" }
zone "c" { subnet "10.3.0.0/16" }
server "a1.contoso.com" zone="a" address="10.1.0.1"
server "a2.contoso.com" zone="a"
server "b1.contoso.com" zone="b" address="10.2.0.1" rpc-ports="50000-50100"
server "b2.contoso.com" zone="b"
server "c1.contoso.com" zone="c" address="10.3.0.5" rpc-ports="49152-49200" {
    windows-firewall {
        block in "no 135" tcp="135"
        allow in "web" tcp="80,443,rpc"
    }
}
"#;

fn port() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => proptest::sample::select(PORTS),
        1 => 1u16..=65535,
    ]
}

fn port_item() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => port().prop_map(|p| p.to_string()),
        3 => (port(), port()).prop_map(|(a, b)| if a == b {
            a.to_string()
        } else {
            format!("{}-{}", a.min(b), a.max(b))
        }),
        1 => Just("rpc".to_string()),
    ]
}

fn port_list() -> impl Strategy<Value = String> {
    proptest::collection::vec(port_item(), 1..4).prop_map(|items| items.join(","))
}

fn endpoints() -> impl Strategy<Value = Option<String>> {
    proptest::option::weighted(
        0.7,
        proptest::collection::vec(proptest::sample::select(ENDPOINTS), 1..3)
            .prop_map(|items| items.join(",")),
    )
}

/// `tcp=` / `udp=` / `icmp=` of a rule or flow; none of them: every protocol.
fn protocols(allow_none: bool) -> impl Strategy<Value = String> {
    (
        proptest::option::weighted(0.6, port_list()),
        proptest::option::weighted(0.3, port_list()),
        proptest::bool::weighted(0.15),
    )
        .prop_map(move |(tcp, udp, icmp)| {
            let mut s = String::new();
            if let Some(tcp) = tcp {
                write!(s, " tcp=\"{tcp}\"").expect("a string");
            }
            if let Some(udp) = udp {
                write!(s, " udp=\"{udp}\"").expect("a string");
            }
            if icmp || (!allow_none && s.is_empty()) {
                s.push_str(" icmp=#true");
            }
            s
        })
}

/// A rule's text, and whether the model makes it uncertain and which guard it gets.
#[derive(Clone, Debug)]
struct RuleCase {
    text: String,
    uncertain: bool,
    guard: u8,
}

fn rule() -> impl Strategy<Value = RuleCase> {
    (
        proptest::bool::weighted(0.3),
        endpoints(),
        endpoints(),
        protocols(true),
        proptest::bool::weighted(0.1),
        0u8..6,
    )
        .prop_map(|(deny, from, to, protocols, uncertain, guard)| {
            let mut text = if deny { "deny" } else { "allow" }.to_string();
            if let Some(from) = from {
                write!(text, " from=\"{from}\"").expect("a string");
            }
            if let Some(to) = to {
                write!(text, " to=\"{to}\"").expect("a string");
            }
            text.push_str(&protocols);
            RuleCase {
                text,
                uncertain,
                guard,
            }
        })
}

fn firewall(name: &str, zones: &str, default_allow: bool, rules: &[RuleCase]) -> String {
    let default = if default_allow { "allow" } else { "deny" };
    let mut body = String::new();
    for r in rules {
        writeln!(body, "    {}", r.text).expect("a string");
    }
    format!("firewall \"{name}\" default=\"{default}\" {{\n    zones {zones}\n{body}}}\n")
}

fn flow() -> impl Strategy<Value = String> {
    (0..SERVERS.len(), 1..SERVERS.len(), protocols(false)).prop_map(|(a, shift, protocols)| {
        let b = (a + shift) % SERVERS.len();
        format!(
            "from=\"host:{}\" to=\"host:{}\"{protocols}",
            SERVERS[a], SERVERS[b]
        )
    })
}

fn edit(model: &mut Model, rules: &[&[RuleCase]]) {
    for (fw, cases) in model.firewalls.iter_mut().zip(rules) {
        for (rule, case) in fw.rules.iter_mut().zip(cases.iter()) {
            if case.uncertain {
                rule.uncertain = Some(rule.span);
            }
            rule.guard = match case.guard {
                0 => RuleGuard::IntoZone("b".into()),
                1 => RuleGuard::OutOfZone("a".into()),
                _ => RuleGuard::Always,
            };
        }
    }
}

/// Every verdict with its route and decisions, by the index and by the scan. The index
/// decides each flow by its pair's candidates or by ports, whichever costs less; both
/// ways, each forced for every flow, must decide as the scan too.
fn both(model: &Model) -> (Vec<String>, Vec<String>) {
    let flows = required_flows(model, &[Phase::Operation]);
    let net = Network::new(model);
    let show = |v: Vec<crate::engine::FlowVerdict>| -> Vec<String> {
        v.iter()
            .map(|v| format!("{:?} {:?} {:?}", v.verdict, v.route, v.decisions))
            .collect()
    };
    let scanned = show(scan::evaluate(&net, &flows));
    for forced in [true, false] {
        let mut index = RuleIndex::new(&net);
        index.force = Some(forced);
        let indexed = show(super::super::evaluate_with(&net, &flows, &mut index));
        assert_eq!(
            indexed,
            scanned,
            "decided by {}",
            if forced { "candidates" } else { "ports" }
        );
    }
    (show(super::super::evaluate(&net, &flows)), scanned)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Two firewalls in a row (a-b, b-c), rules with overlapping ports, `rpc`, unknown
    /// matches, guards and deny rules; more than 64 rules at times, so that bit sets take
    /// several words and flows cross many elementary intervals.
    #[test]
    fn the_index_decides_as_the_scan(
        first in proptest::collection::vec(rule(), 0..90),
        second in proptest::collection::vec(rule(), 0..12),
        defaults in (any::<bool>(), any::<bool>()),
        flows in proptest::collection::vec(flow(), 1..12),
    ) {
        let mut kdl = MODEL.to_string();
        kdl.push_str(&firewall("fw-ab", "\"a\" \"b\"", defaults.0, &first));
        kdl.push_str(&firewall("fw-bc", "\"b\" \"c\"", defaults.1, &second));
        for (i, f) in flows.iter().enumerate() {
            writeln!(kdl, "flow \"f{i}\" {f}").expect("a string");
        }
        let mut model = crate::engine::test_model(&kdl);
        edit(&mut model, &[&first, &second]);
        let (indexed, scanned) = both(&model);
        prop_assert!(!scanned.is_empty());
        prop_assert_eq!(indexed, scanned);
    }
}

/// A firewall of more rules than one stored set spans: flows start between checkpoints,
/// and a first match found in the last word of a set.
#[test]
fn many_boundaries_and_rules_in_later_words() {
    let mut kdl = MODEL.to_string();
    kdl.push_str("firewall \"fw\" default=\"deny\" {\n    zones \"a\" \"b\"\n");
    for i in 0..200u32 {
        let port = 2000 + 7 * i;
        let action = if i % 3 == 0 { "deny" } else { "allow" };
        writeln!(kdl, "    {action} tcp=\"{port}-{}\"", port + 10).expect("a string");
    }
    kdl.push_str("    allow from=\"zone:a\" tcp=\"1-65535\"\n}\n");
    kdl.push_str(
        "flow \"f\" from=\"host:a1.contoso.com\" to=\"host:b1.contoso.com\" tcp=\"1999-3500,2500,3390,rpc\"\n",
    );
    kdl.push_str(
        "flow \"g\" from=\"host:b1.contoso.com\" to=\"host:a2.contoso.com\" tcp=\"2345\"\n",
    );
    let model = crate::engine::test_model(&kdl);
    let (indexed, scanned) = both(&model);
    assert!(indexed.len() >= 3, "{indexed:#?}");
    assert_eq!(indexed, scanned);
    // The last rule (index 200, in the fourth word) decides what no range covers.
    assert!(
        indexed.iter().any(|v| v.contains("Rule(200)")),
        "{indexed:#?}"
    );
}

/// `host:` names a server by its FQDN whatever the case, a console only as written (the
/// loader refuses a console's name in another case; the rules are edited after loading).
#[test]
fn host_items_name_servers_ignoring_case_and_consoles_exactly() {
    let kdl = r#"
zone "a" { subnet "10.1.0.0/16" }
zone "b" { subnet "10.2.0.0/16" }
site "P01" type="primary"
server "a1.contoso.com" zone="a" address="10.1.0.1"
console "PAW01" zone="b" site="P01" address="10.2.0.9"
firewall "fw" default="deny" {
    zones "a" "b"
    allow "console, other case" from="host:PAW01" to="host:a1.contoso.com" tcp="445"
    allow "console as written" from="host:PAW01" to="host:a1.contoso.com" tcp="445"
    allow "to the console, other case" from="host:a1.contoso.com" to="host:PAW01" tcp="80"
    allow "to the console as written" from="host:a1.contoso.com" to="host:PAW01" tcp="80"
}
flow "admin" from="host:PAW01" to="host:a1.contoso.com" tcp="445"
flow "back" from="host:a1.contoso.com" to="host:PAW01" tcp="80"
"#;
    let mut model = crate::engine::test_model(kdl);
    let rules = &mut model.firewalls[0].rules;
    let host = |name: &str| crate::model::Endpoint::Host(name.into());
    rules[0].traffic.from[0].value = host("paw01");
    rules[1].traffic.to[0].value = host("A1.Contoso.COM");
    rules[2].traffic.from[0].value = host("A1.CONTOSO.COM");
    rules[2].traffic.to[0].value = host("Paw01");
    rules[3].traffic.from[0].value = host("a1.CONTOSO.com");
    let (indexed, scanned) = both(&model);
    assert_eq!(indexed, scanned);
    // The console's own required flows (to the Internet) have no path here.
    let through: Vec<&String> = indexed.iter().filter(|v| v.contains("Through")).collect();
    assert_eq!(through.len(), 2, "{indexed:#?}");
    assert!(
        through[0].starts_with("Allowed") && through[0].contains("by: Rule(3)"),
        "{through:#?}"
    );
    assert!(
        through[1].starts_with("Allowed") && through[1].contains("by: Rule(1)"),
        "{through:#?}"
    );
}
