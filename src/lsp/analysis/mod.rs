//! Answers to an editor's questions about a checked model, by byte offset into a source
//! file: hover text, definitions, references and completions. No protocol types here:
//! the server converts positions and results.
//!
//! The four free functions are the entry points; each builds what it needs from the
//! snapshot. A server that answers many questions about one model keeps a
//! [`Symbols`] (and a [`FlowIndex`]) and calls [`hover_with`], [`definition_with`] and
//! [`references_with`] instead.

mod complete;
mod hover;
mod symbols;

pub use hover::{FlowIndex, MAX_FLOW_ROWS, MAX_MEMBERS, MAX_SERVICES, hover_with};
pub use symbols::{Symbol, Symbols, Target};

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
    /// What to insert when it differs from the label: `zone=` for a property, a quoted
    /// `"primary"` after `type=`.
    pub insert_text: Option<String>,
    /// The byte offset where the text the completion replaces starts (what is typed of
    /// the word, or of the list item); it ends at the cursor.
    pub replace_from: usize,
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
    let symbols = Symbols::new(snapshot.model);
    let flows = FlowIndex::new(snapshot.model, snapshot.flows);
    hover_with(snapshot, &symbols, &flows, source, offset)
}

/// Where the name at `offset` is declared (zone, site, server, client group, boundary
/// group, SQL instance).
pub fn definition(snapshot: &Snapshot<'_>, source: SourceId, offset: usize) -> Vec<Span> {
    definition_with(&Symbols::new(snapshot.model), source, offset)
}

/// [`definition`] with an index the caller keeps.
pub fn definition_with(symbols: &Symbols, source: SourceId, offset: usize) -> Vec<Span> {
    symbols
        .symbol_at(source, offset)
        .map(|symbol| symbols.declarations(symbol))
        .unwrap_or_default()
}

/// Every reference to the name at `offset`, with its declaration when asked.
pub fn references(
    snapshot: &Snapshot<'_>,
    source: SourceId,
    offset: usize,
    include_declaration: bool,
) -> Vec<Span> {
    references_with(
        &Symbols::new(snapshot.model),
        source,
        offset,
        include_declaration,
    )
}

/// [`references`] with an index the caller keeps. Declarations come first, then the
/// references by file and offset.
pub fn references_with(
    symbols: &Symbols,
    source: SourceId,
    offset: usize,
    include_declaration: bool,
) -> Vec<Span> {
    let Some(symbol) = symbols.symbol_at(source, offset) else {
        return Vec::new();
    };
    let mut spans = if include_declaration {
        symbols.declarations(symbol)
    } else {
        Vec::new()
    };
    spans.extend(symbols.references(symbol));
    spans
}

/// Node names, property names and enum values that fit at `offset` of `text`, from the
/// loader's vocabulary.
pub fn completion(text: &str, offset: usize) -> Vec<Completion> {
    complete::complete(text, offset)
}

#[cfg(test)]
mod tests;
