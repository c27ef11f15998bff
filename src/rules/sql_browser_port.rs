//! `sql/browser-port`: SQL Server Browser (UDP 1434) as each catalog edition reads it. Under
//! `2020`, a firewall that allows UDP 1434 to a SQL server (info); under `2025`, a named
//! instance on a port other than 1433 whose UDP 1434 is blocked (error).

use super::context::{Context, short_list};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::engine::{DecidedBy, Filter, FlowEndpoint, FlowPorts, Outcome, Place, Tri, Verdict};
use crate::model::{Action, Edition, PortItem, Protocol};

const BROWSER: u16 = 1434;

pub static RULE: RuleInfo = RuleInfo {
    code: "sql/browser-port",
    default_severity: Severity::Info,
    summary: "A firewall allows UDP 1434 (SQL Server Browser) to a SQL server",
    docs: r#"## What it does
The two catalog editions disagree about SQL Server Browser, so the check follows the
model's `catalog edition=`:

- `2020` (the default): reports every `allow` rule, of a network firewall or of a SQL
  server's Windows Firewall, whose `udp` ports include 1434 and whose destinations
  include a server with a `sql-instance` (info).
- `2025`: reports every named instance on a port other than 1433 whose server's UDP
  1434 is blocked for a connection Configuration Manager makes to it (error, whatever
  the default severity says). Each blocked flow is also `firewall/blocked-flow`, which
  gives the `allow` line to add.

## Why
The SQL Server Browser service (UDP 1434) tells clients which port a named instance
listens on. The 2020 article ("Ports used in Configuration Manager", § Connections to
Microsoft SQL Server) has Configuration Manager connect to static ports directly
(`sql/dynamic-port`) and says it does not need the Browser, so opening UDP 1434 only
adds attack surface. The current article (2025) lists SQL Server Browser, UDP 1434, for
named instances on a non-default port: there, closing it breaks the site's connections
to such an instance.

## Example that fails
```kdl
firewall "fw-core" default="deny" {
    zones "hq" "datacenter"
    allow "site server to SQL" from="role:site-server" to="role:sql-server" tcp="1433,4022" udp="1434"
}
```

## Fixed example
```kdl
firewall "fw-core" default="deny" {
    zones "hq" "datacenter"
    allow "site server to SQL" from="role:site-server" to="role:sql-server" tcp="1433,4022"
}
```

Under `catalog edition="2025"`, with the site database on `sql-instance "CM_P01"
port=1450`, the fixed example fails instead, and `udp="1434"` fixes it (or moving the
instance to port 1433).

## References

- [Ports used in Configuration Manager, Site server --> SQL Server](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_PortsSite-SQL)
- [Ports used in Configuration Manager, Connections to Microsoft SQL Server](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_SQLPorts)
"#,
};

pub fn check(cx: &Context<'_, '_>, out: &mut Vec<Diagnostic>) {
    match cx.model.catalog.edition {
        Edition::E2020 => check_allowed(cx, out),
        Edition::E2025 => check_blocked(cx, out),
    }
}

/// Of one SQL server: the sources whose UDP 1434 flow is blocked, and what blocks them.
type Blocked = (Vec<String>, Vec<(Filter, DecidedBy)>);

