//! The one place where text from the model (names, messages, file names) becomes text of
//! another language: one module per output language, each with the only functions that
//! may put a name into that language.
//!
//! Exports are pasted into production firewalls, so every name that reaches an output goes
//! through exactly one function here, and each function is proven by a property test over
//! arbitrary Unicode (controls, line and paragraph separators, quotes of every script,
//! bidi controls, the byte-order mark) to come back intact from that language's parser, or
//! (in comments, which carry no data) to stay on its line.
//!
//! The loader refuses these characters in every string of the model
//! ([`forbidden_char`]), so the escaping here is the second wall, not the only one: file
//! names, terminal output of input errors and the library API still reach it.
//!
//! This module knows characters, not the model: it must not look at model types.

pub mod csv;
pub mod dot;
pub mod json;
pub mod kdl;
pub mod markdown;
pub mod mermaid;
pub mod powershell;
pub mod terminal;
pub mod workflow;
pub mod yaml;

/// Characters that end a line, hide text or reorder it in one of the languages cmflow
/// writes, and that no name needs: C0 and C1 controls (line feed, carriage return, NEL,
/// escape, ...), DEL, the line and paragraph separators, bidirectional controls, zero-width
/// marks, the byte-order mark and the non-characters U+FFFE and U+FFFF.
#[inline]
pub fn forbidden_char(c: char) -> bool {
    // Names are mostly ASCII: its controls (C0 and DEL) are the only forbidden ones there.
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    forbidden_by_category(c)
}

/// [`forbidden_char`] without its ASCII shortcut: the definition.
fn forbidden_by_category(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{fffe}'
                | '\u{ffff}'
        )
}

/// The first forbidden character of `s` and its byte offset.
pub fn first_forbidden(s: &str) -> Option<(usize, char)> {
    s.char_indices().find(|&(_, c)| forbidden_char(c))
}

/// How a forbidden character is shown in a comment or a message: `\u{2028}`.
pub fn visible(c: char) -> String {
    format!("\\u{{{:04x}}}", u32::from(c))
}

/// `s` with every forbidden character written as [`visible`]: text for a comment or a
/// line of a report, where a name need not round-trip but must not end the line.
pub fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    // Printable ASCII, byte by byte (most messages), before decoding characters.
    if s.bytes().all(|b| (b' '..=b'~').contains(&b)) || !s.chars().any(forbidden_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if forbidden_char(c) {
            out.push_str(&visible(c));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
pub(crate) mod strategies {
    //! Arbitrary names for the property tests: any Unicode scalar value, weighted towards
    //! the characters that end lines, close strings or reorder text somewhere.

    use proptest::prelude::*;

    /// Characters that matter to at least one output language.
    pub const HOSTILE: &[char] = &[
        '\n',
        '\r',
        '\t',
        '\u{b}',
        '\u{c}',
        '\0',
        '\u{1b}',
        '\u{7f}',
        '\u{85}',
        '\u{9b}',
        '\u{2028}',
        '\u{2029}',
        '\u{feff}',
        '\u{200e}',
        '\u{202e}',
        '\u{2066}',
        '\'',
        '"',
        '`',
        '\\',
        '$',
        '#',
        '%',
        ',',
        ';',
        ':',
        '=',
        '+',
        '-',
        '@',
        '{',
        '}',
        '[',
        ']',
        '(',
        ')',
        '<',
        '>',
        '&',
        '|',
        '*',
        '/',
        '\u{2018}',
        '\u{2019}',
        '\u{201a}',
        '\u{201b}',
        '\u{201c}',
        '\u{201d}',
        '\u{201e}',
        '\u{2039}',
        '\u{203a}',
        '\u{ab}',
        '\u{bb}',
        '\u{300c}',
        '\u{ff02}',
        '\u{ff07}',
        '\u{fffd}',
        '\u{10ffff}',
        'é',
        'Ω',
        ' ',
    ];

    pub fn hostile_char() -> impl Strategy<Value = char> {
        prop_oneof![
            3 => proptest::sample::select(HOSTILE),
            1 => any::<char>(),
            1 => proptest::char::range(' ', '~'),
        ]
    }

    /// A name of 0 to 24 characters.
    pub fn name() -> impl Strategy<Value = String> {
        proptest::collection::vec(hostile_char(), 0..24).prop_map(|v| v.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters() {
        for c in [
            '\n', '\r', '\u{85}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{1b}', '\u{202e}',
        ] {
            assert!(forbidden_char(c), "{c:?}");
        }
        for c in [
            'a',
            ' ',
            'é',
            '\u{2019}',
            '\u{ff07}',
            '\u{fffd}',
            '\u{10ffff}',
        ] {
            assert!(!forbidden_char(c), "{c:?}");
        }
        assert_eq!(one_line("a\nb\u{2028}"), "a\\u{000a}b\\u{2028}");
        assert_eq!(first_forbidden("ab\u{85}"), Some((2, '\u{85}')));
    }

    #[test]
    fn the_ascii_shortcut_changes_no_answer() {
        for c in (0..=0x10_ffff).filter_map(char::from_u32) {
            assert_eq!(forbidden_char(c), forbidden_by_category(c), "{c:?}");
        }
        for s in ["plain ascii ~", "tab\there", "del\u{7f}", "é", ""] {
            let slow: String = s
                .chars()
                .map(|c| {
                    if forbidden_char(c) {
                        visible(c)
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            assert_eq!(one_line(s), slow);
        }
    }
}
