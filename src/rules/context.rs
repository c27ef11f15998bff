//! What every check reads (the model, the network, the required flows and their
//! verdicts) and the wording helpers the firewall checks share: how to name a flow's
//! endpoints in KDL, where the requirement of a flow lives, how to print port lists.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use rayon::prelude::*;

use crate::diag::Label;
use crate::engine::{
    DecidedBy, Decision, Filter, FlowEndpoint, FlowPorts, FlowVerdict, Network, Origin, Outcome,
    Phase, Place, RequiredFlow, RuleSpace, SpaceBuilder, Tri, Verdict,
};
use crate::model::{Model, Protocol, Span};

/// What the required flows make of one `allow` rule: the flow parts it lets through.
#[derive(Debug, Default)]
pub struct RuleUse {
    pub ports: PortSet,
    pub sources: BTreeSet<FlowEndpoint>,
    pub destinations: BTreeSet<FlowEndpoint>,
    pub flows: usize,
}

/// A rule of a network firewall (`Filter::Network`) or of a host firewall (`HostIn` for
/// its `in` rules, `HostOut` for its `out` rules), by index.
pub type RuleKey = (Filter, usize);

/// A deciding rule (or default) and the pair of endpoints it decides between.
pub type DecisionGroup = (Filter, DecidedBy, FlowEndpoint, FlowEndpoint);

/// The inputs of the checks.
pub struct Context<'a, 'm> {
    pub model: &'m Model,
    pub net: &'a Network<'m>,
    /// The required flows of every phase, sorted by source and destination.
    pub flows: &'a [RequiredFlow],
    /// Parallel to `flows`.
    pub verdicts: &'a [FlowVerdict],
    /// The phases the user checks (`--phase`): blocked, unreachable and conflicting flows
    /// are reported for these; rule usage counts every phase.
    pub phases: &'a [Phase],
    usage: OnceLock<FxHashMap<RuleKey, RuleUse>>,
    spaces: OnceLock<Vec<Vec<RuleSpace>>>,
    /// Spaces already known, by firewall and rule (a re-check's, from the check before).
    known_spaces: Vec<Vec<Option<RuleSpace>>>,
    /// Hosts and client groups whose zone does not exist.
    unplaced: OnceLock<Vec<FlowEndpoint>>,
}

impl<'a, 'm> Context<'a, 'm> {
    pub fn new(
        model: &'m Model,
        net: &'a Network<'m>,
        flows: &'a [RequiredFlow],
        verdicts: &'a [FlowVerdict],
        phases: &'a [Phase],
    ) -> Self {
        Self {
            model,
            net,
            flows,
            verdicts,
            phases,
            usage: OnceLock::new(),
            spaces: OnceLock::new(),
            known_spaces: Vec::new(),
            unplaced: OnceLock::new(),
        }
    }

    /// Whether a rule's match may be empty because of an input error rather than a
    /// mistake of the rule: it names something an unparsed file may declare, or a host or
    /// client group whose zone does not exist (and so has no flow). The checks that judge
    /// what the model lacks (unused rules) skip such rules: the input error
    /// is the one diagnostic of that mistake.
    pub fn follows_from_input_errors(&self, traffic: &crate::model::Traffic) -> bool {
        use crate::model::Endpoint;
        let m = self.model;
        let words = &m.unparsed_words;
        let named_in_unparsed = |e: &Endpoint| match e {
            Endpoint::Any | Endpoint::Cidr(_) => false,
            Endpoint::Zone(n) | Endpoint::Host(n) | Endpoint::Site(n) | Endpoint::Clients(n) => {
                words.contains(n)
            }
            Endpoint::Role { role, site } => {
                words.contains(role) || site.as_ref().is_some_and(|s| words.contains(s))
            }
        };
        let unplaced = self.unplaced.get_or_init(|| {
            let known = |zone: &str| zone == "internet" || m.zone(zone).is_some();
            let servers = m.servers.iter().enumerate();
            let clients = m.clients.iter().enumerate();
            let consoles = m.consoles.iter().enumerate();
            servers
                .filter(|(_, s)| !known(&s.zone.value))
                .map(|(i, _)| FlowEndpoint::Server(i))
                .chain(
                    clients
                        .filter(|(_, c)| !known(&c.zone.value))
                        .map(|(i, _)| FlowEndpoint::Clients(i)),
                )
                .chain(
                    consoles
                        .filter(|(_, c)| !known(&c.zone.value))
                        .map(|(i, _)| FlowEndpoint::Console(i)),
                )
                .collect()
        });
        traffic.from.iter().chain(&traffic.to).any(|e| {
            named_in_unparsed(e)
                || (!matches!(
                    e.value,
                    Endpoint::Any | Endpoint::Zone(_) | Endpoint::Cidr(_)
                ) && unplaced
                    .iter()
                    .any(|&host| self.net.matches(e, Place::Host(host)) != Tri::No))
        })
    }

