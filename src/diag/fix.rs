//! Building a [`Fix`] that renames what a user wrote: the edit a "did you mean" help
//! names, made only when the written text shows exactly where the name is and the new
//! name can be written there as it is.
//!
//! A name is written three ways in a model: as a bare KDL identifier (`zone=office`,
//! node names, property keys), as a whole quoted string (`zone="office"`), or as one
//! entry of a string list (`from="clients:HQ,zone:office"`, where the diagnostic's span
//! is the entry, or the whole value when escapes hide the offsets). Anything else
//! (escapes, raw strings, a name written twice inside the span) gets no fix: a fix is
//! applied without reading, so it must never be a guess.

use super::Fix;
use crate::model::Span;

/// The fix that writes `suggestion` in place of `name`, written in `text` (the whole
/// file) at `span`.
pub fn rename(text: &str, span: Span, name: &str, suggestion: &str) -> Option<Fix> {
    let written = text.get(span.start..span.end)?;
    if name.is_empty() || suggestion.is_empty() || name == suggestion {
        return None;
    }
    if crate::escape::first_forbidden(suggestion).is_some() {
        return None;
    }
    // A whole quoted string: `"office"`.
    if written == crate::escape::kdl::string(name) {
        return Some(Fix {
            span,
            replacement: crate::escape::kdl::string(suggestion),
        });
    }
    if written == name && bare_token_at(text, span) {
        let replacement = if is_bare_identifier(suggestion) {
            suggestion.to_owned()
        } else {
            crate::escape::kdl::string(suggestion)
        };
        return Some(Fix { span, replacement });
    }
    // Inside a plain quoted string: an entry of a list, or the name with its prefix
    // (`clients:HQ`). The new name is written as it is, so it must need no escape and
    // must not split the list.
    if suggestion.contains(['"', '\\', ',', '@', '#']) || written.contains(['\\', '#']) {
        return None;
    }
    let inside_quotes = match written.strip_prefix('"') {
        Some(rest) => rest.ends_with('"') && !rest[..rest.len() - 1].contains('"'),
        None => !written.contains('"') && inside_plain_string(text, span),
    };
    if !inside_quotes {
        return None;
    }
    let mut places = written
        .match_indices(name)
        .map(|(i, _)| i)
        .filter(|&i| is_whole_entry(written, i, name.len()));
    let at = places.next()?;
    if places.next().is_some() {
        return None;
    }
    Some(Fix {
        span: Span::new(span.source, span.start + at, span.start + at + name.len()),
        replacement: suggestion.to_owned(),
    })
}

/// The fix that deletes the node at `span` in `text` with its line(s), when nothing
/// else is written on them (an optional `;` aside); `None` when the node shares a line.
pub fn delete_lines(text: &str, span: Span) -> Option<Fix> {
    let written = text.get(span.start..span.end)?;
    let start = span.start + (written.len() - written.trim_start().len());
    let end = span.start + written.trim_end().len();
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..start].trim().is_empty() {
        return None;
    }
    let rest = &text[end..];
    let line_end = rest.find('\n').map_or(text.len(), |i| end + i + 1);
    let tail = text[end..line_end].trim();
    if !(tail.is_empty() || tail == ";") {
        return None;
    }
    Some(Fix {
        span: Span::new(span.source, line_start, line_end),
        replacement: String::new(),
    })
}

/// The fix that deletes the property `key=VALUE` whose value is written at `value` in
/// `text`, with the space before it; `None` unless the key is written bare just before.
pub fn delete_property(text: &str, value: Span, key: &str) -> Option<Fix> {
    let before = text.get(..value.start)?.trim_end();
    let before = before.strip_suffix('=')?.trim_end();
    let before = before.strip_suffix(key)?;
    let start = before.trim_end_matches([' ', '\t']).len();
    if start == before.len() {
        return None;
    }
    Some(Fix {
        span: Span::new(value.source, start, value.end),
        replacement: String::new(),
    })
}

/// Whether `span` lies inside a quoted string without escapes, on one line: an odd
/// number of quotes before it on its line, none of them raw (`#"`), no backslash.
fn inside_plain_string(text: &str, span: Span) -> bool {
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..span.start];
    let after = text[span.end..].split('"').next().unwrap_or_default();
    before.matches('"').count() % 2 == 1
        && !before.contains('\\')
        && !before.contains("#\"")
        && !after.contains(['\\', '\n'])
}

/// Whether `written[at..at + len]` is a whole name of an endpoint list: bounded by the
/// string's quotes, the list's commas (and the spaces after them), the `kind:` prefix
/// or the `@site` suffix.
fn is_whole_entry(written: &str, at: usize, len: usize) -> bool {
    let before = written[..at].chars().next_back();
    let after = written[at + len..].chars().next();
    matches!(before, None | Some('"' | ',' | ':' | '@' | ' '))
        && matches!(after, None | Some('"' | ',' | '@' | ' '))
}

/// Whether `span` holds a whole bare token: not preceded or followed by a character
/// that would make it part of a longer identifier or of a string.
fn bare_token_at(text: &str, span: Span) -> bool {
    let before = text[..span.start].chars().next_back();
    let after = text[span.end..].chars().next();
    let ends = |c: Option<char>, allowed: &[char]| {
        c.is_none_or(|c| c.is_whitespace() || allowed.contains(&c))
    };
    ends(before, &['=', ')', '{', ';']) && ends(after, &['=', ';', '{', '}', '/'])
}

