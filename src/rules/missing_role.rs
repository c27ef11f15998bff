//! `hierarchy/missing-role`: a site without a role it cannot work without.

use super::facts::site_kind;
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::{CloudKind, Model, SiteId, SiteType};

pub static RULE: RuleInfo = RuleInfo {
    code: "hierarchy/missing-role",
    default_severity: Severity::Error,
    summary: "A site without a site server or database (error), or serving clients without a management or distribution point (warning)",
    docs: r#"## What it does
Reports, once for each missing role:
- as an **error**, a site with no server holding `site-server`, or with no `database`;
- as a **warning**, a site that client groups are assigned to (`clients site=...`) but
  that has no `management-point`, or no `distribution-point` (a
  `cloud-distribution-point` of the site counts).

## Why
Every site is a site server with a site database ("Ports used in Configuration
Manager", § Site server --> SQL Server). Clients download policy from a management
point and content from a distribution point of their site (§ Client --> management
point, § Client --> distribution point); without them, the group's flows have no
destination and the clients stay unmanaged. A model that leaves them out hides the very
flows the firewalls must allow.

## Example that fails
```kdl
site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="datacenter" {
        site-server
        sql-instance "MSSQLSERVER"
    }
}
clients "HQ desktops" site="P01" zone="hq"
```

## Fixed example
```kdl
site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="datacenter" {
        site-server
        sql-instance "MSSQLSERVER"
        management-point
        distribution-point
    }
}
clients "HQ desktops" site="P01" zone="hq"
```

## References

- [Ports used in Configuration Manager, Site server --> SQL Server](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_PortsSite-SQL)
- [Ports used in Configuration Manager, Client --> Management point](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_PortsClient-MP)
- [Ports used in Configuration Manager, Client --> Distribution point, both standard and pull](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_PortsClient-DP)
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); model.sites.len()];
    for (i, c) in model.clients.iter().enumerate() {
        if let Some(s) = model.site_id(&c.site.value) {
            groups[s].push(i);
        }
    }
    let mut cloud_dp = vec![false; model.sites.len()];
    for c in &model.cloud_services {
        if c.kind == CloudKind::DistributionPoint
            && let Some(s) = model.site_id(&c.site.value)
        {
            cloud_dp[s] = true;
        }
    }
    for (i, site) in model.sites.iter().enumerate() {
        let code = &site.code.value;
        let kind = site_kind(site.site_type);
        let has = |role: &str| site_has(model, i, role);
        if !has("site-server") {
            let help = match site.servers.first() {
                Some(&s) => format!(
                    "add `site-server` to the server that runs site {code}, e.g. {}",
                    model.servers[s].fqdn.value
                ),
                None => format!(
                    "add `server \"FQDN\" zone=\"ZONE\" {{ site-server }}` inside site {code}"
                ),
            };
            out.push(
                Diagnostic::new(
                    &RULE,
                    format!("{kind} {code} has no site server"),
                    Label::new(site.code.span, "no server holds `site-server`"),
                )
                .with_help(help),
            );
        }
        if site.database.is_none() {
            out.push(
                Diagnostic::new(
                    &RULE,
                    format!("{kind} {code} has no site database"),
                    Label::new(site.code.span, "no `database`"),
                )
                .with_help(format!(
                    "add `database server=\"FQDN\" instance=\"NAME\"` inside site {code}, naming a `sql-instance`"
                )),
            );
        }
        let served = &groups[i];
        // Clients of a central site are `hierarchy/role-placement`'s: it serves none.
        if served.is_empty() || site.site_type == SiteType::Central {
            continue;
        }
        for (role, what, present) in [
            (
                "management-point",
                "management point",
                has("management-point"),
            ),
            (
                "distribution-point",
                "distribution point",
                has("distribution-point") || cloud_dp[i],
            ),
        ] {
            if present {
                continue;
            }
            let names: Vec<String> = served
                .iter()
                .map(|&g| format!("\"{}\"", model.clients[g].name.value))
                .collect();
            let mut d = Diagnostic::new(
                &RULE,
                format!(
                    "{kind} {code} serves client groups {} but has no {what}",
                    names.join(", ")
                ),
                Label::new(site.code.span, format!("no `{role}`")),
            )
            .with_severity(Severity::Warning);
            for &g in served {
                d = d.with_label(Label::new(
                    model.clients[g].site.span,
                    "assigned to this site",
                ));
            }
            out.push(d.with_help(format!("add `{role}` to a server of site {code}")));
        }
    }
}

fn site_has(model: &Model, site: SiteId, role: &str) -> bool {
    model.sites[site]
        .servers
        .iter()
        .any(|&s| model.servers[s].has_role(role))
}
