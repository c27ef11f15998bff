//! Every endpoint list written in the documentation and the examples (`from="..."`,
//! `to="..."`) parses, and every `role:` in it names a role the loader accepts
//! (`role:sql-server` included).

mod common;

use common::root;

use cmflow::load::vocabulary::endpoint_role_names;
use cmflow::model::Endpoint;

/// Every `.md` file under `docs/` and every `.kdl` and `.md` file under `examples/`, and
/// the rule documentation of the registry (which `docs/rules.md` is generated from).
fn texts() -> Vec<(String, String)> {
    let wanted = |p: &std::path::Path| p.extension().is_some_and(|e| e == "md" || e == "kdl");
    ["docs", "examples"]
        .iter()
        .flat_map(|dir| common::paths_below(&root().join(dir), wanted))
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            Some((p.display().to_string(), text))
        })
        .collect()
}

/// The values of `from="..."` and `to="..."` in a text.
fn endpoint_lists(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r#"\b(?:from|to)="([^"]*)""#).expect("regex");
    re.captures_iter(text).map(|c| c[1].to_owned()).collect()
}

#[test]
fn every_endpoint_in_docs_and_examples_loads() {
    let roles: Vec<&str> = endpoint_role_names().collect();
    let mut checked = 0;
    let mut bad = Vec::new();
    for (path, text) in texts() {
        for list in endpoint_lists(&text) {
            // Placeholders of the syntax reference are not endpoints, and catalog rows name
            // endpoint kinds (`from="clients"`), not endpoints.
            let catalog_kind = list
                .split(',')
                .any(|item| item.trim() != "any" && !item.contains(':'));
            if list.contains("ENDPOINTS") || list.contains("...") || catalog_kind {
                continue;
            }
            match Endpoint::parse_list(&list) {
                Ok(items) => {
                    for (e, _, _) in items {
                        checked += 1;
                        if let Endpoint::Role { role, .. } = &e
                            && !roles.contains(&role.as_str())
                        {
                            bad.push(format!("{path}: unknown role in `{list}`"));
                        }
                    }
                }
                Err(err) => bad.push(format!("{path}: `{list}`: {}", err.message)),
            }
        }
    }
    assert!(checked > 100, "only {checked} endpoints found");
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn role_sql_server_loads() {
    let loaded = cmflow::load::load_texts(
        vec![(
            "m.kdl".into(),
            br#"server "sql01.contoso.com" zone="internet" { sql-instance "MSSQLSERVER"; }
firewall "fw" { zones "internet"; deny "no browser" to="role:sql-server" udp="1434"; }"#
                .to_vec(),
            false,
        )],
        cmflow::rules::SPEC_CODES,
    );
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
}
