//! cmflow's diagnostics and fixes to protocol types: ranges in the client's position
//! encoding, rule codes with their documentation link, labels as related information,
//! and a diagnostic's fix as a quick fix.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity,
    Location, NumberOrString, Range, TextEdit, Url, WorkspaceEdit,
};

use super::position::{Encoding, LineIndex};
use crate::diag::{Diagnostic, Fix, Severity};
use crate::model::{SourceId, SourceMap, Span};

/// Where each source of a model is, for the client: its URI and the line index of the
/// text its spans count in. Built-in sources (the catalog) have none.
pub struct Locator<'m> {
    sources: &'m SourceMap,
    uris: &'m [Option<Url>],
    encoding: Encoding,
    lines: HashMap<SourceId, LineIndex<'m>>,
}

impl<'m> Locator<'m> {
    /// `uris` is indexed by source id.
    pub fn new(sources: &'m SourceMap, uris: &'m [Option<Url>], encoding: Encoding) -> Self {
        Self {
            sources,
            uris,
            encoding,
            lines: HashMap::new(),
        }
    }

    pub fn uri(&self, id: SourceId) -> Option<&'m Url> {
        self.uris.get(id.0 as usize).and_then(Option::as_ref)
    }

    pub fn range(&mut self, span: Span) -> Range {
        let sources = self.sources;
        let encoding = self.encoding;
        self.lines
            .entry(span.source)
            .or_insert_with(|| LineIndex::new(&sources.get(span.source).text))
            .range(span.start, span.end, encoding)
    }

    /// The span's place for the client, when its file has a URI.
    pub fn location(&mut self, span: Span) -> Option<Location> {
        let uri = self.uri(span.source)?.clone();
        Some(Location::new(uri, self.range(span)))
    }
}

/// A diagnostic as the protocol shows it: the `short` format's message and help, the rule
/// code linked to its documentation, labels as related information, and the fix (when
/// there is one) in `data` as `{"fix": {"uri", "range", "newText"}}`.
pub fn diagnostic(d: &Diagnostic, at: &mut Locator<'_>) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter_map(|label| {
            Some(DiagnosticRelatedInformation {
                location: at.location(label.span)?,
                message: label.text.clone(),
            })
        })
        .collect();
    let data = d.fix.as_ref().and_then(|fix| {
        let uri = at.uri(fix.span.source)?;
        let range = at.range(fix.span);
        Some(serde_json::json!({
            "fix": { "uri": uri, "range": range, "newText": fix.replacement },
        }))
    });
    lsp_types::Diagnostic {
        range: at.range(d.primary.span),
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(d.code.to_owned())),
        code_description: rule_url(d.code).map(|href| CodeDescription { href }),
        source: Some("cmflow".to_owned()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data,
    }
}

pub fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// The documentation page of the rule `code` (every code cmflow reports has one).
fn rule_url(code: &str) -> Option<Url> {
    let rule = crate::rules::RULES.iter().find(|r| r.code == code)?;
    Url::parse(&rule.url()).ok()
}

/// The quick fixes for the diagnostics a client sends with a code action request: each
/// is matched to a current diagnostic of the same file by code and range, and one with a
/// fix gives an action that applies it.
pub fn code_actions(
    requested: &[lsp_types::Diagnostic],
    file: SourceId,
    current: &[Diagnostic],
    at: &mut Locator<'_>,
) -> Vec<CodeAction> {
    let mut actions = Vec::new();
    for asked in requested {
        let Some(NumberOrString::String(code)) = &asked.code else {
            continue;
        };
        let found = current.iter().find(|d| {
            d.primary.span.source == file
                && d.code == code
                && d.fix.is_some()
                && at.range(d.primary.span) == asked.range
        });
        if let Some((d, fix)) = found.and_then(|d| Some((d, d.fix.as_ref()?)))
            && let Some(action) = quick_fix(d, fix, asked, at)
        {
            actions.push(action);
        }
    }
    actions
}

fn quick_fix(
    d: &Diagnostic,
    fix: &Fix,
    asked: &lsp_types::Diagnostic,
    at: &mut Locator<'_>,
) -> Option<CodeAction> {
    let uri = at.uri(fix.span.source)?.clone();
    let edit = TextEdit::new(at.range(fix.span), fix.replacement.clone());
    let title = if fix.replacement.is_empty() {
        format!("Delete `{}`", fix_text(at.sources, fix))
    } else if fix.span.start == fix.span.end {
        format!("Insert `{}`", fix.replacement)
    } else {
        format!(
            "Replace `{}` with `{}`",
            fix_text(at.sources, fix),
            fix.replacement
        )
    };
    Some(CodeAction {
        title: format!("{title} ({})", d.code),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![asked.clone()]),
        edit: Some(WorkspaceEdit {
            changes: Some(HashMap::from([(uri, vec![edit])])),
            ..WorkspaceEdit::default()
        }),
        is_preferred: Some(true),
        ..CodeAction::default()
    })
}

