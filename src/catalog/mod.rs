//! The built-in port catalog: `policies/*.kdl`, embedded in the binary and read by the
//! same node checker as user files (so a mistake in it is a diagnostic with a span into
//! it), compiled into [`CatalogRow`]s the engine instantiates.
//!
//! The catalog is data; this module only reads it. The meaning of relations, conditions
//! and symbolic ports is the engine's.
//!
//! Catalogs are layered: `policies/catalog.kdl` is the base (the `2020` edition, the seed
//! documents with the corrections of `docs/decisions.md`); an edition file
//! (`policies/edition-2025.kdl`) and an extra catalog (`policies/windows-domain.kdl`)
//! are layers over it. A layer's `section` replaces the base section of the same anchor
//! (in place, so catalog order stays the documents' order) or adds a new one at the end;
//! its `remove "ANCHOR"` drops a base section; its `removed-role` names a role the
//! edition no longer has. Shared sections are written once, in the base.

mod compiled;

use std::sync::{Arc, OnceLock};

use crate::diag::Diagnostic;
use crate::engine::Phase;
use crate::load::reader::Reader;
use crate::load::vocabulary::Context;
use crate::model::{Edition, Model, SourceFile, SourceId, SourceMap, Span, Value};

/// The base catalog: the `2020` edition.
pub const BASE: (&str, &str) = (
    "policies/catalog.kdl",
    include_str!("../../policies/catalog.kdl"),
);

/// The `2025` edition's layer over the base.
pub const EDITION_2025: (&str, &str) = (
    "policies/edition-2025.kdl",
    include_str!("../../policies/edition-2025.kdl"),
);

/// The extra catalogs `include` can name, with their layer files.
pub const INCLUDES: &[(&str, (&str, &str))] = &[(
    "windows-domain",
    (
        "policies/windows-domain.kdl",
        include_str!("../../policies/windows-domain.kdl"),
    ),
)];

/// Every embedded catalog file: (name shown in diagnostics, text).
pub const FILES: &[(&str, &str)] = &[BASE, EDITION_2025, INCLUDES[0].1];

/// The documents, by `seed`, as cited in flow references.
pub fn seed_title(seed: &str) -> &'static str {
    match seed {
        "000" | "003" | "004" => {
            "How to configure client communication ports in Configuration Manager"
        }
        "002" => "Windows Firewall and port settings for clients in Configuration Manager",
        "windows" => "Service overview and network port requirements for Windows",
        _ => "Ports used in Configuration Manager",
    }
}

/// The Microsoft Learn address of a document, by `seed` (sections add `#ANCHOR`).
pub fn seed_url(seed: &str) -> &'static str {
    match seed {
        "000" | "003" | "004" => {
            "https://learn.microsoft.com/en-us/intune/configmgr/core/clients/deploy/configure-client-communication-ports"
        }
        "002" => {
            "https://learn.microsoft.com/en-us/intune/configmgr/core/clients/deploy/windows-firewall-and-port-settings-for-clients"
        }
        "windows" => {
            "https://learn.microsoft.com/en-us/troubleshoot/windows-server/networking/service-overview-and-network-port-requirements"
        }
        _ => "https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports",
    }
}

/// A port as the catalog writes it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CatalogPort {
    Range(u16, u16),
    /// `client-http`, `sql`, ... resolved from the model's settings.
    Symbolic(String),
}

/// One condition atom of `when`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Atom {
    pub negated: bool,
    /// `from`, `to`, `site` or `hierarchy`.
    pub subject: String,
    pub property: String,
    pub test: AtomTest,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AtomTest {
    /// The property is true (booleans) or set (others).
    Holds,
    Equals(String),
    GreaterThan(i64),
}

/// One table row of one section, with the section's defaults applied.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
    /// `broadcast=#true`: the source has no address yet (DHCP), so exports allow any.
    pub broadcast: bool,
    /// The section's address on Microsoft Learn.
    pub url: String,
    /// Into the catalog file; compiled layers keep the offsets only.
    #[serde(with = "compiled::offsets")]
    pub span: Span,
}

impl CatalogRow {
    /// `Ports used in Configuration Manager: Client --> Management point`.
    pub fn reference(&self) -> String {
        format!("{}: {}", seed_title(&self.seed), self.title)
    }
}

/// A role an edition no longer has (`removed-role` in an edition file).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RemovedRole {
    pub role: String,
    pub reason: String,
}

/// A base section an edition drops (`remove` in an edition file).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RemovedSection {
    pub anchor: String,
    pub reason: String,
}

/// A documented row deliberately not instantiated.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
    /// Roles the edition no longer has (`catalog/removed-role`).
    pub removed_roles: Vec<RemovedRole>,
    /// Base sections the edition drops.
    pub removed_sections: Vec<RemovedSection>,
    /// Problems found in the catalog itself (a bug in cmflow; tests keep this empty).
    pub diagnostics: Vec<Diagnostic>,
}

/// The built-in `2020` catalog with no extra catalog, read once per process.
pub fn builtin() -> &'static Catalog {
    for_choice(Edition::E2020, &[])
}

