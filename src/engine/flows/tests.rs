use super::*;

use crate::engine::Phase;

const OP: &[Phase] = &[Phase::Operation];

use crate::engine::test_model as load;

fn render(model: &Model, f: &RequiredFlow) -> String {
    format!(
        "{} -> {} {} {}",
        f.source.name(model),
        f.destination.name(model),
        f.protocol,
        f.ports
    )
}

/// The required flows of `phases`, rendered `SOURCE -> DEST PROTO PORTS`, sorted.
fn flows(kdl: &str, phases: &[Phase]) -> Vec<String> {
    let model = load(kdl);
    let mut v: Vec<String> = required_flows(&model, phases)
        .iter()
        .map(|f| render(&model, f))
        .collect();
    v.sort();
    v
}

/// The flows whose rendering starts with `prefix` (`"HQ -> "`, `"cm01.contoso.com -> sql01"`).
fn starting(all: &[String], prefix: &str) -> Vec<String> {
    all.iter()
        .filter(|f| f.starts_with(prefix))
        .cloned()
        .collect()
}

fn set(expected: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = expected
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    v.sort();
    v
}

#[track_caller]
fn assert_has(all: &[String], expected: &[&str]) {
    for e in expected {
        assert!(
            all.iter().any(|f| f == e),
            "missing flow `{e}` in:\n{}",
            all.join("\n")
        );
    }
}

#[track_caller]
fn assert_lacks(all: &[String], unexpected: &[&str]) {
    for e in unexpected {
        assert!(
            !all.iter().any(|f| f == e),
            "unexpected flow `{e}` in:\n{}",
            all.join("\n")
        );
    }
}

/// A primary site P01: site server cm01 (database on a top-level sql01, default
/// instance), `body` adds site children; `extra` adds top-level nodes.
fn p01(site_props: &str, body: &str, extra: &str) -> String {
    format!(
        r#"
zone "dc"
zone "hq"
site "P01" type="primary" {site_props} {{
    database server="sql01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="dc" {{
        site-server
    }}
    {body}
}}
server "sql01.contoso.com" zone="dc" {{
    sql-instance "MSSQLSERVER"
}}
{extra}
"#
    )
}

// ---------------------------------------------------------------------------------------
// Clients --> management point: client ports from the site's settings
// ---------------------------------------------------------------------------------------

#[test]
fn client_to_mp_uses_custom_client_ports_and_alternate() {
    let kdl = p01(
        "",
        r#"
        client-ports http=8080 https=8443 http-alternate=8081
        server "mp01.contoso.com" zone="dc" { management-point http=#true https=#true }
        "#,
        r#"clients "HQ" site="P01" zone="hq""#,
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "HQ -> "),
        set(&[
            "HQ -> mp01.contoso.com tcp 10123",
            "HQ -> mp01.contoso.com tcp 8080",
            "HQ -> mp01.contoso.com tcp 8081",
            "HQ -> mp01.contoso.com tcp 8443",
        ])
    );
}

#[test]
fn client_to_mp_https_only_and_https_alternate() {
    let kdl = p01(
        "",
        r#"
        client-ports http=8080 https=8443 http-alternate=8081 https-alternate=8444 notification=10200
        server "mp01.contoso.com" zone="dc" { management-point http=#false https=#true }
        "#,
        r#"clients "HQ" site="P01" zone="hq""#,
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "HQ -> "),
        set(&[
            "HQ -> mp01.contoso.com tcp 10200",
            "HQ -> mp01.contoso.com tcp 8443",
            "HQ -> mp01.contoso.com tcp 8444",
        ])
    );
}

#[test]
fn client_to_mp_http_only_default_ports() {
    let kdl = p01(
        "",
        r#"server "mp01.contoso.com" zone="dc" { management-point }"#,
        r#"clients "HQ" site="P01" zone="hq""#,
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "HQ -> "),
        set(&[
            "HQ -> mp01.contoso.com tcp 10123",
            "HQ -> mp01.contoso.com tcp 80"
        ])
    );
}

#[test]
fn dp_to_mp_uses_client_ports() {
    let kdl = p01(
        "",
        r#"
        client-ports http=8080 https=8443
        server "mp01.contoso.com" zone="dc" { management-point http=#true https=#true }
        server "dp01.contoso.com" zone="dc" { distribution-point }
        "#,
        "",
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "dp01.contoso.com -> mp01"),
        set(&[
            "dp01.contoso.com -> mp01.contoso.com tcp 8080",
            "dp01.contoso.com -> mp01.contoso.com tcp 8443",
        ])
    );
}

// ---------------------------------------------------------------------------------------
// Secondary sites
// ---------------------------------------------------------------------------------------

