//! `firewall/overly-broad`: an `allow` rule that serves required flows but opens far more
//! than they use, or allows any to any on every protocol. The help is the narrowed rule.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::context::{Context, PortSet, endpoint_ref, port_text};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::engine::{DecidedBy, Filter, FlowPorts, RequiredFlow, intervals, rpc_range, rule_ports};
use crate::model::{Action, Endpoint, Protocol, Traffic};

/// More unused ports than this, per protocol, make a rule overly broad (`rules.md`).
const SLACK: u32 = 100;

pub static RULE: RuleInfo = RuleInfo {
    code: "firewall/overly-broad",
    default_severity: Severity::Warning,
    summary: "An allow rule opens far more than the required flows it serves",
    docs: r#"## What it does
For every `allow` rule that lets required flows through, compares what it opens with
what those flows use. It reports the rule when, for TCP or UDP, more than 100 of the
ports it opens are used by none of them, and any rule that allows `any` to `any` on
every protocol. The help is the narrowed rule: exactly the endpoints and ports of the
flows it serves (the dynamic RPC range written as `rpc`). On a Windows Firewall, which
has no rule order, the narrowed rule leaves out the flows that other allow rules of the
same host (not overly broad themselves) already allow, so that following this advice and
`firewall/unused-rule`'s keeps every required flow.

## Why
Configuration Manager's ports are documented one by one ("Ports used in Configuration
Manager"): a rule that opens a whole range, or every protocol, allows much more than the
product needs, and hides which flows it was written for.

## Example that fails
```kdl
firewall "fw-core" default="deny" {
    zones "hq" "datacenter"
    allow "clients to MP" from="clients:HQ desktops" to="role:management-point" tcp="1-65535"
}
```

## Fixed example
```kdl
firewall "fw-core" default="deny" {
    zones "hq" "datacenter"
    allow "clients to MP" from="clients:HQ desktops" to="host:mp01.contoso.com" tcp="80,443,10123"
}
```
"#,
};

fn is_any(list: &[crate::model::Spanned<Endpoint>]) -> bool {
    list.iter().any(|e| e.value == Endpoint::Any)
}

/// Ports of `protocol` the rule opens that none of `used` covers.
fn unused_ports(
    traffic: &Traffic,
    protocol: Protocol,
    rpc: (u16, u16),
    used: &BTreeSet<(u16, u16)>,
) -> u32 {
    let mut opened = Vec::new();
    rule_ports(traffic, protocol, rpc, &mut opened);
    // Port 0 stands for "every port" of a rule without protocols; it is no real port.
    let opened: Vec<(u32, u32)> = opened
        .into_iter()
        .map(|(a, b)| (a.max(1), b))
        .filter(|(a, b)| a <= b)
        .collect();
    let used = intervals::merge(used.iter().map(|&(a, b)| (u32::from(a), u32::from(b))));
    intervals::count(&intervals::split(&opened, &used).1)
}

/// Reports the overly broad rules and returns them (`firewall/redundant-rule` reads them).
pub fn check(cx: &Context<'_, '_>, out: &mut Vec<Diagnostic>) -> Vec<super::context::RuleKey> {
    let model = cx.model;
    let usage = cx.usage();
    let mut found = Vec::new();
    for (key, traffic, action, span) in cx.all_rules() {
        if cx.inexact(key) {
            continue;
        }
        if action != Action::Allow {
            continue;
        }
        let (filter, i) = key;
        let everything =
            is_any(&traffic.from) && is_any(&traffic.to) && traffic.matches_all_protocols();
        let Some(used) = usage.get(&key) else {
            continue;
        };
        let rpc_host = match filter {
            Filter::HostOut(h) => Some(h),
            _ => used.destinations.iter().next().copied(),
        };
        let rpc = rpc_host.map_or((49152, 65535), |h| rpc_range(model, h));
        let mut excess = Vec::new();
        for (protocol, set) in [
            (Protocol::Tcp, &used.ports.tcp),
            (Protocol::Udp, &used.ports.udp),
        ] {
            let n = unused_ports(traffic, protocol, rpc, set);
            if n > SLACK {
                excess.push(format!("{n} {} ports", protocol.as_str().to_uppercase()));
            }
        }
        if !everything && excess.is_empty() {
            continue;
        }
        let name = cx.decider_name(filter, DecidedBy::Rule(i));
        let message = if everything {
            format!("{name} allows any to any on every protocol")
        } else {
            format!(
                "{name} opens {} that no required flow uses",
                excess.join(" and ")
            )
        };
        let used_text = describe(&used.ports);
        found.push((key, span, message, used_text, rpc));
    }
    // On a Windows Firewall (no rule order) the narrowed rule leaves out what other allow
    // rules of the same host, not overly broad themselves, already allow for the same
    // flows: following this advice and `firewall/unused-rule`'s keeps every flow.
    let broad: Vec<super::context::RuleKey> = found.iter().map(|f| f.0).collect();
    let broad_set: HashSet<super::context::RuleKey> = broad.iter().copied().collect();
    let parts = host_rule_parts(cx, &broad);
    for (key, span, message, used_text, rpc) in found {
        let Some(used) = usage.get(&key) else {
            continue;
        };
        let filter = key.0;
        let rest = if matches!(filter, Filter::Network(_)) {
            None
        } else {
            let parts = parts.get(&key).map_or(&[][..], Vec::as_slice);
            Some(not_allowed_elsewhere(cx, key, &broad_set, parts))
        };
        let used_for_help = rest.as_ref().unwrap_or(used);
        let help = if used_for_help.flows == 0 {
            "delete it: other rules of this Windows Firewall allow every flow it serves".to_owned()
        } else {
            format!(
                "narrow it to the flows it serves{}: {}",
                if rest.is_some() {
                    " that no other rule allows"
                } else {
                    ""
                },
                narrowed(cx, key, used_for_help, rpc)
            )
        };
        out.push(
            Diagnostic::new(
                &RULE,
                message,
                Label::new(
                    span,
                    format!(
                        "{} required flow{} use{} only {used_text}",
                        used.flows,
                        if used.flows == 1 { "" } else { "s" },
                        if used.flows == 1 { "s" } else { "" }
                    ),
                ),
            )
            .with_help(help),
        );
    }
    broad
}

