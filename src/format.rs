//! KDL source formatting for `cmflow fmt`: the `kdl` crate's formatter (one node per line,
//! four-space indent, comments kept) with what keeps a file readable and intact: values
//! stay as written (`"office"` is not rewritten as the bare identifier `office`, `0x1F`
//! not as `31`), a blank line between two nodes is kept (runs of blank lines become
//! one), line endings are kept, and a text that would not say the same thing once
//! formatted (a comment the parser dropped) is not formatted at all.
//!
//! It owns text in, text out; it never reads or writes files (that is `cli::fmt`) and
//! knows nothing of the model. KDL v1 documents are not formatted (the formatter writes
//! v2): the caller leaves them as they are.

use kdl::{FormatConfig, KdlDocument};

/// What formatting a text gives.
#[derive(Debug, PartialEq, Eq)]
pub enum Formatted {
    /// The formatted text (equal to the input when it was already formatted).
    Text(String),
    /// The text parses as KDL v1 only: left as it is.
    KdlV1,
    /// Formatting would change more than the layout (the parser drops some comments, e.g.
    /// after a `;` that follows a `}`): left as it is rather than lose them.
    WouldDropText,
    /// The text is not KDL: the loader's `kdl/syntax` diagnostics say why.
    Invalid,
}

/// Formats a KDL document. Text the loader would refuse before parsing (nested too deep,
/// too many tokens) is `Invalid`; parsing runs on the loader's parsing threads.
pub fn format_kdl(text: &str) -> Formatted {
    let found = crate::load::scan::scan(text);
    let limit = crate::load::MAX_NESTING;
    if [found.braces, found.comments, found.slashdashes]
        .iter()
        .any(|d| d.max > limit)
        || found.too_many_at.is_some()
    {
        return Formatted::Invalid;
    }
    crate::load::on_parse_threads(|| format_checked(text))
}

fn format_checked(text: &str) -> Formatted {
    let mut doc = match KdlDocument::parse_v2(text) {
        Ok(doc) => doc,
        Err(_) if crate::load::is_kdl_v1(text) => return Formatted::KdlV1,
        Err(_) => return Formatted::Invalid,
    };
    let original = doc.clone();
    doc.autoformat_config(&FormatConfig::default());
    restore_document(text, &original, &mut doc, 0);
    let mut out = doc.to_string().replace("\r\n", "\n");
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    if !out.is_empty() {
        out.push('\n');
    }
    // Keep Windows line endings where the file had them.
    if text.contains("\r\n") {
        out = out.replace('\n', "\r\n");
    }
    if !faithful(text, &original, &out) {
        return Formatted::WouldDropText;
    }
    Formatted::Text(out)
}

const INDENT: &str = "    ";

/// Whether `out` says what `text` (parsed as `original`) says, comments included: the
/// same nodes and values, and the same characters but for layout. The parser drops a few
/// comments, and a comment could swallow what follows it: better keep a file as it is
/// than risk its content.
fn faithful(text: &str, original: &KdlDocument, out: &str) -> bool {
    KdlDocument::parse_v2(out).is_ok_and(|new| canonical(&new) == canonical(original))
        && significant(text).eq(significant(out))
}

/// The document without its layout or comments.
fn canonical(doc: &KdlDocument) -> String {
    let mut doc = doc.clone();
    doc.clear_format_recursive();
    doc.to_string()
}

/// The characters formatting must keep, in order: all but whitespace, the `;` and `\`
/// it may replace by line breaks, and the quotes it may drop around names.
fn significant(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ';' | '\\' | '"'))
}

