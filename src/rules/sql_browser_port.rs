//! `sql/browser-port`: a firewall allows UDP 1434 (SQL Server Browser) to a SQL server.

use super::context::{Context, short_list};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::engine::{DecidedBy, Filter, FlowEndpoint, Place, Tri};
use crate::model::{Action, PortItem};

const BROWSER: u16 = 1434;

pub static RULE: RuleInfo = RuleInfo {
    code: "sql/browser-port",
    default_severity: Severity::Info,
    summary: "A firewall allows UDP 1434 (SQL Server Browser) to a SQL server",
    docs: r#"## What it does
Reports every `allow` rule, of a network firewall or of a SQL server's Windows Firewall,
whose `udp` ports include 1434 and whose destinations include a server with a
`sql-instance`.

## Why
The SQL Server Browser service (UDP 1434) tells clients which port a named instance
listens on. Configuration Manager needs static SQL ports (`sql/dynamic-port`) and
connects to them directly ("Ports used in Configuration Manager": site server to SQL
Server, SQL over TCP), so opening the Browser port only adds attack surface.

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
"#,
};

pub fn check(cx: &Context<'_, '_>, out: &mut Vec<Diagnostic>) {
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
