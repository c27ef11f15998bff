//! Flow instantiation: the catalog's rows over the model, following `flows.md`.
//!
//! For each row, every source of the row's `from` kind is paired with the destinations
//! its `relation` gives; conditions filter the pairs; symbolic ports are resolved from
//! the model's settings; `<-->` rows add the reverse direction unless
//! `site-server-initiates` applies (Note 5). Flows are deduplicated per source,
//! destination, protocol and ports, keeping every service that needs them.

use std::fmt;

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::Phase;
use super::hierarchy::Hierarchy;
use crate::catalog::{Atom, AtomTest, Catalog, CatalogPort, CatalogRow};
use crate::model::{
    Edition, Endpoint, Model, PortItem, Props, Protocol, ServerId, SiteId, SiteType, Value,
    ValueRef,
};

/// One end of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlowEndpoint {
    Server(ServerId),
    Clients(usize),
    Console(usize),
    Cloud(usize),
    Internet,
}

impl FlowEndpoint {
    /// The name users wrote (server FQDN, group, console, cloud service) or `internet`.
    pub fn name(self, model: &Model) -> &str {
        match self {
            FlowEndpoint::Server(i) => &model.servers[i].fqdn.value,
            FlowEndpoint::Clients(i) => &model.clients[i].name.value,
            FlowEndpoint::Console(i) => &model.consoles[i].name.value,
            FlowEndpoint::Cloud(i) => &model.cloud_services[i].name.value,
            FlowEndpoint::Internet => "internet",
        }
    }

    /// `server`, `clients`, `console`, `cloud-service` or `internet`.
    pub fn kind(self) -> &'static str {
        match self {
            FlowEndpoint::Server(_) => "server",
            FlowEndpoint::Clients(_) => "clients",
            FlowEndpoint::Console(_) => "console",
            FlowEndpoint::Cloud(_) => "cloud-service",
            FlowEndpoint::Internet => "internet",
        }
    }

    /// The zone the endpoint lives in; cloud services and the Internet are in `internet`.
    pub fn zone(self, model: &Model) -> &str {
        match self {
            FlowEndpoint::Server(i) => &model.servers[i].zone.value,
            FlowEndpoint::Clients(i) => &model.clients[i].zone.value,
            FlowEndpoint::Console(i) => &model.consoles[i].zone.value,
            FlowEndpoint::Cloud(_) | FlowEndpoint::Internet => "internet",
        }
    }
}

/// Ports of a flow: a range (one port is `Range(p, p)`) or ICMP echo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlowPorts {
    Range(u16, u16),
    Echo,
}

impl FlowPorts {
    /// The ports as an inclusive interval; ICMP echo is `(0, 0)`.
    pub fn interval(self) -> (u32, u32) {
        match self {
            FlowPorts::Range(a, b) => (u32::from(a), u32::from(b)),
            FlowPorts::Echo => (0, 0),
        }
    }

    /// The ports of `protocol` for an interval of [`FlowPorts::interval`] (or a part of
    /// one): ICMP is always echo.
    pub fn from_interval(protocol: Protocol, (a, b): (u32, u32)) -> Self {
        if protocol == Protocol::Icmp {
            FlowPorts::Echo
        } else {
            // Intervals come from u16 ports, so they fit.
            FlowPorts::Range(
                u16::try_from(a).unwrap_or(u16::MAX),
                u16::try_from(b).unwrap_or(u16::MAX),
            )
        }
    }
}

impl fmt::Display for FlowPorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowPorts::Range(a, b) if a == b => write!(f, "{a}"),
            FlowPorts::Range(a, b) => write!(f, "{a}-{b}"),
            FlowPorts::Echo => f.write_str("echo"),
        }
    }
}

/// What needs a flow: a catalog row or a user `flow`.
#[derive(Clone, Copy, Debug)]
pub enum Origin {
    Catalog(&'static CatalogRow),
    User(usize),
}

impl PartialEq for Origin {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Origin::Catalog(a), Origin::Catalog(b)) => std::ptr::eq(*a, *b),
            (Origin::User(a), Origin::User(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Origin {}

/// Why a flow is required: one service of one catalog row (or user flow).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowService {
    pub origin: Origin,
    /// `client`, `console`, `internet`, or the role kind (`management-point`).
    pub source_role: &'static str,
    pub destination_role: &'static str,
    pub phase: Phase,
}

impl FlowService {
    pub fn service<'m>(&self, model: &'m Model) -> &'m str {
        match self.origin {
            Origin::Catalog(row) => &row.service,
            Origin::User(i) => &model.flows[i].name.value,
        }
    }

    pub fn reference(&self) -> String {
        match self.origin {
            Origin::Catalog(row) => row.reference(),
            Origin::User(_) => "User-declared flow".to_owned(),
        }
    }

    /// The Microsoft Learn address of the reference's section (none for a user flow).
    pub fn reference_url(&self) -> Option<&'static str> {
        match self.origin {
            Origin::Catalog(row) => Some(&row.url),
            Origin::User(_) => None,
        }
    }
}

/// A flow the model requires: one per source, destination, protocol and ports.
#[derive(Clone, Debug)]
pub struct RequiredFlow {
    pub source: FlowEndpoint,
    pub destination: FlowEndpoint,
    pub protocol: Protocol,
    pub ports: FlowPorts,
    /// Every service needing the flow, in catalog order.
    pub services: Vec<FlowService>,
    /// The `waive` (index in [`Model::waivers`]) that waives these ports: the flow is
    /// listed with the verdict `waived` and is otherwise not required.
    pub waived_by: Option<usize>,
}

