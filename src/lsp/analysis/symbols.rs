//! The symbol index of one model: every declaration of and reference to a named thing
//! (zone, site, server, client group, boundary group, SQL instance), and every place an
//! editor may hover (a role node, a port, an endpoint item), by file and byte offset.
//!
//! It is built once per model in one pass over it, and answers "what is at this
//! offset" by binary search, so a server may keep it beside the model it describes.

use std::borrow::Cow;
use std::collections::hash_map::Entry;

use crate::model::{Endpoint, Model, PortItem, PortList, Protocol, SourceId, Span, Spanned, Value};

/// The index's maps, keyed by the model's names: the Fx hash is several times faster than
/// the standard hasher on short strings (and the names come from the user's own files).
type HashMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// A named thing of the model. Servers and SQL instances are named ignoring case, as
/// the loader resolves them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Symbol {
    Zone(String),
    Site(String),
    /// The lower-cased FQDN.
    Server(String),
    Clients(String),
    BoundaryGroup(String),
    /// The lower-cased server FQDN and instance name.
    SqlInstance {
        server: String,
        instance: String,
    },
}

/// What an editor may hover besides a symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A role node of a server: its index in `Server::roles`.
    Role { server: usize, role: usize },
    /// A port or port range, with the setting it stands for when the place says (a
    /// `client-ports http=` is `client-http`), and the protocol when the place says.
    Port {
        low: u16,
        high: u16,
        protocol: Option<Protocol>,
        symbolic: Option<&'static str>,
    },
    /// One item of a `from=`/`to=` endpoint list.
    Endpoint(Endpoint),
}

/// One place a symbol is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Occurrence {
    span: Span,
    symbol: u32,
    declaration: bool,
}

/// Spans sorted by start within one file, each with an index into a list; `longest`
/// bounds how far back a containing span can start.
#[derive(Debug, Default)]
struct Positions {
    entries: Vec<(usize, usize, u32)>,
    longest: usize,
}

impl Positions {
    fn push(&mut self, span: Span, index: u32) {
        self.entries.push((span.start, span.end, index));
        self.longest = self.longest.max(span.len());
    }

    /// Indices of the spans holding `offset` (an offset at a span's end is inside it, so
    /// that a cursor just after a word finds the word), innermost (shortest) first.
    fn at(&self, offset: usize) -> Vec<u32> {
        let upto = self
            .entries
            .partition_point(|&(start, _, _)| start <= offset);
        let mut found: Vec<(usize, u32)> = self.entries[..upto]
            .iter()
            .rev()
            .take_while(|&&(start, _, _)| start + self.longest >= offset)
            .filter(|&&(_, end, _)| end >= offset)
            .map(|&(start, end, i)| (end - start, i))
            .collect();
        found.sort_by_key(|&(len, i)| (len, i));
        found.into_iter().map(|(_, i)| i).collect()
    }
}

/// The symbol index of one model (module docs).
#[derive(Debug, Default)]
pub struct Symbols {
    names: Vec<Symbol>,
    /// Symbol ids sorted by symbol, for lookups by binary search.
    sorted: Vec<u32>,
    occurrences: Vec<Occurrence>,
    /// The occurrences grouped by symbol: those of symbol `i` are
    /// `by_symbol[by_symbol_start[i]..by_symbol_start[i + 1]]`.
    by_symbol: Vec<u32>,
    by_symbol_start: Vec<u32>,
    occurrence_positions: HashMap<SourceId, Positions>,
    targets: Vec<(Span, Target)>,
    target_positions: HashMap<SourceId, Positions>,
    /// Per zone name: the servers, client groups and consoles in it (indices).
    pub(super) zone_members: HashMap<String, ZoneMembers>,
    /// Per role node name (and `sql-server`): the servers holding it.
    pub(super) role_holders: HashMap<&'static str, Vec<usize>>,
    /// Per zone name: the firewalls listing it.
    pub(super) zone_firewalls: HashMap<String, Vec<usize>>,
}

/// What lives in one zone, by index into the model's lists.
#[derive(Debug, Default)]
pub(super) struct ZoneMembers {
    pub servers: Vec<usize>,
    pub clients: Vec<usize>,
    pub consoles: Vec<usize>,
}