/// Puts back what the formatter drops: values as written, blank lines between nodes,
/// comments that end a node's line; and lays out comments with the nodes' indentation.
/// `formatted` is `original` after `autoformat`, so both have the same nodes and entries.
fn restore_document(text: &str, original: &KdlDocument, formatted: &mut KdlDocument, depth: usize) {
    let indent = INDENT.repeat(depth);
    for (i, (before, after)) in original
        .nodes()
        .iter()
        .zip(formatted.nodes_mut())
        .enumerate()
    {
        for (entry_before, entry_after) in before.entries().iter().zip(after.entries_mut()) {
            if let Some(mut f) = entry_before.format().cloned() {
                // A line continuation (`\` and a line break) is kept as written.
                if !f.leading.contains('\n') {
                    f.leading = if f.leading.trim().is_empty() {
                        " ".into()
                    } else {
                        format!(" {}", f.leading.trim())
                    };
                }
                f.after_key.clear();
                f.after_eq.clear();
                if f.trailing.trim().is_empty() {
                    f.trailing.clear();
                }
                entry_after.set_format(f);
            }
        }
        if let (Some(old), Some(new)) = (before.format(), after.format_mut()) {
            new.leading = node_decor(&old.leading, &indent, i > 0);
            // Inline comments before the terminator stay on the node's line.
            let inline = old.before_terminator.trim();
            new.before_terminator = if inline.is_empty() {
                String::new()
            } else {
                format!(" {inline}")
            };
            // A line comment ends the node: the parser keeps it as the terminator, except
            // after a `}`, where it drops it: take it from the text.
            let comment = if old.terminator.is_empty() && before.children().is_some() {
                line_rest(text, before.span().offset() + before.span().len())
            } else {
                old.terminator.trim_start()
            };
            if comment.starts_with("//") {
                new.before_terminator = " ".into();
                new.terminator = comment.trim_end().to_owned() + "\n";
            }
        }
        if let (Some(old), Some(new)) = (before.children(), after.children_mut()) {
            restore_document(text, old, new, depth + 1);
            let inner = INDENT.repeat(depth + 1);
            if let (Some(old), Some(new)) = (old.format(), new.format_mut()) {
                new.trailing = comment_lines(&old.trailing, &inner, true) + &indent;
            }
        }
    }
    if depth == 0
        && let (Some(old), Some(new)) = (original.format(), formatted.format_mut())
    {
        new.leading = comment_lines(&old.leading, "", false);
        new.trailing = comment_lines(&old.trailing, "", true);
    }
}

/// What follows `offset` on its line, without leading whitespace.
fn line_rest(text: &str, offset: usize) -> &str {
    let rest = text.get(offset..).unwrap_or("");
    rest.split('\n').next().unwrap_or("").trim()
}

/// The whitespace and comments before a node, laid out: each comment line indented,
/// runs of blank lines made one (dropped at the start of a block, `keep_blank` false),
/// then the node's own indentation.
fn node_decor(decor: &str, indent: &str, keep_blank: bool) -> String {
    let mut lines: Vec<&str> = decor.split('\n').collect();
    // What stands on the node's own line before it (an inline `/* */` comment).
    let own_line = lines.pop().unwrap_or("").trim();
    let mut out = lay_out(lines, indent, keep_blank, true);
    out.push_str(indent);
    if !own_line.is_empty() {
        out.push_str(own_line);
        out.push(' ');
    }
    out
}

/// Lines of comments (or slashdashed nodes) after the last node of a block.
fn comment_lines(decor: &str, indent: &str, keep_blank: bool) -> String {
    lay_out(decor.split('\n'), indent, keep_blank, false)
}

