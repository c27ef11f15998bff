//! PowerShell: single-quoted (verbatim) strings and `#` comments, after the PowerShell
//! Language Specification 3.0, § 2.2 (lexical grammar):
//!
//! - a verbatim string is delimited by any *single-quote-character*: `'` (U+0027), `‘`
//!   (U+2018), `’` (U+2019), `‚` (U+201A) or `‛` (U+201B); inside it, two of them stand
//!   for one, and nothing else is special (no `$`, no backtick);
//! - a single-line comment runs from `#` to the next *new-line-character* (CR, LF).
//!
//! So a string doubles every single-quote-character (keeping which one it is), and a
//! comment writes every control and separator character as `\u{..}` text. Scripts are
//! written as UTF-8 with a byte-order mark ([`BOM`]): Windows PowerShell 5.1 reads a file
//! without one in the ANSI code page, where the bytes of some UTF-8 characters read as
//! `‘` or `’` and would close a string.

/// The UTF-8 byte-order mark a script starts with.
pub const BOM: &str = "\u{feff}";

/// The characters that delimit a verbatim string.
pub const SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201a}', '\u{201b}'];

/// A verbatim string literal: `'it''s'`, `'Kevin’’s PCs'`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if SINGLE_QUOTES.contains(&c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// Text for a `#` comment: on one line, whatever the name holds.
pub fn comment(s: &str) -> std::borrow::Cow<'_, str> {
    super::one_line(s)
}

#[cfg(test)]
pub(crate) mod tokenizer {
    //! A PowerShell tokenizer for the tests, following the specification's rules for what
    //! the export can contain: new lines, comments (single-line and delimited), verbatim
    //! and expandable strings (and their here-string forms), and everything else as
    //! "code" characters. No PowerShell runs here, so this is the judge of the scripts.

    use super::SINGLE_QUOTES;

    const DOUBLE_QUOTES: [char; 3] = ['"', '\u{201c}', '\u{201d}'];

    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Token {
        NewLine,
        Comment(String),
        /// A verbatim string's value.
        Verbatim(String),
        /// An expandable string's raw text.
        Expandable(String),
        /// A run of other characters (code).
        Code(String),
    }

    fn is_new_line(c: char) -> bool {
        c == '\r' || c == '\n'
    }

