//! `hierarchy/role-placement`: a site system role at a site that cannot host it.

use std::collections::HashMap;

use super::facts::site_kind;
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::{Model, ServerId, SiteId, SiteType, Span};

pub static RULE: RuleInfo = RuleInfo {
    code: "hierarchy/role-placement",
    default_severity: Severity::Error,
    summary: "A role at a site type that cannot host it, or a hierarchy-wide role misplaced or twice",
    docs: r#"## What it does
Checks every site system role against the site it belongs to:

| role | central | primary | secondary |
|---|---|---|---|
| `site-server`, site `database` | yes | yes | yes (the database on the site server) |
| `sms-provider` | yes | yes | no |
| `management-point` | no | yes (at most 15) | exactly one, on the site server |
| `distribution-point`, `state-migration-point` | no | yes | yes |
| `software-update-point` | yes | yes | at most one |
| `fallback-status-point`, `enrollment-point`, `enrollment-proxy-point`, `cmg-connection-point`, `application-catalog-website-point`, `application-catalog-web-service-point` | no | yes | no |
| `reporting-services-point`, `certificate-registration-point`, `cloud-management-gateway`, `cloud-distribution-point` | yes | yes | no |
| `service-connection-point`, `asset-intelligence-synchronization-point`, `endpoint-protection-point`, `data-warehouse-service-point` | top-level site only, once per hierarchy | | no |
| client groups (`clients site=`) | no | yes | yes |

The top-level site is the central administration site, or the primary site without a
parent when there is no central site.

## Why
Configuration Manager only offers each role at the site types above
(`core/plan-design/hierarchy/plan-for-site-system-servers-and-site-system-roles.md`
and the size and scale numbers, summarised in the product's `domain-facts.md`). A role
the console would never let you install means the model does not describe the real
hierarchy, and every flow computed for it (for example "Ports used in Configuration
Manager", § Service connection point --> Azure) is wrong.

## Example that fails
```kdl
site "CAS" type="central" { /* ... */ }
site "P01" type="primary" parent="CAS" {
    server "cm01.contoso.com" zone="datacenter" {
        site-server
        service-connection-point   // only at the top-level site, CAS
    }
}
```

## Fixed example
```kdl
site "CAS" type="central" {
    server "cas01.contoso.com" zone="datacenter" {
        site-server
        service-connection-point
    }
}
site "P01" type="primary" parent="CAS" {
    server "cm01.contoso.com" zone="datacenter" { site-server }
}
```

## References

- [Ports used in Configuration Manager, Service connection point --> Azure (CMG)](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#bkmk_scp-cmg)
"#,
};

/// Where a role may live.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Allowed {
    /// At these site types: central, primary, secondary.
    At(bool, bool, bool),
    /// Only at the top-level site, once in the hierarchy.
    TopLevelOnce,
}

fn allowed(role: &str) -> Option<Allowed> {
    use Allowed::{At, TopLevelOnce};
    Some(match role {
        "site-server" => At(true, true, true),
        "sms-provider" | "software-update-point" => At(true, true, role == "software-update-point"),
        "management-point" | "distribution-point" | "state-migration-point" => {
            At(false, true, true)
        }
        "fallback-status-point"
        | "enrollment-point"
        | "enrollment-proxy-point"
        | "cmg-connection-point"
        | "application-catalog-website-point"
        | "application-catalog-web-service-point" => At(false, true, false),
        "reporting-services-point"
        | "certificate-registration-point"
        | "cloud-management-gateway"
        | "cloud-distribution-point" => At(true, true, false),
        "service-connection-point"
        | "asset-intelligence-synchronization-point"
        | "endpoint-protection-point"
        | "data-warehouse-service-point" => TopLevelOnce,
        _ => return None,
    })
}

/// Management points a primary site supports.
const MAX_PRIMARY_MPS: usize = 15;

/// One placed role: what, where, and the span of its node.
struct Placed {
    role: &'static str,
    site: SiteId,
    server: Option<ServerId>,
    /// For a cloud service, its index in [`Model::cloud_services`].
    cloud: Option<usize>,
    span: Span,
}

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let roots = roots(model);
    let mut placed: Vec<Placed> = Vec::new();
    for (s, server) in model.servers.iter().enumerate() {
        let Some(site) = server.site else { continue };
        for role in &server.roles {
            placed.push(Placed {
                role: role.name,
                site,
                server: Some(s),
                cloud: None,
                span: role.span,
            });
        }
    }
    for (i, c) in model.cloud_services.iter().enumerate() {
        if let Some(site) = model.site_id(&c.site.value) {
            placed.push(Placed {
                role: c.kind.node_name(),
                site,
                server: None,
                cloud: Some(i),
                span: c.span,
            });
        }
    }
    let mut once: HashMap<(SiteId, &str), &Placed> = HashMap::new();
    let mut per_site: HashMap<(SiteId, &str), Vec<&Placed>> = HashMap::new();
    for p in &placed {
        let Some(rule) = allowed(p.role) else {
            continue;
        };
        let site = &model.sites[p.site];
        let ok = match rule {
            Allowed::At(c, pr, se) => match site.site_type {
                SiteType::Central => c,
                SiteType::Primary => pr,
                SiteType::Secondary => se,
            },
            Allowed::TopLevelOnce => {
                roots[p.site] == Some(p.site) && site.site_type != SiteType::Secondary
            }
        };
        if !ok {
            out.push(misplaced(model, p, rule, roots[p.site]));
            continue;
        }
        if rule == Allowed::TopLevelOnce {
            if let Some(first) = once.get(&(p.site, p.role)) {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        format!(
                            "a second `{}` in the hierarchy of {}, {}: a hierarchy has one",
                            p.role,
                            model.sites[p.site].code.value,
                            p.server.map_or_else(
                                || "as a cloud service".to_owned(),
                                |s| format!("on {}", model.servers[s].fqdn.value)
                            )
                        ),
                        Label::new(p.span, "second one"),
                    )
                    .with_label(Label::new(first.span, "first one"))
                    .with_help(format!("remove one of the two `{}` roles", p.role)),
                );
            } else {
                once.insert((p.site, p.role), p);
            }
        }
        per_site.entry((p.site, p.role)).or_default().push(p);
    }
    counts(model, &per_site, out);
    secondary_database(model, out);
    clients_at_central(model, out);
}

