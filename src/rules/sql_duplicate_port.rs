//! `sql/duplicate-port`: two SQL Server instances of one server on the same port.

use std::collections::BTreeMap;

use super::facts::{SqlPort, SqlPortKind, free_port, replicating_instances, sql_ports};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::Model;

pub static RULE: RuleInfo = RuleInfo {
    code: "sql/duplicate-port",
    default_severity: Severity::Error,
    summary: "Two SQL Server instances of one server share a SQL or Service Broker port",
    docs: r#"## What it does
Compares the static TCP ports of the `sql-instance`s of each server: the SQL port
(`port`, or 1433 for `MSSQLSERVER`) and the Service Broker port (`broker-port`, default
4022 for an instance holding the database of a site that replicates with a parent or
child site). Two instances on one port are reported once, on the later one.

## Why
"Ports used in Configuration Manager", § Connections to Microsoft SQL Server: *when a
SQL Server hosts a database from more than one site, each database must use a separate
instance of SQL Server. Configure each instance with a unique set of ports.* Only one
instance can listen on a port; the second fails to start its listener or its Service
Broker endpoint, and intersite replication stops (§ SQL Server --> SQL Server: SQL
Server service 1433, Service Broker 4022).

## Example that fails
```kdl
server "sql01.contoso.com" zone="datacenter" {
    sql-instance "CM_P01" port=1433 broker-port=4022
    sql-instance "CM_P02" port=1433 broker-port=4023
}
```

## Fixed example
```kdl
server "sql01.contoso.com" zone="datacenter" {
    sql-instance "CM_P01" port=1433 broker-port=4022
    sql-instance "CM_P02" port=1435 broker-port=4023
}
```

## References

- [Ports used in Configuration Manager, Connections to Microsoft SQL Server](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_SQLPorts)
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let replicating = replicating_instances(model);
    for (s, server) in model.servers.iter().enumerate() {
        if server.sql_instances.len() < 2 {
            continue;
        }
        let ports = sql_ports(model, s, &replicating);
        let mut taken: Vec<u16> = ports.iter().map(|p| p.setting.port).collect();
        let mut by_port: BTreeMap<u16, Vec<&SqlPort>> = BTreeMap::new();
        for p in &ports {
            by_port.entry(p.setting.port).or_default().push(p);
        }
        for (port, list) in by_port {
            let Some(first) = list.first() else { continue };
            for p in list.iter().skip(1).filter(|p| p.instance != first.instance) {
                let inst = &server.sql_instances[p.instance];
                let other = &server.sql_instances[first.instance];
                let (prop, from) = match p.kind {
                    SqlPortKind::Sql => ("port", 1433),
                    SqlPortKind::Broker => ("broker-port", 4022),
                };
                let free = free_port(from, &taken);
                taken.push(free);
                out.push(
                    Diagnostic::new(
                        &RULE,
                        format!(
                            "SQL instances {} and {} on {} both use TCP port {port}",
                            other.name.value, inst.name.value, server.fqdn.value
                        ),
                        Label::new(p.setting.span, describe(p, port)),
                    )
                    .with_label(Label::new(first.setting.span, describe(first, port)))
                    .with_help(format!(
                        "set {prop}={free} on sql-instance \"{}\" (and in SQL Server Configuration Manager)",
                        inst.name.value
                    )),
                );
            }
        }
    }
}

fn describe(p: &SqlPort, port: u16) -> String {
    let what = match p.kind {
        SqlPortKind::Sql => "SQL port",
        SqlPortKind::Broker => "Service Broker port",
    };
    if p.setting.written {
        format!("{what} {port}")
    } else {
        format!("{what} {port} (default)")
    }
}
