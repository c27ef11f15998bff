//! `schema/cmflow.kdl` and the loader's vocabulary describe the same language: the same
//! node names in every context, the same properties and the same enum values. The schema
//! itself follows the structure of the KDL Schema Language (`kdl-schema.kdl`).
#![expect(
    clippy::items_after_statements,
    reason = "small tree walkers stand next to their use"
)]

use std::collections::{BTreeMap, BTreeSet};

use cmflow::load::vocabulary::{Context, Kind, NodeSpec, SUPPRESS};
use kdl::{KdlDocument, KdlNode, KdlValue};

fn schema() -> KdlDocument {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/cmflow.kdl"))
        .expect("schema");
    text.parse().expect("the schema is valid KDL 2")
}

fn str_arg(n: &KdlNode) -> Option<&str> {
    n.entries()
        .iter()
        .find(|e| e.name().is_none())
        .and_then(|e| e.value().as_string())
}

fn prop<'a>(n: &'a KdlNode, key: &str) -> Option<&'a str> {
    n.entry(key).and_then(|e| e.value().as_string())
}

fn children(n: &KdlNode) -> &[KdlNode] {
    n.children().map_or(&[], KdlDocument::nodes)
}

/// Every node with an `id` property, by id.
fn ids(doc: &KdlDocument) -> BTreeMap<String, KdlNode> {
    fn walk(nodes: &[KdlNode], out: &mut BTreeMap<String, KdlNode>) {
        for n in nodes {
            if let Some(id) = prop(n, "id") {
                out.insert(id.to_owned(), n.clone());
            }
            walk(children(n), out);
        }
    }
    let mut out = BTreeMap::new();
    walk(doc.nodes(), &mut out);
    out
}

/// Follows `ref=[id="X"]`.
fn resolve<'a>(n: &'a KdlNode, ids: &'a BTreeMap<String, KdlNode>) -> Option<&'a KdlNode> {
    let r = prop(n, "ref")?;
    let id = r.split('"').nth(1)?;
    ids.get(id)
}

struct SchemaNode {
    props: BTreeMap<String, Option<BTreeSet<String>>>,
    children: BTreeMap<String, KdlNode>,
}

fn describe(n: &KdlNode, ids: &BTreeMap<String, KdlNode>) -> (String, SchemaNode) {
    let def = resolve(n, ids);
    let name = str_arg(n)
        .or_else(|| def.and_then(str_arg))
        .expect("node name")
        .to_owned();
    let mut props = BTreeMap::new();
    let mut kids = BTreeMap::new();
    for source in [Some(n), def].into_iter().flatten() {
        for c in children(source) {
            match c.name().value() {
                "prop" => {
                    let pdef = resolve(c, ids);
                    let pname = str_arg(c)
                        .or_else(|| pdef.and_then(str_arg))
                        .expect("prop name")
                        .to_owned();
                    let enums = [Some(c), pdef]
                        .into_iter()
                        .flatten()
                        .flat_map(children)
                        .find(|v| v.name().value() == "enum")
                        .map(|e| {
                            e.entries()
                                .iter()
                                .filter_map(|v| v.value().as_string().map(str::to_owned))
                                .collect()
                        });
                    props.insert(pname, enums);
                }
                "children" => {
                    for k in children(c).iter().filter(|k| k.name().value() == "node") {
                        let kd = resolve(k, ids);
                        let kname = str_arg(k)
                            .or_else(|| kd.and_then(str_arg))
                            .expect("child name")
                            .to_owned();
                        kids.insert(kname, k.clone());
                    }
                }
                _ => {}
            }
        }
    }
    (
        name,
        SchemaNode {
            props,
            children: kids,
        },
    )
}

fn compare(
    path: &str,
    schema_nodes: &BTreeMap<String, KdlNode>,
    context: Context,
    ids: &BTreeMap<String, KdlNode>,
    errors: &mut Vec<String>,
) {
    let mut loader: BTreeSet<&str> = context.nodes().iter().map(|n| n.name).collect();
    if context != Context::TopLevel {
        loader.insert(SUPPRESS.name);
    }
    let schema: BTreeSet<&str> = schema_nodes.keys().map(String::as_str).collect();
    if context == Context::Leaf && schema.iter().all(|n| *n == "suppress") {
        // Leaf nodes: the schema lists `suppress` (or nothing) as their only child.
    } else if loader != schema {
        errors.push(format!(
            "{path}: children differ: loader {loader:?}, schema {schema:?}"
        ));
    }
    for (name, node) in schema_nodes {
        let Some(spec) = context.find(name) else {
            continue;
        };
        if spec.name == "suppress" && path.ends_with("suppress") {
            continue;
        }
        let (_, described) = describe(node, ids);
        compare_props(&format!("{path}/{name}"), spec, &described, errors);
        if spec.name != "suppress" {
            compare(
                &format!("{path}/{name}"),
                &described.children,
                spec.children,
                ids,
                errors,
            );
        }
    }
}

