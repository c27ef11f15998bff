//! The admin's intent for exports (`flows.md` § Intent: waivers and forbids): which parts
//! of the required flows an export may open (neither waived nor forbidden), and which of
//! the model's own deny rules and forbids an export carries (those that stop none of the
//! flows it opens).

use super::evaluate::{rpc_range, rule_ports};
use super::flows::{FlowPorts, RequiredFlow};
use super::intervals;
use super::network::{Network, Place, Tri};
use crate::model::{Action, Protocol, Traffic};

/// The port intervals of a flow that a traffic description (a forbid, a rule) surely
/// names: both ends match for sure and the ports overlap.
fn surely_named(net: &Network<'_>, traffic: &Traffic, flow: &RequiredFlow) -> Vec<(u32, u32)> {
    if net.list_matches(&traffic.from, Place::Host(flow.source)) != Tri::Yes
        || net.list_matches(&traffic.to, Place::Host(flow.destination)) != Tri::Yes
    {
        return Vec::new();
    }
    let mut ports = Vec::new();
    rule_ports(
        traffic,
        flow.protocol,
        rpc_range(net.model, flow.destination),
        &mut ports,
    );
    intervals::split(&[flow.ports.interval()], &ports).0
}

/// Whether a traffic description may match a flow (ends `yes` or `maybe`, ports overlap).
pub fn may_match(net: &Network<'_>, traffic: &Traffic, flow: &RequiredFlow) -> bool {
    if net.list_matches(&traffic.from, Place::Host(flow.source)) == Tri::No
        || net.list_matches(&traffic.to, Place::Host(flow.destination)) == Tri::No
    {
        return false;
    }
    let mut ports = Vec::new();
    rule_ports(
        traffic,
        flow.protocol,
        rpc_range(net.model, flow.destination),
        &mut ports,
    );
    intervals::overlap(&ports, &[flow.ports.interval()])
}

/// The flows an export opens: the required flows without the waived ones and without the
/// ports a `policy` forbids (a flow in `policy/conflict` is not opened). Sorted as
/// [`super::required_flows`] returns them.
pub fn exported_flows(net: &Network<'_>, flows: &[RequiredFlow]) -> Vec<RequiredFlow> {
    let model = net.model;
    let mut out = Vec::with_capacity(flows.len());
    for flow in flows.iter().filter(|f| !f.is_waived()) {
        let mut rest = vec![flow.ports.interval()];
        for forbid in model.policies.iter().flat_map(|p| &p.forbids) {
            if rest.is_empty() {
                break;
            }
            let named = surely_named(net, &forbid.traffic, flow);
            if !named.is_empty() {
                rest = intervals::split(&rest, &named).1;
            }
        }
        if rest == [flow.ports.interval()] {
            out.push(flow.clone());
            continue;
        }
        for (a, b) in rest {
            let ports = if flow.protocol == Protocol::Icmp {
                FlowPorts::Echo
            } else {
                FlowPorts::Range(
                    u16::try_from(a).unwrap_or(u16::MAX),
                    u16::try_from(b).unwrap_or(u16::MAX),
                )
            };
            out.push(RequiredFlow {
                ports,
                ..flow.clone()
            });
        }
    }
    out
}

/// What an export carries besides its allow rules: per network firewall (by index), the
/// model's deny rules (by index) and forbids (policy, forbid) that may match none of the
/// exported flows crossing it, written before the allow rules; per host, the `block`
/// rules of its Windows Firewall that match none of its exported flows.
#[derive(Debug, Default)]
pub struct Carried {
    pub firewall_denies: Vec<Vec<usize>>,
    pub firewall_forbids: Vec<Vec<(usize, usize)>>,
}

/// Computes [`Carried`] for the exported flows and their verdicts (parallel).
pub fn carried(
    net: &Network<'_>,
    exported: &[RequiredFlow],
    verdicts: &[super::FlowVerdict],
) -> Carried {
    let model = net.model;
    let mut crossing: Vec<Vec<&RequiredFlow>> = vec![Vec::new(); model.firewalls.len()];
    for (flow, verdict) in exported.iter().zip(verdicts) {
        for &fw in verdict.firewalls() {
            crossing[fw].push(flow);
        }
    }
    let forbids: Vec<(usize, usize, &Traffic)> = model
        .policies
        .iter()
        .enumerate()
        .flat_map(|(p, policy)| {
            policy
                .forbids
                .iter()
                .enumerate()
                .map(move |(f, forbid)| (p, f, &forbid.traffic))
        })
        .collect();
    let mut out = Carried::default();
    for (fw, firewall) in model.firewalls.iter().enumerate() {
        let stops_none = |t: &Traffic| !crossing[fw].iter().any(|flow| may_match(net, t, flow));
        out.firewall_denies.push(
            firewall
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.action == Action::Deny && stops_none(&r.traffic))
                .map(|(i, _)| i)
                .collect(),
        );
        out.firewall_forbids.push(
            forbids
                .iter()
                .filter(|(_, _, t)| stops_none(t))
                .map(|&(p, f, _)| (p, f))
                .collect(),
        );
    }
    out
}
