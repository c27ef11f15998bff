//! JSON (`--format json` of `check` and `flows`, SARIF): one string.
//!
//! Every JSON document cmflow writes escapes its strings as `serde_json` does: `"`, `\`
//! and the C0 controls are escaped (`\n`, `\u001b`), every other character is written as
//! it is, in UTF-8. The documents that `serde_json` serializes whole get that escaping
//! from it; the flow list, written by hand for speed, gets it from [`string`], which
//! hands the string to the same serializer.

/// A JSON string literal, quoted: `"HQ \"core\""`.
pub fn string(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    // A `str` always serializes, and a `Vec` never fails to write.
    if serde_json::to_writer(&mut out, s).is_err() {
        out.clear();
    }
    // serde_json writes UTF-8 (escapes are ASCII).
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::strategies;
    use proptest::prelude::*;

    #[test]
    fn quotes_backslashes_and_controls_are_escaped() {
        assert_eq!(string("a"), "\"a\"");
        assert_eq!(string("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(string("a\\b"), "\"a\\\\b\"");
        assert_eq!(string("a\nb\u{1b}"), "\"a\\nb\\u001b\"");
        assert_eq!(string("\u{2028}é"), "\"\u{2028}é\"");
        assert_eq!(string(""), "\"\"");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// A name comes back intact from a JSON parser, escaped as serde_json escapes
        /// every other string of the documents.
        #[test]
        fn names_come_back_intact(name in strategies::name()) {
            let literal = string(&name);
            let back: String = serde_json::from_str(&literal).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&back, &name);
            let whole = serde_json::to_string_pretty(&[&name]).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(whole.contains(&literal));
        }
    }
}