impl RequiredFlow {
    /// Whether a service of the flow is sent before the source has an address (DHCP,
    /// catalog `broadcast=#true`): firewall rules for it cannot name the source.
    pub fn broadcast(&self) -> bool {
        self.services
            .iter()
            .any(|s| matches!(s.origin, Origin::Catalog(row) if row.broadcast))
    }

    /// Whether a `waive` waives the flow (it is then not required).
    pub fn is_waived(&self) -> bool {
        self.waived_by.is_some()
    }

    /// The earliest phase any service needs the flow in.
    pub fn phase(&self) -> Phase {
        self.services
            .iter()
            .map(|s| s.phase)
            .min()
            .unwrap_or(Phase::Operation)
    }
}

/// One endpoint of a row being instantiated, with what conditions and ports read.
#[derive(Clone, Copy)]
struct Party<'m> {
    endpoint: FlowEndpoint,
    /// The site the endpoint belongs to (a server's, a group's, a console's).
    site: Option<SiteId>,
    /// Properties conditions read: the role's, the group's, the cloud service's.
    props: Option<&'m Props>,
    /// For `sql-server` parties: the instance.
    instance: Option<(ServerId, usize)>,
}

/// The most required flows cmflow computes for one model. Each takes a few hundred bytes
/// with its verdict; the largest generated model (9,300 servers, every phase) requires
/// under a million. A model past it gets [`TooManyFlows`] instead of gigabytes.
pub const MAX_FLOWS: usize = 2_000_000;

/// A model requires more than [`MAX_FLOWS`] flows.
#[derive(Clone, Copy, Debug)]
pub struct TooManyFlows {
    /// The catalog row or user `flow` that was adding flows when the limit was reached.
    pub origin: Origin,
    /// How many flows a user `flow` alone would add (refused before building them).
    pub user_flow_count: Option<usize>,
}

/// The runs of `flows` (sorted by source and destination, as [`required_flows`] returns
/// them) between one source and one destination, as index ranges in order: what the
/// evaluation, the re-evaluation and the export plan read per pair.
pub fn pair_runs(flows: &[RequiredFlow]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut start = 0;
    flows
        .chunk_by(|a, b| a.source == b.source && a.destination == b.destination)
        .map(move |run| {
            let range = start..start + run.len();
            start = range.end;
            range
        })
}

/// Computes the required flows of `phases`, sorted by source, destination, protocol, ports.
pub fn required_flows(model: &Model, phases: &[Phase]) -> Vec<RequiredFlow> {
    required_flows_with(model, crate::catalog::for_model(model), phases)
}

/// [`required_flows`], stopping at [`MAX_FLOWS`].
pub fn required_flows_bounded(
    model: &Model,
    phases: &[Phase],
) -> Result<Vec<RequiredFlow>, TooManyFlows> {
    compute(model, crate::catalog::for_model(model), phases, MAX_FLOWS)
}

/// [`required_flows`] with an explicit catalog (tests).
pub fn required_flows_with(
    model: &Model,
    catalog: &'static Catalog,
    phases: &[Phase],
) -> Vec<RequiredFlow> {
    compute(model, catalog, phases, usize::MAX).unwrap_or_default()
}

fn compute(
    model: &Model,
    catalog: &'static Catalog,
    phases: &[Phase],
    limit: usize,
) -> Result<Vec<RequiredFlow>, TooManyFlows> {
    let h = Hierarchy::new(model);
    let rows: Vec<&'static CatalogRow> = catalog
        .rows
        .iter()
        .filter(|r| phases.contains(&r.phase))
        .collect();
    let user_flows = phases.contains(&Phase::Operation);
    let flows = match side_by_side(&h, &rows, user_flows, limit) {
        Some(flows) => flows,
        None => one_by_one(&h, &rows, user_flows, limit)?,
    };
    Ok(super::waive::apply(model, flows))
}

