//! Baselines (`check --write-baseline FILE` / `check --baseline FILE`): the diagnostics a
//! team accepted when it adopted cmflow, recorded so that later runs report only new ones.
//!
//! A diagnostic is identified by its SARIF `primaryLocationLineHash` (rule, file, trimmed
//! text of the flagged lines, occurrence counter), so a recorded diagnostic stays hidden
//! when unrelated lines move and comes back when its own line changes. This module owns
//! the file format, the matching and how the counts are added to a rendered report; it
//! computes no fingerprint of its own (SARIF's is the one) and decides nothing about what
//! is wrong.
//!
//! The file is JSON: `{"version": 1, "diagnostics": [{file, code, fingerprint, message}]}`,
//! entries sorted, pretty-printed, ending with a newline, so that it is byte-for-byte the
//! same for the same findings and reviews well in a diff. Only `fingerprint` is matched;
//! the other fields are for the people reading the file.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::diag::Diagnostic;
use crate::escape::terminal;
use crate::model::SourceMap;

/// The version of the file format this cmflow writes and reads.
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: u32,
    diagnostics: Vec<Entry>,
}

/// One recorded diagnostic. Fields are in sorting order: file, code, fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub file: String,
    pub code: String,
    /// SARIF's `primaryLocationLineHash`: the only field that is matched.
    pub fingerprint: String,
    pub message: String,
}

/// A baseline file that cannot be used (exit code 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BaselineError {
    #[error("baseline {path} is not a cmflow baseline: {reason}")]
    #[diagnostic(
        code(cmflow::baseline),
        help("write it again with `cmflow check --write-baseline FILE`")
    )]
    Malformed { path: String, reason: String },
    #[error("baseline {path} has version {found}; this cmflow reads version {VERSION}")]
    #[diagnostic(
        code(cmflow::baseline),
        help("write it again with `cmflow check --write-baseline FILE`")
    )]
    Version { path: String, found: String },
}

/// The entries that record `diagnostics`, sorted. `diagnostics` must be the whole run's,
/// in reported order (the occurrence counters depend on it).
pub fn entries(sources: &SourceMap, diagnostics: &[Diagnostic]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = diagnostics
        .iter()
        .zip(super::sarif::fingerprints(sources, diagnostics))
        .map(|(d, fingerprint)| Entry {
            file: sources.get(d.primary.span.source).name.clone(),
            code: d.code.to_owned(),
            fingerprint,
            message: d.message.clone(),
        })
        .collect();
    entries.sort();
    entries
}

/// The text of a baseline file holding `entries`.
pub fn to_text(mut entries: Vec<Entry>) -> String {
    entries.sort();
    let file = BaselineFile {
        version: VERSION,
        diagnostics: entries,
    };
    let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
    text.push('\n');
    text
}

/// The fingerprints of a baseline file.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    fingerprints: BTreeSet<String>,
}

/// What applying a baseline did to a run's diagnostics (shown by the summary).
pub use crate::diag::BaselineCounts as Applied;

impl Baseline {
    /// Reads a baseline file's bytes; `path` names it in errors.
    pub fn parse(bytes: &[u8], path: &str) -> Result<Self, BaselineError> {
        let path = terminal::line(path).into_owned();
        let malformed = |reason: String| BaselineError::Malformed {
            path: path.clone(),
            reason: terminal::line(&reason).into_owned(),
        };
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        match value.get("version") {
            None => return Err(malformed("no `version` field".into())),
            Some(v) if v.as_u64() != Some(u64::from(VERSION)) => {
                return Err(BaselineError::Version {
                    path,
                    found: terminal::line(&v.to_string()).into_owned(),
                });
            }
            Some(_) => {}
        }
        let file: BaselineFile =
            serde_json::from_value(value).map_err(|e| malformed(e.to_string()))?;
        Ok(Self {
            fingerprints: file
                .diagnostics
                .into_iter()
                .map(|e| e.fingerprint)
                .collect(),
        })
    }

    /// How many distinct diagnostics the baseline records.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// Whether the baseline records nothing.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// The diagnostics of a run that the baseline does not record, in order, and the
    /// counts. `diagnostics` must be the whole run's, in reported order.
    pub fn apply(
        &self,
        sources: &SourceMap,
        diagnostics: Vec<Diagnostic>,
    ) -> (Vec<Diagnostic>, Applied) {
        let fingerprints = super::sarif::fingerprints(sources, &diagnostics);
        let found: BTreeSet<&str> = fingerprints.iter().map(String::as_str).collect();
        let absent = self
            .fingerprints
            .iter()
            .filter(|f| !found.contains(f.as_str()))
            .count();
        let total = diagnostics.len();
        let kept: Vec<Diagnostic> = diagnostics
            .into_iter()
            .zip(&fingerprints)
            .filter(|(_, f)| !self.fingerprints.contains(*f))
            .map(|(d, _)| d)
            .collect();
        let hidden = total - kept.len();
        (kept, Applied { hidden, absent })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_and_foreign_files_are_errors() {
        let err = |text: &str| Baseline::parse(text.as_bytes(), "b.json").unwrap_err();
        assert!(matches!(err("{"), BaselineError::Malformed { .. }));
        assert!(matches!(
            err(r#"{"diagnostics": []}"#),
            BaselineError::Malformed { .. }
        ));
        assert!(matches!(
            err(r#"{"version": 2, "diagnostics": []}"#),
            BaselineError::Version { .. }
        ));
        assert!(matches!(
            err(r#"{"version": 1, "diagnostics": [{"fingerprint": "x"}]}"#),
            BaselineError::Malformed { .. }
        ));
        let ok = Baseline::parse(br#"{"version": 1, "diagnostics": []}"#, "b.json").unwrap();
        assert!(ok.is_empty());
    }

    #[test]
    fn files_are_sorted_and_read_back() {
        let entry = |file: &str, fingerprint: &str| Entry {
            file: file.into(),
            code: "kdl/syntax".into(),
            fingerprint: fingerprint.into(),
            message: "m".into(),
        };
        let text = to_text(vec![entry("b.kdl", "2:1"), entry("a.kdl", "1:1")]);
        assert!(text.find("a.kdl").unwrap() < text.find("b.kdl").unwrap());
        assert!(text.starts_with("{\n  \"version\": 1,"));
        assert!(text.ends_with("}\n"));
        assert_eq!(Baseline::parse(text.as_bytes(), "b.json").unwrap().len(), 2);
    }
}
