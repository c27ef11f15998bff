//! `--format json`: one document, `{version, summary, diagnostics}` as `cli.md` shows.

use std::io::{self, Write};

use serde::Serialize;

use crate::diag::{Diagnostic, Summary};
use crate::model::{SourceMap, Span};

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

#[derive(Serialize)]
struct JsonLabel<'a> {
    #[serde(flatten)]
    position: Position<'a>,
    text: &'a str,
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

fn position(sources: &SourceMap, span: Span) -> Position<'_> {
    let ((line, column), (end_line, end_column)) = sources.range(span);
    Position {
        file: &sources.get(span.source).name,
        line,
        column,
        end_line,
        end_column,
    }
}

pub fn write(
    out: &mut dyn Write,
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
    summary: &Summary,
) -> io::Result<()> {
    let doc = Document {
        version: 1,
        summary,
        diagnostics: diagnostics
            .iter()
            .map(|d| JsonDiagnostic {
                code: d.code,
                severity: d.severity.as_str(),
                message: &d.message,
                position: position(sources, d.primary.span),
                labels: std::iter::once(&d.primary)
                    .chain(&d.labels)
                    .map(|l| JsonLabel {
                        position: position(sources, l.span),
                        text: &l.text,
                    })
                    .collect(),
                help: d.help.as_deref(),
                url: crate::rules::find(d.code).map_or_else(
                    || crate::diag::DOCS_BASE_URL.to_owned(),
                    crate::diag::RuleInfo::url,
                ),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