/// The flows of `rows` (and the user flows), one row after another into one set: the
/// limit is judged in order, and memory stays bounded whatever the model.
fn one_by_one(
    h: &Hierarchy<'_>,
    rows: &[&'static CatalogRow],
    user_flows: bool,
    limit: usize,
) -> Result<Vec<RequiredFlow>, TooManyFlows> {
    let mut flows = FlowSet {
        limit,
        ..FlowSet::default()
    };
    for row in rows {
        if flows.done() {
            break;
        }
        add_catalog_row(h, row, &mut flows);
    }
    if user_flows {
        add_user_flows(h, &mut flows);
    }
    if let Some(origin) = flows.overflow {
        return Err(TooManyFlows {
            origin,
            user_flow_count: flows.user_flow_count,
        });
    }
    Ok(flows.into_sorted())
}

/// Adds per flow the rows may list, together, before deduplication, for each flow the
/// limit allows; past it the rows stop and [`one_by_one`] computes them (the largest
/// generated model lists 1.4 per flow).
const PENDING_PER_FLOW: usize = 4;

/// [`one_by_one`], on every thread: the rows list their flows side by side, then each
/// thread deduplicates the flows of its share of sources, reading the lists in row
/// order (so each flow's services keep the catalog's order). `None` when the model nears
/// the limit or a user flow passes it: [`one_by_one`] then judges it exactly.
fn side_by_side(
    h: &Hierarchy<'_>,
    rows: &[&'static CatalogRow],
    user_flows: bool,
    limit: usize,
) -> Option<Vec<RequiredFlow>> {
    let parts = rayon::current_num_threads();
    if parts < 2 {
        return None;
    }
    let listed = AtomicUsize::new(0);
    let budget = limit.saturating_mul(PENDING_PER_FLOW);
    let mut pending: Vec<Pending<'_>> = rows
        .par_iter()
        .map(|row| {
            let mut p = Pending::new(&listed, budget, limit);
            add_catalog_row(h, row, &mut p);
            p
        })
        .collect();
    if user_flows {
        let mut p = Pending::new(&listed, budget, limit);
        add_user_flows(h, &mut p);
        pending.push(p);
    }
    if pending.iter().any(|p| p.stopped) {
        return None;
    }
    let sets: Vec<FlowSet> = (0..parts)
        .into_par_iter()
        .map(|part| {
            let mut set = FlowSet {
                limit: usize::MAX,
                ..FlowSet::default()
            };
            for p in &pending {
                for &(key, service) in &p.adds {
                    if share(key, parts) == part {
                        set.add_key(key, &p.services[service]);
                    }
                }
            }
            set
        })
        .collect();
    if sets.iter().map(|s| s.flows.len()).sum::<usize>() > limit {
        return None;
    }
    let mut all = FlowSet::default();
    for set in sets {
        all.flows.extend(set.flows);
        all.keys.extend(set.keys);
    }
    Some(all.into_sorted())
}

/// The thread that deduplicates a flow: by source, so that one flow is always one
/// thread's.
fn share(key: FlowKey, parts: usize) -> usize {
    // The source's index is in the low bits.
    usize::try_from(key.0 % parts as u64).unwrap_or(0)
}

/// Adds the flows of one catalog row, for every pair of parties it relates.
fn add_catalog_row(h: &Hierarchy<'_>, row: &'static CatalogRow, flows: &mut impl FlowSink) {
    add_catalog_row_from(h, row, |_| true, flows);
}

/// [`add_catalog_row`] for the sources `from` keeps.
fn add_catalog_row_from(
    h: &Hierarchy<'_>,
    row: &'static CatalogRow,
    from: impl Fn(&Party<'_>) -> bool,
    flows: &mut impl FlowSink,
) {
    let (source_role, destination_role) = (role_name(&row.from), role_name(&row.to));
    for source in h.parties(&row.from, row) {
        if !from(&source) {
            continue;
        }
        for dest in h.destinations(row, &source) {
            if flows.done() {
                return;
            }
            if !conditions_hold(h, row, &source, &dest) {
                continue;
            }
            let service = FlowService {
                origin: Origin::Catalog(row),
                source_role,
                destination_role,
                phase: row.phase,
            };
            add_row_flows(h, flows, row, &source, &dest, &service, false);
            if row.bidirectional && !h.site_server_initiates(row, &source, &dest) {
                let reverse = FlowService {
                    source_role: service.destination_role,
                    destination_role: service.source_role,
                    ..service.clone()
                };
                add_row_flows(h, flows, row, &source, &dest, &reverse, true);
            }
        }
    }
}

/// The role name shown for a catalog endpoint kind.
fn role_name(kind: &str) -> &'static str {
    match kind {
        "clients" => "client",
        other => crate::load::vocabulary::site_role_names()
            .chain(crate::load::vocabulary::infra_role_names())
            .chain([
                "domain-member",
                "console",
                "internet",
                "sql-server",
                "cloud-management-gateway",
                "cloud-distribution-point",
            ])
            .find(|r| *r == other)
            .unwrap_or("unknown"),
    }
}

/// A flow's identity, packed into integers that hash and compare in a few instructions,
/// in the order of `(source, destination, protocol, ports)`.
type FlowKey = (u64, u64, u64);

fn flow_key(
    source: FlowEndpoint,
    destination: FlowEndpoint,
    protocol: Protocol,
    ports: FlowPorts,
) -> FlowKey {
    // Variant, then index: the derived order of `FlowEndpoint`. Indices are far below
    // 2^61 (a model that large does not fit in memory).
    let endpoint = |e: FlowEndpoint| -> u64 {
        let (variant, index) = match e {
            FlowEndpoint::Server(i) => (0, i),
            FlowEndpoint::Clients(i) => (1, i),
            FlowEndpoint::Console(i) => (2, i),
            FlowEndpoint::Cloud(i) => (3, i),
            FlowEndpoint::Internet => (4, 0),
        };
        (variant << 61) | (index as u64)
    };
    let ports = match ports {
        FlowPorts::Range(a, b) => (u64::from(a) << 16) | u64::from(b),
        FlowPorts::Echo => 1 << 32,
    };
    (
        endpoint(source),
        endpoint(destination),
        ((protocol as u64) << 33) | ports,
    )
}

/// The endpoints, protocol and ports a [`FlowKey`] packs.
#[expect(
    clippy::cast_possible_truncation,
    reason = "each field is masked or shifted to the width it was packed from"
)]
fn unpack(key: FlowKey) -> (FlowEndpoint, FlowEndpoint, Protocol, FlowPorts) {
    const INDEX: u64 = (1 << 61) - 1;
    let endpoint = |k: u64| {
        let index = (k & INDEX) as usize;
        match k >> 61 {
            0 => FlowEndpoint::Server(index),
            1 => FlowEndpoint::Clients(index),
            2 => FlowEndpoint::Console(index),
            3 => FlowEndpoint::Cloud(index),
            _ => FlowEndpoint::Internet,
        }
    };
    let protocol = match key.2 >> 33 {
        0 => Protocol::Tcp,
        1 => Protocol::Udp,
        _ => Protocol::Icmp,
    };
    let ports = if key.2 & (1 << 32) != 0 {
        FlowPorts::Echo
    } else {
        FlowPorts::Range((key.2 >> 16) as u16, (key.2 & 0xffff) as u16)
    };
    (endpoint(key.0), endpoint(key.1), protocol, ports)
}

