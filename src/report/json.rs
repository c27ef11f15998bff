//! `--format json`: one document, `{version, summary, diagnostics}` as `cli.md` shows.

use std::io::{self, Write};

use serde::Serialize;

use super::{CheckReport, Place};
use crate::diag::Summary;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    summary: &'a Summary,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize)]
struct Position<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

impl<'a> From<Place<'a>> for Position<'a> {
    fn from(p: Place<'a>) -> Self {
        Position {
            file: p.file,
            line: p.line,
            column: p.column,
            end_line: p.end_line,
            end_column: p.end_column,
        }
    }
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    #[serde(flatten)]
    position: Position<'a>,
    text: &'a str,
    /// The Microsoft Learn section a label cites (catalog flows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: &'a str,
    message: &'a str,
    #[serde(flatten)]
    position: Position<'a>,
    labels: Vec<JsonLabel<'a>>,
    help: Option<&'a str>,
    url: String,
}

pub fn write(out: &mut dyn Write, report: &CheckReport<'_>) -> io::Result<()> {
    let sources = report.sources;
    let doc = Document {
        version: 1,
        summary: report.summary,
        diagnostics: report
            .diagnostics
            .iter()
            .map(|d| JsonDiagnostic {
                code: d.code,
                severity: d.severity.as_str(),
                message: &d.message,
                position: Place::of(sources, d.primary.span).into(),
                labels: std::iter::once(&d.primary)
                    .chain(&d.labels)
                    .map(|l| JsonLabel {
                        position: Place::of(sources, l.span).into(),
                        text: &l.text,
                        url: l.url,
                    })
                    .collect(),
                help: d.help.as_deref(),
                url: report.url(d.code),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
