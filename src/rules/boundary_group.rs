//! `hierarchy/boundary-group`: boundary groups that cannot work as written (a site system
//! that serves nothing, a fallback to itself, two default groups for one site) and client
//! groups that boundary groups leave without content or outside every group.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::engine::boundary::{BOUNDARY_ROLES, BoundaryIndex, current_groups_of, serving_from};
use crate::model::{Boundary, Model};

pub static RULE: RuleInfo = RuleInfo {
    code: "hierarchy/boundary-group",
    default_severity: Severity::Error,
    summary: "A boundary group that cannot work as written, or client groups it leaves unserved",
    docs: r#"## What it does
Errors: a `site-system` whose server holds no distribution point, management point,
software update point or state migration point (the only roles boundary groups
decide); a `fallback` to the group itself; two boundary groups with `default-for` the
same site. Warnings: a client group in no boundary group while the model has boundary
groups (it uses its site's default site boundary group); two boundary groups with
overlapping boundaries assigned to different sites; a boundary group whose client groups
have no distribution point (none of its own and none through fallback).

## Why
Microsoft's "Boundary groups" articles: clients use the site systems *associated with*
their current boundary group, and only distribution points, software update points,
management points and state migration points follow boundary groups. A site has one
default site boundary group. "Overlapping boundaries" assigned to different sites make
site assignment unpredictable ("Configure boundary groups": *avoid overlapping
boundaries for site assignment*). A client whose groups list no distribution point and
fall back to none cannot download content.

## Example that fails
```kdl
boundary-group "HQ" site="P01" {
    boundary "10.1.0.0/16"
    site-system "sql01.contoso.com"
    fallback "HQ"
}
```
`sql01.contoso.com` holds no role that serves clients, and the group falls back to
itself.

## Fixed example
```kdl
boundary-group "HQ" site="P01" {
    boundary "10.1.0.0/16"
    site-system "dp01.contoso.com"
    fallback "Datacenter" distribution-point=120
}
```
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    if model.boundary_groups.is_empty() {
        return;
    }
    let warning = |d: Diagnostic| d.with_severity(Severity::Warning);
    for g in &model.boundary_groups {
        for s in &g.site_systems {
            let Some(server) = model.server(&s.value) else {
                continue; // schema/unknown-reference
            };
            if !BOUNDARY_ROLES.iter().any(|r| server.has_role(r)) {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        format!(
                            "boundary group \"{}\" lists {} as a site system, but it holds no distribution point, management point, software update point or state migration point",
                            g.name.value, server.fqdn.value
                        ),
                        Label::new(s.span, "serves nothing to clients"),
                    )
                    .with_label(Label::new(server.fqdn.span, "its roles"))
                    .with_help(format!(
                        "remove `site-system \"{}\"`, or name the server that holds the distribution point",
                        s.value
                    )),
                );
            }
        }
        for f in &g.fallbacks {
            if f.to.value == g.name.value {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        format!("boundary group \"{}\" falls back to itself", g.name.value),
                        Label::new(f.span, "a fallback to the group itself"),
                    )
                    .with_help("remove this `fallback`, or name a neighbour boundary group"),
                );
            }
        }
    }
    let mut defaults: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, g) in model.boundary_groups.iter().enumerate() {
        let Some(site) = &g.default_for else { continue };
        if let Some(&first) = defaults.get(site.value.as_str()) {
            out.push(
                Diagnostic::new(
                    &RULE,
                    format!(
                        "site {} has two default site boundary groups: \"{}\" and \"{}\"",
                        site.value, model.boundary_groups[first].name.value, g.name.value
                    ),
                    Label::new(site.span, "second default group"),
                )
                .with_label(Label::new(
                    model.boundary_groups[first]
                        .default_for
                        .as_ref()
                        .map_or(model.boundary_groups[first].span, |d| d.span),
                    "first default group",
                ))
                .with_help("a site has one default site boundary group: merge the two"),
            );
        } else {
            defaults.insert(&site.value, i);
        }
    }
    // Overlapping boundaries assigned to different sites: address spaces by a sweep over
    // their sorted starts, AD sites by name (a model may hold thousands of groups).
    let mut ranges: Vec<(bool, u128, u128, usize, usize)> = Vec::new();
    let mut ad_sites: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
    for (g, group) in model.boundary_groups.iter().enumerate() {
        if group.site.is_none() {
            continue;
        }
        for (b, boundary) in group.boundaries.iter().enumerate() {
            match boundary {
                Boundary::Range(r) => {
                    let (lo, hi, v4) = r.value.bounds();
                    ranges.push((v4, lo, hi, g, b));
                }
                Boundary::AdSite(name) => ad_sites.entry(&name.value).or_default().push((g, b)),
            }
        }
    }
    ranges.sort_unstable();
    let mut pairs: Vec<((usize, usize), (usize, usize))> = Vec::new();
    let mut active: Vec<(bool, u128, u128, usize, usize)> = Vec::new();
    for r in ranges {
        active.retain(|a| a.0 == r.0 && a.2 >= r.1);
        for a in &active {
            // Earlier group in file order first: the later one is the one reported.
            let (x, y) = ((a.3, a.4), (r.3, r.4));
            pairs.push(if x.0 <= y.0 { (x, y) } else { (y, x) });
        }
        active.push(r);
    }
    for list in ad_sites.values() {
        for (n, &x) in list.iter().enumerate() {
            for &y in &list[n + 1..] {
                pairs.push((x, y));
            }
        }
    }
    let mut reported = std::collections::BTreeSet::new();
    pairs.sort_unstable();
    for ((ga, ba), (gb, bb)) in pairs {
        let (a, b) = (&model.boundary_groups[ga], &model.boundary_groups[gb]);
        let (Some(sa), Some(sb)) = (&a.site, &b.site) else {
            continue;
        };
        if ga == gb || sa.value == sb.value || !reported.insert((ga.min(gb), ga.max(gb))) {
            continue;
        }
        let describe = |x: &Boundary| match x {
            Boundary::Range(r) => (r.span, r.value.to_string()),
            Boundary::AdSite(s) => (s.span, format!("AD site {}", s.value)),
        };
        let (span_a, text_a) = describe(&a.boundaries[ba]);
        let (span_b, text_b) = describe(&b.boundaries[bb]);
        out.push(warning(
            Diagnostic::new(
                &RULE,
                format!(
                    "boundary groups \"{}\" (site {}) and \"{}\" (site {}) overlap: {text_a} and {text_b}",
                    a.name.value, sa.value, b.name.value, sb.value
                ),
                Label::new(span_b, "overlaps a boundary assigned to another site"),
            )
            .with_label(Label::new(span_a, format!("assigned to {}", sa.value)))
            .with_help(
                "a client in both groups may be assigned to either site: make the boundaries disjoint, or assign both groups to one site",
            ),
        ));
    }
    // Client groups outside every boundary group, and groups without content.
    let mut unserved: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let index = BoundaryIndex::new(model);
    for (i, c) in model.clients.iter().enumerate() {
        if c.props.bool("internet") {
            continue;
        }
        let member = index.member_of(model, i);
        if member.is_empty() {
            out.push(warning(
                Diagnostic::new(
                    &RULE,
                    format!(
                        "client group \"{}\" is in no boundary group: it uses the default site boundary group of {}",
                        c.name.value, c.site.value
                    ),
                    Label::new(c.name.span, "no boundary covers it"),
                )
                .with_help(format!(
                    "add a `boundary` for its subnets to a boundary group, or write boundary-group=\"NAME\" on clients \"{}\"",
                    c.name.value
                )),
            ));
        }
        let current = current_groups_of(model, i, member);
        // A group in no boundary group and without a default group was reported above.
        if let Some(&g) = current.first()
            && serving_from(model, i, "distribution-point", &current, &[]).is_empty()
        {
            unserved.entry(g).or_default().push(i);
        }
    }
    for (g, clients) in unserved {
        let group = &model.boundary_groups[g];
        // Its distribution point, or its site's default group's, may be a server of a
        // file that does not parse, or one the model does not have (reported as an
        // unknown reference).
        let lost = |name: &str| model.unparsed_words.contains(name) || model.server(name).is_none();
        let mut reached = vec![g];
        let mut at = 0;
        while let Some(&r) = reached.get(at) {
            at += 1;
            for f in &model.boundary_groups[r].fallbacks {
                if let Some(t) = model
                    .boundary_groups
                    .iter()
                    .position(|b| b.name.value == f.to.value)
                    && !reached.contains(&t)
                {
                    reached.push(t);
                }
            }
        }
        let site_systems = reached
            .iter()
            .flat_map(|&r| &model.boundary_groups[r].site_systems);
        let site_lost = group
            .site
            .as_ref()
            .is_some_and(|s| model.unparsed_words.contains(&s.value));
        if site_lost || site_systems.into_iter().any(|s| lost(&s.value)) {
            continue;
        }
        let names: Vec<String> = clients
            .iter()
            .map(|&c| format!("\"{}\"", model.clients[c].name.value))
            .collect();
        out.push(warning(
            Diagnostic::new(
                &RULE,
                format!(
                    "boundary group \"{}\" has no distribution point, of its own or by fallback, for client groups {}",
                    group.name.value,
                    names.join(", ")
                ),
                Label::new(group.name.span, "no distribution point"),
            )
            .with_help(
                "add `site-system \"FQDN\"` naming a distribution point, or a `fallback` to a group that has one",
            ),
        ));
    }
}
