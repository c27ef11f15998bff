//! Hover, definition, references and completion on small models loaded as the CLI loads
//! them, by the place of a marked word.

use std::fmt::Write as _;

use super::*;
use crate::engine::{Network, Phase, evaluate, required_flows};

const MODEL: &str = r#"zone "datacenter" { subnet "10.0.0.0/24"; }
zone "hq" { subnet "10.10.0.0/16"; }

site "P01" type="primary" {
    client-ports http=8080 https=443
    database server="sql01.contoso.com" instance="CM_P01"
    server "cm01.contoso.com" zone="datacenter" address="10.0.0.5" {
        site-server
        management-point
        distribution-point
    }
    server "sup01.contoso.com" zone="datacenter" {
        software-update-point wsus-http=8530 susdb="sql01.contoso.com/SUSDB"
    }
}

server "sql01.contoso.com" zone="datacenter" {
    sql-instance "CM_P01" port=1433
    sql-instance "SUSDB" port=1434
}

clients "HQ desktops" site="P01" zone="hq" boundary-group="HQ"
boundary-group "HQ" site="P01" {
    site-system "cm01.contoso.com"
}

firewall "fw-core" default="deny" {
    zones "datacenter" "hq"
    allow "clients to MP" from="clients:HQ desktops,zone:hq" to="role:management-point@P01" tcp="8080,443"
    allow "to cm01" from="zone:hq" to="host:CM01.contoso.com" tcp="10123"
}
"#;

struct Checked {
    model: Model,
    flows: Vec<RequiredFlow>,
    verdicts: Vec<FlowVerdict>,
}

impl Checked {
    fn new(kdl: &str) -> Self {
        let loaded = crate::load::load_texts(
            vec![("m.kdl".into(), kdl.as_bytes().to_vec(), false)],
            crate::rules::SPEC_CODES,
        );
        assert!(
            loaded.diagnostics.is_empty(),
            "unexpected load diagnostics: {:#?}",
            loaded.diagnostics
        );
        let model = loaded.model;
        let flows = required_flows(&model, &Phase::ALL);
        let verdicts = evaluate(&Network::new(&model), &flows);
        Self {
            model,
            flows,
            verdicts,
        }
    }

    fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            model: &self.model,
            flows: &self.flows,
            verdicts: &self.verdicts,
        }
    }

    fn source(&self) -> SourceId {
        self.model
            .sources
            .iter()
            .find(|(_, f)| f.name == "m.kdl")
            .map_or_else(|| panic!("m.kdl not loaded"), |(id, _)| id)
    }

    /// The offset of the `nth` occurrence (0-based) of `needle`, plus `into` bytes.
    fn at(&self, needle: &str, nth: usize, into: usize) -> usize {
        let text = &self.model.sources.get(self.source()).text;
        let at = text
            .match_indices(needle)
            .nth(nth)
            .map_or_else(|| panic!("`{needle}` #{nth} not in the model"), |(i, _)| i);
        at + into
    }

    fn show(&self, spans: &[Span]) -> Vec<String> {
        spans
            .iter()
            .map(|&s| {
                let ((l1, c1), (l2, c2)) = self.model.sources.range(s);
                let text = &self.model.sources.get(s.source).text[s.start..s.end];
                format!("{l1}:{c1}-{l2}:{c2} {text}")
            })
            .collect()
    }
}

