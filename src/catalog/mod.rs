//! The built-in port catalog: `policies/*.kdl`, embedded in the binary and read by the
//! same node checker as user files (so a mistake in it is a diagnostic with a span into
//! it), compiled into [`CatalogRow`]s the engine instantiates.
//!
//! The catalog is data; this module only reads it. The meaning of relations, conditions
//! and symbolic ports is the engine's.

use std::sync::{Arc, OnceLock};

use crate::diag::Diagnostic;
use crate::engine::Phase;
use crate::load::reader::Reader;
use crate::load::vocabulary::Context;
use crate::model::{SourceFile, SourceId, SourceMap, Span, Value};

/// The embedded catalog files: (name shown in diagnostics, text).
pub const FILES: &[(&str, &str)] = &[(
    "policies/catalog.kdl",
    include_str!("../../policies/catalog.kdl"),
)];

/// The seed documents, by number, as cited in flow references.
pub fn seed_title(seed: &str) -> &'static str {
    match seed {
        "000" | "003" | "004" => {
            "How to configure client communication ports in Configuration Manager"
        }
        "002" => "Windows Firewall and port settings for clients in Configuration Manager",
        _ => "Ports used in Configuration Manager",
    }
}

/// A port as the catalog writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogPort {
    Range(u16, u16),
    /// `client-http`, `sql`, ... resolved from the model's settings.
    Symbolic(String),
}

/// One condition atom of `when`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Atom {
    pub negated: bool,
    /// `from`, `to`, `site` or `hierarchy`.
    pub subject: String,
    pub property: String,
    pub test: AtomTest,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AtomTest {
    /// The property is true (booleans) or set (others).
    Holds,
    Equals(String),
    GreaterThan(i64),
}

/// One table row of one section, with the section's defaults applied.
#[derive(Clone, Debug)]
pub struct CatalogRow {
    pub anchor: String,
    pub seed: String,
    pub title: String,
    pub service: String,
    pub seed_row: String,
    pub from: String,
    pub to: String,
    pub relation: String,
    pub bidirectional: bool,
    pub phase: Phase,
    pub when: Vec<Atom>,
    pub tcp: Option<CatalogPort>,
    pub udp: Option<CatalogPort>,
    pub icmp: bool,
    pub span: Span,
}

impl CatalogRow {
    /// `Ports used in Configuration Manager: Client --> Management point`.
    pub fn reference(&self) -> String {
        format!("{}: {}", seed_title(&self.seed), self.title)
    }
}

/// A documented row deliberately not instantiated.
#[derive(Clone, Debug)]
pub struct NotApplicable {
    pub anchor: String,
    pub seed: String,
    pub row: String,
    pub reason: String,
}

/// The whole catalog.
#[derive(Debug, Default)]
pub struct Catalog {
    pub sources: SourceMap,
    pub rows: Vec<CatalogRow>,
    pub not_applicable: Vec<NotApplicable>,
    /// Problems found in the catalog itself (a bug in cmflow; tests keep this empty).
    pub diagnostics: Vec<Diagnostic>,
}

/// The built-in catalog, read once per process.
pub fn builtin() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| parse(FILES))
}

/// Reads catalog files.
pub fn parse(files: &[(&str, &str)]) -> Catalog {
    let mut catalog = Catalog::default();
    for (name, text) in files {
        let id = catalog
            .sources
            .add(SourceFile::new((*name).to_owned(), Arc::from(*text), true));
        read_file(&mut catalog, id, text);
    }
    catalog
}

