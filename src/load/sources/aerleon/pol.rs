//! The classic `.pol` syntax, read as Aerleon's lexer and grammar read it:
//!
//! ```text
//! header { target:: iptables FORWARD DROP  comment:: "..." }
//! term allow-web { destination-address:: WEB  protocol:: tcp  action:: accept }
//! #include 'includes/common.inc'
//! ```
//!
//! `#` starts a comment to the end of the line, except a line whose first word is
//! `#include`, which is replaced by the named `.inc` file (Aerleon's preprocessor).
//! Values run until the next `keyword::` or the closing brace; a keyword may repeat
//! (its values add up).

use super::{Field, Filter, Includes, Target, Term, Word};
use crate::load::sources::SourceError;
use crate::model::{SourceId, Span};

#[derive(Clone, Debug)]
enum Tok {
    Word(Word),
    /// A double-quoted string (a comment, a verbatim line).
    Quoted(Word),
    Open(Span),
    Close(Span),
    Colons(Span),
}

/// Aerleon's limit on nested includes.
const MAX_DEPTH: usize = 5;

fn lex(
    id: SourceId,
    text: &str,
    includes: &mut dyn Includes,
    depth: usize,
    out: &mut Vec<Tok>,
) -> Result<(), SourceError> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\n' => {
                line_start = true;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                let line = &text[i..end];
                let mut parts = line.split_ascii_whitespace();
                if line_start
                    && parts.next() == Some("#include")
                    && let Some(file) = parts.next()
                {
                    let span = Span::new(id, i, end);
                    if depth >= MAX_DEPTH {
                        return Err(SourceError::at(
                            span,
                            format!("includes nest deeper than {MAX_DEPTH} files"),
                        ));
                    }
                    let name = file.trim_matches(['\'', '"']);
                    if std::path::Path::new(name)
                        .extension()
                        .and_then(|e| e.to_str())
                        != Some("inc")
                    {
                        return Err(SourceError::at(
                            span,
                            format!("`{name}`: an included file's name must end in `.inc`"),
                        ));
                    }
                    let (inc_id, inc_text) = includes.open(name, span)?;
                    lex(inc_id, &inc_text, includes, depth + 1, out)?;
                }
                i = end;
            }
            b'{' => {
                out.push(Tok::Open(Span::new(id, i, i + 1)));
                line_start = false;
                i += 1;
            }
            b'}' => {
                out.push(Tok::Close(Span::new(id, i, i + 1)));
                line_start = false;
                i += 1;
            }
            b':' if bytes.get(i + 1) == Some(&b':') => {
                out.push(Tok::Colons(Span::new(id, i, i + 2)));
                line_start = false;
                i += 2;
            }
            b'"' => {
                // A quoted string may hold escaped quotes and newlines.
                let mut j = i + 1;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                if j >= bytes.len() {
                    return Err(SourceError::at(
                        Span::new(id, i, text.len().min(i + 1)),
                        "this quoted string is never closed",
                    ));
                }
                out.push(Tok::Quoted(Word {
                    text: text[i + 1..j].to_owned(),
                    span: Span::new(id, i, j + 1),
                }));
                line_start = false;
                i = j + 1;
            }
            _ => {
                let mut j = i;
                while j < bytes.len() {
                    let b = bytes[j];
                    if b.is_ascii_whitespace()
                        || matches!(b, b'{' | b'}' | b'"' | b'#')
                        || (b == b':' && bytes.get(j + 1) == Some(&b':'))
                    {
                        break;
                    }
                    j += 1;
                }
                // Multi-byte characters are never delimiters, so `j` is a boundary.
                out.push(Tok::Word(Word {
                    text: text[i..j].to_owned(),
                    span: Span::new(id, i, j),
                }));
                line_start = false;
                i = j;
            }
        }
    }
    Ok(())
}

/// Parses a `.pol` policy into its filters.
pub fn parse(
    id: SourceId,
    text: &str,
    includes: &mut dyn Includes,
) -> Result<Vec<Filter>, SourceError> {
    let mut toks = Vec::new();
    lex(id, text, includes, 0, &mut toks)?;
    let end = Span::new(id, text.len(), text.len());
    let mut p = Cursor { toks, at: 0, end };
    let mut filters: Vec<Filter> = Vec::new();
    while let Some(tok) = p.next() {
        match tok {
            Tok::Word(w) if w.text == "header" => {
                p.open()?;
                let (fields, close) = p.fields()?;
                let mut targets = Vec::new();
                for f in fields {
                    if f.key.text == "target" {
                        let mut values = f.values.into_iter();
                        if let Some(platform) = values.next() {
                            targets.push(Target {
                                platform,
                                options: values.collect(),
                            });
                        }
                    }
                }
                filters.push(Filter {
                    span: join(w.span, close),
                    targets,
                    terms: Vec::new(),
                });
            }
            Tok::Word(w) if w.text == "term" => {
                let name = match p.next() {
                    Some(Tok::Word(name)) => name,
                    other => return Err(p.expected(other.as_ref(), "the term's name")),
                };
                p.open()?;
                let (fields, close) = p.fields()?;
                let term = Term {
                    span: join(w.span, close),
                    name,
                    fields,
                };
                match filters.last_mut() {
                    Some(f) => f.terms.push(term),
                    None => {
                        return Err(SourceError::at(
                            w.span,
                            "a term before any `header`: every filter starts with its header",
                        ));
                    }
                }
            }
            other => return Err(p.expected(Some(&other), "`header` or `term`")),
        }
    }
    Ok(filters)
}

