//! Firewall evaluation: every required flow through the source's outbound host rules, the
//! network firewalls of its route and the destination's inbound host rules, with the
//! decision of each, port range by port range.
//!
//! Network firewalls decide by first match, then `default`; Windows Firewall lets a
//! matching `block` win over any `allow`, which is a first match over the blocks followed
//! by the allows. A rule whose match the model cannot decide makes its part of the flow
//! `indeterminate`. Flows are evaluated per (source, destination) pair; a network
//! firewall's first match comes from its rule index (`index`), not from a scan of its
//! rules per flow.

#[cfg(test)]
use std::sync::Arc;

use super::intervals;
use super::network::{Network, Place, Route, Tri};
use super::{FlowEndpoint, FlowPorts, RequiredFlow, pair_runs};
use crate::model::{Action, Direction, HostFirewall, Model, PortItem, Protocol, Traffic};

mod edit;
mod index;

pub use edit::{RulesEdit, reevaluate};

/// What filters a flow on its way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Filter {
    /// The source host's Windows Firewall, outbound.
    HostOut(FlowEndpoint),
    /// A network firewall, by index in [`Model::firewalls`].
    Network(usize),
    /// The destination host's Windows Firewall, inbound.
    HostIn(FlowEndpoint),
}

impl Filter {
    /// `fw-core`, `dp01.contoso.com inbound`, `HQ desktops outbound`.
    pub fn name(self, model: &Model) -> String {
        match self {
            Filter::Network(f) => model.firewalls[f].name.value.clone(),
            Filter::HostIn(e) => format!("{} inbound", e.name(model)),
            Filter::HostOut(e) => format!("{} outbound", e.name(model)),
        }
    }

    /// The host firewall behind a host filter.
    pub fn host_firewall(self, model: &Model) -> Option<&HostFirewall> {
        match self {
            Filter::HostIn(e) | Filter::HostOut(e) => host_firewall(model, e),
            Filter::Network(_) => None,
        }
    }
}

/// A rule (by index in its firewall's `rules`) or the firewall's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DecidedBy {
    Rule(usize),
    Default,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Allow,
    Deny,
    /// The deciding rule may or may not match (`firewall/indeterminate`).
    Unknown,
}

/// One filter's decision on a part of a flow's ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub filter: Filter,
    pub by: DecidedBy,
    pub outcome: Outcome,
    pub ports: FlowPorts,
}

impl Decision {
    /// `fw-core: "HQ to MP"`, `fw-core: rule 3`, `fw-core: default`.
    pub fn describe(&self, model: &Model) -> String {
        describe(model, self.filter, self.by)
    }
}

/// How a flow list names a filter's rule or default: `fw-core: "HQ to MP"`,
/// `fw-core: rule 3`, `fw-core: default`, `dp01.contoso.com inbound: rule 2`.
pub fn describe(model: &Model, filter: Filter, by: DecidedBy) -> String {
    let name = filter.name(model);
    match by {
        DecidedBy::Default => format!("{name}: default"),
        DecidedBy::Rule(i) => match rule_name(model, filter, i) {
            Some(rule) => format!("{name}: \"{rule}\""),
            None => format!("{name}: rule {}", i + 1),
        },
    }
}

/// The name of a rule of a filter, when it has one.
pub fn rule_name(model: &Model, filter: Filter, rule: usize) -> Option<&str> {
    let name = match filter {
        Filter::Network(f) => model.firewalls[f].rules[rule].name.as_ref(),
        _ => filter.host_firewall(model)?.rules[rule].name.as_ref(),
    };
    name.map(|n| n.value.as_str())
}

/// A flow's verdict (`cli.md` § flows output).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Allowed,
    Indeterminate,
    Blocked,
    NoPath,
    /// A `waive` covers the flow: it is not required, and not evaluated.
    Waived,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::Blocked => "blocked",
            Verdict::NoPath => "no-path",
            Verdict::Indeterminate => "indeterminate",
            Verdict::Waived => "waived",
        }
    }
}

/// How one flow fares.
#[derive(Clone, Debug)]
pub struct FlowVerdict {
    pub verdict: Verdict,
    pub route: Route,
    /// In the order the flow meets the filters: source outbound, network firewalls along
    /// the route, destination inbound.
    pub decisions: Vec<Decision>,
}

impl FlowVerdict {
    /// The network firewalls the flow crosses.
    pub fn firewalls(&self) -> &[usize] {
        match &self.route {
            Route::Through(f) => f,
            _ => &[],
        }
    }
}

