//! The network: zones and firewalls as a petgraph graph (zone -- firewall -- zone), the
//! places traffic comes from and goes to, and whether a rule's endpoint list names a place.
//!
//! It answers two questions for the evaluator and the checks: which firewalls a flow
//! between two zones crosses (every firewall on every shortest path), and whether an
//! endpoint such as `role:management-point@P01` or `cidr:10.0.0.0/8` names a place: yes,
//! no, or "cannot tell from the model". It decides no verdict itself.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use ipnet::IpNet;
use petgraph::graph::{NodeIndex, UnGraph};

use super::FlowEndpoint;
use crate::model::{Endpoint, Model, RuleGuard, Spanned};

/// A three-valued match: whether an endpoint names a place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tri {
    No,
    /// The model does not say (a `cidr:` against a host without an address).
    Maybe,
    Yes,
}

impl Tri {
    /// Both must hold.
    #[must_use]
    pub fn and(self, other: Tri) -> Tri {
        self.min(other)
    }
}

/// Where traffic can come from or go to: a host of the model, or a host of a zone that
/// the model does not list (the rest of the zone's addresses). Firewall analyses that
/// reason about every possible packet (shadowed rules, policies) range over places.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    Host(FlowEndpoint),
    Unlisted(ZoneId),
}

/// Index into [`Network::zones`].
pub type ZoneId = usize;

/// The firewalls a flow between two zones crosses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// The model has no firewall: the network is not filtered.
    Unrouted,
    /// Both ends are in one zone.
    SameZone,
    /// The firewalls of every shortest path, nearest to the source first.
    Through(Arc<[usize]>),
    /// No path joins the zones.
    NoPath,
}

/// A zone as routing sees it.
#[derive(Debug)]
pub struct NetZone<'m> {
    pub name: &'m str,
    pub subnets: &'m [Spanned<IpNet>],
    /// The index in [`Model::zones`], when declared (`internet` may be implicit).
    pub declared: Option<usize>,
    /// Zones attached to the same firewalls route identically: routes are computed per class.
    class: usize,
}

#[derive(Clone, Copy, Debug)]
enum Node {
    Zone,
    Firewall(usize),
}

/// The zone/firewall graph of one model, with place indexes.
pub struct Network<'m> {
    pub model: &'m Model,
    pub zones: Vec<NetZone<'m>>,
    zone_index: HashMap<&'m str, ZoneId>,
    graph: UnGraph<Node, ()>,
    zone_nodes: Vec<NodeIndex>,
    /// One representative zone per class, and the firewalls the class touches.
    classes: Vec<(ZoneId, Vec<usize>)>,
    /// Routes between classes, filled on demand.
    routes: std::sync::Mutex<HashMap<(usize, usize), Route>>,
    /// The number of places; [`Network::place_id`] numbers them densely.
    place_count: usize,
    /// The zone of every host, by place id (hosts come first): the checks ask for the
    /// zone of a flow's ends millions of times, and a lookup by zone name was most of
    /// their time on a large model.
    host_zones: Vec<ZoneId>,
    /// The place ids of every zone (its hosts, then its unlisted rest), ascending.
    zone_places: Vec<Vec<usize>>,
}

const SERVER_BASE: usize = 0;