const SECONDARY: &str = r#"
zone "dc"
zone "branch"
site "P01" type="primary" {
    client-ports http=8080 https=8443 http-alternate=8081
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="dc" {
        site-server
        sql-instance "MSSQLSERVER"
    }
    server "dp01.contoso.com" zone="dc" { distribution-point http=#true https=#true }
}
site "S01" type="secondary" parent="P01" {
    database server="sec01.contoso.com" instance="CONFIGMGRSEC"
    server "sec01.contoso.com" zone="branch" {
        site-server
        management-point http=#true https=#true
        sql-instance "CONFIGMGRSEC" port=2433
    }
}
clients "Branch" site="S01" zone="branch"
"#;

#[test]
fn secondary_clients_use_parent_client_ports_and_parent_dp() {
    let all = flows(SECONDARY, OP);
    assert_eq!(
        starting(&all, "Branch -> "),
        set(&[
            // its own management point, on the parent primary's client ports
            "Branch -> sec01.contoso.com tcp 10123",
            "Branch -> sec01.contoso.com tcp 8080",
            "Branch -> sec01.contoso.com tcp 8081",
            "Branch -> sec01.contoso.com tcp 8443",
            // the secondary has no distribution point: the parent's serves it
            "Branch -> dp01.contoso.com tcp 8080",
            "Branch -> dp01.contoso.com tcp 8081",
            "Branch -> dp01.contoso.com tcp 8443",
        ])
    );
}

#[test]
fn secondary_with_own_dp_does_not_use_parent_dp() {
    let kdl = SECONDARY.replace(
        "management-point http=#true https=#true",
        "management-point http=#true https=#true\n        distribution-point",
    );
    let all = flows(&kdl, OP);
    assert_lacks(
        &all,
        &[
            "Branch -> dp01.contoso.com tcp 8080",
            "Branch -> dp01.contoso.com tcp 8443",
        ],
    );
    assert_has(
        &all,
        &[
            "Branch -> sec01.contoso.com tcp 8080",
            "Branch -> sec01.contoso.com tcp 8081",
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Software update points
// ---------------------------------------------------------------------------------------

#[test]
fn sup_on_80_443_with_ssl() {
    let kdl = p01(
        "",
        r#"server "sup01.contoso.com" zone="dc" { software-update-point wsus-http=80 wsus-https=443 ssl=#true }"#,
        r#"clients "HQ" site="P01" zone="hq""#,
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "HQ -> "),
        set(&[
            "HQ -> sup01.contoso.com tcp 443",
            "HQ -> sup01.contoso.com tcp 80"
        ])
    );
    // site server --> software update point on the WSUS ports, one way (the site server
    // runs no WSUS: docs/decisions.md); SMB both ways
    assert_has(
        &all,
        &[
            "cm01.contoso.com -> sup01.contoso.com tcp 80",
            "cm01.contoso.com -> sup01.contoso.com tcp 443",
            "cm01.contoso.com -> sup01.contoso.com tcp 445",
            "sup01.contoso.com -> cm01.contoso.com tcp 445",
            // top-level site: synchronizes from Microsoft Update
            "sup01.contoso.com -> internet tcp 80",
        ],
    );
    assert_eq!(
        starting(&all, "sup01.contoso.com -> cm01"),
        set(&["sup01.contoso.com -> cm01.contoso.com tcp 445"])
    );
}

#[test]
fn sup_on_8530_8531_https_only_with_ssl() {
    let no_ssl = p01(
        "",
        r#"server "sup01.contoso.com" zone="dc" { software-update-point }"#,
        r#"clients "HQ" site="P01" zone="hq""#,
    );
    assert_eq!(
        starting(&flows(&no_ssl, OP), "HQ -> "),
        set(&["HQ -> sup01.contoso.com tcp 8530"])
    );
    let ssl = p01(
        "",
        r#"server "sup01.contoso.com" zone="dc" { software-update-point wsus-http=8530 wsus-https=8531 ssl=#true }"#,
        r#"clients "HQ" site="P01" zone="hq""#,
    );
    assert_eq!(
        starting(&flows(&ssl, OP), "HQ -> "),
        set(&[
            "HQ -> sup01.contoso.com tcp 8530",
            "HQ -> sup01.contoso.com tcp 8531",
        ])
    );
}

const CAS_SUP: &str = r#"
zone "dc"
site "CAS" type="central" {
    database server="cas01.contoso.com" instance="MSSQLSERVER"
    server "cas01.contoso.com" zone="dc" {
        site-server
        sql-instance "MSSQLSERVER"
    }
    server "cassup.contoso.com" zone="dc" { software-update-point wsus-http=80 wsus-https=443 }
}
site "P01" type="primary" parent="CAS" {
    database server="p01.contoso.com" instance="MSSQLSERVER"
    server "p01.contoso.com" zone="dc" {
        site-server
        sql-instance "MSSQLSERVER"
    }
    server "p01sup.contoso.com" zone="dc" { software-update-point }
}
"#;

#[test]
fn child_sup_syncs_from_parent_sup_on_parent_wsus_ports() {
    let all = flows(CAS_SUP, OP);
    assert_eq!(
        starting(&all, "p01sup.contoso.com -> cassup"),
        set(&[
            "p01sup.contoso.com -> cassup.contoso.com tcp 443",
            "p01sup.contoso.com -> cassup.contoso.com tcp 80",
        ])
    );
    assert_eq!(
        starting(&all, "cassup.contoso.com -> internet"),
        set(&["cassup.contoso.com -> internet tcp 80"])
    );
    assert_eq!(
        starting(&all, "p01sup.contoso.com -> internet"),
        Vec::<String>::new()
    );
    assert_eq!(
        starting(&all, "cassup.contoso.com -> p01sup"),
        Vec::<String>::new()
    );
}

#[test]
fn sup_upstream_wsus_server_uses_its_ports() {
    let kdl = p01(
        "",
        r#"server "sup01.contoso.com" zone="dc" { software-update-point upstream="wsus01.contoso.com" }"#,
        r#"server "wsus01.contoso.com" zone="dc" { wsus-server http=80 https=443 }"#,
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "sup01.contoso.com -> wsus01"),
        set(&[
            "sup01.contoso.com -> wsus01.contoso.com tcp 443",
            "sup01.contoso.com -> wsus01.contoso.com tcp 80",
        ])
    );
    assert_eq!(
        starting(&all, "sup01.contoso.com -> internet"),
        Vec::<String>::new()
    );
}

// ---------------------------------------------------------------------------------------
// SQL Server
// ---------------------------------------------------------------------------------------

fn named_instance(instance_props: &str) -> String {
    format!(
        r#"
zone "dc"
site "P01" type="primary" {{
    database server="sql01.contoso.com" instance="CM_P01"
    server "cm01.contoso.com" zone="dc" {{ site-server }}
    server "mp01.contoso.com" zone="dc" {{ management-point }}
    server "prov01.contoso.com" zone="dc" {{ sms-provider }}
}}
server "sql01.contoso.com" zone="dc" {{
    sql-instance "CM_P01" {instance_props}
}}
"#
    )
}

#[test]
fn named_instance_static_port() {
    let all = flows(&named_instance("port=14330"), OP);
    let to_sql: Vec<String> = all
        .iter()
        .filter(|f| f.contains(" -> sql01.contoso.com "))
        .cloned()
        .collect();
    assert_eq!(
        to_sql,
        set(&[
            "cm01.contoso.com -> sql01.contoso.com tcp 14330",
            "mp01.contoso.com -> sql01.contoso.com tcp 14330",
            "prov01.contoso.com -> sql01.contoso.com tcp 14330",
        ])
    );
}

#[test]
fn named_instance_dynamic_port_gives_no_sql_flow() {
    let all = flows(&named_instance(""), OP);
    let to_sql: Vec<&String> = all
        .iter()
        .filter(|f| f.contains(" -> sql01.contoso.com "))
        .collect();
    assert!(to_sql.is_empty(), "{to_sql:?}");
}

#[test]
fn remote_database_install_phase() {
    let kdl = p01("", "", "").replace(
        r#"server "sql01.contoso.com" zone="dc" {"#,
        r#"server "sql01.contoso.com" zone="dc" rpc-ports="50000-50100" {"#,
    );
    assert_eq!(
        flows(&kdl, &[Phase::Install]),
        set(&[
            "cm01.contoso.com -> sql01.contoso.com tcp 135",
            "cm01.contoso.com -> sql01.contoso.com tcp 445",
            "cm01.contoso.com -> sql01.contoso.com tcp 50000-50100",
            "cm01.contoso.com -> sql01.contoso.com udp 135",
        ])
    );
    // not in operation
    let op = flows(&kdl, OP);
    assert_eq!(
        starting(&op, "cm01.contoso.com -> sql01"),
        set(&["cm01.contoso.com -> sql01.contoso.com tcp 1433"])
    );
}

#[test]
fn local_database_install_phase_has_no_flow() {
    let kdl = r#"
zone "dc"
site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="dc" {
        site-server
        sql-instance "MSSQLSERVER"
    }
}
"#;
    assert_eq!(flows(kdl, &[Phase::Install]), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// Site server and its site systems (note 5)
// ---------------------------------------------------------------------------------------

#[test]
fn rpc_ports_of_destination_server() {
    let kdl = p01(
        "",
        r#"server "prov01.contoso.com" zone="dc" rpc-ports="50000-50100" { sms-provider }"#,
        "",
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "cm01.contoso.com -> prov01"),
        set(&[
            "cm01.contoso.com -> prov01.contoso.com tcp 135",
            "cm01.contoso.com -> prov01.contoso.com tcp 445",
            "cm01.contoso.com -> prov01.contoso.com tcp 50000-50100",
            "cm01.contoso.com -> prov01.contoso.com udp 135",
        ])
    );
    // --> section: one direction only (the provider only talks to SQL)
    assert_eq!(
        starting(&all, "prov01.contoso.com -> "),
        set(&["prov01.contoso.com -> sql01.contoso.com tcp 1433"])
    );
}

#[test]
fn reverse_flow_uses_site_server_rpc_range() {
    let kdl = p01(
        "",
        r#"server "fsp01.contoso.com" zone="dc" { fallback-status-point }"#,
        "",
    )
    .replace(
        r#"server "cm01.contoso.com" zone="dc" {"#,
        r#"server "cm01.contoso.com" zone="dc" rpc-ports="51000-51100" {"#,
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "fsp01.contoso.com -> "),
        set(&[
            "fsp01.contoso.com -> cm01.contoso.com tcp 135",
            "fsp01.contoso.com -> cm01.contoso.com tcp 445",
            "fsp01.contoso.com -> cm01.contoso.com tcp 51000-51100",
            "fsp01.contoso.com -> cm01.contoso.com udp 135",
        ])
    );
    assert_has(
        &all,
        &["cm01.contoso.com -> fsp01.contoso.com tcp 49152-65535"],
    );
}

#[test]
fn site_server_initiates_drops_reverse_flows() {
    let kdl = p01(
        "site-server-initiates=#true",
        r#"
        server "fsp01.contoso.com" zone="dc" { fallback-status-point }
        server "mp01.contoso.com" zone="dc" { management-point }
        "#,
        "",
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "fsp01.contoso.com -> "),
        Vec::<String>::new()
    );
    // the management point keeps only its SQL flow
    assert_eq!(
        starting(&all, "mp01.contoso.com -> "),
        set(&["mp01.contoso.com -> sql01.contoso.com tcp 1433"])
    );
    assert_has(
        &all,
        &[
            "cm01.contoso.com -> fsp01.contoso.com tcp 445",
            "cm01.contoso.com -> fsp01.contoso.com tcp 135",
            "cm01.contoso.com -> fsp01.contoso.com udp 135",
            "cm01.contoso.com -> fsp01.contoso.com tcp 49152-65535",
            "cm01.contoso.com -> mp01.contoso.com tcp 445",
            "cm01.contoso.com -> mp01.contoso.com tcp 135",
        ],
    );
}

