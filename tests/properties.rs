//! Property tests: the loader never panics, whatever text it is given.

use proptest::prelude::*;

fn load(text: &str) -> usize {
    cmflow::load::load_texts(
        vec![("p.kdl".into(), text.as_bytes().to_vec(), false)],
        cmflow::rules::SPEC_CODES,
    )
    .diagnostics
    .len()
}

const WORDS: &[&str] = &[
    "zone",
    "site",
    "server",
    "clients",
    "console",
    "firewall",
    "allow",
    "deny",
    "zones",
    "subnet",
    "policy",
    "forbid",
    "flow",
    "lint",
    "severity",
    "suppress",
    "management-point",
    "distribution-point",
    "sql-instance",
    "windows-firewall",
    "block",
    "in",
    "out",
    "database",
    "client-ports",
    "software-update-point",
    "domain-controller",
    "type",
    "primary",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9.:/,@-]{0,12}".prop_map(|s| format!("\"{s}\"")),
        any::<i64>().prop_map(|i| i.to_string()),
        Just("#true".to_owned()),
        Just("#false".to_owned()),
        Just("#null".to_owned()),
        prop::sample::select(WORDS).prop_map(|w| format!("\"{w}\"")),
    ]
}

fn node(depth: u32) -> BoxedStrategy<String> {
    let leaf = (
        prop::sample::select(WORDS),
        prop::collection::vec(
            (prop::option::of(prop::sample::select(WORDS)), value()),
            0..4,
        ),
    )
        .prop_map(|(name, entries)| {
            let entries: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| k.map_or_else(|| v.clone(), |k| format!("{k}={v}")))
                .collect();
            format!("{name} {}", entries.join(" "))
        });
    if depth == 0 {
        return leaf.boxed();
    }
    (leaf, prop::collection::vec(node(depth - 1), 0..3))
        .prop_map(|(head, kids)| {
            if kids.is_empty() {
                head
            } else {
                format!("{head} {{\n{}\n}}", kids.join("\n"))
            }
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = load(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = cmflow::load::load_texts(vec![("p.kdl".into(), bytes, false)], cmflow::rules::SPEC_CODES);
    }

    #[test]
    fn arbitrary_valid_kdl_documents_never_panic(nodes in prop::collection::vec(node(3), 0..6)) {
        let text = nodes.join("\n");
        prop_assume!(text.parse::<kdl::KdlDocument>().is_ok());
        let _ = load(&text);
        let model = cmflow::load::load_texts(vec![("p.kdl".into(), text.into_bytes(), false)], cmflow::rules::SPEC_CODES).model;
        let _ = cmflow::engine::required_flows(&model, &cmflow::engine::Phase::ALL);
    }
}
