//! Waivers (`language.md` § Waivers): the parts of required flows that a `waive` matches
//! are marked waived, so that no check, export or graph treats them as required.
//!
//! A waiver matches a flow part when both of its endpoint lists surely name the flow's
//! source and destination (a `cidr:` that may or may not name them does not waive), its
//! ports cover that part and its `phase` is the flow's. Where it covers only some ports of
//! a flow, the flow is split: the covered ports are waived, the rest stays required.

use super::evaluate::rpc_range;
use super::flows::{FlowPorts, RequiredFlow};
use super::intervals;
use super::network::{Network, Place, Tri};
use crate::model::{Model, Waiver};

/// Whether a waiver names a flow's source, destination and phase (not its ports).
pub fn waiver_names(net: &Network<'_>, waiver: &Waiver, flow: &RequiredFlow) -> bool {
    waiver
        .phase
        .as_deref()
        .is_none_or(|p| flow.services.iter().any(|s| s.phase.as_str() == p))
        && net.list_matches(&waiver.traffic.from, Place::Host(flow.source)) == Tri::Yes
        && net.list_matches(&waiver.traffic.to, Place::Host(flow.destination)) == Tri::Yes
}

/// The port intervals of a flow that a waiver covers (empty when it names none of them).
pub fn waived_ports(model: &Model, waiver: &Waiver, flow: &RequiredFlow) -> Vec<(u32, u32)> {
    let mut ports = Vec::new();
    super::evaluate::rule_ports(
        &waiver.traffic,
        flow.protocol,
        rpc_range(model, flow.destination),
        &mut ports,
    );
    intervals::split(&[flow.ports.interval()], &ports).0
}

/// Marks the waived parts of `flows` (each part keeps the first waiver, in file order,
/// that covers it) and returns them sorted as [`super::required_flows`] does.
pub fn apply(model: &Model, flows: Vec<RequiredFlow>) -> Vec<RequiredFlow> {
    if model.waivers.is_empty() {
        return flows;
    }
    let net = Network::new(model);
    let mut out = Vec::with_capacity(flows.len());
    let mut split = false;
    for flow in flows {
        let mut rest = vec![flow.ports.interval()];
        let mut parts = Vec::new();
        for (w, waiver) in model.waivers.iter().enumerate() {
            if rest.is_empty() || !waiver_names(&net, waiver, &flow) {
                continue;
            }
            let covered = waived_ports(model, waiver, &flow);
            if covered.is_empty() {
                continue;
            }
            let (inside, outside) = intervals::split(&rest, &covered);
            parts.extend(inside.into_iter().map(|i| (i, Some(w))));
            rest = outside;
        }
        if parts.is_empty() {
            out.push(flow);
            continue;
        }
        split = true;
        parts.extend(rest.into_iter().map(|i| (i, None)));
        for ((a, b), waived_by) in parts {
            let ports = FlowPorts::from_interval(flow.protocol, (a, b));
            out.push(RequiredFlow {
                ports,
                waived_by,
                ..flow.clone()
            });
        }
    }
    if split {
        out.sort_by(|a, b| {
            (a.source, a.destination, a.protocol, a.ports).cmp(&(
                b.source,
                b.destination,
                b.protocol,
                b.ports,
            ))
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::engine::{Phase, required_flows, test_model};

    #[test]
    fn a_waiver_waives_only_the_ports_it_names_and_its_phase() {
        let m = test_model(
            r#"
zone "a" { subnet "10.1.0.0/16"; }
server "a1.contoso.com" zone="a"
server "b1.contoso.com" zone="a"
flow "app" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="8000-8010,9000"
waive "8005 is not used" from="host:a1.contoso.com" to="host:b1.contoso.com" tcp="8005"
waive "only at install" to="host:b1.contoso.com" tcp="9000" phase="install"
"#,
        );
        let flows = required_flows(&m, &Phase::ALL);
        let shown: Vec<String> = flows
            .iter()
            .map(|f| format!("{} {:?}", f.ports, f.waived_by))
            .collect();
        assert_eq!(
            shown,
            [
                "8000-8004 None",
                "8005 Some(0)",
                "8006-8010 None",
                "9000 None"
            ]
        );
    }
}
