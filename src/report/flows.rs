//! Renderers of `cmflow flows`: `table`, `csv`, `json` and `markdown`, one row per
//! (flow, service) as `cli.md` § flows output defines.
//!
//! Rows are written as they are made, one flow at a time in [`RowOrder`]; no format
//! holds every row (the table measures its columns in a first pass and writes in a
//! second).

use std::borrow::Cow;
use std::io::{self, Write};

use rustc_hash::FxHashMap;

use serde::Serialize;

use crate::catalog::CatalogRow;
use crate::engine::{
    DecidedBy, Filter, FlowEndpoint, FlowPorts, FlowService, FlowVerdict, Origin, Phase,
    RequiredFlow,
};
use crate::escape::json;
use crate::model::{Model, Protocol};

/// `cmflow flows --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FlowsFormat {
    /// Aligned columns for a terminal.
    Table,
    Csv,
    Json,
    Markdown,
}

/// One output row. The lists borrow the flow's, computed once for all its services.
#[derive(Serialize)]
pub struct FlowRow<'a> {
    pub source: &'a str,
    pub source_kind: &'static str,
    pub source_role: &'static str,
    pub source_zone: &'a str,
    /// The source's addresses or subnets (empty when unknown, or for the Internet).
    pub source_addresses: &'a [String],
    pub destination: &'a str,
    pub destination_kind: &'static str,
    pub destination_role: &'static str,
    pub destination_zone: &'a str,
    pub destination_addresses: &'a [String],
    pub protocol: &'static str,
    pub ports: String,
    pub service: &'a str,
    pub phase: &'static str,
    pub reference: &'a str,
    /// The reference's section on Microsoft Learn (`null` for a user-declared flow).
    pub reference_url: Option<&'static str>,
    pub firewalls: &'a [&'a str],
    pub verdict: &'static str,
    /// The reason of the `waive` that waives the flow (verdict `waived`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<&'a str>,
    /// The rule (or `default`) of each filter that decided, in the order the flow meets them.
    pub decided_by: &'a [String],
    /// Sent before the source has an address (DHCP): exports allow any source.
    #[serde(skip)]
    pub broadcast: bool,
}

/// The order of the rows of a flow list, without the rows.
///
/// Rows are sorted by source, destination, protocol and ports (by name and text, first
/// port numerically), then by service, roles and reference, and equal rows are left out.
/// The flows come sorted by endpoint ids, not names, so only the flows are sorted here
/// (their indices); a group is the flows with the same source, destination, protocol
/// and ports by name (nearly always one), and its rows are sorted when asked for. Memory
/// is a few words per flow, whatever the rows hold.
pub struct RowOrder {
    /// Indices into the flows, in row order; a sort that keeps ties in flow order, as the
    /// rows' sort did.
    /// `u32`: four bytes per flow of the peak memory; flows number at most
    /// `MAX_FLOWS`, far below `u32::MAX`.
    order: Vec<u32>,
    /// Where each group starts in `order`, and `order.len()` last.
    bounds: Vec<u32>,
    /// The reference of each catalog row the flows cite, by the row's address: rows of
    /// a group sort by it, and `CatalogRow::reference` formats it anew at each call.
    references: FxHashMap<usize, String>,
}

/// Every endpoint of a model numbered by name: equal names, equal ranks, so that
/// comparing ranks compares names.
struct NameRanks {
    /// By [`NameRanks::slot`].
    ranks: Vec<u32>,
    /// Where each kind of endpoint starts among the slots: servers, client groups,
    /// consoles, cloud services, then the Internet.
    starts: [usize; 4],
}

impl NameRanks {
    fn new(model: &Model) -> Self {
        let starts = [
            0,
            model.servers.len(),
            model.servers.len() + model.clients.len(),
            model.servers.len() + model.clients.len() + model.consoles.len(),
        ];
        let endpoints: Vec<FlowEndpoint> = (0..model.servers.len())
            .map(FlowEndpoint::Server)
            .chain((0..model.clients.len()).map(FlowEndpoint::Clients))
            .chain((0..model.consoles.len()).map(FlowEndpoint::Console))
            .chain((0..model.cloud_services.len()).map(FlowEndpoint::Cloud))
            .chain([FlowEndpoint::Internet])
            .collect();
        let mut by_name: Vec<usize> = (0..endpoints.len()).collect();
        by_name.sort_unstable_by_key(|&slot| endpoints[slot].name(model));
        let mut ranks = vec![0; endpoints.len()];
        let mut rank = 0u32;
        for (n, w) in by_name.iter().enumerate() {
            if n > 0 && endpoints[by_name[n - 1]].name(model) != endpoints[*w].name(model) {
                rank += 1;
            }
            ranks[*w] = rank;
        }
        NameRanks { ranks, starts }
    }