#[test]
fn definitions_of_every_kind_of_reference() {
    let m = Checked::new(MODEL);
    let s = m.snapshot();
    let def = |needle: &str, nth: usize, into: usize| {
        m.show(&definition(&s, m.source(), m.at(needle, nth, into)))
    };
    // Zone from a server's `zone=`, a firewall's `zones`, an endpoint item.
    assert_eq!(def("\"datacenter\"", 1, 3), ["1:7-1:17 datacenter"]);
    assert_eq!(def("\"hq\"", 2, 1), ["2:7-2:9 hq"]);
    assert_eq!(def("zone:hq", 0, 6), ["2:7-2:9 hq"]);
    // Site from a client group, a boundary group and `@P01` in a role endpoint.
    assert_eq!(def("site=\"P01\"", 0, 7), ["4:7-4:10 P01"]);
    assert_eq!(def("@P01", 0, 2), ["4:7-4:10 P01"]);
    // Server from `database server=`, `site-system`, `host:` (ignoring case) and the
    // server part of `susdb`.
    assert_eq!(
        def("server=\"sql01", 0, 10),
        ["17:9-17:26 sql01.contoso.com"]
    );
    assert_eq!(
        def("site-system \"cm01", 0, 15),
        ["7:13-7:29 cm01.contoso.com"]
    );
    assert_eq!(def("host:CM01", 0, 7), ["7:13-7:29 cm01.contoso.com"]);
    assert_eq!(def("susdb=\"sql01", 0, 9), ["17:9-17:26 sql01.contoso.com"]);
    // SQL instances from `database instance=` and the instance part of `susdb`.
    assert_eq!(def("instance=\"CM_P01", 0, 11), ["18:19-18:25 CM_P01"]);
    assert_eq!(def("/SUSDB", 0, 2), ["19:19-19:24 SUSDB"]);
    // Client group from `clients:`, boundary group from a client group's list.
    assert_eq!(
        def("clients:HQ desktops", 0, 10),
        ["22:10-22:21 HQ desktops"]
    );
    assert_eq!(def("boundary-group=\"HQ", 0, 17), ["23:17-23:19 HQ"]);
    // A declaration is its own definition; a keyword is nothing.
    assert_eq!(def("zone \"hq", 0, 7), ["2:7-2:9 hq"]);
    assert!(def("management-point", 0, 3).is_empty());
    assert!(def("type=", 0, 1).is_empty());
}

#[test]
fn references_with_and_without_the_declaration() {
    let m = Checked::new(MODEL);
    let s = m.snapshot();
    let refs = |needle: &str, into: usize, decl: bool| {
        m.show(&references(&s, m.source(), m.at(needle, 0, into), decl))
    };
    assert_eq!(
        refs("zone \"hq", 7, true),
        [
            "2:7-2:9 hq",
            "22:40-22:42 hq",
            "28:25-28:27 hq",
            "29:58-29:60 hq",
            "30:32-30:34 hq",
        ]
    );
    assert_eq!(
        refs("site \"P01", 7, false),
        ["22:29-22:32 P01", "23:27-23:30 P01", "29:88-29:91 P01",]
    );
    assert_eq!(
        refs("server \"cm01", 10, false),
        [
            "24:18-24:34 cm01.contoso.com",
            "30:45-30:61 CM01.contoso.com"
        ]
    );
    assert_eq!(
        refs("sql-instance \"SUSDB", 15, true),
        ["19:19-19:24 SUSDB", "13:71-13:76 SUSDB"]
    );
    assert!(refs("default=", 2, true).is_empty());
}

