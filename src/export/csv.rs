//! `--target csv`: one row per allow rule of a network firewall, as a change request to
//! the network team reads it (RFC 4180: CRLF line ends, fields quoted when they hold a
//! comma, a quote or a line break; every cell through the formula guard of
//! [`crate::escape::csv::field`]).
//!
//! The rules are the [`ExportPlan`]'s, the ones the `kdl` and `aerleon` targets write
//! (same grouping, same order, same `rule` names); this file groups nothing. Firewalls
//! come by name; with `--all`, the rules of flows that cross no network firewall (same
//! zone, or a model without firewalls) follow with an empty `firewall`. Columns:
//!
//! - `sources` / `destinations`: each endpoint's name with its addresses in brackets,
//!   `; `-separated; `source_addresses` / `destination_addresses`: the addresses alone,
//!   space-separated (as `flows --format csv` writes them), for pasting into an object
//!   group. A DHCP rule's source is `any` (its clients send from 0.0.0.0 to the
//!   broadcast address); the Internet without subnets is `any`; an endpoint whose
//!   address the model does not know is `(no address)` and adds none.
//! - `protocol`: `tcp`, `udp`, `icmp`, or several space-separated; `ports`: the port
//!   list of the one protocol (`80,443`, `echo`), or per protocol (`tcp 80,10123; udp
//!   69`) when the rule has several.
//! - `services`, `flows` (how many required flows the rule carries), `reference_urls`:
//!   the Microsoft Learn sections of the documents requiring them (`; `-separated).

use std::io::{self, Write};

use super::plan::{ExportPlan, NetworkRule, port_list};
use super::{Address, ExportInput, Output, address};
use crate::engine::FlowEndpoint;
use crate::escape::csv::field as csv_field;
use crate::model::Model;

/// The file name with `--out`.
pub const FILE: &str = "flows.csv";

const HEADERS: [&str; 11] = [
    "firewall",
    "rule",
    "sources",
    "source_addresses",
    "destinations",
    "destination_addresses",
    "protocol",
    "ports",
    "services",
    "flows",
    "reference_urls",
];

/// One side of a rule: (`name (addresses); ...`, `address address ...`).
fn side(model: &Model, list: &[FlowEndpoint], any: bool) -> (String, String) {
    let mut named: Vec<String> = Vec::with_capacity(list.len());
    let mut all: Vec<String> = Vec::new();
    for &e in list {
        let name = e.name(model);
        if any {
            named.push(format!("{name} (any)"));
            continue;
        }
        match address(model, e) {
            Address::Any => {
                named.push(format!("{name} (any)"));
                all.push("any".to_owned());
            }
            Address::Unknown => named.push(format!("{name} (no address)")),
            a => {
                let plain = a.plain();
                named.push(format!("{name} ({})", plain.join(" ")));
                all.extend(plain);
            }
        }
    }
    if any {
        all.push("any".to_owned());
    }
    all.sort();
    all.dedup();
    (named.join("; "), all.join(" "))
}

/// (`protocol`, `ports`) of a rule.
fn protocols(rule: &NetworkRule<'_>) -> (String, String) {
    let mut parts: Vec<(&str, String)> = Vec::new();
    if !rule.ports.tcp.is_empty() {
        parts.push(("tcp", port_list(&rule.ports.tcp)));
    }
    if !rule.ports.udp.is_empty() {
        parts.push(("udp", port_list(&rule.ports.udp)));
    }
    if rule.ports.icmp {
        parts.push(("icmp", "echo".to_owned()));
    }
    let names: Vec<&str> = parts.iter().map(|(p, _)| *p).collect();
    let ports = match parts.as_slice() {
        [(_, ports)] => ports.clone(),
        _ => parts
            .iter()
            .map(|(p, ports)| format!("{p} {ports}"))
            .collect::<Vec<_>>()
            .join("; "),
    };
    (names.join(" "), ports)
}

fn write_rule(
    w: &mut dyn Write,
    model: &Model,
    firewall: &str,
    rule: &NetworkRule<'_>,
) -> io::Result<()> {
    let (sources, source_addresses) = side(model, &rule.sources, rule.any_source);
    let (destinations, destination_addresses) = side(model, &rule.destinations, false);
    let (protocol, ports) = protocols(rule);
    let cells = [
        firewall,
        &super::kdl::rule_name(model, rule),
        &sources,
        &source_addresses,
        &destinations,
        &destination_addresses,
        &protocol,
        &ports,
        &rule.services.join("; "),
        &rule.flows.to_string(),
        &rule.references.join("; "),
    ];
    let line: Vec<std::borrow::Cow<'_, str>> = cells.iter().map(|c| csv_field(c)).collect();
    write!(w, "{}\r\n", line.join(","))
}

pub fn write(
    input: &ExportInput<'_>,
    plan: &ExportPlan<'_>,
    out: &mut dyn Output,
) -> io::Result<()> {
    let model = input.model;
    let mut w = out.create(FILE)?;
    write!(w, "{}\r\n", HEADERS.join(","))?;
    for fw in &plan.firewalls {
        let name = &model.firewalls[fw.firewall].name.value;
        for rule in &fw.rules {
            write_rule(&mut w, model, name, rule)?;
        }
    }
    for rule in &plan.unfiltered {
        write_rule(&mut w, model, "", rule)?;
    }
    w.flush()
}