/// The Windows Firewall of an endpoint, if it has one.
pub fn host_firewall(model: &Model, e: FlowEndpoint) -> Option<&HostFirewall> {
    match e {
        FlowEndpoint::Server(i) => model.servers[i].host_firewall.as_ref(),
        FlowEndpoint::Clients(i) => model.clients[i].host_firewall.as_ref(),
        _ => None,
    }
}

/// The network profile host rules are matched against: the server's `network-profile`;
/// for client groups `domain`, or `public` for workgroup and Internet clients.
pub fn network_profile(model: &Model, e: FlowEndpoint) -> String {
    match e {
        FlowEndpoint::Server(i) => model.servers[i].network_profile(),
        FlowEndpoint::Clients(i) => {
            let c = &model.clients[i].props;
            if c.bool("workgroup") || c.bool("internet") {
                "public".into()
            } else {
                "domain".into()
            }
        }
        _ => "domain".into(),
    }
}

/// The host rules of one direction that apply to the host's profile, blocks first.
fn host_rules(model: &Model, e: FlowEndpoint, direction: Direction) -> Vec<usize> {
    let Some(fw) = host_firewall(model, e) else {
        return Vec::new();
    };
    let profile = network_profile(model, e);
    let applies = |i: &usize| {
        let r = &fw.rules[*i];
        r.direction == direction && (r.profiles.is_empty() || r.profiles.contains(&profile))
    };
    let (mut blocks, allows): (Vec<usize>, Vec<usize>) = (0..fw.rules.len())
        .filter(applies)
        .partition(|&i| fw.rules[i].action == Action::Deny);
    blocks.extend(allows);
    blocks
}

/// The dynamic RPC range `rpc` stands for at an endpoint.
pub fn rpc_range(model: &Model, e: FlowEndpoint) -> (u16, u16) {
    match e {
        FlowEndpoint::Server(i) => model.servers[i].rpc_ports,
        _ => (49152, 65535),
    }
}

/// The source port of a required flow is any port of the ephemeral range.
const EPHEMERAL: (u32, u32) = (49152, 65535);

/// Whether a host rule's source ports (`remote-port` of an `in` rule, `local-port` of an
/// `out` rule) match a required flow's source port: yes when they hold the whole
/// ephemeral range, no when disjoint from it, maybe otherwise (`language.md`).
fn source_port_match(rule: &crate::model::HostRule) -> Tri {
    let Some(list) = &rule.source_ports else {
        return Tri::Yes;
    };
    let ranges = intervals::merge(list.value.items.iter().map(|item| match *item {
        PortItem::Range(a, b) => (u32::from(a), u32::from(b)),
        PortItem::Rpc => EPHEMERAL,
        PortItem::RpcEpmap => (135, 135),
    }));
    let (inside, outside) = intervals::split(&[EPHEMERAL], &ranges);
    if outside.is_empty() {
        Tri::Yes
    } else if inside.is_empty() {
        Tri::No
    } else {
        Tri::Maybe
    }
}

/// The port intervals of `protocol` a rule's traffic covers (ICMP echo is port 0).
pub fn rule_ports(
    traffic: &Traffic,
    protocol: Protocol,
    rpc: (u16, u16),
    out: &mut Vec<(u32, u32)>,
) {
    if traffic.matches_all_protocols() {
        out.push((0, 65535));
        return;
    }
    let list = match protocol {
        Protocol::Icmp => {
            if traffic.icmp {
                out.push((0, 0));
            }
            return;
        }
        Protocol::Tcp => &traffic.tcp,
        Protocol::Udp => &traffic.udp,
    };
    if let Some(list) = list {
        for item in &list.value.items {
            out.push(match *item {
                PortItem::Range(a, b) => (u32::from(a), u32::from(b)),
                PortItem::Rpc => (u32::from(rpc.0), u32::from(rpc.1)),
                PortItem::RpcEpmap => (135, 135),
            });
        }
    }
    *out = intervals::merge(out.drain(..));
}

/// One candidate rule for a pair of places: its index, how surely its endpoints match,
/// what it matches and what it does.
struct Candidate<'m> {
    index: usize,
    tri: Tri,
    traffic: &'m Traffic,
    action: Action,
}

