//! Verdicts of user flows between role-less servers (so that only the flows written here
//! are required), through network and Windows firewalls.

use super::*;
use crate::engine::{Phase, required_flows};
use crate::model::RuleGuard;

/// `SOURCE -> DEST PROTO PORTS: VERDICT by DECIDER; DECIDER` for every flow.
fn verdicts(kdl: &str) -> Vec<String> {
    let model = crate::engine::test_model(kdl);
    let flows = required_flows(&model, &[Phase::Operation]);
    let net = Network::new(&model);
    evaluate(&net, &flows)
        .iter()
        .zip(&flows)
        .map(|(v, f)| {
            let by: Vec<String> = v
                .decisions
                .iter()
                .map(|d| format!("{} {}", d.describe(&model), d.ports))
                .collect();
            format!(
                "{} -> {} {} {}: {} by {}",
                f.source.name(&model),
                f.destination.name(&model),
                f.protocol,
                f.ports,
                v.verdict.as_str(),
                by.join("; ")
            )
        })
        .collect()
}

const HOSTS: &str = r#"
zone "a" { subnet "10.1.0.0/16" }
zone "b" { subnet "10.2.0.0/16" }
server "a1.contoso.com" zone="a" address="10.1.0.1"
server "b1.contoso.com" zone="b"
"#;

fn with(extra: &str) -> String {
    format!("{HOSTS}\n{extra}")
}

#[test]
fn first_match_decides_then_the_default() {
    let v = verdicts(&with(
        r#"
flow "app" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="80,443,8080"
firewall "fw" default="deny" {
    zones "a" "b"
    deny "no 8080" tcp="8080"
    allow "web" from="zone:a" to="zone:b" tcp="80,8080"
}
"#,
    ));
    assert_eq!(
        v,
        [
            "a1.contoso.com -> b1.contoso.com tcp 80: allowed by fw: \"web\" 80",
            "a1.contoso.com -> b1.contoso.com tcp 443: blocked by fw: default 443",
            "a1.contoso.com -> b1.contoso.com tcp 8080: blocked by fw: \"no 8080\" 8080",
        ]
    );
}

#[test]
fn a_range_is_decided_part_by_part() {
    let v = verdicts(&with(
        r#"
flow "rpc" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="rpc"
firewall "fw" default="deny" {
    zones "a" "b"
    allow tcp="49152-50000"
}
"#,
    ));
    assert_eq!(
        v,
        [
            "a1.contoso.com -> b1.contoso.com tcp 49152-65535: blocked by fw: rule 1 49152-50000; fw: default 50001-65535"
        ]
    );
}

#[test]
fn every_firewall_of_every_shortest_path_must_allow() {
    let v = verdicts(&with(
        r#"
flow "app" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="443"
firewall "fw1" default="allow" { zones "a" "b"; }
firewall "fw2" default="deny" { zones "a" "b"; }
firewall "fw3" default="deny" {
    zones "a" "c"
    allow
}
zone "c"
"#,
    ));
    assert_eq!(
        v,
        ["a1.contoso.com -> b1.contoso.com tcp 443: blocked by fw1: default 443; fw2: default 443"]
    );
}

#[test]
fn a_longer_path_crosses_the_firewalls_in_order() {
    let model = with(
        r#"
zone "m"
flow "app" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="443"
firewall "fw-b" default="allow" { zones "m" "b"; }
firewall "fw-a" default="allow" { zones "a" "m"; }
"#,
    );
    assert_eq!(
        verdicts(&model),
        [
            "a1.contoso.com -> b1.contoso.com tcp 443: allowed by fw-a: default 443; fw-b: default 443"
        ]
    );
}