fn compare_props(path: &str, spec: &NodeSpec, schema: &SchemaNode, errors: &mut Vec<String>) {
    let loader: BTreeSet<&str> = spec.props.iter().map(|p| p.name).collect();
    let declared: BTreeSet<&str> = schema.props.keys().map(String::as_str).collect();
    if loader != declared {
        errors.push(format!(
            "{path}: properties differ: loader {loader:?}, schema {declared:?}"
        ));
    }
    for p in spec.props {
        if let (Kind::Enum(values), Some(Some(enums))) = (p.kind, schema.props.get(p.name)) {
            let loader: BTreeSet<String> = values.iter().map(|v| (*v).to_owned()).collect();
            if &loader != enums {
                errors.push(format!(
                    "{path}.{}: enum values differ: loader {loader:?}, schema {enums:?}",
                    p.name
                ));
            }
        }
    }
}

#[test]
fn schema_and_loader_accept_the_same_language() {
    let doc = schema();
    let ids = ids(&doc);
    let document = doc
        .nodes()
        .iter()
        .find(|n| n.name().value() == "document")
        .expect("document node");
    let top: BTreeMap<String, KdlNode> = children(document)
        .iter()
        .filter(|n| n.name().value() == "node")
        .map(|n| (describe(n, &ids).0, n.clone()))
        .collect();
    let mut errors = Vec::new();
    compare("", &top, Context::TopLevel, &ids, &mut errors);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn schema_uses_only_the_kdl_schema_vocabulary() {
    // The node names kdl-schema.kdl (the schema of schemas, copied from kdl-org) defines.
    let meta = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/kdl-schema.kdl"
    ))
    .expect("kdl-schema.kdl");
    let meta: KdlDocument = meta.parse().expect("kdl-schema.kdl parses");
    fn defined(nodes: &[KdlNode], out: &mut BTreeSet<String>) {
        for n in nodes {
            if n.name().value() == "node"
                && let Some(name) = str_arg(n)
            {
                out.insert(name.to_owned());
            }
            defined(children(n), out);
        }
    }
    let mut names = BTreeSet::new();
    defined(meta.nodes(), &mut names);
    names.insert("document".to_owned());
    assert!(names.contains("prop") && names.contains("enum") && names.contains("required"));
    let allowed: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    fn walk(nodes: &[KdlNode], allowed: &BTreeSet<&str>, bad: &mut Vec<String>) {
        for n in nodes {
            if !allowed.contains(n.name().value()) {
                bad.push(n.name().value().to_owned());
            }
            // `info` children carry free text, `enum` literal values.
            if n.name().value() != "info" {
                walk(children(n), allowed, bad);
            }
        }
    }
    let doc = schema();
    let mut bad = Vec::new();
    walk(doc.nodes(), &allowed, &mut bad);
    assert!(bad.is_empty(), "not KDL Schema nodes: {bad:?}");
    // Types are those of the schema language.
    let kinds = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/cmflow.kdl"))
        .expect("schema");
    let doc: KdlDocument = kinds.parse().expect("kdl");
    let mut types = BTreeSet::new();
    fn collect(nodes: &[KdlNode], types: &mut BTreeSet<String>) {
        for n in nodes {
            if n.name().value() == "type" {
                for e in n.entries() {
                    if let KdlValue::String(s) = e.value() {
                        types.insert(s.clone());
                    }
                }
            }
            collect(children(n), types);
        }
    }
    collect(doc.nodes(), &mut types);
    for t in &types {
        assert!(
            ["string", "number", "boolean", "null"].contains(&t.as_str()),
            "unknown type {t}"
        );
    }
}

#[test]
fn every_example_loads_with_the_schema_vocabulary() {
    // The examples must only use nodes the schema lists (the loader test above ties the
    // schema to the loader; here the examples are tied to the loader).
    for example in ["contoso", "standalone-primary"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(example);
        let loaded = cmflow::load::load(
            &cmflow::load::Inputs {
                paths: vec![dir],
                stdin: None,
            },
            cmflow::rules::SPEC_CODES,
        )
        .expect("loads");
        assert!(
            loaded.diagnostics.is_empty(),
            "{example}: {:?}",
            loaded.diagnostics
        );
    }
}
