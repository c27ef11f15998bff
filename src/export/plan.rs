//! Which allow rules the required flows need: per network firewall (every firewall on a
//! flow's route) and per host (the destination's inbound Windows Firewall, and the
//! source's outbound one when it blocks by default).
//!
//! This is the one place that groups flows into rules; every exporter renders an
//! [`ExportPlan`] and groups nothing itself. Rules are exact: a rule's every source
//! with every destination is a required pair with exactly the rule's ports, each rule
//! carries at least one flow, and no two rules of one network firewall share a pair,
//! except that a pair's DHCP flows (catalog `broadcast=#true`) have rules of their own,
//! which allow any source (the clients send from 0.0.0.0 to the broadcast address). The
//! plan decides no syntax (names of files, quoting): that belongs to the exporters.

use std::collections::HashMap;
use std::hash::Hash;

use crate::engine::{
    FlowEndpoint, FlowPorts, FlowVerdict, RequiredFlow, Route, Verdict, host_firewall, intervals,
    network_profile, pair_runs, rpc_range,
};
use crate::model::{Action, Model, PortItem, Protocol};

/// Ports of one protocol as sorted, disjoint, inclusive ranges.
pub type PortRanges = Vec<(u16, u16)>;

/// What an allow rule lets through: TCP and UDP port ranges and ICMP echo.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ports {
    pub tcp: PortRanges,
    pub udp: PortRanges,
    pub icmp: bool,
}

impl Ports {
    fn add(&mut self, protocol: Protocol, ports: FlowPorts) {
        match (protocol, ports) {
            (Protocol::Icmp, _) | (_, FlowPorts::Echo) => self.icmp = true,
            (Protocol::Tcp, FlowPorts::Range(a, b)) => self.tcp.push((a, b)),
            (Protocol::Udp, FlowPorts::Range(a, b)) => self.udp.push((a, b)),
        }
    }

    /// Sorts and merges ranges that overlap or touch.
    fn normalize(&mut self) {
        for list in [&mut self.tcp, &mut self.udp] {
            *list = merge_ranges(list);
        }
    }
}

fn merge_ranges(list: &[(u16, u16)]) -> PortRanges {
    intervals::merge(list.iter().map(|&(a, b)| (u32::from(a), u32::from(b))))
        .into_iter()
        .map(|(a, b)| {
            (
                u16::try_from(a).unwrap_or(u16::MAX),
                u16::try_from(b).unwrap_or(u16::MAX),
            )
        })
        .collect()
}

/// One allow rule of a network firewall.
#[derive(Clone, Debug)]
pub struct NetworkRule<'m> {
    /// Sorted by name.
    pub sources: Vec<FlowEndpoint>,
    /// Sorted by name.
    pub destinations: Vec<FlowEndpoint>,
    pub ports: Ports,
    /// Every service of the flows the rule carries, sorted, without duplicates.
    pub services: Vec<&'m str>,
    /// The number of required flows (source, destination, protocol, ports) it carries.
    pub flows: usize,
    /// The flows are sent before their sources have an address (DHCP, catalog
    /// `broadcast=#true`): the rule allows any source; `sources` says whose they are.
    pub any_source: bool,
    /// The Microsoft Learn sections of the documents that require its flows, sorted,
    /// without duplicates (none for user flows).
    pub references: Vec<&'static str>,
}

impl NetworkRule<'_> {
    /// Whether an end is the Internet, which only a `zone:` endpoint can name: such rules
    /// come after the rules naming hosts, so that the hosts' rules decide first.
    pub fn is_wide(&self) -> bool {
        self.sources
            .iter()
            .chain(&self.destinations)
            .any(|e| *e == FlowEndpoint::Internet)
    }
}

/// The allow rules one network firewall needs, in the order they must be written.
#[derive(Clone, Debug)]
pub struct FirewallPlan<'m> {
    /// Index in [`Model::firewalls`].
    pub firewall: usize,
    pub rules: Vec<NetworkRule<'m>>,
}

