//! A lexical pre-scan of a KDL file, before the `kdl` parser sees it: how deep it nests
//! and how many tokens it holds, so that hostile input gets a diagnostic instead of a
//! stack overflow or gigabytes of memory.
//!
//! The `kdl` parser recurses on children blocks, nested block comments and chains of
//! slashdashes, and builds a node of a few hundred bytes per token. The scan follows the
//! lexical grammar of KDL 2 (strings with escapes, multi-line and raw strings with their
//! hashes, nested block comments) and, since the parser falls back to KDL 1 when a file
//! is not KDL 2, also that of KDL 1 (strings across lines, `r#"..."#` raw strings); a file
//! must pass under both readings. Where the two could disagree with the parser (an
//! unterminated string or comment), the scan reads the rest as code, so that it counts
//! at least as many openings as any parser could see.

/// What the scan found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// The deepest `{` and where it opens.
    pub braces: Depth,
    /// The deepest nested block comment and where it opens.
    pub comments: Depth,
    /// The longest chain of `/-` and where it starts.
    pub slashdashes: Depth,
    /// Strings, words and numbers: each becomes a node name, argument or property.
    pub tokens: usize,
    /// Where the token past [`MAX_TOKENS`] starts, if there is one.
    pub too_many_at: Option<usize>,
}

/// The most tokens (node names, arguments, properties) cmflow reads from one file: the
/// `kdl` parser keeps a few hundred bytes per token, so this bounds a file's memory to
/// about 200 MB. The largest file of the largest generated model (9,300 servers) holds
/// about 25,000.
pub const MAX_TOKENS: usize = 500_000;

/// The most tokens cmflow reads from all files of a model: about seven times the largest
/// generated model (about 300,000), and about 1 GB of parsed documents.
pub const MAX_TOTAL_TOKENS: usize = 2_000_000;

/// Children, block comments and `/-` chains nested deeper than this are refused before
/// parsing: the parser recurses, and the language needs five levels.
pub const MAX_NESTING: usize = 128;

/// A maximum, and the byte offset where it first passed [`MAX_NESTING`] (or, below that,
/// where it was reached).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Depth {
    pub max: usize,
    pub at: usize,
}

impl Depth {
    fn see(&mut self, depth: usize, at: usize) {
        if depth > self.max {
            self.max = depth;
            if depth <= MAX_NESTING + 1 {
                self.at = at;
            }
        }
    }

    fn merge(self, other: Depth) -> Depth {
        if other.max > self.max { other } else { self }
    }
}

