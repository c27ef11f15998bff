//! `hierarchy/software-update-point`: a child site with a software update point under a
//! parent site without one.

use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::Model;

pub static RULE: RuleInfo = RuleInfo {
    code: "hierarchy/software-update-point",
    default_severity: Severity::Error,
    summary: "A child site has a software update point while its parent site has none",
    docs: r#"## What it does
Reports a site with a parent whose servers hold a `software-update-point` while no server
of the parent site holds one.

## Why
"Plan for software updates": *install the first software update point at the top-level
site*; a child site's software update point synchronizes from its parent site's
("Install a software update point": the software update point at a child primary site
synchronizes with the one at the central administration site, and a secondary's with its
primary's). Without one at the parent, the child's point has nothing to synchronize from
and cmflow computes no synchronization flow for it.

## Example that fails
```kdl
site "CAS" type="central" { /* no software-update-point */ }
site "P01" type="primary" parent="CAS" {
    server "sup01.contoso.com" zone="datacenter" { software-update-point; }
}
```

## Fixed example
```kdl
site "CAS" type="central" {
    server "sup00.contoso.com" zone="datacenter" { software-update-point; }
}
site "P01" type="primary" parent="CAS" {
    server "sup01.contoso.com" zone="datacenter" { software-update-point; }
}
```
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let sup_of = |site: usize| {
        model.sites[site].servers.iter().find_map(|&s| {
            model.servers[s]
                .role("software-update-point")
                .map(|r| (s, r.span))
        })
    };
    for (i, site) in model.sites.iter().enumerate() {
        let Some(parent) = model.parent_of(i) else {
            continue;
        };
        let Some((server, span)) = sup_of(i) else {
            continue;
        };
        if sup_of(parent).is_some() {
            continue;
        }
        let parent_site = &model.sites[parent];
        out.push(
            Diagnostic::new(
                &RULE,
                format!(
                    "site {} has a software update point ({}) but its parent site {} has none to synchronize from",
                    site.code.value, model.servers[server].fqdn.value, parent_site.code.value
                ),
                Label::new(span, "synchronizes from the parent site"),
            )
            .with_label(Label::new(
                parent_site.code.span,
                "no software update point here",
            ))
            .with_help(format!(
                "add `software-update-point` to a server of site {} (the top-level site's point synchronizes with Microsoft Update)",
                parent_site.code.value
            )),
        );
    }
}