/// Clients are assigned to primary sites (and served by their secondaries); a central
/// administration site serves none.
fn clients_at_central(model: &Model, out: &mut Vec<Diagnostic>) {
    let primary = model
        .sites
        .iter()
        .find(|s| s.site_type == SiteType::Primary)
        .map(|s| s.code.value.as_str());
    for c in &model.clients {
        let Some(site) = model.site_id(&c.site.value) else {
            continue;
        };
        if model.sites[site].site_type != SiteType::Central {
            continue;
        }
        out.push(
            Diagnostic::new(
                &RULE,
                format!(
                    "client group \"{}\" is assigned to central administration site {}, which serves no clients",
                    c.name.value, c.site.value
                ),
                Label::new(c.site.span, "a central administration site"),
            )
            .with_help(match primary {
                Some(p) => format!("assign the group to a primary site, e.g. `site=\"{p}\"`"),
                None => "assign the group to a primary site".to_owned(),
            }),
        );
    }
}

/// The top-level site above each site (itself for a top-level site); `None` in a cycle of
/// parents (`hierarchy/parent` reports it).
fn roots(model: &Model) -> Vec<Option<SiteId>> {
    (0..model.sites.len())
        .map(|start| {
            let mut at = start;
            for _ in 0..=model.sites.len() {
                match model.parent_of(at) {
                    Some(p) => at = p,
                    None => return Some(at),
                }
            }
            None
        })
        .collect()
}

fn where_(model: &Model, p: &Placed) -> String {
    match p.server {
        Some(s) => format!("`{}` (on {})", p.role, model.servers[s].fqdn.value),
        None => format!(
            "`{}` \"{}\"",
            p.role,
            p.cloud
                .map_or("", |c| model.cloud_services[c].name.value.as_str())
        ),
    }
}

fn misplaced(model: &Model, p: &Placed, rule: Allowed, top: Option<SiteId>) -> Diagnostic {
    let site = &model.sites[p.site];
    let kind = site_kind(site.site_type);
    let type_label = Label::new(
        site.props.span_of("type", site.code.span),
        format!("{} is a {kind}", site.code.value),
    );
    match rule {
        Allowed::TopLevelOnce => {
            let top_code = top.map(|t| model.sites[t].code.value.clone());
            let message = format!(
                "{} must be at the top-level site{}, not at {kind} {}",
                where_(model, p),
                top_code.as_ref().map_or(String::new(), |t| format!(" {t}")),
                site.code.value,
            );
            Diagnostic::new(&RULE, message, Label::new(p.span, "not the top-level site"))
                .with_label(type_label)
                .with_help(match top_code {
                    Some(t) => format!("move `{}` to a server of site {t}", p.role),
                    None => format!("move `{}` to the top-level site", p.role),
                })
        }
        Allowed::At(c, pr, se) => {
            let mut can: Vec<&str> = Vec::new();
            if c {
                can.push("central");
            }
            if pr {
                can.push("primary");
            }
            if se {
                can.push("secondary");
            }
            Diagnostic::new(
                &RULE,
                format!(
                    "{kind} {} cannot host {}",
                    site.code.value,
                    where_(model, p),
                ),
                Label::new(p.span, format!("not at a {kind}")),
            )
            .with_label(type_label)
            .with_help(format!("move `{}` to a {} site", p.role, can.join(" or ")))
        }
    }
}

