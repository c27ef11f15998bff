//! `--target csv`: one row per required flow and network firewall it crosses, for a
//! change request (RFC 4180: CRLF line ends, fields quoted when they hold a comma, a
//! quote or a line break).
//!
//! The rows are `cmflow flows`' rows, one per flow and service, in the order of
//! [`RowOrder`], merged per flow so that one flow is one line listing its services; a flow
//! that crosses no network firewall (same zone, or a model without firewalls) has one
//! row with an empty `firewall`. A DHCP flow's `source_address` is `any` (its clients
//! send from 0.0.0.0 to the broadcast address). Rows are sorted by firewall (empty last), then as
//! `cmflow flows` sorts them. `reference_urls` gives the Microsoft Learn section of each
//! reference in `reason` (`; `-separated, in the same order, user flows left out).

use std::collections::HashMap;
use std::io::{self, Write};

use super::{ExportInput, Output, address};
use crate::engine::FlowEndpoint;
use crate::escape::csv::field as csv_field;
use crate::model::Model;
use crate::report::flows::RowOrder;

/// The file name with `--out`.
pub const FILE: &str = "flows.csv";

const HEADERS: [&str; 16] = [
    "firewall",
    "source",
    "source_kind",
    "source_address",
    "source_zone",
    "destination",
    "destination_kind",
    "destination_address",
    "destination_zone",
    "protocol",
    "ports",
    "services",
    "phase",
    "verdict",
    "reason",
    "reference_urls",
];

/// The endpoint a row names, found again by kind and name.
fn endpoint(model: &Model, kind: &str, name: &str) -> Option<FlowEndpoint> {
    let i = &model.index;
    match kind {
        "server" => model.server_id(name).map(FlowEndpoint::Server),
        "clients" => i.clients.get(name).copied().map(FlowEndpoint::Clients),
        "console" => i.consoles.get(name).copied().map(FlowEndpoint::Console),
        "cloud-service" => i.cloud_services.get(name).copied().map(FlowEndpoint::Cloud),
        _ => Some(FlowEndpoint::Internet),
    }
}

fn address_text(model: &Model, kind: &str, name: &str) -> String {
    endpoint(model, kind, name).map_or_else(String::new, |e| address(model, e).plain().join(" "))
}

/// Appends `item` to a `; `-separated list unless it is there.
fn push_unique(list: &mut String, item: &str) {
    if !list.split("; ").any(|x| x == item) {
        if !list.is_empty() {
            list.push_str("; ");
        }
        list.push_str(item);
    }
}

pub fn write(input: &ExportInput<'_>, out: &mut dyn Output) -> io::Result<()> {
    let (model, flows, verdicts) = (input.model, input.flows, input.verdicts);
    // One line per group of rows with the same source, destination, protocol and ports
    // (a flow), made when written: only the rows' order is kept.
    let order = RowOrder::new(model, flows);
    // Lines per firewall, each in flow order; firewalls by name, "none" last. A line's
    // firewalls are its first row's.
    let mut by_firewall: HashMap<&str, Vec<usize>> = HashMap::new();
    for g in 0..order.groups() {
        let Some(&(first, _)) = order.group(model, flows, g).first() else {
            continue;
        };
        let firewalls = verdicts[first].firewalls();
        if firewalls.is_empty() {
            by_firewall.entry("").or_default().push(g);
        }
        for &f in firewalls {
            by_firewall
                .entry(&model.firewalls[f].name.value)
                .or_default()
                .push(g);
        }
    }
    let mut firewalls: Vec<&str> = by_firewall.keys().copied().collect();
    firewalls.sort_by_key(|f| (f.is_empty(), *f));
    let lines = firewalls
        .into_iter()
        .flat_map(|f| by_firewall[f].iter().map(move |&g| (f, g)));
    let mut addresses: HashMap<(&str, &str), String> = HashMap::new();
    let mut address_of = |kind: &'static str, name| -> String {
        addresses
            .entry((kind, name))
            .or_insert_with(|| address_text(model, kind, name))
            .clone()
    };
    let mut w = out.create(FILE)?;
    write!(w, "{}\r\n", HEADERS.join(","))?;
    let mut line = String::new();
    for (firewall, g) in lines {
        let rows = order.group(model, flows, g);
        let Some(&(first, _)) = rows.first() else {
            continue;
        };
        let mut services = String::new();
        let mut phases = String::new();
        let mut reasons = String::new();
        let mut urls = String::new();
        for &(i, n) in &rows {
            let s = &flows[i].services[n];
            let service = s.service(model);
            push_unique(&mut services, service);
            push_unique(&mut phases, s.phase.as_str());
            push_unique(&mut reasons, &format!("{service}: {}", s.reference()));
            if let Some(url) = s.reference_url() {
                push_unique(&mut urls, url);
            }
        }
        let f = &flows[first];
        let (source, destination) = (f.source.name(model), f.destination.name(model));
        let cells = [
            firewall,
            source,
            f.source.kind(),
            &if f.broadcast() {
                // DHCP: the clients send from 0.0.0.0 to the broadcast address.
                "any".to_owned()
            } else {
                address_of(f.source.kind(), source)
            },
            f.source.zone(model),
            destination,
            f.destination.kind(),
            &address_of(f.destination.kind(), destination),
            f.destination.zone(model),
            f.protocol.as_str(),
            &f.ports.to_string(),
            &services,
            &phases,
            verdicts[first].verdict.as_str(),
            &reasons,
            &urls,
        ];
        line.clear();
        for (n, c) in cells.iter().enumerate() {
            if n > 0 {
                line.push(',');
            }
            line.push_str(&csv_field(c));
        }
        write!(w, "{line}\r\n")?;
    }
    w.flush()
}