#[test]
fn names_across_files_and_inside_escaped_strings() {
    let a = "zone \"dc\"\nzone \"hq\"\nserver \"sql01.contoso.com\" zone=\"dc\" { sql-instance \"MSSQLSERVER\"; }\n";
    let b = "site \"P01\" type=\"primary\" {\n  database server=\"sql01.contoso.com\" instance=\"mssqlserver\"\n}\nfirewall \"f\" {\n  zones \"dc\" \"hq\"\n  allow from=\"zone:h\\u{71}\" to=\"zone:dc,site:P01\"\n}\n";
    let loaded = crate::load::load_texts(
        vec![
            ("a.kdl".into(), a.as_bytes().to_vec(), false),
            ("b.kdl".into(), b.as_bytes().to_vec(), false),
        ],
        crate::rules::SPEC_CODES,
    );
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    let model = loaded.model;
    let id = |name: &str| {
        model
            .sources
            .iter()
            .find(|(_, f)| f.name == name)
            .map_or_else(|| panic!("{name} not loaded"), |(id, _)| id)
    };
    let show = |spans: Vec<Span>| -> Vec<String> {
        spans
            .into_iter()
            .map(|s| {
                let file = model.sources.get(s.source);
                let ((l1, c1), (l2, c2)) = model.sources.range(s);
                format!(
                    "{}:{l1}:{c1}-{l2}:{c2} {}",
                    file.name,
                    &file.text[s.start..s.end]
                )
            })
            .collect()
    };
    let symbols = Symbols::new(&model);
    // The escaped item's reference is the whole value: its bytes do not map to the name.
    let hq = a.find("hq").unwrap_or_default();
    assert_eq!(
        show(references_with(&symbols, id("a.kdl"), hq, false)),
        ["b.kdl:5:15-5:17 hq", "b.kdl:6:14-6:28 \"zone:h\\u{71}\""]
    );
    // The instance is named ignoring case; its definition is in the other file.
    let instance = b.find("mssqlserver").unwrap_or_default() + 2;
    assert_eq!(
        show(definition_with(&symbols, id("b.kdl"), instance)),
        ["a.kdl:3:54-3:65 MSSQLSERVER"]
    );
    let dc = b.find("zone:dc").unwrap_or_default() + 6;
    assert_eq!(
        show(references_with(&symbols, id("b.kdl"), dc, true)),
        [
            "a.kdl:1:7-1:9 dc",
            "a.kdl:3:34-3:36 dc",
            "b.kdl:5:10-5:12 dc",
            "b.kdl:6:38-6:40 dc",
        ]
    );
}

fn hover_at(m: &Checked, needle: &str, nth: usize, into: usize) -> Option<String> {
    hover(&m.snapshot(), m.source(), m.at(needle, nth, into))
}

#[test]
fn hover_on_a_role_lists_its_flows() {
    let m = Checked::new(MODEL);
    insta::assert_snapshot!(
        "role_management_point",
        hover_at(&m, "management-point", 0, 4).unwrap_or_default()
    );
    // Blocked flows, and a role whose node has properties.
    insta::assert_snapshot!(
        "role_software_update_point",
        hover_at(&m, "software-update-point", 0, 0).unwrap_or_default()
    );
    // At the end of the name (a cursor just after it) too.
    assert_eq!(
        hover_at(&m, "management-point", 0, 16),
        hover_at(&m, "management-point", 0, 0)
    );
}

#[test]
fn hover_on_ports_gives_the_documented_services() {
    let m = Checked::new(MODEL);
    // A site setting stands for its symbolic port, whatever its number.
    insta::assert_snapshot!(
        "port_client_http_setting",
        hover_at(&m, "http=8080", 0, 6).unwrap_or_default()
    );
    // A port of a rule's list, by its number: the second item of "8080,443".
    insta::assert_snapshot!(
        "port_in_rule_list",
        hover_at(&m, "8080,443", 0, 6).unwrap_or_default()
    );
    insta::assert_snapshot!(
        "port_sql_instance",
        hover_at(&m, "port=1433", 0, 6).unwrap_or_default()
    );
    // A number no setting names is matched against the settings' defaults.
    let notification = hover_at(&m, "10123", 0, 1).unwrap_or_default();
    assert!(
        notification.starts_with(
            "**TCP 10123**\n\nPorts used in Configuration Manager:\n\n- [Client --> Management point]"
        ),
        "{notification}"
    );
    assert!(notification.contains("Client notification (TCP client-notification)"));
}

