//! The Aerleon reader's round trip (issue 14, 3a): cmflow's own `export --target aerleon`
//! of a model, read back with `source=... format="aerleon"` in place of each `firewall`'s
//! KDL rules, gives the model's own verdict on every required flow of every phase.
//!
//! Only the verdict is compared: `decided_by` names the deciding rule, which is the KDL
//! rule's name in the model and the Aerleon term's (`cmflow-004-tcp`) once read back.
//! One difference is legitimate: a policy names addresses, and a client group without
//! subnets of its own holds every address of its zone, so a term for a server's address
//! in that zone may match the group's traffic, or not: where the KDL rule names the
//! server (`host:`) the flow is allowed, from the policy it is `indeterminate`. Only
//! that difference is accepted, and only for flows from or to a client group.

mod common;

use common::{root, run};

use std::collections::BTreeMap;
use std::path::Path;

use kdl::{KdlDocument, KdlEntry};

#[allow(dead_code, reason = "the generator's other scales serve other tests")]
#[path = "../examples/generate/model.rs"]
mod generate;

/// Every `.kdl` file below `dir`, as (relative path with `/`, text), sorted.
fn kdl_files(dir: &Path) -> Vec<(String, String)> {
    common::files_below(dir, |p| p.extension().is_some_and(|e| e == "kdl"))
}

/// Each required flow's `VERDICT SOURCE_KIND DESTINATION_KIND` in
/// `flows --phase all --format json`, by flow.
fn verdicts(dir: &Path) -> BTreeMap<String, String> {
    let r = run(dir, &["flows", ".", "--phase", "all", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let mut out = BTreeMap::new();
    for f in doc["flows"].as_array().expect("flows") {
        let key = format!(
            "{} ({}) -> {} ({}) {} {} {} [{}]",
            f["source"],
            f["source_role"],
            f["destination"],
            f["destination_role"],
            f["protocol"],
            f["ports"],
            f["service"],
            f["phase"]
        );
        let verdict = format!(
            "{} {} {}",
            f["verdict"].as_str().expect("verdict"),
            f["source_kind"].as_str().expect("source kind"),
            f["destination_kind"].as_str().expect("destination kind")
        );
        assert!(out.insert(key.clone(), verdict).is_none(), "twice: {key}");
    }
    out
}

/// The policy file the export wrote for each firewall, by firewall name (from the
/// policy's first line, `# Firewall NAME: ...`).
fn policies(acl: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(acl.join("policies/pol")).expect("policies") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("policy");
        let first = text.lines().next().expect("a first line");
        let name = first
            .strip_prefix("# Firewall ")
            .and_then(|rest| rest.split_once(": "))
            .expect("# Firewall NAME:")
            .0;
        let file = path.file_name().expect("name").to_string_lossy();
        out.insert(name.to_owned(), format!("acl/policies/pol/{file}"));
    }
    out
}

/// The model with every firewall's rules replaced by its exported Aerleon policy.
fn with_aerleon_firewalls(model: &Path) -> tempfile::TempDir {
    let joined = tempfile::tempdir().expect("temporary folder");
    let acl = joined.path().join("acl");
    let r = run(
        &root(),
        &[
            "export",
            model.to_str().expect("utf-8"),
            "--target",
            "aerleon",
            "--phase",
            "all",
            "--out",
            acl.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut policies = policies(&acl);
    assert!(!policies.is_empty(), "{}: no policy", model.display());
    for (name, text) in kdl_files(model) {
        let mut doc = KdlDocument::parse(&text).expect("the model parses");
        for node in doc.nodes_mut() {
            if node.name().value() != "firewall" {
                continue;
            }
            let fw = node
                .entries()
                .iter()
                .find(|e| e.name().is_none())
                .and_then(|e| e.value().as_string())
                .expect("a firewall name")
                .to_owned();
            let source = policies.remove(&fw).expect("a policy per firewall");
            node.entries_mut()
                .push(KdlEntry::new_prop("source", source));
            node.entries_mut()
                .push(KdlEntry::new_prop("format", "aerleon"));
            if let Some(children) = node.children_mut() {
                children.nodes_mut().retain(|c| c.name().value() == "zones");
            }
        }
        doc.autoformat();
        let target = joined.path().join(name.replace('/', "_"));
        std::fs::write(target, doc.to_string()).expect("write");
    }
    assert!(
        policies.is_empty(),
        "policies without firewall: {policies:?}"
    );
    joined
}

fn assert_same_verdicts(model: &Path) {
    let before = verdicts(model);
    let joined = with_aerleon_firewalls(model);
    let after = verdicts(joined.path());
    // The address ambiguity of client groups (see the module's documentation).
    let ambiguous = |kdl: &str, aerleon: &str| {
        kdl.strip_prefix("allowed ")
            .is_some_and(|kinds| aerleon == format!("indeterminate {kinds}"))
            && kdl.split(' ').skip(1).any(|kind| kind == "clients")
    };
    let differences: Vec<String> = before
        .iter()
        .filter(|(k, v)| after.get(*k).is_none_or(|a| a != *v && !ambiguous(v, a)))
        .map(|(k, v)| format!("{k}: {v} in KDL, {:?} from Aerleon", after.get(k)))
        .collect();
    assert!(
        differences.is_empty() && before.len() == after.len(),
        "{}: {} of {} flows differ\n{}",
        model.display(),
        differences.len(),
        before.len(),
        differences.join("\n")
    );
    // The check reads the policies without a source diagnostic.
    let r = common::check_every_phase(joined.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    for code in ["source/parse", "source/unsupported", "schema/", "kdl/"] {
        assert!(
            !r.stdout.contains(&format!("[{code}")),
            "{code}\n{}",
            r.stdout
        );
    }
}

#[test]
fn contoso_read_back_from_its_aerleon_export() {
    assert_same_verdicts(&root().join("examples/contoso"));
}

#[test]
fn generated_small_read_back_from_its_aerleon_export() {
    let dir = tempfile::tempdir().expect("temporary folder");
    generate::write_scale("small", dir.path()).expect("the generated model");
    assert_same_verdicts(dir.path());
}

/// The round trip has teeth: a policy without its first accept term blocks flows.
#[test]
fn a_missing_term_changes_verdicts() {
    let model = root().join("examples/contoso");
    let before = verdicts(&model);
    let joined = with_aerleon_firewalls(&model);
    let policy = joined.path().join("acl/policies/pol/fw-core.yaml");
    let text = std::fs::read_to_string(&policy).expect("policy");
    let start = text.find("      - name: cmflow-001-").expect("a term");
    let end = start
        + 1
        + text[start + 1..]
            .find("      - name: ")
            .expect("a next term");
    let mut cut = text.clone();
    cut.replace_range(start..end, "");
    std::fs::write(&policy, cut).expect("write");
    let after = verdicts(joined.path());
    assert!(
        before.iter().any(|(k, v)| v.starts_with("allowed ")
            && after.get(k).is_some_and(|a| a.starts_with("blocked "))),
        "no flow became blocked"
    );
}
