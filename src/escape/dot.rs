//! Graphviz DOT: quoted ids and labels.
//!
//! In a DOT quoted string only `\"` is an escape, but Graphviz reads labels as escString,
//! where `\n`, `\l`, `\r`, `\N`, `\G` ... mean something: so `"` and `\` are escaped,
//! a line break within one line of a label is impossible, and every other forbidden
//! character is written as `\u{..}` text (with its backslash escaped).

/// The inside of a DOT quoted string, without the quotes.
pub fn inner(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in super::one_line(s).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

/// A DOT quoted string: `"server:cm01.contoso.com"`.
pub fn quote(s: &str) -> String {
    format!("\"{}\"", inner(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::strategies;
    use proptest::prelude::*;

    /// The value of a DOT quoted string at the start of `s` and what follows it, after
    /// Graphviz's lexer (`\"` is a quote, `\\` a backslash in a label).
    fn lex(s: &str) -> Option<(String, &str)> {
        let rest = s.strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => value.push(chars.next()?.1),
                '"' => return Some((value, &rest[i + 1..])),
                '\n' | '\r' => return None,
                c => value.push(c),
            }
        }
        None
    }

    #[test]
    fn quotes_and_backslashes() {
        assert_eq!(quote(r#"a "b" \n"#), r#""a \"b\" \\n""#);
        assert_eq!(quote("a\nb"), r#""a\\u{000a}b""#);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn quoted_names_stay_one_string(name in strategies::name()) {
            let text = format!("{} -> x;", quote(&name));
            let (value, rest) = lex(&text).ok_or_else(|| TestCaseError::fail("not closed"))?;
            prop_assert_eq!(value, crate::escape::one_line(&name).into_owned());
            prop_assert_eq!(rest, " -> x;");
        }
    }
}
