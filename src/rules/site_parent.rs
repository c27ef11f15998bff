//! `hierarchy/parent`: a site tree Configuration Manager cannot build.

use super::facts::site_kind;
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::{Model, SiteId, SiteType};

pub static RULE: RuleInfo = RuleInfo {
    code: "hierarchy/parent",
    default_severity: Severity::Error,
    summary: "A site's parent is not what its type requires, or the parents form a cycle",
    docs: r#"## What it does
Checks the `parent` of every `site` against its `type`:
- at most one central administration site (`type="central"`), and it has no parent;
- a primary site has no parent, or the central site as its parent; once a central site
  exists, every primary site must name it;
- a secondary site has a primary site as its parent;
- parents never form a cycle.

## Why
A hierarchy has one top-level site: a central administration site with child primary
sites, or a stand-alone primary site. Secondary sites attach to a primary site, never to
a central or secondary site (Microsoft's "Design a hierarchy of sites"; the scale limits
of `domain-facts.md`: 1 central site, up to 25 child primaries, secondaries only below
primaries). The ports documents rely on this tree: "Ports used in Configuration
Manager", § Site server <--> site server (SMB 445, SQL 1433 and Service Broker 4022
between a site and its parent), and "How to configure client communication ports":
secondary sites inherit their parent primary's client ports.

## Example that fails
```kdl
site "CAS" type="central"
site "P01" type="primary"              // a primary beside a central site
site "S01" type="secondary" parent="CAS"
```

## Fixed example
```kdl
site "CAS" type="central"
site "P01" type="primary" parent="CAS"
site "S01" type="secondary" parent="P01"
```

## References

- [Ports used in Configuration Manager, Site server <--> Site server](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_PortsSite-Site)
- [How to configure client communication ports in Configuration Manager](https://learn.microsoft.com/en-us/intune/configmgr/core/clients/deploy/configure-client-communication-ports)
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let in_cycle = cycles(model, out);
    let centrals: Vec<SiteId> = (0..model.sites.len())
        .filter(|&i| model.sites[i].site_type == SiteType::Central)
        .collect();
    for &extra in centrals.iter().skip(1) {
        let site = &model.sites[extra];
        let first = &model.sites[centrals[0]];
        out.push(
            Diagnostic::new(
                &RULE,
                format!(
                    "site {} is a second central administration site: a hierarchy has one",
                    site.code.value
                ),
                Label::new(
                    site.props.span_of("type", site.code.span),
                    "second central site",
                ),
            )
            .with_label(Label::new(
                first.props.span_of("type", first.code.span),
                format!("the central site is {}", first.code.value),
            ))
            .with_help(format!(
                "make {} a primary site under {}: `type=\"primary\" parent=\"{}\"`",
                site.code.value, first.code.value, first.code.value
            )),
        );
    }
    let central = centrals.first().copied();
    for (i, site) in model.sites.iter().enumerate() {
        // A second central site is reported above; its parent is part of that mistake.
        if in_cycle[i] || centrals.iter().skip(1).any(|&c| c == i) {
            continue;
        }
        let parent = model.parent_of(i);
        // A parent that does not exist is `schema/unknown-reference`'s.
        if site.parent.is_some() && parent.is_none() {
            continue;
        }
        let code = &site.code.value;
        let type_span = site.props.span_of("type", site.code.span);
        let parent_label =
            |text: String| Label::new(site.parent.as_ref().map_or(type_span, |p| p.span), text);
        match (site.site_type, parent) {
            (SiteType::Central, Some(p)) => out.push(
                Diagnostic::new(
                    &RULE,
                    format!("central administration site {code} has a parent site"),
                    parent_label(format!("parent {}", model.sites[p].code.value)),
                )
                .with_help(format!(
                    "remove `parent=\"{}\"` from site {code}",
                    model.sites[p].code.value
                ))
                .with_optional_fix(site.parent.as_ref().and_then(|v| {
                    crate::diag::fix::delete_property(
                        &model.sources.get(v.span.source).text,
                        v.span,
                        "parent",
                    )
                })),
            ),
            (SiteType::Primary, None) => {
                if let Some(c) = central {
                    let central = &model.sites[c];
                    out.push(
                        Diagnostic::new(
                            &RULE,
                            format!(
                                "primary site {code} has no parent while {} is the central administration site",
                                central.code.value
                            ),
                            Label::new(site.code.span, "no parent"),
                        )
                        .with_label(Label::new(
                            central.props.span_of("type", central.code.span),
                            "the central site",
                        ))
                        .with_help(format!(
                            "add `parent=\"{}\"` to site {code}",
                            central.code.value
                        ))
                        // Written after the site code; certain when the hierarchy has
                        // one central site.
                        .with_optional_fix((centrals.len() == 1).then(|| crate::diag::Fix {
                            span: crate::model::Span::new(
                                site.code.span.source,
                                site.code.span.end,
                                site.code.span.end,
                            ),
                            replacement: format!(
                                " parent={}",
                                crate::escape::kdl::string(&central.code.value)
                            ),
                        })),
                    );
                }
            }
            (SiteType::Primary, Some(p)) if model.sites[p].site_type != SiteType::Central => {
                let help = central.map_or_else(
                    || format!("remove `parent` from site {code}: without a central site, a primary site stands alone"),
                    |c| format!("set `parent=\"{}\"` (the central site)", model.sites[c].code.value),
                );
                out.push(wrong_parent(
                    model,
                    i,
                    p,
                    "the central administration site",
                    help,
                ));
            }
            (SiteType::Secondary, None) => out.push(
                Diagnostic::new(
                    &RULE,
                    format!("secondary site {code} has no parent primary site"),
                    Label::new(type_span, "secondary site without parent"),
                )
                .with_help(primary_help(model, code)),
            ),
            (SiteType::Secondary, Some(p)) if model.sites[p].site_type != SiteType::Primary => {
                out.push(wrong_parent(
                    model,
                    i,
                    p,
                    "a primary site",
                    primary_help(model, code),
                ));
            }
            _ => {}
        }
    }
}