/// Whether `s` can be written as a KDL 2 identifier string, conservatively: letters,
/// digits and `-_.:@`, starting with a letter, and not a keyword's spelling.
fn is_bare_identifier(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@'))
        && !matches!(s, "true" | "false" | "null" | "inf" | "nan")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceId;

    /// The fix for `name` found at `needle` (its first occurrence) in `text`, applied.
    fn applied(text: &str, needle: &str, name: &str, suggestion: &str) -> Option<String> {
        let start = text.find(needle).expect("needle in text");
        let span = Span::new(SourceId(0), start, start + needle.len());
        let fix = rename(text, span, name, suggestion)?;
        let mut out = text.to_owned();
        out.replace_range(fix.span.start..fix.span.end, &fix.replacement);
        Some(out)
    }

    #[test]
    fn a_quoted_name_is_replaced_by_a_quoted_name() {
        assert_eq!(
            applied("c zone=\"ofice\"\n", "\"ofice\"", "ofice", "office").as_deref(),
            Some("c zone=\"office\"\n")
        );
        assert_eq!(
            applied("c zone=\"ofice\"\n", "\"ofice\"", "ofice", "head office").as_deref(),
            Some("c zone=\"head office\"\n")
        );
    }

    #[test]
    fn a_bare_name_stays_bare_when_it_can() {
        assert_eq!(
            applied("srv pxee=#true\n", "pxee", "pxee", "pxe").as_deref(),
            Some("srv pxe=#true\n")
        );
        assert_eq!(
            applied("c zone=ofice\n", "ofice", "ofice", "head office").as_deref(),
            Some("c zone=\"head office\"\n")
        );
        assert_eq!(
            applied("c zone=ofice\n", "ofice", "ofice", "true").as_deref(),
            Some("c zone=\"true\"\n")
        );
    }

    #[test]
    fn an_entry_of_a_list_is_replaced_alone() {
        let text = "r from=\"clients:HQ,zone:ofice\" to=\"zone:ofice-2\"\n";
        // The whole value as span (escapes elsewhere made the resolver give it).
        assert_eq!(
            applied(text, "\"clients:HQ,zone:ofice\"", "ofice", "office").as_deref(),
            Some("r from=\"clients:HQ,zone:office\" to=\"zone:ofice-2\"\n")
        );
        // The entry as span.
        assert_eq!(
            applied(text, "zone:ofice", "ofice", "office").as_deref(),
            Some("r from=\"clients:HQ,zone:office\" to=\"zone:ofice-2\"\n")
        );
        assert_eq!(
            applied("r to=\"role:mp@P0\"\n", "role:mp@P0", "P0", "P01").as_deref(),
            Some("r to=\"role:mp@P01\"\n")
        );
    }

    #[test]
    fn a_node_alone_on_its_lines_is_deleted_with_them() {
        let text = "allow \"a\" {\n    suppress \"x/y\" reason=\"r\"\n}\n";
        let start = text.find("suppress").expect("in text");
        let end = text.find("\"r\"").expect("in text") + 3;
        let fix = delete_lines(text, Span::new(SourceId(0), start, end)).expect("a fix");
        assert_eq!((fix.span.start, fix.span.end), (12, 42));
        assert_eq!(fix.replacement, "");
        let mut out = text.to_owned();
        out.replace_range(fix.span.start..fix.span.end, "");
        assert_eq!(out, "allow \"a\" {\n}\n");
        // The span may include the node's surrounding whitespace; the last line may lack
        // its line feed.
        let last = "a\n  suppress \"x\";";
        let fix = delete_lines(last, Span::new(SourceId(0), 1, last.len() - 1)).expect("a fix");
        assert_eq!((fix.span.start, fix.span.end), (2, last.len()));
        // Sharing a line with another node: no fix.
        let shared = "allow \"a\" { suppress \"x\" }\n";
        let start = shared.find("suppress").expect("in text");
        assert_eq!(
            delete_lines(shared, Span::new(SourceId(0), start, start + 14)),
            None
        );
    }

    #[test]
    fn a_property_is_deleted_with_the_space_before_it() {
        let text = "site \"CAS\" type=\"central\" parent=\"P01\" {\n";
        let start = text.find("\"P01\"").expect("in text");
        let value = Span::new(SourceId(0), start, start + 5);
        let fix = delete_property(text, value, "parent").expect("a fix");
        let mut out = text.to_owned();
        out.replace_range(fix.span.start..fix.span.end, &fix.replacement);
        assert_eq!(out, "site \"CAS\" type=\"central\" {\n");
        // Another key, or a key glued to what precedes it: no fix.
        assert_eq!(delete_property(text, value, "type"), None);
        let glued = "site \"CAS\"parent=\"P01\"";
        let start = glued.find("\"P01\"").expect("in text");
        assert_eq!(
            delete_property(glued, Span::new(SourceId(0), start, start + 5), "parent"),
            None
        );
    }

    #[test]
    fn no_fix_when_the_place_is_not_certain() {
        // Written twice in the span.
        assert_eq!(
            applied("r from=\"zone:a,zone:a\"\n", "\"zone:a,zone:a\"", "a", "b"),
            None
        );
        // Escapes and raw strings.
        assert_eq!(
            applied("r z=\"o\\u{66}\"\n", "\"o\\u{66}\"", "of", "off"),
            None
        );
        assert_eq!(applied("r z=#\"of\"#\n", "#\"of\"#", "of", "off"), None);
        // A suggestion that would split the list or end the string.
        assert_eq!(applied("r from=\"zone:a\"\n", "zone:a", "a", "b,c"), None);
        assert_eq!(applied("r from=\"zone:a\"\n", "zone:a", "a", "b\"c"), None);
        // Part of a longer bare word.
        assert_eq!(applied("r zone=ofices\n", "ofice", "ofice", "office"), None);
        // Forbidden characters are never written.
        assert_eq!(applied("r zone=\"a\"\n", "\"a\"", "a", "b\u{202e}"), None);
    }
}