/// First match over `rules`, then `default`, for one flow; pushes one decision per part.
fn decide(
    filter: Filter,
    rules: &[Candidate<'_>],
    default: Action,
    flow: &RequiredFlow,
    rpc: (u16, u16),
    out: &mut Vec<Decision>,
) {
    let mut remaining = vec![flow.ports.interval()];
    let mut covered = Vec::new();
    for rule in rules {
        if remaining.is_empty() {
            return;
        }
        covered.clear();
        rule_ports(rule.traffic, flow.protocol, rpc, &mut covered);
        if covered.is_empty() {
            continue;
        }
        let outcome = match (rule.tri, rule.action) {
            (Tri::Maybe, _) => Outcome::Unknown,
            (_, Action::Allow) => Outcome::Allow,
            (_, Action::Deny) => Outcome::Deny,
        };
        let (decided, left) = intervals::split(&remaining, &covered);
        out.extend(decided.into_iter().map(|p| Decision {
            filter,
            by: DecidedBy::Rule(rule.index),
            outcome,
            ports: FlowPorts::from_interval(flow.protocol, p),
        }));
        remaining = left;
    }
    for &(lo, hi) in &remaining {
        out.push(Decision {
            filter,
            by: DecidedBy::Default,
            outcome: match default {
                Action::Allow => Outcome::Allow,
                Action::Deny => Outcome::Deny,
            },
            ports: FlowPorts::from_interval(flow.protocol, (lo, hi)),
        });
    }
}

/// How network firewalls decide flows: by the rule index, or (the reference the tests
/// compare it with) by scanning each pair's candidate rules.
trait NetworkRules {
    /// What one firewall keeps for one (source, destination) pair.
    type Pair;

    fn pair(
        &mut self,
        net: &Network<'_>,
        fw: usize,
        source: FlowEndpoint,
        destination: FlowEndpoint,
    ) -> Self::Pair;

    /// Pushes the firewall's decisions on the flow, part by part.
    fn decide(
        &mut self,
        net: &Network<'_>,
        pair: &Self::Pair,
        flow: &RequiredFlow,
        rpc: (u16, u16),
        out: &mut Vec<Decision>,
    );
}

impl NetworkRules for index::RuleIndex<'_> {
    type Pair = index::PairRules;

    fn pair(
        &mut self,
        net: &Network<'_>,
        fw: usize,
        source: FlowEndpoint,
        destination: FlowEndpoint,
    ) -> Self::Pair {
        index::RuleIndex::pair(self, net, fw, Place::Host(source), Place::Host(destination))
    }

    fn decide(
        &mut self,
        net: &Network<'_>,
        pair: &Self::Pair,
        flow: &RequiredFlow,
        rpc: (u16, u16),
        out: &mut Vec<Decision>,
    ) {
        index::RuleIndex::decide(self, net, pair, flow, rpc, out);
    }
}

/// Evaluates every flow. `flows` must be sorted by source and destination (as
/// [`super::required_flows`] returns them); the result is parallel to it.
pub fn evaluate(net: &Network<'_>, flows: &[RequiredFlow]) -> Vec<FlowVerdict> {
    evaluate_with(net, flows, &mut index::RuleIndex::new(net))
}

fn evaluate_with<N: NetworkRules>(
    net: &Network<'_>,
    flows: &[RequiredFlow],
    rules: &mut N,
) -> Vec<FlowVerdict> {
    let model = net.model;
    let mut out = Vec::with_capacity(flows.len());
    for run in pair_runs(flows) {
        let (start, end) = (run.start, run.end);
        let (source, destination) = (flows[start].source, flows[start].destination);
        let route = net.route(net.zone_of(source), net.zone_of(destination));
        // The candidate rules of each firewall on the route for this pair.
        let network: Vec<N::Pair> = match &route {
            Route::Through(fws) => fws
                .iter()
                .map(|&fw| rules.pair(net, fw, source, destination))
                .collect(),
            _ => Vec::new(),
        };
        let host =
            |e: FlowEndpoint, direction: Direction| -> Option<(Vec<Candidate<'_>>, Action)> {
                let fw = host_firewall(model, e)?;
                let rules = host_rules(model, e, direction)
                    .into_iter()
                    .filter_map(|i| {
                        let r = &fw.rules[i];
                        let tri = net
                            .list_matches(&r.traffic.from, Place::Host(source))
                            .and(net.list_matches(&r.traffic.to, Place::Host(destination)))
                            .and(source_port_match(r))
                            .and(if r.uncertain.is_some() {
                                Tri::Maybe
                            } else {
                                Tri::Yes
                            });
                        (tri != Tri::No).then_some(Candidate {
                            index: i,
                            tri,
                            traffic: &r.traffic,
                            action: r.action,
                        })
                    })
                    .collect();
                let default = match direction {
                    Direction::In => fw.inbound,
                    Direction::Out => fw.outbound,
                };
                Some((rules, default))
            };
        let outbound = host(source, Direction::Out);
        let inbound = host(destination, Direction::In);
        for flow in &flows[start..end] {
            let mut decisions = Vec::new();
            let verdict = if flow.is_waived() {
                Verdict::Waived
            } else if route == Route::NoPath {
                Verdict::NoPath
            } else {
                if let Some((rules, default)) = &outbound {
                    let rpc = rpc_range(model, source);
                    decide(
                        Filter::HostOut(source),
                        rules,
                        *default,
                        flow,
                        rpc,
                        &mut decisions,
                    );
                }
                let rpc = rpc_range(model, destination);
                for pair in &network {
                    rules.decide(net, pair, flow, rpc, &mut decisions);
                }
                if let Some((rules, default)) = &inbound {
                    decide(
                        Filter::HostIn(destination),
                        rules,
                        *default,
                        flow,
                        rpc,
                        &mut decisions,
                    );
                }
                if decisions.iter().any(|d| d.outcome == Outcome::Deny) {
                    Verdict::Blocked
                } else if decisions.iter().any(|d| d.outcome == Outcome::Unknown) {
                    Verdict::Indeterminate
                } else {
                    Verdict::Allowed
                }
            };
            out.push(FlowVerdict {
                verdict,
                route: route.clone(),
                decisions,
            });
        }
    }
    out
}