#[test]
fn zones_without_a_path_and_models_without_firewalls() {
    let isolated = with(
        r#"
zone "c"
flow "app" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="443"
firewall "fw" default="allow" { zones "a" "c"; }
"#,
    );
    assert_eq!(
        verdicts(&isolated),
        ["a1.contoso.com -> b1.contoso.com tcp 443: no-path by "]
    );
    let unrouted =
        with(r#"flow "app" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="443""#);
    assert_eq!(
        verdicts(&unrouted),
        ["a1.contoso.com -> b1.contoso.com tcp 443: allowed by "]
    );
}

#[test]
fn windows_firewall_block_wins_whatever_the_order() {
    let v = verdicts(
        r#"
zone "a"
server "a1.contoso.com" zone="a"
server "b1.contoso.com" zone="a" {
    windows-firewall {
        allow in "web" tcp="80,443"
        block in "no plain HTTP" tcp="80"
    }
}
flow "app" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="80,443,8080"
"#,
    );
    assert_eq!(
        v,
        [
            "a1.contoso.com -> b1.contoso.com tcp 80: blocked by b1.contoso.com inbound: \"no plain HTTP\" 80",
            "a1.contoso.com -> b1.contoso.com tcp 443: allowed by b1.contoso.com inbound: \"web\" 443",
            "a1.contoso.com -> b1.contoso.com tcp 8080: blocked by b1.contoso.com inbound: default 8080",
        ]
    );
}

#[test]
fn windows_firewall_profiles_rpc_keywords_and_outbound() {
    let v = verdicts(
        r#"
zone "a"
server "a1.contoso.com" zone="a" {
    windows-firewall outbound="block" {
        allow out "RPC" tcp="135,49152-65535"
    }
}
server "b1.contoso.com" zone="a" rpc-ports="50000-50100" network-profile="private" {
    windows-firewall {
        allow in "public only" tcp="443" profile="public"
        allow in "RPC" tcp="rpc-epmap,rpc"
    }
}
flow "app" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="135,443,rpc"
"#,
    );
    assert_eq!(
        v,
        [
            "a1.contoso.com -> b1.contoso.com tcp 135: allowed by a1.contoso.com outbound: \"RPC\" 135; b1.contoso.com inbound: \"RPC\" 135",
            "a1.contoso.com -> b1.contoso.com tcp 443: blocked by a1.contoso.com outbound: default 443; b1.contoso.com inbound: default 443",
            "a1.contoso.com -> b1.contoso.com tcp 50000-50100: allowed by a1.contoso.com outbound: \"RPC\" 50000-50100; b1.contoso.com inbound: \"RPC\" 50000-50100",
        ]
    );
}

#[test]
fn cidr_matches_by_address_or_subnets_else_indeterminate() {
    let v = verdicts(&with(
        r#"
zone "c"
server "c1.contoso.com" zone="c"
flow "app" from="host:a1.contoso.com" to="host:b1.contoso.com,host:c1.contoso.com" tcp="443"
firewall "fw" default="deny" {
    zones "a" "b" "c"
    allow "from a's range" from="cidr:10.1.0.0/24" to="cidr:10.2.0.0/16" tcp="443"
    allow "to c's range" from="cidr:10.1.0.0/24" to="cidr:10.3.0.0/16" tcp="443"
}
"#,
    ));
    assert_eq!(
        v,
        [
            "a1.contoso.com -> b1.contoso.com tcp 443: allowed by fw: \"from a's range\" 443",
            "a1.contoso.com -> c1.contoso.com tcp 443: indeterminate by fw: \"from a's range\" 443",
        ]
    );
}

/// A rule that maybe matches decides nothing alone: where the rules after it decide its
/// own action, that is the verdict either way; elsewhere the verdict is unknown.
#[test]
fn a_maybe_match_agreeing_with_what_follows_is_sure() {
    let v = verdicts(&with(
        r#"
zone "c"
server "c1.contoso.com" zone="c"
flow "app" from="host:a1.contoso.com" to="host:c1.contoso.com" tcp="443,8443,9443"
firewall "fw" default="deny" {
    zones "a" "b" "c"
    allow "maybe c, 443 and 8443" to="cidr:10.3.0.0/16" tcp="443,8443"
    allow "c, 443" to="zone:c" tcp="443"
    deny "maybe c, 9443" to="cidr:10.3.0.0/16" tcp="9443"
}
"#,
    ));
    assert_eq!(
        v,
        [
            "a1.contoso.com -> c1.contoso.com tcp 443: allowed by fw: \"c, 443\" 443",
            "a1.contoso.com -> c1.contoso.com tcp 8443: indeterminate by fw: \"maybe c, 443 and 8443\" 8443",
            "a1.contoso.com -> c1.contoso.com tcp 9443: blocked by fw: default 9443",
        ]
    );
}

#[test]
fn icmp_and_rules_without_protocols() {
    let v = verdicts(&with(
        r#"
flow "ping" from="host:a1.contoso.com" to="host:b1.contoso.com" icmp=#true udp="9"
firewall "fw" default="deny" {
    zones "a" "b"
    allow "ping" icmp=#true
    allow "everything to b" to="zone:b"
}
"#,
    ));
    assert_eq!(
        v,
        [
            "a1.contoso.com -> b1.contoso.com udp 9: allowed by fw: \"everything to b\" 9",
            "a1.contoso.com -> b1.contoso.com icmp echo: allowed by fw: \"ping\" echo",
        ]
    );
}

#[test]
fn source_ports_of_host_rules_match_the_ephemeral_range() {
    let v = verdicts(&with(
        r#"
flow "app" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="80,443,8080"
server "c1.contoso.com" zone="b" {
    windows-firewall {
        allow in "any source port" tcp="80" remote-port="1024-65535"
        allow in "low source ports" tcp="443" remote-port="1-1023"
        allow in "some high ports" tcp="8080" remote-port="50000-60000"
    }
}
flow "to c1" from="host:a1.contoso.com" to="host:c1.contoso.com" tcp="80,443,8080"
"#,
    ));
    assert_eq!(
        v[3..],
        [
            "a1.contoso.com -> c1.contoso.com tcp 80: allowed by c1.contoso.com inbound: \"any source port\" 80",
            "a1.contoso.com -> c1.contoso.com tcp 443: blocked by c1.contoso.com inbound: default 443",
            "a1.contoso.com -> c1.contoso.com tcp 8080: indeterminate by c1.contoso.com inbound: \"some high ports\" 8080",
        ]
    );
}

#[test]
fn local_port_on_an_in_rule_is_refused() {
    let loaded = crate::load::load_texts(
        vec![(
            "m.kdl".into(),
            with(
                r#"server "c1.contoso.com" zone="b" {
    windows-firewall { allow in tcp="80" local-port="80"; }
}"#,
            )
            .into_bytes(),
            false,
        )],
        crate::rules::SPEC_CODES,
    );
    let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["schema/unknown-property"]);
}