    /// What each rule of each network firewall matches (`engine::space`), by firewall and
    /// rule index; computed once for the shadowed-rule and policy checks.
    pub fn rule_spaces(&self) -> &[Vec<RuleSpace>] {
        self.spaces.get_or_init(|| {
            // Firewalls side by side, each thread with its own builder.
            let builder = SpaceBuilder::new(self.net);
            self.model
                .firewalls
                .par_iter()
                .enumerate()
                .map_init(
                    || builder.clone(),
                    |builder, (f, fw)| {
                        let known = self.known_spaces.get(f);
                        fw.rules
                            .iter()
                            .enumerate()
                            .map(|(i, r)| {
                                known
                                    .and_then(|k| k.get(i)?.clone())
                                    .unwrap_or_else(|| builder.space(&r.traffic))
                            })
                            .collect()
                    },
                )
                .collect()
        })
    }

    /// [`Context::rule_spaces`] will take these (by firewall and rule, in the network of
    /// this context) instead of computing them.
    #[must_use]
    pub fn with_known_rule_spaces(mut self, known: Vec<Vec<Option<RuleSpace>>>) -> Self {
        self.known_spaces = known;
        self
    }

    /// The rule spaces, by firewall and rule: all of them when the checks computed them,
    /// else those that were known.
    pub fn into_rule_spaces(self) -> Vec<Vec<Option<RuleSpace>>> {
        match self.spaces.into_inner() {
            Some(spaces) => spaces
                .into_iter()
                .map(|fw| fw.into_iter().map(Some).collect())
                .collect(),
            None => self.known_spaces,
        }
    }

    /// For every rule that allows some part of a required flow (of any phase), what it
    /// allows.
    pub fn usage(&self) -> &FxHashMap<RuleKey, RuleUse> {
        self.usage.get_or_init(|| {
            // Parts of the flows on every thread, their uses merged (sets and counts: the
            // order does not matter).
            const CHUNK: usize = 64 * 1024;
            let flows = self
                .flows
                .par_chunks(CHUNK)
                .zip(self.verdicts.par_chunks(CHUNK));
            flows
                .map(|(flows, verdicts)| usage_of(flows, verdicts))
                .reduce(FxHashMap::default, |mut all, part| {
                    for (key, used) in part {
                        let u = all.entry(key).or_default();
                        u.ports.tcp.extend(used.ports.tcp);
                        u.ports.udp.extend(used.ports.udp);
                        u.ports.icmp |= used.ports.icmp;
                        u.sources.extend(used.sources);
                        u.destinations.extend(used.destinations);
                        u.flows += used.flows;
                    }
                    all
                })
        })
    }

    /// Every rule of every firewall, network firewalls first, in file order.
    pub fn all_rules(
        &self,
    ) -> Vec<(
        RuleKey,
        &'m crate::model::Traffic,
        crate::model::Action,
        Span,
    )> {
        let m = self.model;
        let mut out = Vec::new();
        for (f, fw) in m.firewalls.iter().enumerate() {
            for (i, r) in fw.rules.iter().enumerate() {
                out.push(((Filter::Network(f), i), &r.traffic, r.action, r.span));
            }
        }
        let hosts = (0..m.servers.len())
            .map(FlowEndpoint::Server)
            .chain((0..m.clients.len()).map(FlowEndpoint::Clients));
        for host in hosts {
            let Some(fw) = crate::engine::host_firewall(m, host) else {
                continue;
            };
            for (i, r) in fw.rules.iter().enumerate() {
                let filter = match r.direction {
                    crate::model::Direction::In => Filter::HostIn(host),
                    crate::model::Direction::Out => Filter::HostOut(host),
                };
                out.push(((filter, i), &r.traffic, r.action, r.span));
            }
        }
        out
    }

