//! The diagnostics pipeline every check reports through: [`Diagnostic`] (code, severity,
//! message, labels across files, help), [`RuleInfo`] (a code's default severity and its
//! documentation), and the [`Findings`] sink that applies `lint` severity overrides and
//! `suppress` nodes and sorts the result.
//!
//! It owns the shape of a finding, not how it is printed (`report`) nor what is checked
//! (`load`, `rules`).

use std::fmt;

pub mod fix;

use crate::model::{SourceMap, Span};

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule's identity and documentation: the single source for `cmflow explain`,
/// `cmflow rules`, SARIF's rule descriptions and `docs/rules.md`.
#[derive(Debug)]
pub struct RuleInfo {
    /// Stable code, e.g. `schema/unknown-node`.
    pub code: &'static str,
    pub default_severity: Severity,
    /// One line, no trailing period.
    pub summary: &'static str,
    /// Markdown with the sections `## What it does`, `## Why`, `## Example that fails`,
    /// `## Fixed example`.
    pub docs: &'static str,
}

impl RuleInfo {
    /// The documentation page of the rule.
    pub fn url(&self) -> String {
        format!("{DOCS_BASE_URL}#{}", self.anchor())
    }

    /// The rule's anchor in `docs/rules.md`: the code with `-` for `/`.
    pub fn anchor(&self) -> String {
        self.code.replace('/', "-")
    }
}

/// Where the rule documentation is published.
pub const DOCS_BASE_URL: &str = "https://github.com/cmflow/cmflow/blob/main/docs/rules.md";

/// A labelled place in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
    /// The Microsoft Learn section the label cites (a catalog flow's document reference).
    pub url: Option<&'static str>,
}

impl Label {
    pub fn new(span: Span, text: impl Into<String>) -> Self {
        Self {
            span,
            text: text.into(),
            url: None,
        }
    }

    /// The label cites the Microsoft Learn section at `url`.
    #[must_use]
    pub fn with_url(mut self, url: &'static str) -> Self {
        self.url = Some(url);
        self
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is; its text labels the snippet.
    pub primary: Label,
    /// Other places involved (the other duplicate, the rule that blocks, ...).
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// The edit that resolves the finding, when it is one edit (`--format json`'s `fix`,
    /// the language server's code action).
    pub fix: Option<Fix>,
}

/// A diagnostic's fix as an edit: replace the text at `span` with `replacement` (an empty
/// span inserts, an empty replacement deletes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub span: Span,
    pub replacement: String,
}

impl Diagnostic {
    pub fn new(rule: &RuleInfo, message: impl Into<String>, primary: Label) -> Self {
        Self {
            code: rule.code,
            severity: rule.default_severity,
            message: message.into(),
            primary,
            labels: Vec::new(),
            help: None,
            fix: None,
        }
    }

    #[must_use]
    pub fn with_label(mut self, label: Label) -> Self {
        self.labels.push(label);
        self
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The finding is resolved by replacing the text at `span` with `replacement`.
    #[must_use]
    pub fn with_fix(mut self, span: Span, replacement: impl Into<String>) -> Self {
        self.fix = Some(Fix {
            span,
            replacement: replacement.into(),
        });
        self
    }

    /// [`Diagnostic::with_fix`] when there is a fix (see [`fix::rename`]).
    #[must_use]
    pub fn with_optional_fix(mut self, fix: Option<Fix>) -> Self {
        if fix.is_some() {
            self.fix = fix;
        }
        self
    }

    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// The order of every output: file, line, column, code, then message.
    fn sort_key<'a>(&'a self, sources: &'a SourceMap) -> impl Ord + 'a {
        let file = &sources.get(self.primary.span.source).name;
        (
            // Syntax errors first: until they are fixed, the rest may follow from them.
            self.code != "kdl/syntax",
            file,
            self.primary.span.start,
            self.code,
            &self.message,
            self.primary.span.end,
        )
    }
}

/// A `lint { severity "CODE" "LEVEL" }` override, where `None` means `off`.
#[derive(Clone, Debug, PartialEq)]
pub struct SeverityOverride {
    pub code: String,
    pub severity: Option<Severity>,
}

/// A `suppress "CODE" reason="..."` child: silences `code` for diagnostics whose primary
/// span lies inside `scope` (the node that carries it).
#[derive(Clone, Debug, PartialEq)]
pub struct Suppression {
    pub code: String,
    pub scope: Span,
    /// The `suppress` node itself, for `lint/unused-suppression`.
    pub span: Span,
}

/// Collects findings from every stage.
#[derive(Debug, Default)]
pub struct Findings {
    diagnostics: Vec<Diagnostic>,
}

impl Findings {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.diagnostics.extend(diagnostics);
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter()
    }

