//! KDL 2 (the `kdl` export, and every snippet of KDL cmflow suggests): quoted strings and
//! `//` comments.
//!
//! KDL 2 ends a line at CR, LF, NEL, FF, LS and PS, and refuses control characters,
//! bidirectional controls and the byte-order mark anywhere but at the start. A string
//! writes `"`, `\` and every such character as an escape (`\n`, `\u{2028}`); a comment
//! writes them as `\u{..}` text.

use std::fmt::Write as _;

/// A KDL quoted string: `"Say \"hi\""`.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if super::forbidden_char(c) => _ = write!(out, "\\u{{{:x}}}", u32::from(c)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for a `//` comment: on one line.
pub fn comment(s: &str) -> std::borrow::Cow<'_, str> {
    super::one_line(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::strategies;
    use proptest::prelude::*;

    #[test]
    fn strings_escape_quotes_backslashes_and_line_ends() {
        assert_eq!(string(r#"Say "hi" \ there"#), r#""Say \"hi\" \\ there""#);
        assert_eq!(string("a\nb\u{2028}"), r#""a\nb\u{2028}""#);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// `node "NAME" // NAME` parses to one node whose one argument is the name.
        #[test]
        fn names_come_back_intact(name in strategies::name()) {
            let text = format!("// {}\nnode {} // {}\nnext\n", comment(&name), string(&name), comment(&name));
            let doc = ::kdl::KdlDocument::parse_v2(&text).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            prop_assert_eq!(doc.nodes().len(), 2);
            let node = &doc.nodes()[0];
            prop_assert_eq!(node.entries().len(), 1);
            prop_assert_eq!(node.entries()[0].value().as_string(), Some(name.as_str()));
        }
    }
}
