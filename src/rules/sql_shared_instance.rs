//! `sql/shared-instance`: two site databases on one SQL Server instance.

use std::collections::BTreeMap;

use super::facts::{free_port, replicating_instances, sql_ports};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::Model;

pub static RULE: RuleInfo = RuleInfo {
    code: "sql/shared-instance",
    default_severity: Severity::Error,
    summary: "Two site databases on one SQL Server instance",
    docs: r#"## What it does
Reports a SQL Server instance named by the `database` of more than one site.

## Why
"Ports used in Configuration Manager", § Connections to Microsoft SQL Server: *when a
SQL Server hosts a database from more than one site, each database must use a separate
instance of SQL Server. Configure each instance with a unique set of ports.* Site
databases replicate to each other over their own Service Broker endpoints; two sites
cannot share one.

## Example that fails
```kdl
site "P01" type="primary" parent="CAS" {
    database server="sql01.contoso.com" instance="CM"
}
site "P02" type="primary" parent="CAS" {
    database server="sql01.contoso.com" instance="CM"
}
server "sql01.contoso.com" zone="datacenter" {
    sql-instance "CM" port=1433
}
```

## Fixed example
```kdl
site "P01" type="primary" parent="CAS" {
    database server="sql01.contoso.com" instance="CM_P01"
}
site "P02" type="primary" parent="CAS" {
    database server="sql01.contoso.com" instance="CM_P02"
}
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
    let mut by_instance: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (i, site) in model.sites.iter().enumerate() {
        let Some((r, _)) = &site.database else {
            continue;
        };
        if let Some(key) = model.instance_id(&r.server.value, &r.instance.value) {
            by_instance.entry(key).or_default().push(i);
        }
    }
    let replicating = replicating_instances(model);
    for ((server, idx), sites) in by_instance {
        let [first, rest @ ..] = sites.as_slice() else {
            continue;
        };
        let inst = &model.servers[server].sql_instances[idx];
        let fqdn = &model.servers[server].fqdn.value;
        let first_site = &model.sites[*first];
        let mut taken: Vec<u16> = sql_ports(model, server, &replicating)
            .iter()
            .map(|p| p.setting.port)
            .collect();
        for &other in rest {
            let site = &model.sites[other];
            let Some((r, _)) = &site.database else {
                continue;
            };
            let Some((fr, _)) = &first_site.database else {
                continue;
            };
            let code = &site.code.value;
            let port = free_port(1433, &taken);
            taken.push(port);
            let broker = free_port(4022, &taken);
            taken.push(broker);
            out.push(
                Diagnostic::new(
                    &RULE,
                    format!(
                        "sites {} and {code} both keep their site database in SQL instance {} on {fqdn}",
                        first_site.code.value, inst.name.value
                    ),
                    Label::new(r.instance.span, format!("site database of {code}")),
                )
                .with_label(Label::new(
                    fr.instance.span,
                    format!("site database of {}", first_site.code.value),
                ))
                .with_help(format!(
                    "give site {code} its own instance: add `sql-instance \"CM_{code}\" port={port} broker-port={broker}` to {fqdn} and set `database server=\"{fqdn}\" instance=\"CM_{code}\"`"
                )),
            );
        }
    }
}