/// `site`'s parent `parent` is not of the type its own type requires (`expected`).
fn wrong_parent(
    model: &Model,
    site: SiteId,
    parent: SiteId,
    expected: &str,
    help: String,
) -> Diagnostic {
    let s = &model.sites[site];
    let p = &model.sites[parent];
    let kind = site_kind(s.site_type);
    let parent_kind = site_kind(p.site_type);
    Diagnostic::new(
        &RULE,
        format!(
            "{kind} {} has parent {}, a {parent_kind}: a {kind}'s parent is {expected}",
            s.code.value, p.code.value
        ),
        Label::new(
            s.parent.as_ref().map_or(s.code.span, |p| p.span),
            format!("a {parent_kind}"),
        ),
    )
    .with_help(help)
}

fn primary_help(model: &Model, code: &str) -> String {
    match model
        .sites
        .iter()
        .find(|s| s.site_type == SiteType::Primary)
    {
        Some(p) => format!(
            "set `parent=\"{}\"` (a primary site) on site {code}",
            p.code.value
        ),
        None => format!("add a primary site and name it as the `parent` of site {code}"),
    }
}

/// Reports each cycle of parents once (on the site declared first) and marks its sites,
/// whose type checks would only repeat the same mistake.
fn cycles(model: &Model, out: &mut Vec<Diagnostic>) -> Vec<bool> {
    let n = model.sites.len();
    let mut in_cycle = vec![false; n];
    // 0 = unvisited, 1 = on the current walk, 2 = done.
    let mut state = vec![0u8; n];
    for start in 0..n {
        let mut walk = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            match state[i] {
                2 => break,
                1 => {
                    let from = walk.iter().position(|&w| w == i).unwrap_or(0);
                    let cycle = &walk[from..];
                    for &c in cycle {
                        in_cycle[c] = true;
                    }
                    out.push(cycle_diagnostic(model, cycle));
                    break;
                }
                _ => {
                    state[i] = 1;
                    walk.push(i);
                    at = model.parent_of(i);
                }
            }
        }
        for w in walk {
            state[w] = 2;
        }
    }
    in_cycle
}