/// The flow parts a Windows Firewall rule decides that no other allow rule of the same
/// filter (not in `broad`) matches.
/// The flow parts each Windows Firewall rule of `keys` decides, in flow order: gathered
/// in one pass over the verdicts rather than one pass per rule.
fn host_rule_parts<'f>(
    cx: &Context<'f, '_>,
    keys: &[super::context::RuleKey],
) -> HashMap<super::context::RuleKey, Vec<(&'f RequiredFlow, FlowPorts)>> {
    let mut parts: HashMap<super::context::RuleKey, Vec<(&RequiredFlow, FlowPorts)>> = keys
        .iter()
        .filter(|(filter, _)| !matches!(filter, Filter::Network(_)))
        .map(|&key| (key, Vec::new()))
        .collect();
    if parts.is_empty() {
        return parts;
    }
    for (flow, verdict) in cx.flows.iter().zip(cx.verdicts) {
        for d in &verdict.decisions {
            if let (DecidedBy::Rule(i), Filter::HostIn(_) | Filter::HostOut(_)) = (d.by, d.filter)
                && let Some(list) = parts.get_mut(&(d.filter, i))
            {
                list.push((flow, d.ports));
            }
        }
    }
    parts
}

fn not_allowed_elsewhere(
    cx: &Context<'_, '_>,
    (filter, i): super::context::RuleKey,
    broad: &HashSet<super::context::RuleKey>,
    parts: &[(&RequiredFlow, FlowPorts)],
) -> super::context::RuleUse {
    let mut rest = super::context::RuleUse::default();
    let Some(fw) = filter.host_firewall(cx.model) else {
        return rest;
    };
    let direction = match filter {
        Filter::HostIn(_) => crate::model::Direction::In,
        _ => crate::model::Direction::Out,
    };
    let others: Vec<&crate::model::HostRule> = fw
        .rules
        .iter()
        .enumerate()
        .filter(|&(j, r)| {
            j != i
                && r.action == Action::Allow
                && r.direction == direction
                && !broad.contains(&(filter, j))
        })
        .map(|(_, r)| r)
        .collect();
    for &(flow, ports) in parts {
        if others
            .iter()
            .any(|r| crate::engine::intent::may_match_ports(cx.net, &r.traffic, flow, ports))
        {
            continue;
        }
        rest.ports.add(flow.protocol, ports);
        rest.sources.insert(flow.source);
        rest.destinations.insert(flow.destination);
        rest.flows += 1;
    }
    rest
}

fn describe(ports: &PortSet) -> String {
    let mut parts = Vec::new();
    if !ports.tcp.is_empty() {
        parts.push(format!("tcp {}", port_text(&ports.tcp)));
    }
    if !ports.udp.is_empty() {
        parts.push(format!("udp {}", port_text(&ports.udp)));
    }
    if ports.icmp {
        parts.push("icmp".to_owned());
    }
    parts.join(", ")
}

fn narrowed(
    cx: &Context<'_, '_>,
    (filter, i): super::context::RuleKey,
    used: &super::context::RuleUse,
    rpc: (u16, u16),
) -> String {
    let model = cx.model;
    let list = |set: &BTreeSet<crate::engine::FlowEndpoint>| {
        set.iter()
            .map(|e| endpoint_ref(model, *e))
            .collect::<Vec<_>>()
            .join(",")
    };
    let name = crate::engine::rule_name(model, filter, i)
        .map(|n| format!(" \"{n}\""))
        .unwrap_or_default();
    let props = used.ports.kdl_props(Some(rpc));
    match filter {
        Filter::Network(_) => format!(
            "allow{name} from=\"{}\" to=\"{}\"{props}",
            list(&used.sources),
            list(&used.destinations)
        ),
        Filter::HostIn(_) => format!("allow in{name} from=\"{}\"{props}", list(&used.sources)),
        Filter::HostOut(_) => format!("allow out{name} to=\"{}\"{props}", list(&used.destinations)),
    }
}
