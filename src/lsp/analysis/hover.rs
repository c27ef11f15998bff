//! Hover text: a role's required flows, a port's documented services with their
//! Microsoft Learn sections, an endpoint's members, and a short summary of a declared
//! zone, site, server, client group, boundary group or SQL instance.
//!
//! Every list is sorted and capped (the caps are in `docs/decisions.md`), so the same
//! model and offset give the same text.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::Snapshot;
use super::symbols::{Symbol, Symbols, Target};
use crate::catalog::CatalogPort;
use crate::engine::{FlowEndpoint, FlowPorts, RequiredFlow};
use crate::model::{Endpoint, Model, Protocol, SourceId};

/// The most flow rows a role's hover lists.
pub const MAX_FLOW_ROWS: usize = 25;
/// The most documented services a port's hover lists.
pub const MAX_SERVICES: usize = 12;
/// The most members an endpoint's or a declaration's hover lists per kind.
pub const MAX_MEMBERS: usize = 15;

/// The required flows of each server, by index into the flow list: built in one pass
/// over the flows, so that a role's hover reads only its server's flows.
#[derive(Debug, Default)]
pub struct FlowIndex {
    by_server: Vec<Vec<u32>>,
}

impl FlowIndex {
    pub fn new(model: &Model, flows: &[RequiredFlow]) -> Self {
        let mut by_server = vec![Vec::new(); model.servers.len()];
        for (i, flow) in flows.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            let mut push = |e: FlowEndpoint| {
                if let FlowEndpoint::Server(s) = e
                    && let Some(list) = by_server.get_mut(s)
                    && list.last() != Some(&i)
                {
                    list.push(i);
                }
            };
            push(flow.source);
            push(flow.destination);
        }
        Self { by_server }
    }

    fn of_server(&self, server: usize) -> &[u32] {
        self.by_server.get(server).map_or(&[], Vec::as_slice)
    }
}

/// [`super::hover`] with indexes the caller keeps.
pub fn hover_with(
    snapshot: &Snapshot<'_>,
    symbols: &Symbols,
    flow_index: &FlowIndex,
    source: SourceId,
    offset: usize,
) -> Option<String> {
    let model = snapshot.model;
    let targets = symbols.targets_at(source, offset);
    // An endpoint item is answered as a whole, even on the name inside it.
    if let Some(Target::Endpoint(e)) = targets.iter().find(|t| matches!(t, Target::Endpoint(_))) {
        return Some(endpoint(model, symbols, e));
    }
    if let Some(target) = targets.first() {
        return Some(match target {
            Target::Role { server, role } => role_flows(snapshot, flow_index, *server, *role),
            Target::Port {
                low,
                high,
                protocol,
                symbolic,
            } => port(model, *low, *high, *protocol, *symbolic),
            Target::Endpoint(e) => endpoint(model, symbols, e),
        });
    }
    let symbol = symbols.symbol_at(source, offset)?;
    summary(model, symbols, symbol)
}

/// `TCP 80`, `UDP 67-68`, `ICMP echo`.
fn protocol_ports(protocol: Protocol, ports: FlowPorts) -> String {
    match ports {
        FlowPorts::Echo => "ICMP echo".into(),
        ports @ FlowPorts::Range(..) => {
            format!("{} {ports}", protocol.as_str().to_ascii_uppercase())
        }
    }
}

/// A name inside a table cell or inline code.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('`', "'")
}