/// How a host rule names its ports: numbers, or Windows Firewall's keywords.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortKind {
    Numbers,
    /// The host's dynamic RPC range (`RPC`, `rpc`).
    Rpc,
    /// The RPC endpoint mapper, TCP 135 (`RPCEPMap`, `rpc-epmap`).
    RpcEpmap,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostDirection {
    Inbound,
    Outbound,
}

/// One allow rule of a host's Windows Firewall: one protocol, one kind of port, one set
/// of services.
#[derive(Clone, Debug)]
pub struct HostRule {
    pub direction: HostDirection,
    /// The services' names, sorted and joined with `, `.
    pub services: String,
    pub protocol: Protocol,
    pub kind: PortKind,
    /// Local ports inbound, remote ports outbound; empty for ICMP and keywords.
    pub ports: PortRanges,
    /// Sources inbound, destinations outbound; sorted by name.
    pub remotes: Vec<FlowEndpoint>,
    pub flows: usize,
    /// An inbound rule for flows sent before their sources have an address (DHCP): it
    /// allows any remote address; `remotes` says whose they are.
    pub any_remote: bool,
}

/// The Windows Firewall rules one server or client group needs.
#[derive(Clone, Debug)]
pub struct HostPlan {
    pub host: FlowEndpoint,
    /// `domain`, `private` or `public`.
    pub profile: String,
    /// The outbound default of the host's `windows-firewall` (allow when it has none).
    pub outbound_default: Action,
    /// Inbound rules first, then outbound; each sorted by services, protocol, ports.
    pub rules: Vec<HostRule>,
}

/// Everything the exporters render.
#[derive(Clone, Debug)]
pub struct ExportPlan<'m> {
    /// One per network firewall of the model, sorted by name.
    pub firewalls: Vec<FirewallPlan<'m>>,
    /// With [`Unfiltered::Include`]: the rules of the flows that cross no network
    /// firewall (both ends in one zone, or a model without firewalls), grouped as a
    /// firewall's are, in the same order; empty otherwise.
    pub unfiltered: Vec<NetworkRule<'m>>,
    /// Servers then client groups, each sorted by name.
    pub hosts: Vec<HostPlan>,
    /// Required flows between zones that no path joins: no rule can carry them.
    pub no_path: usize,
    /// Required flows planned (no-path ones included).
    pub flows: usize,
}

/// The name used to sort endpoints: kind order first (servers, clients, consoles, cloud,
/// Internet), then name.
fn endpoint_key(model: &Model, e: FlowEndpoint) -> (u8, &str) {
    let rank = match e {
        FlowEndpoint::Server(_) => 0,
        FlowEndpoint::Clients(_) => 1,
        FlowEndpoint::Console(_) => 2,
        FlowEndpoint::Cloud(_) => 3,
        FlowEndpoint::Internet => 4,
    };
    (rank, e.name(model))
}

fn sort_endpoints(model: &Model, list: &mut Vec<FlowEndpoint>) {
    list.sort_by(|a, b| endpoint_key(model, *a).cmp(&endpoint_key(model, *b)));
    list.dedup();
}

/// Whether [`plan_with`] also groups the flows that cross no network firewall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unfiltered {
    Skip,
    Include,
}

/// What a group of flows between one pair carries.
#[derive(Clone, Default)]
struct PairLoad<'m> {
    ports: Ports,
    services: Vec<&'m str>,
    references: Vec<&'static str>,
    flows: usize,
}

/// Two-step grouping of pairs with identical ports into rules: first every source of a
/// destination with the same ports (as pairs are added), then every destination with the
/// same sources and ports ([`Grouper::finish`]). `scope` keeps groups apart (a firewall;
/// a host, direction, services, protocol and kind of port). Each (scope, source,
/// destination) must be added once.
struct Grouper<'m, S, P> {
    by_destination: HashMap<(S, FlowEndpoint, P), SourcesLoad<'m>>,
}

