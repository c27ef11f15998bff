//! The source registry: every file the model was read from (user files and the built-in
//! catalog), its display name and its text, so that any [`Span`] can be turned into a
//! file, line and column.
//!
//! This module owns text and positions only; it knows nothing of KDL or of diagnostics.

use std::sync::Arc;

/// Index of a file in the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialOrd, Ord)]
pub struct Span {
    pub source: SourceId,
    pub start: usize,
    pub end: usize,
}

thread_local! {
    /// Set by [`ignoring_spans`]: every span equals every other.
    static SPANS_IGNORED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl PartialEq for Span {
    fn eq(&self, other: &Self) -> bool {
        (self.source == other.source && self.start == other.start && self.end == other.end)
            || SPANS_IGNORED.with(std::cell::Cell::get)
    }
}

impl Eq for Span {}

impl std::hash::Hash for Span {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.source, self.start, self.end).hash(state);
    }
}

/// Runs `compare` on this thread with every span equal to every other, so that the
/// model's own equality compares what the model says, not where it is written: the
/// language server's re-check asks whether an edit that moved nodes changed what the
/// flows read (`check/reuse.rs`). Only comparisons belong in `compare` (no hashing,
/// no map lookups by span); the spans compare as usual again when it returns or unwinds.
pub fn ignoring_spans<R>(compare: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SPANS_IGNORED.with(|f| f.set(self.0));
        }
    }
    let _restore = Restore(SPANS_IGNORED.with(|f| f.replace(true)));
    compare()
}

impl Span {
    pub fn new(source: SourceId, start: usize, end: usize) -> Self {
        Self {
            source,
            start,
            end: end.max(start),
        }
    }

    /// A span of `len` bytes starting `offset` bytes into this one, clamped to it.
    #[must_use]
    pub fn sub(self, offset: usize, len: usize) -> Self {
        let start = (self.start + offset).min(self.end);
        Self::new(self.source, start, (start + len).min(self.end))
    }

    pub fn len(self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }
}

/// A value together with the place it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// One file: its name as shown to users (relative, `/`-separated) and its text.
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    /// Whether this is part of the built-in catalog rather than the user's model.
    pub builtin: bool,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: String, text: Arc<str>, builtin: bool) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            name,
            text,
            builtin,
            line_starts,
        }
    }

    /// 1-based line and column (columns count characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let col = self.text[self.line_starts[line]..offset].chars().count() + 1;
        (line + 1, col)
    }

    /// The text of line `line` (1-based), without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1];
        let end = self.line_starts.get(line).map_or(self.text.len(), |&e| e);
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Every file of one run, addressed by [`SourceId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, file: SourceFile) -> SourceId {
        let id = SourceId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(file);
        id
    }

    pub fn get(&self, id: SourceId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = (SourceId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (SourceId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    /// Renames the user files (`diff` shows two revisions of a model under the same
    /// names); `rename` returns the new name, or `None` to keep the old one.
    pub fn rename_user_files(&mut self, mut rename: impl FnMut(&str) -> Option<String>) {
        for file in self.files.iter_mut().filter(|f| !f.builtin) {
            if let Some(name) = rename(&file.name) {
                file.name = name;
            }
        }
    }

    /// The number of files, the catalog's included.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The number of user files (the catalog excluded).
    pub fn user_file_count(&self) -> usize {
        self.files.iter().filter(|f| !f.builtin).count()
    }

    /// Start and end positions of a span: `((line, col), (line, col))`, 1-based, end exclusive.
    pub fn range(&self, span: Span) -> ((usize, usize), (usize, usize)) {
        let file = self.get(span.source);
        (file.line_col(span.start), file.line_col(span.end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let f = SourceFile::new("a.kdl".into(), "ab\nçé x\n".into(), false);
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // "çé " is 5 bytes, 3 characters
        assert_eq!(f.line_col(8), (2, 4));
        assert_eq!(f.line_text(2), "çé x");
        assert_eq!(f.line_col(999), (3, 1));
    }
}

#[cfg(test)]
mod span_tests {
    use super::{SourceId, Span, ignoring_spans};

    #[test]
    fn spans_are_equal_only_where_they_are_ignored() {
        let (a, b) = (Span::new(SourceId(0), 1, 2), Span::new(SourceId(0), 5, 9));
        assert_ne!(a, b);
        assert!(ignoring_spans(|| a == b));
        assert!(ignoring_spans(|| vec![a] == vec![b]));
        assert_ne!(a, b, "restored after the comparison");
        let unwound = std::panic::catch_unwind(|| ignoring_spans(|| panic!("in a comparison")));
        assert!(unwound.is_err());
        assert_ne!(a, b, "restored after a panic");
    }
}