#[test]
fn site_server_initiates_overridden_on_one_role() {
    let kdl = p01(
        "site-server-initiates=#true",
        r#"
        server "fsp01.contoso.com" zone="dc" { fallback-status-point site-server-initiates=#false }
        server "smp01.contoso.com" zone="dc" { state-migration-point }
        "#,
        "",
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "fsp01.contoso.com -> "),
        set(&[
            "fsp01.contoso.com -> cm01.contoso.com tcp 135",
            "fsp01.contoso.com -> cm01.contoso.com tcp 445",
            "fsp01.contoso.com -> cm01.contoso.com tcp 49152-65535",
            "fsp01.contoso.com -> cm01.contoso.com udp 135",
        ])
    );
    // the state migration point still follows the site: only its SQL flow
    assert_eq!(
        starting(&all, "smp01.contoso.com -> "),
        set(&["smp01.contoso.com -> sql01.contoso.com tcp 1433"])
    );
}

#[test]
fn role_sets_site_server_initiates_on_a_site_that_does_not() {
    let kdl = p01(
        "",
        r#"server "fsp01.contoso.com" zone="dc" { fallback-status-point site-server-initiates=#true }"#,
        "",
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "fsp01.contoso.com -> "),
        Vec::<String>::new()
    );
    assert_has(&all, &["cm01.contoso.com -> fsp01.contoso.com tcp 445"]);
}

