//! Answers to an editor's questions about a checked model, by byte offset into a source
//! file: hover text, definitions, references and completions. No protocol types here:
//! the server converts positions and results.

use crate::engine::{FlowVerdict, RequiredFlow};
use crate::model::{Model, SourceId, Span};

/// The checked model an answer reads.
pub struct Snapshot<'a> {
    pub model: &'a Model,
    /// Every phase's required flows, sorted as `engine::required_flows` returns them.
    pub flows: &'a [RequiredFlow],
    /// Parallel to `flows`.
    pub verdicts: &'a [FlowVerdict],
}

/// What a completion inserts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    /// One line shown beside the label (a property's value kind, a node's purpose).
    pub detail: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Node,
    Property,
    Value,
}

/// Markdown describing what is at `offset` in `source` (a role's required flows, a port's
/// documented services and section, an endpoint's members), if anything.
pub fn hover(snapshot: &Snapshot<'_>, source: SourceId, offset: usize) -> Option<String> {
    let _ = (snapshot, source, offset);
    None
}

/// Where the name at `offset` is declared (zone, site, server, client group, boundary
/// group, SQL instance).
pub fn definition(snapshot: &Snapshot<'_>, source: SourceId, offset: usize) -> Vec<Span> {
    let _ = (snapshot, source, offset);
    Vec::new()
}

/// Every reference to the name at `offset`, with its declaration when asked.
pub fn references(
    snapshot: &Snapshot<'_>,
    source: SourceId,
    offset: usize,
    include_declaration: bool,
) -> Vec<Span> {
    let _ = (snapshot, source, offset, include_declaration);
    Vec::new()
}

/// Node names, property names and enum values that fit at `offset` of `text`, from the
/// loader's vocabulary.
pub fn completion(text: &str, offset: usize) -> Vec<Completion> {
    let _ = (text, offset);
    Vec::new()
}