fn str_of(v: Option<Value>) -> Option<String> {
    match v {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

fn port_of(v: Option<Value>) -> Option<CatalogPort> {
    match v? {
        Value::Int(i) => u16::try_from(i).ok().map(|p| CatalogPort::Range(p, p)),
        Value::Str(s) => Some(match crate::model::values::parse_port_range(&s) {
            Ok((a, b)) => CatalogPort::Range(a, b),
            Err(_) => CatalogPort::Symbolic(s),
        }),
        Value::Bool(_) => None,
    }
}

fn read_file(catalog: &mut Catalog, id: SourceId, text: &str) {
    let mut reader = Reader::new(id, text);
    let doc = match kdl::KdlDocument::parse_v2(text) {
        Ok(doc) => doc,
        Err(e) => {
            for d in e.diagnostics {
                let span = reader.span(d.span);
                reader.diagnostics.push(Diagnostic::new(
                    &crate::load::codes::KDL_SYNTAX,
                    d.message.unwrap_or_default(),
                    crate::diag::Label::new(span, "here"),
                ));
            }
            catalog.diagnostics.append(&mut reader.diagnostics);
            return;
        }
    };
    for node in doc.nodes() {
        let Some(n) = reader.check(node, Context::Catalog) else {
            continue;
        };
        let anchor = n.arg_str(0).map(|a| a.value).unwrap_or_default();
        let seed = str_of(n.props.value("seed")).unwrap_or_default();
        if n.spec.name == "not-applicable" {
            catalog.not_applicable.push(NotApplicable {
                anchor,
                seed,
                row: str_of(n.props.value("row")).unwrap_or_default(),
                reason: str_of(n.props.value("reason")).unwrap_or_default(),
            });
            continue;
        }
        let title = str_of(n.props.value("title")).unwrap_or_default();
        for child in n
            .node
            .children()
            .map(kdl::KdlDocument::nodes)
            .unwrap_or_default()
        {
            let Some(r) = reader.check(child, Context::CatalogSection) else {
                continue;
            };
            let inherit = |key: &str| {
                r.props
                    .get(key)
                    .map(|v| v.value.clone())
                    .or_else(|| n.props.value(key))
            };
            let service = r.arg_str(0).map(|a| a.value).unwrap_or_default();
            let mut when = parse_when(
                &str_of(n.props.get("when").map(|v| v.value.clone())).unwrap_or_default(),
            );
            when.extend(parse_when(
                &str_of(r.props.get("when").map(|v| v.value.clone())).unwrap_or_default(),
            ));
            catalog.rows.push(CatalogRow {
                anchor: anchor.clone(),
                seed: seed.clone(),
                title: title.clone(),
                seed_row: str_of(r.props.value("seed-row")).unwrap_or_else(|| service.clone()),
                service,
                from: str_of(inherit("from")).unwrap_or_default(),
                to: str_of(inherit("to")).unwrap_or_default(),
                relation: str_of(inherit("relation")).unwrap_or_else(|| "site".into()),
                bidirectional: str_of(inherit("direction")).as_deref() == Some("<-->"),
                phase: str_of(inherit("phase"))
                    .and_then(|p| Phase::parse(&p))
                    .unwrap_or(Phase::Operation),
                when,
                tcp: port_of(r.props.value("tcp")),
                udp: port_of(r.props.value("udp")),
                icmp: r.props.get("icmp").is_some(),
                span: r.span,
            });
        }
    }
    catalog.diagnostics.append(&mut reader.diagnostics);
}

/// Parses `to.pxe !from.workgroup from.install=push to.vms>1`.
pub fn parse_when(s: &str) -> Vec<Atom> {
    s.split_whitespace()
        .filter_map(|atom| {
            let (negated, atom) = atom.strip_prefix('!').map_or((false, atom), |a| (true, a));
            let (subject, rest) = atom.split_once('.')?;
            let (property, test) = if let Some((p, v)) = rest.split_once('=') {
                (p, AtomTest::Equals(v.to_owned()))
            } else if let Some((p, v)) = rest.split_once('>') {
                (p, AtomTest::GreaterThan(v.parse().ok()?))
            } else {
                (rest, AtomTest::Holds)
            };
            Some(Atom {
                negated,
                subject: subject.to_owned(),
                property: property.to_owned(),
                test,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_reads_without_diagnostics() {
        let c = builtin();
        let problems: Vec<String> = c
            .diagnostics
            .iter()
            .map(|d| {
                let (line, col) = c
                    .sources
                    .get(d.primary.span.source)
                    .line_col(d.primary.span.start);
                format!("{line}:{col} {} {}", d.code, d.message)
            })
            .collect();
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(c.rows.len() > 100);
    }

    #[test]
    fn conditions_parse() {
        let atoms = parse_when("to.pxe !from.workgroup from.install=push to.vms>1");
        assert_eq!(atoms.len(), 4);
        assert!(atoms[1].negated);
        assert_eq!(atoms[2].test, AtomTest::Equals("push".into()));
        assert_eq!(atoms[3].test, AtomTest::GreaterThan(1));
    }
}