impl<'m, S, P> Grouper<'m, S, P>
where
    S: Clone + Eq + Hash,
    P: Clone + Eq + Hash + From<Ports>,
{
    fn new() -> Self {
        Self {
            by_destination: HashMap::new(),
        }
    }

    fn add(
        &mut self,
        scope: S,
        source: FlowEndpoint,
        destination: FlowEndpoint,
        mut load: PairLoad<'m>,
    ) {
        load.ports.normalize();
        let entry = self
            .by_destination
            .entry((scope, destination, P::from(load.ports)))
            .or_default();
        entry.sources.push(source);
        entry.services.extend(load.services);
        entry.references.extend(load.references);
        entry.flows += load.flows;
    }

    fn finish(self) -> Vec<Grouped<'m, S, P>> {
        let mut by_sources: HashMap<(S, Vec<FlowEndpoint>, P), Grouped<'m, S, P>> = HashMap::new();
        for ((scope, destination, ports), load) in self.by_destination {
            let SourcesLoad {
                mut sources,
                services,
                references,
                flows,
            } = load;
            sources.sort_unstable();
            let entry = by_sources
                .entry((scope.clone(), sources.clone(), ports.clone()))
                .or_insert_with(|| Grouped {
                    scope,
                    sources,
                    destinations: Vec::new(),
                    ports,
                    services: Vec::new(),
                    references: Vec::new(),
                    flows: 0,
                });
            entry.destinations.push(destination);
            entry.services.extend(services);
            entry.references.extend(references);
            entry.flows += flows;
        }
        by_sources.into_values().collect()
    }
}

/// The sources of one destination with the same ports, their services, references and
/// flow count.
#[derive(Default)]
struct SourcesLoad<'m> {
    sources: Vec<FlowEndpoint>,
    services: Vec<&'m str>,
    references: Vec<&'static str>,
    flows: usize,
}

struct Grouped<'m, S, P> {
    scope: S,
    sources: Vec<FlowEndpoint>,
    destinations: Vec<FlowEndpoint>,
    ports: P,
    services: Vec<&'m str>,
    references: Vec<&'static str>,
    flows: usize,
}

impl From<Ports> for PortRanges {
    /// Host rules have one protocol: its ranges.
    fn from(p: Ports) -> Self {
        if p.tcp.is_empty() { p.udp } else { p.tcp }
    }
}

/// A host rule's scope: host, direction, set of services (see [`ServiceSets`]),
/// protocol, kind of port.
/// The last field: the flows are `broadcast` (DHCP) inbound, see [`HostRule::any_remote`].
type HostScope = (FlowEndpoint, HostDirection, u32, Protocol, PortKind, bool);

/// Sets of service names, numbered as they are first met, each with its display text.
#[derive(Default)]
struct ServiceSets<'m> {
    ids: HashMap<Vec<&'m str>, u32>,
    names: Vec<String>,
}

impl<'m> ServiceSets<'m> {
    /// The number of a sorted, deduplicated set.
    fn id(&mut self, set: &[&'m str]) -> u32 {
        if let Some(&id) = self.ids.get(set) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(set.join(", "));
        self.ids.insert(set.to_vec(), id);
        id
    }
}

/// Plans the rules for `flows` (with their `verdicts`, parallel). `flows` must be sorted
/// by source and destination, as [`crate::engine::required_flows`] returns them.
pub fn plan<'m>(
    model: &'m Model,
    flows: &'m [RequiredFlow],
    verdicts: &[FlowVerdict],
) -> ExportPlan<'m> {
    plan_with(model, flows, verdicts, Unfiltered::Skip)
}