fn role_flows(snapshot: &Snapshot<'_>, index: &FlowIndex, server: usize, role: usize) -> String {
    let model = snapshot.model;
    let host = &model.servers[server];
    let role_name = host.roles[role].name;
    let me = FlowEndpoint::Server(server);
    // Rows are sorted by cheap keys (inbound first, peer, protocol, ports, flow); only
    // the rows shown are formatted.
    let mut rows: Vec<(bool, &str, Protocol, FlowPorts, usize, FlowEndpoint)> = Vec::new();
    let mut counts = [0usize; 6];
    for &i in index.of_server(server) {
        let i = i as usize;
        let Some(flow) = snapshot.flows.get(i) else {
            continue;
        };
        for (inbound, peer) in [(true, flow.source), (false, flow.destination)] {
            let side = if inbound {
                flow.destination
            } else {
                flow.source
            };
            if side != me || role_services(flow, role_name, inbound).next().is_none() {
                continue;
            }
            counts[verdict_rank(verdict_of(snapshot, i))] += 1;
            rows.push((
                !inbound,
                peer.name(model),
                flow.protocol,
                flow.ports,
                i,
                peer,
            ));
        }
    }
    rows.sort_unstable();
    let site = host
        .site
        .map(|s| format!(" (site `{}`)", cell(&model.sites[s].code.value)))
        .unwrap_or_default();
    let mut out = format!("**{role_name}** on `{}`{site}\n\n", cell(&host.fqdn.value));
    if rows.is_empty() {
        out.push_str("No required flow.");
        return out;
    }
    let counts: Vec<String> = VERDICTS
        .iter()
        .zip(counts)
        .filter(|&(_, n)| n > 0)
        .map(|(v, n)| format!("{n} {v}"))
        .collect();
    let plural = if rows.len() == 1 { "" } else { "s" };
    let _ = writeln!(
        out,
        "{} required flow{plural}: {}\n",
        rows.len(),
        counts.join(", ")
    );
    out.push_str("| direction | peer | protocol/ports | service | verdict |\n");
    out.push_str("|---|---|---|---|---|\n");
    for &(outbound, _, protocol, ports, i, peer) in rows.iter().take(MAX_FLOW_ROWS) {
        let flow = &snapshot.flows[i];
        let services: BTreeSet<String> = role_services(flow, role_name, !outbound)
            .map(|s| match s.phase {
                crate::engine::Phase::Operation => s.service(model).to_owned(),
                phase => format!("{} ({})", s.service(model), phase.as_str()),
            })
            .collect();
        let services: Vec<String> = services.into_iter().collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            if outbound { "to" } else { "from" },
            peer_name(model, peer),
            protocol_ports(protocol, ports),
            cell(&services.join(", ")),
            verdict_of(snapshot, i)
        );
    }
    if rows.len() > MAX_FLOW_ROWS {
        let _ = writeln!(out, "\nand {} more", rows.len() - MAX_FLOW_ROWS);
    }
    out.truncate(out.trim_end().len());
    out
}

/// The services of a flow that `role` takes part in, as the destination (`inbound`) or
/// the source.
fn role_services<'f>(
    flow: &'f RequiredFlow,
    role: &'static str,
    inbound: bool,
) -> impl Iterator<Item = &'f crate::engine::FlowService> + 'f {
    flow.services.iter().filter(move |s| {
        let side = if inbound {
            s.destination_role
        } else {
            s.source_role
        };
        side == role
    })
}

/// Verdicts in the order a role's hover counts them.
const VERDICTS: [&str; 6] = [
    "allowed",
    "indeterminate",
    "blocked",
    "no-path",
    "waived",
    "unknown",
];