/// Scans `text` under both KDL 2 and KDL 1 lexical rules and keeps the worst of each.
pub fn scan(text: &str) -> Scan {
    let v2 = Lexer::new(text, false).run();
    let v1 = Lexer::new(text, true).run();
    Scan {
        braces: v2.braces.merge(v1.braces),
        comments: v2.comments.merge(v1.comments),
        slashdashes: v2.slashdashes.merge(v1.slashdashes),
        tokens: v2.tokens.max(v1.tokens),
        too_many_at: match (v2.too_many_at, v1.too_many_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
    }
}

fn is_newline(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{85}' | '\u{b}' | '\u{c}' | '\u{2028}' | '\u{2029}'
    )
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// Characters that end a bare word (identifier or number).
fn ends_word(c: char) -> bool {
    is_space(c)
        || matches!(
            c,
            '{' | '}' | '(' | ')' | ';' | '"' | '=' | '/' | '\\' | '[' | ']'
        )
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    v1: bool,
    i: usize,
    out: Scan,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str, v1: bool) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            v1,
            i: 0,
            out: Scan::default(),
        }
    }

    fn at(&self, s: &str) -> bool {
        self.bytes[self.i..].starts_with(s.as_bytes())
    }

    fn char_at(&self, i: usize) -> Option<char> {
        self.text.get(i..).and_then(|s| s.chars().next())
    }

    fn token(&mut self, at: usize) {
        self.out.tokens += 1;
        if self.out.tokens == MAX_TOKENS + 1 {
            self.out.too_many_at = Some(at);
        }
    }

    fn run(mut self) -> Scan {
        let mut depth = 0usize;
        let mut chain = 0usize;
        while let Some(c) = self.char_at(self.i) {
            let start = self.i;
            if self.at("//") {
                self.skip_line();
                continue;
            }
            if self.at("/*") {
                if !self.skip_block_comment() {
                    self.i += 2;
                }
                continue;
            }
            if self.at("/-") {
                chain += 1;
                self.out.slashdashes.see(chain, start);
                self.i += 2;
                continue;
            }
            if is_space(c) {
                self.i += c.len_utf8();
                continue;
            }
            chain = 0;
            match c {
                '{' => {
                    depth += 1;
                    self.out.braces.see(depth, start);
                    self.i += 1;
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    self.i += 1;
                }
                '"' => {
                    self.token(start);
                    if !self.skip_string() {
                        self.i += 1;
                    }
                }
                '#' if !self.v1 && self.raw_hashes(self.i).is_some() => {
                    self.token(start);
                    if !self.skip_raw(self.i) {
                        self.i += 1;
                    }
                }
                'r' if self.v1 && self.raw_hashes(self.i + 1).is_some() => {
                    self.token(start);
                    if !self.skip_raw(self.i + 1) {
                        self.i += 1;
                    }
                }
                ';' | '=' | '(' | ')' | '\\' | '[' | ']' | '/' => self.i += c.len_utf8(),
                _ => {
                    self.token(start);
                    while let Some(d) = self.char_at(self.i) {
                        if ends_word(d) {
                            break;
                        }
                        self.i += d.len_utf8();
                    }
                }
            }
        }
        self.out
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.char_at(self.i) {
            if is_newline(c) {
                return;
            }
            self.i += c.len_utf8();
        }
    }

    /// Skips a (nested) block comment; `false`, moving nothing, when it is not closed.
    fn skip_block_comment(&mut self) -> bool {
        let start = self.i;
        let mut j = self.i + 2;
        let mut depth = 1usize;
        let mut deepest = Depth::default();
        deepest.see(1, start);
        while j < self.bytes.len() {
            if self.bytes[j..].starts_with(b"/*") {
                depth += 1;
                deepest.see(depth, j);
                j += 2;
            } else if self.bytes[j..].starts_with(b"*/") {
                depth -= 1;
                j += 2;
                if depth == 0 {
                    self.out.comments = self.out.comments.merge(deepest);
                    self.i = j;
                    return true;
                }
            } else {
                j += 1;
            }
        }
        // Unclosed: count what was opened, then read the rest as code.
        self.out.comments = self.out.comments.merge(deepest);
        false
    }

    /// The number of `#` of a raw string opening at `i` (KDL 2: `#"`, `##"""`; KDL 1
    /// after `r`: `"`, `#"`).
    fn raw_hashes(&self, i: usize) -> Option<usize> {
        let rest = self.bytes.get(i..)?;
        let hashes = rest.iter().take_while(|&&b| b == b'#').count();
        if !self.v1 && hashes == 0 {
            return None;
        }
        (rest.get(hashes) == Some(&b'"')).then_some(hashes)
    }

    /// Skips a raw string opening at `i`; `false` when it is not closed.
    fn skip_raw(&mut self, i: usize) -> bool {
        let Some(hashes) = self.raw_hashes(i) else {
            return false;
        };
        let open = i + hashes + 1;
        let multi = !self.v1 && self.bytes[open..].starts_with(b"\"\"");
        let close: Vec<u8> = if multi { "\"\"\"" } else { "\"" }
            .bytes()
            .chain(std::iter::repeat_n(b'#', hashes))
            .collect();
        let mut j = if multi { open + 2 } else { open };
        while j < self.bytes.len() {
            if self.bytes[j..].starts_with(&close) {
                self.i = j + close.len();
                return true;
            }
            // A single-line KDL 2 raw string ends at the line: read what follows as code.
            if !multi && !self.v1 && self.char_at(j).is_some_and(is_newline) {
                return false;
            }
            j += 1;
        }
        false
    }

    /// Skips a quoted string (KDL 2 single- or multi-line, KDL 1 across lines); `false`
    /// when it is not closed.
    fn skip_string(&mut self) -> bool {
        let multi = !self.v1 && self.at("\"\"\"");
        let mut j = self.i + if multi { 3 } else { 1 };
        while let Some(c) = self.char_at(j) {
            match c {
                '\\' => {
                    j += 1;
                    if let Some(d) = self.char_at(j) {
                        j += d.len_utf8();
                    }
                    continue;
                }
                '"' if !multi => {
                    self.i = j + 1;
                    return true;
                }
                '"' if self.bytes[j..].starts_with(b"\"\"\"") => {
                    self.i = j + 3;
                    return true;
                }
                c if !multi && !self.v1 && is_newline(c) => return false,
                _ => {}
            }
            j += c.len_utf8();
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn braces(text: &str) -> usize {
        scan(text).braces.max
    }

    #[test]
    fn braces_in_strings_and_comments_do_not_count() {
        assert_eq!(braces("a \"{{{{\" // {{{{\n"), 0);
        assert_eq!(braces(&format!("a /* {} */", "{".repeat(200))), 0);
        assert_eq!(braces("a #\"{{\"# {\n}"), 1);
        assert_eq!(braces("a \"\"\"\n{{{\n\"\"\" {\n}"), 1);
        assert_eq!(braces("a {\n b {\n }\n}"), 2);
    }

    #[test]
    fn a_raw_string_ending_in_a_backslash_does_not_hide_what_follows() {
        // `#"C:\"#` is the raw string `C:\`: the braces after it are code.
        let text = format!("a #\"C:\\\"# {}", "{".repeat(400));
        assert_eq!(braces(&text), 400);
        assert_eq!(scan(&text).braces.at, 10 + MAX_NESTING);
    }

    #[test]
    fn unterminated_strings_and_comments_leave_the_rest_as_code() {
        assert_eq!(braces(&format!("a \"x\n{}", "{".repeat(5))), 5);
        assert_eq!(braces(&format!("a /* {}", "{".repeat(5))), 5);
        assert_eq!(braces(&format!("a \"\"\" {}", "{".repeat(5))), 5);
    }

    #[test]
    fn kdl1_strings_spanning_lines_are_read_both_ways() {
        // KDL 2 ends the string at the line; KDL 1 reads `""` and then `"\n"`, leaving
        // the braces as code either way.
        let text = format!("a \"\"\"\n\" {}", "{".repeat(7));
        assert_eq!(braces(&text), 7);
    }

    #[test]
    fn nested_comments_and_slashdash_chains() {
        let s = scan(&format!("{}x{}", "/*".repeat(50), "*/".repeat(50)));
        assert_eq!(s.comments.max, 50);
        assert_eq!(s.comments.at, 98);
        let s = scan(&format!("{}a", "/- ".repeat(30)));
        assert_eq!(s.slashdashes.max, 30);
    }

    #[test]
    fn tokens() {
        assert_eq!(scan("site \"P01\" type=\"primary\" {\n  x 1\n}").tokens, 6);
        assert_eq!(scan("a;a;a;a").tokens, 4);
    }
}
