//! Renderers of `cmflow flows`: `table`, `csv`, `json` and `markdown`, one row per
//! (flow, service) as `cli.md` § flows output defines.
//!
//! Rows are written as they are made, one flow at a time in [`RowOrder`]; no format
//! holds every row (the table measures its columns in a first pass and writes in a
//! second).

use std::cmp::Ordering;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeSeq, SerializeStruct};

use crate::engine::{FlowEndpoint, FlowPorts, FlowService, FlowVerdict, RequiredFlow};
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
    pub reference: String,
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
    order: Vec<usize>,
    /// Where each group starts in `order`, and `order.len()` last.
    bounds: Vec<usize>,
}

/// A row's place before its service: source, destination, protocol, first port.
fn flow_key<'m>(model: &'m Model, f: &RequiredFlow) -> (&'m str, &'m str, &'static str, u32) {
    let first_port = match f.ports {
        FlowPorts::Range(a, _) => u32::from(a),
        FlowPorts::Echo => 0,
    };
    (
        f.source.name(model),
        f.destination.name(model),
        f.protocol.as_str(),
        first_port,
    )
}

/// Compares flows as their rows sort: by [`flow_key`], then the ports' text.
fn flow_cmp(model: &Model, a: &RequiredFlow, b: &RequiredFlow) -> Ordering {
    flow_key(model, a)
        .cmp(&flow_key(model, b))
        // Same first port: rare, so the text is only made here.
        .then_with(|| a.ports.to_string().cmp(&b.ports.to_string()))
}

impl RowOrder {
    pub fn new(model: &Model, flows: &[RequiredFlow]) -> Self {
        let mut order: Vec<usize> = (0..flows.len()).collect();
        order.sort_by(|&a, &b| flow_cmp(model, &flows[a], &flows[b]));
        let mut bounds = Vec::new();
        for (n, w) in order.windows(2).enumerate() {
            if flow_cmp(model, &flows[w[0]], &flows[w[1]]) != Ordering::Equal {
                bounds.push(n + 1);
            }
        }
        if !order.is_empty() {
            bounds.insert(0, 0);
            bounds.push(order.len());
        }
        RowOrder { order, bounds }
    }

    /// The number of groups (flows with the same source, destination, protocol and ports).
    pub fn groups(&self) -> usize {
        self.bounds.len().saturating_sub(1)
    }

    /// The rows of group `g` in order, as (flow, service) indices, equal rows left out.
    pub fn group(&self, model: &Model, flows: &[RequiredFlow], g: usize) -> Vec<(usize, usize)> {
        let members = &self.order[self.bounds[g]..self.bounds[g + 1]];
        let mut keyed: Vec<(ServiceKey<'_>, (usize, usize))> = members
            .iter()
            .flat_map(|&i| {
                flows[i]
                    .services
                    .iter()
                    .enumerate()
                    .map(move |(n, s)| (service_key(model, s), (i, n)))
            })
            .collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.dedup_by(|a, b| a.0 == b.0);
        keyed.into_iter().map(|(_, row)| row).collect()
    }
}

/// A row's place within its group.
type ServiceKey<'m> = (&'m str, &'static str, &'static str, String);

fn service_key<'m>(model: &'m Model, s: &FlowService) -> ServiceKey<'m> {
    (
        s.service(model),
        s.source_role,
        s.destination_role,
        s.reference(),
    )
}

/// What the rows of one flow share.
struct FlowShared<'m> {
    firewalls: Vec<&'m str>,
    decided_by: Vec<String>,
    source_addresses: Vec<String>,
    destination_addresses: Vec<String>,
}

impl<'m> FlowShared<'m> {
    fn new(model: &'m Model, f: &RequiredFlow, v: &FlowVerdict) -> Self {
        let firewalls = v
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
        FlowShared {
            firewalls,
            decided_by,
            source_addresses: addresses(model, f.source),
            destination_addresses: addresses(model, f.destination),
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
    for g in 0..order.groups() {
        let rows = order.group(model, flows, g);
        shared.clear();
        for &(i, _) in &rows {
            if !shared.iter().any(|(j, _)| *j == i) {
                shared.push((i, FlowShared::new(model, &flows[i], &verdicts[i])));
            }
        }
        for (i, n) in rows {
            let (f, v) = (&flows[i], &verdicts[i]);
            let s = &f.services[n];
            let Some((_, fs)) = shared.iter().find(|(j, _)| *j == i) else {
                continue;
            };
            emit(&FlowRow {
                source: f.source.name(model),
                source_addresses: &fs.source_addresses,
                destination_addresses: &fs.destination_addresses,
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
                reference: s.reference(),
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

/// The flow list's JSON document, serialized row by row as the rows are made.
struct JsonDoc<'r, 'm> {
    model: &'m Model,
    flows: &'r [RequiredFlow],
    verdicts: &'r [FlowVerdict],
    order: &'r RowOrder,
}

impl Serialize for JsonDoc<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut doc = serializer.serialize_struct("Doc", 2)?;
        doc.serialize_field("version", &1u32)?;
        doc.serialize_field("flows", &JsonRows(self))?;
        doc.end()
    }
}

struct JsonRows<'d, 'r, 'm>(&'d JsonDoc<'r, 'm>);

impl Serialize for JsonRows<'_, '_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut seq = serializer.serialize_seq(None)?;
        for_each_row(d.model, d.flows, d.verdicts, d.order, |r| {
            seq.serialize_element(r)
        })?;
        seq.end()
    }
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
        FlowsFormat::Json => {
            let doc = JsonDoc {
                model,
                flows,
                verdicts,
                order: &order,
            };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
        FlowsFormat::Csv => {
            writeln!(out, "{}", HEADERS.join(","))?;
            each_row(&mut |r| {
                let line: Vec<String> = cells(r)
                    .iter()
                    .map(|c| crate::escape::csv::field(c))
                    .collect();
                writeln!(out, "{}", line.join(","))
            })
        }
        FlowsFormat::Markdown => {
            let columns = layout.columns.as_deref().unwrap_or(&Column::ALL);
            let names: Vec<&str> = columns.iter().map(|c| TABLE_COLUMNS[c.index()]).collect();
            writeln!(out, "| {} | REFERENCE |", names.join(" | "))?;
            writeln!(out, "|{}---|", "---|".repeat(names.len()))?;
            each_row(&mut |r| {
                let all = table_cells(r);
                let c: Vec<&String> = columns.iter().map(|c| &all[c.index()]).collect();
                // The reference is a link to its section; its text and address are
                // escaped like every other cell.
                let reference = match r.reference_url {
                    Some(url) => format!("[{}]({url})", r.reference),
                    None => r.reference.clone(),
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
            let pick = |r: &FlowRow<'_>| -> Vec<String> {
                let mut all = table_cells(r).map(Some);
                columns
                    .iter()
                    .map(|c| all[c.index()].take().unwrap_or_default())
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
        notes.push((r.reference.clone(), r.reference_url));
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

#[cfg(test)]
mod tests {
    use super::*;

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