/// Lines indented by `indent`; where the text has blank lines, one blank line (at the
/// start only when `keep_blank`, at the end only when `keep_last_blank`).
fn lay_out<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    indent: &str,
    keep_blank: bool,
    keep_last_blank: bool,
) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in lines {
        let line = line.trim();
        if line.is_empty() {
            blank = keep_blank || !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(indent);
        out.push_str(line);
        out.push('\n');
    }
    if blank && keep_last_blank {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formatted(text: &str) -> String {
        match format_kdl(text) {
            Formatted::Text(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn indents_keeps_comments_values_and_blank_lines() {
        let text = "// header\n\nzone \"hq\"   { subnet \"10.0.0.0/16\" }\n\n\n// servers\nserver   \"a.contoso.com\" zone=\"hq\" port=0x10 { // c1\n  site-server\n\n      management-point   // MP\n  // last\n}\n\n// end\n";
        let want = "// header\n\nzone \"hq\" {\n    subnet \"10.0.0.0/16\"\n}\n\n// servers\nserver \"a.contoso.com\" zone=\"hq\" port=0x10 {\n    // c1\n    site-server\n\n    management-point // MP\n    // last\n}\n\n// end\n";
        assert_eq!(formatted(text), want);
        assert_eq!(formatted(want), want, "idempotent");
    }

    #[test]
    fn windows_line_endings_are_kept() {
        let text = "zone \"hq\" { subnet \"10.0.0.0/16\" } // hq\r\n\r\n// dc\r\nzone \"dc\"\r\n";
        let want = "zone \"hq\" {\r\n    subnet \"10.0.0.0/16\"\r\n} // hq\r\n\r\n// dc\r\nzone \"dc\"\r\n";
        assert_eq!(formatted(text), want);
        assert_eq!(formatted(want), want);
    }

    #[test]
    fn comments_are_never_dropped() {
        for text in [
            "a { b; } // after a block\nc\n",
            "a { b } ; // after a semicolon\nc\n",
            "a /* inline */ ; // then a line comment\nb\n",
            "/-a { b }\nc /-{ d }\n",
            "a \\ // continued\n    b=1\n",
        ] {
            match format_kdl(text) {
                Formatted::Text(t) => {
                    assert!(significant(text).eq(significant(&t)), "{text:?} -> {t:?}");
                    assert_eq!(formatted(&t), t, "idempotent: {text:?}");
                }
                Formatted::WouldDropText => {}
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn unfaithful_output_is_detected() {
        let check = |text: &str, out: &str| {
            let doc = KdlDocument::parse_v2(text).expect("kdl");
            faithful(text, &doc, out)
        };
        assert!(check("a // c\nb\n", "a // c\nb\n"));
        assert!(check("a   b=1;c\n", "a b=1\nc\n"));
        assert!(!check("a // c\nb\n", "a\nb\n"), "a dropped comment");
        assert!(
            !check("a \\ // c\n  b=1\n", "a \\ // cb=1\n"),
            "a swallowed entry"
        );
    }

    #[test]
    fn v1_and_invalid_documents_are_recognised() {
        assert_eq!(format_kdl("node true null\n"), Formatted::KdlV1);
        assert_eq!(format_kdl("zone {\n"), Formatted::Invalid);
        assert_eq!(formatted(""), "");
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::{Formatted, format_kdl};

        /// Whitespace between tokens: spaces, and sometimes a tab.
        fn gap() -> impl Strategy<Value = String> {
            prop_oneof![Just(" "), Just("  "), Just("   "), Just("\t")].prop_map(String::from)
        }

        fn value() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("\"office\""),
                Just("\"Ventes – Île-de-France 100%\""),
                Just("\"a \\\"quoted\\\" name\""),
                Just("1433"),
                Just("0x1F"),
                Just("#true"),
                Just("office"),
            ]
            .prop_map(String::from)
        }

        fn entry() -> impl Strategy<Value = String> {
            (
                prop::option::of(prop_oneof![Just("zone"), Just("port"), Just("a-b")]),
                value(),
            )
                .prop_map(|(key, value)| match key {
                    Some(key) => format!("{key}={value}"),
                    None => value,
                })
        }

        /// Decor before a node: nothing, blank lines, or comments.
        fn before() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(""),
                Just("\n"),
                Just("\n\n\n"),
                Just("// a comment\n"),
                Just("\n  // an indented comment\n\n"),
                Just("/* block */\n"),
            ]
            .prop_map(String::from)
        }

        /// What ends a node's line: a line break, `;`, or a comment.
        fn after() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("\n"),
                Just(";\n"),
                Just(" // end of line\n"),
                Just("  \n")
            ]
            .prop_map(String::from)
        }

        fn node(depth: u32) -> BoxedStrategy<String> {
            let name = prop_oneof![Just("zone"), Just("server"), Just("allow"), Just("x")];
            let children = if depth == 0 {
                Just(Vec::new()).boxed()
            } else {
                prop::collection::vec(node(depth - 1), 0..3).boxed()
            };
            (
                before(),
                name,
                prop::collection::vec((gap(), entry()), 0..4),
                children,
                gap(),
                after(),
            )
                .prop_map(|(before, name, entries, children, gap, after)| {
                    let mut text = format!("{before}{name}");
                    for (gap, entry) in entries {
                        text.push_str(&gap);
                        text.push_str(&entry);
                    }
                    if !children.is_empty() {
                        text.push_str(&gap);
                        text.push_str("{\n");
                        for child in children {
                            text.push_str(&child);
                        }
                        text.push('}');
                    }
                    text.push_str(&after);
                    text
                })
                .boxed()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Documents with comments, blank lines, `;`, tabs and odd spacing are
            /// formatted (never refused: the guard of `format_kdl` finds nothing lost), and
            /// formatting the result changes nothing.
            #[test]
            fn formatting_is_idempotent(nodes in prop::collection::vec(node(2), 0..6)) {
                let text: String = nodes.concat();
                match format_kdl(&text) {
                    Formatted::Text(once) => {
                        prop_assert_eq!(format_kdl(&once), Formatted::Text(once.clone()));
                    }
                    other => prop_assert!(false, "{:?}: {:?}", text, other),
                }
            }
        }
    }
}
