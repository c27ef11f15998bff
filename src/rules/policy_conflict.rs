//! `policy/conflict`: a required flow is forbidden by a user `policy`. One diagnostic per
//! `forbid` and pair of endpoints, listing the ports.

use std::collections::BTreeMap;

use super::context::{Context, flow_part, short_list};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::engine::{FlowEndpoint, FlowPorts, RequiredFlow};

pub static RULE: RuleInfo = RuleInfo {
    code: "policy/conflict",
    default_severity: Severity::Error,
    summary: "A required flow is forbidden by a policy",
    docs: r#"## What it does
Checks every required flow against every `forbid` of every `policy`: when the forbid names
the flow's source, its destination and some of its ports, the design contradicts itself.
Firewalls do not matter here: whichever way they are set, either Configuration Manager or
the policy is broken.

## Why
A policy such as "no SMB from branches to the datacenter" and a branch distribution point
that the site server manages over SMB cannot both hold; the conflict has to be settled in
the design (for example with `site-server-initiates=#true`, or a pull distribution point)
before any firewall rule is written.

## Example that fails
```kdl
policy "no SMB across the WAN" severity="error" {
    forbid from="zone:datacenter" to="zone:branch" tcp="445"
}
site "P01" type="primary" {
    server "cm01.contoso.com" zone="datacenter" { site-server }
    server "dp-br01.contoso.com" zone="branch" { distribution-point }
}
```

## Fixed example
Narrow the forbid to what the design really excludes, or change the design so that the
flow is no longer required.
"#,
};

type Key = (usize, usize, FlowEndpoint, FlowEndpoint);

pub fn check(cx: &Context<'_, '_>, out: &mut Vec<Diagnostic>) {
    let model = cx.model;
    if model.policies.is_empty() {
        return;
    }
    let mut groups: BTreeMap<Key, Vec<(&RequiredFlow, FlowPorts)>> = BTreeMap::new();
    for (flow, _) in cx.checked_flows() {
        for (p, f) in cx.forbids_of(flow, flow.ports) {
            groups
                .entry((p, f, flow.source, flow.destination))
                .or_default()
                .push((flow, flow.ports));
        }
    }
    for ((p, f, source, destination), parts) in groups {
        let policy = &model.policies[p];
        let listed: Vec<String> = parts
            .iter()
            .map(|(flow, ports)| flow_part(model, flow, *ports))
            .collect();
        let message = format!(
            "policy \"{}\" forbids required flows {} -> {}: {}",
            policy.name.value,
            source.name(model),
            destination.name(model),
            short_list(&listed, 4)
        );
        let mut d = Diagnostic::new(
            &RULE,
            message,
            Label::new(policy.forbids[f].span, "forbids it"),
        );
        if let Some(label) = cx.requirement(parts[0].0) {
            d = d.with_label(label);
        }
        let mut ports = super::context::PortSet::default();
        for (flow, part) in &parts {
            ports.add(flow.protocol, *part);
        }
        let waive = format!(
            "waive {} from={} to={}{}",
            crate::escape::kdl::string(&policy.name.value),
            crate::escape::kdl::string(&super::context::endpoint_ref(model, source)),
            crate::escape::kdl::string(&super::context::endpoint_ref(model, destination)),
            ports.kdl_props(super::blocked_flow::server_rpc(model, destination))
        );
        out.push(d.with_help(format!(
            "the design contradicts itself: if these flows are not wanted here, say so with \
             `{waive}`; otherwise narrow the `forbid` to leave them out"
        )));
    }
}