#[test]
fn hover_on_undocumented_rpc_and_escaped_ports() {
    let m = Checked::new(
        "zone \"a\"\nzone \"b\"\nflow \"backup\" from=\"zone:a\" to=\"zone:b\" tcp=\"10000,rpc\" udp=\"\\u{31}37\"\n",
    );
    assert_eq!(
        hover_at(&m, "10000", 0, 2).as_deref(),
        Some("**TCP 10000**\n\nNo documented Configuration Manager service uses it.")
    );
    let rpc = hover_at(&m, "rpc", 0, 1).unwrap_or_default();
    assert!(
        rpc.starts_with("**TCP 49152-65535** (`rpc-dynamic`)\n"),
        "{rpc}"
    );
    assert!(rpc.contains("(TCP rpc-dynamic)"), "{rpc}");
    // An escaped list is one place: its first port (UDP 137, NetBIOS name service).
    let escaped = hover_at(&m, "u{31}", 0, 0).unwrap_or_default();
    assert!(escaped.starts_with("**UDP 137**\n"), "{escaped}");
}

#[test]
fn hover_on_endpoints_lists_their_members() {
    let m = Checked::new(MODEL);
    insta::assert_snapshot!(
        "endpoint_zone",
        hover_at(&m, "zone:hq\"", 0, 2).unwrap_or_default()
    );
    insta::assert_snapshot!(
        "endpoint_role_at_site",
        hover_at(&m, "@P01", 0, 2).unwrap_or_default()
    );
    insta::assert_snapshot!(
        "endpoint_clients",
        hover_at(&m, "clients:HQ", 0, 1).unwrap_or_default()
    );
    insta::assert_snapshot!(
        "endpoint_host",
        hover_at(&m, "host:CM01", 0, 9).unwrap_or_default()
    );
}

#[test]
fn hover_on_declarations_summarizes_them() {
    let m = Checked::new(MODEL);
    let all = [
        hover_at(&m, "zone \"datacenter", 0, 7),
        hover_at(&m, "site \"P01", 0, 7),
        hover_at(&m, "server \"sql01", 0, 9),
        hover_at(&m, "clients \"HQ", 0, 10),
        hover_at(&m, "boundary-group \"HQ", 0, 17),
        hover_at(&m, "sql-instance \"CM_P01", 0, 15),
    ]
    .map(Option::unwrap_or_default)
    .join("\n\n---\n\n");
    insta::assert_snapshot!("declarations", all);
    // Keywords and values that name nothing have no hover.
    assert_eq!(hover_at(&m, "type=", 0, 1), None);
    assert_eq!(hover_at(&m, "default=\"deny", 0, 10), None);
}

#[test]
fn a_role_with_many_flows_is_capped() {
    let mut kdl = String::from(
        r#"zone "dc" { subnet "10.0.0.0/24"; }
site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="dc" {
        site-server
        management-point
        sql-instance "MSSQLSERVER"
    }
}
"#,
    );
    for i in 0..30 {
        let _ = write!(
            kdl,
            "zone \"z{i:02}\" {{ subnet \"10.1.{i}.0/24\"; }}\nclients \"g{i:02}\" site=\"P01\" zone=\"z{i:02}\"\n"
        );
    }
    let m = Checked::new(&kdl);
    let text = m.model.sources.get(m.source()).text.clone();
    let at = text.find("management-point").unwrap_or_default() + 1;
    let shown = hover(&m.snapshot(), m.source(), at).unwrap_or_default();
    let rows = shown
        .lines()
        .filter(|l| l.starts_with("| from") || l.starts_with("| to"))
        .count();
    assert_eq!(rows, MAX_FLOW_ROWS);
    let total: usize = shown
        .lines()
        .nth(2)
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_default();
    assert!(total > MAX_FLOW_ROWS, "{shown}");
    assert!(
        shown.ends_with(&format!("and {} more", total - MAX_FLOW_ROWS)),
        "{shown}"
    );
}

/// The labels completed at the end of `text`.
fn labels(text: &str) -> Vec<String> {
    completion(text, text.len())
        .into_iter()
        .map(|c| c.label)
        .collect()
}

