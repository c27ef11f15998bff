//! `firewall/no-path`: a required flow joins two zones that no chain of firewalls
//! connects. One diagnostic per pair of zones.

use std::collections::BTreeMap;

use super::context::{Context, flow_part, short_list};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::engine::{RequiredFlow, Verdict, ZoneId};

pub static RULE: RuleInfo = RuleInfo {
    code: "firewall/no-path",
    default_severity: Severity::Error,
    summary: "A required flow joins two zones no firewall connects",
    docs: r#"## What it does
Zones and firewalls form a graph: each `firewall` joins the zones of its `zones` node.
When the model has firewalls, a flow between hosts of two zones must cross them; if no
chain of firewalls joins the two zones, the flow cannot pass at all. One diagnostic per
pair of zones, with the number of required flows and an example.

A model without any `firewall` describes no network filtering and is not routed.

## Why
A zone that no firewall lists is an island: every site system or client in it is cut off
from the rest of the hierarchy, which is almost always a zone missing from a firewall's
`zones`.

## Example that fails
```kdl
zone "hq"
zone "lab"
zone "datacenter"
firewall "fw-core" default="deny" {
    zones "hq" "datacenter"
}
clients "Lab machines" site="P01" zone="lab"
```

## Fixed example
```kdl
firewall "fw-core" default="deny" {
    zones "hq" "datacenter" "lab"
}
```
"#,
};

pub fn check(cx: &Context<'_, '_>, out: &mut Vec<Diagnostic>) {
    let net = cx.net;
    let mut groups: BTreeMap<(ZoneId, ZoneId), Vec<&RequiredFlow>> = BTreeMap::new();
    // The verdict first: it is cheaper to read than the flow's phases.
    let flows = cx.flows.iter().zip(cx.verdicts);
    for (flow, _) in flows.filter(|(f, v)| v.verdict == Verdict::NoPath && cx.checked(f)) {
        let key = (net.zone_of(flow.source), net.zone_of(flow.destination));
        // A zone that does not exist is already `schema/unknown-reference`.
        let undeclared =
            |z: ZoneId| net.zones[z].declared.is_none() && net.zones[z].name != "internet";
        if undeclared(key.0) || undeclared(key.1) {
            continue;
        }
        groups.entry(key).or_default().push(flow);
    }
    let model = cx.model;
    for ((from, to), flows) in groups {
        let zone_span = |z: ZoneId| net.zones[z].declared.map(|i| model.zones[i].span);
        let first = flows[0];
        let example = format!(
            "{} -> {} {}",
            first.source.name(model),
            first.destination.name(model),
            flow_part(model, first, first.ports)
        );
        let mut hosts: Vec<String> = flows
            .iter()
            .map(|f| f.source.name(model).to_owned())
            .collect();
        hosts.dedup();
        let (from_name, to_name) = (net.zones[from].name, net.zones[to].name);
        let message = format!(
            "no firewall joins zone `{from_name}` to zone `{to_name}`: {} required flow{} cannot pass (from {}), e.g. {example}",
            flows.len(),
            if flows.len() == 1 { "" } else { "s" },
            short_list(&hosts, 3),
        );
        let (primary, other) = match (zone_span(from), zone_span(to)) {
            (Some(a), b) => (
                Label::new(a, "the flows start in this zone"),
                b.map(|b| Label::new(b, "and go to this zone")),
            ),
            (None, Some(b)) => (Label::new(b, "no firewall path leads here"), None),
            (None, None) => match cx
                .endpoint_span(first.source)
                .or_else(|| cx.endpoint_span(first.destination))
            {
                Some(s) => (Label::new(s, "no firewall path from here"), None),
                None => continue,
            },
        };
        let mut d = Diagnostic::new(&RULE, message, primary);
        if let Some(other) = other {
            d = d.with_label(other);
        }
        if let Some(label) = cx.requirement(first) {
            d = d.with_label(label);
        }
        out.push(d.with_help(format!(
            "list both zones in the `zones` of a firewall that carries this traffic, e.g. zones \"{from_name}\" \"{to_name}\""
        )));
    }
}