impl<'m> Network<'m> {
    pub fn new(model: &'m Model) -> Self {
        let mut zones: Vec<NetZone<'m>> = Vec::new();
        let mut zone_index: HashMap<&'m str, ZoneId> = HashMap::new();
        for (i, z) in model.zones.iter().enumerate() {
            zone_index.entry(&z.name.value).or_insert_with(|| {
                zones.push(NetZone {
                    name: &z.name.value,
                    subnets: &z.subnets,
                    declared: Some(i),
                    class: 0,
                });
                zones.len() - 1
            });
        }
        // Zones referenced but not declared: `internet`, or input errors already reported.
        let referenced = model
            .servers
            .iter()
            .map(|s| s.zone.value.as_str())
            .chain(model.clients.iter().map(|c| c.zone.value.as_str()))
            .chain(model.consoles.iter().map(|c| c.zone.value.as_str()))
            .chain(
                model
                    .firewalls
                    .iter()
                    .flat_map(|f| f.zones.iter())
                    .map(|z| z.value.as_str()),
            )
            .chain(["internet"]);
        for name in referenced {
            zone_index.entry(name).or_insert_with(|| {
                zones.push(NetZone {
                    name,
                    subnets: &[],
                    declared: None,
                    class: 0,
                });
                zones.len() - 1
            });
        }

        let mut graph = UnGraph::new_undirected();
        let zone_nodes: Vec<NodeIndex> = zones.iter().map(|_| graph.add_node(Node::Zone)).collect();
        let mut attached: Vec<Vec<usize>> = vec![Vec::new(); zones.len()];
        for (f, fw) in model.firewalls.iter().enumerate() {
            let node = graph.add_node(Node::Firewall(f));
            for z in &fw.zones {
                let zid = zone_index[z.value.as_str()];
                if !attached[zid].contains(&f) {
                    attached[zid].push(f);
                    graph.add_edge(node, zone_nodes[zid], ());
                }
            }
        }
        let mut classes: Vec<(ZoneId, Vec<usize>)> = Vec::new();
        let mut class_of: HashMap<Vec<usize>, usize> = HashMap::new();
        for (zid, mut fws) in attached.into_iter().enumerate() {
            // Name order: a route lists equally near firewalls by name, whatever file
            // declares them first.
            fws.sort_unstable_by(|&x, &y| {
                (&model.firewalls[x].name.value, x).cmp(&(&model.firewalls[y].name.value, y))
            });
            // Zones on no firewall are each their own island.
            let class = if fws.is_empty() {
                classes.push((zid, fws));
                classes.len() - 1
            } else {
                *class_of.entry(fws.clone()).or_insert_with(|| {
                    classes.push((zid, fws));
                    classes.len() - 1
                })
            };
            zones[zid].class = class;
        }
        // Every zone a host names is in `zone_index` (see `referenced` above); cloud
        // services and the Internet live in `internet`.
        let host_zones: Vec<ZoneId> = model
            .servers
            .iter()
            .map(|s| s.zone.value.as_str())
            .chain(model.clients.iter().map(|c| c.zone.value.as_str()))
            .chain(model.consoles.iter().map(|c| c.zone.value.as_str()))
            .chain(model.cloud_services.iter().map(|_| "internet"))
            .chain(["internet"])
            .map(|name| zone_index[name])
            .collect();
        let mut zone_places: Vec<Vec<usize>> = vec![Vec::new(); zones.len()];
        for (id, &zone) in host_zones.iter().enumerate() {
            zone_places[zone].push(id);
        }
        for (zone, places) in zone_places.iter_mut().enumerate() {
            places.push(host_zones.len() + zone);
        }
        let place_count = host_zones.len() + zones.len();
        Self {
            model,
            zones,
            zone_index,
            graph,
            zone_nodes,
            classes,
            routes: std::sync::Mutex::new(HashMap::new()),
            place_count,
            host_zones,
            zone_places,
        }
    }

    /// Whether the model has firewalls at all (`language.md`: otherwise no routing).
    pub fn routed(&self) -> bool {
        !self.model.firewalls.is_empty()
    }

    pub fn zone_id(&self, name: &str) -> Option<ZoneId> {
        self.zone_index.get(name).copied()
    }

    /// The zone of a flow endpoint.
    pub fn zone_of(&self, e: FlowEndpoint) -> ZoneId {
        self.host_zones[self.place_id(Place::Host(e))]
    }

    /// The places of a zone by [`Network::place_id`], ascending: its hosts and its
    /// unlisted rest, exactly the places `zone:NAME` names.
    pub fn zone_places(&self, zone: ZoneId) -> &[usize] {
        &self.zone_places[zone]
    }

    /// The zone of a place.
    pub fn place_zone(&self, p: Place) -> ZoneId {
        match p {
            Place::Host(e) => self.zone_of(e),
            Place::Unlisted(z) => z,
        }
    }

    /// The firewalls between two zones.
    pub fn route(&self, from: ZoneId, to: ZoneId) -> Route {
        if !self.routed() {
            return Route::Unrouted;
        }
        if from == to {
            return Route::SameZone;
        }
        self.class_route(self.zones[from].class, self.zones[to].class)
    }

    /// The number of zone classes (zones attached to the same firewalls).
    pub fn class_count(&self) -> usize {
        self.classes.len()
    }

    /// The class of a zone.
    pub fn zone_class(&self, zone: ZoneId) -> usize {
        self.zones[zone].class
    }

    /// The firewalls between two zones of the given classes (different zones if the same
    /// class).
    pub fn class_route(&self, ca: usize, cb: usize) -> Route {
        if !self.routed() {
            return Route::Unrouted;
        }
        if ca == cb {
            // Two zones on the same firewalls: one hop through each of them (equally
            // near, so in name order: see `Network::new`).
            let fws = &self.classes[ca].1;
            return if fws.is_empty() {
                Route::NoPath
            } else {
                Route::Through(fws.clone().into())
            };
        }
        let mut cache = self
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .entry((ca, cb))
            .or_insert_with(|| self.shortest_paths(self.classes[ca].0, self.classes[cb].0))
            .clone()
    }