/// Management points per primary (at most 15) and per secondary (exactly one, on the
/// site server); software update points per secondary (at most one).
fn counts(
    model: &Model,
    per_site: &HashMap<(SiteId, &str), Vec<&Placed>>,
    out: &mut Vec<Diagnostic>,
) {
    let mut keys: Vec<&(SiteId, &str)> = per_site.keys().collect();
    keys.sort();
    for key in keys {
        let (site_id, role) = *key;
        let list = &per_site[key];
        let site = &model.sites[site_id];
        let limit = match (site.site_type, role) {
            (SiteType::Primary, "management-point") => MAX_PRIMARY_MPS,
            (SiteType::Secondary, "software-update-point") => 1,
            // Exactly one, on the site server: checked below.
            (SiteType::Secondary, "management-point") => usize::MAX,
            _ => continue,
        };
        if list.len() > limit {
            let extra = list[limit];
            out.push(
                Diagnostic::new(
                    &RULE,
                    format!(
                        "{} {} has {} {role} roles; it supports at most {limit}",
                        site_kind(site.site_type),
                        site.code.value,
                        list.len()
                    ),
                    Label::new(extra.span, format!("{role} number {}", limit + 1)),
                )
                .with_label(Label::new(list[0].span, "first one"))
                .with_help(format!(
                    "remove the {role} roles beyond {limit} from site {}",
                    site.code.value
                )),
            );
        }
        if site.site_type == SiteType::Secondary && role == "management-point" {
            for p in list {
                let Some(s) = p.server else { continue };
                if model.servers[s].has_role("site-server") {
                    continue;
                }
                let mut d = Diagnostic::new(
                    &RULE,
                    format!(
                        "secondary site {} has a management point on {}: a secondary site has exactly one, on its site server",
                        site.code.value, model.servers[s].fqdn.value
                    ),
                    Label::new(p.span, "not on the site server"),
                );
                if let Some(ss) = site_server(model, site_id) {
                    d = d.with_label(Label::new(ss, "the site server"));
                }
                out.push(d.with_help(format!(
                    "move `management-point` to the site server of secondary site {}",
                    site.code.value
                )));
            }
        }
    }
}

fn site_server(model: &Model, site: SiteId) -> Option<Span> {
    model.sites[site]
        .servers
        .iter()
        .find_map(|&s| model.servers[s].role("site-server").map(|r| r.span))
}

/// A secondary site's database is a SQL Server instance on its own site server.
fn secondary_database(model: &Model, out: &mut Vec<Diagnostic>) {
    for (i, site) in model.sites.iter().enumerate() {
        if site.site_type != SiteType::Secondary {
            continue;
        }
        let Some((r, _)) = &site.database else {
            continue;
        };
        let Some(db) = model.server_id(&r.server.value) else {
            continue;
        };
        let on_site_server =
            model.servers[db].site == Some(i) && model.servers[db].has_role("site-server");
        if on_site_server || site_server(model, i).is_none() {
            continue;
        }
        let ss = site
            .servers
            .iter()
            .find(|&&s| model.servers[s].has_role("site-server"));
        let mut d = Diagnostic::new(
            &RULE,
            format!(
                "the database of secondary site {} is on {}, not on its site server",
                site.code.value, r.server.value
            ),
            Label::new(r.server.span, "not the site server"),
        );
        if let Some(&ss) = ss {
            d = d
                .with_label(Label::new(
                    model.servers[ss].fqdn.span,
                    "the site server",
                ))
                .with_help(format!(
                    "install SQL Server Express on {} and set `database server=\"{}\" instance=\"CONFIGMGRSEC\"`",
                    model.servers[ss].fqdn.value, model.servers[ss].fqdn.value
                ));
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::rules::facts::findings;

    #[test]
    fn each_stand_alone_primary_is_a_top_level_site() {
        let kdl = r#"
zone "dc"
site "P01" type="primary" {
    server "a" zone="dc" { service-connection-point; }
}
site "P02" type="primary" {
    server "b" zone="dc" { service-connection-point; }
}
site "S01" type="secondary" parent="P02" {
    server "c" zone="dc" { service-connection-point; }
}
"#;
        assert_eq!(
            findings(check, kdl),
            [
                "10: `service-connection-point` (on c) must be at the top-level site P02, not at secondary site S01"
            ]
        );
    }

    #[test]
    fn a_primary_supports_fifteen_management_points() {
        let servers = (1..=16)
            .map(|i| format!("    server \"mp{i}\" zone=\"dc\" {{ management-point; }}"))
            .collect::<Vec<_>>()
            .join("\n");
        let kdl = format!("zone \"dc\"\nsite \"P01\" type=\"primary\" {{\n{servers}\n}}\n");
        assert_eq!(
            findings(check, &kdl),
            ["18: primary site P01 has 16 management-point roles; it supports at most 15"]
        );
    }
}