fn verdict_of(snapshot: &Snapshot<'_>, flow: usize) -> &'static str {
    snapshot
        .verdicts
        .get(flow)
        .map_or("unknown", |v| v.verdict.as_str())
}

fn verdict_rank(v: &str) -> usize {
    VERDICTS
        .iter()
        .position(|&k| k == v)
        .unwrap_or(VERDICTS.len() - 1)
}

/// A flow's peer as people read it: `HQ desktops (clients)`, a server's FQDN.
fn peer_name(model: &Model, peer: FlowEndpoint) -> String {
    match peer {
        FlowEndpoint::Server(_) | FlowEndpoint::Internet => code(peer.name(model)),
        other => format!("{} ({})", code(other.name(model)), other.kind()),
    }
}

/// The value a symbolic port has when the model does not set it.
fn symbolic_default(name: &str) -> Option<(u16, u16)> {
    Some(match name {
        "client-http" | "rsp-http" => (80, 80),
        "client-https" | "rsp-https" => (443, 443),
        "client-notification" => (10123, 10123),
        "wake-on-lan" => (9, 9),
        "wake-up-proxy" => (25536, 25536),
        "wsus-http" => (8530, 8530),
        "wsus-https" => (8531, 8531),
        "sql" => (1433, 1433),
        "sql-broker" => (4022, 4022),
        "rpc-dynamic" => (49152, 65535),
        _ => return None,
    })
}

/// Whether a catalog port stands for the hovered one: the same setting when the place
/// names one, else a literal range overlapping it, or a setting whose default does
/// (the dynamic RPC range only for `rpc` itself: every high port lies in it).
fn row_port_matches(
    port: &CatalogPort,
    low: u16,
    high: u16,
    symbolic: Option<&'static str>,
) -> bool {
    match (port, symbolic) {
        (CatalogPort::Symbolic(s), Some(want)) => s == want,
        (CatalogPort::Range(a, b), _) => *a <= high && low <= *b,
        (CatalogPort::Symbolic(s), None) if s == "rpc-dynamic" => false,
        (CatalogPort::Symbolic(s), None) => {
            symbolic_default(s).is_some_and(|(a, b)| a <= high && low <= b)
        }
    }
}

fn catalog_port_text(port: &CatalogPort) -> String {
    match port {
        CatalogPort::Range(a, b) if a == b => a.to_string(),
        CatalogPort::Range(a, b) => format!("{a}-{b}"),
        CatalogPort::Symbolic(s) => s.clone(),
    }
}

fn port(
    model: &Model,
    low: u16,
    high: u16,
    protocol: Option<Protocol>,
    symbolic: Option<&'static str>,
) -> String {
    let catalog = crate::catalog::for_model(model);
    let ports = if low == high {
        low.to_string()
    } else {
        format!("{low}-{high}")
    };
    let mut out = match protocol {
        Some(p) => format!("**{} {ports}**", p.as_str().to_ascii_uppercase()),
        None => format!("**port {ports}**"),
    };
    if let Some(s) = symbolic {
        let _ = write!(out, " (`{s}`)");
    }
    out.push('\n');
    // (document, section title, url) -> services with their ports as the catalog
    // writes them.
    let mut sections: BTreeMap<(&str, &str, &str), BTreeSet<String>> = BTreeMap::new();
    for row in &catalog.rows {
        for (p, catalog_port) in [(Protocol::Tcp, &row.tcp), (Protocol::Udp, &row.udp)] {
            let Some(catalog_port) = catalog_port else {
                continue;
            };
            if protocol.is_some_and(|want| want != p)
                || !row_port_matches(catalog_port, low, high, symbolic)
            {
                continue;
            }
            sections
                .entry((
                    crate::catalog::seed_title(&row.seed),
                    row.title.as_str(),
                    row.url.as_str(),
                ))
                .or_default()
                .insert(format!(
                    "{} ({} {})",
                    row.service,
                    p.as_str().to_ascii_uppercase(),
                    catalog_port_text(catalog_port)
                ));
        }
    }
    if sections.is_empty() {
        out.push_str("\nNo documented Configuration Manager service uses it.");
        return out;
    }
    let mut document = "";
    for ((doc, title, url), services) in sections.iter().take(MAX_SERVICES) {
        if *doc != document {
            let _ = writeln!(out, "\n{doc}:\n");
            document = doc;
        }
        let services: Vec<&str> = services.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "- [{}]({url}): {}",
            cell(title),
            cell(&services.join(", "))
        );
    }
    if sections.len() > MAX_SERVICES {
        let _ = writeln!(out, "\nand {} more sections", sections.len() - MAX_SERVICES);
    }
    out.truncate(out.trim_end().len());
    out
}

/// `- a`, `- b`, ..., capped, after a heading line.
fn bullet_list(out: &mut String, heading: &str, mut items: Vec<String>) {
    if items.is_empty() {
        return;
    }
    items.sort();
    items.dedup();
    let _ = writeln!(out, "\n{heading} ({}):", items.len());
    for item in items.iter().take(MAX_MEMBERS) {
        let _ = writeln!(out, "- {item}");
    }
    if items.len() > MAX_MEMBERS {
        let _ = writeln!(out, "- and {} more", items.len() - MAX_MEMBERS);
    }
}

fn code(s: &str) -> String {
    format!("`{}`", cell(s))
}

fn server_line(model: &Model, s: usize) -> String {
    let server = &model.servers[s];
    let roles: Vec<&str> = server.roles.iter().map(|r| r.name).collect();
    if roles.is_empty() {
        code(&server.fqdn.value)
    } else {
        format!("{}: {}", code(&server.fqdn.value), roles.join(", "))
    }
}