    /// Every firewall on a shortest path from zone `a` to zone `b`: a breadth-first search
    /// from `a`, then a walk back from `b` along edges that lose one hop each.
    fn shortest_paths(&self, a: ZoneId, b: ZoneId) -> Route {
        let n = self.graph.node_count();
        let mut dist = vec![u32::MAX; n];
        let start = self.zone_nodes[a];
        let goal = self.zone_nodes[b];
        dist[start.index()] = 0;
        let mut queue = VecDeque::from([start]);
        while let Some(v) = queue.pop_front() {
            if v == goal {
                break;
            }
            for w in self.graph.neighbors(v) {
                if dist[w.index()] == u32::MAX {
                    dist[w.index()] = dist[v.index()] + 1;
                    queue.push_back(w);
                }
            }
        }
        if dist[goal.index()] == u32::MAX {
            return Route::NoPath;
        }
        let mut on_path = vec![false; n];
        let mut firewalls: Vec<(u32, usize)> = Vec::new();
        let mut stack = vec![goal];
        on_path[goal.index()] = true;
        while let Some(v) = stack.pop() {
            if let Node::Firewall(f) = self.graph[v] {
                firewalls.push((dist[v.index()], f));
            }
            for w in self.graph.neighbors(v) {
                if !on_path[w.index()] && dist[w.index()].wrapping_add(1) == dist[v.index()] {
                    on_path[w.index()] = true;
                    stack.push(w);
                }
            }
        }
        firewalls.sort_unstable_by(|x, y| {
            (x.0, &self.model.firewalls[x.1].name.value)
                .cmp(&(y.0, &self.model.firewalls[y.1].name.value))
        });
        Route::Through(firewalls.into_iter().map(|(_, f)| f).collect())
    }

    /// The number of places (every host of the model plus one "unlisted" place per zone).
    pub fn place_count(&self) -> usize {
        self.place_count
    }

    /// A dense number for a place, for bit sets.
    pub fn place_id(&self, p: Place) -> usize {
        let m = self.model;
        let clients = SERVER_BASE + m.servers.len();
        let consoles = clients + m.clients.len();
        let clouds = consoles + m.consoles.len();
        let internet = clouds + m.cloud_services.len();
        match p {
            Place::Host(FlowEndpoint::Server(i)) => SERVER_BASE + i,
            Place::Host(FlowEndpoint::Clients(i)) => clients + i,
            Place::Host(FlowEndpoint::Console(i)) => consoles + i,
            Place::Host(FlowEndpoint::Cloud(i)) => clouds + i,
            Place::Host(FlowEndpoint::Internet) => internet,
            Place::Unlisted(z) => internet + 1 + z,
        }
    }

