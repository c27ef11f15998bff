//! Markdown (`diff --format markdown`, posted as a pull-request comment): a name must read
//! as the same plain text, on one line, whatever it holds: no emphasis, link, image, raw
//! HTML, table cell break, heading or list. `CommonMark` lets a backslash escape every ASCII
//! punctuation character, so each one is escaped; forbidden characters are made visible
//! as in the terminal.

use std::borrow::Cow;

/// One line of plain text inside a paragraph or a table cell.
pub fn text(s: &str) -> Cow<'_, str> {
    let s = super::one_line(s);
    if !s.chars().any(|c| c.is_ascii_punctuation()) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::strategies;
    use proptest::prelude::*;
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

    /// The plain text of a markdown document, and whether anything but paragraphs,
    /// tables and text appeared.
    fn plain(markdown: &str) -> (String, Vec<String>) {
        let mut text = String::new();
        let mut other = Vec::new();
        for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
            match event {
                Event::Text(t) => text.push_str(&t),
                Event::Start(
                    Tag::Paragraph
                    | Tag::Table(_)
                    | Tag::TableHead
                    | Tag::TableRow
                    | Tag::TableCell,
                )
                | Event::End(
                    TagEnd::Paragraph
                    | TagEnd::Table
                    | TagEnd::TableHead
                    | TagEnd::TableRow
                    | TagEnd::TableCell,
                ) => {}
                e => other.push(format!("{e:?}")),
            }
        }
        (text, other)
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(text("fw-core"), "fw\\-core");
        assert_eq!(text("plain name"), "plain name");
        assert_eq!(text("<b>x</b>"), "\\<b\\>x\\<\\/b\\>");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// In a paragraph and in a table cell, a name reads back as its visible text and
        /// nothing else: no markup, no second cell, no second line.
        #[test]
        fn names_read_back_as_plain_text(name in strategies::name()) {
            let expected = crate::escape::one_line(&name).into_owned();
            let (paragraph, other) = plain(&format!("x {} y\n", text(&name)));
            prop_assert!(other.is_empty(), "{other:?}");
            prop_assert_eq!(paragraph, format!("x {expected} y"));
            let table = format!("| a | b |\n|---|---|\n| x{}y | end |\n", text(&name));
            let (cells, other) = plain(&table);
            prop_assert!(other.is_empty(), "{other:?}");
            prop_assert_eq!(cells, format!("abx{expected}yend"));
        }
    }
}
