//! Mermaid flowcharts: label text inside `"..."`.
//!
//! Mermaid has no escape inside a quoted label but its entity codes (`#quot;`, `#35;`),
//! and a line break ends a statement; so `"`, `#`, `<`, `>`, `&` and the backtick (which
//! would start a markdown string) are written as entity codes and every forbidden
//! character as `\u{..}` text.

/// Label text with mermaid's entity codes for the characters it would interpret.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in super::one_line(s).chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::strategies;
    use proptest::prelude::*;

    fn decode(s: &str) -> String {
        s.replace("#quot;", "\"")
            .replace("#lt;", "<")
            .replace("#gt;", ">")
            .replace("#amp;", "&")
            .replace("#96;", "`")
            .replace("#35;", "#")
    }

    #[test]
    fn entities() {
        assert_eq!(
            escape("a \"b\" <c> & #d"),
            "a #quot;b#quot; #lt;c#gt; #amp; #35;d"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn labels_stay_one_quoted_string(name in strategies::name()) {
            let label = escape(&name);
            prop_assert!(!label.contains(['"', '`', '<', '>', '\n', '\r']));
            prop_assert!(!label.chars().any(crate::escape::forbidden_char));
            // Every `#` starts an entity code.
            for (i, _) in label.match_indices('#') {
                let code = &label[i..];
                prop_assert!(["#quot;", "#35;", "#lt;", "#gt;", "#amp;", "#96;"].iter().any(|e| code.starts_with(e)));
            }
            prop_assert_eq!(decode(&label), crate::escape::one_line(&name).into_owned());
        }
    }
}