#[test]
fn completion_of_node_names_by_enclosing_node() {
    assert_eq!(
        labels(""),
        [
            "boundary-group",
            "catalog",
            "clients",
            "cloud-distribution-point",
            "cloud-management-gateway",
            "console",
            "firewall",
            "flow",
            "lint",
            "policy",
            "server",
            "site",
            "waive",
            "zone",
        ]
    );
    assert_eq!(labels("zone \"a\"\nsi"), ["site"]);
    assert_eq!(
        labels("site \"P01\" type=\"primary\" {\n    "),
        [
            "client-ports",
            "content-library",
            "database",
            "server",
            "suppress"
        ]
    );
    // A site's server takes site system roles; a top-level one infrastructure roles.
    assert_eq!(
        labels("site \"P01\" type=\"primary\" {\n    server \"a\" zone=\"x\" {\n        man"),
        ["management-point"]
    );
    assert_eq!(
        labels("server \"a\" zone=\"x\" {\n    d"),
        ["domain-controller"]
    );
    // After a closed block, back at the top level; `;` ends a node too.
    assert_eq!(
        labels("zone \"a\" { subnet \"10.0.0.0/8\"; }\nf"),
        ["firewall", "flow"]
    );
    assert_eq!(
        labels("zone \"a\" { subnet \"10.0.0.0/8\"; su"),
        ["subnet", "suppress"]
    );
    // Braces and quotes inside strings and comments do not count.
    assert_eq!(
        labels("zone \"a\" {\n  subnet \"x\\\"{\" // {\n  /* } */ su"),
        ["subnet", "suppress"]
    );
    // Inside a comment, an argument string, or an unknown node: nothing.
    assert!(labels("server \"a\" zone=\"x\" { // man").is_empty());
    assert!(labels("zone \"a\" { /* sub").is_empty());
    assert!(labels("server \"cm").is_empty());
    assert!(labels("widget \"a\" {\n  ").is_empty());
}

#[test]
fn completion_of_property_names_not_yet_given() {
    let all = completion("site \"P01\" ", 11);
    assert_eq!(
        all.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(),
        [
            "enhanced-http",
            "parent",
            "published-to-ad",
            "site-server-initiates",
            "type"
        ]
    );
    let type_ = all.iter().find(|c| c.label == "type");
    assert_eq!(
        type_,
        Some(&Completion {
            label: "type".into(),
            kind: CompletionKind::Property,
            detail: Some("one of central, primary, secondary, required".into()),
            insert_text: Some("type=".into()),
            replace_from: 11,
        })
    );
    assert_eq!(
        labels("site \"P01\" {\n  server \"a\" {\n    management-point http=#true "),
        ["https", "site-server-initiates"]
    );
    assert_eq!(
        labels("clients \"g\" site=\"P01\" wake"),
        ["wake-on-lan", "wake-up-proxy"]
    );
    // In the middle of a line of a half-typed, invalid document.
    let text =
        "site \"P01\" type=\"primary\" {\n  server \"a\" zone= {\n    distribution-point p\n  }\n";
    let at = text.find("point p").unwrap_or_default() + "point p".len();
    assert_eq!(
        completion(text, at)
            .into_iter()
            .map(|c| c.label)
            .collect::<Vec<_>>(),
        ["pull", "pxe", "pxe-responder"]
    );
}