/// The evaluation the index replaced, kept as the reference the tests compare it with:
/// per firewall and place the candidate rules as lists, merged per pair, then [`decide`]
/// scans them rule by rule.
#[cfg(test)]
mod scan {
    use super::*;

    /// Per network firewall, the rules whose `from` (or `to`) may name a place, by place
    /// id: rule indexes with how surely they match.
    pub(super) struct CandidateCache {
        from: Vec<Vec<Option<Candidates>>>,
        to: Vec<Vec<Option<Candidates>>>,
    }

    type Candidates = Arc<[(u32, Tri)]>;

    impl CandidateCache {
        pub(super) fn new(net: &Network<'_>) -> Self {
            let n = net.model.firewalls.len();
            let places = net.place_count();
            Self {
                from: vec![vec![None; places]; n],
                to: vec![vec![None; places]; n],
            }
        }

        fn lookup(
            &mut self,
            net: &Network<'_>,
            fw: usize,
            place: Place,
            from_side: bool,
        ) -> Candidates {
            let id = net.place_id(place);
            let slot = if from_side {
                &mut self.from[fw][id]
            } else {
                &mut self.to[fw][id]
            };
            slot.get_or_insert_with(|| {
                net.model.firewalls[fw]
                    .rules
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| {
                        let list = if from_side {
                            &r.traffic.from
                        } else {
                            &r.traffic.to
                        };
                        let mut tri = net
                            .list_matches(list, place)
                            .and(net.guard_matches(&r.guard, place, from_side));
                        if from_side && r.uncertain.is_some() {
                            tri = tri.and(Tri::Maybe);
                        }
                        #[allow(clippy::cast_possible_truncation)]
                        (tri != Tri::No).then_some((i as u32, tri))
                    })
                    .collect()
            })
            .clone()
        }
    }

    impl NetworkRules for CandidateCache {
        /// The firewall and its candidate rules for the pair, ascending.
        type Pair = (usize, Vec<(usize, Tri)>);

        fn pair(
            &mut self,
            net: &Network<'_>,
            fw: usize,
            source: FlowEndpoint,
            destination: FlowEndpoint,
        ) -> Self::Pair {
            let from = self.lookup(net, fw, Place::Host(source), true);
            let to = self.lookup(net, fw, Place::Host(destination), false);
            let mut both = Vec::new();
            let (mut i, mut j) = (0, 0);
            while i < from.len() && j < to.len() {
                match from[i].0.cmp(&to[j].0) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        both.push((from[i].0 as usize, from[i].1.and(to[j].1)));
                        i += 1;
                        j += 1;
                    }
                }
            }
            (fw, both)
        }

        fn decide(
            &mut self,
            net: &Network<'_>,
            (fw, both): &Self::Pair,
            flow: &RequiredFlow,
            rpc: (u16, u16),
            out: &mut Vec<Decision>,
        ) {
            let firewall = &net.model.firewalls[*fw];
            let rules: Vec<Candidate<'_>> = both
                .iter()
                .map(|&(index, tri)| Candidate {
                    index,
                    tri,
                    traffic: &firewall.rules[index].traffic,
                    action: firewall.rules[index].action,
                })
                .collect();
            decide(
                Filter::Network(*fw),
                &rules,
                firewall.default,
                flow,
                rpc,
                out,
            );
        }
    }

    /// [`evaluate`] by scanning.
    pub(crate) fn evaluate(net: &Network<'_>, flows: &[RequiredFlow]) -> Vec<FlowVerdict> {
        evaluate_with(net, flows, &mut CandidateCache::new(net))
    }
}

#[cfg(test)]
mod tests;
