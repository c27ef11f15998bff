//! The embedded catalog files read ahead of time: `compiled.json` holds, for each file of
//! [`FILES`](super::FILES), the layer the reader makes of it (rows, not-applicable rows,
//! removals), so that a run does not parse 60 KB of KDL before it reads the user's
//! model (the `kdl` crate needs about 40 ms for it, as long as a typical model's own
//! files take).
//!
//! The compiled form is a cache, never a second source of truth: each layer records a
//! hash of the KDL text it was read from, and a file whose text no longer matches is read
//! from the KDL as before. A test rewrites `compiled.json`
//! (`CMFLOW_UPDATE_DOCS=1 cargo test --lib catalog::compiled`) and fails while it is stale.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{Catalog, CatalogRow, NotApplicable, RemovedRole, RemovedSection};
use crate::model::SourceId;

/// The compiled layers, embedded.
const COMPILED: &str = include_str!("compiled.json");

/// One catalog file, read.
#[derive(Serialize, Deserialize)]
struct CompiledLayer {
    /// The file's name in [`FILES`](super::FILES).
    file: String,
    /// [`text_hash`] of the text the layer was read from.
    text_hash: String,
    rows: Vec<CatalogRow>,
    not_applicable: Vec<NotApplicable>,
    removed_roles: Vec<RemovedRole>,
    removed_sections: Vec<RemovedSection>,
}

/// The layer of the embedded file `file` with text `text`, its spans in source `id`, if
/// the compiled form holds that exact text.
pub(super) fn layer(file: &str, text: &str, id: SourceId) -> Option<Catalog> {
    static LAYERS: OnceLock<Vec<CompiledLayer>> = OnceLock::new();
    // An unreadable compiled form (a merge gone wrong) only costs the KDL parse; the
    // test below reports it.
    let layers = LAYERS.get_or_init(|| serde_json::from_str(COMPILED).unwrap_or_default());
    let hash = text_hash(text);
    let compiled = layers
        .iter()
        .find(|l| l.file == file && l.text_hash == hash)?;
    let mut rows = compiled.rows.clone();
    for row in &mut rows {
        row.span.source = id;
    }
    Some(Catalog {
        rows,
        not_applicable: compiled.not_applicable.clone(),
        removed_roles: compiled.removed_roles.clone(),
        removed_sections: compiled.removed_sections.clone(),
        ..Catalog::default()
    })
}

/// FNV-1a (64 bits) of the text, in hex: stable across builds and toolchains, which
/// the standard library's hasher does not promise.
fn text_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// A row's span as its byte offsets only: which source a file gets depends on the
/// layers a model combines, so it is set when the layer is used.
pub(super) mod offsets {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::model::{SourceId, Span};

    pub fn serialize<S: Serializer>(span: &Span, s: S) -> Result<S::Ok, S::Error> {
        (span.start, span.end).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        let (start, end) = <(usize, usize)>::deserialize(d)?;
        Ok(Span::new(SourceId(0), start, end))
    }
}

/// The compiled form of every embedded file, as `compiled.json` holds it.
#[cfg(test)]
fn compile() -> String {
    use std::fmt::Write as _;
    let layers: Vec<CompiledLayer> = super::FILES
        .iter()
        .map(|&(file, text)| {
            let layer = super::read_layer(SourceId(0), text);
            assert!(
                layer.diagnostics.is_empty(),
                "{file} has diagnostics: {:#?}",
                layer.diagnostics
            );
            CompiledLayer {
                file: file.to_owned(),
                text_hash: text_hash(text),
                rows: layer.rows,
                not_applicable: layer.not_applicable,
                removed_roles: layer.removed_roles,
                removed_sections: layer.removed_sections,
            }
        })
        .collect();
    // One row per line: compact, yet a catalog edit is a readable diff.
    let json = |v: &String| serde_json::to_string(v).expect("a string serializes");
    let mut out = String::from("[\n");
    for (i, layer) in layers.iter().enumerate() {
        let _ = writeln!(out, "{{\n\"file\": {},", json(&layer.file));
        let _ = writeln!(out, "\"text_hash\": {},", json(&layer.text_hash));
        list(&mut out, "rows", &layer.rows, ",");
        list(&mut out, "not_applicable", &layer.not_applicable, ",");
        list(&mut out, "removed_roles", &layer.removed_roles, ",");
        list(&mut out, "removed_sections", &layer.removed_sections, "");
        out.push_str(if i + 1 < layers.len() { "},\n" } else { "}\n" });
    }
    out.push_str("]\n");
    out
}

/// `"key": [` then one compact JSON item per line, then `]` and `comma`.
#[cfg(test)]
fn list<T: Serialize>(out: &mut String, key: &str, items: &[T], comma: &str) {
    use std::fmt::Write as _;
    let _ = write!(out, "\"{key}\": [");
    for (i, item) in items.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&serde_json::to_string(item).expect("a catalog item serializes"));
    }
    if !items.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "]{comma}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_layers_are_current() {
        let fresh = compile();
        if std::env::var_os("CMFLOW_UPDATE_DOCS").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/catalog/compiled.json");
            std::fs::write(path, &fresh).expect("write compiled.json");
            return;
        }
        assert!(
            fresh == COMPILED,
            "src/catalog/compiled.json is stale: the policies/ files changed. Rewrite it with \
             `CMFLOW_UPDATE_DOCS=1 cargo test --lib catalog::compiled`"
        );
    }

    #[test]
    fn a_compiled_layer_is_the_layer_the_reader_makes() {
        for &(file, text) in super::super::FILES {
            let id = SourceId(3);
            let read = super::super::read_layer(id, text);
            let compiled = layer(file, text, id).expect("a compiled layer for each file");
            assert_eq!(
                format!("{:?}", compiled.rows),
                format!("{:?}", read.rows),
                "{file}"
            );
            assert_eq!(
                format!("{:?}", compiled.not_applicable),
                format!("{:?}", read.not_applicable)
            );
            assert_eq!(
                format!("{:?}", compiled.removed_roles),
                format!("{:?}", read.removed_roles)
            );
            assert_eq!(
                format!("{:?}", compiled.removed_sections),
                format!("{:?}", read.removed_sections)
            );
        }
    }

    #[test]
    fn a_changed_text_is_read_from_the_kdl() {
        let (file, text) = super::super::BASE;
        assert!(layer(file, text, SourceId(0)).is_some());
        let edited = format!("{text}\n// an edit\n");
        assert!(layer(file, &edited, SourceId(0)).is_none());
        assert!(layer("policies/unknown.kdl", text, SourceId(0)).is_none());
    }
}
