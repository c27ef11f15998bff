use std::fmt::Write as _;
use std::path::Path;

use super::*;
use crate::model::SourceId;

fn read_text(text: &str) -> Result<NetworkRules, SourceError> {
    read(&SourceInput {
        id: SourceId(0),
        text,
        path: Path::new("ruleset.json"),
        zones: &[],
        attached: None,
    })
}

fn at(text: &str, span: Span) -> &str {
    &text[span.start..span.end]
}

/// A ruleset of one `inet filter forward` chain with these rules (expr arrays).
fn one_chain(policy: &str, rules: &[&str]) -> String {
    let mut objects = vec![format!(
        r#"{{"chain": {{"family": "inet", "table": "filter", "name": "forward", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "{policy}"}}}}"#
    )];
    for (i, expr) in rules.iter().enumerate() {
        objects.push(format!(
            r#"{{"rule": {{"family": "inet", "table": "filter", "chain": "forward", "handle": {}, "expr": {expr}}}}}"#,
            i + 2
        ));
    }
    format!("{{\"nftables\": [\n{}\n]}}", objects.join(",\n"))
}

const SADDR: &str = r#"{"payload": {"protocol": "ip", "field": "saddr"}}"#;
const DADDR: &str = r#"{"payload": {"protocol": "ip", "field": "daddr"}}"#;
const TCP_DPORT: &str = r#"{"payload": {"protocol": "tcp", "field": "dport"}}"#;