    /// Whether a rule's match is not fully described by its traffic: it holds a
    /// construct the model cannot represent (`uncertain`), or it applies only to flows
    /// into or out of one zone (an NSG rule's guard). The rule-set checks that reason
    /// about what a rule covers (shadowed, overly broad, redundant) never report such a
    /// rule and never count it as covering another (`docs/decisions.md`).
    pub fn inexact(&self, (filter, i): RuleKey) -> bool {
        match filter {
            Filter::Network(f) => self.model.firewalls[f].rules.get(i).is_none_or(|r| {
                r.uncertain.is_some() || r.guard != crate::model::RuleGuard::Always
            }),
            _ => filter
                .host_firewall(self.model)
                .and_then(|fw| fw.rules.get(i))
                .is_none_or(|r| r.uncertain.is_some()),
        }
    }

    /// Whether a flow is needed in a checked phase (a waived flow is not needed at all).
    pub fn checked(&self, flow: &RequiredFlow) -> bool {
        !flow.is_waived() && flow.services.iter().any(|s| self.phases.contains(&s.phase))
    }

    /// The flows of the checked phases with their verdicts.
    pub fn checked_flows(&self) -> impl Iterator<Item = (&RequiredFlow, &FlowVerdict)> {
        self.flows
            .iter()
            .zip(self.verdicts)
            .filter(|(f, _)| self.checked(f))
    }

    /// The flow parts of the checked phases a filter decided with `outcome` (`Deny` or
    /// `Unknown`) and `keep` selects, grouped by deciding rule (or default) and pair of
    /// endpoints, in the order of the groups' keys, each group's parts in flow order: one
    /// diagnostic each.
    pub fn decisions_by_deciding_rule(
        &self,
        outcome: Outcome,
        keep: impl Fn(&RequiredFlow, &Decision) -> bool,
    ) -> Vec<(DecisionGroup, Vec<(&RequiredFlow, FlowPorts)>)> {
        // A flow with a denied part is blocked, and one with an undecided part blocked or
        // indeterminate: most flows of a described network are allowed, and skipped here.
        let may_hold = |v: Verdict| match outcome {
            Outcome::Deny => v == Verdict::Blocked,
            Outcome::Unknown => matches!(v, Verdict::Blocked | Verdict::Indeterminate),
            Outcome::Allow => true,
        };
        // One sort of the kept parts (stable: parts stay in flow order) instead of a map
        // insertion each: a default-deny firewall keeps most of a large model's flows.
        let mut parts: Vec<(DecisionGroup, &RequiredFlow, FlowPorts)> = Vec::new();
        let flows = self.flows.iter().zip(self.verdicts);
        for (flow, verdict) in flows.filter(|(f, v)| may_hold(v.verdict) && self.checked(f)) {
            for d in verdict
                .decisions
                .iter()
                .filter(|d| d.outcome == outcome && keep(flow, d))
            {
                parts.push((
                    (d.filter, d.by, flow.source, flow.destination),
                    flow,
                    d.ports,
                ));
            }
        }
        parts.sort_by_key(|part| part.0);
        let mut groups: Vec<(DecisionGroup, Vec<(&RequiredFlow, FlowPorts)>)> = Vec::new();
        for (key, flow, ports) in parts {
            match groups.last_mut() {
                Some((last, list)) if *last == key => list.push((flow, ports)),
                _ => groups.push((key, vec![(flow, ports)])),
            }
        }
        groups
    }

    /// The `forbid`s (policy index, forbid index) that name this part of a flow: its
    /// source, its destination and some of its ports (`policy/conflict`).
    pub fn forbids_of(&self, flow: &RequiredFlow, ports: FlowPorts) -> Vec<(usize, usize)> {
        let ports = [ports.interval()];
        let mut buf = Vec::new();
        let mut found = Vec::new();
        for (p, policy) in self.model.policies.iter().enumerate() {
            for (f, forbid) in policy.forbids.iter().enumerate() {
                let t = &forbid.traffic;
                buf.clear();
                crate::engine::rule_ports(
                    t,
                    flow.protocol,
                    crate::engine::rpc_range(self.model, flow.destination),
                    &mut buf,
                );
                if crate::engine::intervals::overlap(&buf, &ports)
                    && self.net.list_matches(&t.from, Place::Host(flow.source)) == Tri::Yes
                    && self.net.list_matches(&t.to, Place::Host(flow.destination)) == Tri::Yes
                {
                    found.push((p, f));
                }
            }
        }
        found
    }

