//! Terminals (`human`, `short`, `flows --format table`, every message on stderr): text
//! from the model or a file name must not move the cursor, change colours, retitle the
//! window or reorder text. Escape sequences start with ESC or a C1 control; bidi controls
//! reorder what follows. Each is written as `\u{..}` text.

use std::borrow::Cow;

/// One line of text: every forbidden character, line breaks included, made visible.
pub fn line(s: &str) -> Cow<'_, str> {
    super::one_line(s)
}

/// Text that may span lines: line feeds kept, every other forbidden character made
/// visible.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && super::forbidden_char(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c != '\n' && super::forbidden_char(c) {
            out.push_str(&super::visible(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A file's text for a source snippet: every forbidden character but tab, CR and LF
/// replaced by characters of the same UTF-8 length (`?`, `¿`, `�`, `??`), so that byte
/// offsets (spans) still point at the same places.
pub fn source(s: &str) -> Cow<'_, str> {
    let bad = |c: char| !matches!(c, '\t' | '\r' | '\n') && super::forbidden_char(c);
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if bad(c) {
            match c.len_utf8() {
                1 => out.push('?'),
                2 => out.push('\u{bf}'),
                3 => out.push('\u{fffd}'),
                _ => out.push_str("??"),
            }
        } else {
            out.push(c);
        }
    }
    debug_assert_eq!(out.len(), s.len());
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::strategies;
    use proptest::prelude::*;

    #[test]
    fn escapes_become_visible() {
        assert_eq!(line("a\u{1b}[31mred\n"), "a\\u{001b}[31mred\\u{000a}");
        assert_eq!(text("a\nb\u{9b}"), "a\nb\\u{009b}");
        assert_eq!(source("a\u{1b}b\u{85}c\u{202e}d"), "a?b\u{bf}c\u{fffd}d");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn nothing_reaches_the_terminal(name in strategies::name()) {
            prop_assert!(!line(&name).chars().any(crate::escape::forbidden_char));
            prop_assert!(!text(&name).chars().any(|c| c != '\n' && crate::escape::forbidden_char(c)));
            let src = source(&name);
            prop_assert_eq!(src.len(), name.len());
            prop_assert!(!src.chars().any(|c| !matches!(c, '\t' | '\r' | '\n') && crate::escape::forbidden_char(c)));
            for (i, _) in name.char_indices() {
                prop_assert!(src.is_char_boundary(i));
            }
        }
    }
}