#[test]
fn without_site_server_initiates_both_directions() {
    let kdl = p01(
        "",
        r#"server "mp01.contoso.com" zone="dc" { management-point }"#,
        "",
    );
    let all = flows(&kdl, OP);
    assert_has(
        &all,
        &[
            "cm01.contoso.com -> mp01.contoso.com tcp 135",
            "cm01.contoso.com -> mp01.contoso.com tcp 445",
            "cm01.contoso.com -> mp01.contoso.com tcp 49152-65535",
            "mp01.contoso.com -> cm01.contoso.com tcp 135",
            "mp01.contoso.com -> cm01.contoso.com tcp 445",
            "mp01.contoso.com -> cm01.contoso.com tcp 49152-65535",
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Distribution points
// ---------------------------------------------------------------------------------------

#[test]
fn pxe_distribution_point() {
    let kdl = p01(
        "",
        r#"server "dp01.contoso.com" zone="dc" { distribution-point pxe=#true }"#,
        r#"clients "HQ" site="P01" zone="hq""#,
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "HQ -> "),
        set(&[
            "HQ -> dp01.contoso.com tcp 80",
            "HQ -> dp01.contoso.com udp 4011",
            "HQ -> dp01.contoso.com udp 67-68",
            "HQ -> dp01.contoso.com udp 69",
        ])
    );
    // site server --> distribution point, one direction
    assert_eq!(
        starting(&all, "dp01.contoso.com -> cm01"),
        Vec::<String>::new()
    );
    assert_has(
        &all,
        &[
            "cm01.contoso.com -> dp01.contoso.com tcp 445",
            "cm01.contoso.com -> dp01.contoso.com tcp 135",
            "cm01.contoso.com -> dp01.contoso.com udp 135",
            "cm01.contoso.com -> dp01.contoso.com tcp 49152-65535",
        ],
    );
}

#[test]
fn multicast_distribution_point_https_only() {
    let kdl = p01(
        "",
        r#"server "dp01.contoso.com" zone="dc" { distribution-point multicast=#true http=#false https=#true }"#,
        r#"clients "HQ" site="P01" zone="hq" express-updates=#true"#,
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "HQ -> "),
        set(&[
            "HQ -> dp01.contoso.com tcp 443",
            "HQ -> dp01.contoso.com tcp 445",
            "HQ -> dp01.contoso.com tcp 8005",
            "HQ -> dp01.contoso.com udp 63000-64000",
        ])
    );
}

// ---------------------------------------------------------------------------------------
// Client push
// ---------------------------------------------------------------------------------------

fn push_model() -> String {
    p01(
        "",
        r#"server "mp01.contoso.com" zone="dc" { management-point }"#,
        r#"clients "HQ" site="P01" zone="hq" install="push""#,
    )
}

#[test]
fn client_push_in_client_install_phase() {
    assert_eq!(
        flows(&push_model(), &[Phase::ClientInstall]),
        set(&[
            "HQ -> mp01.contoso.com tcp 80",
            "cm01.contoso.com -> HQ icmp echo",
            "cm01.contoso.com -> HQ tcp 135",
            "cm01.contoso.com -> HQ tcp 445",
            "cm01.contoso.com -> HQ tcp 49152-65535",
            "cm01.contoso.com -> HQ udp 135",
        ])
    );
}

#[test]
fn client_push_absent_in_operation() {
    let all = flows(&push_model(), OP);
    assert_eq!(
        starting(&all, "cm01.contoso.com -> HQ"),
        Vec::<String>::new()
    );
}

#[test]
fn no_install_method_no_client_install_flows() {
    let kdl = p01(
        "",
        r#"server "mp01.contoso.com" zone="dc" { management-point }"#,
        r#"clients "HQ" site="P01" zone="hq""#,
    );
    assert_eq!(flows(&kdl, &[Phase::ClientInstall]), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// Cloud management gateway
// ---------------------------------------------------------------------------------------

fn cmg_model(vms: u32) -> String {
    p01(
        "",
        r#"
        server "mp01.contoso.com" zone="dc" { management-point http=#false https=#true }
        server "cmgcp01.contoso.com" zone="dc" { cmg-connection-point }
        "#,
        &format!(
            r#"
cloud-management-gateway "cmg1" site="P01" vms={vms}
clients "Roaming" site="P01" zone="internet" internet=#true
clients "HQ" site="P01" zone="hq"
"#
        ),
    )
}

#[test]
fn cmg_connection_point_one_vm() {
    let all = flows(&cmg_model(1), OP);
    assert_eq!(
        starting(&all, "cmgcp01.contoso.com -> cmg1"),
        set(&[
            "cmgcp01.contoso.com -> cmg1 tcp 10140-10155",
            "cmgcp01.contoso.com -> cmg1 tcp 443",
        ])
    );
    assert_has(&all, &["cmgcp01.contoso.com -> mp01.contoso.com tcp 443"]);
}

#[test]
fn cmg_connection_point_two_vms() {
    let all = flows(&cmg_model(2), OP);
    assert_eq!(
        starting(&all, "cmgcp01.contoso.com -> cmg1"),
        set(&[
            "cmgcp01.contoso.com -> cmg1 tcp 10124-10139",
            "cmgcp01.contoso.com -> cmg1 tcp 10140-10155",
        ])
    );
}

#[test]
fn internet_clients_reach_only_the_cmg() {
    let kdl = cmg_model(1).replace(
        r#"server "cmgcp01.contoso.com""#,
        r#"server "dp01.contoso.com" zone="dc" { distribution-point pxe=#true }
        server "sup01.contoso.com" zone="dc" { software-update-point }
        server "fsp01.contoso.com" zone="dc" { fallback-status-point }
        server "cmgcp01.contoso.com""#,
    ) + r#"server "dc01.contoso.com" zone="dc" { domain-controller }"#;
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "Roaming -> "),
        set(&["Roaming -> cmg1 tcp 443"])
    );
    // intranet clients of the same site: no gateway, but the on-premises systems
    assert_lacks(&all, &["HQ -> cmg1 tcp 443"]);
    assert_has(
        &all,
        &[
            "HQ -> mp01.contoso.com tcp 443",
            "HQ -> dp01.contoso.com tcp 80",
            "HQ -> sup01.contoso.com tcp 8530",
            "HQ -> fsp01.contoso.com tcp 80",
            "HQ -> dc01.contoso.com tcp 3268",
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Between sites
// ---------------------------------------------------------------------------------------

const HIERARCHY: &str = r#"
zone "dc"
zone "branch"
site "CAS" type="central" {
    database server="cas01.contoso.com" instance="MSSQLSERVER"
    server "cas01.contoso.com" zone="dc" {
        site-server
        sql-instance "MSSQLSERVER"
    }
}
site "P01" type="primary" parent="CAS" {
    database server="p01.contoso.com" instance="CM_P01"
    server "p01.contoso.com" zone="dc" {
        site-server
        sql-instance "CM_P01" port=1500 broker-port=4500
    }
}
site "S01" type="secondary" parent="P01" {
    database server="s01.contoso.com" instance="CONFIGMGRSEC"
    server "s01.contoso.com" zone="branch" {
        site-server
        sql-instance "CONFIGMGRSEC" port=2433 broker-port=4033
    }
}
"#;

#[test]
fn site_server_to_site_server_smb_both_ways() {
    let all = flows(HIERARCHY, OP);
    assert_has(
        &all,
        &[
            "cas01.contoso.com -> p01.contoso.com tcp 445",
            "p01.contoso.com -> cas01.contoso.com tcp 445",
            "p01.contoso.com -> s01.contoso.com tcp 445",
            "s01.contoso.com -> p01.contoso.com tcp 445",
        ],
    );
    // not parent and child
    assert_eq!(
        starting(&all, "cas01.contoso.com -> s01"),
        Vec::<String>::new()
    );
    assert_eq!(
        starting(&all, "s01.contoso.com -> cas01"),
        Vec::<String>::new()
    );
}

#[test]
fn sql_to_sql_both_ways_on_destination_instance_ports() {
    let all = flows(HIERARCHY, OP);
    assert_eq!(
        starting(&all, "cas01.contoso.com -> p01"),
        set(&[
            "cas01.contoso.com -> p01.contoso.com tcp 1500",
            "cas01.contoso.com -> p01.contoso.com tcp 445",
            "cas01.contoso.com -> p01.contoso.com tcp 4500",
        ])
    );
    assert_eq!(
        starting(&all, "p01.contoso.com -> cas01"),
        set(&[
            "p01.contoso.com -> cas01.contoso.com tcp 1433",
            "p01.contoso.com -> cas01.contoso.com tcp 4022",
            "p01.contoso.com -> cas01.contoso.com tcp 445",
        ])
    );
    assert_eq!(
        starting(&all, "p01.contoso.com -> s01"),
        set(&[
            "p01.contoso.com -> s01.contoso.com tcp 2433",
            "p01.contoso.com -> s01.contoso.com tcp 4033",
            "p01.contoso.com -> s01.contoso.com tcp 445",
        ])
    );
    assert_eq!(
        starting(&all, "s01.contoso.com -> p01"),
        set(&[
            "s01.contoso.com -> p01.contoso.com tcp 1500",
            "s01.contoso.com -> p01.contoso.com tcp 445",
            "s01.contoso.com -> p01.contoso.com tcp 4500",
        ])
    );
}

/// The usual layout (language.md's example): site databases on top-level SQL servers,
/// outside any site.
const HIERARCHY_REMOTE_SQL: &str = r#"
zone "dc"
site "CAS" type="central" {
    database server="sqlcas.contoso.com" instance="MSSQLSERVER"
    server "cas01.contoso.com" zone="dc" { site-server }
}
site "P01" type="primary" parent="CAS" {
    database server="sqlp01.contoso.com" instance="CM_P01"
    server "p01.contoso.com" zone="dc" { site-server }
}
server "sqlcas.contoso.com" zone="dc" { sql-instance "MSSQLSERVER" }
server "sqlp01.contoso.com" zone="dc" { sql-instance "CM_P01" port=1500 broker-port=4500 }
"#;

#[test]
fn sql_to_sql_with_databases_on_top_level_servers() {
    let all = flows(HIERARCHY_REMOTE_SQL, OP);
    assert_has(
        &all,
        &[
            "sqlcas.contoso.com -> sqlp01.contoso.com tcp 1500",
            "sqlcas.contoso.com -> sqlp01.contoso.com tcp 4500",
            "sqlp01.contoso.com -> sqlcas.contoso.com tcp 1433",
            "sqlp01.contoso.com -> sqlcas.contoso.com tcp 4022",
        ],
    );
}

#[test]
fn site_servers_reach_their_top_level_databases() {
    let all = flows(HIERARCHY_REMOTE_SQL, OP);
    assert_has(
        &all,
        &[
            "cas01.contoso.com -> sqlcas.contoso.com tcp 1433",
            "p01.contoso.com -> sqlp01.contoso.com tcp 1500",
            "cas01.contoso.com -> p01.contoso.com tcp 445",
            "p01.contoso.com -> cas01.contoso.com tcp 445",
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Self flows, deduplication, user flows
// ---------------------------------------------------------------------------------------

#[test]
fn no_flow_from_a_host_to_itself() {
    let kdl = r#"
zone "dc"
zone "hq"
site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="dc" {
        site-server
        sms-provider
        management-point
        distribution-point
        fallback-status-point
        software-update-point
        sql-instance "MSSQLSERVER"
    }
}
clients "HQ" site="P01" zone="hq" install="push"
"#;
    let model = load(kdl);
    let all = required_flows(&model, &Phase::ALL);
    assert!(!all.is_empty());
    for f in &all {
        assert_ne!(f.source, f.destination, "{}", render(&model, f));
    }
    let mut rendered: Vec<String> = all.iter().map(|f| render(&model, f)).collect();
    rendered.sort();
    assert_eq!(
        starting(&rendered, "cm01.contoso.com -> "),
        set(&[
            "cm01.contoso.com -> HQ icmp echo",
            "cm01.contoso.com -> HQ tcp 135",
            "cm01.contoso.com -> HQ tcp 445",
            "cm01.contoso.com -> HQ tcp 49152-65535",
            "cm01.contoso.com -> HQ udp 135",
            "cm01.contoso.com -> internet tcp 80",
        ])
    );
    // site server and software update point on one host: one Internet flow, two services
    let internet: Vec<&RequiredFlow> = all
        .iter()
        .filter(|f| render(&model, f) == "cm01.contoso.com -> internet tcp 80")
        .collect();
    assert_eq!(internet.len(), 1);
    assert_eq!(internet[0].services.len(), 2);
}

#[test]
fn roles_sharing_a_port_give_one_flow_with_every_service() {
    let kdl = p01(
        "",
        r#"server "srv02.contoso.com" zone="dc" {
            fallback-status-point
            reporting-services-point
        }"#,
        "",
    );
    let model = load(&kdl);
    let all = required_flows(&model, OP);
    let smb: Vec<&RequiredFlow> = all
        .iter()
        .filter(|f| render(&model, f) == "cm01.contoso.com -> srv02.contoso.com tcp 445")
        .collect();
    assert_eq!(smb.len(), 1);
    assert_eq!(smb[0].services.len(), 2);
    let roles: Vec<&str> = smb[0].services.iter().map(|s| s.destination_role).collect();
    assert!(roles.contains(&"fallback-status-point"), "{roles:?}");
    assert!(roles.contains(&"reporting-services-point"), "{roles:?}");
    assert!(
        smb[0]
            .services
            .iter()
            .all(|s| s.source_role == "site-server")
    );
    // the way back: the fallback status point only (the reporting services point sends
    // no status, Note 5: docs/decisions.md)
    let back: Vec<&RequiredFlow> = all
        .iter()
        .filter(|f| render(&model, f) == "srv02.contoso.com -> cm01.contoso.com tcp 445")
        .collect();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].services.len(), 1);
    assert!(
        back[0]
            .services
            .iter()
            .all(|s| s.destination_role == "site-server")
    );
    // and the set has no duplicates at all
    let mut keys: Vec<String> = all.iter().map(|f| render(&model, f)).collect();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n);
}

#[test]
fn user_flow_is_required_in_operation() {
    let kdl = p01(
        "",
        "",
        r#"
server "backup01.contoso.com" zone="dc" rpc-ports="50000-50100" { file-server }
flow "backup" from="role:site-server" to="host:backup01.contoso.com" tcp="10000,rpc" udp="10001"
"#,
    );
    let model = load(&kdl);
    let all = required_flows(&model, OP);
    let user: Vec<&RequiredFlow> = all
        .iter()
        .filter(|f| f.destination.name(&model) == "backup01.contoso.com")
        .collect();
    let rendered: Vec<String> = user.iter().map(|f| render(&model, f)).collect();
    assert_eq!(
        rendered,
        set(&[
            "cm01.contoso.com -> backup01.contoso.com tcp 10000",
            "cm01.contoso.com -> backup01.contoso.com tcp 50000-50100",
            "cm01.contoso.com -> backup01.contoso.com udp 10001",
        ])
    );
    for f in user {
        assert_eq!(f.services.len(), 1);
        assert_eq!(f.services[0].service(&model), "backup");
        assert_eq!(f.services[0].phase, Phase::Operation);
    }
    // not a client-install flow
    assert_eq!(flows(&kdl, &[Phase::ClientInstall]), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// A few more settings
// ---------------------------------------------------------------------------------------

#[test]
fn susdb_on_remote_sql_gives_site_server_flow() {
    let kdl = p01(
        "",
        r#"server "sup01.contoso.com" zone="dc" { software-update-point susdb="sqlwsus.contoso.com/WSUS" }"#,
        r#"server "sqlwsus.contoso.com" zone="dc" { sql-instance "WSUS" port=1444 }"#,
    );
    let all = flows(&kdl, OP);
    assert_eq!(
        starting(&all, "cm01.contoso.com -> sqlwsus"),
        set(&["cm01.contoso.com -> sqlwsus.contoso.com tcp 1444"])
    );
}

#[test]
fn secondary_without_mp_uses_parent_mp_on_parent_ports() {
    let kdl = SECONDARY
        .replace("management-point http=#true https=#true", "")
        .replace(
            r#"server "dp01.contoso.com" zone="dc" {"#,
            r#"server "mp01.contoso.com" zone="dc" { management-point }
    server "dp01.contoso.com" zone="dc" {"#,
        );
    let all = flows(&kdl, OP);
    assert_has(
        &all,
        &[
            "Branch -> mp01.contoso.com tcp 10123",
            "Branch -> mp01.contoso.com tcp 8080",
            "Branch -> mp01.contoso.com tcp 8081",
        ],
    );
    assert_eq!(starting(&all, "Branch -> sec01"), Vec::<String>::new());
}

fn wake_model() -> String {
    p01(
        "",
        "client-ports wake-on-lan=12 wake-up-proxy=25600",
        r#"clients "HQ" site="P01" zone="hq" wake-up-proxy=#true wake-on-lan=#true peer-cache=#true"#,
    )
}

#[test]
fn site_server_wake_on_lan_uses_site_port() {
    let all = flows(&wake_model(), OP);
    assert_eq!(
        starting(&all, "cm01.contoso.com -> HQ"),
        set(&["cm01.contoso.com -> HQ udp 12"])
    );
}

#[test]
fn wake_up_proxy_and_peer_cache_client_to_client() {
    let all = flows(&wake_model(), OP);
    assert_eq!(
        starting(&all, "HQ -> HQ"),
        set(&[
            "HQ -> HQ icmp echo",
            "HQ -> HQ tcp 8003",
            "HQ -> HQ udp 12",
            "HQ -> HQ udp 25600",
            "HQ -> HQ udp 8004",
        ])
    );
}

#[test]
fn internet_client_groups_get_no_client_installation_flows() {
    let model = r#"
zone "dc"
site "P01" type="primary" {
    server "cm01.contoso.com" zone="dc" {
        site-server
        management-point
        fallback-status-point
    }
}
clients "Roaming" site="P01" zone="internet" internet=#true install="manual"
clients "RoamPush" site="P01" zone="internet" internet=#true install="push"
clients "Office" site="P01" zone="dc" install="push"
"#;
    let all = flows(model, &[Phase::ClientInstall]);
    assert!(starting(&all, "Roaming -> ").is_empty(), "{all:#?}");
    assert!(starting(&all, "RoamPush -> ").is_empty(), "{all:#?}");
    assert!(
        starting(&all, "cm01.contoso.com -> RoamPush").is_empty(),
        "{all:#?}"
    );
    assert_has(
        &all,
        &[
            "cm01.contoso.com -> Office tcp 445",
            "Office -> cm01.contoso.com tcp 80",
        ],
    );
}

mod packed_keys {
    use super::*;
    use proptest::prelude::*;

    fn endpoint() -> impl Strategy<Value = FlowEndpoint> {
        let index = prop_oneof![
            0usize..4,
            Just(usize::MAX >> 3),
            any::<u32>().prop_map(|i| i as usize)
        ];
        prop_oneof![
            index.clone().prop_map(FlowEndpoint::Server),
            index.clone().prop_map(FlowEndpoint::Clients),
            index.clone().prop_map(FlowEndpoint::Console),
            index.prop_map(FlowEndpoint::Cloud),
            Just(FlowEndpoint::Internet),
        ]
    }

    fn identity() -> impl Strategy<Value = (FlowEndpoint, FlowEndpoint, Protocol, FlowPorts)> {
        let ports = prop_oneof![
            (any::<u16>(), any::<u16>()).prop_map(|(a, b)| FlowPorts::Range(a.min(b), a.max(b))),
            Just(FlowPorts::Range(0, 0)),
            Just(FlowPorts::Range(u16::MAX, u16::MAX)),
            Just(FlowPorts::Echo),
        ];
        let protocol = prop_oneof![
            Just(Protocol::Tcp),
            Just(Protocol::Udp),
            Just(Protocol::Icmp)
        ];
        (endpoint(), endpoint(), protocol, ports)
    }

    proptest! {
        /// The packed key orders and identifies flows exactly as their fields do, and
        /// unpacks to them: the flows' order and deduplication rest on it.
        #[test]
        fn order_and_equality_are_the_fields(a in identity(), b in identity()) {
            let key = |(s, d, p, ports): (FlowEndpoint, FlowEndpoint, Protocol, FlowPorts)| {
                flow_key(s, d, p, ports)
            };
            prop_assert_eq!(key(a).cmp(&key(b)), a.cmp(&b));
            prop_assert_eq!(key(a) == key(b), a == b);
            prop_assert_eq!(unpack(key(a)), a);
        }
    }
}

mod side_by_side {
    use super::*;

    /// The Contoso example as one text (its files hold one model).
    fn contoso() -> Model {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/contoso");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .expect("the example")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
            .collect();
        names.sort();
        let text: String = names
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("a file") + "\n")
            .collect();
        load(&text)
    }

    fn rows(model: &Model) -> Vec<&'static CatalogRow> {
        crate::catalog::for_model(model).rows.iter().collect()
    }

    #[test]
    fn gives_the_flows_of_one_row_after_another() {
        let model = contoso();
        let h = Hierarchy::new(&model);
        let rows = rows(&model);
        let expected = format!("{:?}", one_by_one(&h, &rows, true, usize::MAX).ok());
        assert!(expected.len() > 10_000, "the example requires flows");
        for threads in [2, 3, 5] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a pool");
            let flows = pool.install(|| side_by_side(&h, &rows, true, usize::MAX));
            assert_eq!(format!("{flows:?}"), expected, "{threads} threads");
        }
    }

    #[test]
    fn leaves_the_limit_to_one_row_after_another() {
        let model = contoso();
        let h = Hierarchy::new(&model);
        let rows = rows(&model);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a pool");
        let all = one_by_one(&h, &rows, true, usize::MAX).map_or(0, |f| f.len());

        // Under the limit, and at it, side by side; one flow fewer: one by one, which
        // names the row that passed it.
        assert!(
            pool.install(|| side_by_side(&h, &rows, true, all))
                .is_some()
        );
        assert!(
            pool.install(|| side_by_side(&h, &rows, true, all - 1))
                .is_none()
        );
        assert!(pool.install(|| side_by_side(&h, &rows, true, 10)).is_none());
        let Err(too_many) = one_by_one(&h, &rows, true, 10) else {
            panic!("past the limit");
        };
        let Origin::Catalog(row) = too_many.origin else {
            panic!("a catalog row passed the limit");
        };
        assert!(rows.iter().any(|r| std::ptr::eq(*r, row)));
        // A row that lists past the budget stops, a chunk late.
        let listed = AtomicUsize::new(0);
        let mut p = Pending::new(&listed, Pending::CHUNK, 10);
        let service = FlowService {
            origin: Origin::User(0),
            source_role: "flow",
            destination_role: "flow",
            phase: Phase::Operation,
        };
        for port in 0..3 * Pending::CHUNK {
            let port = u16::try_from(port).expect("a port");
            p.add(
                FlowEndpoint::Server(0),
                FlowEndpoint::Server(1),
                Protocol::Tcp,
                FlowPorts::Range(port, port),
                &service,
            );
        }
        assert!(p.stopped);
        assert_eq!(p.adds.len(), 2 * Pending::CHUNK - 1);
        assert_eq!(p.services, [service]);
        // One thread: one by one.
        let single = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a pool");
        assert!(
            single
                .install(|| side_by_side(&h, &rows, true, usize::MAX))
                .is_none()
        );
    }
}