#[test]
fn completion_of_values() {
    let text = "site \"P01\" type=";
    assert_eq!(
        completion(text, text.len()),
        ["central", "primary", "secondary"].map(|v| Completion {
            label: v.into(),
            kind: CompletionKind::Value,
            detail: Some("type".into()),
            insert_text: Some(format!("\"{v}\"")),
            replace_from: text.len(),
        })
    );
    // Inside an open quote: the label alone, replacing what is typed after the quote.
    let text = "site \"P01\" type=\"pri";
    assert_eq!(
        completion(text, text.len()),
        [Completion {
            label: "primary".into(),
            kind: CompletionKind::Value,
            detail: Some("type".into()),
            insert_text: None,
            replace_from: text.len() - 3,
        }]
    );
    assert_eq!(labels("clients \"g\" peer-cache=#"), ["#false", "#true"]);
    assert_eq!(labels("firewall \"f\" default=\""), ["allow", "deny"]);
    assert_eq!(
        labels("firewall \"f\" source=\"a.json\" format=\"a"),
        ["aerleon", "azure-nsg-json"]
    );
    assert_eq!(labels("catalog edition="), ["2020", "2025"]);
    assert_eq!(labels("catalog {\n  include "), ["windows-domain"]);
    assert_eq!(labels("lint {\n  severity \"x\" o"), ["off"]);
    assert_eq!(labels("waive \"r\" phase=\"i"), ["install"]);
    // Windows Firewall rules: the direction first, then ports with `rpc-epmap`.
    assert_eq!(
        labels("server \"a\" zone=\"x\" {\n  windows-firewall {\n    allow "),
        ["in", "out"]
    );
    assert_eq!(
        labels("server \"a\" zone=\"x\" {\n  windows-firewall {\n    allow in tcp=\"135,r"),
        ["rpc", "rpc-epmap"]
    );
    assert_eq!(labels("firewall \"f\" {\n  allow tcp=\"80,r"), ["rpc"]);
    assert_eq!(
        labels("site \"P01\" {\n  server \"a\" {\n    software-update-point upstream=\""),
        ["internet"]
    );
}

#[test]
fn completion_of_endpoint_items() {
    let text = "firewall \"f\" {\n  allow \"x\" from=\"zone:hq, ro";
    let got = completion(text, text.len());
    assert_eq!(
        got.iter()
            .map(|c| (c.label.as_str(), c.replace_from))
            .collect::<Vec<_>>(),
        [("role:", text.len() - 2)]
    );
    assert_eq!(
        labels("firewall \"f\" {\n  deny to=\"role:manag"),
        ["role:management-point"]
    );
    assert_eq!(
        labels("policy \"p\" {\n  forbid from="),
        [
            "any", "cidr:", "clients:", "host:", "role:", "site:", "zone:"
        ]
    );
    let text = "flow \"f\" to=";
    assert_eq!(
        completion(text, text.len())
            .into_iter()
            .find(|c| c.label == "zone:")
            .and_then(|c| c.insert_text),
        Some("\"zone:".into())
    );
}

