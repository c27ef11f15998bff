//! Output: one renderer per format. Renderers take finished, sorted diagnostics (or
//! flows) and write text; they decide nothing about what is wrong. What they need of
//! the rules (codes, summaries, documentation) comes from the registry the caller passes
//! in ([`CheckReport::rules`]); they never call the checks.

mod azure;
pub mod baseline;
pub mod diff;
pub mod flows;
mod github;
mod human;
mod json;
mod junit;
mod sarif;
mod short;
mod statistics;

use std::io::{self, Write};

use crate::diag::{Diagnostic, RuleInfo, Summary};
use crate::model::{SourceMap, Span};

/// `cmflow check --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// miette's graphical report, with source snippets and labels.
    Human,
    /// `FILE:LINE:COL: SEVERITY[CODE] MESSAGE`, one line per diagnostic.
    Short,
    /// One JSON document.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// Azure DevOps logging commands (`task.logissue`).
    Azure,
    /// JUnit XML: one test case per rule and file.
    Junit,
}

impl CheckFormat {
    /// Whether `--statistics` can replace the diagnostics in this format: the table for
    /// people and line readers, a JSON list for `json`. The CI formats have a fixed shape.
    pub fn has_statistics(self) -> bool {
        matches!(
            self,
            CheckFormat::Human | CheckFormat::Short | CheckFormat::Json
        )
    }
}

/// What a `check` report shows: the finished diagnostics, their files, the run's counts,
/// and the rule registry (for SARIF's rule descriptions, JUnit's test cases and
/// statistics' summaries).
#[derive(Clone, Copy)]
pub struct CheckReport<'a> {
    pub sources: &'a SourceMap,
    pub diagnostics: &'a [Diagnostic],
    pub summary: &'a Summary,
    pub rules: &'a [&'a RuleInfo],
}

impl CheckReport<'_> {
    /// The registry entry of `code`.
    fn rule(&self, code: &str) -> Option<&RuleInfo> {
        self.rules.iter().copied().find(|r| r.code == code)
    }

    /// The documentation URL of `code` (the rules page itself for unknown codes).
    fn url(&self, code: &str) -> String {
        self.rule(code)
            .map_or_else(|| crate::diag::DOCS_BASE_URL.to_owned(), RuleInfo::url)
    }
}

/// A span as the line-based formats show it: file name, 1-based start and end (end
/// exclusive), columns counting characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Place<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

impl<'a> Place<'a> {
    fn of(sources: &'a SourceMap, span: Span) -> Self {
        let ((line, column), (end_line, end_column)) = sources.range(span);
        Place {
            file: &sources.get(span.source).name,
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// The text the CI formats show for a diagnostic: `FILE:LINE:COL: ` (their logs show the
/// message, not the place it is attached to), `prefix`, the message, and the help on a
/// line of its own.
fn placed_message(place: &Place<'_>, prefix: &str, d: &Diagnostic) -> String {
    let mut text = format!(
        "{}:{}:{}: {prefix}{}",
        place.file, place.line, place.column, d.message
    );
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    text
}

/// Options of the human renderer.
#[derive(Clone, Copy, Debug)]
pub struct HumanOptions {
    pub color: bool,
    /// Terminal width to wrap at.
    pub width: usize,
}

/// How the annotation formats (`github`, `sarif`) place a diagnostic. A
/// `firewall/blocked-flow` is anchored on the role that requires the flow (its second
/// label) when that is in another file than the firewall: a pull request that adds a
/// role changes that file, not the firewall's, and annotations outside the diff are
/// hidden, or stacked ten on one `default` line. The firewall's rule or default
/// becomes the first related location.
pub(crate) fn anchored(d: &Diagnostic) -> std::borrow::Cow<'_, Diagnostic> {
    use std::borrow::Cow;
    match d.labels.first() {
        Some(need)
            if d.code == "firewall/blocked-flow" && need.span.source != d.primary.span.source =>
        {
            let mut moved = d.clone();
            std::mem::swap(&mut moved.primary, &mut moved.labels[0]);
            Cow::Owned(moved)
        }
        _ => Cow::Borrowed(d),
    }
}

/// Writes the diagnostics of a `check` run in `format`.
pub fn write_check(
    out: &mut dyn Write,
    format: CheckFormat,
    report: &CheckReport<'_>,
    human: HumanOptions,
) -> io::Result<()> {
    let CheckReport {
        sources,
        diagnostics,
        summary,
        ..
    } = *report;
    match format {
        CheckFormat::Human => human::write(out, sources, diagnostics, summary, human),
        CheckFormat::Short => short::write(out, sources, diagnostics),
        CheckFormat::Json => json::write(out, report),
        CheckFormat::Sarif => sarif::write(out, report),
        CheckFormat::Github => github::write(out, report),
        CheckFormat::Azure => azure::write(out, report),
        CheckFormat::Junit => junit::write(out, report),
    }
}

/// Writes a count per rule instead of the diagnostics (`--statistics`): a table, or a
/// JSON list when `format` is `json`.
pub fn write_statistics(
    out: &mut dyn Write,
    format: CheckFormat,
    report: &CheckReport<'_>,
) -> io::Result<()> {
    statistics::write(out, format == CheckFormat::Json, report)
}

/// Writes diagnostics for people on stderr-like outputs (used by `flows` and friends).
pub fn write_human(
    out: &mut dyn Write,
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
    human: HumanOptions,
) -> io::Result<()> {
    human::write_diagnostics(out, sources, diagnostics, human)
}

/// Writes diagnostics on stderr for commands whose stdout holds something else (`flows`,
/// `fmt`): miette's report when stderr is a terminal (colored unless `NO_COLOR`), one
/// line each otherwise.
pub fn write_to_stderr(
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
    width: usize,
) -> io::Result<()> {
    use std::io::IsTerminal;
    let stderr = io::stderr();
    let mut err = stderr.lock();
    if stderr.is_terminal() {
        let opts = HumanOptions {
            color: std::env::var_os("NO_COLOR").is_none(),
            width,
        };
        write_human(&mut err, sources, diagnostics, opts)
    } else {
        write_short(&mut err, sources, diagnostics)
    }
}

/// Writes diagnostics one per line (used by `flows` and friends when not on a terminal).
pub fn write_short(
    out: &mut dyn Write,
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
) -> io::Result<()> {
    short::write(out, sources, diagnostics)
}