fn cycle_diagnostic(model: &Model, cycle: &[SiteId]) -> Diagnostic {
    let first = *cycle.iter().min().unwrap_or(&cycle[0]);
    let at = cycle.iter().position(|&c| c == first).unwrap_or(0);
    let ordered: Vec<SiteId> = cycle[at..].iter().chain(&cycle[..at]).copied().collect();
    let mut path: Vec<&str> = ordered
        .iter()
        .map(|&s| model.sites[s].code.value.as_str())
        .collect();
    path.push(path[0]);
    let span_of = |s: SiteId| {
        let site = &model.sites[s];
        site.parent.as_ref().map_or(site.code.span, |p| p.span)
    };
    let mut d = Diagnostic::new(
        &RULE,
        format!("site parents form a cycle: {}", path.join(" -> ")),
        Label::new(span_of(first), "parent of the cycle"),
    );
    for &s in &ordered[1..] {
        d = d.with_label(Label::new(span_of(s), "and this parent"));
    }
    d.with_help(
        "remove `parent` from the site meant to be the top of this branch (a central or a stand-alone primary site has none)",
    )
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::rules::facts::findings;

    #[test]
    fn a_cycle_of_three_is_one_finding_and_its_sites_are_not_checked_again() {
        let found = findings(
            check,
            r#"
site "P01" type="primary" parent="S01"
site "P02" type="primary" parent="P01"
site "S01" type="secondary" parent="P02"
site "P03" type="primary" parent="P03"
"#,
        );
        assert_eq!(
            found,
            [
                "2: site parents form a cycle: P01 -> S01 -> P02 -> P01",
                "5: site parents form a cycle: P03 -> P03",
            ]
        );
    }

    /// The model's text with each diagnostic's fix applied alone, in order.
    fn fixed(text: &str) -> Vec<String> {
        let model = crate::engine::test_model(text);
        let mut out = Vec::new();
        check(&model, &mut out);
        out.iter()
            .filter_map(|d| {
                let fix = d.fix.as_ref()?;
                let mut edited = text.to_owned();
                edited.replace_range(fix.span.start..fix.span.end, &fix.replacement);
                Some(edited)
            })
            .collect()
    }

    #[test]
    fn the_fixes_remove_a_central_sites_parent_and_give_a_primary_the_central_site() {
        assert_eq!(
            fixed("site \"CAS\" type=\"central\" parent=\"P01\"\nsite \"P01\" type=\"primary\"\n"),
            [
                "site \"CAS\" type=\"central\"\nsite \"P01\" type=\"primary\"\n",
                // P01 is also a primary without parent.
                "site \"CAS\" type=\"central\" parent=\"P01\"\nsite \"P01\" parent=\"CAS\" type=\"primary\"\n",
            ]
        );
        assert_eq!(
            fixed("site \"CAS\" type=\"central\"\nsite \"P01\" type=\"primary\" {\n}\n"),
            ["site \"CAS\" type=\"central\"\nsite \"P01\" parent=\"CAS\" type=\"primary\" {\n}\n"]
        );
        // Two central sites: which one is the parent is not certain.
        assert_eq!(
            fixed(
                "site \"C1\" type=\"central\"\nsite \"C2\" type=\"central\"\nsite \"P01\" type=\"primary\"\n"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_stand_alone_primary_needs_no_parent_but_a_child_primary_needs_the_central_site() {
        assert!(findings(check, r#"site "P01" type="primary""#).is_empty());
        assert_eq!(
            findings(
                check,
                r#"
site "CAS" type="central"
site "P01" type="primary" parent="CAS"
site "P02" type="primary" parent="P01"
"#
            ),
            [
                "4: primary site P02 has parent P01, a primary site: a primary site's parent is the central administration site"
            ]
        );
    }

    #[test]
    fn a_parent_that_does_not_exist_is_left_to_the_reference_check() {
        let model = crate::load::load_texts(
            vec![(
                "m.kdl".into(),
                b"site \"CAS\" type=\"central\"\nsite \"P01\" type=\"primary\" parent=\"CA\"\n"
                    .to_vec(),
                false,
            )],
            crate::rules::SPEC_CODES,
        )
        .model;
        let mut out = Vec::new();
        check(&model, &mut out);
        assert!(out.is_empty(), "{out:#?}");
    }
}
