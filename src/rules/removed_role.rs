//! `catalog/removed-role`: a role that the model's catalog edition no longer has.

use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::Model;

pub static RULE: RuleInfo = RuleInfo {
    code: "catalog/removed-role",
    default_severity: Severity::Error,
    summary: "A role that the chosen catalog edition no longer has",
    docs: r#"## What it does
Under `catalog edition="2025"`, reports every role node that the edition no longer has:
the application catalog website point and the application catalog web service point
(`removed-role` entries of `policies/edition-2025.kdl`). One diagnostic per role node.
The default edition, `2020`, still has them.

## Why
The application catalog roles were removed from Configuration Manager in version 1910,
and the current "Ports used in Configuration Manager" article (Microsoft Learn, updated
2025-08-12, https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports)
has none of their sections. A current-branch hierarchy cannot hold them, so a model that
does describes an older site, and the `2025` catalog gives those roles no flow at all:
their firewall rules would be neither required nor checked.

## Example that fails
```kdl
catalog edition="2025"
site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="datacenter" {
        site-server
        application-catalog-website-point
    }
}
```

## Fixed example
```kdl
catalog edition="2025"
site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="datacenter" {
        site-server
    }
}
```
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let catalog = crate::catalog::for_model(model);
    let edition = model.catalog.edition.as_str();
    for server in &model.servers {
        for role in &server.roles {
            let Some(removed) = catalog.removed_roles.iter().find(|r| r.role == role.name) else {
                continue;
            };
            let mut d = Diagnostic::new(
                &RULE,
                format!(
                    "`{}` on `{}`: the {edition} catalog edition has no such role ({})",
                    role.name, server.fqdn.value, removed.reason
                ),
                Label::new(role.span, "removed role"),
            )
            .with_help(format!(
                "delete the `{}` node, or choose the edition that still has it: `catalog edition=\"2020\"`",
                role.name
            ));
            if let Some(span) = model.catalog.span {
                d = d.with_label(Label::new(span, "edition chosen here"));
            }
            out.push(d);
        }
    }
}
