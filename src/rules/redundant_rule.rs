//! `firewall/redundant-rule`: a Windows Firewall allow rule whose flows other allow rules
//! of the same firewall all allow.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::context::{Context, RuleKey};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::engine::{DecidedBy, Filter, RequiredFlow};
use crate::model::Action;

pub static RULE: RuleInfo = RuleInfo {
    code: "firewall/redundant-rule",
    default_severity: Severity::Info,
    summary: "A Windows Firewall allow rule whose flows other allow rules all allow",
    docs: r#"## What it does
On a Windows Firewall (which has no rule order: every matching allow rule permits a
flow), reports an `allow` rule when every required flow it matches is also matched by
another allow rule of the same host and direction that is not `firewall/overly-broad`
itself. Of exact duplicates (rules matching the same flows), every one after the first
in file order is reported.

## Why
Deleting such a rule changes no verdict, now or after narrowing the broad rules as
`firewall/overly-broad` advises. Fewer rules are easier to review; a duplicate left
behind is often the trace of a rule that was meant to be changed, not copied.

## Example that fails
```kdl
server "sql01.contoso.com" zone="datacenter" {
    sql-instance "MSSQLSERVER"
    windows-firewall {
        allow in "SQL Server" tcp="1433" from="role:site-server"
        allow in "SQL Server (copy)" tcp="1433" from="role:site-server"
    }
}
```

## Fixed example
```kdl
server "sql01.contoso.com" zone="datacenter" {
    sql-instance "MSSQLSERVER"
    windows-firewall {
        allow in "SQL Server" tcp="1433" from="role:site-server"
    }
}
```
"#,
};

/// `broad`: the rules `firewall/overly-broad` reports (they do not make others redundant).
pub fn check(cx: &Context<'_, '_>, broad: &[RuleKey], out: &mut Vec<Diagnostic>) {
    let model = cx.model;
    let mut by_host: HashMap<Filter, Vec<(usize, &RequiredFlow)>> = HashMap::new();
    let mut built = false;
    // Per host filter, its allow rules with the set of flows each matches.
    let mut rules: Vec<(RuleKey, BTreeSet<usize>, crate::model::Span)> = Vec::new();
    for (key, traffic, action, span) in cx.all_rules() {
        if cx.inexact(key) {
            continue;
        }
        if action != Action::Allow || matches!(key.0, Filter::Network(_)) {
            continue;
        }
        if !built {
            for (n, f) in cx.flows.iter().enumerate().filter(|(_, f)| !f.is_waived()) {
                by_host
                    .entry(Filter::HostOut(f.source))
                    .or_default()
                    .push((n, f));
                by_host
                    .entry(Filter::HostIn(f.destination))
                    .or_default()
                    .push((n, f));
            }
            built = true;
        }
        let profile = match key.0 {
            Filter::HostIn(e) | Filter::HostOut(e) => crate::engine::network_profile(model, e),
            Filter::Network(_) => String::new(),
        };
        let applies = key
            .0
            .host_firewall(model)
            .and_then(|fw| fw.rules.get(key.1))
            .is_none_or(|r| r.profiles.is_empty() || r.profiles.contains(&profile));
        let served: BTreeSet<usize> = if applies {
            by_host
                .get(&key.0)
                .map(|list| {
                    list.iter()
                        .filter(|(_, f)| crate::engine::intent::may_match(cx.net, traffic, f))
                        .map(|(n, _)| *n)
                        .collect()
                })
                .unwrap_or_default()
        } else {
            BTreeSet::new()
        };
        rules.push((key, served, span));
    }
    // Last to first: a rule is redundant when the rules still kept allow all its flows,
    // so that deleting every reported rule together changes no verdict, and of exact
    // duplicates the first in file order is the one kept.
    // Each rule is compared with the rules of its own filter only (in `rules` order), and
    // the broad rules are looked up, not scanned: thousands of host firewalls would
    // otherwise compare every pair of rules of the model.
    let broad: HashSet<RuleKey> = broad.iter().copied().collect();
    let mut same_filter: HashMap<Filter, Vec<usize>> = HashMap::new();
    for (o, (key, _, _)) in rules.iter().enumerate() {
        same_filter.entry(key.0).or_default().push(o);
    }
    let mut removed = vec![false; rules.len()];
    let mut found = Vec::new();
    for r in (0..rules.len()).rev() {
        let (key, served, _) = &rules[r];
        if served.is_empty() || broad.contains(key) {
            continue;
        }
        let peers = same_filter.get(&key.0).map_or(&[][..], Vec::as_slice);
        let covering = |flow: usize| {
            peers.iter().copied().find(|&o| {
                let (other, other_served, _) = &rules[o];
                o != r && !removed[o] && !broad.contains(other) && other_served.contains(&flow)
            })
        };
        if served.iter().all(|&f| covering(f).is_some()) {
            let by = served.iter().next().and_then(|&f| covering(f));
            removed[r] = true;
            found.push((r, by));
        }
    }
    found.reverse();
    for (r, by) in found {
        let (key, _, span) = &rules[r];
        let mut d = Diagnostic::new(
            &RULE,
            format!(
                "{} is redundant: other allow rules of this Windows Firewall allow every required flow it matches",
                cx.decider_name(key.0, DecidedBy::Rule(key.1))
            ),
            Label::new(*span, "deleting it changes no verdict"),
        );
        if let Some((other, _, other_span)) = by.map(|o| &rules[o]) {
            d = d.with_label(Label::new(
                *other_span,
                format!(
                    "{} allows its flows too",
                    cx.decider_name(other.0, DecidedBy::Rule(other.1))
                ),
            ));
        }
        out.push(d.with_help("delete this rule"));
    }
}