/// Red-team findings: `cidr:::/0` does not name an IPv4-only zone (it named every host
/// without an address before); a `cidr:` list that covers a zone's subnets only together
/// names it; equally near firewalls are listed by name, whatever the declaration order.
#[test]
fn cidr_prefix_zero_follows_the_address_family_and_lists_cover_together() {
    let flow = r#"flow "app" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="80""#;
    let v = verdicts(&with(&format!(
        r#"{flow}
firewall "fw" default="deny" {{
    zones "a" "b"
    allow "v6 only" from="cidr:::/0" to="any" tcp="80"
}}
"#
    )));
    assert_eq!(
        v,
        ["a1.contoso.com -> b1.contoso.com tcp 80: blocked by fw: default 80"]
    );
    let two = r#"
zone "a" { subnet "10.1.0.0/16" }
zone "b" { subnet "10.2.0.0/24"; subnet "10.3.0.0/24" }
server "a1.contoso.com" zone="a" address="10.1.0.1"
server "b1.contoso.com" zone="b"
flow "app" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="80"
firewall "fw" default="deny" {
    zones "a" "b"
    allow "both" from="zone:a" to="cidr:10.2.0.0/24,cidr:10.3.0.0/24" tcp="80"
}
"#;
    assert_eq!(
        verdicts(two),
        ["a1.contoso.com -> b1.contoso.com tcp 80: allowed by fw: \"both\" 80"]
    );
}

#[test]
fn equally_near_firewalls_are_listed_by_name() {
    let model = |first: &str, second: &str| {
        with(&format!(
            r#"flow "app" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="80"
firewall "{first}" default="allow" {{ zones "a" "b" }}
firewall "{second}" default="allow" {{ zones "a" "b" }}
"#
        ))
    };
    let expected =
        ["a1.contoso.com -> b1.contoso.com tcp 80: allowed by alpha: default 80; zulu: default 80"];
    assert_eq!(verdicts(&model("zulu", "alpha")), expected);
    assert_eq!(verdicts(&model("alpha", "zulu")), expected);
}