/// The text a fix replaces.
fn fix_text<'s>(sources: &'s SourceMap, fix: &Fix) -> &'s str {
    sources
        .get(fix.span.source)
        .text
        .get(fix.span.start..fix.span.end)
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Label;
    use crate::load::codes;
    use crate::model::SourceFile;
    use lsp_types::Position;

    fn sources() -> SourceMap {
        let mut map = SourceMap::default();
        map.add(SourceFile::new(
            "m.kdl".into(),
            "site \"É1\" pxe=true\n".into(),
            false,
        ));
        map
    }

    fn uris() -> Vec<Option<Url>> {
        vec![Some(Url::parse("file:///w/m.kdl").unwrap())]
    }

    /// `true` at bytes 15..19 (after `É`, 2 bytes, 1 UTF-16 unit).
    fn kdl1() -> Diagnostic {
        let span = Span::new(SourceId(0), 15, 19);
        Diagnostic::new(
            &codes::KDL_SYNTAX,
            "`true` is not a value in KDL 2",
            Label::new(span, "here"),
        )
        .with_label(Label::new(Span::new(SourceId(0), 0, 4), "in this node"))
        .with_help("cmflow reads KDL 2, where `true` is written `#true`")
        .with_fix(span, "#true")
    }

    #[test]
    fn diagnostics_carry_code_link_related_information_and_fix() {
        let sources = sources();
        let uris = uris();
        let mut at = Locator::new(&sources, &uris, Encoding::Utf16);
        let got = diagnostic(&kdl1(), &mut at);
        let range = Range::new(Position::new(0, 14), Position::new(0, 18));
        assert_eq!(got.range, range);
        assert_eq!(got.severity, Some(DiagnosticSeverity::ERROR));
        assert_eq!(got.code, Some(NumberOrString::String("kdl/syntax".into())));
        assert_eq!(
            got.code_description.unwrap().href.as_str(),
            "https://github.com/cmflow/cmflow/blob/main/docs/rules.md#kdl-syntax"
        );
        assert_eq!(
            got.message,
            "`true` is not a value in KDL 2\nhelp: cmflow reads KDL 2, where `true` is written `#true`"
        );
        let related = got.related_information.unwrap();
        assert_eq!(related.len(), 1);
        assert_eq!(related[0].message, "in this node");
        assert_eq!(
            related[0].location.range,
            Range::new(Position::new(0, 0), Position::new(0, 4))
        );
        assert_eq!(
            got.data.unwrap(),
            serde_json::json!({"fix": {
                "uri": "file:///w/m.kdl",
                "range": {"start": {"line": 0, "character": 14}, "end": {"line": 0, "character": 18}},
                "newText": "#true",
            }})
        );
        // In UTF-8, the column counts É's two bytes.
        let mut at8 = Locator::new(&sources, &uris, Encoding::Utf8);
        assert_eq!(diagnostic(&kdl1(), &mut at8).range.start.character, 15);
    }

    #[test]
    fn a_code_action_applies_the_fix_of_the_matching_diagnostic() {
        let sources = sources();
        let uris = uris();
        let mut at = Locator::new(&sources, &uris, Encoding::Utf16);
        let current = vec![kdl1()];
        let asked = diagnostic(&kdl1(), &mut at);
        let actions = code_actions(std::slice::from_ref(&asked), SourceId(0), &current, &mut at);
        assert_eq!(actions.len(), 1);
        let action = &actions[0];
        assert_eq!(action.title, "Replace `true` with `#true` (kdl/syntax)");
        assert_eq!(action.kind, Some(CodeActionKind::QUICKFIX));
        let changes = action.edit.as_ref().unwrap().changes.as_ref().unwrap();
        let edits = &changes[&Url::parse("file:///w/m.kdl").unwrap()];
        assert_eq!(
            edits,
            &[TextEdit::new(
                Range::new(Position::new(0, 14), Position::new(0, 18)),
                "#true".into()
            )]
        );

        // Another range, another code, or no fix: no action.
        let mut moved = asked.clone();
        moved.range.start.character = 13;
        let mut other = asked.clone();
        other.code = Some(NumberOrString::String("schema/invalid-value".into()));
        let mut no_fix = kdl1();
        no_fix.fix = None;
        assert!(code_actions(&[moved, other], SourceId(0), &current, &mut at).is_empty());
        assert!(code_actions(&[asked], SourceId(0), &[no_fix], &mut at).is_empty());
    }

    #[test]
    fn deletions_and_insertions_are_titled_as_such() {
        let sources = sources();
        let uris = uris();
        let mut at = Locator::new(&sources, &uris, Encoding::Utf16);
        let mut delete = kdl1();
        delete.fix = Some(Fix {
            span: Span::new(SourceId(0), 11, 19),
            replacement: String::new(),
        });
        let mut insert = kdl1();
        insert.fix = Some(Fix {
            span: Span::new(SourceId(0), 19, 19),
            replacement: " pxe-responder=#true".into(),
        });
        let titles: Vec<String> = [delete, insert]
            .iter()
            .map(|d| {
                let asked = diagnostic(d, &mut at);
                code_actions(&[asked], SourceId(0), std::slice::from_ref(d), &mut at)[0]
                    .title
                    .clone()
            })
            .collect();
        assert_eq!(
            titles,
            [
                "Delete `pxe=true` (kdl/syntax)",
                "Insert ` pxe-responder=#true` (kdl/syntax)"
            ]
        );
    }
}