/// The built-in catalog of an edition with the named extra catalogs (unknown names are
/// ignored: the loader reports them), read once per process and combination.
pub fn for_choice(edition: Edition, includes: &[String]) -> &'static Catalog {
    const COMBINATIONS: usize = 2 << INCLUDES.len();
    static CATALOGS: [OnceLock<Catalog>; COMBINATIONS] = [const { OnceLock::new() }; COMBINATIONS];
    let mut index = match edition {
        Edition::E2020 => 0,
        Edition::E2025 => 1,
    };
    for (i, (name, _)) in INCLUDES.iter().enumerate() {
        if includes.iter().any(|n| n == name) {
            index |= 2 << i;
        }
    }
    CATALOGS[index].get_or_init(|| {
        let mut files = vec![BASE];
        if edition == Edition::E2025 {
            files.push(EDITION_2025);
        }
        files.extend(
            INCLUDES
                .iter()
                .enumerate()
                .filter(|(i, _)| index & (2 << i) != 0)
                .map(|(_, (_, file))| *file),
        );
        parse(&files)
    })
}

/// The catalog a model asks for with its `catalog` node.
pub fn for_model(model: &Model) -> &'static Catalog {
    for_choice(model.catalog.edition, &model.catalog.includes)
}

/// Reads catalog files: the first is the base, each further one a layer over it.
pub fn parse(files: &[(&str, &str)]) -> Catalog {
    let mut catalog = Catalog::default();
    for (name, text) in files {
        let id = catalog
            .sources
            .add(SourceFile::new((*name).to_owned(), Arc::from(*text), true));
        let layer = compiled::layer(name, text, id).unwrap_or_else(|| read_layer(id, text));
        catalog.apply(layer);
    }
    catalog
}

impl Catalog {
    /// Lays one file's entries over the catalog read so far.
    fn apply(&mut self, layer: Catalog) {
        for removed in &layer.removed_sections {
            self.rows.retain(|r| r.anchor != removed.anchor);
            self.not_applicable.retain(|n| n.anchor != removed.anchor);
        }
        let mut anchors: Vec<String> = layer.rows.iter().map(|r| r.anchor.clone()).collect();
        anchors.dedup();
        for anchor in anchors {
            let new_rows = layer.rows.iter().filter(|r| r.anchor == anchor).cloned();
            match self.rows.iter().position(|r| r.anchor == anchor) {
                Some(at) => {
                    self.rows.retain(|r| r.anchor != anchor);
                    self.rows.splice(at..at, new_rows);
                }
                None => self.rows.extend(new_rows),
            }
        }
        self.not_applicable.extend(layer.not_applicable);
        self.removed_roles.extend(layer.removed_roles);
        self.removed_sections.extend(layer.removed_sections);
        self.diagnostics.extend(layer.diagnostics);
    }
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

/// Reads one catalog file into a layer (its rows, removals and diagnostics).
fn read_layer(id: SourceId, text: &str) -> Catalog {
    let mut layer = Catalog::default();
    read_file(&mut layer, id, text);
    layer
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
        if n.spec.name == "remove" || n.spec.name == "removed-role" {
            let reason = str_of(n.props.value("reason")).unwrap_or_default();
            if n.spec.name == "remove" {
                catalog
                    .removed_sections
                    .push(RemovedSection { anchor, reason });
            } else {
                catalog.removed_roles.push(RemovedRole {
                    role: anchor,
                    reason,
                });
            }
            continue;
        }
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
        let url =
            str_of(n.props.value("url")).unwrap_or_else(|| format!("{}#{anchor}", seed_url(&seed)));
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
                broadcast: r.props.bool("broadcast"),
                url: url.clone(),
                span: r.span,
            });
        }
    }
    catalog.diagnostics.append(&mut reader.diagnostics);
}

impl CatalogPort {
    fn render(&self) -> String {
        match self {
            CatalogPort::Range(a, b) if a == b => a.to_string(),
            CatalogPort::Range(a, b) => format!("{a}-{b}"),
            CatalogPort::Symbolic(s) => format!("`{s}`"),
        }
    }
}

impl CatalogRow {
    /// The row as the editions table shows it: ports, direction, conditions.
    fn summary(&self) -> String {
        use std::fmt::Write as _;
        let mut parts = Vec::new();
        if let Some(p) = &self.tcp {
            parts.push(format!("TCP {}", p.render()));
        }
        if let Some(p) = &self.udp {
            parts.push(format!("UDP {}", p.render()));
        }
        if self.icmp {
            parts.push("ICMP echo".to_owned());
        }
        let mut out = parts.join(", ");
        let _ = write!(
            out,
            " {} `{}`",
            if self.bidirectional { "<-->" } else { "-->" },
            self.to
        );
        let when: Vec<String> = self
            .when
            .iter()
            .map(|a| {
                let test = match &a.test {
                    AtomTest::Holds => String::new(),
                    AtomTest::Equals(v) => format!("={v}"),
                    AtomTest::GreaterThan(n) => format!(">{n}"),
                };
                format!(
                    "{}{}.{}{test}",
                    if a.negated { "!" } else { "" },
                    a.subject,
                    a.property
                )
            })
            .collect();
        if !when.is_empty() {
            let _ = write!(out, " when `{}`", when.join(" "));
        }
        out
    }
}

