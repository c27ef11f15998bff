//! Byte offsets (what spans hold) to and from protocol positions: a zero-based line and
//! a column counted in UTF-16 code units (the protocol's default) or in bytes (when the
//! client accepts `utf-8`).
//!
//! A line ends at `\n`; a `\r` before it belongs to the line's text, which is what
//! editors send back in positions (they never point between `\r` and `\n`).

use lsp_types::{Position, Range};

/// How a position's column counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

/// Where each line of a text starts, for converting many offsets of one text.
pub struct LineIndex<'t> {
    text: &'t str,
    /// The byte offset of the start of each line; the first is 0.
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }

    /// The position of byte `offset` (clamped to the text, and back to a character
    /// boundary).
    pub fn position(&self, offset: usize, encoding: Encoding) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let before = &self.text[self.starts[line]..offset];
        let column = match encoding {
            Encoding::Utf8 => before.len(),
            Encoding::Utf16 => before.encode_utf16().count(),
        };
        Position::new(saturate(line), saturate(column))
    }

    pub fn range(&self, start: usize, end: usize, encoding: Encoding) -> Range {
        Range::new(self.position(start, encoding), self.position(end, encoding))
    }

    /// The byte offset of `position`: a line past the end is the end of the text; a
    /// column past the end of its line is the end of the line; a column inside a
    /// character (half a surrogate pair, a byte inside a UTF-8 sequence) is the start of
    /// the character.
    pub fn offset(&self, position: Position, encoding: Encoding) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return self.text.len();
        };
        let end = self
            .starts
            .get(position.line as usize + 1)
            .map_or(self.text.len(), |&next| next - 1);
        let line = &self.text[start..end];
        let wanted = position.character as usize;
        let mut units = 0;
        for (i, c) in line.char_indices() {
            let width = match encoding {
                Encoding::Utf8 => c.len_utf8(),
                Encoding::Utf16 => c.len_utf16(),
            };
            if units + width > wanted {
                return start + i;
            }
            units += width;
        }
        end
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "zone \"é\"\r\nsite \"𝄞x\" a=1\n\nend";

    #[test]
    fn ascii_positions_are_the_same_in_both_encodings() {
        let index = LineIndex::new("a\nbc\n");
        for encoding in [Encoding::Utf8, Encoding::Utf16] {
            assert_eq!(index.position(0, encoding), Position::new(0, 0));
            assert_eq!(index.position(3, encoding), Position::new(1, 1));
            assert_eq!(index.position(5, encoding), Position::new(2, 0));
            assert_eq!(index.offset(Position::new(1, 1), encoding), 3);
            assert_eq!(index.offset(Position::new(2, 0), encoding), 5);
        }
    }

    #[test]
    fn non_ascii_columns_count_utf16_units_or_bytes() {
        let index = LineIndex::new(TEXT);
        // `"` after é: byte 8 of line 0; é is 2 bytes, 1 UTF-16 unit.
        assert_eq!(index.position(8, Encoding::Utf16), Position::new(0, 7));
        assert_eq!(index.position(8, Encoding::Utf8), Position::new(0, 8));
        // `x` after 𝄞 (4 bytes, 2 UTF-16 units) on line 1 (starts at byte 11).
        let x = TEXT.find('x').unwrap();
        assert_eq!(index.position(x, Encoding::Utf16), Position::new(1, 8));
        assert_eq!(index.position(x, Encoding::Utf8), Position::new(1, 10));
        assert_eq!(index.offset(Position::new(1, 8), Encoding::Utf16), x);
        assert_eq!(index.offset(Position::new(1, 10), Encoding::Utf8), x);
    }

    #[test]
    fn offsets_round_trip_through_positions() {
        let index = LineIndex::new(TEXT);
        for (offset, _) in TEXT.char_indices() {
            for encoding in [Encoding::Utf8, Encoding::Utf16] {
                let p = index.position(offset, encoding);
                assert_eq!(index.offset(p, encoding), offset, "{offset} {encoding:?}");
            }
        }
    }

    #[test]
    fn out_of_range_positions_and_offsets_are_clamped() {
        let index = LineIndex::new(TEXT);
        // Half of the surrogate pair of 𝄞: the start of the character.
        let clef = TEXT.find('𝄞').unwrap();
        assert_eq!(index.offset(Position::new(1, 7), Encoding::Utf16), clef);
        assert_eq!(index.offset(Position::new(1, 7), Encoding::Utf8), clef);
        // Past the end of line 0: before its `\n` (the `\r` is the line's).
        assert_eq!(index.offset(Position::new(0, 99), Encoding::Utf16), 10);
        assert_eq!(
            index.offset(Position::new(9, 0), Encoding::Utf16),
            TEXT.len()
        );
        assert_eq!(
            index.position(TEXT.len() + 5, Encoding::Utf16),
            Position::new(3, 3)
        );
        // Inside é: back to its start.
        assert_eq!(index.position(7, Encoding::Utf16), Position::new(0, 6));
        let empty = LineIndex::new("");
        assert_eq!(empty.position(0, Encoding::Utf16), Position::new(0, 0));
        assert_eq!(empty.offset(Position::new(0, 4), Encoding::Utf16), 0);
    }
}
