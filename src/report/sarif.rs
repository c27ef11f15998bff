//! `--format sarif`: one SARIF 2.1.0 log for GitHub code scanning and other SARIF viewers.
//!
//! `tool.driver.rules` lists every rule of the registry (so a result's `ruleIndex` is its
//! rule's place in it), each result carries its primary location, its secondary labels as
//! `relatedLocations`, its fix (if any) as `fixes`, and a `primaryLocationLineHash`
//! computed from the text of the flagged lines, not their numbers, so that alerts survive
//! unrelated edits. The log holds no absolute path (URIs are the relative file names) and
//! no timestamp.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::{CheckReport, Place};
use crate::diag::{Diagnostic, RuleInfo, Severity};
use crate::model::{SourceMap, Span};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/cmflow/cmflow";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    /// Columns count characters, as in every cmflow format (SARIF's default is UTF-16).
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
    /// With `--baseline`: `{"baseline": {"hidden": N, "absent": N}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<RunProperties>,
}

#[derive(Serialize)]
struct RunProperties {
    baseline: crate::diag::BaselineCounts,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor<'a> {
    id: &'a str,
    short_description: Text<'a>,
    full_description: Markdown<'a>,
    /// GitHub shows `help` (not `fullDescription`) as the rule's help pane.
    help: Markdown<'a>,
    help_uri: String,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Markdown<'a> {
    text: &'a str,
    markdown: &'a str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: OwnedText,
    locations: [Location<'a>; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location<'a>>,
    partial_fingerprints: Fingerprints,
    /// The diagnostic's one-edit fix, when it has one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix<'a>>,
}

/// SARIF's `fix`: one change to one artifact, described by the diagnostic's help.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Text<'a>>,
    artifact_changes: [ArtifactChange<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange<'a> {
    artifact_location: ArtifactLocation,
    replacements: [Replacement<'a>; 1],
}

/// Deletes `deletedRegion` (an empty region is an insertion point) and writes
/// `insertedContent` there (absent for a deletion).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement<'a> {
    deleted_region: Region,
    #[serde(skip_serializing_if = "Option::is_none")]
    inserted_content: Option<Text<'a>>,
}

#[derive(Serialize)]
struct OwnedText {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
#[expect(
    clippy::struct_field_names,
    reason = "SARIF names the field `physicalLocation`"
)]
struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    message: Text<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    /// None for a document on the web (a Microsoft Learn section).
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Fingerprints {
    primary_location_line_hash: String,
}

/// SARIF's name of a severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn descriptor(rule: &RuleInfo) -> ReportingDescriptor<'_> {
    ReportingDescriptor {
        id: rule.code,
        short_description: Text { text: rule.summary },
        full_description: Markdown {
            text: rule.docs,
            markdown: rule.docs,
        },
        help: Markdown {
            text: rule.docs,
            markdown: rule.docs,
        },
        help_uri: rule.url(),
        default_configuration: Configuration {
            level: level(rule.default_severity),
        },
    }
}

fn location<'a>(sources: &SourceMap, span: Span, id: Option<usize>, text: &'a str) -> Location<'a> {
    let place = Place::of(sources, span);
    Location {
        id,
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: uri(place.file),
            },
            region: Some(region(&place)),
        },
        message: Text { text },
    }
}

fn region(place: &Place<'_>) -> Region {
    Region {
        start_line: place.line,
        start_column: place.column,
        end_line: place.end_line,
        end_column: place.end_column,
    }
}

/// The SARIF `fixes` of a diagnostic: its fix, if any, as one replacement.
fn fixes<'a>(sources: &SourceMap, d: &'a Diagnostic) -> Vec<SarifFix<'a>> {
    let Some(fix) = &d.fix else {
        return Vec::new();
    };
    let place = Place::of(sources, fix.span);
    vec![SarifFix {
        description: d.help.as_deref().map(|text| Text { text }),
        artifact_changes: [ArtifactChange {
            artifact_location: ArtifactLocation {
                uri: uri(place.file),
            },
            replacements: [Replacement {
                deleted_region: region(&place),
                inserted_content: (!fix.replacement.is_empty()).then_some(Text {
                    text: &fix.replacement,
                }),
            }],
        }],
    }]
}

/// The related locations of a diagnostic: each secondary label in order, then, for every
/// label that cites a section of a Microsoft document (a catalog flow's reference), that
/// section on Microsoft Learn as an absolute `uri` with no region, labelled alike.
fn related_locations<'a>(sources: &SourceMap, d: &'a Diagnostic) -> Vec<Location<'a>> {
    let mut out: Vec<Location<'a>> = d
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| location(sources, l.span, Some(i + 1), &l.text))
        .collect();
    for l in std::iter::once(&d.primary).chain(&d.labels) {
        let Some(url) = l.url else { continue };
        out.push(Location {
            id: Some(out.len() + 1),
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: url.to_owned(),
                },
                region: None,
            },
            message: Text { text: &l.text },
        });
    }
    out
}

