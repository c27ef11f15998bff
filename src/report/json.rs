//! `--format json`: one document, `{version, summary, diagnostics}` as `cli.md` shows;
//! each diagnostic's `fix` is its one-edit fix (`{file, range, replacement}`) or `null`.

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

/// Where a fix's edit goes: the shape of a diagnostic's own place, without the file.
#[derive(Serialize)]
struct Range {
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

/// A diagnostic's fix: replace the text of `range` in `file` with `replacement`.
#[derive(Serialize)]
struct JsonFix<'a> {
    file: &'a str,
    range: Range,
    replacement: &'a str,
}

impl<'a> JsonFix<'a> {
    fn of(sources: &'a crate::model::SourceMap, fix: &'a crate::diag::Fix) -> Self {
        let place = Place::of(sources, fix.span);
        JsonFix {
            file: place.file,
            range: Range {
                line: place.line,
                column: place.column,
                end_line: place.end_line,
                end_column: place.end_column,
            },
            replacement: &fix.replacement,
        }
    }
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
    /// `null` when the finding has no one-edit fix, as `help` is `null` without help.
    fix: Option<JsonFix<'a>>,
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
                fix: d.fix.as_ref().map(|f| JsonFix::of(sources, f)),
                url: report.url(d.code),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