    fn slot(&self, e: FlowEndpoint) -> usize {
        match e {
            FlowEndpoint::Server(i) => self.starts[0] + i,
            FlowEndpoint::Clients(i) => self.starts[1] + i,
            FlowEndpoint::Console(i) => self.starts[2] + i,
            FlowEndpoint::Cloud(i) => self.starts[3] + i,
            FlowEndpoint::Internet => self.ranks.len() - 1,
        }
    }

    fn rank(&self, e: FlowEndpoint) -> u32 {
        self.ranks.get(self.slot(e)).copied().unwrap_or(u32::MAX)
    }
}

/// A protocol's place among the protocols by name (`icmp`, `tcp`, `udp`).
fn protocol_rank(p: Protocol) -> u128 {
    let all = [Protocol::Tcp, Protocol::Udp, Protocol::Icmp];
    all.iter().filter(|q| q.as_str() < p.as_str()).count() as u128
}

/// A flow's place before its services, in one integer: the ranks of its source's and
/// destination's names, its protocol and its first port, above `low`. Flows with the
/// same key and different ports (`80`, `80-81`) are ordered by the ports' text.
fn flow_key(ranks: &NameRanks, f: &RequiredFlow, low: u32) -> u128 {
    let first_port = match f.ports {
        FlowPorts::Range(a, _) => u128::from(a),
        FlowPorts::Echo => 0,
    };
    (u128::from(ranks.rank(f.source)) << 96)
        | (u128::from(ranks.rank(f.destination)) << 64)
        | (protocol_rank(f.protocol) << 48)
        | (first_port << 32)
        | u128::from(low)
}

/// The address of a catalog row, which identifies it (the catalog is static).
fn row_address(row: &'static CatalogRow) -> usize {
    std::ptr::from_ref(row).addr()
}

impl RowOrder {
    pub fn new(model: &Model, flows: &[RequiredFlow]) -> Self {
        let ranks = NameRanks::new(model);
        // Sorted as integers: each flow's key with its index below it, so that equal
        // keys keep flow order, as a stable sort of the rows did.
        let mut keyed: Vec<u128> = flows
            .iter()
            .enumerate()
            .map(|(i, f)| flow_key(&ranks, f, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        keyed.sort_unstable();
        let mut order: Vec<u32> = keyed
            .iter()
            .map(|&k| u32::try_from(k & u128::from(u32::MAX)).unwrap_or_default())
            .collect();
        drop(keyed);
        let same_key = |a: u32, b: u32| {
            flow_key(&ranks, &flows[a as usize], 0) == flow_key(&ranks, &flows[b as usize], 0)
        };
        // Runs of one key with different ports: by the ports' text (rare).
        let mut start = 0;
        while start < order.len() {
            let mut end = start + 1;
            while end < order.len() && same_key(order[start], order[end]) {
                end += 1;
            }
            let run = &mut order[start..end];
            let ports = |i: u32| flows[i as usize].ports;
            if run.iter().any(|&i| ports(i) != ports(run[0])) {
                run.sort_by_cached_key(|&i| ports(i).to_string());
            }
            start = end;
        }
        let mut bounds = Vec::new();
        if !order.is_empty() {
            bounds.push(0);
        }
        for (n, w) in (1..).zip(order.windows(2)) {
            let ports = |i: u32| flows[i as usize].ports;
            if !same_key(w[0], w[1]) || ports(w[0]) != ports(w[1]) {
                bounds.push(n);
            }
        }
        if !order.is_empty() {
            bounds.push(u32::try_from(order.len()).unwrap_or(u32::MAX));
        }
        let mut references = FxHashMap::default();
        for s in flows.iter().flat_map(|f| &f.services) {
            if let Origin::Catalog(row) = s.origin {
                references
                    .entry(row_address(row))
                    .or_insert_with(|| row.reference());
            }
        }
        RowOrder {
            order,
            bounds,
            references,
        }
    }

    /// The number of groups (flows with the same source, destination, protocol and ports).
    pub fn groups(&self) -> usize {
        self.bounds.len().saturating_sub(1)
    }

    /// The rows of group `g` in order, as (flow, service) indices, equal rows left out.
    pub fn group(&self, model: &Model, flows: &[RequiredFlow], g: usize) -> Vec<(usize, usize)> {
        let mut rows = Vec::new();
        self.group_into(model, flows, g, &mut rows);
        rows
    }

    /// [`RowOrder::group`] into `rows` (cleared first), which the caller reuses.
    fn group_into(
        &self,
        model: &Model,
        flows: &[RequiredFlow],
        g: usize,
        rows: &mut Vec<(usize, usize)>,
    ) {
        rows.clear();
        let members = &self.order[self.bounds[g] as usize..self.bounds[g + 1] as usize];
        // Nearly every group: one flow of one service, nothing to sort.
        if let [i] = members
            && flows[*i as usize].services.len() == 1
        {
            rows.push((*i as usize, 0));
            return;
        }
        let mut keyed: Vec<(ServiceKey<'_>, (usize, usize))> = members
            .iter()
            .flat_map(|&i| {
                let i = i as usize;
                flows[i]
                    .services
                    .iter()
                    .enumerate()
                    .map(move |(n, s)| (self.service_key(model, s), (i, n)))
            })
            .collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.dedup_by(|a, b| a.0 == b.0);
        rows.extend(keyed.into_iter().map(|(_, row)| row));
    }

    /// A service's reference, as [`FlowService::reference`] makes it.
    fn reference<'r>(&'r self, s: &FlowService) -> Cow<'r, str> {
        match s.origin {
            Origin::Catalog(row) => match self.references.get(&row_address(row)) {
                Some(text) => Cow::Borrowed(text.as_str()),
                None => Cow::Owned(s.reference()),
            },
            Origin::User(_) => Cow::Owned(s.reference()),
        }
    }

    fn service_key<'r, 'm>(&'r self, model: &'m Model, s: &FlowService) -> ServiceKey<'r>
    where
        'm: 'r,
    {
        (
            s.service(model),
            s.source_role,
            s.destination_role,
            self.reference(s),
        )
    }
}

/// A row's place within its group.
type ServiceKey<'r> = (&'r str, &'static str, &'static str, Cow<'r, str>);

/// What the rows of one flow share.
struct FlowShared<'m> {
    firewalls: Vec<&'m str>,
    decided_by: Vec<String>,
}