/// Timings on a model folder (`CMFLOW_LSP_MODEL=DIR cargo test --release --lib
/// lsp::analysis::tests::timings -- --ignored --nocapture`): the symbol index, the flow
/// index, and a hover on the role with the most flows.
#[test]
#[ignore = "a measurement on a generated model: run by hand"]
fn timings() {
    use std::time::Instant;
    let Ok(dir) = std::env::var("CMFLOW_LSP_MODEL") else {
        return;
    };
    let loaded = crate::load::load(
        &crate::load::Inputs {
            paths: vec![dir.into()],
            stdin: None,
        },
        crate::rules::SPEC_CODES,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let model = loaded.model;
    let flows = required_flows(&model, &Phase::ALL);
    let verdicts = evaluate(&Network::new(&model), &flows);
    let snapshot = Snapshot {
        model: &model,
        flows: &flows,
        verdicts: &verdicts,
    };
    // On a shared machine the wall time counts other processes' turns: the time this
    // thread ran on a CPU (Linux's schedstat) is printed beside it.
    let on_cpu = || -> Option<u64> {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()?
            .split(' ')
            .next()?
            .parse()
            .ok()
    };
    let cpu_ms = |before: Option<u64>| match (before, on_cpu()) {
        (Some(a), Some(b)) => {
            let us = b.saturating_sub(a) / 1000;
            format!("{}.{} ms on CPU", us / 1000, us % 1000 / 100)
        }
        _ => "CPU time unknown".into(),
    };
    let cpu = on_cpu();
    let start = Instant::now();
    let symbols = Symbols::new(&model);
    let symbols_time = start.elapsed();
    let symbols_cpu = cpu_ms(cpu);
    let cpu = on_cpu();
    let start = Instant::now();
    let flow_index = FlowIndex::new(&model, &flows);
    let flow_index_time = start.elapsed();
    let flow_index_cpu = cpu_ms(cpu);
    // The role node of the server with the most flows.
    let mut per_server = vec![0usize; model.servers.len()];
    for f in &flows {
        for e in [f.source, f.destination] {
            if let crate::engine::FlowEndpoint::Server(s) = e {
                per_server[s] += 1;
            }
        }
    }
    let busiest = (0..model.servers.len())
        .filter(|&s| !model.servers[s].roles.is_empty())
        .max_by_key(|&s| per_server[s])
        .unwrap_or_default();
    let role = &model.servers[busiest].roles[0];
    let cpu = on_cpu();
    let start = Instant::now();
    let shown = hover_with(
        &snapshot,
        &symbols,
        &flow_index,
        role.span.source,
        role.span.start + 1,
    )
    .unwrap_or_default();
    let hover_time = start.elapsed();
    let hover_cpu = cpu_ms(cpu);
    let fqdn = &model.servers[busiest].fqdn;
    let start = Instant::now();
    let refs = references_with(&symbols, fqdn.span.source, fqdn.span.start + 2, true);
    let references_time = start.elapsed();
    eprintln!(
        "servers {}, flows {}, index entries {}: symbols {symbols_time:?} ({symbols_cpu}), flow index {flow_index_time:?} ({flow_index_cpu}); hover on {} of {} ({} flows of the server) {hover_time:?} ({hover_cpu}), {} bytes; references to it ({}) {references_time:?}",
        model.servers.len(),
        flows.len(),
        symbols.len(),
        role.name,
        fqdn.value,
        per_server[busiest],
        shown.len(),
        refs.len(),
    );
}

#[test]
fn hover_on_other_endpoints_and_a_capped_member_list() {
    let mut kdl = String::from(
        r#"zone "dc" { subnet "10.0.0.0/24"; }
zone "hq" { subnet "10.1.0.0/16"; }
site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="dc" address="10.0.0.5" {
        site-server
        sql-instance "MSSQLSERVER"
    }
}
console "admin-pc" zone="hq" site="P01"
cloud-management-gateway "cmg1" site="P01"
firewall "f" {
    zones "dc" "hq" "internet"
    allow "a" from="any" to="cidr:10.0.0.0/16,host:admin-pc,host:cmg1,zone:hq"
}
"#,
    );
    for i in 0..20 {
        let _ = writeln!(kdl, "clients \"g{i:02}\" site=\"P01\" zone=\"hq\"");
    }
    let m = Checked::new(&kdl);
    let text = m.model.sources.get(m.source()).text.clone();
    let at = |needle: &str| text.find(needle).unwrap_or_default() + 1;
    let shown = |needle: &str| hover(&m.snapshot(), m.source(), at(needle)).unwrap_or_default();
    assert_eq!(shown("any\""), "**`any`**\n\nEvery host, in every zone.");
    assert_eq!(
        shown("cidr:"),
        "**`cidr:10.0.0.0/16`**\n\nZones inside it (1):\n- `dc`\n\nServers whose address lies inside it (1):\n- `cm01.contoso.com`"
    );
    assert_eq!(
        shown("host:admin"),
        "**`host:admin-pc`**\n\nconsole in zone `hq`, site `P01`"
    );
    assert_eq!(
        shown("host:cmg1"),
        "**`host:cmg1`**\n\ncloud-management-gateway of site `P01`, in zone `internet`"
    );
    let zone = shown("zone:hq");
    assert!(
        zone.starts_with("**`zone:hq`**\n\nSubnets: 10.1.0.0/16\n\nClient groups (20):\n- `g00`\n"),
        "{zone}"
    );
    assert!(
        zone.ends_with("- `g14`\n- and 5 more\n\nConsoles (1):\n- `admin-pc`"),
        "{zone}"
    );
}
