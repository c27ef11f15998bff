//! `cmflow import configmgr`: the fixture inventory's import (snapshot), bad inputs with
//! their messages and exit codes, `--out`, and the round trip that proves the mapping: a
//! generator writes the inventory of a model (what the script would read from a site
//! built as the model says), the import of it plus the model's own zones, firewalls and
//! clients gives the same `flows --format json` as the model.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use cmflow::load::{Inputs, load};
use cmflow::model::{Boundary, BoundaryRange, FallbackTime, Model, SiteType, Value};
use cmflow::rules::SPEC_CODES;
use common::run;
use kdl::{KdlDocument, KdlNode};
use serde_json::{Value as Json, json};

#[path = "../examples/generate/model.rs"]
#[expect(
    dead_code,
    reason = "one scale is enough here: SCALE_NAMES is not used"
)]
mod generate;

const FIXTURE: &str = "tests/fixtures/import/configmgr/hierarchy.json";

#[test]
fn the_fixture_hierarchy_imports_as_formatted_kdl() {
    let r = run(&common::root(), &["import", "configmgr", FIXTURE]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("import_configmgr_fixture_stdout", r.stdout);
    insta::assert_snapshot!("import_configmgr_fixture_stderr", r.stderr);
}

#[test]
fn the_imported_fixture_loads_without_input_errors() {
    let out = tempfile::tempdir().expect("tempdir");
    let dir = out.path().join("model");
    let dir_arg = dir.to_string_lossy().into_owned();
    let r = run(
        &common::root(),
        &["import", "configmgr", FIXTURE, "--out", &dir_arg],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("written")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "boundary-groups.kdl",
            "infrastructure.kdl",
            "site-cas.kdl",
            "site-chi.kdl",
            "site-p01.kdl",
            "zones.kdl"
        ]
    );
    // The written files are what stdout shows, file by file.
    let stdout = run(&common::root(), &["import", "configmgr", FIXTURE]).stdout;
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name)).expect("read");
        assert!(
            stdout.contains(&format!("// ==> {name} <==\n{text}")),
            "{name}"
        );
    }
    let loaded = load(
        &Inputs {
            paths: vec![dir.clone()],
            stdin: None,
        },
        SPEC_CODES,
    )
    .expect("loads");
    assert!(
        loaded.diagnostics.is_empty(),
        "{:#?}",
        loaded
            .diagnostics
            .iter()
            .map(|d| &d.message)
            .collect::<Vec<_>>()
    );
    // The files are as `cmflow fmt` writes them.
    let r = run(&common::root(), &["fmt", "--check", &dir_arg]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // And the stdout stream is itself one loadable file.
    let one = out.path().join("one.kdl");
    std::fs::write(&one, &stdout).expect("write");
    let loaded = load(
        &Inputs {
            paths: vec![one],
            stdin: None,
        },
        SPEC_CODES,
    )
    .expect("loads");
    assert!(loaded.diagnostics.is_empty());
    assert_eq!(loaded.model.sites.len(), 3);
    assert_eq!(loaded.model.boundary_groups.len(), 3);
}

