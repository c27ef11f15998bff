//! The `2025` edition and the `windows-domain` extra catalog, section by section, and the
//! generated table of differences between the editions (`docs/catalog-editions.md`).
//!
//! Like `tests/catalog_sections.rs` for the base catalog: for every section that a layer
//! file (`policies/edition-2025.kdl`, `policies/windows-domain.kdl`) writes, a small model
//! that selects the layer, and every flow that carries a service of that section,
//! written by hand from the current article ("Ports used in Configuration Manager",
//! 2025-08-12) and "Service overview and network port requirements for Windows".

mod common;

use std::collections::BTreeSet;

use cmflow::catalog::{EDITION_2025, INCLUDES, editions_markdown, for_choice};
use cmflow::engine::Phase;
use cmflow::model::Edition;
use common::{root, section_flows};

const OP: &[Phase] = &[Phase::Operation];

/// A stand-alone primary `P01` (site server and SMS provider `cm01`, database on the
/// default instance of `sql01`, TCP 1433), zones `dc` and `hq`, with the given `catalog`
/// node, site children and top-level nodes.
fn p01(catalog: &str, site: &str, top: &str) -> String {
    format!(
        "{catalog}\nzone \"dc\" {{ subnet \"10.0.0.0/24\" }}\nzone \"hq\" {{ subnet \"10.10.0.0/16\" }}\n\
         site \"P01\" type=\"primary\" {{\n    database server=\"sql01.contoso.com\" instance=\"MSSQLSERVER\"\n    \
         server \"cm01.contoso.com\" zone=\"dc\" {{ site-server; sms-provider; }}\n{site}\n}}\n\
         server \"sql01.contoso.com\" zone=\"dc\" {{ sql-instance \"MSSQLSERVER\" }}\n{top}\n"
    )
}

const E2025: &str = r#"catalog edition="2025""#;
const DOMAIN: &str = r#"catalog { include "windows-domain"; }"#;

struct Section {
    anchor: &'static str,
    model: String,
    expected: Vec<String>,
}

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// What one domain member needs from one domain controller that is a global catalog.
fn domain_flows(member: &str, dc: &str) -> Vec<String> {
    [
        "tcp 135",
        "tcp 3268",
        "tcp 3269",
        "tcp 389",
        "tcp 445",
        "tcp 464",
        "tcp 49152-65535",
        "tcp 53",
        "tcp 636",
        "tcp 88",
        "udp 123",
        "udp 389",
        "udp 464",
        "udp 53",
        "udp 88",
    ]
    .iter()
    .map(|p| format!("{member} -> {dc} {p}"))
    .collect()
}

