//! Renderers of `cmflow flows`: `table`, `csv`, `json` and `markdown`, one row per
//! (flow, service) as `cli.md` § flows output defines.

use std::io::{self, Write};

use serde::Serialize;

use crate::engine::{FlowEndpoint, FlowVerdict, RequiredFlow};
use crate::model::Model;

/// `cmflow flows --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FlowsFormat {
    /// Aligned columns for a terminal.
    Table,
    Csv,
    Json,
    Markdown,
}

/// One output row.
#[derive(Serialize)]
pub struct FlowRow<'a> {
    pub source: &'a str,
    pub source_kind: &'static str,
    pub source_role: &'static str,
    pub source_zone: &'a str,
    /// The source's addresses or subnets (empty when unknown, or for the Internet).
    pub source_addresses: Vec<String>,
    pub destination: &'a str,
    pub destination_kind: &'static str,
    pub destination_role: &'static str,
    pub destination_zone: &'a str,
    pub destination_addresses: Vec<String>,
    pub protocol: &'static str,
    pub ports: String,
    pub service: &'a str,
    pub phase: &'static str,
    pub reference: String,
    /// The reference's section on Microsoft Learn (`null` for a user-declared flow).
    pub reference_url: Option<&'static str>,
    pub firewalls: Vec<&'a str>,
    pub verdict: &'static str,
    /// The reason of the `waive` that waives the flow (verdict `waived`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<&'a str>,
    /// The rule (or `default`) of each filter that decided, in the order the flow meets them.
    pub decided_by: Vec<String>,
    /// Sent before the source has an address (DHCP): exports allow any source.
    #[serde(skip)]
    pub broadcast: bool,
}

/// The rows of a flow list, sorted and without duplicates; `verdicts` is parallel to
/// `flows`.
pub fn rows<'a>(
    model: &'a Model,
    flows: &'a [RequiredFlow],
    verdicts: &'a [FlowVerdict],
) -> Vec<FlowRow<'a>> {
    let mut rows: Vec<FlowRow<'a>> = flows
        .iter()
        .zip(verdicts)
        .flat_map(|(f, v)| {
            let firewalls: Vec<&str> = v
                .firewalls()
                .iter()
                .map(|&i| model.firewalls[i].name.value.as_str())
                .collect();
            let mut decided_by: Vec<String> = Vec::new();
            for d in &v.decisions {
                let text = d.describe(model);
                if !decided_by.contains(&text) {
                    decided_by.push(text);
                }
            }
            let broadcast = f.broadcast();
            let source_addresses = addresses(model, f.source);
            let destination_addresses = addresses(model, f.destination);
            let waived_by = f.waived_by.map(|w| model.waivers[w].reason.value.as_str());
            f.services.iter().map(move |s| FlowRow {
                source: f.source.name(model),
                source_addresses: source_addresses.clone(),
                destination_addresses: destination_addresses.clone(),
                waived_by,
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
                reference: s.reference(),
                reference_url: s.reference_url(),
                firewalls: firewalls.clone(),
                verdict: v.verdict.as_str(),
                decided_by: decided_by.clone(),
                broadcast,
            })
        })
        .collect();
    rows.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
    rows.dedup_by(|a, b| sort_key(a) == sort_key(b));
    rows
}

/// An endpoint's addresses or subnets as the exports use them; none for the Internet and
/// cloud services.
fn addresses(model: &Model, e: FlowEndpoint) -> Vec<String> {
    match e {
        FlowEndpoint::Internet | FlowEndpoint::Cloud(_) => Vec::new(),
        _ => crate::export::address(model, e).plain(),
    }
}

type RowKey<'r> = (
    &'r str,
    &'r str,
    &'static str,
    (u32, &'r str),
    &'r str,
    &'static str,
    &'static str,
    &'r str,
);