/// One edition's sections by anchor: the first row (title, link) and every row's
/// (service, summary).
type SectionRows<'c> = std::collections::BTreeMap<&'c str, (&'c CatalogRow, Vec<(String, String)>)>;

/// `docs/catalog-editions.md`: every difference between the `2020` and `2025` editions,
/// section by section and row by row, generated from the two catalogs (a test compares
/// it with the file; `CMFLOW_UPDATE_DOCS=1 cargo test --test catalog_editions` rewrites
/// it).
pub fn editions_markdown() -> String {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    let old = for_choice(Edition::E2020, &[]);
    let new = for_choice(Edition::E2025, &[]);
    let sections = |c: &'static Catalog| {
        let mut map: SectionRows<'_> = BTreeMap::new();
        for r in &c.rows {
            map.entry(r.anchor.as_str())
                .or_insert_with(|| (r, Vec::new()))
                .1
                .push((r.service.clone(), r.summary()));
        }
        map
    };
    let (a, b) = (sections(old), sections(new));
    let count = |c: &Catalog| {
        let mut anchors: Vec<&str> = c.rows.iter().map(|r| r.anchor.as_str()).collect();
        anchors.sort_unstable();
        anchors.dedup();
        (anchors.len(), c.rows.len())
    };
    let ((sa, ra), (sb, rb)) = (count(old), count(new));
    let mut md = String::from(
        "# Catalog editions\n\n\
         <!-- Generated from policies/ by `CMFLOW_UPDATE_DOCS=1 cargo test --test catalog_editions`; do not edit. -->\n\n\
         A model chooses the edition of the built-in catalog with `catalog edition=\"2020\"` (the\n\
         default) or `catalog edition=\"2025\"`. The `2020` edition is the documents of 2020 with\n\
         the corrections of [decisions.md](decisions.md#catalog-editions); the `2025` edition is\n\
         the current article, [Ports used in Configuration Manager](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports)\n\
         (last updated 2025-08-12), written in `policies/edition-2025.kdl` as a layer over\n\
         `policies/catalog.kdl`. Sections not listed here are the same in both editions.\n\n",
    );
    let _ = writeln!(
        md,
        "| edition | sections | rows |\n|---|---|---|\n| 2020 | {sa} | {ra} |\n| 2025 | {sb} | {rb} |\n"
    );
    md.push_str("| section | row | 2020 | 2025 |\n|---|---|---|---|\n");
    let mut anchors: Vec<&str> = a.keys().chain(b.keys()).copied().collect();
    anchors.sort_unstable();
    anchors.dedup();
    let cell = |s: Option<&String>| s.map_or_else(|| "-".to_owned(), Clone::clone);
    for anchor in anchors {
        let (left, right) = (a.get(anchor), b.get(anchor));
        let first = left.or(right).map(|(r, _)| *r);
        let Some(first) = first else { continue };
        let heading = format!(
            "[{}]({})",
            right.map_or(first, |(r, _)| *r).title,
            first.url
        );
        if let (Some((l, _)), Some((r, _))) = (left, right)
            && l.title != r.title
        {
            let _ = writeln!(md, "| {heading} | (heading) | {} | {} |", l.title, r.title);
        }
        let rows_of = |s: Option<&(&CatalogRow, Vec<(String, String)>)>| {
            s.map(|(_, rows)| rows.clone()).unwrap_or_default()
        };
        let (lr, rr) = (rows_of(left), rows_of(right));
        let mut services: Vec<&String> = lr.iter().chain(rr.iter()).map(|(s, _)| s).collect();
        services.dedup();
        let mut seen = Vec::new();
        for service in services {
            if seen.contains(&service) {
                continue;
            }
            seen.push(service);
            let l: Vec<&String> = lr
                .iter()
                .filter(|(s, _)| s == service)
                .map(|(_, x)| x)
                .collect();
            let r: Vec<&String> = rr
                .iter()
                .filter(|(s, _)| s == service)
                .map(|(_, x)| x)
                .collect();
            if l == r {
                continue;
            }
            let join = |v: &[&String]| {
                if v.is_empty() {
                    None
                } else {
                    Some(v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; "))
                }
            };
            let _ = writeln!(
                md,
                "| {heading} | {service} | {} | {} |",
                cell(join(&l).as_ref()),
                cell(join(&r).as_ref())
            );
        }
    }
    md.push_str(
        "| every \"SQL over TCP\" row | SQL Server Browser | - | UDP 1434 to a named instance whose port is not 1433, from the same source |\n",
    );
    if !new.removed_roles.is_empty() {
        md.push_str("\nRoles the `2025` edition no longer has (`catalog/removed-role`):\n\n");
        for r in &new.removed_roles {
            let _ = writeln!(md, "- `{}`: {}", r.role, r.reason);
        }
    }
    md
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