    pub fn len(&self) -> usize {
        self.diagnostics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// Applies suppressions, reports the suppressions that silenced nothing through
    /// `unused` (`lint/unused-suppression`; with the fix that deletes the `suppress` node
    /// when it stands alone on its lines), applies severity overrides (the last one for a
    /// code wins; `off` drops) and returns the findings sorted for output.
    pub fn finish(
        self,
        sources: &SourceMap,
        overrides: &[SeverityOverride],
        suppressions: &[Suppression],
        unused: impl Fn(&Suppression) -> Diagnostic,
    ) -> Vec<Diagnostic> {
        self.finish_judged_over(&[], sources, overrides, suppressions, unused)
    }

    /// [`Findings::finish`], where a suppression also counts as used when it would
    /// silence one of `also` (the diagnostics of phases the run does not report).
    pub fn finish_judged_over(
        self,
        also: &[Diagnostic],
        sources: &SourceMap,
        overrides: &[SeverityOverride],
        suppressions: &[Suppression],
        unused: impl Fn(&Suppression) -> Diagnostic,
    ) -> Vec<Diagnostic> {
        let mut used: Vec<bool> = suppressions
            .iter()
            .map(|s| {
                also.iter().any(|d| {
                    let span = d.primary.span;
                    s.code == d.code
                        && s.scope.source == span.source
                        && s.scope.start <= span.start
                        && span.end <= s.scope.end
                })
            })
            .collect();
        let mut out: Vec<Diagnostic> = self
            .diagnostics
            .into_iter()
            .filter_map(|d| {
                let span = d.primary.span;
                let silenced = suppressions.iter().enumerate().filter(|(_, s)| {
                    s.code == d.code
                        && s.scope.source == span.source
                        && s.scope.start <= span.start
                        && span.end <= s.scope.end
                });
                let mut any = false;
                for (i, _) in silenced {
                    used[i] = true;
                    any = true;
                }
                (!any).then_some(d)
            })
            .collect();
        out.extend(
            suppressions
                .iter()
                .zip(used)
                .filter(|(_, u)| !u)
                .map(|(s, _)| {
                    // What resolves it is the suppression's own: deleting the node, when
                    // it stands alone on its lines.
                    let d = unused(s);
                    if d.fix.is_some() {
                        return d;
                    }
                    let fix = fix::delete_lines(&sources.get(s.span.source).text, s.span);
                    d.with_optional_fix(fix)
                }),
        );
        let mut out: Vec<Diagnostic> = out
            .into_iter()
            .filter_map(|mut d| {
                if let Some(o) = overrides.iter().rev().find(|o| o.code == d.code) {
                    d.severity = o.severity?;
                }
                Some(d)
            })
            .collect();
        out.sort_by(|a, b| a.sort_key(sources).cmp(&b.sort_key(sources)));
        out.dedup();
        out
    }
}

/// Counts of a finished run, for the summary line and JSON `summary`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub files: usize,
    pub flows: usize,
    /// With `--baseline`: what the baseline hid and which of its entries are gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineCounts>,
    /// Files that do not parse (their `kdl/syntax` diagnostics name them): the model is
    /// checked without them.
    #[serde(skip_serializing_if = "is_zero")]
    pub unchecked_files: usize,
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What a `--baseline` did to a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct BaselineCounts {
    /// Diagnostics found in the baseline, not reported.
    pub hidden: usize,
    /// Baseline entries that no diagnostic of the run matched (fixed, or their line
    /// changed): SARIF's `baselineState` name for them.
    pub absent: usize,
}

impl fmt::Display for BaselineCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "baseline: {} hidden, {} no longer occurring",
            self.hidden, self.absent
        )
    }
}

