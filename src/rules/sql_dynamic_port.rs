//! `sql/dynamic-port`: a SQL Server instance Configuration Manager connects to without a
//! static port.

use super::facts::{connected_instances, free_port, replicating_instances, sql_ports};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::Model;

pub static RULE: RuleInfo = RuleInfo {
    code: "sql/dynamic-port",
    default_severity: Severity::Error,
    summary: "A SQL Server instance Configuration Manager connects to has no static port",
    docs: r#"## What it does
For every SQL Server instance that Configuration Manager connects to (a site's
`database`, a software update point's `susdb`, a data warehouse service point's
`database`), reports a named instance without `port`, and any instance with
`dynamic=#true`. The default instance `MSSQLSERVER` without `port` passes: it listens on
1433.

## Why
"Ports used in Configuration Manager", § Connections to Microsoft SQL Server and Note 3:
*Configuration Manager doesn't support dynamic ports. SQL Server named instances by
default use dynamic ports for connections to the database engine. When you use a named
instance, manually configure the static port.* A dynamic port changes when the service
restarts, so no firewall rule can allow it.

## Example that fails
```kdl
site "P01" type="primary" {
    database server="sql01.contoso.com" instance="CM_P01"
}
server "sql01.contoso.com" zone="datacenter" {
    sql-instance "CM_P01"
}
```

## Fixed example
```kdl
site "P01" type="primary" {
    database server="sql01.contoso.com" instance="CM_P01"
}
server "sql01.contoso.com" zone="datacenter" {
    sql-instance "CM_P01" port=1433
}
```

## References

- [Ports used in Configuration Manager, Connections to Microsoft SQL Server](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_SQLPorts)
- [Ports used in Configuration Manager, Note 3: Windows Server Update Services (WSUS)](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#bkmk_note3)
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let replicating = replicating_instances(model);
    for ((server, idx), uses) in connected_instances(model) {
        let s = &model.servers[server];
        let inst = &s.sql_instances[idx];
        let dynamic = inst
            .props
            .get("dynamic")
            .filter(|_| inst.props.bool("dynamic"));
        if inst.port().is_some() {
            continue;
        }
        let what: Vec<&str> = uses.iter().map(|u| u.what.as_str()).collect();
        let taken: Vec<u16> = sql_ports(model, server, &replicating)
            .iter()
            .map(|p| p.setting.port)
            .collect();
        let port = inst
            .props
            .port("port")
            .unwrap_or_else(|| free_port(1433, &taken));
        let (primary, help) = match dynamic {
            Some(d) => (
                Label::new(d.span, "dynamic ports"),
                if inst.props.get("port").is_some() {
                    format!(
                        "remove `dynamic=#true` from sql-instance \"{}\"",
                        inst.name.value
                    )
                } else {
                    format!(
                        "remove `dynamic=#true` and add port={port} to sql-instance \"{}\" (and set that static port in SQL Server Configuration Manager)",
                        inst.name.value
                    )
                },
            ),
            None => (
                Label::new(inst.name.span, "named instance without `port`"),
                format!(
                    "add port={port} to sql-instance \"{}\" (and set that static port in SQL Server Configuration Manager)",
                    inst.name.value
                ),
            ),
        };
        let mut d = Diagnostic::new(
            &RULE,
            format!(
                "SQL instance {} on {} ({}) uses dynamic ports; Configuration Manager needs a static port",
                inst.name.value,
                s.fqdn.value,
                what.join(", ")
            ),
            primary,
        );
        for u in &uses {
            d = d.with_label(Label::new(u.span, format!("the {}", u.what)));
        }
        out.push(d.with_help(help));
    }
}