fn endpoint(model: &Model, symbols: &Symbols, e: &Endpoint) -> String {
    let mut out = format!("**{}**\n", code(&e.to_string()));
    match e {
        Endpoint::Any => out.push_str("\nEvery host, in every zone."),
        Endpoint::Zone(z) => zone_members(model, symbols, z, &mut out),
        Endpoint::Site(code) => match model.site_id(code) {
            Some(site) => bullet_list(
                &mut out,
                "Servers",
                model.sites[site]
                    .servers
                    .iter()
                    .map(|&s| server_line(model, s))
                    .collect(),
            ),
            None => out.push_str("\nNo such site."),
        },
        Endpoint::Role { role, site } => {
            let holders = symbols
                .role_holders
                .get(role.as_str())
                .map_or(&[][..], Vec::as_slice);
            let servers: Vec<String> = holders
                .iter()
                .filter(|&&s| {
                    site.as_ref().is_none_or(|code| {
                        model.servers[s]
                            .site
                            .is_some_and(|i| &model.sites[i].code.value == code)
                    })
                })
                .map(|&s| code(&model.servers[s].fqdn.value))
                .collect();
            if servers.is_empty() {
                out.push_str("\nNo server holds it.");
            }
            bullet_list(&mut out, "Servers", servers);
        }
        Endpoint::Clients(g) => match model.index.clients.get(g) {
            Some(&i) => client_group_lines(model, i, &mut out),
            None => out.push_str("\nNo such client group."),
        },
        Endpoint::Host(h) => {
            if let Some(s) = model.server_id(h) {
                out.push('\n');
                out.push_str(&server_summary(model, s));
            } else if let Some(&c) = model.index.consoles.get(h) {
                let console = &model.consoles[c];
                let _ = write!(
                    out,
                    "\nconsole in zone {}, site {}",
                    code(&console.zone.value),
                    code(&console.site.value)
                );
            } else if let Some(&c) = model.index.cloud_services.get(h) {
                let cloud = &model.cloud_services[c];
                let _ = write!(
                    out,
                    "\n{} of site {}, in zone `internet`",
                    cloud.kind.node_name(),
                    code(&cloud.site.value)
                );
            } else {
                out.push_str("\nNo such host.");
            }
        }
        Endpoint::Cidr(net) => {
            let servers = model
                .servers
                .iter()
                .filter(|s| s.address.is_some_and(|a| net.contains(&a)))
                .map(|s| code(&s.fqdn.value))
                .collect();
            let zones = model
                .zones
                .iter()
                .filter(|z| {
                    !z.subnets.is_empty() && z.subnets.iter().all(|n| net.contains(&n.value))
                })
                .map(|z| code(&z.name.value))
                .collect();
            bullet_list(&mut out, "Zones inside it", zones);
            bullet_list(&mut out, "Servers whose address lies inside it", servers);
        }
    }
    out.truncate(out.trim_end().len());
    out
}

fn zone_members(model: &Model, symbols: &Symbols, zone: &str, out: &mut String) {
    if let Some(z) = model.zone(zone) {
        let subnets: Vec<String> = z.subnets.iter().map(|n| n.value.to_string()).collect();
        if !subnets.is_empty() {
            let _ = write!(out, "\nSubnets: {}\n", subnets.join(", "));
        }
    } else if zone != "internet" {
        out.push_str("\nNo such zone.");
        return;
    }
    let Some(members) = symbols.zone_members.get(zone) else {
        return;
    };
    bullet_list(
        out,
        "Servers",
        members
            .servers
            .iter()
            .map(|&s| server_line(model, s))
            .collect(),
    );
    bullet_list(
        out,
        "Client groups",
        members
            .clients
            .iter()
            .map(|&c| code(&model.clients[c].name.value))
            .collect(),
    );
    bullet_list(
        out,
        "Consoles",
        members
            .consoles
            .iter()
            .map(|&c| code(&model.consoles[c].name.value))
            .collect(),
    );
}

fn client_group_lines(model: &Model, i: usize, out: &mut String) {
    let group = &model.clients[i];
    let _ = writeln!(
        out,
        "\n{} clients of site {}, in zone {}",
        group.props.str("type").unwrap_or_else(|| "windows".into()),
        code(&group.site.value),
        code(&group.zone.value)
    );
    let subnets: Vec<String> = if group.subnets.is_empty() {
        model
            .zone(&group.zone.value)
            .map(|z| z.subnets.iter().map(|n| n.value.to_string()).collect())
            .unwrap_or_default()
    } else {
        group.subnets.iter().map(|n| n.value.to_string()).collect()
    };
    if !subnets.is_empty() {
        let _ = writeln!(out, "\nSubnets: {}", subnets.join(", "));
    }
    if !group.boundary_groups.is_empty() {
        let names: Vec<String> = group
            .boundary_groups
            .iter()
            .map(|b| code(&b.value))
            .collect();
        let _ = writeln!(out, "\nBoundary groups: {}", names.join(", "));
    }
}