/// From the start of `a` to the end of `b`; `a` alone when an include split them.
fn join(a: Span, b: Span) -> Span {
    if a.source == b.source && b.end >= a.start {
        Span::new(a.source, a.start, b.end)
    } else {
        a
    }
}

struct Cursor {
    toks: Vec<Tok>,
    at: usize,
    end: Span,
}

impl Cursor {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.at + n)
    }

    fn expected(&self, got: Option<&Tok>, what: &str) -> SourceError {
        let (span, found) = match got {
            Some(Tok::Word(w) | Tok::Quoted(w)) => (w.span, format!("`{}`", w.text)),
            Some(Tok::Open(s)) => (*s, "`{`".into()),
            Some(Tok::Close(s)) => (*s, "`}`".into()),
            Some(Tok::Colons(s)) => (*s, "`::`".into()),
            None => (self.end, "the end of the file".into()),
        };
        SourceError::at(span, format!("expected {what}, found {found}"))
    }

    fn open(&mut self) -> Result<Span, SourceError> {
        match self.next() {
            Some(Tok::Open(s)) => Ok(s),
            other => Err(self.expected(other.as_ref(), "`{`")),
        }
    }

    /// `keyword:: values ...` until the closing brace, which it returns.
    fn fields(&mut self) -> Result<(Vec<Field>, Span), SourceError> {
        let mut fields = Vec::new();
        loop {
            match self.next() {
                Some(Tok::Close(s)) => return Ok((fields, s)),
                Some(Tok::Word(key)) => {
                    match self.next() {
                        Some(Tok::Colons(_)) => {}
                        other => return Err(self.expected(other.as_ref(), "`::` after a keyword")),
                    }
                    let mut values = Vec::new();
                    loop {
                        match (self.peek(0), self.peek(1)) {
                            (Some(Tok::Word(_)), Some(Tok::Colons(_)))
                            | (Some(Tok::Close(_)), _) => {
                                break;
                            }
                            (Some(Tok::Word(_) | Tok::Quoted(_)), _) => {
                                if let Some(Tok::Word(w) | Tok::Quoted(w)) = self.next() {
                                    values.push(w);
                                }
                            }
                            (other, _) => {
                                let other = other.cloned();
                                return Err(self.expected(other.as_ref(), "a value or `}`"));
                            }
                        }
                    }
                    fields.push(Field {
                        key,
                        values,
                        structured: false,
                    });
                }
                other => return Err(self.expected(other.as_ref(), "a `keyword::` or `}`")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::sources::aerleon::NoIncludes;

    const ID: SourceId = SourceId(3);

    fn at(text: &str, span: Span) -> &str {
        &text[span.start..span.end]
    }

    #[test]
    fn headers_terms_and_fields() {
        let text = "# policy\nheader {\n  comment:: \"edge # not a comment\"\n  target:: iptables FORWARD DROP\n}\nterm allow-web {\n  source-address:: A B\n    C\n  protocol:: tcp\n  action:: accept\n}\n";
        let filters = parse(ID, text, &mut NoIncludes).unwrap();
        assert_eq!(filters.len(), 1);
        let t = &filters[0].targets[0];
        assert_eq!(t.platform.text, "iptables");
        assert_eq!(
            t.options
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>(),
            ["FORWARD", "DROP"]
        );
        let term = &filters[0].terms[0];
        assert_eq!(term.name.text, "allow-web");
        assert!(at(text, term.span).starts_with("term allow-web {"));
        assert!(at(text, term.span).ends_with("accept\n}"));
        let sa = &term.fields[0];
        assert_eq!(sa.key.text, "source-address");
        assert_eq!(
            sa.values
                .iter()
                .map(|w| at(text, w.span))
                .collect::<Vec<_>>(),
            ["A", "B", "C"]
        );
    }

    #[test]
    fn syntax_errors_point_at_the_token() {
        let text = "header { target:: iptables }\nterm x { action accept }\n";
        let err = parse(ID, text, &mut NoIncludes).unwrap_err();
        assert_eq!(err.message, "expected `::` after a keyword, found `accept`");
        assert_eq!(at(text, err.span.unwrap()), "accept");
        let text = "term x { action:: accept }\n";
        let err = parse(ID, text, &mut NoIncludes).unwrap_err();
        assert!(err.message.starts_with("a term before any `header`"));
        let text = "header { comment:: \"open\n";
        let err = parse(ID, text, &mut NoIncludes).unwrap_err();
        assert_eq!(err.message, "this quoted string is never closed");
        let text = "header { target:: x ";
        let err = parse(ID, text, &mut NoIncludes).unwrap_err();
        assert_eq!(
            err.message,
            "expected a value or `}`, found the end of the file"
        );
        let text = "#include 'x.pol'\n";
        let err = parse(ID, text, &mut NoIncludes).unwrap_err();
        assert!(err.message.contains("must end in `.inc`"));
    }
}