/// `2025`: a named instance on a port other than 1433 whose server's UDP 1434 is blocked.
fn check_blocked(cx: &Context<'_, '_>, out: &mut Vec<Diagnostic>) {
    let model = cx.model;
    // Per SQL server: the sources whose Browser flow is blocked, and what blocks them.
    let mut blocked: std::collections::BTreeMap<usize, Blocked> = std::collections::BTreeMap::new();
    for (flow, verdict) in cx.checked_flows() {
        let FlowEndpoint::Server(s) = flow.destination else {
            continue;
        };
        if flow.protocol != Protocol::Udp
            || flow.ports != FlowPorts::Range(BROWSER, BROWSER)
            || verdict.verdict != Verdict::Blocked
            // A policy that forbids it is `policy/conflict`: the design has to change.
            || !cx.forbids_of(flow, flow.ports).is_empty()
        {
            continue;
        }
        let entry = blocked.entry(s).or_default();
        let source = flow.source.name(model).to_owned();
        if !entry.0.contains(&source) {
            entry.0.push(source);
        }
        for d in &verdict.decisions {
            if d.outcome == Outcome::Deny && !entry.1.contains(&(d.filter, d.by)) {
                entry.1.push((d.filter, d.by));
            }
        }
    }
    for (s, (sources, deciders)) in blocked {
        let server = &model.servers[s];
        let named = server.sql_instances.iter().filter(|i| {
            !i.name.value.eq_ignore_ascii_case("MSSQLSERVER") && i.port() != Some(1433)
        });
        let by: Vec<String> = deciders
            .iter()
            .map(|&(f, b)| cx.decider_name(f, b))
            .collect();
        for instance in named {
            let port = instance
                .port()
                .map_or_else(|| "a dynamic port".to_owned(), |p| format!("port {p}"));
            let mut d = Diagnostic::new(
                &RULE,
                format!(
                    "named instance {}\\{} listens on {port}, but SQL Server Browser (UDP 1434) on {} is blocked from {} by {}: the 2025 edition requires it",
                    server.fqdn.value,
                    instance.name.value,
                    server.fqdn.value,
                    short_list(&sources, 3),
                    short_list(&by, 3)
                ),
                Label::new(instance.span, "this named instance is not on port 1433"),
            )
            .with_severity(Severity::Error)
            .with_help(format!(
                "allow UDP 1434 to {} from {} (firewall/blocked-flow gives each allow line), or give the instance port 1433",
                server.fqdn.value,
                short_list(&sources, 3)
            ));
            for &(f, b) in deciders.iter().take(3) {
                d = d.with_label(Label::new(cx.decider_span(f, b), "blocks UDP 1434"));
            }
            out.push(d);
        }
    }
}

/// `2020`: a firewall allows UDP 1434 to a SQL server.
fn check_allowed(cx: &Context<'_, '_>, out: &mut Vec<Diagnostic>) {
    let model = cx.model;
    for ((filter, i), traffic, action, _) in cx.all_rules() {
        let Some(udp) = &traffic.udp else { continue };
        let opens = udp
            .value
            .items
            .iter()
            .any(|p| matches!(*p, PortItem::Range(a, b) if a <= BROWSER && BROWSER <= b));
        if action != Action::Allow || !opens {
            continue;
        }
        let sql_servers: Vec<String> = match filter {
            Filter::Network(_) => model
                .servers
                .iter()
                .enumerate()
                .filter(|(s, server)| {
                    !server.sql_instances.is_empty()
                        && cx
                            .net
                            .list_matches(&traffic.to, Place::Host(FlowEndpoint::Server(*s)))
                            == Tri::Yes
                })
                .map(|(_, server)| server.fqdn.value.clone())
                .collect(),
            Filter::HostIn(FlowEndpoint::Server(s))
                if !model.servers[s].sql_instances.is_empty() =>
            {
                vec![model.servers[s].fqdn.value.clone()]
            }
            _ => Vec::new(),
        };
        if sql_servers.is_empty() {
            continue;
        }
        out.push(
            Diagnostic::new(
                &RULE,
                format!(
                    "{} allows UDP 1434 (SQL Server Browser) to {}: Configuration Manager does not need it",
                    cx.decider_name(filter, DecidedBy::Rule(i)),
                    short_list(&sql_servers, 3)
                ),
                Label::new(udp.span, "includes UDP 1434"),
            )
            .with_help(
                "remove 1434 from `udp`: Configuration Manager connects to SQL Server on static \
                 ports and never asks the Browser service",
            ),
        );
    }
}
