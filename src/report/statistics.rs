//! `check --statistics`: how many diagnostics each rule reported, instead of the
//! diagnostics. One row per code and severity, sorted by count (most first), then code:
//! aligned `COUNT  CODE  SEVERITY  SUMMARY` lines, or a JSON list.

use std::io::{self, Write};

use serde::Serialize;

use super::CheckReport;
use crate::diag::Severity;

#[derive(Serialize)]
struct Row<'a> {
    count: usize,
    code: &'a str,
    severity: Severity,
    summary: &'a str,
}

fn rows<'a>(report: &CheckReport<'a>) -> Vec<Row<'a>> {
    let mut rows: Vec<Row<'a>> = Vec::new();
    for d in report.diagnostics {
        match rows
            .iter_mut()
            .find(|r| r.code == d.code && r.severity == d.severity)
        {
            Some(row) => row.count += 1,
            None => rows.push(Row {
                count: 1,
                code: d.code,
                severity: d.severity,
                summary: report.rule(d.code).map_or("", |r| r.summary),
            }),
        }
    }
    rows.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.code.cmp(b.code))
            .then(b.severity.cmp(&a.severity))
    });
    rows
}

pub fn write(out: &mut dyn Write, json: bool, report: &CheckReport<'_>) -> io::Result<()> {
    let rows = rows(report);
    if json {
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        return writeln!(out);
    }
    let count_width = rows.iter().map(|r| r.count.to_string().len()).max();
    let code_width = rows.iter().map(|r| r.code.len()).max().unwrap_or(0);
    for r in &rows {
        writeln!(
            out,
            "{:>count_width$}  {:<code_width$}  {:<7}  {}",
            r.count,
            r.code,
            r.severity.as_str(),
            r.summary,
            count_width = count_width.unwrap_or(1),
        )?;
    }
    Ok(())
}