impl Symbols {
    /// Indexes every declaration, reference and hover place of `model`, in one pass.
    pub fn new(model: &Model) -> Self {
        let mut b = Builder {
            model,
            out: Symbols::default(),
            interned: HashMap::default(),
        };
        b.model();
        let mut out = b.out;
        out.sorted = (0..index(out.names.len())).collect();
        out.sorted
            .sort_unstable_by(|&a, &b| out.names[a as usize].cmp(&out.names[b as usize]));
        // Counting sort of the occurrences by symbol, in the model's order within each.
        let mut starts = vec![0u32; out.names.len() + 1];
        for occ in &out.occurrences {
            starts[occ.symbol as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        out.by_symbol = vec![0; out.occurrences.len()];
        for (i, occ) in out.occurrences.iter().enumerate() {
            let slot = &mut next[occ.symbol as usize];
            out.by_symbol[*slot as usize] = index(i);
            *slot += 1;
        }
        out.by_symbol_start = starts;
        for (i, occ) in out.occurrences.iter().enumerate() {
            out.occurrence_positions
                .entry(occ.span.source)
                .or_default()
                .push(occ.span, index(i));
        }
        for (i, (span, _)) in out.targets.iter().enumerate() {
            out.target_positions
                .entry(span.source)
                .or_default()
                .push(*span, index(i));
        }
        for positions in out
            .occurrence_positions
            .values_mut()
            .chain(out.target_positions.values_mut())
        {
            positions.entries.sort_unstable();
        }
        out
    }

    /// The symbol written at `offset` (the innermost when names nest, as `@P01` inside
    /// `role:management-point@P01`).
    pub fn symbol_at(&self, source: SourceId, offset: usize) -> Option<&Symbol> {
        let i = *self.occurrence_positions.get(&source)?.at(offset).first()?;
        let occ = self.occurrences[i as usize];
        Some(&self.names[occ.symbol as usize])
    }

    /// Whether the symbol at `offset` is written there as its declaration.
    pub fn is_declaration_at(&self, source: SourceId, offset: usize) -> bool {
        self.occurrence_positions
            .get(&source)
            .and_then(|p| p.at(offset).first().copied())
            .is_some_and(|i| self.occurrences[i as usize].declaration)
    }

    /// The hover places at `offset`, innermost first.
    pub fn targets_at(&self, source: SourceId, offset: usize) -> Vec<&Target> {
        self.target_positions
            .get(&source)
            .map(|p| p.at(offset))
            .unwrap_or_default()
            .into_iter()
            .map(|i| &self.targets[i as usize].1)
            .collect()
    }

    /// Where `symbol` is declared (more than one place when the model declares it twice,
    /// which the loader reports).
    pub fn declarations(&self, symbol: &Symbol) -> Vec<Span> {
        self.spans(symbol, true)
    }

    /// Where `symbol` is referenced, declarations excluded.
    pub fn references(&self, symbol: &Symbol) -> Vec<Span> {
        self.spans(symbol, false)
    }

    fn spans(&self, symbol: &Symbol, declaration: bool) -> Vec<Span> {
        let Ok(at) = self
            .sorted
            .binary_search_by(|&i| self.names[i as usize].cmp(symbol))
        else {
            return Vec::new();
        };
        let id = self.sorted[at] as usize;
        let range = self.by_symbol_start[id] as usize..self.by_symbol_start[id + 1] as usize;
        let mut spans: Vec<Span> = self.by_symbol[range]
            .iter()
            .map(|&i| self.occurrences[i as usize])
            .filter(|o| o.declaration == declaration)
            .map(|o| o.span)
            .collect();
        spans.sort_unstable();
        spans.dedup();
        spans
    }

    /// How many symbol occurrences and hover places the index holds (for measurements).
    pub fn len(&self) -> usize {
        self.occurrences.len() + self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Where the value of a written string starts inside its span, when its bytes are the
/// value's bytes one to one (a quoted string without escapes, a raw string, a bare
/// word); `None` for escaped and multi-line strings, whose bytes do not map.
pub(super) fn content_start(written: &str) -> Option<usize> {
    let raw_v1 = written.starts_with("r#") || written.starts_with("r\"");
    let after_r = if raw_v1 { &written[1..] } else { written };
    let hashes = after_r.len() - after_r.trim_start_matches('#').len();
    let quoted = &after_r[hashes..];
    let prefix = usize::from(raw_v1) + hashes;
    if quoted.starts_with("\"\"\"") {
        None
    } else if quoted.starts_with('"') {
        (hashes > 0 || raw_v1 || !written.contains('\\')).then_some(prefix + 1)
    } else if hashes > 0 || raw_v1 {
        // `#true` and the like are not strings.
        None
    } else {
        Some(0)
    }
}

/// The span of `offset..offset+len` of a string value's content, when the written bytes
/// map one to one; otherwise the whole value.
pub(super) fn inner_span(text: &str, value: Span, offset: usize, len: usize) -> Span {
    let Some(written) = text.get(value.start..value.end) else {
        return value;
    };
    match content_start(written) {
        Some(start) => value.sub(start + offset, len),
        None => value,
    }
}

/// A string value's span without its quotes (the whole span when they cannot be told
/// apart from the value).
pub(super) fn unquoted(text: &str, value: Span, len: usize) -> Span {
    inner_span(text, value, 0, len)
}

/// The trimmed items of a comma-separated list, with their byte offsets.
pub(super) fn list_items(s: &str) -> Vec<(usize, &str)> {
    let mut offset = 0;
    s.split(',')
        .map(|raw| {
            let start = offset + (raw.len() - raw.trim_start().len());
            offset += raw.len() + 1;
            (start, raw.trim())
        })
        .collect()
}

/// The setting a numeric property stands for, by role or node and property, as the
/// catalog's symbolic ports name it.
fn symbolic_of(node: &str, prop: &str) -> Option<&'static str> {
    Some(match (node, prop) {
        ("client-ports", "http" | "http-alternate") => "client-http",
        ("client-ports", "https" | "https-alternate") => "client-https",
        ("client-ports", "notification") => "client-notification",
        ("client-ports", "wake-on-lan") => "wake-on-lan",
        ("client-ports", "wake-up-proxy") => "wake-up-proxy",
        ("software-update-point" | "wsus-server", "wsus-http" | "http") => "wsus-http",
        ("software-update-point" | "wsus-server", "wsus-https" | "https") => "wsus-https",
        ("reporting-services-point", "http") => "rsp-http",
        ("reporting-services-point", "https") => "rsp-https",
        ("sql-instance", "port") => "sql",
        ("sql-instance", "broker-port") => "sql-broker",
        _ => return None,
    })
}

struct Builder<'m> {
    model: &'m Model,
    out: Symbols,
    /// Symbol ids by borrowed name, while building.
    interned: HashMap<Key<'m>, u32>,
}

impl<'m> Builder<'m> {
    fn text(&self, span: Span) -> &'m str {
        &self.model.sources.get(span.source).text
    }

    fn add(&mut self, key: Key<'m>, span: Span, declaration: bool) {
        let next = index(self.out.names.len());
        let id = match self.interned.entry(key) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                self.out.names.push(e.key().symbol());
                e.insert(next);
                next
            }
        };
        self.out.occurrences.push(Occurrence {
            span,
            symbol: id,
            declaration,
        });
    }

    /// A name written as a whole string value (`zone="dc"`, `server "cm01"`).
    fn name(&mut self, key: Key<'m>, name: &'m Spanned<String>, declaration: bool) {
        let span = unquoted(self.text(name.span), name.span, name.value.len());
        self.add(key, span, declaration);
    }

    fn target(&mut self, span: Span, target: Target) {
        self.out.targets.push((span, target));
    }

    fn model(&mut self) {
        let m = self.model;
        for zone in &m.zones {
            self.name(Key::Zone(&zone.name.value), &zone.name, true);
            self.out
                .zone_members
                .entry(zone.name.value.clone())
                .or_default();
        }
        for site in &m.sites {
            self.name(Key::Site(&site.code.value), &site.code, true);
            if let Some(parent) = &site.parent {
                self.name(Key::Site(&parent.value), parent, false);
            }
            if let Some((props, _)) = &site.client_ports {
                self.port_props("client-ports", props);
            }
            if let Some((db, _)) = &site.database {
                self.server_ref(&db.server);
                let symbol = instance_key(&db.server.value, &db.instance.value);
                self.name(symbol, &db.instance, false);
            }
            if let Some(lib) = &site.content_library {
                self.server_ref(lib);
            }
        }
        for (s, server) in m.servers.iter().enumerate() {
            self.server(s, server);
        }
        for (i, group) in m.clients.iter().enumerate() {
            self.name(Key::Clients(&group.name.value), &group.name, true);
            self.name(Key::Site(&group.site.value), &group.site, false);
            self.name(Key::Zone(&group.zone.value), &group.zone, false);
            self.zone_members(&group.zone.value).clients.push(i);
            for bg in &group.boundary_groups {
                // Written as one comma-separated value: each item carries its own span.
                self.add(Key::BoundaryGroup(&bg.value), bg.span, false);
            }
            if let Some(fw) = &group.host_firewall {
                self.host_firewall(fw);
            }
        }
        for (i, console) in m.consoles.iter().enumerate() {
            self.name(Key::Site(&console.site.value), &console.site, false);
            self.name(Key::Zone(&console.zone.value), &console.zone, false);
            self.zone_members(&console.zone.value).consoles.push(i);
        }
        for cloud in &m.cloud_services {
            self.name(Key::Site(&cloud.site.value), &cloud.site, false);
        }
        for bg in &m.boundary_groups {
            self.name(Key::BoundaryGroup(&bg.name.value), &bg.name, true);
            for site in bg.site.iter().chain(&bg.default_for) {
                self.name(Key::Site(&site.value), site, false);
            }
            for system in &bg.site_systems {
                self.server_ref(system);
            }
            for fallback in &bg.fallbacks {
                let symbol = Key::BoundaryGroup(&fallback.to.value);
                self.name(symbol, &fallback.to, false);
            }
        }
        for (f, fw) in m.firewalls.iter().enumerate() {
            for zone in &fw.zones {
                self.name(Key::Zone(&zone.value), zone, false);
                self.out
                    .zone_firewalls
                    .entry(zone.value.clone())
                    .or_default()
                    .push(f);
            }
            if let Some(attached) = fw.source.as_ref().and_then(|s| s.attached.as_ref()) {
                self.name(Key::Zone(&attached.value), attached, false);
            }
            for rule in &fw.rules {
                self.traffic(&rule.traffic);
            }
        }
        for policy in &m.policies {
            for forbid in &policy.forbids {
                self.traffic(&forbid.traffic);
            }
        }
        for flow in &m.flows {
            self.traffic(&flow.traffic);
        }
        for waiver in &m.waivers {
            self.traffic(&waiver.traffic);
        }
    }

    fn zone_members(&mut self, zone: &str) -> &mut ZoneMembers {
        // Zones used without a declaration (`internet`) still gather members.
        if !self.out.zone_members.contains_key(zone) {
            self.out
                .zone_members
                .insert(zone.to_owned(), ZoneMembers::default());
        }
        self.out
            .zone_members
            .get_mut(zone)
            .unwrap_or_else(|| unreachable!("inserted above"))
    }

    fn server_ref(&mut self, fqdn: &'m Spanned<String>) {
        self.name(Key::Server(lower(&fqdn.value)), fqdn, false);
    }

    fn server(&mut self, s: usize, server: &'m crate::model::Server) {
        let fqdn = lower(&server.fqdn.value);
        self.name(Key::Server(fqdn.clone()), &server.fqdn, true);
        self.name(Key::Zone(&server.zone.value), &server.zone, false);
        self.zone_members(&server.zone.value).servers.push(s);
        if let Some(v) = server.props.get("rpc-ports") {
            let (low, high) = server.rpc_ports;
            self.target(
                v.span,
                Target::Port {
                    low,
                    high,
                    protocol: Some(Protocol::Tcp),
                    symbolic: Some("rpc-dynamic"),
                },
            );
        }
        for instance in &server.sql_instances {
            let key = Key::SqlInstance(fqdn.clone(), lower(&instance.name.value));
            self.name(key, &instance.name, true);
            self.port_props("sql-instance", &instance.props);
        }
        if !server.sql_instances.is_empty() {
            self.out
                .role_holders
                .entry("sql-server")
                .or_default()
                .push(s);
        }
        for (r, role) in server.roles.iter().enumerate() {
            self.out.role_holders.entry(role.name).or_default().push(s);
            // The role's name, when written bare at the node's start; else the node.
            let written = self.text(role.span).get(role.span.start..).unwrap_or("");
            let span = if written.starts_with(role.name) {
                role.span.sub(0, role.name.len())
            } else {
                role.span
            };
            self.target(span, Target::Role { server: s, role: r });
            self.port_props(role.name, &role.props);
            self.role_references(role);
        }
        if let Some(fw) = &server.host_firewall {
            self.host_firewall(fw);
        }
    }

    /// References a role's properties make: `upstream`, `susdb`, `database`, `exchange`,
    /// `sources`.
    fn role_references(&mut self, role: &'m crate::model::Role) {
        for (key, value) in &role.props.values {
            let Value::Str(s) = &value.value else {
                continue;
            };
            match *key {
                "upstream" if s != "internet" => self.whole_server_ref(s, value.span),
                "exchange" if s != "online" => self.whole_server_ref(s, value.span),
                "susdb" | "database" => {
                    if let Some((host, instance)) = s.split_once('/') {
                        let text = self.text(value.span);
                        let host_span = inner_span(text, value.span, 0, host.len());
                        let instance_span =
                            inner_span(text, value.span, host.len() + 1, instance.len());
                        self.add(Key::Server(lower(host)), host_span, false);
                        self.add(instance_key(host, instance), instance_span, false);
                    }
                }
                "sources" => {
                    let text = self.text(value.span);
                    for (offset, item) in list_items(s) {
                        if !item.is_empty() {
                            let span = inner_span(text, value.span, offset, item.len());
                            self.add(Key::Server(lower(item)), span, false);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn whole_server_ref(&mut self, fqdn: &'m str, span: Span) {
        let span = unquoted(self.text(span), span, fqdn.len());
        self.add(Key::Server(lower(fqdn)), span, false);
    }

    fn port_props(&mut self, node: &str, props: &crate::model::Props) {
        for (key, value) in &props.values {
            let Some(symbolic) = symbolic_of(node, key) else {
                continue;
            };
            if let Value::Int(port) = value.value
                && let Ok(port) = u16::try_from(port)
            {
                let protocol = match symbolic {
                    "wake-on-lan" | "wake-up-proxy" => None,
                    _ => Some(Protocol::Tcp),
                };
                self.target(
                    value.span,
                    Target::Port {
                        low: port,
                        high: port,
                        protocol,
                        symbolic: Some(symbolic),
                    },
                );
            }
        }
    }

    fn host_firewall(&mut self, fw: &'m crate::model::HostFirewall) {
        for rule in &fw.rules {
            self.traffic(&rule.traffic);
            if let Some(ports) = &rule.source_ports {
                self.ports(ports, Protocol::Tcp);
            }
        }
    }

    fn traffic(&mut self, t: &'m crate::model::Traffic) {
        for e in t.from.iter().chain(&t.to) {
            self.endpoint(e);
        }
        if let Some(tcp) = &t.tcp {
            self.ports(tcp, Protocol::Tcp);
        }
        if let Some(udp) = &t.udp {
            self.ports(udp, Protocol::Udp);
        }
    }

    /// One endpoint item: a hover place, and the names it references.
    fn endpoint(&mut self, e: &'m Spanned<Endpoint>) {
        let written = e.value.to_string();
        let text = self.text(e.span);
        let Some(at) = text.get(e.span.start..e.span.end) else {
            return;
        };
        // The item's own bytes, or (escaped strings) the whole value holding it; a
        // default `any` carries the node's name span and is not written at all.
        let exact = at == written;
        let escaped_value = at.contains('"') && content_start(at).is_none();
        if !exact && !escaped_value {
            return;
        }
        self.target(e.span, Target::Endpoint(e.value.clone()));
        let name_span = |offset: usize, len: usize| {
            if exact {
                e.span.sub(offset, len)
            } else {
                e.span
            }
        };
        let (symbol, span) = match &e.value {
            Endpoint::Zone(z) => (Key::Zone(z), name_span(5, z.len())),
            Endpoint::Site(s) => (Key::Site(s), name_span(5, s.len())),
            Endpoint::Host(h) => (Key::Server(lower(h)), name_span(5, h.len())),
            Endpoint::Clients(c) => (Key::Clients(c), name_span(8, c.len())),
            Endpoint::Role {
                role,
                site: Some(site),
            } => (
                Key::Site(site),
                name_span("role:".len() + role.len() + 1, site.len()),
            ),
            Endpoint::Role { site: None, .. } | Endpoint::Any | Endpoint::Cidr(_) => return,
        };
        self.add(symbol, span, false);
    }

    /// Each item of a written port list is a hover place of its own.
    fn ports(&mut self, list: &Spanned<PortList>, protocol: Protocol) {
        let text = self.text(list.span);
        let Some(written) = text.get(list.span.start..list.span.end) else {
            return;
        };
        let content = content_start(written).map(|start| {
            let body = &written[start..];
            let end = body.find('"').unwrap_or(body.len());
            (start, &body[..end])
        });
        let targets: Vec<(Span, Target)> = match content {
            Some((start, body)) => list_items(body)
                .into_iter()
                .filter_map(|(offset, item)| {
                    let (low, high, symbolic) = port_item(item)?;
                    Some((
                        list.span.sub(start + offset, item.len()),
                        Target::Port {
                            low,
                            high,
                            protocol: Some(protocol),
                            symbolic,
                        },
                    ))
                })
                .collect(),
            // Escaped: the whole list stands for its first item.
            None => list
                .value
                .items
                .first()
                .map(|item| {
                    let (low, high, symbolic) = match *item {
                        PortItem::Range(a, b) => (a, b, None),
                        PortItem::Rpc => (49152, 65535, Some("rpc-dynamic")),
                        PortItem::RpcEpmap => (135, 135, None),
                    };
                    (
                        list.span,
                        Target::Port {
                            low,
                            high,
                            protocol: Some(protocol),
                            symbolic,
                        },
                    )
                })
                .into_iter()
                .collect(),
        };
        for (span, target) in targets {
            self.target(span, target);
        }
    }
}

/// A written port list item: a port, a range, `rpc` or `rpc-epmap`.
fn port_item(item: &str) -> Option<(u16, u16, Option<&'static str>)> {
    match item {
        "rpc" => Some((49152, 65535, Some("rpc-dynamic"))),
        "rpc-epmap" => Some((135, 135, None)),
        _ => {
            let (a, b) = item.split_once('-').unwrap_or((item, item));
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            Some((a, b, None))
        }
    }
}

fn instance_key<'m>(server: &'m str, instance: &'m str) -> Key<'m> {
    Key::SqlInstance(lower(server), lower(instance))
}

/// A name as the loader compares it ignoring case, borrowed when it is lower case already.
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// A [`Symbol`] borrowing the model's strings, for interning without an allocation per
/// occurrence.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key<'m> {
    Zone(&'m str),
    Site(&'m str),
    Server(Cow<'m, str>),
    Clients(&'m str),
    BoundaryGroup(&'m str),
    SqlInstance(Cow<'m, str>, Cow<'m, str>),
}

impl Key<'_> {
    fn symbol(&self) -> Symbol {
        match self {
            Key::Zone(z) => Symbol::Zone((*z).to_owned()),
            Key::Site(s) => Symbol::Site((*s).to_owned()),
            Key::Server(s) => Symbol::Server(s.clone().into_owned()),
            Key::Clients(c) => Symbol::Clients((*c).to_owned()),
            Key::BoundaryGroup(b) => Symbol::BoundaryGroup((*b).to_owned()),
            Key::SqlInstance(server, instance) => Symbol::SqlInstance {
                server: server.clone().into_owned(),
                instance: instance.clone().into_owned(),
            },
        }
    }
}