/// Like [`verdicts`], after `edit` changed the loaded model (rules as a reader makes them).
fn verdicts_edited(kdl: &str, edit: impl FnOnce(&mut Model)) -> Vec<String> {
    let mut model = crate::engine::test_model(kdl);
    edit(&mut model);
    let flows = required_flows(&model, &[Phase::Operation]);
    let net = Network::new(&model);
    evaluate(&net, &flows)
        .iter()
        .zip(&flows)
        .map(|(v, f)| {
            let by: Vec<String> = v.decisions.iter().map(|d| d.describe(&model)).collect();
            format!(
                "{} -> {} {}: {} by {}",
                f.source.name(&model),
                f.destination.name(&model),
                f.ports,
                v.verdict.as_str(),
                by.join("; ")
            )
        })
        .collect()
}

const TWO_FLOWS: &str = r#"
flow "ab" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="80"
flow "ba" from="host:b1.contoso.com" to="host:a1.contoso.com" tcp="80"
"#;

#[test]
fn an_uncertain_network_rule_matches_as_unknown_where_its_parts_match() {
    let kdl = with(&format!(
        r#"{TWO_FLOWS}
firewall "fw" default="deny" {{
    zones "a" "b"
    allow "iface" from="zone:a" tcp="80"
    deny "rest" tcp="80"
}}
"#
    ));
    let v = verdicts_edited(&kdl, |m| {
        let span = m.firewalls[0].rules[0].span;
        m.firewalls[0].rules[0].uncertain = Some(span);
    });
    assert_eq!(
        v,
        [
            // Allowed if the rule matches, blocked by the next one if not.
            "a1.contoso.com -> b1.contoso.com 80: indeterminate by fw: \"iface\"",
            // From b the represented part (`from` zone a) does not match: the next rule decides.
            "b1.contoso.com -> a1.contoso.com 80: blocked by fw: \"rest\"",
        ]
    );
}

#[test]
fn an_uncertain_host_rule_matches_as_unknown() {
    let kdl = with(
        r#"
flow "ab" from="host:a1.contoso.com" to="host:c1.contoso.com" tcp="80,443"
server "c1.contoso.com" zone="b" {
    windows-firewall { allow in "web" tcp="80"; }
}
"#,
    );
    let v = verdicts_edited(&kdl, |m| {
        let fw = m
            .servers
            .iter_mut()
            .find_map(|s| s.host_firewall.as_mut())
            .unwrap();
        fw.rules[0].uncertain = Some(fw.rules[0].span);
    });
    assert_eq!(
        v,
        [
            "a1.contoso.com -> c1.contoso.com 80: indeterminate by c1.contoso.com inbound: \"web\"",
            "a1.contoso.com -> c1.contoso.com 443: blocked by c1.contoso.com inbound: default",
        ]
    );
}

#[test]
fn guards_restrict_rules_to_flows_into_or_out_of_their_zone() {
    let kdl = with(&format!(
        r#"{TWO_FLOWS}
flow "internet" from="host:b1.contoso.com" to="zone:internet" tcp="80"
firewall "nsg" default="deny" {{
    zones "a" "b" "internet"
    allow "inbound" tcp="80"
    allow "outbound" tcp="80"
}}
"#
    ));
    let v = verdicts_edited(&kdl, |m| {
        m.firewalls[0].rules[0].guard = RuleGuard::IntoZone("b".into());
        m.firewalls[0].rules[1].guard = RuleGuard::OutOfZone("a".into());
    });
    assert_eq!(
        v,
        [
            "a1.contoso.com -> b1.contoso.com 80: allowed by nsg: \"inbound\"",
            // Into a, out of b: neither guard lets its rule see the flow.
            "b1.contoso.com -> a1.contoso.com 80: blocked by nsg: default",
            // The Internet is zone `internet`: not b, and b is not a.
            "b1.contoso.com -> internet 80: blocked by nsg: default",
        ]
    );
}