    /// Every place, in [`Network::place_id`] order.
    pub fn places(&self) -> impl Iterator<Item = Place> + '_ {
        let m = self.model;
        (0..m.servers.len())
            .map(FlowEndpoint::Server)
            .chain((0..m.clients.len()).map(FlowEndpoint::Clients))
            .chain((0..m.consoles.len()).map(FlowEndpoint::Console))
            .chain((0..m.cloud_services.len()).map(FlowEndpoint::Cloud))
            .chain([FlowEndpoint::Internet])
            .map(Place::Host)
            .chain((0..self.zones.len()).map(Place::Unlisted))
    }

    /// Whether any endpoint of a list names the place.
    pub fn list_matches(&self, list: &[Spanned<Endpoint>], p: Place) -> Tri {
        let mut best = Tri::No;
        for e in list {
            best = best.max(self.matches(&e.value, p));
            if best == Tri::Yes {
                break;
            }
        }
        if best == Tri::Maybe {
            best = best.max(self.cidr_union_matches(list, p));
        }
        best
    }

    /// Whether the `cidr:` endpoints of a list, taken together, hold every subnet of the
    /// place's zone: `cidr:10.2.0.0/24,cidr:10.3.0.0/24` names a zone with exactly those
    /// two subnets, though neither does alone.
    fn cidr_union_matches(&self, list: &[Spanned<Endpoint>], p: Place) -> Tri {
        if let Place::Host(FlowEndpoint::Server(i)) = p
            && self.model.servers[i].address.is_some()
        {
            return Tri::No;
        }
        let nets: Vec<IpNet> = list
            .iter()
            .filter_map(|e| match e.value {
                Endpoint::Cidr(net) => Some(net),
                _ => None,
            })
            .collect();
        let zone = &self.zones[self.place_zone(p)];
        if nets.len() < 2 || zone.subnets.is_empty() {
            return Tri::No;
        }
        let union = IpNet::aggregate(&nets);
        let covered = zone
            .subnets
            .iter()
            .all(|s| union.iter().any(|u| u.contains(&s.value)));
        if covered { Tri::Yes } else { Tri::No }
    }

    /// Whether a network rule's guard lets it see a flow whose source (`from_side`) or
    /// destination is `place`: an NSG's inbound rules see flows into its zone, its
    /// outbound rules flows out of it. Every place lies in one zone (a host without an
    /// address, the unlisted rest of a zone, the Internet in `internet`), so the answer
    /// is always sure; a guard naming no zone sees nothing.
    pub fn guard_matches(&self, guard: &RuleGuard, place: Place, from_side: bool) -> Tri {
        let ((RuleGuard::IntoZone(zone), false) | (RuleGuard::OutOfZone(zone), true)) =
            (guard, from_side)
        else {
            return Tri::Yes;
        };
        if self.zones[self.place_zone(place)].name == *zone {
            Tri::Yes
        } else {
            Tri::No
        }
    }

    /// Whether one endpoint names the place.
    pub fn matches(&self, endpoint: &Endpoint, place: Place) -> Tri {
        let m = self.model;
        let yes = |b: bool| if b { Tri::Yes } else { Tri::No };
        match (endpoint, place) {
            (Endpoint::Any, _) => Tri::Yes,
            (Endpoint::Zone(z), _) => yes(self.zones[self.place_zone(place)].name == z),
            (Endpoint::Cidr(net), _) => self.cidr_matches(*net, place),
            (_, Place::Unlisted(_)) => Tri::No,
            (Endpoint::Host(h), Place::Host(host)) => yes(match host {
                FlowEndpoint::Server(i) => m.servers[i].fqdn.value.eq_ignore_ascii_case(h),
                FlowEndpoint::Console(i) => &m.consoles[i].name.value == h,
                FlowEndpoint::Cloud(i) => &m.cloud_services[i].name.value == h,
                FlowEndpoint::Clients(_) | FlowEndpoint::Internet => false,
            }),
            (Endpoint::Site(code), Place::Host(FlowEndpoint::Server(i))) => yes(m.servers[i]
                .site
                .is_some_and(|s| &m.sites[s].code.value == code)),
            (Endpoint::Role { role, site }, Place::Host(FlowEndpoint::Server(i))) => {
                let server = &m.servers[i];
                let holds = server.has_role(role)
                    || (role == "sql-server" && !server.sql_instances.is_empty());
                let in_site = site
                    .as_ref()
                    .is_none_or(|code| server.site.is_some_and(|s| &m.sites[s].code.value == code));
                yes(holds && in_site)
            }
            (Endpoint::Clients(g), Place::Host(FlowEndpoint::Clients(i))) => {
                yes(&m.clients[i].name.value == g)
            }
            (Endpoint::Site(_) | Endpoint::Role { .. } | Endpoint::Clients(_), Place::Host(_)) => {
                Tri::No
            }
        }
    }

    /// `cidr:` names hosts whose `address` lies inside it, and zones whose subnets all do.
    fn cidr_matches(&self, net: IpNet, p: Place) -> Tri {
        let address = match p {
            Place::Host(FlowEndpoint::Server(i)) => self.model.servers[i].address,
            Place::Host(FlowEndpoint::Console(i)) => self.model.consoles[i].address,
            _ => None,
        };
        if let Some(addr) = address {
            return if net.contains(&addr) {
                Tri::Yes
            } else {
                Tri::No
            };
        }
        // A client group with its own subnets: named when they all lie inside.
        if let Place::Host(FlowEndpoint::Clients(i)) = p
            && !self.model.clients[i].subnets.is_empty()
        {
            let subnets = &self.model.clients[i].subnets;
            let inside = subnets.iter().filter(|s| net.contains(&s.value)).count();
            return if inside == subnets.len() {
                Tri::Yes
            } else if inside == 0 && !subnets.iter().any(|s| overlaps(s.value, net)) {
                Tri::No
            } else {
                Tri::Maybe
            };
        }
        let zone = &self.zones[self.place_zone(p)];
        if zone.subnets.is_empty() {
            // All addresses (`0.0.0.0/0`, `::/0`) name a host the model gives no address;
            // a zone with subnets is answered by its subnets (and their address family).
            if net.prefix_len() == 0 {
                return Tri::Yes;
            }
            // The Internet holds public addresses only: a private range never names it.
            if zone.name == "internet" && !is_global(net) {
                return Tri::No;
            }
            return Tri::Maybe;
        }
        let inside = zone
            .subnets
            .iter()
            .filter(|s| net.contains(&s.value))
            .count();
        if inside == zone.subnets.len() {
            Tri::Yes
        } else if inside == 0 && !zone.subnets.iter().any(|s| overlaps(s.value, net)) {
            Tri::No
        } else {
            Tri::Maybe
        }
    }
}

fn overlaps(a: IpNet, b: IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Whether a range may hold public Internet addresses (not private, loopback, link-local).
fn is_global(net: IpNet) -> bool {
    const LOCAL: &[&str] = &[
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    ];
    !LOCAL
        .iter()
        .any(|l| l.parse::<IpNet>().is_ok_and(|local| local.contains(&net)))
}