fn m(left: &str, op: &str, right: &str) -> String {
    format!(r#"{{"match": {{"op": "{op}", "left": {left}, "right": {right}}}}}"#)
}

fn expr(parts: &[&str]) -> String {
    format!("[{}]", parts.join(", "))
}

fn endpoints(list: &[Spanned<Endpoint>]) -> Vec<String> {
    list.iter().map(|e| e.value.to_string()).collect()
}

fn ports(p: Option<&Spanned<PortList>>) -> Option<String> {
    p.map(|p| p.value.to_string())
}

#[test]
fn the_fixture_reads_as_one_chain_with_its_jump_inlined() {
    let text = include_str!("../../../../tests/fixtures/sources/nftables/router.json");
    let rules = read_text(text).unwrap();
    // ct state vmap: established/related/invalid never match a new connection; rule 7
    // jumps to `configmgr` (3 rules); rule 8 matches an interface; rule 9 drops.
    let names: Vec<Option<&str>> = rules
        .rules
        .iter()
        .map(|r| r.name.as_ref().map(|n| n.value.as_str()))
        .collect();
    assert_eq!(
        names,
        [Some("HTTP and HTTPS"), Some("SMB"), None, None, None]
    );
    let http = &rules.rules[0];
    assert_eq!(http.action, Action::Allow);
    assert!(at(text, http.span).starts_with("{\n      \"rule\": {"));
    assert!(at(text, http.span).contains("\"handle\": 10"));
    assert_eq!(endpoints(&http.traffic.from), ["cidr:10.10.0.0/16"]);
    assert_eq!(
        endpoints(&http.traffic.to),
        ["cidr:10.1.0.0/24", "cidr:10.2.0.10/32"]
    );
    assert_eq!(ports(http.traffic.tcp.as_ref()).as_deref(), Some("80,443"));
    assert_eq!(http.traffic.udp, None);
    assert_eq!(http.uncertain, None);
    assert_eq!(rules.rules[1].action, Action::Deny, "reject is a deny");
    assert_eq!(
        ports(rules.rules[2].traffic.udp.as_ref()).as_deref(),
        Some("67-69")
    );
    // The interface match: uncertain, reported where it is written.
    let iface = &rules.rules[3];
    assert_eq!(iface.action, Action::Allow);
    let u = iface.uncertain.unwrap();
    assert!(at(text, u).contains("\"oifname\""), "{}", at(text, u));
    assert_eq!(rules.unsupported.len(), 1, "{:?}", rules.unsupported);
    assert_eq!(rules.unsupported[0].construct, "interface match `oifname`");
    assert!(rules.rules[4].traffic.matches_all_protocols());
    let default = rules.default.unwrap();
    assert_eq!(default.value, Action::Deny);
    assert_eq!(at(text, default.span), "\"drop\"");
    // The input chain (iifname lo) is not read.
    assert!(
        !rules
            .unsupported
            .iter()
            .any(|u| at(text, u.span).contains("\"lo\""))
    );
}

#[test]
fn addresses_prefixes_ranges_and_sets() {
    let text = one_chain(
        "accept",
        &[&expr(&[
            &m(SADDR, "==", r#"{"range": ["10.0.0.0", "10.0.1.255"]}"#),
            &m(
                DADDR,
                "in",
                r#"{"set": ["10.9.0.1", {"prefix": {"addr": "10.8.0.0", "len": 16}}]}"#,
            ),
            r#"{"drop": null}"#,
        ])],
    );
    let rules = read_text(&text).unwrap();
    let r = &rules.rules[0];
    assert_eq!(endpoints(&r.traffic.from), ["cidr:10.0.0.0/23"]);
    assert_eq!(
        at(&text, r.traffic.from[0].span),
        r#"{"range": ["10.0.0.0", "10.0.1.255"]}"#
    );
    assert_eq!(
        endpoints(&r.traffic.to),
        ["cidr:10.9.0.1/32", "cidr:10.8.0.0/16"]
    );
    assert_eq!(at(&text, r.traffic.to[0].span), "\"10.9.0.1\"");
    assert!(r.traffic.matches_all_protocols());
    assert_eq!(rules.default.unwrap().value, Action::Allow);
}

#[test]
fn not_equal_is_the_complement() {
    let text = one_chain(
        "drop",
        &[
            &expr(&[
                &m(
                    SADDR,
                    "!=",
                    r#"{"prefix": {"addr": "128.0.0.0", "len": 1}}"#,
                ),
                r#"{"accept": null}"#,
            ]),
            &expr(&[
                &m(TCP_DPORT, "!=", r#"{"range": [1, 1023]}"#),
                r#"{"accept": null}"#,
            ]),
        ],
    );
    let rules = read_text(&text).unwrap();
    assert_eq!(endpoints(&rules.rules[0].traffic.from), ["cidr:0.0.0.0/1"]);
    assert_eq!(
        ports(rules.rules[1].traffic.tcp.as_ref()).as_deref(),
        Some("1024-65535")
    );
}

#[test]
fn protocols_icmp_and_l4proto() {
    let text = one_chain(
        "drop",
        &[
            &expr(&[
                &m(r#"{"meta": {"key": "l4proto"}}"#, "==", r#""udp""#),
                r#"{"accept": null}"#,
            ]),
            &expr(&[
                &m(
                    r#"{"payload": {"protocol": "icmp", "field": "type"}}"#,
                    "==",
                    r#""echo-request""#,
                ),
                r#"{"accept": null}"#,
            ]),
            // Never a required flow: skipped.
            &expr(&[
                &m(
                    r#"{"payload": {"protocol": "icmp", "field": "type"}}"#,
                    "==",
                    r#""destination-unreachable""#,
                ),
                r#"{"accept": null}"#,
            ]),
            &expr(&[
                &m(r#"{"meta": {"key": "l4proto"}}"#, "==", r#""gre""#),
                r#"{"accept": null}"#,
            ]),
            &expr(&[
                &m(
                    r#"{"payload": {"protocol": "th", "field": "dport"}}"#,
                    "==",
                    "53",
                ),
                r#"{"accept": null}"#,
            ]),
        ],
    );
    let rules = read_text(&text).unwrap();
    assert_eq!(rules.rules.len(), 3);
    let udp = &rules.rules[0].traffic;
    assert_eq!(
        (ports(udp.tcp.as_ref()), ports(udp.udp.as_ref()), udp.icmp),
        (None, Some("1-65535".into()), false)
    );
    let icmp = &rules.rules[1].traffic;
    assert_eq!(
        (icmp.tcp.is_none(), icmp.udp.is_none(), icmp.icmp),
        (true, true, true)
    );
    let th = &rules.rules[2].traffic;
    assert_eq!(
        (ports(th.tcp.as_ref()), ports(th.udp.as_ref())),
        (Some("53".into()), Some("53".into()))
    );
}

#[test]
fn ct_state_new_matches_and_other_states_never() {
    let ct = r#"{"ct": {"key": "state"}}"#;
    let text = one_chain(
        "drop",
        &[
            &expr(&[
                &m(ct, "in", r#"["established", "related"]"#),
                r#"{"accept": null}"#,
            ]),
            &expr(&[
                &m(ct, "in", r#""new""#),
                &m(TCP_DPORT, "==", "22"),
                r#"{"accept": null}"#,
            ]),
            &expr(&[&m(ct, "!=", r#""new""#), r#"{"drop": null}"#]),
        ],
    );
    let rules = read_text(&text).unwrap();
    assert_eq!(rules.rules.len(), 1);
    assert_eq!(
        ports(rules.rules[0].traffic.tcp.as_ref()).as_deref(),
        Some("22")
    );
}

#[test]
fn source_ports_against_the_ephemeral_range() {
    let sport = r#"{"payload": {"protocol": "tcp", "field": "sport"}}"#;
    let text = one_chain(
        "drop",
        &[
            &expr(&[
                &m(sport, "==", r#"{"range": [1024, 65535]}"#),
                r#"{"accept": null}"#,
            ]),
            &expr(&[&m(sport, "==", "53"), r#"{"accept": null}"#]),
            &expr(&[
                &m(sport, "==", r#"{"range": [50000, 65535]}"#),
                r#"{"accept": null}"#,
            ]),
        ],
    );
    let rules = read_text(&text).unwrap();
    assert_eq!(rules.rules.len(), 2, "the disjoint rule never matches");
    assert_eq!(rules.rules[0].uncertain, None);
    let u = rules.rules[1].uncertain.unwrap();
    assert_eq!(at(&text, u), r#"{"range": [50000, 65535]}"#);
    assert_eq!(rules.unsupported.len(), 1);
    assert!(rules.unsupported[0].construct.contains("ephemeral"));
}

#[test]
fn unsupported_constructs_make_the_rule_uncertain() {
    let text = one_chain(
        "drop",
        &[
            &expr(&[
                &m(r#"{"meta": {"key": "iifname"}}"#, "==", r#""eth0""#),
                r#"{"accept": null}"#,
            ]),
            &expr(&[
                r#"{"limit": {"rate": 10, "per": "second"}}"#,
                r#"{"accept": null}"#,
            ]),
            &expr(&[
                &m(r#"{"meta": {"key": "mark"}}"#, "==", "1"),
                r#"{"drop": null}"#,
            ]),
            &expr(&[&m(DADDR, "==", r#""@missing""#), r#"{"accept": null}"#]),
            &expr(&[r#"{"queue": {"num": 1}}"#]),
        ],
    );
    let rules = read_text(&text).unwrap();
    let constructs: Vec<&str> = rules
        .unsupported
        .iter()
        .map(|u| u.construct.as_str())
        .collect();
    assert_eq!(
        constructs,
        [
            "interface match `iifname`",
            "`limit` (it decides whether the rule matches)",
            "match on `meta mark`",
            "set `@missing` (not in the ruleset)",
            "`queue` to userspace"
        ]
    );
    assert!(rules.rules.iter().all(|r| r.uncertain.is_some()));
    assert_eq!(at(&text, rules.unsupported[3].span), "\"@missing\"");
    assert_eq!(rules.rules[4].action, Action::Deny);
}

#[test]
fn rules_without_a_verdict_are_left_out() {
    let text = one_chain(
        "accept",
        &[
            &expr(&[r#"{"counter": {"packets": 0, "bytes": 0}}"#]),
            &expr(&[&m(TCP_DPORT, "==", "80"), r#"{"continue": null}"#]),
            &expr(&[&m(TCP_DPORT, "==", "81"), r#"{"drop": null}"#]),
        ],
    );
    let rules = read_text(&text).unwrap();
    assert_eq!(rules.rules.len(), 1);
    assert_eq!(
        ports(rules.rules[0].traffic.tcp.as_ref()).as_deref(),
        Some("81")
    );
}

/// A forward chain plus a regular chain `sub` with these rules.
fn with_sub(forward: &[&str], sub: &[&str]) -> String {
    let mut text = one_chain("drop", forward);
    text.truncate(text.len() - 3);
    text.push_str(
        r#",{"chain": {"family": "inet", "table": "filter", "name": "sub", "handle": 50}}"#,
    );
    for (i, e) in sub.iter().enumerate() {
        let _ = write!(
            text,
            r#",{{"rule": {{"family": "inet", "table": "filter", "chain": "sub", "handle": {}, "expr": {e}}}}}"#,
            60 + i
        );
    }
    text.push_str("\n]}");
    text
}

#[test]
fn jump_goto_and_return() {
    let jump = r#"{"jump": {"target": "sub"}}"#;
    let goto = r#"{"goto": {"target": "sub"}}"#;
    // jump: the rules of `sub` narrowed by the jump's match, then the forward chain goes on.
    let text = with_sub(
        &[
            &expr(&[
                &m(SADDR, "==", r#"{"prefix": {"addr": "10.0.0.0", "len": 8}}"#),
                jump,
            ]),
            &expr(&[r#"{"accept": null}"#]),
        ],
        &[&expr(&[
            &m(
                SADDR,
                "==",
                r#"{"prefix": {"addr": "10.1.0.0", "len": 16}}"#,
            ),
            r#"{"drop": null}"#,
        ])],
    );
    let rules = read_text(&text).unwrap();
    assert_eq!(rules.rules.len(), 2);
    assert_eq!(
        endpoints(&rules.rules[0].traffic.from),
        ["cidr:10.1.0.0/16"]
    );
    assert!(at(&text, rules.rules[0].span).contains("\"chain\": \"sub\""));
    // goto from the base chain: the end of `sub` is the base chain's policy.
    let text = with_sub(
        &[
            &expr(&[&m(TCP_DPORT, "==", "80"), goto]),
            &expr(&[r#"{"accept": null}"#]),
        ],
        &[&expr(&[
            &m(SADDR, "==", r#""10.0.0.1""#),
            r#"{"accept": null}"#,
        ])],
    );
    let rules = read_text(&text).unwrap();
    assert_eq!(rules.rules.len(), 3);
    assert_eq!(rules.rules[1].action, Action::Deny);
    assert_eq!(
        ports(rules.rules[1].traffic.tcp.as_ref()).as_deref(),
        Some("80")
    );
    assert_eq!(
        rules.rules[1].name.as_ref().unwrap().value,
        "policy of chain inet filter forward"
    );
    // A conditional return in a jumped-to chain: later overlapping rules are uncertain.
    let text = with_sub(
        &[&expr(&[jump])],
        &[
            &expr(&[&m(TCP_DPORT, "==", "80"), r#"{"return": null}"#]),
            &expr(&[&m(TCP_DPORT, "==", "443"), r#"{"accept": null}"#]),
            &expr(&[
                &m(TCP_DPORT, "in", r#"{"set": [80, 8080]}"#),
                r#"{"accept": null}"#,
            ]),
        ],
    );
    let rules = read_text(&text).unwrap();
    assert_eq!(rules.rules.len(), 2);
    assert_eq!(
        rules.rules[0].uncertain, None,
        "443 never meets the return on 80"
    );
    assert!(rules.rules[1].uncertain.is_some());
}

#[test]
fn jump_loops_and_missing_chains_are_parse_errors() {
    let text = with_sub(
        &[&expr(&[r#"{"jump": {"target": "sub"}}"#])],
        &[&expr(&[r#"{"jump": {"target": "sub"}}"#])],
    );
    let e = read_text(&text).unwrap_err();
    assert!(e.message.contains("jumps back into itself"), "{e:?}");
    let text = one_chain("drop", &[&expr(&[r#"{"goto": {"target": "nowhere"}}"#])]);
    let e = read_text(&text).unwrap_err();
    assert_eq!(e.message, "chain `nowhere` is not in table `inet filter`");
    assert_eq!(
        at(&text, e.span.unwrap()),
        r#"{"goto": {"target": "nowhere"}}"#
    );
}

#[test]
fn several_forward_chains_in_priority_order() {
    let text = r#"{"nftables": [
{"chain": {"family": "inet", "table": "late", "name": "fwd", "type": "filter", "hook": "forward", "prio": 10, "policy": "drop"}},
{"rule": {"family": "inet", "table": "late", "chain": "fwd", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 443}}, {"accept": null}]}},
{"chain": {"family": "inet", "table": "early", "name": "fwd", "type": "filter", "hook": "forward", "prio": "filter - 10", "policy": "drop"}},
{"rule": {"family": "inet", "table": "early", "chain": "fwd", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 23}}, {"drop": null}]}},
{"rule": {"family": "inet", "table": "early", "chain": "fwd", "expr": [{"accept": null}]}},
{"chain": {"family": "inet", "table": "noop", "name": "fwd", "type": "filter", "hook": "forward", "prio": 5}},
{"rule": {"family": "inet", "table": "noop", "chain": "fwd", "expr": [{"counter": null}, {"accept": null}]}},
{"chain": {"family": "inet", "table": "nat", "name": "post", "type": "nat", "hook": "postrouting", "prio": 100}}
]}"#;
    let rules = read_text(text).unwrap();
    // early (-10): drop 23, accept all (uncertain: `late` decides), policy drop as a
    // rule; noop (5) accepts everything and drops out; late (10): its rule and policy.
    let summary: Vec<(Action, bool, Option<String>)> = rules
        .rules
        .iter()
        .map(|r| {
            (
                r.action,
                r.uncertain.is_some(),
                ports(r.traffic.tcp.as_ref()),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (Action::Deny, false, Some("23".into())),
            (Action::Allow, true, None),
            (Action::Deny, false, None),
            (Action::Allow, false, Some("443".into())),
        ]
    );
    assert_eq!(rules.unsupported.len(), 1);
    assert!(rules.unsupported[0].construct.contains("inet early fwd"));
    let default = rules.default.unwrap();
    assert_eq!(default.value, Action::Deny);
    assert_eq!(&text[default.span.start..default.span.end], "\"drop\"");
}

#[test]
fn trailing_accepts_of_an_earlier_chain_are_exact() {
    let text = r#"{"nftables": [
{"chain": {"family": "inet", "table": "a", "name": "fwd", "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
{"rule": {"family": "inet", "table": "a", "chain": "fwd", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 23}}, {"drop": null}]}},
{"rule": {"family": "inet", "table": "a", "chain": "fwd", "expr": [{"accept": null}]}},
{"chain": {"family": "inet", "table": "b", "name": "fwd", "type": "filter", "hook": "forward", "prio": 1, "policy": "drop"}}
]}"#;
    let rules = read_text(text).unwrap();
    assert_eq!(rules.rules.len(), 1);
    assert!(rules.unsupported.is_empty());
}

#[test]
fn an_ip_family_chain_sees_ipv4_only() {
    let text = r#"{"nftables": [
{"chain": {"family": "ip", "table": "filter", "name": "FORWARD", "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}},
{"rule": {"family": "ip", "table": "filter", "chain": "FORWARD", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"accept": null}]}}
]}"#;
    let rules = read_text(text).unwrap();
    assert_eq!(rules.rules.len(), 2);
    assert_eq!(endpoints(&rules.rules[0].traffic.from), ["cidr:0.0.0.0/0"]);
    assert_eq!(rules.rules[1].action, Action::Deny);
    assert_eq!(endpoints(&rules.rules[1].traffic.from), ["cidr:0.0.0.0/0"]);
    assert_eq!(rules.default.unwrap().value, Action::Allow);
}

#[test]
fn no_forward_chain_forwards_everything() {
    let rules = read_text(r#"{"nftables": [{"metainfo": {"version": "1.0.9"}}]}"#).unwrap();
    assert!(rules.rules.is_empty());
    assert_eq!(rules.default.unwrap().value, Action::Allow);
}

#[test]
fn malformed_files_are_parse_errors() {
    let e = read_text(r#"{"tables": []}"#).unwrap_err();
    assert!(e.message.contains("`nftables` array"), "{e:?}");
    assert!(e.help.is_some());
    let e = read_text("{\"nftables\": [}").unwrap_err();
    assert!(e.message.starts_with("invalid JSON"));
    let text = r#"{"nftables": [{"chain": {"family": "inet", "table": "t", "name": "f", "hook": "forward", "policy": "reject"}}]}"#;
    let e = read_text(text).unwrap_err();
    assert_eq!(
        &text[e.span.unwrap().start..e.span.unwrap().end],
        "\"reject\""
    );
    let e = read_text(r#"{"nftables": [{"rule": {"family": "inet", "chain": "f"}}]}"#).unwrap_err();
    assert_eq!(e.message, "this object needs a string `table`");
}

#[test]
fn the_compact_output_of_nft_reads_too() {
    let text = include_str!("../../../../tests/fixtures/sources/nftables/compact.json");
    let rules = read_text(text).unwrap();
    assert_eq!(rules.rules.len(), 2);
    assert_eq!(
        ports(rules.rules[0].traffic.tcp.as_ref()).as_deref(),
        Some("10123")
    );
    assert_eq!(rules.default.unwrap().value, Action::Deny);
}

#[test]
fn an_unconditional_return_ends_the_chain() {
    // In the base chain: the policy decides everything after it.
    let text = one_chain(
        "drop",
        &[
            &expr(&[&m(TCP_DPORT, "==", "22"), r#"{"accept": null}"#]),
            &expr(&[r#"{"return": null}"#]),
            &expr(&[r#"{"accept": null}"#]),
        ],
    );
    let rules = read_text(&text).unwrap();
    assert_eq!(rules.rules.len(), 2);
    assert_eq!(rules.rules[1].action, Action::Deny);
    assert!(at(&text, rules.rules[1].span).contains("\"return\""));
    // In a jumped-to chain: the rest of that chain is skipped, the caller goes on.
    let text = with_sub(
        &[
            &expr(&[r#"{"jump": {"target": "sub"}}"#]),
            &expr(&[&m(TCP_DPORT, "==", "443"), r#"{"accept": null}"#]),
        ],
        &[
            &expr(&[r#"{"return": null}"#]),
            &expr(&[r#"{"drop": null}"#]),
        ],
    );
    let rules = read_text(&text).unwrap();
    assert_eq!(rules.rules.len(), 1);
    assert_eq!(
        ports(rules.rules[0].traffic.tcp.as_ref()).as_deref(),
        Some("443")
    );
    assert!(rules.unsupported.is_empty());
}

#[test]
fn five_thousand_rules() {
    let rules: Vec<String> = (0..5000)
        .map(|i| {
            expr(&[
                &m(
                    SADDR,
                    "==",
                    &format!(
                        r#"{{"prefix": {{"addr": "10.{}.{}.0", "len": 24}}}}"#,
                        i / 256,
                        i % 256
                    ),
                ),
                &m(TCP_DPORT, "==", &(1000 + i).to_string()),
                r#"{"counter": {"packets": 0, "bytes": 0}}"#,
                r#"{"accept": null}"#,
            ])
        })
        .collect();
    let refs: Vec<&str> = rules.iter().map(String::as_str).collect();
    let text = one_chain("drop", &refs);
    let start = std::time::Instant::now();
    let read = read_text(&text).unwrap();
    eprintln!("nftables-json: 5000 rules read in {:?}", start.elapsed());
    assert_eq!(read.rules.len(), 5000);
}

#[test]
fn jump_fan_out_is_bounded() {
    // c0 jumps 10 times into c1, which jumps 10 times into c2... 10^8 visits.
    let mut objects = vec![
        r#"{"chain": {"family": "inet", "table": "t", "name": "forward", "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}"#.to_owned(),
        r#"{"rule": {"family": "inet", "table": "t", "chain": "forward", "expr": [{"jump": {"target": "c0"}}]}}"#.to_owned(),
    ];
    for level in 0..8 {
        objects.push(format!(
            r#"{{"chain": {{"family": "inet", "table": "t", "name": "c{level}"}}}}"#
        ));
        for _ in 0..10 {
            objects.push(format!(
                r#"{{"rule": {{"family": "inet", "table": "t", "chain": "c{level}", "expr": [{{"jump": {{"target": "c{}"}}}}]}}}}"#,
                level + 1
            ));
        }
    }
    objects.push(r#"{"chain": {"family": "inet", "table": "t", "name": "c8"}}"#.to_owned());
    objects.push(
        r#"{"rule": {"family": "inet", "table": "t", "chain": "c8", "expr": [{"accept": null}]}}"#
            .to_owned(),
    );
    let text = format!("{{\"nftables\": [{}]}}", objects.join(",\n"));
    let e = read_text(&text).unwrap_err();
    assert!(e.message.contains("more than 200000 rules"), "{e:?}");
}

#[test]
fn rule_visits_are_bounded() {
    // Jumps that multiply visits but add no rule (the leaves only count).
    let text = with_sub(
        &[
            &expr(&[r#"{"jump": {"target": "sub"}}"#]),
            &expr(&[r#"{"jump": {"target": "sub"}}"#]),
        ],
        &[&expr(&[r#"{"counter": null}"#])],
    );
    let doc = json::parse(SourceId(0), &text).unwrap();
    let objects = doc.get("nftables").and_then(JsonNode::as_array).unwrap();
    let ruleset = Ruleset::collect(objects).unwrap();
    let base = ruleset.chains.iter().find(|c| c.name == "forward").unwrap();
    // Two jumps, one rule each, plus the two jump rules: four visits.
    ruleset.visits.set(4);
    assert!(ruleset.flatten_base(base, &mut Vec::new()).is_ok());
    ruleset.visits.set(3);
    let Err(e) = ruleset.flatten_base(base, &mut Vec::new()) else {
        panic!("the visits should run out");
    };
    assert!(e.message.contains("more than 2000000 rules"), "{e:?}");
    assert!(at(&text, e.span.unwrap()).contains("\"chain\": \"sub\""));
}

#[test]
fn an_ip_family_chain_with_an_accept_policy_keeps_it_as_the_default() {
    let text = r#"{"nftables": [
{"chain": {"family": "ip", "table": "filter", "name": "FORWARD", "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
{"rule": {"family": "ip", "table": "filter", "chain": "FORWARD", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 23}}, {"drop": null}]}}
]}"#;
    let rules = read_text(text).unwrap();
    assert_eq!(rules.rules.len(), 1);
    let default = rules.default.unwrap();
    assert_eq!(
        (default.value, at(text, default.span)),
        (Action::Allow, "\"accept\"")
    );
}

#[test]
fn more_match_forms() {
    let l4 = r#"{"meta": {"key": "l4proto"}}"#;
    let nfproto = r#"{"meta": {"key": "nfproto"}}"#;
    let icmpv6 = r#"{"payload": {"protocol": "icmpv6", "field": "type"}}"#;
    let text = one_chain(
        "drop",
        &[
            // `!= tcp`: UDP and ICMP (and protocols the model has none of).
            &expr(&[&m(l4, "!=", r#""tcp""#), r#"{"accept": null}"#]),
            &expr(&[&m(nfproto, "==", r#""ipv6""#), r#"{"drop": null}"#]),
            &expr(&[&m(icmpv6, "==", "128"), r#"{"accept": null}"#]),
            &expr(&[&m(TCP_DPORT, "<", "1024"), r#"{"accept": null}"#]),
            &expr(&[
                &m(r#"{"ct": {"key": "state"}}"#, "in", r#""bogus""#),
                r#"{"accept": null}"#,
            ]),
        ],
    );
    let rules = read_text(&text).unwrap();
    let t = &rules.rules[0].traffic;
    assert_eq!(
        (t.tcp.is_none(), ports(t.udp.as_ref()).as_deref(), t.icmp),
        (true, Some("1-65535"), true)
    );
    assert_eq!(endpoints(&rules.rules[1].traffic.from), ["cidr:::/0"]);
    assert!(rules.rules[2].traffic.icmp);
    let constructs: Vec<&str> = rules
        .unsupported
        .iter()
        .map(|u| u.construct.as_str())
        .collect();
    assert_eq!(
        constructs,
        ["match operator `<`", "`ct state` value `bogus`"]
    );
    assert_eq!(rules.rules.len(), 5);
}

#[test]
fn verdict_maps_on_ports_and_set_elements_with_comments() {
    let text = r#"{"nftables": [
{"chain": {"family": "inet", "table": "f", "name": "forward", "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}},
{"chain": {"family": "inet", "table": "f", "name": "web"}},
{"set": {"family": "inet", "table": "f", "name": "servers", "type": "ipv4_addr", "elem": [{"elem": {"val": "10.0.0.10", "comment": "cm01"}}]}},
{"rule": {"family": "inet", "table": "f", "chain": "forward", "expr": [{"vmap": {"key": {"payload": {"protocol": "tcp", "field": "dport"}}, "data": {"set": [[80, {"jump": {"target": "web"}}], [23, {"drop": null}]]}}}]}},
{"rule": {"family": "inet", "table": "f", "chain": "web", "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "@servers"}}, {"accept": null}]}}
]}"#;
    let rules = read_text(text).unwrap();
    assert_eq!(rules.rules.len(), 2);
    assert_eq!(endpoints(&rules.rules[0].traffic.to), ["cidr:10.0.0.10/32"]);
    assert_eq!(
        ports(rules.rules[0].traffic.tcp.as_ref()).as_deref(),
        Some("80")
    );
    assert_eq!(rules.rules[1].action, Action::Deny);
    assert_eq!(
        ports(rules.rules[1].traffic.tcp.as_ref()).as_deref(),
        Some("23")
    );
    let e = read_text(
        r#"{"nftables": [{"chain": {"family": "inet", "table": "t", "name": "f", "hook": "forward", "prio": "sideways"}}]}"#,
    )
    .unwrap_err();
    assert_eq!(e.message, "unknown chain priority `sideways`");
}