impl<'m> FlowShared<'m> {
    /// `described` keeps each filter decision's text, made once.
    fn new(
        model: &'m Model,
        v: &FlowVerdict,
        described: &mut FxHashMap<(Filter, DecidedBy), String>,
    ) -> Self {
        let firewalls = v
            .firewalls()
            .iter()
            .map(|&i| model.firewalls[i].name.value.as_str())
            .collect();
        let mut decided_by: Vec<String> = Vec::new();
        for d in &v.decisions {
            let text = described
                .entry((d.filter, d.by))
                .or_insert_with(|| d.describe(model));
            if !decided_by.contains(text) {
                decided_by.push(text.clone());
            }
        }
        FlowShared {
            firewalls,
            decided_by,
        }
    }
}

/// Calls `emit` with every row of a flow list in order, one group of flows at a time,
/// so that only one group's rows exist at once; `verdicts` is parallel to `flows`.
pub fn for_each_row<E>(
    model: &Model,
    flows: &[RequiredFlow],
    verdicts: &[FlowVerdict],
    order: &RowOrder,
    mut emit: impl FnMut(&FlowRow<'_>) -> Result<(), E>,
) -> Result<(), E> {
    // (flow, what its rows share) for the flows of the group at hand.
    let mut shared: Vec<(usize, FlowShared<'_>)> = Vec::new();
    // Each endpoint's addresses, made once for all its rows.
    let mut addresses_of: FxHashMap<FlowEndpoint, Vec<String>> = FxHashMap::default();
    let mut described = FxHashMap::default();
    let mut rows = Vec::new();
    for g in 0..order.groups() {
        order.group_into(model, flows, g, &mut rows);
        shared.clear();
        for &(i, _) in &rows {
            if !shared.iter().any(|(j, _)| *j == i) {
                shared.push((i, FlowShared::new(model, &verdicts[i], &mut described)));
            }
            for e in [flows[i].source, flows[i].destination] {
                addresses_of.entry(e).or_insert_with(|| addresses(model, e));
            }
        }
        for &(i, n) in &rows {
            let (f, v) = (&flows[i], &verdicts[i]);
            let s = &f.services[n];
            let Some((_, fs)) = shared.iter().find(|(j, _)| *j == i) else {
                continue;
            };
            let none = Vec::new();
            let reference = order.reference(s);
            emit(&FlowRow {
                source: f.source.name(model),
                source_addresses: addresses_of.get(&f.source).unwrap_or(&none),
                destination_addresses: addresses_of.get(&f.destination).unwrap_or(&none),
                waived_by: f.waived_by.map(|w| model.waivers[w].reason.value.as_str()),
                source_kind: f.source.kind(),
                source_role: s.source_role,
                source_zone: f.source.zone(model),
                destination: f.destination.name(model),
                destination_kind: f.destination.kind(),
                destination_role: s.destination_role,
                destination_zone: f.destination.zone(model),
                protocol: f.protocol.as_str(),
                ports: f.ports.to_string(),
                service: s.service(model),
                phase: s.phase.as_str(),
                reference: &reference,
                reference_url: s.reference_url(),
                firewalls: &fs.firewalls,
                verdict: v.verdict.as_str(),
                decided_by: &fs.decided_by,
                broadcast: f.broadcast(),
            })?;
        }
    }
    Ok(())
}

/// An endpoint's addresses or subnets as the exports use them; none for the Internet and
/// cloud services.
fn addresses(model: &Model, e: FlowEndpoint) -> Vec<String> {
    match e {
        FlowEndpoint::Internet | FlowEndpoint::Cloud(_) => Vec::new(),
        _ => crate::export::address(model, e).plain(),
    }
}

const HEADERS: [&str; 20] = [
    "source",
    "source_kind",
    "source_role",
    "source_zone",
    "destination",
    "destination_kind",
    "destination_role",
    "destination_zone",
    "protocol",
    "ports",
    "service",
    "phase",
    "reference",
    "reference_url",
    "firewalls",
    "verdict",
    "decided_by",
    "source_addresses",
    "destination_addresses",
    "waived_by",
];

fn cells<'r>(r: &'r FlowRow<'_>) -> [Cow<'r, str>; 20] {
    [
        Cow::Borrowed(r.source),
        Cow::Borrowed(r.source_kind),
        Cow::Borrowed(r.source_role),
        Cow::Borrowed(r.source_zone),
        Cow::Borrowed(r.destination),
        Cow::Borrowed(r.destination_kind),
        Cow::Borrowed(r.destination_role),
        Cow::Borrowed(r.destination_zone),
        Cow::Borrowed(r.protocol),
        Cow::Borrowed(&r.ports),
        Cow::Borrowed(r.service),
        Cow::Borrowed(r.phase),
        Cow::Borrowed(r.reference),
        Cow::Borrowed(r.reference_url.unwrap_or_default()),
        Cow::Owned(r.firewalls.join("; ")),
        Cow::Borrowed(r.verdict),
        Cow::Owned(r.decided_by.join("; ")),
        Cow::Owned(r.source_addresses.join(" ")),
        Cow::Owned(r.destination_addresses.join(" ")),
        Cow::Borrowed(r.waived_by.unwrap_or_default()),
    ]
}

/// The flow list's JSON document as `serde_json`'s pretty printer writes [`FlowRow`]s
/// (the tests compare the two), written by hand: every string goes through
/// [`crate::escape::json::string`] once per distinct value, and each row is copied
/// together from those pieces.
struct JsonPieces<'m> {
    model: &'m Model,
    /// Per endpoint, its row's text from `"source"` up to the source role's value and
    /// after it through `"source_addresses"`; the same for `"destination"`.
    endpoints: FxHashMap<FlowEndpoint, EndpointJson>,
    /// Roles and verdicts.
    words: FxHashMap<&'static str, String>,
    /// `"protocol"` and `"ports"`.
    ports: FxHashMap<(Protocol, FlowPorts), String>,
    /// `"service"` through `"reference_url"`, per origin (kind, catalog row address or
    /// user flow index) and phase.
    services: FxHashMap<(bool, usize, Phase), String>,
    /// Each network firewall's name.
    firewalls: Vec<String>,
    /// Each filter's decision, as an index into `described`.
    decisions: FxHashMap<(Filter, DecidedBy), usize>,
    /// Each distinct text of `decided_by`, and its index into `described`: equal texts
    /// are shown once per row.
    texts: FxHashMap<String, usize>,
    described: Vec<String>,
}