/// The message shown for a result: the diagnostic's message, then its help.
fn message(d: &Diagnostic) -> String {
    match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    }
}

pub fn write(out: &mut dyn Write, report: &CheckReport<'_>) -> io::Result<()> {
    let sources = report.sources;
    // Placed as annotations are ([`super::anchored`]); the fingerprints hash the
    // anchored lines, as baselines do.
    let anchored: Vec<_> = report.diagnostics.iter().map(super::anchored).collect();
    let results = anchored
        .iter()
        .map(|d| &**d)
        .zip(fingerprints(sources, report.diagnostics))
        .map(|(d, fingerprint)| SarifResult {
            rule_id: d.code,
            rule_index: report.rules.iter().position(|r| r.code == d.code),
            level: level(d.severity),
            message: OwnedText { text: message(d) },
            locations: [location(sources, d.primary.span, None, &d.primary.text)],
            related_locations: related_locations(sources, d),
            partial_fingerprints: Fingerprints {
                primary_location_line_hash: fingerprint,
            },
            fixes: fixes(sources, d),
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "cmflow",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFORMATION_URI,
                    rules: report.rules.iter().map(|r| descriptor(r)).collect(),
                },
            },
            column_kind: "unicodeCodePoints",
            results,
            properties: report
                .summary
                .baseline
                .map(|baseline| RunProperties { baseline }),
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// The `primaryLocationLineHash` of each diagnostic, in order: the [`line_hash`] of its
/// code, file and flagged lines, then `:N` for the Nth diagnostic of the list with that
/// hash. Baselines record the same strings, so the list must be the whole run's.
pub(crate) fn fingerprints(sources: &SourceMap, diagnostics: &[Diagnostic]) -> Vec<String> {
    let mut occurrences: HashMap<u64, usize> = HashMap::new();
    diagnostics
        .iter()
        .map(|d| {
            let hash = line_hash(sources, d);
            let occurrence = occurrences.entry(hash).or_insert(0);
            *occurrence += 1;
            format!("{hash:016x}:{occurrence}")
        })
        .collect()
}

/// The hash of what identifies a finding regardless of where its lines moved: its code,
/// its file and the trimmed text of the lines its primary span covers (as GitHub's
/// `primaryLocationLineHash`, which adds an occurrence counter for equal hashes).
fn line_hash(sources: &SourceMap, d: &Diagnostic) -> u64 {
    let d = &*super::anchored(d);
    let file = sources.get(d.primary.span.source);
    let place = Place::of(sources, d.primary.span);
    // A span ending at the start of a line does not cover that line.
    let last = if place.end_line > place.line && place.end_column == 1 {
        place.end_line - 1
    } else {
        place.end_line
    };
    let mut hash = Fnv1a::new();
    hash.write(d.code.as_bytes());
    hash.write(&[0]);
    hash.write(file.name.as_bytes());
    for line in place.line..=last {
        hash.write(&[0]);
        hash.write(file.line_text(line).trim().as_bytes());
    }
    hash.finish()
}

/// 64-bit FNV-1a: small, stable across platforms and Rust versions (unlike `std`'s
/// hasher), which fingerprints need.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A relative file name as a URI reference: `/` kept, every byte outside RFC 3986's
/// unreserved and path characters percent-encoded (spaces, `%`, `#`, `?`, non-ASCII).
fn uri(file: &str) -> String {
    let mut out = String::with_capacity(file.len());
    for b in file.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Label;
    use crate::model::{SourceFile, SourceId};

    #[test]
    fn uris_encode_spaces_percent_and_non_ascii() {
        assert_eq!(uri("models/a b.kdl"), "models/a%20b.kdl");
        assert_eq!(uri("100%/Île.kdl"), "100%25/%C3%8Ele.kdl");
        assert_eq!(uri("sites.kdl"), "sites.kdl");
    }

    fn diagnostic_on(text: &str, needle: &str) -> (SourceMap, Diagnostic) {
        let mut sources = SourceMap::default();
        let id: SourceId = sources.add(SourceFile::new("m.kdl".into(), text.into(), false));
        let start = text.find(needle).expect("needle");
        let span = Span::new(id, start, start + needle.len());
        let d = Diagnostic::new(
            &crate::load::codes::UNKNOWN_NODE,
            "message",
            Label::new(span, "here"),
        );
        (sources, d)
    }

    #[test]
    fn line_hash_ignores_line_numbers_and_indentation_but_not_text() {
        let (a_sources, a) = diagnostic_on("zone \"a\"\nbad-node\n", "bad-node");
        let (b_sources, b) = diagnostic_on("zone \"a\"\n\n// moved\n    bad-node\n", "bad-node");
        let (c_sources, c) = diagnostic_on("zone \"a\"\nbad-node 1\n", "bad-node");
        let hash = |s: &SourceMap, d: &Diagnostic| line_hash(s, d);
        assert_eq!(hash(&a_sources, &a), hash(&b_sources, &b));
        assert_ne!(hash(&a_sources, &a), hash(&c_sources, &c));
    }
}
