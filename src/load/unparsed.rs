//! Files that do not parse: one diagnostic per mistake, a KDL 2 hint for KDL 1 habits,
//! and no cascade into the rest of the model.
//!
//! The `kdl` parser reports a missing brace or quote twice (the block that is not
//! closed, then the end of the document it did not expect); the second is dropped. A
//! value written as KDL 1 wrote it (`true`, `false`, `null`) gets the KDL 2 spelling.
//! References to names the unparsed file may declare are not reported: the file's
//! own syntax error is the cause, and fixing it fixes them; the checks that judge what
//! the model lacks skip what names them (`Model::unparsed_words`).

use std::collections::HashSet;

use crate::diag::{Diagnostic, Fix};
use crate::model::{Model, Span};

use super::codes::UNKNOWN_REFERENCE;

/// Messages the parser gives after an earlier error of the same file that they follow
/// from: the end of a document after an unclosed block or string.
const FOLLOW_ONS: [&str; 2] = [
    "Expected end of document",
    "Closing '}' was not found after nodes",
];

/// The parser's errors without those that only follow from an earlier one.
pub fn first_errors(errors: Vec<kdl::KdlDiagnostic>) -> Vec<kdl::KdlDiagnostic> {
    let mut kept: Vec<kdl::KdlDiagnostic> = Vec::with_capacity(errors.len());
    for e in errors {
        let follow_on = e
            .message
            .as_deref()
            .is_some_and(|m| FOLLOW_ONS.contains(&m));
        if follow_on && !kept.is_empty() {
            continue;
        }
        kept.push(e);
    }
    kept
}

/// KDL 1 keywords and their KDL 2 spelling.
const KDL1_KEYWORDS: [(&str, &str); 6] = [
    ("true", "#true"),
    ("false", "#false"),
    ("null", "#null"),
    ("inf", "#inf"),
    ("-inf", "#-inf"),
    ("nan", "#nan"),
];

/// A syntax error at a KDL 1 keyword: its message, help, and the fix that writes the
/// KDL 2 spelling in place of the keyword.
#[derive(Debug, PartialEq, Eq)]
pub struct Kdl1Hint {
    pub message: String,
    pub help: String,
    pub fix: Fix,
}

/// The hint for a syntax error at a KDL 1 keyword: `pxe=true` is `pxe=#true` in KDL 2.
pub fn kdl1_hint(text: &str, at: Span) -> Option<Kdl1Hint> {
    let rest = text.get(at.start..)?;
    let word: &str = rest
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '{' | '}' | ')' | '/'))
        .next()?;
    let (_, kdl2) = KDL1_KEYWORDS.iter().find(|(k, _)| *k == word)?;
    Some(Kdl1Hint {
        message: format!("`{word}` is not a value in KDL 2"),
        help: format!("cmflow reads KDL 2, where `{word}` is written `{kdl2}`"),
        fix: Fix {
            span: Span::new(at.source, at.start, at.start + word.len()),
            replacement: (*kdl2).to_owned(),
        },
    })
}

/// Drops the `schema/unknown-reference` diagnostics whose name an unparsed file may
/// declare, and records those names in the model (`Model::unparsed_words`) for the
/// checks.
pub fn drop_cascades(model: &mut Model, diagnostics: &mut Vec<Diagnostic>) {
    if model.unparsed.is_empty() {
        return;
    }
    let mut words: HashSet<&str> = HashSet::new();
    for &id in &model.unparsed {
        collect_words(&model.sources.get(id).text, &mut words);
    }
    diagnostics.retain(|d| {
        d.code != UNKNOWN_REFERENCE.code || !quoted_names(&d.message).any(|n| words.contains(n))
    });
    let owned = words.into_iter().map(str::to_owned).collect();
    model.unparsed_words = owned;
}

/// The names a message quotes in backticks.
fn quoted_names(message: &str) -> impl Iterator<Item = &str> {
    message.split('`').skip(1).step_by(2)
}

/// Every string of a file that may be a name: quoted strings whole and split at the
/// separators of endpoint lists (`,` `:` `@`), and bare words.
fn collect_words<'t>(text: &'t str, words: &mut HashSet<&'t str>) {
    let mut add = |s: &'t str| {
        let s = s.trim();
        if !s.is_empty() {
            words.insert(s);
            for piece in s.split([',', ':', '@', '=']) {
                let piece = piece.trim();
                if !piece.is_empty() {
                    words.insert(piece);
                }
            }
        }
    };
    for (i, part) in text.split('"').enumerate() {
        if i % 2 == 1 {
            add(part);
        } else {
            for word in part.split(|c: char| c.is_whitespace() || "{};()".contains(c)) {
                add(word);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceId;

    #[test]
    fn kdl1_keywords_get_their_kdl2_spelling() {
        let text = "server \"x\" pxe=true other=null\n";
        let at = |needle: &str| {
            let start = text.find(needle).expect("in text");
            Span::new(SourceId(0), start, start + needle.len())
        };
        assert_eq!(
            kdl1_hint(text, at("true")),
            Some(Kdl1Hint {
                message: "`true` is not a value in KDL 2".to_owned(),
                help: "cmflow reads KDL 2, where `true` is written `#true`".to_owned(),
                fix: Fix {
                    span: at("true"),
                    replacement: "#true".to_owned(),
                },
            })
        );
        let null = kdl1_hint(text, at("null")).expect("a KDL 1 keyword");
        assert!(null.help.contains("`#null`"));
        assert_eq!(
            (null.fix.span, null.fix.replacement.as_str()),
            (at("null"), "#null")
        );
        // The parser's span may cover more than the word: the fix replaces the word.
        let wide = Span::new(SourceId(0), at("true").start, text.len());
        assert_eq!(kdl1_hint(text, wide).map(|h| h.fix.span), Some(at("true")));
        assert_eq!(kdl1_hint(text, at("server")), None);
    }

    #[test]
    fn names_in_an_unparsed_file_include_endpoint_list_pieces() {
        let mut words = HashSet::new();
        collect_words(
            "site \"P01\" {\n  clients \"HQ desktops\" zone=hq to=\"role:mp@P02,zone:dmz\"\n",
            &mut words,
        );
        for w in ["P01", "HQ desktops", "hq", "mp", "P02", "dmz"] {
            assert!(words.contains(w), "{w}: {words:?}");
        }
    }

    #[test]
    fn quoted_names_are_the_backticked_parts() {
        let names: Vec<&str> = quoted_names("site `P01` of `cm01` does not exist").collect();
        assert_eq!(names, ["P01", "cm01"]);
    }
}
