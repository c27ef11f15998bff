//! `firewall/blocked-flow`: a required flow is denied by a network firewall (a rule or its
//! default) or by a host firewall. One diagnostic per deciding rule (or default) and pair
//! of endpoints, listing every port it blocks between them.

use rayon::prelude::*;

use super::context::{Context, PortSet, endpoint_ref, flow_part, short_list_of};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::engine::{
    DecidedBy, Filter, FlowEndpoint, FlowPorts, Origin, Outcome, RequiredFlow, rpc_range,
};

/// The catalog section of the PXE distribution point's TFTP transfer to its clients
/// (Note 4: answers from dynamic high ports), which a TFTP ALG can open instead.
const TFTP_TRANSFER: &str = "BKMK_PortsClient-DP3-TFTP";

/// The range a network rule may write `rpc` for: a server's `rpc-ports`. Other
/// destinations (a client group's TFTP transfer ports) keep their numbers, which say
/// what they are.
pub(super) fn server_rpc(model: &crate::model::Model, e: FlowEndpoint) -> Option<(u16, u16)> {
    matches!(e, FlowEndpoint::Server(_)).then(|| rpc_range(model, e))
}

pub static RULE: RuleInfo = RuleInfo {
    code: "firewall/blocked-flow",
    default_severity: Severity::Error,
    summary: "A firewall denies a flow Configuration Manager requires",
    docs: r#"## What it does
Routes every required flow (the documented ports of each role pair, and your own `flow`
nodes) from the source host's outbound Windows Firewall, through every network firewall
on the shortest path(s) between the two zones, to the destination host's inbound Windows
Firewall, and reports each rule, or firewall default, that denies it. Network firewalls
decide by first match; Windows Firewall lets a `block` rule win over any `allow`.

Findings are grouped: one diagnostic per denying rule (or default) and pair of hosts,
listing every port and service it blocks between them. The primary label is the rule
(or the `default`), the secondary label the role that needs the flow. GitHub annotations
and SARIF place the finding on that role when it is in another file than the firewall
(the rule or default is then the related location): a pull request that adds a role
changes that file, so the finding lands in its diff instead of piling up on the
firewall's `default` line. The help gives the
exact `allow` line and where it goes. When a network firewall blocks the TFTP transfer
of a PXE distribution point (UDP 49152-65535 to its clients, Note 4), the help also
says that the firewall's TFTP ALG (helper, inspection) opens those ports per transfer
and is the usual alternative to opening the range.

## Why
A blocked flow is a broken feature: clients that cannot reach their management point
never receive policy; a site server that cannot reach its database stops processing.
The ports come from "Ports used in Configuration Manager" and the client deployment
documents.

## Example that fails
```kdl
firewall "fw-core" default="deny" {
    zones "hq" "datacenter"
    allow "clients to MP" from="clients:HQ desktops" to="role:management-point" tcp="80"
}
```
The clients also need HTTPS (443) to the management point: the `default` denies it.

## Fixed example
```kdl
firewall "fw-core" default="deny" {
    zones "hq" "datacenter"
    allow "clients to MP" from="clients:HQ desktops" to="role:management-point" tcp="80,443"
}
```

## References

- [Ports used in Configuration Manager, Note 4: Trivial FTP (TFTP) daemon](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#bkmk_note4)
"#,
};

pub fn check(cx: &Context<'_, '_>, out: &mut Vec<Diagnostic>) {
    // A flow a policy forbids is `policy/conflict`: the design, not the firewall, has to
    // change.
    let groups = cx.decisions_by_deciding_rule(Outcome::Deny, |flow, d| {
        cx.forbids_of(flow, d.ports).is_empty()
    });
    // A default-deny firewall nobody has described yet blocks most of a large model's
    // flows: its tens of thousands of diagnostics are written on every thread.
    out.par_extend(
        groups
            .into_par_iter()
            .map(|((filter, by, source, destination), parts)| {
                diagnostic(cx, filter, by, source, destination, &parts)
            }),
    );
}

fn diagnostic(
    cx: &Context<'_, '_>,
    filter: Filter,
    by: DecidedBy,
    source: FlowEndpoint,
    destination: FlowEndpoint,
    parts: &[(&RequiredFlow, FlowPorts)],
) -> Diagnostic {
    let model = cx.model;
    let message = format!(
        "{} blocks {} -> {}: {}",
        cx.decider_name(filter, by),
        source.name(model),
        destination.name(model),
        short_list_of(parts, 4, |(flow, ports)| flow_part(model, flow, *ports))
    );
    let primary_text = match (filter, by) {
        (Filter::Network(_), DecidedBy::Rule(_)) => "this rule denies it first",
        (Filter::Network(_), DecidedBy::Default) => "no rule allows it, so the default denies it",
        (_, DecidedBy::Rule(_)) => "this block rule wins over every allow rule",
        (Filter::HostIn(_), DecidedBy::Default) => {
            "inbound traffic is blocked unless a rule allows it"
        }
        (_, DecidedBy::Default) => "outbound traffic is blocked unless a rule allows it",
    };
    let mut ports = PortSet::default();
    for (flow, part) in parts {
        ports.add(flow.protocol, *part);
    }
    let mut d = Diagnostic::new(
        &RULE,
        message,
        Label::new(cx.decider_span(filter, by), primary_text),
    );
    if let Some(label) = cx.requirement(parts[0].0) {
        d = d.with_label(label);
    }
    let mut text = help(cx, filter, by, source, destination, &ports);
    let tftp_transfer = parts.iter().any(|(flow, _)| {
        flow.services
            .iter()
            .any(|s| matches!(s.origin, Origin::Catalog(row) if row.anchor == TFTP_TRANSFER))
    });
    if tftp_transfer && matches!(filter, Filter::Network(_)) {
        text.push_str(
            "; or enable the firewall's TFTP ALG (TFTP helper or inspection), which opens \
             each transfer's high port as the client's request to UDP 69 passes, instead of \
             the whole range",
        );
    }
    d.with_help(text)
}

fn help(
    cx: &Context<'_, '_>,
    filter: Filter,
    by: DecidedBy,
    source: FlowEndpoint,
    destination: FlowEndpoint,
    ports: &PortSet,
) -> String {
    let model = cx.model;
    let name = format!("{} to {}", source.name(model), destination.name(model));
    let (from, to) = (
        endpoint_ref(model, source),
        endpoint_ref(model, destination),
    );
    match (filter, by) {
        (Filter::Network(_), DecidedBy::Rule(_)) => format!(
            "insert above this rule: allow \"{name}\" from=\"{from}\" to=\"{to}\"{}",
            ports.kdl_props(server_rpc(model, destination))
        ),
        (Filter::Network(f), DecidedBy::Default) => format!(
            "add to firewall \"{}\" after its last rule: allow \"{name}\" from=\"{from}\" to=\"{to}\"{}",
            model.firewalls[f].name.value,
            ports.kdl_props(server_rpc(model, destination))
        ),
        (_, DecidedBy::Rule(_)) => {
            "narrow this block rule so that it leaves these ports out: Windows Firewall applies \
             block rules before any allow rule"
                .to_owned()
        }
        (Filter::HostIn(host), DecidedBy::Default) => format!(
            "add to the windows-firewall of {}: allow in \"{name}\" from=\"{from}\"{}",
            host.name(model),
            ports.kdl_props(Some(rpc_range(model, host)))
        ),
        (Filter::HostOut(host), DecidedBy::Default) => format!(
            "add to the windows-firewall of {}: allow out \"{name}\" to=\"{to}\"{}",
            host.name(model),
            ports.kdl_props(Some(rpc_range(model, host)))
        ),
    }
}
