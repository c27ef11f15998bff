//! `--format human`: miette's graphical report. Labels in the primary file are drawn on
//! its snippet; labels in other files become related reports with their own snippet.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use std::borrow::Cow;

use super::HumanOptions;
use crate::diag::{Diagnostic, Severity, Summary};
use crate::escape::terminal;
use crate::model::{SourceId, SourceMap};

/// A view of one diagnostic (or of its labels in one other file) as a miette report.
struct Report {
    message: String,
    code: Option<&'static str>,
    severity: miette::Severity,
    help: Option<String>,
    url: Option<String>,
    source: NamedSource<Arc<str>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code.map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.url
            .as_ref()
            .map(|u| Box::new(u) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

/// A file as miette shows it: its name and text with every character that would drive
/// the terminal made harmless (same byte offsets, so spans still fit).
fn named_source(sources: &SourceMap, id: SourceId) -> NamedSource<Arc<str>> {
    let file = sources.get(id);
    let text = match terminal::source(&file.text) {
        Cow::Borrowed(_) => Arc::clone(&file.text),
        Cow::Owned(clean) => Arc::from(clean),
    };
    NamedSource::new(terminal::line(&file.name), text)
}

fn label_text(text: &str) -> Option<String> {
    Some(terminal::text(text).into_owned())
}

fn miette_span(span: crate::model::Span) -> SourceSpan {
    SourceSpan::new(span.start.into(), span.len())
}

fn to_report(sources: &SourceMap, d: &Diagnostic) -> Report {
    let home = d.primary.span.source;
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        label_text(&d.primary.text),
        miette_span(d.primary.span),
    )];
    let mut others: Vec<(SourceId, Vec<LabeledSpan>)> = Vec::new();
    for l in &d.labels {
        let ls = LabeledSpan::new_with_span(label_text(&l.text), miette_span(l.span));
        if l.span.source == home {
            labels.push(ls);
        } else if let Some((_, v)) = others.iter_mut().find(|(s, _)| *s == l.span.source) {
            v.push(ls);
        } else {
            others.push((l.span.source, vec![ls]));
        }
    }
    let related = others
        .into_iter()
        .map(|(id, labels)| Report {
            message: format!("related: {}", terminal::line(&sources.get(id).name)),
            code: None,
            severity: miette::Severity::Advice,
            help: None,
            url: None,
            source: named_source(sources, id),
            labels,
            related: Vec::new(),
        })
        .collect();
    Report {
        message: terminal::text(&d.message).into_owned(),
        code: Some(d.code),
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        },
        help: d.help.as_deref().map(|h| terminal::text(h).into_owned()),
        url: crate::rules::find(d.code).map(crate::diag::RuleInfo::url),
        source: named_source(sources, home),
        labels,
        related,
    }
}

fn handler(opts: HumanOptions) -> GraphicalReportHandler {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_links(false)
        .with_urls(false)
}

/// Every diagnostic as a graphical report, separated by blank lines.
pub fn write_diagnostics(
    out: &mut dyn Write,
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
    opts: HumanOptions,
) -> io::Result<()> {
    let handler = handler(opts);
    for d in diagnostics {
        let mut text = String::new();
        handler
            .render_report(&mut text, &to_report(sources, d))
            .map_err(io::Error::other)?;
        writeln!(out, "{}", text.trim_end())?;
        writeln!(out)?;
    }
    Ok(())
}

pub fn write(
    out: &mut dyn Write,
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
    summary: &Summary,
    opts: HumanOptions,
) -> io::Result<()> {
    write_diagnostics(out, sources, diagnostics, opts)?;
    writeln!(out, "{summary}")
}
