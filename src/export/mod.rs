//! `cmflow export`: firewall rules that allow exactly the required flows, for Windows
//! Firewall (PowerShell), Aerleon (policies for every platform it renders), a CSV change
//! request and cmflow's own KDL (to load back and check).
//!
//! [`plan`] decides which rules are needed; each target's file renders that plan into
//! text. Exporters write through an
//! [`Output`], which the CLI points at standard output or a folder; they never print,
//! exit or touch the model's files.

pub mod aerleon;
pub mod csv;
pub mod kdl;
pub mod plan;
pub mod windows_firewall;

use std::io::{self, Write};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::engine::{FlowEndpoint, FlowVerdict, Phase, RequiredFlow};
use crate::model::{Model, Spanned};

/// `cmflow export --target`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// One PowerShell script of `New-NetFirewallRule` commands, a section per host.
    WindowsFirewall,
    /// Aerleon policies (one per network firewall) with `def/` networks and services.
    Aerleon,
    /// One CSV row per network firewall rule, for a change request.
    Csv,
    /// cmflow's own `firewall` nodes and `windows-firewall` blocks.
    Kdl,
}

impl Target {
    /// Whether the target writes several files (and so needs a folder).
    pub fn is_multi_file(self) -> bool {
        matches!(self, Target::Aerleon | Target::Kdl)
    }
}

/// Where exporters write: each call opens one file, by path relative to the output.
pub trait Output {
    fn create(&mut self, path: &str) -> io::Result<Box<dyn Write + '_>>;
}

/// What an export run worked from.
pub struct ExportInput<'a> {
    pub model: &'a Model,
    pub flows: &'a [RequiredFlow],
    pub verdicts: &'a [FlowVerdict],
    pub phases: &'a [Phase],
    /// The model's deny rules and forbids every target writes besides its allow rules.
    pub carried: &'a crate::engine::intent::Carried,
    /// What the command line asked of the targets beyond the defaults.
    pub options: &'a ExportOptions,
}

/// The options of `cmflow export` that change what a target writes.
#[derive(Clone, Debug, Default)]
pub struct ExportOptions {
    /// `csv`: also the rules of flows that cross no network firewall (`--all`).
    pub all: bool,
    /// `windows-firewall`: the store the script writes to (`--policy-store`).
    pub policy_store: Option<windows_firewall::PolicyStore>,
    /// `windows-firewall`: only these hosts' sections (`--only`); every host when `None`.
    pub only: Option<Vec<FlowEndpoint>>,
}

/// Writes `target` for the input.
pub fn export(target: Target, input: &ExportInput<'_>, out: &mut dyn Output) -> io::Result<()> {
    match target {
        Target::Csv => {
            let unfiltered = if input.options.all {
                plan::Unfiltered::Include
            } else {
                plan::Unfiltered::Skip
            };
            let plan = plan::plan_with(input.model, input.flows, input.verdicts, unfiltered);
            csv::write(input, &plan, out)
        }
        Target::WindowsFirewall => {
            let plan = plan::plan(input.model, input.flows, input.verdicts);
            windows_firewall::write(input, &plan, out)
        }
        Target::Aerleon => {
            let plan = plan::plan(input.model, input.flows, input.verdicts);
            aerleon::write(input, &plan, out)
        }
        Target::Kdl => {
            let plan = plan::plan(input.model, input.flows, input.verdicts);
            kdl::write(input, &plan, out)
        }
    }
}

/// What the model says of an endpoint's addresses.
#[derive(Clone, Copy, Debug)]
pub enum Address<'m> {
    /// A server's or console's `address`.
    Exact(IpAddr),
    /// A client group's `subnet`s, else its zone's subnets (client groups, consoles and
    /// servers without `address`).
    Subnets(&'m [Spanned<IpNet>]),
    /// Anything: the Internet (and cloud services) when the `internet` zone declares no
    /// subnet.
    Any,
    /// The model does not say: no `address`, and its zone has no subnet.
    Unknown,
}

impl Address<'_> {
    /// The address or subnets as CIDR strings (`10.1.0.10/32`); empty for `Any` and
    /// `Unknown`.
    pub fn cidrs(&self) -> Vec<String> {
        match self {
            Address::Exact(ip) => vec![IpNet::from(*ip).to_string()],
            Address::Subnets(s) => s.iter().map(|n| n.value.to_string()).collect(),
            Address::Any | Address::Unknown => Vec::new(),
        }
    }

    /// The address or subnets as written by people: `10.1.0.10`, `10.10.0.0/16`.
    pub fn plain(&self) -> Vec<String> {
        match self {
            Address::Exact(ip) => vec![ip.to_string()],
            _ => self.cidrs(),
        }
    }
}

/// The addresses of a flow endpoint.
pub fn address(model: &Model, e: FlowEndpoint) -> Address<'_> {
    match e {
        FlowEndpoint::Server(i) if let Some(ip) = model.servers[i].address => {
            return Address::Exact(ip);
        }
        FlowEndpoint::Console(i) if let Some(ip) = model.consoles[i].address => {
            return Address::Exact(ip);
        }
        FlowEndpoint::Clients(i) if !model.clients[i].subnets.is_empty() => {
            return Address::Subnets(&model.clients[i].subnets);
        }
        _ => {}
    }
    let zone = e.zone(model);
    match model.zone(zone) {
        Some(z) if !z.subnets.is_empty() => Address::Subnets(&z.subnets),
        _ if zone == "internet" => Address::Any,
        _ => Address::Unknown,
    }
}