fn sort_key<'r>(r: &'r FlowRow<'_>) -> RowKey<'r> {
    let first_port = r
        .ports
        .split('-')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    (
        r.source,
        r.destination,
        r.protocol,
        (first_port, r.ports.as_str()),
        r.service,
        r.source_role,
        r.destination_role,
        r.reference.as_str(),
    )
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

fn cells(r: &FlowRow<'_>) -> [String; 20] {
    [
        r.source.to_owned(),
        r.source_kind.to_owned(),
        r.source_role.to_owned(),
        r.source_zone.to_owned(),
        r.destination.to_owned(),
        r.destination_kind.to_owned(),
        r.destination_role.to_owned(),
        r.destination_zone.to_owned(),
        r.protocol.to_owned(),
        r.ports.clone(),
        r.service.to_owned(),
        r.phase.to_owned(),
        r.reference.clone(),
        r.reference_url.unwrap_or_default().to_owned(),
        r.firewalls.join("; "),
        r.verdict.to_owned(),
        r.decided_by.join("; "),
        r.source_addresses.join(" "),
        r.destination_addresses.join(" "),
        r.waived_by.unwrap_or_default().to_owned(),
    ]
}

/// Writes the flow list.
pub fn write(out: &mut dyn Write, format: FlowsFormat, rows: &[FlowRow<'_>]) -> io::Result<()> {
    match format {
        FlowsFormat::Json => {
            #[derive(Serialize)]
            struct Doc<'r, 'a> {
                version: u32,
                flows: &'r [FlowRow<'a>],
            }
            serde_json::to_writer_pretty(
                &mut *out,
                &Doc {
                    version: 1,
                    flows: rows,
                },
            )?;
            writeln!(out)
        }
        FlowsFormat::Csv => {
            writeln!(out, "{}", HEADERS.join(","))?;
            for r in rows {
                let line: Vec<String> = cells(r)
                    .iter()
                    .map(|c| crate::escape::csv::field(c))
                    .collect();
                writeln!(out, "{}", line.join(","))?;
            }
            Ok(())
        }
        FlowsFormat::Markdown => {
            writeln!(out, "| {} | REFERENCE |", TABLE_COLUMNS.join(" | "))?;
            writeln!(out, "|{}---|", TABLE_COLUMNS.map(|_| "---|").concat())?;
            for r in rows {
                let c = table_cells(r);
                // The reference is a link to its section; its text and address are
                // escaped like every other cell.
                let reference = match r.reference_url {
                    Some(url) => format!("[{}]({url})", r.reference),
                    None => r.reference.clone(),
                };
                writeln!(
                    out,
                    "| {} | {} |",
                    c.map(|s| s.replace('|', "\\|")).join(" | "),
                    reference.replace('|', "\\|")
                )?;
            }
            Ok(())
        }
        FlowsFormat::Table => {
            // Each row's reference as a footnote number; the notes, with the sections'
            // addresses on Microsoft Learn, follow the table in order of first use.
            let mut notes: Vec<(&str, Option<&str>)> = Vec::new();
            let mut all: Vec<Vec<String>> = Vec::with_capacity(rows.len());
            for r in rows {
                let key = (r.reference.as_str(), r.reference_url);
                let number = if let Some(found) = notes.iter().position(|k| *k == key) {
                    found + 1
                } else {
                    notes.push(key);
                    notes.len()
                };
                let mut cells = table_cells(r).to_vec();
                cells.push(format!("[{number}]"));
                all.push(cells);
            }
            let headers: Vec<&str> = TABLE_COLUMNS.iter().copied().chain(["REF"]).collect();
            let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
            for c in &all {
                for (w, s) in widths.iter_mut().zip(c) {
                    *w = (*w).max(s.chars().count());
                }
            }
            let line = |c: &[String]| {
                let parts: Vec<String> = c
                    .iter()
                    .zip(&widths)
                    .map(|(s, &w)| format!("{s:<w$}"))
                    .collect();
                parts.join("  ").trim_end().to_owned()
            };
            let header_cells: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
            writeln!(out, "{}", line(&header_cells))?;
            for c in &all {
                writeln!(out, "{}", line(c))?;
            }
            writeln!(out, "\n{} flows", rows.len())?;
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

/// The readable cells of a row, each on one line with nothing that drives a terminal.
fn table_cells(r: &FlowRow<'_>) -> [String; 10] {
    let cells = [
        format!("{} ({})", r.source, r.source_role),
        r.source_zone.to_owned(),
        format!("{} ({})", r.destination, r.destination_role),
        r.destination_zone.to_owned(),
        r.protocol.to_owned(),
        r.ports.clone(),
        r.service.to_owned(),
        r.phase.to_owned(),
        r.verdict.to_owned(),
        r.decided_by.join("; "),
    ];
    cells.map(|c| crate::escape::terminal::line(&c).into_owned())
}
