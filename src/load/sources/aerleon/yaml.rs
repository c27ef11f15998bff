//! YAML with positions: a small tree built from `yaml-rust2`'s marked events, where every
//! scalar and collection keeps its byte span, so that a term, a word of a value or a
//! definition can be pointed at. Aerleon loads YAML in `PyYAML`'s safe mode, where every
//! value Aerleon reads is a string, a list or a mapping; anchors and aliases are resolved
//! here as YAML does.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::load::sources::SourceError;
use crate::model::{SourceId, Span};

/// A scalar: its text (YAML's value, quotes and escapes resolved) and where it is written.
#[derive(Clone, Debug)]
pub struct Scalar {
    pub value: String,
    pub span: Span,
    /// Byte offset of the value's first character in the file when the written text is
    /// the value itself (plain or simply quoted, on one line): words can then be pointed
    /// at one by one.
    pub exact_at: Option<usize>,
}

#[derive(Clone, Debug)]
pub enum Node {
    Scalar(Scalar),
    Seq(Vec<Node>, Span),
    Map(Vec<(Node, Node)>, Span),
}

impl Node {
    pub fn span(&self) -> Span {
        match self {
            Node::Scalar(s) => s.span,
            Node::Seq(_, span) | Node::Map(_, span) => *span,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A mapping's value for a key (compared exactly, as Aerleon does).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find(|(k, _)| k.as_scalar().is_some_and(|s| s.value == key))
            .map(|(_, v)| v)
    }

    pub fn entries(&self) -> Option<&[(Node, Node)]> {
        match self {
            Node::Map(entries, _) => Some(entries),
            _ => None,
        }
    }

    /// What the node is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Scalar(_) => "a scalar",
            Node::Seq(..) => "a list",
            Node::Map(..) => "a mapping",
        }
    }
}

/// Parses a YAML document; `None` for an empty file.
pub fn parse(id: SourceId, text: &str) -> Result<Option<Node>, SourceError> {
    let mut builder = Builder {
        id,
        text,
        chars: (!text.is_ascii()).then(|| text.char_indices().map(|(i, _)| i).collect()),
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, false) {
        let at = builder.byte(e.marker().index());
        let end = text[at..].find('\n').map_or(text.len(), |n| at + n).max(at);
        return Err(SourceError::at(
            Span::new(id, at, end),
            format!("this YAML cannot be read: {}", e.info()),
        ));
    }
    Ok(builder.root)
}

/// A collection being built: its items (or alternating keys and values) and start.
struct Open {
    map: bool,
    items: Vec<Node>,
    start: usize,
    anchor: usize,
}

struct Builder<'t> {
    id: SourceId,
    text: &'t str,
    /// Byte offset of each character, when the text is not ASCII (markers count chars).
    chars: Option<Vec<usize>>,
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
}

impl Builder<'_> {
    fn byte(&self, char_index: usize) -> usize {
        match &self.chars {
            None => char_index.min(self.text.len()),
            Some(table) => table.get(char_index).copied().unwrap_or(self.text.len()),
        }
    }

    fn push(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some(open) => open.items.push(node),
            None => self.root = Some(node),
        }
    }

    fn scalar(&self, value: String, style: TScalarStyle, at: usize) -> Scalar {
        let rest = &self.text[at..];
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        let quoted = matches!(
            style,
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted
        );
        let (exact_at, end) = if !quoted && line.starts_with(value.as_str()) {
            (Some(at), at + value.len())
        } else if quoted && line.get(1..).is_some_and(|l| l.starts_with(value.as_str())) {
            let close = line.get(1 + value.len()..1 + value.len() + 1);
            let exact = matches!(close, Some("\"" | "'"));
            (exact.then_some(at + 1), at + value.len() + 2)
        } else {
            // A block or multi-line scalar: its first line.
            (None, at + line.trim_end().len())
        };
        Scalar {
            value,
            span: Span::new(self.id, at, end.min(self.text.len())),
            exact_at,
        }
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let at = self.byte(mark.index());
        match ev {
            Event::Scalar(value, style, anchor, _) => {
                let s = self.scalar(value, style, at);
                self.push(Node::Scalar(s), anchor);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                let map = matches!(ev, Event::MappingStart(..));
                self.stack.push(Open {
                    map,
                    items: Vec::new(),
                    start: at,
                    anchor,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = self.stack.pop() else {
                    return;
                };
                // A collection ends where its last item does (the end event's mark is
                // already at the next token).
                let end = open
                    .items
                    .iter()
                    .map(|n| n.span().end)
                    .max()
                    .unwrap_or(at)
                    .max(open.start);
                // Block collections' start events are marked after their first key:
                // the collection starts where its first item does.
                // (Only on the same line: an alias's node keeps its anchor's span.)
                let start = open
                    .items
                    .first()
                    .map(|n| n.span().start)
                    .filter(|&s| s <= open.start && !self.text[s..open.start].contains('\n'))
                    .unwrap_or(open.start);
                let span = Span::new(self.id, start, end);
                let node = if open.map {
                    let mut entries = Vec::with_capacity(open.items.len() / 2);
                    let mut items = open.items.into_iter();
                    while let (Some(k), Some(v)) = (items.next(), items.next()) {
                        entries.push((k, v));
                    }
                    Node::Map(entries, span)
                } else {
                    Node::Seq(open.items, span)
                };
                self.push(node, open.anchor);
            }
            Event::Alias(id) => {
                if let Some(node) = self.anchors.get(&id).cloned() {
                    self.push(node, 0);
                }
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(text: &str, span: Span) -> &str {
        &text[span.start..span.end]
    }

    #[test]
    fn spans_of_scalars_and_collections() {
        let text = "a:\n  - name: t1\n    v: \"x y\"\n  - name: é\n    w: 'q'\n";
        let root = parse(SourceId(0), text).unwrap().unwrap();
        let items = match root.get("a").unwrap() {
            Node::Seq(items, _) => items,
            other => panic!("{other:?}"),
        };
        assert_eq!(text_of(text, items[0].span()), "name: t1\n    v: \"x y\"");
        let v = items[0].get("v").unwrap().as_scalar().unwrap();
        assert_eq!(v.value, "x y");
        assert_eq!(text_of(text, v.span), "\"x y\"");
        assert_eq!(v.exact_at, Some(v.span.start + 1));
        // Markers count characters: offsets after a non-ASCII character stay right.
        let w = items[1].get("w").unwrap().as_scalar().unwrap();
        assert_eq!(text_of(text, w.span), "'q'");
        let name = items[1].get("name").unwrap().as_scalar().unwrap();
        assert_eq!(text_of(text, name.span), "é");
    }

    #[test]
    fn aliases_and_errors() {
        let text = "x: &a [1, 2]\ny: *a\n";
        let root = parse(SourceId(0), text).unwrap().unwrap();
        assert!(matches!(root.get("y"), Some(Node::Seq(items, _)) if items.len() == 2));
        let err = parse(SourceId(0), "a: [1,\nb: 2\n").unwrap_err();
        assert!(err.message.starts_with("this YAML cannot be read"));
        assert!(err.span.is_some());
        assert!(parse(SourceId(0), "").unwrap().is_none());
    }
}