#[cfg(unix)]
#[test]
fn out_refuses_a_symbolic_link() {
    let dir = tempfile::tempdir().expect("tempdir");
    let real = dir.path().join("real");
    std::fs::create_dir(&real).expect("mkdir");
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let fixture = common::root().join(FIXTURE);
    let r = run(
        dir.path(),
        &[
            "import",
            "configmgr",
            &fixture.to_string_lossy(),
            "--out",
            "link",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--out link is a symbolic link"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_dir(&real).expect("read").count(), 0);
}

/// Runs the import of `text` (written as `inv.json`).
fn import_text(text: &str) -> common::Run {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("inv.json"), text).expect("write");
    run(dir.path(), &["import", "configmgr", "inv.json"])
}

#[test]
fn bad_inputs_name_the_file_the_json_path_and_what_was_expected() {
    let cases: &[(&str, &str)] = &[
        ("hello: world", "inv.json: not JSON: expected value"),
        (
            r#"{"cmflow-inventory": 1, "SMS_Site": ["#,
            "inv.json: not JSON: EOF while parsing a list",
        ),
        (
            "[1, 2]",
            "inv.json: not an inventory: expected a JSON object, found an array",
        ),
        (
            r#"{"SMS_Site": []}"#,
            "inv.json: not a cmflow inventory: the field `cmflow-inventory` is missing",
        ),
        (
            r#"{"cmflow-inventory": 2, "SMS_Site": []}"#,
            "inv.json: cmflow-inventory: version 2 is not supported: this cmflow reads version 1",
        ),
        (
            r#"{"cmflow-inventory": 1, "SMS_Site": [{"SiteCode": "P01"}]}"#,
            "inv.json: SMS_Site[0]: missing field `Type`",
        ),
        (
            r#"{"cmflow-inventory": 1, "SMS_Site": [{"SiteCode": "P01", "Type": "primary"}]}"#,
            "inv.json: SMS_Site[0].Type: invalid value: string \"primary\", expected an integer (a number or a string of digits)",
        ),
        (
            r#"{"cmflow-inventory": 1, "SMS_Site": [{"SiteCode": "P01", "Type": 3}]}"#,
            "inv.json: SMS_Site[0].Type: 3 is not a site type: expected 1 (secondary), 2 (primary) or 4 (central administration site)",
        ),
        (
            r#"{"cmflow-inventory": 1, "SMS_SCI_SysResUse": [{"SiteCode": "P01", "RoleName": "SMS Management Point"}]}"#,
            "inv.json: SMS_SCI_SysResUse[0]: missing field `NetworkOSPath`",
        ),
        (
            r#"{"cmflow-inventory": 1, "SMS_Boundary": {"BoundaryID": 1, "BoundaryType": 0, "Value": ["10.0.0.0"]}}"#,
            "inv.json: SMS_Boundary.Value: invalid type: sequence, expected a string",
        ),
    ];
    for (text, message) in cases {
        let r = import_text(text);
        assert_eq!(r.code, 1, "{text}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{text}: nothing is written");
        assert!(
            r.stderr.contains(message),
            "{text}: expected {message:?} in\n{}",
            r.stderr
        );
    }
}

#[test]
fn a_bad_input_writes_no_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("inv.json"),
        r#"{"cmflow-inventory": 1, "SMS_Site": 5}"#,
    )
    .expect("write");
    let r = run(
        dir.path(),
        &["import", "configmgr", "inv.json", "--out", "model"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "inv.json: SMS_Site: invalid type: integer `5`, expected an array of objects"
        ),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join("model").exists());
}

#[test]
fn an_unreadable_file_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run(dir.path(), &["import", "configmgr", "missing.json"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot read missing.json"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_unknown_role_is_a_comment_and_a_warning() {
    let r = import_text(
        r#"{"cmflow-inventory": "1",
            "SMS_Site": {"SiteCode": "P01", "Type": 2},
            "SMS_SCI_SysResUse": [
              {"SiteCode": "P01", "RoleName": "SMS Site Server", "NetworkOSPath": "\\\\cm01.contoso.com"},
              {"SiteCode": "P01", "RoleName": "SMS Teleporter Point", "NetworkOSPath": "\\\\cm01.contoso.com"}
            ]}"#,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(
            "    server \"cm01.contoso.com\" zone=\"unassigned\" {\n        // ConfigMgr role \"SMS Teleporter Point\" is not one cmflow knows: not imported\n        site-server\n    }"
        ),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stderr,
        "warning: unknown ConfigMgr role \"SMS Teleporter Point\": not imported (a comment marks each server that holds it)\n"
    );
}

// ---------------------------------------------------------------------------------------
// The round trip.
// ---------------------------------------------------------------------------------------