/// [`plan`], and with [`Unfiltered::Include`] the rules of the flows that cross no
/// network firewall too ([`ExportPlan::unfiltered`]).
pub fn plan_with<'m>(
    model: &'m Model,
    flows: &'m [RequiredFlow],
    verdicts: &[FlowVerdict],
    unfiltered: Unfiltered,
) -> ExportPlan<'m> {
    // Scope: the firewall (`None`: the flows cross none, with `Unfiltered::Include`), and
    // whether the flows are `broadcast` (their rules allow any source, so they are never
    // grouped with the others).
    let mut network: Grouper<'m, (Option<usize>, bool), Ports> = Grouper::new();
    let mut hosts: Grouper<'m, HostScope, PortRanges> = Grouper::new();
    let mut service_sets = ServiceSets::default();
    let mut no_path = 0;
    let is_host = |e: FlowEndpoint| matches!(e, FlowEndpoint::Server(_) | FlowEndpoint::Clients(_));
    let mut services: Vec<&'m str> = Vec::new();
    // Flows come sorted by source and destination: each run of one pair is gathered
    // locally, so the maps are touched once per pair and group, not once per flow.
    let mut pair_hosts: Vec<(HostScope, PairLoad<'m>)> = Vec::new();
    for run in pair_runs(flows) {
        let (start, end) = (run.start, run.end);
        let (source, destination) = (flows[start].source, flows[start].destination);
        let outbound = is_host(source)
            && host_firewall(model, source).is_some_and(|fw| fw.outbound == Action::Deny);
        let inbound = is_host(destination);
        let mut route: Option<&Route> = None;
        // [ordinary flows, broadcast flows] of the pair, through firewalls and not.
        let mut pair_network = [PairLoad::default(), PairLoad::default()];
        let mut pair_local = [PairLoad::default(), PairLoad::default()];
        pair_hosts.clear();
        for (flow, verdict) in flows[start..end].iter().zip(&verdicts[start..end]) {
            if verdict.verdict == Verdict::NoPath {
                no_path += 1;
                continue;
            }
            services.clear();
            services.extend(flow.services.iter().map(|s| s.service(model)));
            services.sort_unstable();
            services.dedup();
            let broadcast = flow.broadcast();
            let load = match &verdict.route {
                Route::Through(_) => {
                    route = Some(&verdict.route);
                    Some(&mut pair_network[usize::from(broadcast)])
                }
                Route::SameZone | Route::Unrouted if unfiltered == Unfiltered::Include => {
                    Some(&mut pair_local[usize::from(broadcast)])
                }
                _ => None,
            };
            if let Some(load) = load {
                load.ports.add(flow.protocol, flow.ports);
                load.services.extend(&services);
                load.references.extend(
                    flow.services
                        .iter()
                        .filter_map(crate::engine::FlowService::reference_url),
                );
                load.flows += 1;
            }
            if !inbound && !outbound {
                continue;
            }
            let set = service_sets.id(&services);
            let mut add = |scope: HostScope, numbers: bool| {
                let i = pair_hosts
                    .iter()
                    .position(|(s, _)| *s == scope)
                    .unwrap_or_else(|| {
                        pair_hosts.push((scope, PairLoad::default()));
                        pair_hosts.len() - 1
                    });
                let load = &mut pair_hosts[i].1;
                if numbers {
                    load.ports.add(flow.protocol, flow.ports);
                }
                load.flows += 1;
            };
            if inbound {
                let kind = inbound_kind(model, flow);
                add(
                    (
                        destination,
                        HostDirection::Inbound,
                        set,
                        flow.protocol,
                        kind,
                        broadcast,
                    ),
                    kind == PortKind::Numbers,
                );
            }
            if outbound {
                add(
                    (
                        source,
                        HostDirection::Outbound,
                        set,
                        flow.protocol,
                        PortKind::Numbers,
                        false,
                    ),
                    true,
                );
            }
        }
        if let Some(Route::Through(fws)) = route {
            for (broadcast, pair) in [false, true].into_iter().zip(&pair_network) {
                if pair.flows == 0 {
                    continue;
                }
                for &fw in fws.iter() {
                    network.add((Some(fw), broadcast), source, destination, pair.clone());
                }
            }
        }
        for (broadcast, pair) in [false, true].into_iter().zip(pair_local) {
            if pair.flows > 0 {
                network.add((None, broadcast), source, destination, pair);
            }
        }
        for (scope, load) in pair_hosts.drain(..) {
            hosts.add(scope, source, destination, load);
        }
    }

    // Network firewalls.
    let mut per_firewall: Vec<Vec<NetworkRule<'m>>> = vec![Vec::new(); model.firewalls.len()];
    let mut unfiltered_rules: Vec<NetworkRule<'m>> = Vec::new();
    for g in network.finish() {
        let mut rule = NetworkRule {
            sources: g.sources,
            destinations: g.destinations,
            ports: g.ports,
            services: g.services,
            flows: g.flows,
            any_source: g.scope.1,
            references: g.references,
        };
        sort_endpoints(model, &mut rule.sources);
        sort_endpoints(model, &mut rule.destinations);
        rule.services.sort_unstable();
        rule.services.dedup();
        rule.references.sort_unstable();
        rule.references.dedup();
        match g.scope.0 {
            Some(fw) => per_firewall[fw].push(rule),
            None => unfiltered_rules.push(rule),
        }
    }
    sort_rules(model, &mut unfiltered_rules);
    let mut firewalls: Vec<FirewallPlan<'m>> = per_firewall
        .into_iter()
        .enumerate()
        .map(|(firewall, mut rules)| {
            sort_rules(model, &mut rules);
            FirewallPlan { firewall, rules }
        })
        .collect();
    firewalls.sort_by(|a, b| {
        model.firewalls[a.firewall]
            .name
            .value
            .cmp(&model.firewalls[b.firewall].name.value)
    });

    // Hosts.
    let mut per_host: HashMap<FlowEndpoint, Vec<HostRule>> = HashMap::new();
    for g in hosts.finish() {
        let (host, direction, set, protocol, kind, any_remote) = g.scope;
        let services = service_sets.names[set as usize].clone();
        let mut remotes = match direction {
            HostDirection::Inbound => g.sources,
            HostDirection::Outbound => g.destinations,
        };
        sort_endpoints(model, &mut remotes);
        per_host.entry(host).or_default().push(HostRule {
            direction,
            services,
            protocol,
            kind,
            ports: g.ports,
            remotes,
            flows: g.flows,
            any_remote,
        });
    }
    let mut hosts: Vec<HostPlan> = per_host
        .into_iter()
        .map(|(host, mut rules)| {
            rules.sort_by(|a, b| {
                (
                    a.direction,
                    &a.services,
                    a.protocol,
                    a.kind,
                    &a.ports,
                    a.any_remote,
                )
                    .cmp(&(
                        b.direction,
                        &b.services,
                        b.protocol,
                        b.kind,
                        &b.ports,
                        b.any_remote,
                    ))
            });
            HostPlan {
                host,
                profile: network_profile(model, host),
                outbound_default: host_firewall(model, host)
                    .map_or(Action::Allow, |fw| fw.outbound),
                rules,
            }
        })
        .collect();
    hosts.sort_by(|a, b| endpoint_key(model, a.host).cmp(&endpoint_key(model, b.host)));
    ExportPlan {
        firewalls,
        unfiltered: unfiltered_rules,
        hosts,
        no_path,
        flows: flows.len(),
    }
}