fn sections() -> Vec<Section> {
    let cmg = r#"
    server "cmgcp01.contoso.com" zone="dc" { cmg-connection-point }
    server "mp01.contoso.com" zone="dc" { management-point }
    server "mp02.contoso.com" zone="dc" { management-point https=#true }
    server "sup01.contoso.com" zone="dc" { software-update-point }
    server "sup02.contoso.com" zone="dc" { software-update-point ssl=#true }"#;
    let gateways = r#"cloud-management-gateway "cmg-big" site="P01" vms=2
cloud-management-gateway "cmg-small" site="P01""#;
    let mut out = vec![
        // New row DHCPv6 for the PXE responder without WDS; the others as in 2020.
        Section {
            anchor: "BKMK_PortsClient-DP3",
            model: p01(
                E2025,
                r#"
    server "dp01.contoso.com" zone="hq" { distribution-point pxe=#true pxe-responder=#true }
    server "dp02.contoso.com" zone="hq" { distribution-point pxe=#true }"#,
                r#"clients "HQ" site="P01" zone="hq""#,
            ),
            expected: lines(&[
                "HQ -> dp01.contoso.com udp 4011",
                "HQ -> dp01.contoso.com udp 547",
                "HQ -> dp01.contoso.com udp 67-68",
                "HQ -> dp01.contoso.com udp 69",
                "HQ -> dp02.contoso.com udp 4011",
                "HQ -> dp02.contoso.com udp 67-68",
                "HQ -> dp02.contoso.com udp 69",
            ]),
        },
        // Classic cloud service: same rows as 2020, new heading.
        Section {
            anchor: "bkmk_cmgcp-cmg",
            model: p01(E2025, cmg, gateways),
            expected: lines(&[
                "cmgcp01.contoso.com -> cmg-big tcp 10124-10139",
                "cmgcp01.contoso.com -> cmg-big tcp 10140-10155",
                "cmgcp01.contoso.com -> cmg-small tcp 10140-10155",
                "cmgcp01.contoso.com -> cmg-small tcp 443",
            ]),
        },
        // The scale set: 443 with one VM, 10124-10139 with two or more.
        Section {
            anchor: "bkmk_cmgcp-cmg2",
            model: p01(E2025, cmg, gateways),
            expected: lines(&[
                "cmgcp01.contoso.com -> cmg-big tcp 10124-10139",
                "cmgcp01.contoso.com -> cmg-small tcp 443",
            ]),
        },
        // HTTPS to a point that accepts it, HTTP to an HTTP-only point.
        Section {
            anchor: "bkmk_cmgcp-mp",
            model: p01(E2025, cmg, gateways),
            expected: lines(&[
                "cmgcp01.contoso.com -> mp01.contoso.com tcp 80",
                "cmgcp01.contoso.com -> mp02.contoso.com tcp 443",
            ]),
        },
        // 80/8530 always, 443/8531 when the point requires SSL: the WSUS ports.
        Section {
            anchor: "bkmk_cmgcp-sup",
            model: p01(E2025, cmg, gateways),
            expected: lines(&[
                "cmgcp01.contoso.com -> sup01.contoso.com tcp 8530",
                "cmgcp01.contoso.com -> sup02.contoso.com tcp 8530",
                "cmgcp01.contoso.com -> sup02.contoso.com tcp 8531",
            ]),
        },
        // New row: the administration service, HTTPS 443.
        Section {
            anchor: "BKMK_PortsConsole-Provider",
            model: p01(E2025, "", r#"console "admin-pc" zone="hq" site="P01""#),
            expected: lines(&[
                "admin-pc -> cm01.contoso.com tcp 135",
                "admin-pc -> cm01.contoso.com tcp 443",
                "admin-pc -> cm01.contoso.com tcp 49152-65535",
                "admin-pc -> cm01.contoso.com udp 135",
            ]),
        },
        // New row: HTTPS.
        Section {
            anchor: "BKMK_PortSite-Internet",
            model: p01(E2025, "", ""),
            expected: lines(&[
                "cm01.contoso.com -> internet tcp 443",
                "cm01.contoso.com -> internet tcp 80",
            ]),
        },
        // New rows: RPC both ways; the WSUS ports one way (the correction).
        Section {
            anchor: "BKMK_PortsSite-SUP",
            model: p01(
                E2025,
                r#"    server "sup01.contoso.com" zone="dc" rpc-ports="50000-50999" { software-update-point }"#,
                "",
            ),
            expected: lines(&[
                "cm01.contoso.com -> sup01.contoso.com tcp 135",
                "cm01.contoso.com -> sup01.contoso.com tcp 445",
                "cm01.contoso.com -> sup01.contoso.com tcp 50000-50999",
                "cm01.contoso.com -> sup01.contoso.com tcp 8530",
                "cm01.contoso.com -> sup01.contoso.com udp 135",
                "sup01.contoso.com -> cm01.contoso.com tcp 135",
                "sup01.contoso.com -> cm01.contoso.com tcp 445",
                "sup01.contoso.com -> cm01.contoso.com tcp 49152-65535",
                "sup01.contoso.com -> cm01.contoso.com udp 135",
            ]),
        },
        // A pull distribution point to each of its sources, as the source allows.
        // (`sources` on a standard distribution point is `schema/missing-value`, tested
        // in tests/cli.rs.)
        Section {
            anchor: "BKMK_PortsPullDP-DPSource",
            model: p01(
                E2025,
                r#"
    client-ports https=8443
    server "dp01.contoso.com" zone="dc" { distribution-point }
    server "dp02.contoso.com" zone="dc" { distribution-point http=#false https=#true }
    server "dp03.contoso.com" zone="hq" { distribution-point pull=#true sources="dp01.contoso.com,dp02.contoso.com" }"#,
                "",
            ),
            expected: lines(&[
                "dp03.contoso.com -> dp01.contoso.com tcp 80",
                "dp03.contoso.com -> dp02.contoso.com tcp 8443",
            ]),
        },
        Section {
            anchor: "bkmk_scp-notify",
            model: p01(
                E2025,
                r#"    server "scp01.contoso.com" zone="dc" { service-connection-point }"#,
                "",
            ),
            expected: lines(&["scp01.contoso.com -> internet tcp 443"]),
        },
        Section {
            anchor: "scp-sql",
            model: p01(
                E2025,
                r#"    server "scp01.contoso.com" zone="dc" { service-connection-point }"#,
                "",
            ),
            expected: lines(&["scp01.contoso.com -> sql01.contoso.com tcp 1433"]),
        },
    ];
    let dcs = r#"server "dc01.contoso.com" zone="dc" { domain-controller }"#;
    // Every server that is not a domain controller: the site server and the SQL Server.
    let mut servers = domain_flows("cm01.contoso.com", "dc01.contoso.com");
    servers.extend(domain_flows("sql01.contoso.com", "dc01.contoso.com"));
    out.push(Section {
        anchor: "windows-domain-servers",
        model: p01(DOMAIN, "", dcs),
        expected: servers,
    });
    out.push(Section {
        anchor: "windows-domain-consoles",
        model: p01(
            DOMAIN,
            "",
            &format!("{dcs}\nconsole \"admin-pc\" zone=\"hq\" site=\"P01\""),
        ),
        expected: domain_flows("admin-pc", "dc01.contoso.com"),
    });
    // Windows groups of the domain only: not workgroup, internet, other forest or macOS.
    out.push(Section {
        anchor: "windows-domain-clients",
        model: p01(
            DOMAIN,
            "",
            &format!(
                "{dcs}\nclients \"HQ\" site=\"P01\" zone=\"hq\"\n\
                 clients \"Lab\" site=\"P01\" zone=\"hq\" workgroup=#true\n\
                 clients \"Roaming\" site=\"P01\" zone=\"hq\" internet=#true\n\
                 clients \"Fabrikam\" site=\"P01\" zone=\"hq\" forest=\"fabrikam.com\"\n\
                 clients \"Macs\" site=\"P01\" zone=\"hq\" type=\"mac\""
            ),
        ),
        expected: domain_flows("HQ", "dc01.contoso.com"),
    });
    out
}

#[test]
fn every_layer_section_gives_exactly_the_documented_flows() {
    let mut failures = Vec::new();
    for s in sections() {
        let actual = match section_flows(&s.model, s.anchor, OP) {
            Ok(flows) => flows,
            Err(e) => {
                failures.push(format!("{}: {e}", s.anchor));
                continue;
            }
        };
        let mut expected = s.expected.clone();
        expected.sort();
        if actual != expected {
            failures.push(format!(
                "{}:\n  expected {expected:#?}\n  actual {actual:#?}",
                s.anchor
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_layer_section_is_tested_here() {
    let layers = [EDITION_2025, INCLUDES[0].1];
    let written: BTreeSet<String> = cmflow::catalog::parse(&layers)
        .rows
        .iter()
        .map(|r| r.anchor.clone())
        .collect();
    let tested: BTreeSet<String> = sections().iter().map(|s| s.anchor.to_owned()).collect();
    assert_eq!(written, tested);
}

#[test]
fn the_default_catalog_is_2020_without_extra_catalogs() {
    // The 2025-only section and the include's sections give nothing without the node.
    let model = p01(
        "",
        r#"    server "scp01.contoso.com" zone="dc" { service-connection-point }"#,
        r#"server "dc01.contoso.com" zone="dc" { domain-controller }"#,
    );
    assert_eq!(section_flows(&model, "scp-sql", OP), Ok(Vec::new()));
    assert_eq!(
        section_flows(&model, "windows-domain-servers", OP),
        Ok(Vec::new())
    );
    // Both layers at once.
    let both = model.replace(
        "zone \"dc\"",
        "catalog edition=\"2025\" { include \"windows-domain\"; }\nzone \"dc\"",
    );
    assert_eq!(
        section_flows(&both, "scp-sql", OP),
        Ok(vec![
            "scp01.contoso.com -> sql01.contoso.com tcp 1433".to_owned()
        ])
    );
    assert_eq!(
        section_flows(&both, "windows-domain-servers", OP).map(|f| f.len()),
        Ok(45)
    );
}

#[test]
fn the_2025_edition_drops_the_application_catalog_sections() {
    let c = for_choice(Edition::E2025, &[]);
    assert!(
        !c.rows.iter().any(|r| r.anchor.contains("AppCatalog")),
        "application catalog sections under 2025"
    );
    let roles: Vec<&str> = c.removed_roles.iter().map(|r| r.role.as_str()).collect();
    assert_eq!(
        roles,
        [
            "application-catalog-website-point",
            "application-catalog-web-service-point"
        ]
    );
    assert!(for_choice(Edition::E2020, &[]).removed_roles.is_empty());
}

/// Under 2025 a named instance on a port other than 1433 also needs SQL Server Browser,
/// from every source of a SQL flow; under 2020 it does not.
#[test]
fn sql_server_browser_is_required_by_the_2025_edition_only() {
    let named = |catalog: &str| {
        p01(
            catalog,
            "",
            r#"server "sqlx.contoso.com" zone="dc" { sql-instance "CM_X" port=1500 }"#,
        )
        .replace(
            r#"database server="sql01.contoso.com" instance="MSSQLSERVER""#,
            r#"database server="sqlx.contoso.com" instance="CM_X""#,
        )
    };
    assert_eq!(
        section_flows(&named(""), "BKMK_PortsSite-SQL", OP),
        Ok(vec![
            "cm01.contoso.com -> sqlx.contoso.com tcp 1500".to_owned()
        ])
    );
    assert_eq!(
        section_flows(&named(E2025), "BKMK_PortsSite-SQL", OP),
        Ok(vec![
            "cm01.contoso.com -> sqlx.contoso.com tcp 1500".to_owned(),
            "cm01.contoso.com -> sqlx.contoso.com udp 1434".to_owned(),
        ])
    );
    // The default instance on 1433: no Browser.
    assert_eq!(
        section_flows(&p01(E2025, "", ""), "BKMK_PortsSite-SQL", OP),
        Ok(vec![
            "cm01.contoso.com -> sql01.contoso.com tcp 1433".to_owned()
        ])
    );
}

#[test]
fn docs_catalog_editions_md_is_generated_from_the_catalogs() {
    let path = root().join("docs/catalog-editions.md");
    let expected = editions_markdown();
    if std::env::var_os("CMFLOW_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).expect("write docs/catalog-editions.md");
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/catalog-editions.md is out of date: run `CMFLOW_UPDATE_DOCS=1 cargo test --test catalog_editions`"
    );
}