fn load_dir(dir: &Path) -> Model {
    let loaded = load(
        &Inputs {
            paths: vec![dir.to_path_buf()],
            stdin: None,
        },
        SPEC_CODES,
    )
    .expect("loads");
    assert!(
        loaded.diagnostics.is_empty(),
        "{}: {:#?}",
        dir.display(),
        loaded
            .diagnostics
            .iter()
            .map(|d| &d.message)
            .collect::<Vec<_>>()
    );
    loaded.model
}

/// The `RoleName` of a role node (the importer's table, read backwards).
fn role_name(node: &str) -> &'static str {
    match node {
        "site-server" => "SMS Site Server",
        "sms-provider" => "SMS Provider",
        "management-point" => "SMS Management Point",
        "distribution-point" => "SMS Distribution Point",
        "software-update-point" => "SMS Software Update Point",
        "fallback-status-point" => "SMS Fallback Status Point",
        "reporting-services-point" => "SMS SRS Reporting Point",
        "state-migration-point" => "SMS State Migration Point",
        "application-catalog-website-point" => "SMS Portal Web Site",
        "application-catalog-web-service-point" => "SMS Application Web Service",
        "asset-intelligence-synchronization-point" => "AI Update Service Point",
        "certificate-registration-point" => "SMS Certificate Registration Point",
        "cmg-connection-point" => "SMS Cloud Proxy Connector",
        "service-connection-point" => "SMS Dmp Connector",
        "endpoint-protection-point" => "SMS Endpoint Protection Point",
        "enrollment-point" => "SMS Enrollment Server",
        "enrollment-proxy-point" => "SMS Enrollment Web Site",
        "data-warehouse-service-point" => "Data Warehouse Service Point",
        other => panic!("no RoleName for {other}"),
    }
}

fn prop(name: &str, value: impl Into<Json>) -> Json {
    json!({"PropertyName": name, "Value": value.into(), "Value1": "", "Value2": ""})
}

