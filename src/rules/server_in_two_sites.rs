//! `hierarchy/server-in-two-sites`: one server declared in two sites.

use std::collections::HashMap;

use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::{Model, ServerId};

pub static RULE: RuleInfo = RuleInfo {
    code: "hierarchy/server-in-two-sites",
    default_severity: Severity::Error,
    summary: "One server holds site system roles of two sites",
    docs: r#"## What it does
Reports a server (compared by FQDN, ignoring case) declared inside two different
`site` nodes, that is, holding site system roles of both sites. (The same server
declared twice in one site, or once at the top level and once in a site, is
`schema/duplicate-name`.)

## Why
A site system server belongs to one site: the site server installs and configures its
roles and the roles report to that site only ("Ports used in Configuration Manager",
Note 5: communication between the site server and site systems; Microsoft's "Plan for
site system servers and site system roles"). Configuration Manager refuses to add a
server that is already a site system of another site. Infrastructure that several sites
share (a SQL Server holding several site databases in separate instances, a domain
controller, a file server) is declared once, as a top-level `server`.

## Example that fails
```kdl
site "P01" type="primary" {
    server "dp01.contoso.com" zone="hq" { distribution-point }
}
site "P02" type="primary" {
    server "dp01.contoso.com" zone="hq" { distribution-point }
}
```

## Fixed example
```kdl
site "P01" type="primary" {
    server "dp01.contoso.com" zone="hq" { distribution-point }
}
site "P02" type="primary" {
    server "dp02.contoso.com" zone="hq" { distribution-point }
}
```

## References

- [Ports used in Configuration Manager, Note 5: communication between the site server and site systems](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#bkmk_note5)
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let mut first_in_site: HashMap<String, ServerId> = HashMap::new();
    for (i, server) in model.servers.iter().enumerate() {
        let Some(site) = server.site else { continue };
        let key = server.fqdn.value.to_ascii_lowercase();
        let Some(&first) = first_in_site.get(&key) else {
            first_in_site.insert(key, i);
            continue;
        };
        let Some(first_site) = model.servers[first].site else {
            continue;
        };
        // The same site declared twice is `schema/duplicate-name`.
        if model.sites[first_site].code.value == model.sites[site].code.value {
            continue;
        }
        let (a, b) = (
            &model.sites[first_site].code.value,
            &model.sites[site].code.value,
        );
        out.push(
            Diagnostic::new(
                &RULE,
                format!(
                    "server {} holds site system roles of sites {a} and {b}",
                    server.fqdn.value
                ),
                Label::new(server.fqdn.span, format!("a site system of {b}")),
            )
            .with_label(Label::new(
                model.servers[first].fqdn.span,
                format!("already a site system of {a}"),
            ))
            .with_help(format!(
                "a server serves one site: give the roles of {b} another server, or move them to {} in site {a}",
                model.servers[first].fqdn.value
            )),
        );
    }
}