    /// The source span of a rule or of its firewall's default.
    ///
    /// # Panics
    /// When a host filter names a host without a `windows-firewall` (the evaluator makes
    /// none).
    pub fn decider_span(&self, filter: Filter, by: DecidedBy) -> Span {
        let model = self.model;
        match (filter, by) {
            (Filter::Network(f), DecidedBy::Rule(i)) => model.firewalls[f].rules[i].span,
            (Filter::Network(f), DecidedBy::Default) => model.firewalls[f].default_span,
            (_, by) => {
                let fw = filter
                    .host_firewall(model)
                    .expect("host filters exist only on hosts with a windows-firewall");
                match by {
                    DecidedBy::Rule(i) => fw.rules[i].span,
                    DecidedBy::Default => fw.span,
                }
            }
        }
    }

    /// `firewall "fw-core" rule "HQ to MP"`, `the default of firewall "fw-core"`, ...
    pub fn decider_name(&self, filter: Filter, by: DecidedBy) -> String {
        let model = self.model;
        let owner = match filter {
            Filter::Network(f) => format!("firewall `{}`", model.firewalls[f].name.value),
            Filter::HostIn(e) => format!("the inbound Windows Firewall of `{}`", e.name(model)),
            Filter::HostOut(e) => format!("the outbound Windows Firewall of `{}`", e.name(model)),
        };
        match by {
            DecidedBy::Default => format!("the default of {owner}"),
            DecidedBy::Rule(i) => match crate::engine::rule_name(model, filter, i) {
                Some(name) => format!("rule \"{name}\" of {owner}"),
                None => format!("rule {} of {owner}", i + 1),
            },
        }
    }

    /// The node of an endpoint, when the user wrote one.
    pub fn endpoint_span(&self, e: FlowEndpoint) -> Option<Span> {
        let m = self.model;
        Some(match e {
            FlowEndpoint::Server(i) => m.servers[i].span,
            FlowEndpoint::Clients(i) => m.clients[i].span,
            FlowEndpoint::Console(i) => m.consoles[i].span,
            FlowEndpoint::Cloud(i) => m.cloud_services[i].span,
            FlowEndpoint::Internet => return None,
        })
    }

    /// The place that requires a flow: the role (or SQL instance, client group, user
    /// `flow`) of its first service, labelled with the documented section.
    pub fn requirement(&self, flow: &RequiredFlow) -> Option<Label> {
        let m = self.model;
        let service = flow.services.first()?;
        let row = match service.origin {
            Origin::User(i) => return Some(Label::new(m.flows[i].span, "this flow is required")),
            Origin::Catalog(row) => row,
        };
        let role_span = |e: FlowEndpoint, role: &str| -> Option<Span> {
            match e {
                FlowEndpoint::Server(i) => {
                    let server = &m.servers[i];
                    if role == "sql-server" {
                        server.sql_instances.first().map(|s| s.span)
                    } else {
                        server.role(role).map(|r| r.span)
                    }
                }
                other => self.endpoint_span(other),
            }
        };
        let span = role_span(flow.destination, service.destination_role)
            .or_else(|| role_span(flow.source, service.source_role))
            .or_else(|| self.endpoint_span(flow.destination))
            .or_else(|| self.endpoint_span(flow.source))
            .unwrap_or(row.span);
        Some(
            Label::new(span, format!("needs this flow ({})", service.reference()))
                .with_url(&row.url),
        )
    }
}

/// How KDL names an endpoint in a rule: `host:FQDN`, `clients:NAME`, `zone:internet`.
pub fn endpoint_ref(model: &Model, e: FlowEndpoint) -> String {
    match e {
        FlowEndpoint::Clients(i) => format!("clients:{}", model.clients[i].name.value),
        FlowEndpoint::Internet => "zone:internet".into(),
        other => format!("host:{}", other.name(model)),
    }
}