fn nal(host: &str, site: &str) -> String {
    format!(r#"["Display=\\{host}\"]MSWNET:["SMS_SITE={site}"]\\{host}\"#)
}

/// The inventory the script would write for a site built as `model` says.
fn inventory_of(model: &Model) -> Json {
    let mut sites = Vec::new();
    let mut definitions = Vec::new();
    let mut roles = Vec::new();
    let mut components = Vec::new();
    for site in &model.sites {
        let code = &site.code.value;
        let parent = site.parent.as_ref().map_or("", |p| p.value.as_str());
        let kind = match site.site_type {
            SiteType::Central => 4,
            SiteType::Primary => 2,
            SiteType::Secondary => 1,
        };
        sites.push(json!({"SiteCode": code, "Type": kind, "ReportingSiteCode": parent}));
        let mut definition = json!({"SiteCode": code, "ParentSiteCode": parent, "Props": []});
        if let Some((db, _)) = &site.database {
            let server = &db.server.value;
            let instance = &db.instance.value;
            definition["SQLServerName"] = json!(server);
            definition["SQLDatabaseName"] = json!(format!("{instance}\\CM_{code}"));
            let sql = model
                .server(server)
                .and_then(|s| {
                    s.sql_instances
                        .iter()
                        .find(|i| i.name.value.eq_ignore_ascii_case(instance))
                })
                .expect("the database's instance");
            let mut props = Vec::new();
            if let Some(port) = sql.props.get("port") {
                props.push(prop("SQLServicePort", int(&port.value)));
            }
            if let Some(port) = sql.props.get("broker-port") {
                props.push(prop("SSBPort", int(&port.value)));
            }
            definition["Props"] = json!(props);
            roles.push(json!({"SiteCode": code, "RoleName": "SMS SQL Server",
                "NetworkOSPath": format!("\\\\{server}"), "SslState": 2}));
        }
        definitions.push(definition);
        if let Some((ports, _)) = &site.client_ports {
            let list = |main: &str, alternate: &str| {
                let mut s = ports.port(main).expect("a default").to_string();
                if let Some(a) = ports.port(alternate) {
                    s = format!("{s},{a}");
                }
                s
            };
            components.push(json!({"SiteCode": code,
                "ItemName": "SMS_MP_CONTROL_MANAGER|SMS Management Point",
                "Props": [
                    {"PropertyName": "IISPortsList", "Value": 0, "Value1": list("http", "http-alternate"), "Value2": ""},
                    {"PropertyName": "IISSSLPortsList", "Value": 0, "Value1": list("https", "https-alternate"), "Value2": ""},
                ]}));
        }
        let initiates_site = site.props.bool("site-server-initiates");
        for &id in &site.servers {
            let server = &model.servers[id];
            let path = format!("\\\\{}", server.fqdn.value);
            let mut initiates = false;
            for role in &server.roles {
                initiates |= role
                    .props
                    .get("site-server-initiates")
                    .map_or(initiates_site, |v| v.value == Value::Bool(true));
                let mut r = json!({"SiteCode": code, "RoleName": role_name(role.name),
                    "NetworkOSPath": path, "SslState": 2, "Props": [], "PropLists": []});
                let b = |name: &str| i64::from(role.props.bool(name));
                match role.name {
                    "management-point" | "distribution-point" => {
                        r["SslState"] =
                            json!(match (role.props.bool("http"), role.props.bool("https")) {
                                (true, true) => 1,
                                (false, true) => 3,
                                _ => 0,
                            });
                    }
                    _ => {}
                }
                if role.name == "distribution-point" {
                    r["Props"] = json!([
                        prop("IsPXE", b("pxe")),
                        prop("IsMulticast", b("multicast")),
                        prop("IsPullDP", b("pull"))
                    ]);
                    if let Some(sources) = role.props.str("sources") {
                        let values: Vec<String> =
                            sources.split(',').map(|s| nal(s.trim(), code)).collect();
                        r["PropLists"] = json!([{"PropertyListName": "SourceDistributionPoints", "Values": values}]);
                    }
                }
                if role.name == "software-update-point" {
                    r["Props"] = json!([
                        prop(
                            "WSUSIISPort",
                            i64::from(role.props.port("wsus-http").expect("default"))
                        ),
                        prop(
                            "WSUSIISSSLPort",
                            i64::from(role.props.port("wsus-https").expect("default"))
                        ),
                        prop("SSLWSUS", b("ssl")),
                    ]);
                }
                roles.push(r);
            }
            roles.push(
                json!({"SiteCode": code, "RoleName": "SMS Site System", "NetworkOSPath": path,
                "SslState": 2, "Props": [prop("FDMOperation", i64::from(initiates))]}),
            );
        }
    }

    // Boundary groups: a default site boundary group has ConfigMgr's name.
    let group_name = |name: &str| -> String {
        model
            .boundary_groups
            .iter()
            .find(|g| g.name.value == name)
            .and_then(|g| g.default_for.as_ref())
            .map_or_else(
                || name.to_owned(),
                |code| format!("Default-Site-Boundary-Group<{}>", code.value),
            )
    };
    let ids: HashMap<&str, i64> = model
        .boundary_groups
        .iter()
        .zip(1..)
        .map(|(g, id)| (g.name.value.as_str(), 16_777_216 + id))
        .collect();
    let (mut boundaries, mut groups, mut members, mut systems, mut relationships) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for g in &model.boundary_groups {
        let id = ids[g.name.value.as_str()];
        let site = g.site.as_ref().map_or("", |s| s.value.as_str());
        groups.push(
            json!({"GroupID": id, "Name": group_name(&g.name.value), "DefaultSiteCode": site}),
        );
        for b in &g.boundaries {
            let (kind, value) = match b {
                Boundary::AdSite(s) => (1, s.value.clone()),
                Boundary::Range(r) => match r.value {
                    BoundaryRange::Net(ipnet::IpNet::V4(n))
                        if n.prefix_len() == 24 && n.network() == n.addr() =>
                    {
                        (0, n.network().to_string())
                    }
                    BoundaryRange::Net(ipnet::IpNet::V6(n)) if n.prefix_len() == 64 => {
                        (2, n.network().to_string())
                    }
                    BoundaryRange::Net(n) => (3, format!("{}-{}", n.network(), n.broadcast())),
                    BoundaryRange::Range(a, z) => (3, format!("{a}-{z}")),
                },
            };
            let boundary_id = i64::try_from(boundaries.len()).expect("few") + 1;
            boundaries
                .push(json!({"BoundaryID": boundary_id, "BoundaryType": kind, "Value": value}));
            members.push(json!({"GroupID": id, "BoundaryID": boundary_id}));
        }
        for s in &g.site_systems {
            let site_code = model
                .server(&s.value)
                .and_then(|s| s.site)
                .map_or("", |i| model.sites[i].code.value.as_str());
            systems.push(json!({"GroupID": id, "ServerNALPath": nal(&s.value, site_code), "SiteCode": site_code}));
        }
        for f in &g.fallbacks {
            let minutes = |t: FallbackTime| match t {
                FallbackTime::Minutes(m) => i64::from(m),
                FallbackTime::Never => -1,
            };
            relationships.push(json!({"SourceGroupID": id, "DestinationGroupID": ids[f.to.value.as_str()],
                "FallbackDP": minutes(f.distribution_point), "FallbackMP": minutes(f.management_point),
                "FallbackSUP": minutes(f.software_update_point), "FallbackSMP": 120}));
        }
    }
    json!({
        "cmflow-inventory": 1,
        "SMS_Site": sites,
        "SMS_SCI_SiteDefinition": definitions,
        "SMS_SCI_SysResUse": roles,
        "SMS_SCI_Component": components,
        "SMS_Boundary": boundaries,
        "SMS_BoundaryGroup": groups,
        "SMS_BoundaryGroupMembers": members,
        "SMS_BoundaryGroupSiteSystems": systems,
        "SMS_BoundaryGroupRelationships": relationships,
    })
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

fn kdl_files(dir: &Path) -> Vec<(String, KdlDocument)> {
    let mut files: Vec<(String, KdlDocument)> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read");
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, KdlDocument::parse(&text).expect("KDL"))
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

fn first_string(node: &KdlNode) -> String {
    node.entries()
        .iter()
        .find(|e| e.name().is_none())
        .and_then(|e| e.value().as_string())
        .expect("a name")
        .to_owned()
}

/// Every `server` node of a document (top level and inside sites), by lower-case FQDN.
fn servers_of(doc: &KdlDocument) -> HashMap<String, KdlNode> {
    let mut out = HashMap::new();
    for node in doc.nodes() {
        match node.name().value() {
            "server" => {
                out.insert(first_string(node).to_ascii_lowercase(), node.clone());
            }
            "site" => {
                if let Some(children) = node.children() {
                    out.extend(servers_of(children));
                }
            }
            _ => {}
        }
    }
    out
}

/// The user's step after an import: each server gets its zone, address and other line
/// properties from `original`, and its `windows-firewall`; the placeholder zone goes.
fn place_servers(doc: &mut KdlDocument, original: &HashMap<String, KdlNode>) {
    for node in doc.nodes_mut() {
        match node.name().value() {
            "server" => {
                let fqdn = first_string(node).to_ascii_lowercase();
                let from = &original[&fqdn];
                *node.entries_mut() = from.entries().to_vec();
                if let Some(fw) = from.children().and_then(|c| {
                    c.nodes()
                        .iter()
                        .find(|n| n.name().value() == "windows-firewall")
                }) {
                    node.ensure_children().nodes_mut().push(fw.clone());
                }
            }
            "site" => {
                if let Some(children) = node.children_mut() {
                    place_servers(children, original);
                }
            }
            _ => {}
        }
    }
}

/// `cmflow flows --phase all --format json` of a folder: the flow records, sorted.
fn flows_json(dir: &Path) -> Vec<String> {
    let r = run(dir, &["flows", ".", "--phase", "all", "--format", "json"]);
    assert_eq!(r.code, 0, "{}: {}", dir.display(), r.stderr);
    let doc: Json = serde_json::from_str(&r.stdout).expect("JSON");
    let mut flows: Vec<String> = doc["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .map(ToString::to_string)
        .collect();
    flows.sort();
    flows
}

/// Imports the inventory of the model in `original` and checks the flows.
fn round_trip(original: &Path) -> usize {
    let model = load_dir(original);
    let work = tempfile::tempdir().expect("tempdir");
    let inventory = work.path().join("inventory.json");
    std::fs::write(
        &inventory,
        serde_json::to_string_pretty(&inventory_of(&model)).expect("JSON"),
    )
    .expect("write");
    let imported = work.path().join("imported");
    let r = run(
        work.path(),
        &["import", "configmgr", "inventory.json", "--out", "imported"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    // The model again: the imported files (servers placed by the user) and the original
    // files without what the import wrote.
    let rebuilt = work.path().join("rebuilt");
    std::fs::create_dir(&rebuilt).expect("mkdir");
    let originals = kdl_files(original);
    let mut original_servers = HashMap::new();
    for (_, doc) in &originals {
        original_servers.extend(servers_of(doc));
    }
    let mut written: HashSet<String> = HashSet::new();
    for (name, mut doc) in kdl_files(&imported) {
        if name == "zones.kdl" {
            continue;
        }
        written.extend(servers_of(&doc).into_keys());
        place_servers(&mut doc, &original_servers);
        std::fs::write(rebuilt.join(format!("imported-{name}")), doc.to_string()).expect("write");
    }
    for (name, mut doc) in originals {
        doc.nodes_mut().retain(|n| match n.name().value() {
            "site" | "boundary-group" => false,
            "server" => !written.contains(&first_string(n).to_ascii_lowercase()),
            _ => true,
        });
        std::fs::write(rebuilt.join(format!("original-{name}")), doc.to_string()).expect("write");
    }
    load_dir(&rebuilt);
    let (before, after) = (flows_json(original), flows_json(&rebuilt));
    let missing: Vec<&String> = before
        .iter()
        .filter(|f| !after.contains(f))
        .take(5)
        .collect();
    let extra: Vec<&String> = after
        .iter()
        .filter(|f| !before.contains(f))
        .take(5)
        .collect();
    assert!(
        before == after,
        "{} flows before, {} after\nmissing: {missing:#?}\nextra: {extra:#?}",
        before.len(),
        after.len()
    );
    before.len()
}

#[test]
fn contoso_round_trips_through_its_inventory() {
    let flows = round_trip(&common::root().join("examples/contoso"));
    assert!(flows > 100, "{flows}");
}

#[test]
fn the_generated_model_round_trips_through_its_inventory() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate::write_scale_with_boundary_groups("small", dir.path()).expect("generated");
    let flows = round_trip(dir.path());
    assert!(flows > 100, "{flows}");
}

/// `cargo test --release --test import_configmgr -- --ignored --nocapture`: the time to
/// import the inventory of the generated medium model.
#[test]
#[ignore = "a measurement"]
fn import_time_of_the_medium_generated_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate::write_scale_with_boundary_groups("medium", dir.path()).expect("generated");
    let model = load_dir(dir.path());
    let text = serde_json::to_string_pretty(&inventory_of(&model)).expect("JSON");
    let start = std::time::Instant::now();
    let imported = cmflow::import::configmgr::import("inventory.json", &text).expect("imports");
    let elapsed = start.elapsed();
    // The share of the formatter (the import formats every file it writes).
    let start = std::time::Instant::now();
    for f in &imported.files {
        let _ = cmflow::format::format_kdl(&f.text);
    }
    let formatting = start.elapsed();
    eprintln!(
        "medium: {} servers, {} bytes of inventory, {} files written in {elapsed:?} (formatting them again: {formatting:?})",
        model.servers.len(),
        text.len(),
        imported.files.len()
    );
}