struct EndpointJson {
    source: (String, String),
    destination: (String, String),
}

/// The indentation of a row's fields and of their lists' items.
const FIELD: &str = "\n      ";

impl<'m> JsonPieces<'m> {
    fn new(model: &'m Model) -> Self {
        JsonPieces {
            model,
            endpoints: FxHashMap::default(),
            words: FxHashMap::default(),
            ports: FxHashMap::default(),
            services: FxHashMap::default(),
            firewalls: model
                .firewalls
                .iter()
                .map(|f| json::string(&f.name.value))
                .collect(),
            decisions: FxHashMap::default(),
            texts: FxHashMap::default(),
            described: Vec::new(),
        }
    }

    /// Appends one row's object to `buf`; `ids` is scratch space.
    fn row(
        &mut self,
        buf: &mut Vec<u8>,
        f: &RequiredFlow,
        s: &FlowService,
        v: &FlowVerdict,
        ids: &mut Vec<usize>,
    ) {
        let model = self.model;
        buf.push(b'{');
        for (e, role, destination) in [
            (f.source, s.source_role, false),
            (f.destination, s.destination_role, true),
        ] {
            let ends = self
                .endpoints
                .entry(e)
                .or_insert_with(|| EndpointJson::new(model, e));
            let (head, tail) = if destination {
                &ends.destination
            } else {
                &ends.source
            };
            buf.extend_from_slice(head.as_bytes());
            push_word(&mut self.words, buf, role);
            buf.extend_from_slice(tail.as_bytes());
        }
        let ports = self.ports.entry((f.protocol, f.ports)).or_insert_with(|| {
            format!(
                "{FIELD}\"protocol\": {},{FIELD}\"ports\": {},",
                json::string(f.protocol.as_str()),
                json::string(&f.ports.to_string())
            )
        });
        buf.extend_from_slice(ports.as_bytes());
        let origin = match s.origin {
            Origin::Catalog(row) => (false, row_address(row)),
            Origin::User(i) => (true, i),
        };
        let service = self
            .services
            .entry((origin.0, origin.1, s.phase))
            .or_insert_with(|| {
                let url = s.reference_url().map_or("null".to_owned(), json::string);
                format!(
                    "{FIELD}\"service\": {},{FIELD}\"phase\": {},{FIELD}\"reference\": {},{FIELD}\"reference_url\": {url},",
                    json::string(s.service(model)),
                    json::string(s.phase.as_str()),
                    json::string(&s.reference()),
                )
            });
        buf.extend_from_slice(service.as_bytes());
        buf.extend_from_slice(FIELD.as_bytes());
        buf.extend_from_slice(b"\"firewalls\": ");
        push_list(buf, v.firewalls().iter().map(|&i| &self.firewalls[i]));
        buf.extend_from_slice(b",");
        buf.extend_from_slice(FIELD.as_bytes());
        buf.extend_from_slice(b"\"verdict\": ");
        push_word(&mut self.words, buf, v.verdict.as_str());
        if let Some(w) = f.waived_by {
            buf.extend_from_slice(b",");
            buf.extend_from_slice(FIELD.as_bytes());
            buf.extend_from_slice(b"\"waived_by\": ");
            buf.extend_from_slice(json::string(&model.waivers[w].reason.value).as_bytes());
        }
        buf.extend_from_slice(b",");
        buf.extend_from_slice(FIELD.as_bytes());
        buf.extend_from_slice(b"\"decided_by\": ");
        ids.clear();
        for d in &v.decisions {
            let (texts, described) = (&mut self.texts, &mut self.described);
            let id = *self.decisions.entry((d.filter, d.by)).or_insert_with(|| {
                let text = d.describe(model);
                *texts.entry(text).or_insert_with_key(|text| {
                    described.push(json::string(text));
                    described.len() - 1
                })
            });
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        push_list(buf, ids.iter().map(|&id| &self.described[id]));
        buf.extend_from_slice(b"\n    }");
    }
}

impl EndpointJson {
    fn new(model: &Model, e: FlowEndpoint) -> Self {
        let (name, kind, zone) = (
            json::string(e.name(model)),
            json::string(e.kind()),
            json::string(e.zone(model)),
        );
        let quoted: Vec<String> = addresses(model, e)
            .iter()
            .map(|a| json::string(a))
            .collect();
        let mut list = Vec::new();
        push_list(&mut list, quoted.iter());
        let list = String::from_utf8(list).unwrap_or_default();
        let side = |key: &str| {
            (
                format!(
                    "{FIELD}\"{key}\": {name},{FIELD}\"{key}_kind\": {kind},{FIELD}\"{key}_role\": "
                ),
                format!(",{FIELD}\"{key}_zone\": {zone},{FIELD}\"{key}_addresses\": {list},"),
            )
        };
        EndpointJson {
            source: side("source"),
            destination: side("destination"),
        }
    }
}

/// A role or verdict, escaped once.
fn push_word(words: &mut FxHashMap<&'static str, String>, buf: &mut Vec<u8>, word: &'static str) {
    buf.extend_from_slice(
        words
            .entry(word)
            .or_insert_with(|| json::string(word))
            .as_bytes(),
    );
}

/// A list of a row's field, of strings already escaped: `[]`, or one item per line.
fn push_list<'s>(buf: &mut Vec<u8>, items: impl Iterator<Item = &'s String>) {
    let mut empty = true;
    for item in items {
        buf.extend_from_slice(if empty { b"[" } else { b"," });
        buf.extend_from_slice(FIELD.as_bytes());
        buf.extend_from_slice(b"  ");
        buf.extend_from_slice(item.as_bytes());
        empty = false;
    }
    buf.extend_from_slice(if empty { b"[]" } else { b"\n      ]" });
}