impl Summary {
    pub fn new(diagnostics: &[Diagnostic], files: usize, flows: usize) -> Self {
        let count = |s| diagnostics.iter().filter(|d| d.severity == s).count();
        Self {
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            infos: count(Severity::Info),
            files,
            flows,
            baseline: None,
            unchecked_files: 0,
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {}, {} in {} ({} checked)",
            count(self.errors, "error"),
            count(self.warnings, "warning"),
            count(self.infos, "info"),
            count(self.files, "file"),
            count(self.flows, "required flow"),
        )?;
        if let Some(b) = &self.baseline {
            write!(f, "; {b}")?;
        }
        if self.unchecked_files > 0 {
            write!(
                f,
                "; {} not checked (syntax errors)",
                count(self.unchecked_files, "file")
            )?;
        }
        Ok(())
    }
}

/// `1 error`, `0 errors`, `2 files`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The closest candidate to `name` by Jaro-Winkler similarity, if close enough to be a
/// plausible typo. Used for every "did you mean" help.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_close_names_only() {
        let names = ["management-point", "distribution-point", "site-server"];
        assert_eq!(
            did_you_mean("managment-point", names),
            Some("management-point")
        );
        assert_eq!(did_you_mean("sql-instance", names), None);
    }

    #[test]
    fn an_unused_suppression_alone_on_its_line_comes_with_its_deletion() {
        use crate::model::{SourceFile, SourceId};
        let text = "allow \"a\" {\n    suppress \"x/y\"\n}\nallow \"b\" { suppress \"x/y\"; }\n";
        let mut sources = SourceMap::default();
        let id: SourceId = sources.add(SourceFile::new("m.kdl".into(), text.into(), false));
        let at = |needle: &str| {
            let start = text.find(needle).expect("in text");
            Span::new(id, start, start + needle.len())
        };
        let suppression = |node: &str| Suppression {
            code: "x/y".into(),
            scope: at(node),
            span: at(node),
        };
        let rule = RuleInfo {
            code: "lint/unused-suppression",
            default_severity: Severity::Warning,
            summary: "",
            docs: "",
        };
        let found = Findings::default().finish(
            &sources,
            &[],
            &[
                suppression("suppress \"x/y\"\n"),
                suppression("suppress \"x/y\";"),
            ],
            |s| Diagnostic::new(&rule, "unused", Label::new(s.span, "here")),
        );
        let fixes: Vec<Option<(usize, usize, &str)>> = found
            .iter()
            .map(|d| {
                d.fix
                    .as_ref()
                    .map(|f| (f.span.start, f.span.end, f.replacement.as_str()))
            })
            .collect();
        // The first is deleted with its line; the second shares its line with `allow`.
        assert_eq!(fixes, [Some((12, 31, "")), None]);
    }

    #[test]
    fn summary_line_counts_by_severity() {
        let s = Summary {
            errors: 1,
            warnings: 2,
            infos: 0,
            files: 3,
            flows: 57,
            baseline: None,
            unchecked_files: 0,
        };
        assert_eq!(
            s.to_string(),
            "1 error, 2 warnings, 0 infos in 3 files (57 required flows checked)"
        );
        let with = Summary {
            baseline: Some(BaselineCounts {
                hidden: 3,
                absent: 1,
            }),
            ..s
        };
        assert!(
            with.to_string()
                .ends_with("checked); baseline: 3 hidden, 1 no longer occurring")
        );
    }
}