    /// Tokens of a script; `Err` when a string or a delimited comment is not closed.
    pub fn tokenize(script: &str) -> Result<Vec<Token>, String> {
        let chars: Vec<char> = script.trim_start_matches('\u{feff}').chars().collect();
        let mut tokens = Vec::new();
        let mut code = String::new();
        let mut i = 0;
        let flush = |code: &mut String, tokens: &mut Vec<Token>| {
            if !code.is_empty() {
                tokens.push(Token::Code(std::mem::take(code)));
            }
        };
        while i < chars.len() {
            let c = chars[i];
            if is_new_line(c) {
                flush(&mut code, &mut tokens);
                if c == '\r' && chars.get(i + 1) == Some(&'\n') {
                    i += 1;
                }
                tokens.push(Token::NewLine);
                i += 1;
            } else if c == '<' && chars.get(i + 1) == Some(&'#') {
                flush(&mut code, &mut tokens);
                let start = i + 2;
                let mut j = start;
                loop {
                    if j + 1 >= chars.len() {
                        return Err("unclosed <# comment".into());
                    }
                    if chars[j] == '#' && chars[j + 1] == '>' {
                        break;
                    }
                    j += 1;
                }
                tokens.push(Token::Comment(chars[start..j].iter().collect()));
                i = j + 2;
            } else if c == '#' {
                flush(&mut code, &mut tokens);
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && !is_new_line(chars[j]) {
                    j += 1;
                }
                tokens.push(Token::Comment(chars[start..j].iter().collect()));
                i = j;
            } else if SINGLE_QUOTES.contains(&c) {
                flush(&mut code, &mut tokens);
                let mut value = String::new();
                let mut j = i + 1;
                loop {
                    let Some(&d) = chars.get(j) else {
                        return Err("unclosed verbatim string".into());
                    };
                    if SINGLE_QUOTES.contains(&d) {
                        if chars.get(j + 1).is_some_and(|e| SINGLE_QUOTES.contains(e)) {
                            value.push(chars[j + 1]);
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    value.push(d);
                    j += 1;
                }
                tokens.push(Token::Verbatim(value));
                i = j + 1;
            } else if DOUBLE_QUOTES.contains(&c) {
                flush(&mut code, &mut tokens);
                let mut raw = String::new();
                let mut j = i + 1;
                loop {
                    let Some(&d) = chars.get(j) else {
                        return Err("unclosed expandable string".into());
                    };
                    if d == '`' {
                        raw.push(d);
                        if let Some(&e) = chars.get(j + 1) {
                            raw.push(e);
                        }
                        j += 2;
                        continue;
                    }
                    if DOUBLE_QUOTES.contains(&d) {
                        if chars.get(j + 1).is_some_and(|e| DOUBLE_QUOTES.contains(e)) {
                            raw.push(d);
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    raw.push(d);
                    j += 1;
                }
                tokens.push(Token::Expandable(raw));
                i = j + 1;
            } else {
                code.push(c);
                i += 1;
            }
        }
        flush(&mut code, &mut tokens);
        Ok(tokens)
    }

    /// The shape of a script: its tokens with string values and comment texts blanked,
    /// so two scripts that differ only in data have the same shape.
    pub fn shape(tokens: &[Token]) -> Vec<Token> {
        tokens
            .iter()
            .map(|t| match t {
                Token::Comment(_) => Token::Comment(String::new()),
                Token::Verbatim(_) => Token::Verbatim(String::new()),
                other => other.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::tokenizer::{Token, tokenize};
    use super::*;
    use crate::escape::strategies;
    use proptest::prelude::*;

    #[test]
    fn quotes_double_every_single_quote_character() {
        assert_eq!(quote("HQ desktops"), "'HQ desktops'");
        assert_eq!(quote("it's"), "'it''s'");
        assert_eq!(quote("Kevin\u{2019}s"), "'Kevin\u{2019}\u{2019}s'");
        assert_eq!(comment("a\nRemove-Item C:\\"), "a\\u{000a}Remove-Item C:\\");
    }

    #[test]
    fn tokenizer_follows_the_specification() {
        let t = tokenize("# a\r\nx 'it\u{2019}\u{2019}s' \"b`\"c\" <# d #>").unwrap();
        assert_eq!(
            t,
            vec![
                Token::Comment(" a".into()),
                Token::NewLine,
                Token::Code("x ".into()),
                Token::Verbatim("it\u{2019}s".into()),
                Token::Code(" ".into()),
                Token::Expandable("b`\"c".into()),
                Token::Code(" ".into()),
                Token::Comment(" d ".into()),
            ]
        );
        // Any single-quote-character closes a verbatim string; two of them stand for one.
        assert_eq!(
            tokenize("'a\u{2019}").unwrap(),
            vec![Token::Verbatim("a".into())]
        );
        assert!(tokenize("'a\u{2019}\u{2019}").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// A quoted name is one verbatim string whose value is the name.
        #[test]
        fn quoted_names_come_back_intact(name in strategies::name()) {
            let script = format!("$x -eq {}\n", quote(&name));
            let tokens = tokenize(&script).unwrap();
            prop_assert_eq!(
                tokens,
                vec![
                    Token::Code("$x -eq ".into()),
                    Token::Verbatim(name.clone()),
                    Token::NewLine,
                ]
            );
        }

        /// A comment stays one comment on its line.
        #[test]
        fn comments_stay_on_their_line(name in strategies::name()) {
            let script = format!("# {}\nReset\n", comment(&name));
            let tokens = tokenize(&script).unwrap();
            prop_assert_eq!(tokens.len(), 4);
            prop_assert!(matches!(tokens[0], Token::Comment(_)));
            prop_assert_eq!(&tokens[2], &Token::Code("Reset".into()));
        }
    }
}
