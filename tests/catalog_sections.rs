//! One model per catalog section, and the exact flows the Microsoft documents give it.
//!
//! For every `section` of `policies/catalog.kdl`, [`SECTIONS`] holds a small model that
//! contains the section's source and destination roles, and the complete set of flows
//! that carry a service of that section (`Origin::Catalog(row)` with `row.anchor` equal
//! to the section's anchor), rendered `SOURCE -> DEST PROTO PORTS`. The expected lines
//! are written by hand from the seed tables (seed `001`, "Ports used in
//! Configuration Manager", and `002`'s client deployment tables) and the product's flow
//! rules: ports
//! marked "alternate port available" come from the model's settings (client ports 80 /
//! 443 / 10123 unless set, SQL 1433 / 4022 unless set, WSUS 8530 / 8531 unless set,
//! "DYNAMISCHE" RPC is the destination server's `rpc-ports`, 49152-65535 unless set).
//! Where the seed leaves a choice, `docs/decisions.md` decides; the entries that rely on
//! a decision say so.
//!
//! The comparison is of the full set: a missing or an extra flow fails, naming the
//! anchor. A last test keeps this file complete: a catalog section without an entry
//! here fails.

use std::collections::BTreeSet;

mod common;

use cmflow::catalog::builtin;
use cmflow::engine::Phase;
use common::section_flows;

const OP: &[Phase] = &[Phase::Operation];
const ALL: &[Phase] = &Phase::ALL;

/// One catalog section under test.
struct Section {
    /// The section's anchor in the catalog (`BKMK_PortsClient-MP`).
    anchor: &'static str,
    /// The phases asked of the engine (every phase the section's rows are in).
    phases: &'static [Phase],
    /// A whole model.
    model: &'static str,
    /// Every flow carrying a service of this section, `SOURCE -> DEST PROTO PORTS`.
    expected: &'static [&'static str],
}

/// A stand-alone primary site `P01` (so the top of the hierarchy): site server
/// `cm01.contoso.com`, site database on the default instance of the top-level
/// `sql01.contoso.com` (TCP 1433), zones `dc` and `hq`. The first form adds site children
/// and top-level nodes; the second also takes the site's and the site server's
/// properties.
macro_rules! p01 {
    ($site:literal, $top:literal $(,)?) => {
        p01!("", "", $site, $top)
    };
    ($site_props:literal, $cm01_props:literal, $site:literal, $top:literal $(,)?) => {
        concat!(
            "zone \"dc\" { subnet \"10.0.0.0/24\" }\n",
            "zone \"hq\" { subnet \"10.10.0.0/16\" }\n",
            "site \"P01\" type=\"primary\" ",
            $site_props,
            " {\n",
            "    database server=\"sql01.contoso.com\" instance=\"MSSQLSERVER\"\n",
            "    server \"cm01.contoso.com\" zone=\"dc\" ",
            $cm01_props,
            " { site-server; sms-provider; }\n",
            $site,
            "\n}\n",
            "server \"sql01.contoso.com\" zone=\"dc\" { sql-instance \"MSSQLSERVER\" }\n",
            $top,
            "\n"
        )
    };
}

/// A central site `CAS`, a primary `P01` below it and a secondary `S01` below that, with
/// their databases: the CAS's on the default instance of `sqlcas` (1433, broker 4022),
/// the primary's on a named instance of `sqlp01` on static ports 1500 / 4500, the
/// secondary's on SQL Express on its site server on 2433 (broker: the default 4022).
const HIERARCHY: &str = r#"
zone "dc" { subnet "10.0.0.0/24" }
zone "branch" { subnet "10.20.0.0/24" }
site "CAS" type="central" {
    database server="sqlcas.contoso.com" instance="MSSQLSERVER"
    server "cas01.contoso.com" zone="dc" { site-server; sms-provider; }
}
site "P01" type="primary" parent="CAS" {
    database server="sqlp01.contoso.com" instance="CM_P01"
    server "p01.contoso.com" zone="dc" { site-server; sms-provider; }
    server "mp01.contoso.com" zone="dc" { management-point; distribution-point; }
}
site "S01" type="secondary" parent="P01" {
    database server="s01.contoso.com" instance="CONFIGMGRSEC"
    server "s01.contoso.com" zone="branch" {
        site-server
        management-point
        distribution-point
        sql-instance "CONFIGMGRSEC" port=2433
    }
}
server "sqlcas.contoso.com" zone="dc" { sql-instance "MSSQLSERVER" }
server "sqlp01.contoso.com" zone="dc" { sql-instance "CM_P01" port=1500 broker-port=4500 }
"#;