/// A host does not talk to itself; a client group is many hosts (client --> client).
fn wanted(source: FlowEndpoint, destination: FlowEndpoint) -> bool {
    source != destination || matches!(source, FlowEndpoint::Clients(_))
}

/// Where instantiation puts the flows it finds: the deduplicated [`FlowSet`], or a row's
/// [`Pending`] list.
trait FlowSink {
    /// Adds the flow of `key` (one `wanted`), needed by `service`.
    fn add_key(&mut self, key: FlowKey, service: &FlowService);

    fn add(
        &mut self,
        source: FlowEndpoint,
        destination: FlowEndpoint,
        protocol: Protocol,
        ports: FlowPorts,
        service: &FlowService,
    ) {
        if wanted(source, destination) {
            self.add_key(flow_key(source, destination, protocol, ports), service);
        }
    }

    /// No more flows are wanted: the limit is reached.
    fn done(&self) -> bool;

    /// A user `flow` would add `count` flows, more than the limit: refused before they
    /// are built, and the instantiation stops.
    fn refuse(&mut self, origin: Origin, count: usize);

    fn limit(&self) -> usize;
}

#[derive(Default)]
struct FlowSet {
    /// Keyed by small integers: Fx hashing, not the standard library's `SipHash`, which
    /// took a tenth of the stage on the largest models.
    index: FxHashMap<FlowKey, usize>,
    flows: Vec<RequiredFlow>,
    /// Parallel to `flows`.
    keys: Vec<FlowKey>,
    /// No new flow past this many; the first service refused is kept.
    limit: usize,
    overflow: Option<Origin>,
    user_flow_count: Option<usize>,
}

impl FlowSink for FlowSet {
    fn add_key(&mut self, key: FlowKey, service: &FlowService) {
        if self.flows.len() >= self.limit && !self.index.contains_key(&key) {
            self.overflow.get_or_insert(service.origin);
            return;
        }
        let i = *self.index.entry(key).or_insert_with(|| {
            let (source, destination, protocol, ports) = unpack(key);
            self.flows.push(RequiredFlow {
                source,
                destination,
                protocol,
                ports,
                // Most flows have one service: room for one, not the four of a first push.
                services: Vec::with_capacity(1),
                waived_by: None,
            });
            self.keys.push(key);
            self.flows.len() - 1
        });
        let f = &mut self.flows[i];
        if !f.services.contains(service) {
            f.services.push(service.clone());
        }
    }

    fn done(&self) -> bool {
        self.overflow.is_some()
    }

    fn refuse(&mut self, origin: Origin, count: usize) {
        self.overflow = Some(origin);
        self.user_flow_count = Some(count);
    }

    fn limit(&self) -> usize {
        self.limit
    }
}

impl FlowSet {
    fn into_sorted(self) -> Vec<RequiredFlow> {
        // Sorting the packed keys, then moving each flow once, is much faster than
        // sorting the flows by their fields. Keys are unique: an unstable sort.
        let mut order: Vec<(FlowKey, usize)> = self.keys.into_iter().zip(0..).collect();
        order.sort_unstable();
        let mut flows: Vec<Option<RequiredFlow>> = self.flows.into_iter().map(Some).collect();
        order
            .into_iter()
            .filter_map(|(_, i)| flows[i].take())
            .collect()
    }
}

/// One row's (or the user flows') flows before deduplication, in the order they were
/// found, each with the index of its service.
struct Pending<'b> {
    services: Vec<FlowService>,
    adds: Vec<(FlowKey, usize)>,
    /// Adds every row has listed, counted a chunk at a time: the rows stop once it passes
    /// `budget` (each row may list one chunk past it).
    listed: &'b AtomicUsize,
    budget: usize,
    unreported: usize,
    limit: usize,
    /// The budget ran out, or a user flow passed the limit.
    stopped: bool,
}

impl<'b> Pending<'b> {
    const CHUNK: usize = 4096;

    fn new(listed: &'b AtomicUsize, budget: usize, limit: usize) -> Self {
        Self {
            services: Vec::new(),
            adds: Vec::new(),
            listed,
            budget,
            unreported: 0,
            limit,
            stopped: false,
        }
    }
}

impl FlowSink for Pending<'_> {
    fn add_key(&mut self, key: FlowKey, service: &FlowService) {
        if self.stopped {
            return;
        }
        self.unreported += 1;
        if self.unreported == Self::CHUNK {
            self.unreported = 0;
            let listed = self.listed.fetch_add(Self::CHUNK, Ordering::Relaxed) + Self::CHUNK;
            if listed > self.budget {
                self.stopped = true;
                return;
            }
        }
        // A row has one or two services (a `<-->` row's way back), found in runs.
        if self.services.last() != Some(service) {
            self.services.push(service.clone());
        }
        self.adds.push((key, self.services.len() - 1));
    }

    fn done(&self) -> bool {
        self.stopped
    }

    fn refuse(&mut self, _origin: Origin, _count: usize) {
        self.stopped = true;
    }

    fn limit(&self) -> usize {
        self.limit
    }
}