/// What each `allow` rule lets through of `flows` (sorted by source and destination, as
/// `verdicts`): a part of [`Context::usage`].
fn usage_of(flows: &[RequiredFlow], verdicts: &[FlowVerdict]) -> FxHashMap<RuleKey, RuleUse> {
    let mut usage: FxHashMap<RuleKey, RuleUse> = FxHashMap::default();
    // Each rule records a pair of endpoints once, when the flows of the pair are done.
    let mut pair = None;
    let mut used_by_pair: Vec<RuleKey> = Vec::new();
    let record = |usage: &mut FxHashMap<RuleKey, RuleUse>,
                  used: &mut Vec<RuleKey>,
                  (source, destination)| {
        for key in used.drain(..) {
            if let Some(u) = usage.get_mut(&key) {
                u.sources.insert(source);
                u.destinations.insert(destination);
            }
        }
    };
    for (flow, verdict) in flows.iter().zip(verdicts) {
        let this = (flow.source, flow.destination);
        if pair != Some(this) {
            if let Some(done) = pair {
                record(&mut usage, &mut used_by_pair, done);
            }
            pair = Some(this);
        }
        for d in &verdict.decisions {
            if let (DecidedBy::Rule(i), Outcome::Allow) = (d.by, d.outcome) {
                let key = (d.filter, i);
                let u = usage.entry(key).or_default();
                u.ports.add(flow.protocol, d.ports);
                u.flows += 1;
                if !used_by_pair.contains(&key) {
                    used_by_pair.push(key);
                }
            }
        }
    }
    if let Some(done) = pair {
        record(&mut usage, &mut used_by_pair, done);
    }
    usage
}

/// Ports grouped per protocol, for rule text and messages.
#[derive(Clone, Debug, Default)]
pub struct PortSet {
    pub tcp: BTreeSet<(u16, u16)>,
    pub udp: BTreeSet<(u16, u16)>,
    pub icmp: bool,
}

impl PortSet {
    pub fn add(&mut self, protocol: Protocol, ports: FlowPorts) {
        match (protocol, ports) {
            (Protocol::Tcp, FlowPorts::Range(a, b)) => {
                self.tcp.insert((a, b));
            }
            (Protocol::Udp, FlowPorts::Range(a, b)) => {
                self.udp.insert((a, b));
            }
            _ => self.icmp = true,
        }
    }

    /// ` tcp="80,443,rpc" udp="67" icmp=#true`, with merged ranges; the destination's
    /// dynamic RPC range, when given, is written `rpc`.
    pub fn kdl_props(&self, rpc: Option<(u16, u16)>) -> String {
        let mut s = String::new();
        for (name, set) in [("tcp", &self.tcp), ("udp", &self.udp)] {
            if !set.is_empty() {
                let text = port_text(set);
                let rpc_text = rpc.map(|(a, b)| {
                    if a == b {
                        a.to_string()
                    } else {
                        format!("{a}-{b}")
                    }
                });
                let items: Vec<&str> = text
                    .split(',')
                    .map(|p| {
                        if rpc_text.as_deref() == Some(p) {
                            "rpc"
                        } else {
                            p
                        }
                    })
                    .collect();
                let _ = write!(s, " {name}=\"{}\"", items.join(","));
            }
        }
        if self.icmp {
            s.push_str(" icmp=#true");
        }
        s
    }
}

/// `80,443,8530-8531` from ranges, merging overlaps and neighbours.
pub fn port_text(set: &BTreeSet<(u16, u16)>) -> String {
    crate::engine::intervals::merge(set.iter().map(|&(a, b)| (u32::from(a), u32::from(b))))
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `tcp 1433 (SQL over TCP)`: a flow part with the services that need it.
pub fn flow_part(model: &Model, flow: &RequiredFlow, ports: FlowPorts) -> String {
    let mut services: Vec<&str> = flow.services.iter().map(|s| s.service(model)).collect();
    services.dedup();
    format!("{} {} ({})", flow.protocol, ports, services.join(", "))
}

/// Joins a list for a message, keeping it short: `a, b, c and 4 more`.
pub fn short_list(items: &[String], max: usize) -> String {
    short_list_of(items, max, String::clone)
}

/// [`short_list`] of items that `show` names: only the items shown are named.
pub fn short_list_of<T>(items: &[T], max: usize, show: impl Fn(&T) -> String) -> String {
    let shown: Vec<String> = items.iter().take(max).map(show).collect();
    if items.len() <= max {
        return shown.join(", ");
    }
    format!("{} and {} more", shown.join(", "), items.len() - max)
}