/// How much of the JSON document is made in memory before it is written out.
const JSON_CHUNK: usize = 1 << 20;

fn write_json(
    out: &mut dyn Write,
    model: &Model,
    flows: &[RequiredFlow],
    verdicts: &[FlowVerdict],
    order: &RowOrder,
) -> io::Result<()> {
    let mut pieces = JsonPieces::new(model);
    let mut buf: Vec<u8> = Vec::with_capacity(JSON_CHUNK + (64 << 10));
    buf.extend_from_slice(b"{\n  \"version\": 1,\n  \"flows\": [");
    let (mut rows, mut ids) = (Vec::new(), Vec::new());
    let mut first = true;
    for g in 0..order.groups() {
        order.group_into(model, flows, g, &mut rows);
        for &(i, n) in &rows {
            buf.extend_from_slice(if first { b"\n    " } else { b",\n    " });
            first = false;
            pieces.row(
                &mut buf,
                &flows[i],
                &flows[i].services[n],
                &verdicts[i],
                &mut ids,
            );
            if buf.len() >= JSON_CHUNK {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
    }
    buf.extend_from_slice(if first { b"]\n}\n" } else { b"\n  ]\n}\n" });
    out.write_all(&buf)
}

/// Writes the flow list, each row as it is made; `verdicts` is parallel to `flows`.
pub fn write(
    out: &mut dyn Write,
    format: FlowsFormat,
    layout: &TableLayout,
    model: &Model,
    flows: &[RequiredFlow],
    verdicts: &[FlowVerdict],
) -> io::Result<()> {
    let order = RowOrder::new(model, flows);
    let each_row = |emit: &mut dyn FnMut(&FlowRow<'_>) -> io::Result<()>| {
        for_each_row(model, flows, verdicts, &order, emit)
    };
    match format {
        FlowsFormat::Json => write_json(out, model, flows, verdicts, &order),
        FlowsFormat::Csv => {
            writeln!(out, "{}", HEADERS.join(","))?;
            let mut line = String::with_capacity(1024);
            each_row(&mut |r| {
                line.clear();
                for (n, c) in cells(r).iter().enumerate() {
                    if n > 0 {
                        line.push(',');
                    }
                    line.push_str(&crate::escape::csv::field(c));
                }
                line.push('\n');
                out.write_all(line.as_bytes())
            })
        }
        FlowsFormat::Markdown => {
            let columns = layout.columns.as_deref().unwrap_or(&Column::ALL);
            let names: Vec<&str> = columns.iter().map(|c| TABLE_COLUMNS[c.index()]).collect();
            writeln!(out, "| {} | REFERENCE |", names.join(" | "))?;
            writeln!(out, "|{}---|", "---|".repeat(names.len()))?;
            each_row(&mut |r| {
                let c: Vec<String> = columns.iter().map(|&c| table_cell(r, c)).collect();
                // The reference is a link to its section; its text and address are
                // escaped like every other cell.
                let reference = match r.reference_url {
                    Some(url) => format!("[{}]({url})", r.reference),
                    None => r.reference.to_owned(),
                };
                writeln!(
                    out,
                    "| {} | {} |",
                    c.iter()
                        .map(|s| s.replace('|', "\\|"))
                        .collect::<Vec<_>>()
                        .join(" | "),
                    reference.replace('|', "\\|")
                )
            })
        }
        FlowsFormat::Table => {
            // Each row's reference as a footnote number; the notes, with the sections'
            // addresses on Microsoft Learn, follow the table in order of first use. The
            // columns' widths need every row: a first pass measures (and numbers the
            // notes), a second makes the rows again and writes them.
            let columns = layout.columns.as_deref().unwrap_or(&Column::TABLE);
            // A column named twice is empty the second time.
            let pick = |r: &FlowRow<'_>| -> Vec<String> {
                columns
                    .iter()
                    .enumerate()
                    .map(|(n, &c)| {
                        if columns[..n].contains(&c) {
                            String::new()
                        } else {
                            table_cell(r, c)
                        }
                    })
                    .collect()
            };
            let mut notes: Vec<(String, Option<&str>)> = Vec::new();
            let headers: Vec<&str> = columns
                .iter()
                .map(|c| TABLE_COLUMNS[c.index()])
                .chain(["REF"])
                .collect();
            let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
            let mut count = 0usize;
            each_row(&mut |r| {
                let number = note_number(&mut notes, r);
                let cells = pick(r);
                let last = [format!("[{number}]")];
                for (w, s) in widths.iter_mut().zip(cells.iter().chain(&last)) {
                    *w = (*w).max(s.chars().count());
                }
                count += 1;
                Ok(())
            })?;
            fit(&mut widths, layout.width);
            let line = |c: &mut dyn Iterator<Item = &str>| {
                let parts: Vec<String> = c
                    .zip(&widths)
                    .map(|(s, &w)| format!("{:<w$}", cut(s, w)))
                    .collect();
                parts.join("  ").trim_end().to_owned()
            };
            writeln!(out, "{}", line(&mut headers.iter().copied()))?;
            each_row(&mut |r| {
                let number = note_number(&mut notes, r);
                let cells = pick(r);
                let last = format!("[{number}]");
                let mut all = cells.iter().map(String::as_str).chain([last.as_str()]);
                writeln!(out, "{}", line(&mut all))
            })?;
            writeln!(out, "\n{count} flows")?;
            if !notes.is_empty() {
                writeln!(out)?;
            }
            for (n, (reference, url)) in notes.iter().enumerate() {
                match url {
                    Some(url) => writeln!(out, "[{}] {reference}\n    {url}", n + 1)?,
                    None => writeln!(out, "[{}] {reference}", n + 1)?,
                }
            }
            Ok(())
        }
    }
}

/// The footnote number of a row's reference, numbering it when it is new.
fn note_number(notes: &mut Vec<(String, Option<&'static str>)>, r: &FlowRow<'_>) -> usize {
    if let Some(found) = notes
        .iter()
        .position(|(reference, url)| *reference == r.reference && *url == r.reference_url)
    {
        found + 1
    } else {
        notes.push((r.reference.to_owned(), r.reference_url));
        notes.len()
    }
}

/// A column of the `table` and `markdown` formats (`--columns`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Column {
    Source,
    SourceZone,
    Destination,
    DestinationZone,
    Protocol,
    Ports,
    Service,
    Phase,
    Verdict,
    DecidedBy,
}

impl Column {
    /// Every column, in table order: `markdown`'s default.
    pub const ALL: [Column; 10] = [
        Column::Source,
        Column::SourceZone,
        Column::Destination,
        Column::DestinationZone,
        Column::Protocol,
        Column::Ports,
        Column::Service,
        Column::Phase,
        Column::Verdict,
        Column::DecidedBy,
    ];

    /// `table`'s default: what a network engineer reads first, narrow enough for a
    /// terminal.
    pub const TABLE: [Column; 6] = [
        Column::Source,
        Column::Destination,
        Column::Protocol,
        Column::Ports,
        Column::Service,
        Column::Verdict,
    ];

    fn index(self) -> usize {
        Column::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or_default()
    }
}

/// How the `table` and `markdown` formats lay rows out.
#[derive(Clone, Debug)]
pub struct TableLayout {
    /// The columns to show; `None`: the format's default.
    pub columns: Option<Vec<Column>>,
    /// The terminal's width, which `table` fits its lines into.
    pub width: usize,
}

impl Default for TableLayout {
    fn default() -> Self {
        Self {
            columns: None,
            width: 100,
        }
    }
}

/// Cells narrower than this are never cut to fit the width.
const MIN_CELL: usize = 12;

/// Column widths that fit `width` (with two spaces between columns): the widest column
/// gives way first, down to [`MIN_CELL`].
fn fit(widths: &mut [usize], width: usize) {
    loop {
        let total: usize = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
        if total <= width {
            return;
        }
        let Some((i, &w)) = widths.iter().enumerate().max_by_key(|(_, w)| **w) else {
            return;
        };
        if w <= MIN_CELL {
            return;
        }
        widths[i] = w.saturating_sub(total - width).max(MIN_CELL);
    }
}

/// A cell cut to `width` characters, ending in `…` when cut.
fn cut(s: &str, width: usize) -> std::borrow::Cow<'_, str> {
    if s.chars().count() <= width {
        return std::borrow::Cow::Borrowed(s);
    }
    let kept: String = s.chars().take(width.saturating_sub(1)).collect();
    std::borrow::Cow::Owned(format!("{kept}…"))
}