/// Adds the flows of one row between two parties (reversed for the `<-->` way back).
fn add_row_flows(
    h: &Hierarchy<'_>,
    flows: &mut impl FlowSink,
    row: &CatalogRow,
    source: &Party<'_>,
    dest: &Party<'_>,
    service: &FlowService,
    reverse: bool,
) {
    let (from, to) = if reverse {
        (dest.endpoint, source.endpoint)
    } else {
        (source.endpoint, dest.endpoint)
    };
    for (protocol, port) in [(Protocol::Tcp, &row.tcp), (Protocol::Udp, &row.udp)] {
        let Some(port) = port else { continue };
        for ports in h.resolve_port(port, source, dest, to).into_iter().flatten() {
            flows.add(from, to, protocol, ports, service);
        }
        if h.needs_sql_browser(port, dest) {
            flows.add(
                from,
                to,
                Protocol::Udp,
                FlowPorts::Range(1434, 1434),
                service,
            );
        }
    }
    if row.icmp {
        flows.add(from, to, Protocol::Icmp, FlowPorts::Echo, service);
    }
}

fn conditions_hold(
    h: &Hierarchy<'_>,
    row: &CatalogRow,
    source: &Party<'_>,
    dest: &Party<'_>,
) -> bool {
    row.when
        .iter()
        .all(|atom| h.atom(atom, source, dest) != atom.negated)
}

fn add_user_flows(h: &Hierarchy<'_>, flows: &mut impl FlowSink) {
    let model = h.model;
    for (i, f) in model.flows.iter().enumerate() {
        if flows.done() {
            return;
        }
        let sources = h.endpoint_hosts(&f.traffic.from);
        let dests = h.endpoint_hosts(&f.traffic.to);
        let service = FlowService {
            origin: Origin::User(i),
            source_role: "flow",
            destination_role: "flow",
            phase: Phase::Operation,
        };
        let items = [&f.traffic.tcp, &f.traffic.udp]
            .iter()
            .filter_map(|l| l.as_ref().map(|l| l.items.len()))
            .sum::<usize>()
            + usize::from(f.traffic.icmp);
        let count = sources
            .len()
            .saturating_mul(dests.len())
            .saturating_mul(items);
        if count > flows.limit() {
            // Refused before a single flow is built: memory stays flat.
            flows.refuse(service.origin, count);
            return;
        }
        for &s in &sources {
            for &d in &dests {
                for (protocol, list) in [
                    (Protocol::Tcp, &f.traffic.tcp),
                    (Protocol::Udp, &f.traffic.udp),
                ] {
                    let Some(list) = list else { continue };
                    for item in &list.items {
                        let ports = match *item {
                            PortItem::Range(a, b) => FlowPorts::Range(a, b),
                            PortItem::RpcEpmap => FlowPorts::Range(135, 135),
                            PortItem::Rpc => {
                                let (a, b) = h.rpc_range(d);
                                FlowPorts::Range(a, b)
                            }
                        };
                        flows.add(s, d, protocol, ports, &service);
                    }
                }
                if f.traffic.icmp {
                    flows.add(s, d, Protocol::Icmp, FlowPorts::Echo, &service);
                }
            }
        }
    }
}

