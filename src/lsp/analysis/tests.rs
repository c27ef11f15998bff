//! Hover, definition, references and completion on small models loaded as the CLI loads
//! them, by the place of a marked word.

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
            .map(|(id, _)| id)
            .unwrap_or_else(|| panic!("m.kdl not loaded"))
    }

    /// The offset of the `nth` occurrence (0-based) of `needle`, plus `into` bytes.
    fn at(&self, needle: &str, nth: usize, into: usize) -> usize {
        let text = &self.model.sources.get(self.source()).text;
        let at = text
            .match_indices(needle)
            .nth(nth)
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("`{needle}` #{nth} not in the model"));
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
    let undocumented = hover_at(&m, "10123", 0, 1).unwrap_or_default();
    assert!(undocumented.contains("client-notification") || undocumented.contains("No documented"));
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
        kdl.push_str(&format!(
            "zone \"z{i:02}\" {{ subnet \"10.1.{i}.0/24\"; }}\nclients \"g{i:02}\" site=\"P01\" zone=\"z{i:02}\"\n"
        ));
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
