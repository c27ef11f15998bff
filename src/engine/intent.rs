//! The admin's intent for exports (`flows.md` § Intent: waivers and forbids): which parts
//! of the required flows an export may open (neither waived nor forbidden), and which of
//! the model's own deny rules and forbids an export carries (those that stop none of the
//! flows it opens).

use std::collections::BTreeMap;

use super::evaluate::{host_firewall, rpc_range, rule_ports};
use super::flows::{FlowEndpoint, FlowPorts, RequiredFlow};
use super::intervals;
use super::network::{Network, Place, Tri};
use crate::model::{Action, Direction, Traffic};

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
    may_match_ports(net, traffic, flow, flow.ports)
}

/// [`may_match`] for the part `ports` of a flow (a decision's ports).
pub fn may_match_ports(
    net: &Network<'_>,
    traffic: &Traffic,
    flow: &RequiredFlow,
    ports: FlowPorts,
) -> bool {
    if net.list_matches(&traffic.from, Place::Host(flow.source)) == Tri::No
        || net.list_matches(&traffic.to, Place::Host(flow.destination)) == Tri::No
    {
        return false;
    }
    let mut opened = Vec::new();
    rule_ports(
        traffic,
        flow.protocol,
        rpc_range(net.model, flow.destination),
        &mut opened,
    );
    intervals::overlap(&opened, &[ports.interval()])
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
            let ports = FlowPorts::from_interval(flow.protocol, (a, b));
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
    /// Per host with a `windows-firewall`: its `block` rules (by index) that match none of
    /// the host's exported flows in their direction.
    pub host_blocks: BTreeMap<FlowEndpoint, Vec<usize>>,
    /// Per host (server or client group): the forbids (policy, forbid) whose destination
    /// (inbound) or source (outbound) surely names the host and that match none of its
    /// exported flows in that direction.
    pub host_forbids: BTreeMap<FlowEndpoint, Vec<(Direction, usize, usize)>>,
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
    // Hosts: Windows Firewall block rules, and forbids as blocks on the hosts they name.
    let mut inbound: BTreeMap<FlowEndpoint, Vec<&RequiredFlow>> = BTreeMap::new();
    let mut outbound: BTreeMap<FlowEndpoint, Vec<&RequiredFlow>> = BTreeMap::new();
    for flow in exported {
        inbound.entry(flow.destination).or_default().push(flow);
        outbound.entry(flow.source).or_default().push(flow);
    }
    let hosts = (0..model.servers.len())
        .map(FlowEndpoint::Server)
        .chain((0..model.clients.len()).map(FlowEndpoint::Clients));
    for host in hosts {
        let flows_of = |d: Direction| match d {
            Direction::In => inbound.get(&host).map_or(&[][..], Vec::as_slice),
            Direction::Out => outbound.get(&host).map_or(&[][..], Vec::as_slice),
        };
        let stops_none =
            |t: &Traffic, d: Direction| !flows_of(d).iter().any(|flow| may_match(net, t, flow));
        if let Some(fw) = host_firewall(model, host) {
            let blocks: Vec<usize> = fw
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.action == Action::Deny && stops_none(&r.traffic, r.direction))
                .map(|(i, _)| i)
                .collect();
            if !blocks.is_empty() {
                out.host_blocks.insert(host, blocks);
            }
        }
        let mut named = Vec::new();
        for &(p, f, t) in &forbids {
            for d in [Direction::In, Direction::Out] {
                let end = match d {
                    Direction::In => &t.to,
                    Direction::Out => &t.from,
                };
                // Inbound on the hosts it forbids to reach; outbound only for traffic to
                // the Internet, which has no host firewall of its own.
                let applies = match d {
                    Direction::In => true,
                    Direction::Out => {
                        net.list_matches(&t.to, Place::Host(FlowEndpoint::Internet)) == Tri::Yes
                            && !t
                                .to
                                .iter()
                                .any(|e| matches!(e.value, crate::model::Endpoint::Any))
                    }
                };
                if applies
                    && net.list_matches(end, Place::Host(host)) == Tri::Yes
                    && stops_none(t, d)
                {
                    named.push((d, p, f));
                }
            }
        }
        if !named.is_empty() {
            out.host_forbids.insert(host, named);
        }
    }
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