fn server_summary(model: &Model, s: usize) -> String {
    let server = &model.servers[s];
    let mut out = format!("server in zone {}", code(&server.zone.value));
    if let Some(site) = server.site {
        let _ = write!(out, ", site {}", code(&model.sites[site].code.value));
    }
    if let Some(address) = server.address {
        let _ = write!(out, ", address {address}");
    }
    let roles: Vec<&str> = server.roles.iter().map(|r| r.name).collect();
    if !roles.is_empty() {
        let _ = write!(out, "\n\nRoles: {}", roles.join(", "));
    }
    let instances: Vec<String> = server
        .sql_instances
        .iter()
        .map(|i| match i.port() {
            Some(port) => format!("{} (TCP {port})", code(&i.name.value)),
            None => format!("{} (dynamic port)", code(&i.name.value)),
        })
        .collect();
    if !instances.is_empty() {
        let _ = write!(out, "\n\nSQL instances: {}", instances.join(", "));
    }
    out
}

/// What a declared (or referenced) name is.
fn summary(model: &Model, symbols: &Symbols, symbol: &Symbol) -> Option<String> {
    let mut out = String::new();
    match symbol {
        Symbol::Zone(z) => {
            let _ = writeln!(out, "**zone** {}", code(z));
            zone_members(model, symbols, z, &mut out);
            if let Some(firewalls) = symbols.zone_firewalls.get(z) {
                let names: Vec<String> = firewalls
                    .iter()
                    .map(|&f| code(&model.firewalls[f].name.value))
                    .collect();
                bullet_list(&mut out, "Firewalls", names);
            }
        }
        Symbol::Site(code_) => {
            let site = model.site(code_)?;
            let kind = match site.site_type {
                crate::model::SiteType::Central => "central administration site",
                crate::model::SiteType::Primary => "primary site",
                crate::model::SiteType::Secondary => "secondary site",
            };
            let _ = write!(out, "**site** {}: {kind}", code(code_));
            if let Some(parent) = &site.parent {
                let _ = write!(out, ", child of {}", code(&parent.value));
            }
            out.push('\n');
            if let Some((db, _)) = &site.database {
                let _ = writeln!(
                    out,
                    "\nDatabase: {}",
                    code(&format!("{}/{}", db.server.value, db.instance.value))
                );
            }
            bullet_list(
                &mut out,
                "Servers",
                site.servers
                    .iter()
                    .map(|&s| server_line(model, s))
                    .collect(),
            );
        }
        Symbol::Server(fqdn) => {
            let s = model.server_id(fqdn)?;
            let _ = writeln!(out, "**server** {}\n", code(&model.servers[s].fqdn.value));
            out.push_str(&server_summary(model, s));
        }
        Symbol::Clients(name) => {
            let &i = model.index.clients.get(name)?;
            let _ = writeln!(out, "**client group** {}", code(name));
            client_group_lines(model, i, &mut out);
        }
        Symbol::BoundaryGroup(name) => {
            let &i = model.index.boundary_groups.get(name)?;
            let bg = &model.boundary_groups[i];
            let _ = write!(out, "**boundary group** {}", code(name));
            if let Some(site) = &bg.site {
                let _ = write!(out, ": assigns site {}", code(&site.value));
            }
            if let Some(site) = &bg.default_for {
                let _ = write!(out, " (default boundary group of {})", code(&site.value));
            }
            out.push('\n');
            let boundaries = bg
                .boundaries
                .iter()
                .map(|b| match b {
                    crate::model::Boundary::Range(r) => r.value.to_string(),
                    crate::model::Boundary::AdSite(s) => format!("AD site {}", code(&s.value)),
                })
                .collect();
            bullet_list(&mut out, "Boundaries", boundaries);
            bullet_list(
                &mut out,
                "Site systems",
                bg.site_systems.iter().map(|s| code(&s.value)).collect(),
            );
        }
        Symbol::SqlInstance { server, instance } => {
            let (s, i) = model.instance_id(server, instance)?;
            let host = &model.servers[s];
            let inst = &host.sql_instances[i];
            let _ = write!(
                out,
                "**SQL instance** {} on {}\n\n",
                code(&inst.name.value),
                code(&host.fqdn.value)
            );
            match inst.port() {
                Some(port) => {
                    let _ = write!(out, "TCP {port}");
                }
                None => out.push_str("dynamic port"),
            }
            let _ = write!(out, ", Service Broker TCP {}", inst.broker_port());
            let sites: Vec<String> = model
                .sites
                .iter()
                .filter(|site| {
                    site.database.as_ref().is_some_and(|(db, _)| {
                        db.server.value.eq_ignore_ascii_case(server)
                            && db.instance.value.eq_ignore_ascii_case(instance)
                    })
                })
                .map(|site| code(&site.code.value))
                .collect();
            if !sites.is_empty() {
                let _ = write!(out, "\n\nSite database of {}", sites.join(", "));
            }
        }
    }
    out.truncate(out.trim_end().len());
    Some(out)
}