const SECTIONS: &[Section] = &[
    // -----------------------------------------------------------------------------------
    // Seed 001, BKMK_CommunicationPorts, in document order.
    // -----------------------------------------------------------------------------------
    Section {
        anchor: "BKMK_PortsAI",
        phases: OP,
        model: p01!(
            r#"server "ai01.contoso.com" zone="dc" { asset-intelligence-synchronization-point }"#,
            ""
        ),
        expected: &["ai01.contoso.com -> internet tcp 443"],
    },
    Section {
        anchor: "BKMK_PortsAI-to-SQL",
        phases: OP,
        model: p01!(
            r#"server "ai01.contoso.com" zone="dc" { asset-intelligence-synchronization-point }"#,
            ""
        ),
        expected: &["ai01.contoso.com -> sql01.contoso.com tcp 1433"],
    },
    Section {
        anchor: "BKMK_PortsAppCatalogService-SQL",
        phases: OP,
        model: p01!(
            r#"server "acws01.contoso.com" zone="dc" { application-catalog-web-service-point }"#,
            ""
        ),
        expected: &["acws01.contoso.com -> sql01.contoso.com tcp 1433"],
    },
    // Note 2 ("alternate port available"): flows.md names "catalog website --> web
    // service" among the flows on the site's client request ports.
    Section {
        anchor: "BKMK_PortsAppCatalogWebSitePoint_AppCatalogWebServicePoint",
        phases: OP,
        model: p01!(
            r#"
    client-ports http=8080 https=8443
    server "acweb01.contoso.com" zone="dc" { application-catalog-website-point }
    server "acws01.contoso.com" zone="dc" { application-catalog-web-service-point }"#,
            ""
        ),
        expected: &[
            "acweb01.contoso.com -> acws01.contoso.com tcp 8080",
            "acweb01.contoso.com -> acws01.contoso.com tcp 8443",
        ],
    },
    // Internet clients reach only cloud services (docs/decisions.md, Engine).
    Section {
        anchor: "BKMK_PortsClient-AppCatalogWebsitePoint",
        phases: OP,
        model: p01!(
            r#"server "acweb01.contoso.com" zone="dc" { application-catalog-website-point }"#,
            r#"
clients "HQ" site="P01" zone="hq"
clients "Roaming" site="P01" zone="internet" internet=#true"#
        ),
        expected: &[
            "HQ -> acweb01.contoso.com tcp 443",
            "HQ -> acweb01.contoso.com tcp 80",
        ],
    },
    // Wake on LAN 9 and wake-up proxy 25536 (defaults) plus ICMP echo (the section's
    // prose) for a group with wake-up proxy; Windows PE peer cache UDP 8004 and TCP 8003
    // for a group with peer cache; nothing for a group with neither.
    Section {
        anchor: "BKMK_PortsClient-ClientWakeUp",
        phases: OP,
        model: p01!(
            "",
            r#"
clients "HQ" site="P01" zone="hq" wake-up-proxy=#true
clients "Imaging" site="P01" zone="hq" peer-cache=#true
clients "Lab" site="P01" zone="hq""#
        ),
        expected: &[
            "HQ -> HQ icmp echo",
            "HQ -> HQ udp 25536",
            "HQ -> HQ udp 9",
            "Imaging -> Imaging tcp 8003",
            "Imaging -> Imaging udp 8004",
        ],
    },
    // Only when the hierarchy issues certificate profiles (it has a certificate
    // registration point); NDES servers are outside any site.
    Section {
        anchor: "BKMK_PortsClient-PolicyModule",
        phases: OP,
        model: p01!(
            r#"server "crp01.contoso.com" zone="dc" { certificate-registration-point }"#,
            r#"
server "ndes01.contoso.com" zone="dc" { ndes-server }
clients "HQ" site="P01" zone="hq""#
        ),
        expected: &[
            "HQ -> ndes01.contoso.com tcp 443",
            "HQ -> ndes01.contoso.com tcp 80",
        ],
    },
    // Every client group of the site, internet ones included (flows.md).
    Section {
        anchor: "BKMK_PortsClient-CloudDP",
        phases: OP,
        model: p01!(
            "",
            r#"
cloud-distribution-point "cdp1" site="P01"
clients "HQ" site="P01" zone="hq"
clients "Roaming" site="P01" zone="internet" internet=#true"#
        ),
        expected: &["HQ -> cdp1 tcp 443", "Roaming -> cdp1 tcp 443"],
    },
    // flows.md: `internet` groups of a site with a gateway.
    Section {
        anchor: "bkmk_client-cmg",
        phases: OP,
        model: p01!(
            r#"server "mp01.contoso.com" zone="dc" { management-point http=#false https=#true }"#,
            r#"
cloud-management-gateway "cmg1" site="P01"
clients "HQ" site="P01" zone="hq"
clients "Roaming" site="P01" zone="internet" internet=#true"#
        ),
        expected: &["Roaming -> cmg1 tcp 443"],
    },
    // HTTP / HTTPS as each distribution point allows; express updates 8005 for the group
    // that uses them.
    Section {
        anchor: "BKMK_PortsClient-DP",
        phases: OP,
        model: p01!(
            r#"
    server "dp01.contoso.com" zone="hq" { distribution-point http=#true https=#true }
    server "dp02.contoso.com" zone="hq" { distribution-point pull=#true http=#false https=#true }"#,
            r#"
clients "HQ" site="P01" zone="hq" express-updates=#true
clients "Lab" site="P01" zone="hq"
clients "Roaming" site="P01" zone="internet" internet=#true"#
        ),
        expected: &[
            "HQ -> dp01.contoso.com tcp 443",
            "HQ -> dp01.contoso.com tcp 80",
            "HQ -> dp01.contoso.com tcp 8005",
            "HQ -> dp02.contoso.com tcp 443",
            "HQ -> dp02.contoso.com tcp 8005",
            "Lab -> dp01.contoso.com tcp 443",
            "Lab -> dp01.contoso.com tcp 80",
            "Lab -> dp02.contoso.com tcp 443",
        ],
    },
    Section {
        anchor: "BKMK_PortsClient-DP2",
        phases: OP,
        model: p01!(
            r#"
    server "dp01.contoso.com" zone="hq" { distribution-point multicast=#true }
    server "dp02.contoso.com" zone="hq" { distribution-point }"#,
            r#"clients "HQ" site="P01" zone="hq""#
        ),
        expected: &[
            "HQ -> dp01.contoso.com tcp 445",
            "HQ -> dp01.contoso.com udp 63000-64000",
        ],
    },
    // "67 en 68" is UDP 67 and 68; TFTP 69 only (note 4 adds no listed port).
    Section {
        anchor: "BKMK_PortsClient-DP3",
        phases: OP,
        model: p01!(
            r#"
    server "dp01.contoso.com" zone="hq" { distribution-point pxe=#true }
    server "dp02.contoso.com" zone="hq" { distribution-point }"#,
            r#"clients "HQ" site="P01" zone="hq""#
        ),
        expected: &[
            "HQ -> dp01.contoso.com udp 4011",
            "HQ -> dp01.contoso.com udp 67-68",
            "HQ -> dp01.contoso.com udp 69",
        ],
    },
    // Correction (Note 4): the PXE distribution point answers TFTP from a high port to a
    // high port of the client, the Windows range whatever the server's `rpc-ports`;
    // internet groups are not PXE clients.
    Section {
        anchor: "BKMK_PortsClient-DP3-TFTP",
        phases: OP,
        model: p01!(
            r#"
    server "dp01.contoso.com" zone="hq" rpc-ports="50000-50100" { distribution-point pxe=#true }
    server "dp02.contoso.com" zone="hq" { distribution-point }"#,
            r#"clients "HQ" site="P01" zone="hq"
clients "Roaming" site="P01" zone="hq" internet=#true"#
        ),
        expected: &["dp01.contoso.com -> HQ udp 49152-65535"],
    },
    // Note 2: the site's HTTP port and its alternate.
    Section {
        anchor: "BKMK_PortsClient-FSP",
        phases: OP,
        model: p01!(
            r#"
    client-ports http-alternate=8080
    server "fsp01.contoso.com" zone="dc" { fallback-status-point }"#,
            r#"clients "HQ" site="P01" zone="hq""#
        ),
        expected: &[
            "HQ -> fsp01.contoso.com tcp 80",
            "HQ -> fsp01.contoso.com tcp 8080",
        ],
    },
    // The prose: not from workgroup computers nor internet clients; and only a global
    // catalog listens on 3268 (docs/decisions.md).
    Section {
        anchor: "BKMK_PortsClient-GCDC",
        phases: OP,
        model: p01!(
            "",
            r#"
server "dc01.contoso.com" zone="dc" { domain-controller }
server "dc02.contoso.com" zone="dc" { domain-controller global-catalog=#false }
clients "HQ" site="P01" zone="hq"
clients "Kiosks" site="P01" zone="hq" workgroup=#true
clients "Roaming" site="P01" zone="internet" internet=#true"#
        ),
        expected: &["HQ -> dc01.contoso.com tcp 3268"],
    },
    // Notification, then HTTP and/or HTTPS as the point allows, with the site's
    // alternate HTTPS port; a secondary's clients on the parent primary's client ports.
    Section {
        anchor: "BKMK_PortsClient-MP",
        phases: OP,
        model: r#"
zone "dc" { subnet "10.0.0.0/24" }
zone "hq" { subnet "10.10.0.0/16" }
zone "branch" { subnet "10.20.0.0/24" }
site "P01" type="primary" {
    client-ports https-alternate=8443 notification=10124
    database server="sql01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="dc" { site-server; sms-provider; }
    server "mp01.contoso.com" zone="dc" { management-point http=#true https=#true }
    server "mp02.contoso.com" zone="dc" { management-point http=#false https=#true }
}
site "S01" type="secondary" parent="P01" {
    database server="sec01.contoso.com" instance="CONFIGMGRSEC"
    server "sec01.contoso.com" zone="branch" {
        site-server
        management-point
        distribution-point
        sql-instance "CONFIGMGRSEC" port=2433
    }
}
server "sql01.contoso.com" zone="dc" { sql-instance "MSSQLSERVER" }
clients "HQ" site="P01" zone="hq"
clients "Branch" site="S01" zone="branch"
clients "Roaming" site="P01" zone="internet" internet=#true
"#,
        expected: &[
            "Branch -> sec01.contoso.com tcp 10124",
            "Branch -> sec01.contoso.com tcp 80",
            "HQ -> mp01.contoso.com tcp 10124",
            "HQ -> mp01.contoso.com tcp 443",
            "HQ -> mp01.contoso.com tcp 80",
            "HQ -> mp01.contoso.com tcp 8443",
            "HQ -> mp02.contoso.com tcp 10124",
            "HQ -> mp02.contoso.com tcp 443",
            "HQ -> mp02.contoso.com tcp 8443",
        ],
    },
    // Note 3: "80 of 8530" / "443 of 8531" is the point's WSUS setting; HTTP always,
    // HTTPS when the point requires SSL.
    Section {
        anchor: "BKMK_PortsClient-SUP",
        phases: OP,
        model: p01!(
            r#"
    server "sup01.contoso.com" zone="dc" { software-update-point }
    server "sup02.contoso.com" zone="dc" { software-update-point wsus-http=80 wsus-https=443 ssl=#true }"#,
            r#"clients "HQ" site="P01" zone="hq""#
        ),
        expected: &[
            "HQ -> sup01.contoso.com tcp 8530",
            "HQ -> sup02.contoso.com tcp 443",
            "HQ -> sup02.contoso.com tcp 80",
        ],
    },
    Section {
        anchor: "BKMK_PortsClient-SMP",
        phases: OP,
        model: p01!(
            r#"server "smp01.contoso.com" zone="dc" { state-migration-point }"#,
            r#"clients "HQ" site="P01" zone="hq""#
        ),
        expected: &[
            "HQ -> smp01.contoso.com tcp 443",
            "HQ -> smp01.contoso.com tcp 445",
            "HQ -> smp01.contoso.com tcp 80",
        ],
    },
    // TCP-TLS always; the HTTPS fallback is 443 with one VM, 10124-10139 with more.
    Section {
        anchor: "bkmk_cmgcp-cmg",
        phases: OP,
        model: p01!(
            r#"server "cmgcp01.contoso.com" zone="dc" { cmg-connection-point }"#,
            r#"
cloud-management-gateway "cmg1" site="P01" vms=1
cloud-management-gateway "cmg2" site="P01" vms=3"#
        ),
        expected: &[
            "cmgcp01.contoso.com -> cmg1 tcp 10140-10155",
            "cmgcp01.contoso.com -> cmg1 tcp 443",
            "cmgcp01.contoso.com -> cmg2 tcp 10124-10139",
            "cmgcp01.contoso.com -> cmg2 tcp 10140-10155",
        ],
    },
    // No note 2 on this row: the documented 443, whatever the site's client HTTPS port.
    Section {
        anchor: "bkmk_cmgcp-mp",
        phases: OP,
        model: p01!(
            r#"
    client-ports https=8443
    server "mp01.contoso.com" zone="dc" { management-point http=#false https=#true }
    server "cmgcp01.contoso.com" zone="dc" { cmg-connection-point }"#,
            r#"cloud-management-gateway "cmg1" site="P01""#
        ),
        expected: &["cmgcp01.contoso.com -> mp01.contoso.com tcp 443"],
    },
    // The table says 443 and 80 but "the specific port depends on the configuration of
    // the software update point": its WSUS ports, HTTPS when it requires SSL
    // (docs/decisions.md, "CMG connection point --> software update point").
    Section {
        anchor: "bkmk_cmgcp-sup",
        phases: OP,
        model: p01!(
            r#"
    server "sup01.contoso.com" zone="dc" { software-update-point }
    server "sup02.contoso.com" zone="dc" { software-update-point ssl=#true }
    server "cmgcp01.contoso.com" zone="dc" { cmg-connection-point }"#,
            r#"cloud-management-gateway "cmg1" site="P01""#
        ),
        expected: &[
            "cmgcp01.contoso.com -> sup01.contoso.com tcp 8530",
            "cmgcp01.contoso.com -> sup02.contoso.com tcp 8530",
            "cmgcp01.contoso.com -> sup02.contoso.com tcp 8531",
        ],
    },
    // Remote control 2701 and Remote Assistance 3389 to the groups that enable them.
    Section {
        anchor: "BKMK_PortsConsole-Client",
        phases: OP,
        model: p01!(
            "",
            r#"
console "admin-pc" zone="hq" site="P01"
clients "HQ" site="P01" zone="hq" remote-control=#true remote-assistance=#true
clients "Lab" site="P01" zone="hq" remote-control=#true
clients "Kiosks" site="P01" zone="hq""#
        ),
        // Correction: Remote Assistance also needs TCP 135 (seed 002, docs/decisions.md).
        expected: &[
            "admin-pc -> HQ tcp 135",
            "admin-pc -> HQ tcp 2701",
            "admin-pc -> HQ tcp 3389",
            "admin-pc -> Lab tcp 2701",
        ],
    },
    Section {
        anchor: "BKMK_PortsConsole-Internet",
        phases: OP,
        model: p01!("", r#"console "admin-pc" zone="hq" site="P01""#),
        expected: &[
            "admin-pc -> internet tcp 443",
            "admin-pc -> internet tcp 80",
        ],
    },
    // Note 2 here: the ports configured in Reporting Services (the point's http/https).
    Section {
        anchor: "BKMK_PortsConsole-RSP",
        phases: OP,
        model: p01!(
            r#"server "rsp01.contoso.com" zone="dc" { reporting-services-point http=8080 https=8443 }"#,
            r#"console "admin-pc" zone="hq" site="P01""#
        ),
        expected: &[
            "admin-pc -> rsp01.contoso.com tcp 8080",
            "admin-pc -> rsp01.contoso.com tcp 8443",
        ],
    },
    Section {
        anchor: "BKMK_PortsConsole-Site",
        phases: OP,
        model: p01!("", r#"console "admin-pc" zone="hq" site="P01""#),
        expected: &["admin-pc -> cm01.contoso.com tcp 135"],
    },
    // The site server also holds an SMS provider (the macro's model); the provider here
    // pins RPC to a smaller range.
    Section {
        anchor: "BKMK_PortsConsole-Provider",
        phases: OP,
        model: p01!(
            r#"server "prov01.contoso.com" zone="dc" rpc-ports="50000-50100" { sms-provider }"#,
            r#"console "admin-pc" zone="hq" site="P01""#
        ),
        expected: &[
            "admin-pc -> cm01.contoso.com tcp 135",
            "admin-pc -> cm01.contoso.com tcp 49152-65535",
            "admin-pc -> cm01.contoso.com udp 135",
            "admin-pc -> prov01.contoso.com tcp 135",
            "admin-pc -> prov01.contoso.com tcp 50000-50100",
            "admin-pc -> prov01.contoso.com udp 135",
        ],
    },
    // Note 2 without a model setting: the documented 443 (docs/decisions.md).
    Section {
        anchor: "BKMK_PortsCertificateRegistationPoint_PolicyModule",
        phases: OP,
        model: p01!(
            r#"server "crp01.contoso.com" zone="dc" { certificate-registration-point }"#,
            r#"server "ndes01.contoso.com" zone="dc" { ndes-server }"#
        ),
        expected: &["ndes01.contoso.com -> crp01.contoso.com tcp 443"],
    },
    // The site database and the point's own data warehouse database (flows.md).
    Section {
        anchor: "BKMK_PortsDWSPSQL",
        phases: OP,
        model: p01!(
            r#"server "dwsp01.contoso.com" zone="dc" { data-warehouse-service-point database="sqldw.contoso.com/DW" }"#,
            r#"server "sqldw.contoso.com" zone="dc" { sql-instance "DW" port=1450 }"#
        ),
        expected: &[
            "dwsp01.contoso.com -> sql01.contoso.com tcp 1433",
            "dwsp01.contoso.com -> sqldw.contoso.com tcp 1450",
        ],
    },
    // Note 2: the site's client request ports, as far as the management point offers
    // HTTP / HTTPS.
    Section {
        anchor: "BKMK_PortsDist_MP",
        phases: OP,
        model: p01!(
            r#"
    server "mp01.contoso.com" zone="dc" { management-point http=#true https=#true }
    server "mp02.contoso.com" zone="dc" { management-point }
    server "dp01.contoso.com" zone="hq" { distribution-point }
    server "dp02.contoso.com" zone="hq" { distribution-point pull=#true }"#,
            ""
        ),
        expected: &[
            "dp01.contoso.com -> mp01.contoso.com tcp 443",
            "dp01.contoso.com -> mp01.contoso.com tcp 80",
            "dp01.contoso.com -> mp02.contoso.com tcp 80",
            "dp02.contoso.com -> mp01.contoso.com tcp 443",
            "dp02.contoso.com -> mp01.contoso.com tcp 80",
            "dp02.contoso.com -> mp02.contoso.com tcp 80",
        ],
    },
    Section {
        anchor: "BKMK_PortsEndpointProtection_Internet",
        phases: OP,
        model: p01!(
            r#"server "ep01.contoso.com" zone="dc" { endpoint-protection-point }"#,
            ""
        ),
        expected: &["ep01.contoso.com -> internet tcp 80"],
    },
    Section {
        anchor: "BKMK_PortsEP-to-SQL",
        phases: OP,
        model: p01!(
            r#"server "ep01.contoso.com" zone="dc" { endpoint-protection-point }"#,
            ""
        ),
        expected: &["ep01.contoso.com -> sql01.contoso.com tcp 1433"],
    },
    // Note 2 without a model setting: the documented 443 (docs/decisions.md).
    Section {
        anchor: "BKMK_PortsEnrollmentProxyEnrollmentPoint",
        phases: OP,
        model: p01!(
            r#"
    server "enr01.contoso.com" zone="dc" { enrollment-point }
    server "epp01.contoso.com" zone="dc" { enrollment-proxy-point }"#,
            ""
        ),
        expected: &["epp01.contoso.com -> enr01.contoso.com tcp 443"],
    },
    Section {
        anchor: "BKMK_PortsEnrollmentEnrollmentSQL",
        phases: OP,
        model: p01!(
            r#"server "enr01.contoso.com" zone="dc" { enrollment-point }"#,
            ""
        ),
        expected: &["enr01.contoso.com -> sql01.contoso.com tcp 1433"],
    },
    Section {
        anchor: "BKMK_PortsExchangeConnectorHosted",
        phases: OP,
        model: p01!(
            r#"server "exc01.contoso.com" zone="dc" { exchange-server-connector exchange="online" }"#,
            ""
        ),
        expected: &["exc01.contoso.com -> internet tcp 5986"],
    },
    Section {
        anchor: "BKMK_PortsExchangeConnectorOnPrem",
        phases: OP,
        model: p01!(
            r#"server "exc01.contoso.com" zone="dc" { exchange-server-connector exchange="mail01.contoso.com" }"#,
            r#"server "mail01.contoso.com" zone="dc" { exchange-server }"#
        ),
        expected: &["exc01.contoso.com -> mail01.contoso.com tcp 5985"],
    },
    Section {
        anchor: "BKMK_PortsMacEnrollmentProxyPoint",
        phases: OP,
        model: p01!(
            r#"
    server "enr01.contoso.com" zone="dc" { enrollment-point }
    server "epp01.contoso.com" zone="dc" { enrollment-proxy-point }"#,
            r#"
clients "Macs" site="P01" zone="hq" type="mac"
clients "Phones" site="P01" zone="hq" type="mobile"
clients "HQ" site="P01" zone="hq""#
        ),
        expected: &["Macs -> epp01.contoso.com tcp 443"],
    },
    // Every domain controller; 3268 only on a global catalog; dynamic RPC is the
    // controller's range.
    Section {
        anchor: "BKMK_PortsMP-DC",
        phases: OP,
        model: p01!(
            r#"server "mp01.contoso.com" zone="dc" { management-point }"#,
            r#"
server "dc01.contoso.com" zone="dc" { domain-controller }
server "dc02.contoso.com" zone="dc" rpc-ports="50000-51000" { domain-controller global-catalog=#false }"#
        ),
        expected: &[
            "mp01.contoso.com -> dc01.contoso.com tcp 135",
            "mp01.contoso.com -> dc01.contoso.com tcp 3268",
            "mp01.contoso.com -> dc01.contoso.com tcp 389",
            "mp01.contoso.com -> dc01.contoso.com tcp 49152-65535",
            "mp01.contoso.com -> dc01.contoso.com tcp 636",
            "mp01.contoso.com -> dc01.contoso.com udp 389",
            "mp01.contoso.com -> dc01.contoso.com udp 636",
            "mp01.contoso.com -> dc02.contoso.com tcp 135",
            "mp01.contoso.com -> dc02.contoso.com tcp 389",
            "mp01.contoso.com -> dc02.contoso.com tcp 50000-51000",
            "mp01.contoso.com -> dc02.contoso.com tcp 636",
            "mp01.contoso.com -> dc02.contoso.com udp 389",
            "mp01.contoso.com -> dc02.contoso.com udp 636",
        ],
    },
    // <-->, TCP 135 only; note 5: a point that requires the site server to initiate
    // gets no flow back. Dynamic RPC is the actual destination's range both ways.
    Section {
        anchor: "BKMK_PortsMP-Site",
        phases: OP,
        model: p01!(
            "",
            r#"rpc-ports="51000-51999""#,
            r#"
    server "mp01.contoso.com" zone="dc" { management-point }
    server "mp02.contoso.com" zone="dc" rpc-ports="50000-50999" { management-point site-server-initiates=#true }"#,
            ""
        ),
        expected: &[
            "cm01.contoso.com -> mp01.contoso.com tcp 135",
            "cm01.contoso.com -> mp01.contoso.com tcp 445",
            "cm01.contoso.com -> mp01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> mp02.contoso.com tcp 135",
            "cm01.contoso.com -> mp02.contoso.com tcp 445",
            "cm01.contoso.com -> mp02.contoso.com tcp 50000-50999",
            "mp01.contoso.com -> cm01.contoso.com tcp 135",
            "mp01.contoso.com -> cm01.contoso.com tcp 445",
            "mp01.contoso.com -> cm01.contoso.com tcp 51000-51999",
        ],
    },
    // The site database's instance port (a named instance on a static port here).
    Section {
        anchor: "BKMK_PortsMP-SQL",
        phases: OP,
        model: r#"
zone "dc" { subnet "10.0.0.0/24" }
site "P01" type="primary" {
    database server="sql01.contoso.com" instance="CM_P01"
    server "cm01.contoso.com" zone="dc" { site-server; sms-provider; }
    server "mp01.contoso.com" zone="dc" { management-point }
}
server "sql01.contoso.com" zone="dc" { sql-instance "CM_P01" port=14330 }
"#,
        expected: &["mp01.contoso.com -> sql01.contoso.com tcp 14330"],
    },
    Section {
        anchor: "BKMK_PortsMobileDeviceClient-EnrollmentProxyPoint",
        phases: OP,
        model: p01!(
            r#"
    server "enr01.contoso.com" zone="dc" { enrollment-point }
    server "epp01.contoso.com" zone="dc" { enrollment-proxy-point }"#,
            r#"
clients "Macs" site="P01" zone="hq" type="mac"
clients "Phones" site="P01" zone="hq" type="mobile"
clients "HQ" site="P01" zone="hq""#
        ),
        expected: &["Phones -> epp01.contoso.com tcp 443"],
    },
    Section {
        anchor: "BKMK_PortsRSP-SQL",
        phases: OP,
        model: p01!(
            r#"server "rsp01.contoso.com" zone="dc" { reporting-services-point }"#,
            ""
        ),
        expected: &["rsp01.contoso.com -> sql01.contoso.com tcp 1433"],
    },
    // Only when the hierarchy has a gateway to deploy (flows.md).
    Section {
        anchor: "bkmk_scp-cmg",
        phases: OP,
        model: p01!(
            r#"server "scp01.contoso.com" zone="dc" { service-connection-point }"#,
            r#"cloud-management-gateway "cmg1" site="P01""#
        ),
        expected: &["scp01.contoso.com -> internet tcp 443"],
    },
    // Site server <--> role sections: SMB 445, RPC endpoint mapper UDP and TCP 135,
    // dynamic RPC (the destination's range), both ways (note 5).
    Section {
        anchor: "BKMK_PortsAppCatalogWebServicePoint_SiteServer",
        phases: OP,
        model: p01!(
            r#"server "acws01.contoso.com" zone="dc" { application-catalog-web-service-point }"#,
            ""
        ),
        expected: &[
            "acws01.contoso.com -> cm01.contoso.com tcp 135",
            "acws01.contoso.com -> cm01.contoso.com tcp 445",
            "acws01.contoso.com -> cm01.contoso.com tcp 49152-65535",
            "acws01.contoso.com -> cm01.contoso.com udp 135",
            "cm01.contoso.com -> acws01.contoso.com tcp 135",
            "cm01.contoso.com -> acws01.contoso.com tcp 445",
            "cm01.contoso.com -> acws01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> acws01.contoso.com udp 135",
        ],
    },
    Section {
        anchor: "BKMK_PortsAppCatalogWebSitePoint_SiteServer",
        phases: OP,
        model: p01!(
            r#"server "acweb01.contoso.com" zone="dc" rpc-ports="50000-50100" { application-catalog-website-point }"#,
            ""
        ),
        expected: &[
            "acweb01.contoso.com -> cm01.contoso.com tcp 135",
            "acweb01.contoso.com -> cm01.contoso.com tcp 445",
            "acweb01.contoso.com -> cm01.contoso.com tcp 49152-65535",
            "acweb01.contoso.com -> cm01.contoso.com udp 135",
            "cm01.contoso.com -> acweb01.contoso.com tcp 135",
            "cm01.contoso.com -> acweb01.contoso.com tcp 445",
            "cm01.contoso.com -> acweb01.contoso.com tcp 50000-50100",
            "cm01.contoso.com -> acweb01.contoso.com udp 135",
        ],
    },
    Section {
        anchor: "BKMK_PortsSite-AISP",
        phases: OP,
        model: p01!(
            r#"server "ai01.contoso.com" zone="dc" { asset-intelligence-synchronization-point }"#,
            ""
        ),
        expected: &[
            "ai01.contoso.com -> cm01.contoso.com tcp 135",
            "ai01.contoso.com -> cm01.contoso.com tcp 445",
            "ai01.contoso.com -> cm01.contoso.com tcp 49152-65535",
            "ai01.contoso.com -> cm01.contoso.com udp 135",
            "cm01.contoso.com -> ai01.contoso.com tcp 135",
            "cm01.contoso.com -> ai01.contoso.com tcp 445",
            "cm01.contoso.com -> ai01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> ai01.contoso.com udp 135",
        ],
    },
    // Wake on LAN (note 2: the site's port) to the groups that use it.
    Section {
        anchor: "BKMK_PortsSite-Client",
        phases: OP,
        model: p01!(
            "client-ports wake-on-lan=12",
            r#"
clients "HQ" site="P01" zone="hq" wake-on-lan=#true
clients "Lab" site="P01" zone="hq""#
        ),
        expected: &["cm01.contoso.com -> HQ udp 12"],
    },
    Section {
        anchor: "BKMK_PortsSiteServer-CloudDP",
        phases: OP,
        model: p01!("", r#"cloud-distribution-point "cdp1" site="P01""#),
        expected: &["cm01.contoso.com -> cdp1 tcp 443"],
    },
    // One way (note 5: distribution points send no status), standard and pull alike.
    Section {
        anchor: "BKMK_PortsSite-DP",
        phases: OP,
        model: p01!(
            r#"
    server "dp01.contoso.com" zone="hq" rpc-ports="50000-50500" { distribution-point }
    server "dp02.contoso.com" zone="hq" { distribution-point pull=#true }"#,
            ""
        ),
        expected: &[
            "cm01.contoso.com -> dp01.contoso.com tcp 135",
            "cm01.contoso.com -> dp01.contoso.com tcp 445",
            "cm01.contoso.com -> dp01.contoso.com tcp 50000-50500",
            "cm01.contoso.com -> dp01.contoso.com udp 135",
            "cm01.contoso.com -> dp02.contoso.com tcp 135",
            "cm01.contoso.com -> dp02.contoso.com tcp 445",
            "cm01.contoso.com -> dp02.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> dp02.contoso.com udp 135",
        ],
    },
    Section {
        anchor: "BKMK_PortsSite-DC",
        phases: OP,
        model: p01!(
            "",
            r#"
server "dc01.contoso.com" zone="dc" { domain-controller }
server "dc02.contoso.com" zone="dc" { domain-controller global-catalog=#false }"#
        ),
        expected: &[
            "cm01.contoso.com -> dc01.contoso.com tcp 135",
            "cm01.contoso.com -> dc01.contoso.com tcp 3268",
            "cm01.contoso.com -> dc01.contoso.com tcp 389",
            "cm01.contoso.com -> dc01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> dc01.contoso.com tcp 636",
            "cm01.contoso.com -> dc01.contoso.com udp 389",
            "cm01.contoso.com -> dc01.contoso.com udp 636",
            "cm01.contoso.com -> dc02.contoso.com tcp 135",
            "cm01.contoso.com -> dc02.contoso.com tcp 389",
            "cm01.contoso.com -> dc02.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> dc02.contoso.com tcp 636",
            "cm01.contoso.com -> dc02.contoso.com udp 389",
            "cm01.contoso.com -> dc02.contoso.com udp 636",
        ],
    },
    Section {
        anchor: "BKMK_PortsCertificateRegistrationPoint_SiteServer",
        phases: OP,
        model: p01!(
            r#"server "crp01.contoso.com" zone="dc" { certificate-registration-point }"#,
            ""
        ),
        expected: &[
            "cm01.contoso.com -> crp01.contoso.com tcp 135",
            "cm01.contoso.com -> crp01.contoso.com tcp 445",
            "cm01.contoso.com -> crp01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> crp01.contoso.com udp 135",
            "crp01.contoso.com -> cm01.contoso.com tcp 135",
            "crp01.contoso.com -> cm01.contoso.com tcp 445",
            "crp01.contoso.com -> cm01.contoso.com tcp 49152-65535",
            "crp01.contoso.com -> cm01.contoso.com udp 135",
        ],
    },
    Section {
        anchor: "BKMK_CMGCP_SiteServer",
        phases: OP,
        model: p01!(
            r#"server "cmgcp01.contoso.com" zone="dc" { cmg-connection-point }"#,
            r#"cloud-management-gateway "cmg1" site="P01""#
        ),
        expected: &[
            "cm01.contoso.com -> cmgcp01.contoso.com tcp 135",
            "cm01.contoso.com -> cmgcp01.contoso.com tcp 445",
            "cm01.contoso.com -> cmgcp01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> cmgcp01.contoso.com udp 135",
            "cmgcp01.contoso.com -> cm01.contoso.com tcp 135",
            "cmgcp01.contoso.com -> cm01.contoso.com tcp 445",
            "cmgcp01.contoso.com -> cm01.contoso.com tcp 49152-65535",
            "cmgcp01.contoso.com -> cm01.contoso.com udp 135",
        ],
    },
    Section {
        anchor: "BKMK_PortsEndpointProtection_SiteServer",
        phases: OP,
        model: p01!(
            r#"server "ep01.contoso.com" zone="dc" { endpoint-protection-point }"#,
            ""
        ),
        expected: &[
            "cm01.contoso.com -> ep01.contoso.com tcp 135",
            "cm01.contoso.com -> ep01.contoso.com tcp 445",
            "cm01.contoso.com -> ep01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> ep01.contoso.com udp 135",
            "ep01.contoso.com -> cm01.contoso.com tcp 135",
            "ep01.contoso.com -> cm01.contoso.com tcp 445",
            "ep01.contoso.com -> cm01.contoso.com tcp 49152-65535",
            "ep01.contoso.com -> cm01.contoso.com udp 135",
        ],
    },
    Section {
        anchor: "BKMK_EnrollmentPoint_SiteServer",
        phases: OP,
        model: p01!(
            r#"server "enr01.contoso.com" zone="dc" { enrollment-point }"#,
            ""
        ),
        expected: &[
            "cm01.contoso.com -> enr01.contoso.com tcp 135",
            "cm01.contoso.com -> enr01.contoso.com tcp 445",
            "cm01.contoso.com -> enr01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> enr01.contoso.com udp 135",
            "enr01.contoso.com -> cm01.contoso.com tcp 135",
            "enr01.contoso.com -> cm01.contoso.com tcp 445",
            "enr01.contoso.com -> cm01.contoso.com tcp 49152-65535",
            "enr01.contoso.com -> cm01.contoso.com udp 135",
        ],
    },
    Section {
        anchor: "BKMK_EnrollmentProxyPoint_SiteServer",
        phases: OP,
        model: p01!(
            r#"
    server "enr01.contoso.com" zone="dc" { enrollment-point }
    server "epp01.contoso.com" zone="dc" { enrollment-proxy-point }"#,
            ""
        ),
        expected: &[
            "cm01.contoso.com -> epp01.contoso.com tcp 135",
            "cm01.contoso.com -> epp01.contoso.com tcp 445",
            "cm01.contoso.com -> epp01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> epp01.contoso.com udp 135",
            "epp01.contoso.com -> cm01.contoso.com tcp 135",
            "epp01.contoso.com -> cm01.contoso.com tcp 445",
            "epp01.contoso.com -> cm01.contoso.com tcp 49152-65535",
            "epp01.contoso.com -> cm01.contoso.com udp 135",
        ],
    },
    // Note 5 at the site level: with `site-server-initiates`, one way only.
    Section {
        anchor: "BKMK_PortsSite-FSP",
        phases: OP,
        model: p01!(
            "site-server-initiates=#true",
            "",
            r#"server "fsp01.contoso.com" zone="dc" { fallback-status-point }"#,
            ""
        ),
        expected: &[
            "cm01.contoso.com -> fsp01.contoso.com tcp 135",
            "cm01.contoso.com -> fsp01.contoso.com tcp 445",
            "cm01.contoso.com -> fsp01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> fsp01.contoso.com udp 135",
        ],
    },
    // Note 1: no proxy in the model, so the Internet itself.
    Section {
        anchor: "BKMK_PortSite-Internet",
        phases: OP,
        model: p01!("", ""),
        expected: &["cm01.contoso.com -> internet tcp 80"],
    },
    // Only the site server at the top of the hierarchy, only with a certificate
    // registration point; <-->, RPC as DCOM on each end's range.
    Section {
        anchor: "BKMK_PortsIssuingCA_SiteServer",
        phases: OP,
        model: r#"
zone "dc" { subnet "10.0.0.0/24" }
site "CAS" type="central" {
    database server="sqlcas.contoso.com" instance="MSSQLSERVER"
    server "cas01.contoso.com" zone="dc" { site-server; sms-provider; }
    server "crp01.contoso.com" zone="dc" { certificate-registration-point }
}
site "P01" type="primary" parent="CAS" {
    database server="sqlp01.contoso.com" instance="MSSQLSERVER"
    server "p01.contoso.com" zone="dc" { site-server; sms-provider; }
}
server "sqlcas.contoso.com" zone="dc" { sql-instance "MSSQLSERVER" }
server "sqlp01.contoso.com" zone="dc" { sql-instance "MSSQLSERVER" }
server "ca01.contoso.com" zone="dc" rpc-ports="50000-50999" { certificate-authority }
server "ndes01.contoso.com" zone="dc" { ndes-server }
"#,
        expected: &[
            "ca01.contoso.com -> cas01.contoso.com tcp 135",
            "ca01.contoso.com -> cas01.contoso.com tcp 49152-65535",
            "ca01.contoso.com -> cas01.contoso.com udp 135",
            "cas01.contoso.com -> ca01.contoso.com tcp 135",
            "cas01.contoso.com -> ca01.contoso.com tcp 50000-50999",
            "cas01.contoso.com -> ca01.contoso.com udp 135",
        ],
    },
    Section {
        anchor: "BKMK_PortsSite-RCL",
        phases: OP,
        model: p01!(
            r#"content-library server="files01.contoso.com""#,
            r#"server "files01.contoso.com" zone="dc" { file-server }"#
        ),
        expected: &["cm01.contoso.com -> files01.contoso.com tcp 445"],
    },
    Section {
        anchor: "BKMK_SCP_SiteServer",
        phases: OP,
        model: p01!(
            r#"server "scp01.contoso.com" zone="dc" { service-connection-point }"#,
            ""
        ),
        expected: &[
            "cm01.contoso.com -> scp01.contoso.com tcp 135",
            "cm01.contoso.com -> scp01.contoso.com tcp 445",
            "cm01.contoso.com -> scp01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> scp01.contoso.com udp 135",
            "scp01.contoso.com -> cm01.contoso.com tcp 135",
            "scp01.contoso.com -> cm01.contoso.com tcp 445",
            "scp01.contoso.com -> cm01.contoso.com tcp 49152-65535",
            "scp01.contoso.com -> cm01.contoso.com udp 135",
        ],
    },
    // Correction: one way only, Note 5 says reporting services points send no status
    // (docs/decisions.md).
    Section {
        anchor: "BKMK_PortsSite-RSP",
        phases: OP,
        model: p01!(
            "",
            r#"rpc-ports="51000-51999""#,
            r#"server "rsp01.contoso.com" zone="dc" { reporting-services-point }"#,
            ""
        ),
        expected: &[
            "cm01.contoso.com -> rsp01.contoso.com tcp 135",
            "cm01.contoso.com -> rsp01.contoso.com tcp 445",
            "cm01.contoso.com -> rsp01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> rsp01.contoso.com udp 135",
        ],
    },
    // Parent and child site servers, both ways; not the CAS with the secondary.
    Section {
        anchor: "BKMK_PortsSite-Site",
        phases: OP,
        model: HIERARCHY,
        expected: &[
            "cas01.contoso.com -> p01.contoso.com tcp 445",
            "p01.contoso.com -> cas01.contoso.com tcp 445",
            "p01.contoso.com -> s01.contoso.com tcp 445",
            "s01.contoso.com -> p01.contoso.com tcp 445",
        ],
    },
    // Operation: the database instance's port. Installation of a site whose database is
    // on a remote SQL Server: SMB, RPC endpoint mapper, dynamic RPC (the SQL Server's).
    Section {
        anchor: "BKMK_PortsSite-SQL",
        phases: ALL,
        model: r#"
zone "dc" { subnet "10.0.0.0/24" }
site "P01" type="primary" {
    database server="sql01.contoso.com" instance="CM_P01"
    server "cm01.contoso.com" zone="dc" { site-server; sms-provider; }
}
server "sql01.contoso.com" zone="dc" rpc-ports="50000-50100" { sql-instance "CM_P01" port=14330 }
"#,
        expected: &[
            "cm01.contoso.com -> sql01.contoso.com tcp 135",
            "cm01.contoso.com -> sql01.contoso.com tcp 14330",
            "cm01.contoso.com -> sql01.contoso.com tcp 445",
            "cm01.contoso.com -> sql01.contoso.com tcp 50000-50100",
            "cm01.contoso.com -> sql01.contoso.com udp 135",
        ],
    },
    // Note 3: to the SUSDB instance's port, only where a software update point uses a
    // SQL Server for SUSDB (not the Windows Internal Database).
    Section {
        anchor: "BKMK_PortsSite-SQL-WSUS",
        phases: OP,
        model: p01!(
            r#"
    server "sup01.contoso.com" zone="dc" { software-update-point susdb="sqlwsus.contoso.com/SUSDB" }
    server "sup02.contoso.com" zone="dc" { software-update-point }"#,
            r#"server "sqlwsus.contoso.com" zone="dc" { sql-instance "SUSDB" port=1444 }"#
        ),
        expected: &["cm01.contoso.com -> sqlwsus.contoso.com tcp 1444"],
    },
    // One way. The site server's own SMS provider gives no flow (same host).
    Section {
        anchor: "BKMK_PortsSite-Provider",
        phases: OP,
        model: p01!(
            r#"server "prov01.contoso.com" zone="dc" { sms-provider }"#,
            ""
        ),
        expected: &[
            "cm01.contoso.com -> prov01.contoso.com tcp 135",
            "cm01.contoso.com -> prov01.contoso.com tcp 445",
            "cm01.contoso.com -> prov01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> prov01.contoso.com udp 135",
        ],
    },
    // Note 3: the point's WSUS ports, HTTPS when it requires SSL; correction: the WSUS
    // rows go one way, the site server runs no WSUS (docs/decisions.md). SMB both ways.
    Section {
        anchor: "BKMK_PortsSite-SUP",
        phases: OP,
        model: p01!(
            r#"
    server "sup01.contoso.com" zone="dc" { software-update-point }
    server "sup02.contoso.com" zone="dc" { software-update-point wsus-http=80 wsus-https=443 ssl=#true }"#,
            ""
        ),
        expected: &[
            "cm01.contoso.com -> sup01.contoso.com tcp 445",
            "cm01.contoso.com -> sup01.contoso.com tcp 8530",
            "cm01.contoso.com -> sup02.contoso.com tcp 443",
            "cm01.contoso.com -> sup02.contoso.com tcp 445",
            "cm01.contoso.com -> sup02.contoso.com tcp 80",
            "sup01.contoso.com -> cm01.contoso.com tcp 445",
            "sup02.contoso.com -> cm01.contoso.com tcp 445",
        ],
    },
    // Correction: WSUS on the point reads its remote SUSDB (docs/decisions.md). A SUSDB on
    // the point itself, or the internal database, gives no flow.
    Section {
        anchor: "BKMK_PortsSUP-SUSDB",
        phases: OP,
        model: p01!(
            r#"
    server "sup01.contoso.com" zone="dc" { software-update-point susdb="sqlwsus.contoso.com/SUSDB" }
    server "sup02.contoso.com" zone="dc" { software-update-point }
    server "sup03.contoso.com" zone="dc" { software-update-point susdb="sup03.contoso.com/WSUS"; sql-instance "WSUS" port=1445; }"#,
            r#"server "sqlwsus.contoso.com" zone="dc" { sql-instance "SUSDB" port=1444 }"#
        ),
        expected: &["sup01.contoso.com -> sqlwsus.contoso.com tcp 1444"],
    },
    // As documented: SMB and the RPC endpoint mapper, no dynamic RPC row.
    Section {
        anchor: "BKMK_PortsSite-SMP",
        phases: OP,
        model: p01!(
            r#"server "smp01.contoso.com" zone="dc" { state-migration-point }"#,
            ""
        ),
        expected: &[
            "cm01.contoso.com -> smp01.contoso.com tcp 135",
            "cm01.contoso.com -> smp01.contoso.com tcp 445",
            "cm01.contoso.com -> smp01.contoso.com udp 135",
            "smp01.contoso.com -> cm01.contoso.com tcp 135",
            "smp01.contoso.com -> cm01.contoso.com tcp 445",
            "smp01.contoso.com -> cm01.contoso.com udp 135",
        ],
    },
    Section {
        anchor: "BKMK_PortsProvider-SQL",
        phases: OP,
        model: p01!(
            r#"server "prov01.contoso.com" zone="dc" { sms-provider }"#,
            ""
        ),
        expected: &[
            "cm01.contoso.com -> sql01.contoso.com tcp 1433",
            "prov01.contoso.com -> sql01.contoso.com tcp 1433",
        ],
    },
    // Only a point that synchronizes from Microsoft Update.
    Section {
        anchor: "BKMK_PortsSUP-Internet",
        phases: OP,
        model: p01!(
            r#"
    server "sup01.contoso.com" zone="dc" { software-update-point }
    server "sup02.contoso.com" zone="dc" { software-update-point upstream="wsus01.contoso.com" }"#,
            r#"server "wsus01.contoso.com" zone="dc" { wsus-server }"#
        ),
        expected: &["sup01.contoso.com -> internet tcp 80"],
    },
    // To an upstream WSUS server or to the parent site's software update point, on the
    // upstream's WSUS ports, HTTP and HTTPS.
    Section {
        anchor: "BKMK_PortsSUP-WSUS",
        phases: OP,
        model: r#"
zone "dc" { subnet "10.0.0.0/24" }
site "CAS" type="central" {
    database server="sqlcas.contoso.com" instance="MSSQLSERVER"
    server "cas01.contoso.com" zone="dc" { site-server; sms-provider; }
    server "cassup01.contoso.com" zone="dc" { software-update-point wsus-http=80 wsus-https=443 }
}
site "P01" type="primary" parent="CAS" {
    database server="sqlp01.contoso.com" instance="MSSQLSERVER"
    server "p01.contoso.com" zone="dc" { site-server; sms-provider; }
    server "p01sup01.contoso.com" zone="dc" { software-update-point }
    server "p01sup02.contoso.com" zone="dc" { software-update-point upstream="wsus01.contoso.com" }
}
server "sqlcas.contoso.com" zone="dc" { sql-instance "MSSQLSERVER" }
server "sqlp01.contoso.com" zone="dc" { sql-instance "MSSQLSERVER" }
server "wsus01.contoso.com" zone="dc" { wsus-server }
"#,
        expected: &[
            "p01sup01.contoso.com -> cassup01.contoso.com tcp 443",
            "p01sup01.contoso.com -> cassup01.contoso.com tcp 80",
            "p01sup02.contoso.com -> wsus01.contoso.com tcp 8530",
            "p01sup02.contoso.com -> wsus01.contoso.com tcp 8531",
        ],
    },
    // Intersite replication between parent and child databases, both ways, on the
    // destination instance's SQL and Service Broker ports.
    Section {
        anchor: "BKMK_PortsSQL-SQL",
        phases: OP,
        model: HIERARCHY,
        expected: &[
            "s01.contoso.com -> sqlp01.contoso.com tcp 1500",
            "s01.contoso.com -> sqlp01.contoso.com tcp 4500",
            "sqlcas.contoso.com -> sqlp01.contoso.com tcp 1500",
            "sqlcas.contoso.com -> sqlp01.contoso.com tcp 4500",
            "sqlp01.contoso.com -> s01.contoso.com tcp 2433",
            "sqlp01.contoso.com -> s01.contoso.com tcp 4022",
            "sqlp01.contoso.com -> sqlcas.contoso.com tcp 1433",
            "sqlp01.contoso.com -> sqlcas.contoso.com tcp 4022",
        ],
    },
    Section {
        anchor: "BKMK_PortsStateMigrationPoint-to-SQL",
        phases: OP,
        model: p01!(
            r#"server "smp01.contoso.com" zone="dc" { state-migration-point }"#,
            ""
        ),
        expected: &["smp01.contoso.com -> sql01.contoso.com tcp 1433"],
    },
    // -----------------------------------------------------------------------------------
    // Seed 001, BKMK_SQLPorts: the certificate registration point talks to the site
    // database (a catalog section without a seed table, docs/decisions.md).
    // -----------------------------------------------------------------------------------
    Section {
        anchor: "BKMK_SQLPorts-CertificateRegistrationPoint",
        phases: OP,
        model: p01!(
            r#"server "crp01.contoso.com" zone="dc" { certificate-registration-point }"#,
            ""
        ),
        expected: &["crp01.contoso.com -> sql01.contoso.com tcp 1433"],
    },
    // -----------------------------------------------------------------------------------
    // Seed 002: client deployment, phase client-install, per installation method.
    // -----------------------------------------------------------------------------------
    // Any group with an installation method, to the site's fallback status point.
    Section {
        anchor: "ports-that-are-used-for-all-installation-methods",
        phases: ALL,
        model: p01!(
            r#"server "fsp01.contoso.com" zone="dc" { fallback-status-point }"#,
            r#"
clients "HQ" site="P01" zone="hq" install="group-policy"
clients "Lab" site="P01" zone="hq""#
        ),
        expected: &["HQ -> fsp01.contoso.com tcp 80"],
    },
    // SMB, RPC endpoint mapper, dynamic RPC (a client's: the default range) and ICMP echo
    // (the section's prose) from the site server; HTTP(S) to the management point.
    Section {
        anchor: "ports-that-are-used-with-client-push-installation",
        phases: ALL,
        model: p01!(
            r#"server "mp01.contoso.com" zone="dc" { management-point http=#true https=#true }"#,
            r#"
clients "HQ" site="P01" zone="hq" install="push"
clients "Lab" site="P01" zone="hq" install="manual""#
        ),
        expected: &[
            "HQ -> mp01.contoso.com tcp 443",
            "HQ -> mp01.contoso.com tcp 80",
            "cm01.contoso.com -> HQ icmp echo",
            "cm01.contoso.com -> HQ tcp 135",
            "cm01.contoso.com -> HQ tcp 445",
            "cm01.contoso.com -> HQ tcp 49152-65535",
            "cm01.contoso.com -> HQ udp 135",
        ],
    },
    // Opmerking 2 (WSUS): the point's WSUS HTTP port, HTTPS when it requires SSL.
    Section {
        anchor: "ports-that-are-used-with-software-update-point-based-installation",
        phases: ALL,
        model: p01!(
            r#"
    server "sup01.contoso.com" zone="dc" { software-update-point ssl=#true }
    server "sup02.contoso.com" zone="dc" { software-update-point wsus-http=80 wsus-https=443 }"#,
            r#"
clients "HQ" site="P01" zone="hq" install="software-update"
clients "Lab" site="P01" zone="hq" install="push""#
        ),
        expected: &[
            "HQ -> sup01.contoso.com tcp 8530",
            "HQ -> sup01.contoso.com tcp 8531",
            "HQ -> sup02.contoso.com tcp 80",
        ],
    },
    // Opmerking 1: the site's client request ports.
    Section {
        anchor: "ports-that-are-used-with-group-policy-based-installation",
        phases: ALL,
        model: p01!(
            r#"
    client-ports http=8080 https=8443
    server "mp01.contoso.com" zone="dc" { management-point http=#true https=#true }
    server "mp02.contoso.com" zone="dc" { management-point }"#,
            r#"
clients "HQ" site="P01" zone="hq" install="group-policy"
clients "Lab" site="P01" zone="hq" install="manual""#
        ),
        expected: &[
            "HQ -> mp01.contoso.com tcp 8080",
            "HQ -> mp01.contoso.com tcp 8443",
            "HQ -> mp02.contoso.com tcp 8080",
        ],
    },
    // The installation files are shared from the management points (the first row's
    // text), so SMB to them; HTTP(S) as each point allows.
    Section {
        anchor: "ports-that-are-used-with-manual-installation-and-logon-script-based-installation",
        phases: ALL,
        model: p01!(
            r#"
    server "mp01.contoso.com" zone="dc" { management-point }
    server "mp02.contoso.com" zone="dc" { management-point http=#false https=#true }"#,
            r#"
clients "HQ" site="P01" zone="hq" install="manual"
clients "Lab" site="P01" zone="hq" install="group-policy""#
        ),
        expected: &[
            "HQ -> mp01.contoso.com tcp 445",
            "HQ -> mp01.contoso.com tcp 80",
            "HQ -> mp02.contoso.com tcp 443",
            "HQ -> mp02.contoso.com tcp 445",
        ],
    },
    Section {
        anchor: "ports-that-are-used-with-software-distribution-based-installation",
        phases: ALL,
        model: p01!(
            r#"server "dp01.contoso.com" zone="hq" { distribution-point http=#true https=#true }"#,
            r#"
clients "HQ" site="P01" zone="hq" install="software-distribution"
clients "Lab" site="P01" zone="hq" install="push""#
        ),
        expected: &[
            "HQ -> dp01.contoso.com tcp 443",
            "HQ -> dp01.contoso.com tcp 445",
            "HQ -> dp01.contoso.com tcp 80",
        ],
    },
];

/// What is wrong with one section, if anything.
fn check(section: &Section) -> Option<String> {
    let actual = match section_flows(section.model, section.anchor, section.phases) {
        Ok(flows) => flows,
        Err(e) => return Some(e),
    };
    let expected: BTreeSet<&str> = section.expected.iter().copied().collect();
    let actual_set: BTreeSet<&str> = actual.iter().map(String::as_str).collect();
    let mut problems = Vec::new();
    if expected.len() != section.expected.len() {
        problems.push("the expected list repeats a flow".to_owned());
    }
    if actual_set.len() != actual.len() {
        problems.push(format!("the engine repeats a flow: {actual:#?}"));
    }
    let missing: Vec<&str> = expected.difference(&actual_set).copied().collect();
    let extra: Vec<&str> = actual_set.difference(&expected).copied().collect();
    if !missing.is_empty() {
        problems.push(format!("missing:\n    {}", missing.join("\n    ")));
    }
    if !extra.is_empty() {
        problems.push(format!("extra:\n    {}", extra.join("\n    ")));
    }
    (!problems.is_empty()).then(|| problems.join("\n  "))
}

#[test]
fn every_section_gives_exactly_the_documented_flows() {
    let catalog = builtin();
    assert!(catalog.diagnostics.is_empty(), "{:?}", catalog.diagnostics);
    let mut failures = Vec::new();
    for section in SECTIONS {
        let mut problems = Vec::new();
        if section.expected.is_empty() {
            problems.push("the model must give the section at least one flow".to_owned());
        }
        // The phases asked for include every phase of the section's rows.
        for row in catalog.rows.iter().filter(|r| r.anchor == section.anchor) {
            if !section.phases.contains(&row.phase) {
                problems.push(format!(
                    "row `{}` is in phase {}, which is not asked for",
                    row.service,
                    row.phase.as_str()
                ));
            }
        }
        problems.extend(check(section));
        if !problems.is_empty() {
            failures.push(format!("{}:\n  {}", section.anchor, problems.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} sections differ from the documents:\n\n{}",
        failures.len(),
        SECTIONS.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_catalog_section_is_tested_here() {
    let catalog: BTreeSet<&str> = builtin().rows.iter().map(|r| r.anchor.as_str()).collect();
    let mut tested = BTreeSet::new();
    let mut twice = Vec::new();
    for s in SECTIONS {
        if !tested.insert(s.anchor) {
            twice.push(s.anchor);
        }
    }
    let untested: Vec<&&str> = catalog.difference(&tested).collect();
    let unknown: Vec<&&str> = tested.difference(&catalog).collect();
    assert!(
        untested.is_empty(),
        "catalog sections without an entry in SECTIONS: {untested:#?}"
    );
    assert!(
        unknown.is_empty(),
        "SECTIONS entries that are not catalog sections: {unknown:#?}"
    );
    assert!(twice.is_empty(), "sections tested twice: {twice:#?}");
}
