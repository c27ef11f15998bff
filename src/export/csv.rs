//! `--target csv`: one row per required flow and network firewall it crosses, for a
//! change request (RFC 4180: CRLF line ends, fields quoted when they hold a comma, a
//! quote or a line break).
//!
//! The rows are `cmflow flows`' rows ([`crate::report::flows::rows`]), one per flow and
//! service, merged per flow so that one flow is one line listing its services; a flow
//! that crosses no network firewall (same zone, or a model without firewalls) has one
//! row with an empty `firewall`. Rows are sorted by firewall (empty last), then as
//! `cmflow flows` sorts them.

use std::collections::HashMap;
use std::io::{self, Write};

use super::{ExportInput, Output, address};
use crate::engine::FlowEndpoint;
use crate::escape::csv::field as csv_field;
use crate::model::Model;
use crate::report::flows::{FlowRow, rows};

/// The file name with `--out`.
pub const FILE: &str = "flows.csv";

const HEADERS: [&str; 15] = [
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
    let model = input.model;
    let all = rows(model, input.flows, input.verdicts);
    // One line per flow: the rows of one flow are consecutive (sorted so); `flows` holds
    // each flow's range of rows, `lines` a (firewall, flow) per line.
    let same = |a: &FlowRow<'_>, b: &FlowRow<'_>| {
        (a.source, a.destination, a.protocol, &a.ports)
            == (b.source, b.destination, b.protocol, &b.ports)
    };
    let mut flows: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < all.len() {
        let end = start
            + all[start..]
                .iter()
                .take_while(|r| same(&all[start], r))
                .count();
        flows.push((start, end));
        start = end;
    }
    // Lines per firewall, each in flow order; firewalls by name, "none" last.
    let mut by_firewall: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, &(first, _)) in flows.iter().enumerate() {
        let firewalls = &all[first].firewalls;
        if firewalls.is_empty() {
            by_firewall.entry("").or_default().push(i);
        }
        for f in firewalls {
            by_firewall.entry(f).or_default().push(i);
        }
    }
    let mut firewalls: Vec<&str> = by_firewall.keys().copied().collect();
    firewalls.sort_by_key(|f| (f.is_empty(), *f));
    let lines = firewalls
        .into_iter()
        .flat_map(|f| by_firewall[f].iter().map(move |&i| (f, i)));
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
    for (firewall, i) in lines {
        let (start, end) = flows[i];
        let first = &all[start];
        let mut services = String::new();
        let mut phases = String::new();
        let mut reasons = String::new();
        for r in &all[start..end] {
            push_unique(&mut services, r.service);
            push_unique(&mut phases, r.phase);
            push_unique(&mut reasons, &format!("{}: {}", r.service, r.reference));
        }
        let cells = [
            firewall,
            first.source,
            first.source_kind,
            &address_of(first.source_kind, first.source),
            first.source_zone,
            first.destination,
            first.destination_kind,
            &address_of(first.destination_kind, first.destination),
            first.destination_zone,
            first.protocol,
            &first.ports,
            &services,
            &phases,
            first.verdict,
            &reasons,
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