/// The addresses a model endpoint list names (a forbid's or a deny rule's `from`/`to`), as
/// CIDRs sorted and without duplicates; `None` when it names any address (`any`, the
/// Internet without subnets, a cloud service). Hosts of the list whose address the model
/// does not know are left out.
pub fn endpoint_list_cidrs(
    model: &Model,
    list: &[Spanned<crate::model::Endpoint>],
) -> Option<Vec<String>> {
    use crate::model::Endpoint;
    let mut out: Vec<String> = Vec::new();
    let add = |e: FlowEndpoint, out: &mut Vec<String>| match address(model, e) {
        Address::Any => false,
        a => {
            out.extend(a.cidrs());
            true
        }
    };
    for item in list {
        let servers = |keep: &dyn Fn(&crate::model::Server) -> bool| {
            model
                .servers
                .iter()
                .enumerate()
                .filter(|(_, s)| keep(s))
                .map(|(i, _)| FlowEndpoint::Server(i))
                .collect::<Vec<_>>()
        };
        let ends: Vec<FlowEndpoint> = match &item.value {
            Endpoint::Any => return None,
            Endpoint::Cidr(net) => {
                out.push(net.to_string());
                continue;
            }
            Endpoint::Zone(z) => match model.zone(z) {
                Some(zone) if !zone.subnets.is_empty() => {
                    out.extend(zone.subnets.iter().map(|s| s.value.to_string()));
                    continue;
                }
                _ if z == "internet" => return None,
                _ => Vec::new(),
            },
            Endpoint::Host(h) => {
                if let Some(s) = model.server_id(h) {
                    vec![FlowEndpoint::Server(s)]
                } else if let Some(&c) = model.index.consoles.get(h) {
                    vec![FlowEndpoint::Console(c)]
                } else if let Some(&c) = model.index.cloud_services.get(h) {
                    vec![FlowEndpoint::Cloud(c)]
                } else {
                    Vec::new()
                }
            }
            Endpoint::Clients(g) => model
                .index
                .clients
                .get(g)
                .map(|&i| FlowEndpoint::Clients(i))
                .into_iter()
                .collect(),
            Endpoint::Site(code) => servers(&|s: &crate::model::Server| {
                s.site.is_some_and(|i| &model.sites[i].code.value == code)
            }),
            Endpoint::Role { role, site } => servers(&|s: &crate::model::Server| {
                let holds =
                    s.has_role(role) || (role == "sql-server" && !s.sql_instances.is_empty());
                let in_site = site
                    .as_ref()
                    .is_none_or(|code| s.site.is_some_and(|i| &model.sites[i].code.value == code));
                holds && in_site
            }),
        };
        for e in ends {
            if !add(e, &mut out) {
                return None;
            }
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// The ports of a model rule or forbid per protocol, as ranges; `rpc` is the Windows
/// default dynamic range 49152-65535 (a deny rule names no single destination) and
/// `rpc-epmap` TCP 135. `None` for a protocol the traffic does not name.
pub fn traffic_ports(
    traffic: &crate::model::Traffic,
    protocol: crate::model::Protocol,
) -> Option<Vec<(u16, u16)>> {
    use crate::model::{PortItem, Protocol};
    let list = match protocol {
        Protocol::Tcp => traffic.tcp.as_ref()?,
        Protocol::Udp => traffic.udp.as_ref()?,
        Protocol::Icmp => return traffic.icmp.then(Vec::new),
    };
    Some(
        list.value
            .items
            .iter()
            .map(|item| match *item {
                PortItem::Range(a, b) => (a, b),
                PortItem::Rpc => (49152, 65535),
                PortItem::RpcEpmap => (135, 135),
            })
            .collect(),
    )
}

/// The carried deny rules and forbids of a network firewall, as (name, traffic), forbids
/// first, in the model's order.
pub fn carried_network_rules<'m>(
    input: &ExportInput<'m>,
    firewall: usize,
) -> Vec<(String, &'m crate::model::Traffic)> {
    let model = input.model;
    let mut out = Vec::new();
    for &(p, f) in &input.carried.firewall_forbids[firewall] {
        let policy = &model.policies[p];
        out.push((
            format!("policy: {}", policy.name.value),
            &policy.forbids[f].traffic,
        ));
    }
    for &i in &input.carried.firewall_denies[firewall] {
        let rule = &model.firewalls[firewall].rules[i];
        let name = rule
            .name
            .as_ref()
            .map_or_else(|| format!("deny rule {}", i + 1), |n| n.value.clone());
        out.push((name, &rule.traffic));
    }
    out
}

/// The phases as a comment: `operation`, `operation, install`.
fn phase_list(phases: &[Phase]) -> String {
    phases
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Endpoint names for comments, at most ten: `a, b, c and 12 more`.
fn name_list(model: &Model, list: &[FlowEndpoint]) -> String {
    const SHOWN: usize = 10;
    let names: Vec<&str> = list.iter().take(SHOWN).map(|e| e.name(model)).collect();
    let mut text = names.join(", ");
    if list.len() > SHOWN {
        text = format!("{text} and {} more", list.len() - SHOWN);
    }
    text
}

/// `1 flow`, `2 flows`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests;