/// The order rules are written in: rules naming hosts first, then by sources,
/// destinations, ports.
fn sort_rules(model: &Model, rules: &mut [NetworkRule<'_>]) {
    rules.sort_by_cached_key(|r| {
        (
            r.is_wide(),
            r.sources
                .iter()
                .map(|e| endpoint_key(model, *e))
                .collect::<Vec<_>>(),
            r.destinations
                .iter()
                .map(|e| endpoint_key(model, *e))
                .collect::<Vec<_>>(),
            r.ports.clone(),
            r.any_source,
        )
    });
}

/// How an inbound rule names a flow's ports: Windows Firewall's `RPC` for the
/// destination's dynamic RPC range, `RPCEPMap` for TCP 135, numbers otherwise.
fn inbound_kind(model: &Model, flow: &RequiredFlow) -> PortKind {
    if flow.protocol != Protocol::Tcp {
        return PortKind::Numbers;
    }
    match flow.ports {
        FlowPorts::Range(135, 135) => PortKind::RpcEpmap,
        FlowPorts::Range(a, b) if a < b && (a, b) == rpc_range(model, flow.destination) => {
            PortKind::Rpc
        }
        _ => PortKind::Numbers,
    }
}

/// A port list as `language.md` writes it: `80,443,8530-8531`.
pub fn port_list(ranges: &[(u16, u16)]) -> String {
    let items: Vec<PortItem> = ranges.iter().map(|&(a, b)| PortItem::Range(a, b)).collect();
    crate::model::PortList { items }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Network, Phase, evaluate, required_flows};

    fn model(kdl: &str) -> Model {
        crate::engine::test_model(kdl)
    }

    const MODEL: &str = r#"
zone "dc" { subnet "10.0.0.0/24" }
zone "hq" { subnet "10.10.0.0/16" }
zone "br" { subnet "10.20.0.0/16" }
site "P01" type="primary" {
    database server="sql01.example.com" instance="MSSQLSERVER"
    server "cm01.example.com" zone="dc" address="10.0.0.10" {
        site-server
        management-point
    }
    server "mp02.example.com" zone="dc" address="10.0.0.11" rpc-ports="50000-50099" {
        management-point
    }
}
server "sql01.example.com" zone="dc" address="10.0.0.20" {
    sql-instance "MSSQLSERVER"
}
clients "HQ" site="P01" zone="hq" install="push"
clients "Branch" site="P01" zone="br"
firewall "fw" default="deny" {
    zones "dc" "hq" "br" "internet"
}
"#;

    fn planned(m: &Model) -> (Vec<crate::engine::RequiredFlow>, Vec<FlowVerdict>) {
        let flows = required_flows(m, &Phase::ALL);
        let net = Network::new(m);
        let verdicts = evaluate(&net, &flows);
        (flows, verdicts)
    }

    #[test]
    fn network_rules_are_exact_and_disjoint() {
        let m = model(MODEL);
        let (flows, verdicts) = planned(&m);
        let p = plan(&m, &flows, &verdicts);
        assert_eq!(p.firewalls.len(), 1);
        let rules = &p.firewalls[0].rules;
        // Every pair of every rule is a crossing pair with exactly the rule's ports, and
        // no pair is in two rules.
        let mut seen = std::collections::HashSet::new();
        for r in rules {
            for &s in &r.sources {
                for &d in &r.destinations {
                    assert!(seen.insert((s, d)), "pair in two rules");
                    let mut ports = Ports::default();
                    for f in flows.iter().filter(|f| f.source == s && f.destination == d) {
                        ports.add(f.protocol, f.ports);
                    }
                    ports.normalize();
                    assert_eq!(ports, r.ports);
                }
            }
        }
        let crossing: usize = verdicts
            .iter()
            .filter(|v| !v.firewalls().is_empty())
            .count();
        assert_eq!(rules.iter().map(|r| r.flows).sum::<usize>(), crossing);
        // Both client groups reach both management points on the same ports: one rule.
        let clients = rules
            .iter()
            .find(|r| {
                r.sources
                    .iter()
                    .all(|e| matches!(e, FlowEndpoint::Clients(_)))
            })
            .expect("a client rule");
        assert_eq!(clients.sources.len(), 2);
        assert_eq!(clients.destinations.len(), 2);
        // Internet rules come last.
        let first_wide = rules
            .iter()
            .position(NetworkRule::is_wide)
            .expect("internet");
        assert!(rules[first_wide..].iter().all(NetworkRule::is_wide));
    }

    #[test]
    fn dhcp_rules_allow_any_source_and_stand_apart() {
        let text = MODEL.replace(
            "        management-point\n    }\n    server \"mp02",
            "        management-point\n        distribution-point pxe=#true\n    }\n    server \"mp02",
        );
        let m = model(&text);
        let (flows, verdicts) = planned(&m);
        let p = plan(&m, &flows, &verdicts);
        let udp = |r: &NetworkRule<'_>| r.ports.udp.clone();
        let rules = &p.firewalls[0].rules;
        let dhcp: Vec<&NetworkRule<'_>> = rules.iter().filter(|r| r.any_source).collect();
        assert_eq!(dhcp.len(), 1, "{rules:#?}");
        assert_eq!(udp(dhcp[0]), vec![(67, 68)]);
        assert!(dhcp[0].ports.tcp.is_empty() && !dhcp[0].ports.icmp);
        assert_eq!(dhcp[0].services, vec!["DHCP"]);
        let names: Vec<&str> = dhcp[0].sources.iter().map(|e| e.name(&m)).collect();
        assert_eq!(names, vec!["Branch", "HQ"]);
        // The clients' other PXE flows (TFTP 69, BINL 4011) keep their subnets.
        let pxe = rules
            .iter()
            .find(|r| !r.any_source && r.ports.udp.contains(&(69, 69)))
            .expect("TFTP rule");
        assert!(!pxe.ports.udp.contains(&(67, 68)));
        // The distribution point's inbound DHCP rule accepts any remote address.
        let cm01 = p
            .hosts
            .iter()
            .find(|h| h.host.name(&m) == "cm01.example.com")
            .expect("cm01");
        let inbound: Vec<(&str, bool)> = cm01
            .rules
            .iter()
            .filter(|r| r.protocol == Protocol::Udp)
            .map(|r| (r.services.as_str(), r.any_remote))
            .collect();
        assert!(inbound.contains(&("DHCP", true)), "{inbound:?}");
        assert!(
            inbound.iter().all(|(s, any)| *any == (*s == "DHCP")),
            "{inbound:?}"
        );
    }

    #[test]
    fn host_rules_use_rpc_keywords_and_outbound_only_when_blocked() {
        let text = MODEL.replace(
            "        management-point\n    }\n    server \"mp02",
            "        management-point\n        windows-firewall outbound=\"block\"\n    }\n    server \"mp02",
        );
        let m = model(&text);
        let (flows, verdicts) = planned(&m);
        let p = plan(&m, &flows, &verdicts);
        let host = |name: &str| {
            p.hosts
                .iter()
                .find(|h| h.host.name(&m) == name)
                .expect("a host plan")
        };
        let dc_rules = &host("sql01.example.com").rules;
        assert!(
            dc_rules
                .iter()
                .all(|r| r.direction == HostDirection::Inbound)
        );
        let cm01 = host("cm01.example.com");
        assert_eq!(cm01.outbound_default, Action::Deny);
        assert!(
            cm01.rules
                .iter()
                .any(|r| r.direction == HostDirection::Outbound)
        );
        assert!(
            host("mp02.example.com")
                .rules
                .iter()
                .all(|r| r.direction == HostDirection::Inbound)
        );
        // The client push range is the client's default range: RPC; 135 is RPCEPMap.
        let hq = host("HQ");
        assert_eq!(hq.profile, "domain");
        let kinds: Vec<PortKind> = hq.rules.iter().map(|r| r.kind).collect();
        assert!(kinds.contains(&PortKind::Rpc), "{kinds:?}");
        assert!(kinds.contains(&PortKind::RpcEpmap), "{kinds:?}");
        // A pinned range is still the host's RPC range.
        assert!(
            host("mp02.example.com")
                .rules
                .iter()
                .any(|r| r.kind == PortKind::Rpc)
        );
    }

    #[test]
    fn ports_merge_touching_ranges() {
        assert_eq!(
            merge_ranges(&[(8531, 8531), (8530, 8530), (80, 80)]),
            vec![(80, 80), (8530, 8531)]
        );
        assert_eq!(port_list(&[(80, 80), (8530, 8531)]), "80,8530-8531");
    }
}