/// Columns of the table and markdown formats (the readable subset).
const TABLE_COLUMNS: [&str; 10] = [
    "SOURCE",
    "SOURCE ZONE",
    "DESTINATION",
    "DESTINATION ZONE",
    "PROTO",
    "PORTS",
    "SERVICE",
    "PHASE",
    "VERDICT",
    "DECIDED BY",
];

/// A readable cell of a row, on one line with nothing that drives a terminal.
fn table_cell(r: &FlowRow<'_>, column: Column) -> String {
    let cell = match column {
        Column::Source => Cow::Owned(format!("{} ({})", r.source, r.source_role)),
        Column::SourceZone => Cow::Borrowed(r.source_zone),
        Column::Destination => Cow::Owned(format!("{} ({})", r.destination, r.destination_role)),
        Column::DestinationZone => Cow::Borrowed(r.destination_zone),
        Column::Protocol => Cow::Borrowed(r.protocol),
        Column::Ports => Cow::Borrowed(r.ports.as_str()),
        Column::Service => Cow::Borrowed(r.service),
        Column::Phase => Cow::Borrowed(r.phase),
        Column::Verdict => Cow::Borrowed(r.verdict),
        Column::DecidedBy => Cow::Owned(r.decided_by.join("; ")),
    };
    crate::escape::terminal::line(&cell).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::ser::{SerializeSeq, SerializeStruct};

    /// The flow list as `serde_json` writes it from the rows: what `write_json` must
    /// write byte for byte.
    struct SerdeDoc<'r> {
        model: &'r Model,
        flows: &'r [RequiredFlow],
        verdicts: &'r [FlowVerdict],
        order: &'r RowOrder,
    }

    struct SerdeRows<'d, 'r>(&'d SerdeDoc<'r>);

    impl Serialize for SerdeDoc<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut doc = serializer.serialize_struct("Doc", 2)?;
            doc.serialize_field("version", &1u32)?;
            doc.serialize_field("flows", &SerdeRows(self))?;
            doc.end()
        }
    }

    impl Serialize for SerdeRows<'_, '_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let d = self.0;
            let mut seq = serializer.serialize_seq(None)?;
            for_each_row(d.model, d.flows, d.verdicts, d.order, |r| {
                seq.serialize_element(r)
            })?;
            seq.end()
        }
    }

    #[test]
    fn the_json_is_what_serde_json_writes_of_the_rows() {
        use crate::engine::{Network, evaluate, required_flows};
        let mut compared = 0;
        for dir in [
            "tests/fixtures/flows-json",
            "tests/fixtures/export-intent",
            "tests/fixtures/windows-firewall-no-order",
            "examples/contoso",
            "examples/standalone-primary",
            "examples/broken",
            "examples/aerleon-repo",
        ] {
            let inputs = crate::load::Inputs {
                paths: vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)],
                stdin: None,
            };
            let loaded = crate::load::load(&inputs, crate::rules::SPEC_CODES).expect("loads");
            let model = &loaded.model;
            let flows = required_flows(model, &Phase::ALL);
            let verdicts = evaluate(&Network::new(model), &flows);
            // Every flow, and none (`[]`).
            for count in [flows.len(), 0] {
                let (flows, verdicts) = (&flows[..count], &verdicts[..count]);
                let order = RowOrder::new(model, flows);
                let mut expected = serde_json::to_vec_pretty(&SerdeDoc {
                    model,
                    flows,
                    verdicts,
                    order: &order,
                })
                .expect("serializes");
                expected.push(b'\n');
                let mut written = Vec::new();
                write(
                    &mut written,
                    FlowsFormat::Json,
                    &TableLayout::default(),
                    model,
                    flows,
                    verdicts,
                )
                .expect("writes");
                assert_eq!(
                    String::from_utf8_lossy(&written),
                    String::from_utf8_lossy(&expected),
                    "{dir}"
                );
                compared += count;
            }
        }
        assert!(compared > 300, "{compared} flows");
    }

    #[test]
    fn a_column_named_twice_is_empty_the_second_time_in_the_table_only() {
        let inputs = crate::load::Inputs {
            paths: vec![
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/export-intent"),
            ],
            stdin: None,
        };
        let loaded = crate::load::load(&inputs, crate::rules::SPEC_CODES).expect("loads");
        let model = &loaded.model;
        let flows = crate::engine::required_flows(model, &[Phase::Operation]);
        let verdicts = crate::engine::evaluate(&crate::engine::Network::new(model), &flows);
        let layout = TableLayout {
            columns: Some(vec![Column::Service, Column::Ports, Column::Service]),
            width: 200,
        };
        let render = |format| {
            let mut out = Vec::new();
            write(&mut out, format, &layout, model, &flows, &verdicts).expect("writes");
            String::from_utf8(out).expect("UTF-8")
        };
        let table = render(FlowsFormat::Table);
        let words: Vec<Vec<&str>> = table
            .lines()
            .take(2)
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(words[0], ["SERVICE", "PORTS", "SERVICE", "REF"]);
        assert_eq!(words[1], ["HTTP", "80", "[1]"]);
        let markdown = render(FlowsFormat::Markdown);
        assert!(
            markdown
                .lines()
                .nth(2)
                .is_some_and(|l| l.starts_with("| HTTP | 80 | HTTP | [Ports used")),
            "{markdown}"
        );
    }

    #[test]
    fn the_escaping_fixture_has_every_kind_of_field() {
        let inputs = crate::load::Inputs {
            paths: vec![
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/flows-json"),
            ],
            stdin: None,
        };
        let loaded = crate::load::load(&inputs, crate::rules::SPEC_CODES).expect("loads");
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let model = &loaded.model;
        let flows = crate::engine::required_flows(model, &Phase::ALL);
        let verdicts = crate::engine::evaluate(&crate::engine::Network::new(model), &flows);
        let mut written = Vec::new();
        write(
            &mut written,
            FlowsFormat::Json,
            &TableLayout::default(),
            model,
            &flows,
            &verdicts,
        )
        .expect("writes");
        let text = String::from_utf8_lossy(&written);
        for wanted in [
            r#""source": "PCs \"HQ\" \\ ☃""#,
            r#""destination_zone": "dc \"core\"""#,
            r#""fw \"core\" \\: \"office \"to\" site \\ systems é\"""#,
            r#""fw \"core\" \\: rule 2""#,
            r#""waived_by": "admin \"workstations\" are \\ offline""#,
            r#""service": "agent \"x\" \\ é""#,
            r#""reference_url": null"#,
            r#""ports": "echo""#,
            r#""destination_addresses": []"#,
        ] {
            assert!(text.contains(wanted), "{wanted}");
        }
    }

    #[test]
    fn the_widest_column_gives_way_first_down_to_the_minimum() {
        let mut widths = vec![40, 30, 5];
        fit(&mut widths, 60);
        assert_eq!(widths, [21, 30, 5]);
        let mut narrow = vec![20, 20];
        fit(&mut narrow, 10);
        assert_eq!(narrow, [MIN_CELL, MIN_CELL]);
        assert_eq!(cut("cm-p01.contoso.com", 8), "cm-p01.…");
        assert_eq!(cut("short", 8), "short");
    }
}
