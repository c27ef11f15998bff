//! YAML (Aerleon's policies and definitions): double-quoted scalars and `#` comments.
//!
//! YAML 1.1, which Aerleon's PyYAML reads, ends a line at LF, CR, NEL (U+0085), LS
//! (U+2028) and PS (U+2029), and refuses non-printable characters anywhere in a stream.
//! A double-quoted scalar writes `"`, `\` and every character that is not plainly
//! printable (see [`crate::escape::forbidden_char`], plus tab) as a YAML escape (`\t`,
//! `\x85`, `\u2028`, `\U0001F600` never needed: characters above U+FFFF are printable); a
//! comment writes them as `\u{..}` text so that it stays on its line.

use std::fmt::Write as _;

/// A YAML double-quoted scalar: `"HQ \"core\""`.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if super::forbidden_char(c) => {
                let n = u32::from(c);
                if n <= 0xff {
                    _ = write!(out, "\\x{n:02x}");
                } else {
                    _ = write!(out, "\\u{n:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for a `#` comment: on one line, printable.
pub fn comment(s: &str) -> std::borrow::Cow<'_, str> {
    super::one_line(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::strategies;
    use proptest::prelude::*;
    use yaml_rust2::{Yaml, YamlLoader};

    #[test]
    fn strings_and_comments() {
        assert_eq!(string(r#"a "b": c"#), r#""a \"b\": c""#);
        assert_eq!(string("a\u{85}b\u{2028}"), "\"a\\x85b\\u2028\"");
        assert_eq!(comment("x\r\n- name: y"), "x\\u{000d}\\u{000a}- name: y");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// A document with the name as a value and in a comment parses back to one key
        /// whose value is the name, and nothing else.
        #[test]
        fn names_come_back_intact(name in strategies::name()) {
            let doc = format!("# {}\nkey: {} # {}\n", comment(&name), string(&name), comment(&name));
            let docs = YamlLoader::load_from_str(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(docs.len(), 1);
            let Yaml::Hash(map) = &docs[0] else {
                return Err(TestCaseError::fail("not a mapping"));
            };
            prop_assert_eq!(map.len(), 1);
            prop_assert_eq!(&docs[0]["key"], &Yaml::String(name.clone()));
        }

        /// No line of the output holds a YAML 1.1 line break or a non-printable character.
        #[test]
        fn output_is_printable_on_one_line(name in strategies::name()) {
            for text in [string(&name), comment(&name).into_owned()] {
                prop_assert!(!text.chars().any(|c| c == '\t' || crate::escape::forbidden_char(c)), "{text:?}");
            }
        }
    }
}