impl<'m> Hierarchy<'m> {
    fn server_party(&self, server: ServerId, role: &str) -> Party<'m> {
        let s = &self.model.servers[server];
        Party {
            endpoint: FlowEndpoint::Server(server),
            site: s.site,
            props: s.role(role).map(|r| &r.props),
            instance: None,
        }
    }

    fn instance_party(&self, server: ServerId, instance: usize) -> Party<'m> {
        let s = &self.model.servers[server];
        Party {
            endpoint: FlowEndpoint::Server(server),
            site: s.site,
            props: Some(&s.sql_instances[instance].props),
            instance: Some((server, instance)),
        }
    }

    /// A site's database instance, as a party of that site (its server may be outside
    /// every site).
    fn database_party(&self, site: SiteId) -> Option<Party<'m>> {
        let (server, instance) = self.site_database(site)?;
        Some(Party {
            site: Some(site),
            ..self.instance_party(server, instance)
        })
    }

    /// Every endpoint of a kind, as sources.
    fn parties(&self, kind: &str, row: &CatalogRow) -> Vec<Party<'m>> {
        let m = self.model;
        match kind {
            "clients" => m
                .clients
                .iter()
                .enumerate()
                .map(|(i, c)| Party {
                    endpoint: FlowEndpoint::Clients(i),
                    site: m.site_id(&c.site.value),
                    props: Some(&c.props),
                    instance: None,
                })
                .collect(),
            "console" => m
                .consoles
                .iter()
                .enumerate()
                .map(|(i, c)| Party {
                    endpoint: FlowEndpoint::Console(i),
                    site: m.site_id(&c.site.value),
                    props: None,
                    instance: None,
                })
                .collect(),
            "sql-server" => (0..m.sites.len())
                .filter_map(|site| self.database_party(site))
                .collect(),
            // Every server that is not a domain controller (`include "windows-domain"`).
            "domain-member" => (0..m.servers.len())
                .filter(|&s| !m.servers[s].has_role("domain-controller"))
                .map(|s| Party {
                    endpoint: FlowEndpoint::Server(s),
                    site: m.servers[s].site,
                    props: None,
                    instance: None,
                })
                .collect(),
            "site-server" if row.relation == "top-level" => {
                let top = m.top_level_site();
                self.holders(kind)
                    .iter()
                    .filter(|&&s| m.servers[s].site == top && top.is_some())
                    .map(|&s| self.server_party(s, kind))
                    .collect()
            }
            _ => self
                .holders(kind)
                .iter()
                .map(|&s| self.server_party(s, kind))
                .collect(),
        }
    }

    /// The destinations of a row for one source, by relation.
    fn destinations(&self, row: &CatalogRow, source: &Party<'m>) -> Vec<Party<'m>> {
        let m = self.model;
        let to = row.to.as_str();
        match row.relation.as_str() {
            "same-group" => vec![*source],
            "site" => self.in_site(to, source),
            "hierarchy" | "top-level" => self.everywhere(to),
            "site-database" => source
                .site
                .and_then(|s| self.site_database(s))
                .map(|(s, i)| self.instance_party(s, i))
                .into_iter()
                .collect(),
            "install-database" => source
                .site
                .and_then(|s| self.site_database(s))
                .map(|(s, _)| self.server_party(s, "sql-server"))
                .into_iter()
                .collect(),
            "data-warehouse" | "susdb" | "own-susdb" => {
                let key = if row.relation == "data-warehouse" {
                    "database"
                } else {
                    "susdb"
                };
                let holders: Vec<&Props> = if row.relation == "susdb" {
                    source
                        .site
                        .map(|site| self.site_holders(site, "software-update-point"))
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|&s| {
                            m.servers[s].role("software-update-point").map(|r| &r.props)
                        })
                        .collect()
                } else {
                    source.props.into_iter().collect()
                };
                let mut out: Vec<Party<'m>> = holders
                    .into_iter()
                    .filter_map(|p| self.instance_ref(&p.str(key)?))
                    .map(|(s, i)| self.instance_party(s, i))
                    .collect();
                out.dedup_by_key(|p| p.instance);
                out
            }
            "parent-child" => {
                let Some(site) = source.site else {
                    return Vec::new();
                };
                let children = self.children_of(site);
                let related = m
                    .parent_of(site)
                    .into_iter()
                    .chain(children.iter().copied());
                if to == "sql-server" {
                    related.filter_map(|s| self.database_party(s)).collect()
                } else {
                    related
                        .flat_map(|s| {
                            self.site_holders(s, to)
                                .iter()
                                .map(|&srv| self.server_party(srv, to))
                                .collect::<Vec<_>>()
                        })
                        .collect()
                }
            }
            // The row's `to` kind picks the upstream's kind: one flow per upstream.
            "upstream" => self
                .upstreams(source)
                .into_iter()
                .filter(|(_, role)| *role == to)
                .map(|(party, _)| party)
                .collect(),
            // A pull distribution point's `sources` that are distribution points.
            "pull-sources" => source
                .props
                .and_then(|p| p.str("sources"))
                .map(|list| {
                    list.split(',')
                        .filter_map(|fqdn| m.server_id(fqdn.trim()))
                        .filter(|&s| m.servers[s].has_role(to))
                        .map(|s| self.server_party(s, to))
                        .collect()
                })
                .unwrap_or_default(),
            "content-library" => source
                .site
                .and_then(|s| m.sites[s].content_library.as_ref())
                .and_then(|cl| m.server_id(&cl.value))
                .map(|s| self.server_party(s, "file-server"))
                .into_iter()
                .collect(),
            "exchange" => source
                .props
                .and_then(|p| p.str("exchange"))
                .filter(|e| e != "online")
                .and_then(|e| m.server_id(&e))
                .map(|s| self.server_party(s, "exchange-server"))
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Holders of `to` in the source's site; for clients of a secondary site, a role the
    /// secondary lacks is served by its parent primary.
    fn in_site(&self, to: &str, source: &Party<'m>) -> Vec<Party<'m>> {
        let m = self.model;
        let Some(site) = source.site else {
            return Vec::new();
        };
        match to {
            "clients" => self
                .site_clients(site)
                .iter()
                .map(|&i| self.client_party(i))
                .collect(),
            "cloud-management-gateway" | "cloud-distribution-point" => m
                .cloud_services
                .iter()
                .enumerate()
                .filter(|(_, c)| c.kind.node_name() == to && m.site_id(&c.site.value) == Some(site))
                .map(|(i, c)| Party {
                    endpoint: FlowEndpoint::Cloud(i),
                    site: Some(site),
                    props: Some(&c.props),
                    instance: None,
                })
                .collect(),
            _ => {
                let mut holders = self.site_holders(site, to);
                if let FlowEndpoint::Clients(client) = source.endpoint
                    && let Some(servers) = self.boundary_serving(client, to)
                {
                    return servers.iter().map(|&s| self.server_party(s, to)).collect();
                }
                let is_client = matches!(source.endpoint, FlowEndpoint::Clients(_));
                if holders.is_empty()
                    && is_client
                    && m.sites[site].site_type == SiteType::Secondary
                    && let Some(parent) = m.parent_of(site)
                {
                    holders = self.site_holders(parent, to);
                }
                holders.iter().map(|&s| self.server_party(s, to)).collect()
            }
        }
    }

    fn client_party(&self, i: usize) -> Party<'m> {
        let c = &self.model.clients[i];
        Party {
            endpoint: FlowEndpoint::Clients(i),
            site: self.model.site_id(&c.site.value),
            props: Some(&c.props),
            instance: None,
        }
    }

    /// Every holder of a kind in the model.
    fn everywhere(&self, to: &str) -> Vec<Party<'m>> {
        match to {
            "internet" => vec![Party {
                endpoint: FlowEndpoint::Internet,
                site: None,
                props: None,
                instance: None,
            }],
            "clients" => (0..self.model.clients.len())
                .map(|i| self.client_party(i))
                .collect(),
            _ => self
                .holders(to)
                .iter()
                .map(|&s| self.server_party(s, to))
                .collect(),
        }
    }

    /// A software update point's upstream: its `upstream` server, else the internet at
    /// the top-level site, else the parent site's software update points.
    /// Each upstream comes with the kind it is reached as (`wsus-server` or
    /// `software-update-point`).
    fn upstreams(&self, source: &Party<'m>) -> Vec<(Party<'m>, &'static str)> {
        let m = self.model;
        match source.props.and_then(|p| p.str("upstream")) {
            Some(u) if u == "internet" => Vec::new(),
            Some(u) => m
                .server_id(&u)
                .map(|s| {
                    let role = if m.servers[s].has_role("wsus-server") {
                        "wsus-server"
                    } else {
                        "software-update-point"
                    };
                    (self.server_party(s, role), role)
                })
                .into_iter()
                .collect(),
            None => source
                .site
                .and_then(|s| m.parent_of(s))
                .map(|p| {
                    self.site_holders(p, "software-update-point")
                        .iter()
                        .map(|&s| {
                            (
                                self.server_party(s, "software-update-point"),
                                "software-update-point",
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Whether the reverse direction of a `<-->` row is dropped (Note 5): the site system
    /// end's role setting, else its site's.
    fn site_server_initiates(
        &self,
        row: &CatalogRow,
        source: &Party<'m>,
        dest: &Party<'m>,
    ) -> bool {
        if row.from != "site-server"
            || row.relation == "parent-child"
            || row.relation == "top-level"
        {
            return false;
        }
        let FlowEndpoint::Server(s) = dest.endpoint else {
            return false;
        };
        let server = &self.model.servers[s];
        if let Some(Value::Bool(b)) = server
            .role(&row.to)
            .and_then(|r| r.props.get("site-server-initiates"))
            .map(|v| &v.value)
        {
            return *b;
        }
        let site = server.site.or(source.site);
        site.is_some_and(|site| self.model.sites[site].props.bool("site-server-initiates"))
    }

    /// Evaluates one condition atom (without its negation).
    fn atom(&self, atom: &Atom, source: &Party<'m>, dest: &Party<'m>) -> bool {
        let party = match atom.subject.as_str() {
            "from" => source,
            "to" => dest,
            "site" => {
                let role = atom.property.strip_prefix("has-").unwrap_or(&atom.property);
                return source
                    .site
                    .is_some_and(|s| !self.site_holders(s, role).is_empty());
            }
            "hierarchy" => {
                let role = atom.property.strip_prefix("has-").unwrap_or(&atom.property);
                return self.hierarchy_has(role);
            }
            _ => return false,
        };
        let value = if atom.property == "upstream" {
            Some(self.effective_upstream(party))
        } else {
            party.props.and_then(|p| p.value_ref(&atom.property))
        };
        match (&atom.test, value) {
            (AtomTest::Holds, Some(ValueRef::Bool(b))) => b,
            (AtomTest::Holds, Some(_)) => true,
            (AtomTest::Equals(want), Some(ValueRef::Str(s))) => s == want,
            (AtomTest::Equals(want), Some(ValueRef::Int(i))) => want.parse() == Ok(i),
            (AtomTest::Equals(want), Some(ValueRef::Bool(b))) => want.parse() == Ok(b),
            (AtomTest::GreaterThan(n), Some(ValueRef::Int(i))) => i > *n,
            _ => false,
        }
    }

    /// `upstream`'s value with its site-dependent default (`internet` at the top-level site).
    fn effective_upstream(&self, party: &Party<'m>) -> ValueRef<'m> {
        if let Some(u) = party.props.and_then(|p| p.str_ref("upstream")) {
            return ValueRef::Str(u);
        }
        let top = party
            .site
            .is_some_and(|s| self.model.parent_of(s).is_none());
        ValueRef::Str(if top { "internet" } else { "parent-site" })
    }

    /// The ports of a catalog port between two parties; `dest_endpoint` is the flow's
    /// actual destination (for `rpc-dynamic`). Alternate client ports add a second range.
    /// At most two: an array, not a vector allocated per pair.
    fn resolve_port(
        &self,
        port: &CatalogPort,
        source: &Party<'m>,
        dest: &Party<'m>,
        dest_endpoint: FlowEndpoint,
    ) -> [Option<FlowPorts>; 2] {
        let single = |p: Option<u16>| [p.map(|p| FlowPorts::Range(p, p)), None];
        let CatalogPort::Symbolic(name) = port else {
            let CatalogPort::Range(start, end) = *port else {
                return [None, None];
            };
            return [Some(FlowPorts::Range(start, end)), None];
        };
        let m = self.model;
        // The site whose client ports apply: the serving site system's, else the source's.
        let serving = match dest.endpoint {
            FlowEndpoint::Server(_) => dest.site.or(source.site),
            _ => source.site.or(dest.site),
        };
        let client_port = |key: &str, default: u16| -> Option<u16> {
            let site = m.client_ports_site(serving?);
            Some(
                m.sites[site]
                    .client_ports
                    .as_ref()
                    .and_then(|(p, _)| p.port(key))
                    .unwrap_or(default),
            )
        };
        let client_alt = |key: &str| -> Option<u16> {
            let site = m.client_ports_site(serving?);
            m.sites[site]
                .client_ports
                .as_ref()
                .and_then(|(p, _)| p.port(key))
        };
        match name.as_str() {
            "client-http" => [client_port("http", 80), client_alt("http-alternate")]
                .map(|p| p.map(|p| FlowPorts::Range(p, p))),
            "client-https" => [client_port("https", 443), client_alt("https-alternate")]
                .map(|p| p.map(|p| FlowPorts::Range(p, p))),
            "client-notification" => single(client_port("notification", 10123)),
            "wake-on-lan" => single(client_port("wake-on-lan", 9)),
            "wake-up-proxy" => single(client_port("wake-up-proxy", 25536)),
            "wsus-http" | "wsus-https" => {
                let props = dest.props;
                let (sup_key, wsus_key, default) = if name == "wsus-http" {
                    ("wsus-http", "http", 8530)
                } else {
                    ("wsus-https", "https", 8531)
                };
                let is_wsus_server = matches!(dest.endpoint, FlowEndpoint::Server(s) if m.servers[s].has_role("wsus-server") && !m.servers[s].has_role("software-update-point"));
                let key = if is_wsus_server { wsus_key } else { sup_key };
                single(Some(props.and_then(|p| p.port(key)).unwrap_or(default)))
            }
            "rsp-http" => single(Some(dest.props.and_then(|p| p.port("http")).unwrap_or(80))),
            "rsp-https" => single(Some(
                dest.props.and_then(|p| p.port("https")).unwrap_or(443),
            )),
            "sql" | "sql-broker" => {
                let Some((s, i)) = dest.instance else {
                    return [None, None];
                };
                let inst = &m.servers[s].sql_instances[i];
                if name == "sql" {
                    single(inst.port())
                } else {
                    single(Some(inst.broker_port()))
                }
            }
            "rpc-dynamic" => {
                let (a, b) = self.rpc_range(dest_endpoint);
                [Some(FlowPorts::Range(a, b)), None]
            }
            _ => [None, None],
        }
    }

    /// Under the `2025` edition, a connection to a named SQL Server instance on a port
    /// other than 1433 also needs SQL Server Browser (UDP 1434) on that server.
    fn needs_sql_browser(&self, port: &CatalogPort, dest: &Party<'m>) -> bool {
        if self.model.catalog.edition != Edition::E2025
            || !matches!(port, CatalogPort::Symbolic(p) if p == "sql")
        {
            return false;
        }
        let Some((s, i)) = dest.instance else {
            return false;
        };
        let inst = &self.model.servers[s].sql_instances[i];
        !inst.name.value.eq_ignore_ascii_case("MSSQLSERVER") && inst.port() != Some(1433)
    }

    /// A host's dynamic RPC range (clients and others: the Windows default).
    pub(super) fn rpc_range(&self, e: FlowEndpoint) -> (u16, u16) {
        match e {
            FlowEndpoint::Server(s) => self.model.servers[s].rpc_ports,
            _ => (49152, 65535),
        }
    }

    /// The hosts an endpoint list names (for user `flow` nodes).
    fn endpoint_hosts(&self, list: &[crate::model::Spanned<Endpoint>]) -> Vec<FlowEndpoint> {
        let m = self.model;
        let mut out = Vec::new();
        for e in list {
            match &e.value {
                Endpoint::Any => out.push(FlowEndpoint::Internet),
                Endpoint::Host(h) => {
                    if let Some(s) = m.server_id(h) {
                        out.push(FlowEndpoint::Server(s));
                    } else if let Some(&c) = m.index.consoles.get(h) {
                        out.push(FlowEndpoint::Console(c));
                    } else if let Some(&c) = m.index.cloud_services.get(h) {
                        out.push(FlowEndpoint::Cloud(c));
                    }
                }
                Endpoint::Clients(g) => {
                    out.extend(m.index.clients.get(g).map(|&i| FlowEndpoint::Clients(i)));
                }
                Endpoint::Zone(z) if z == "internet" && m.zone(z).is_none() => {
                    out.push(FlowEndpoint::Internet);
                }
                Endpoint::Zone(z) => {
                    out.extend(
                        m.servers
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| &s.zone.value == z)
                            .map(|(i, _)| FlowEndpoint::Server(i)),
                    );
                    out.extend(
                        m.clients
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| &c.zone.value == z)
                            .map(|(i, _)| FlowEndpoint::Clients(i)),
                    );
                    out.extend(
                        m.consoles
                            .iter()
                            .enumerate()
                            .filter(|(_, c)| &c.zone.value == z)
                            .map(|(i, _)| FlowEndpoint::Console(i)),
                    );
                }
                Endpoint::Site(code) => {
                    if let Some(site) = m.site_id(code) {
                        out.extend(
                            m.sites[site]
                                .servers
                                .iter()
                                .map(|&s| FlowEndpoint::Server(s)),
                        );
                    }
                }
                Endpoint::Role { role, site } => {
                    let site = site.as_ref().and_then(|s| m.site_id(s));
                    out.extend(
                        self.holders(role)
                            .iter()
                            .filter(|&&s| site.is_none() || m.servers[s].site == site)
                            .map(|&s| FlowEndpoint::Server(s)),
                    );
                }
                Endpoint::Cidr(net) => {
                    out.extend(
                        m.servers
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| s.address.is_some_and(|a| net.contains(&a)))
                            .map(|(i, _)| FlowEndpoint::Server(i)),
                    );
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

mod edit;
#[cfg(test)]
mod tests;

pub use edit::{required_flows_after_server_edit, same_places};
