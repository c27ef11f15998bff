//! `firewall/unused-rule`: an `allow` rule that lets no required flow through.

use std::collections::{HashMap, HashSet};

use super::context::{Context, RuleKey};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::engine::{DecidedBy, Filter, Outcome, RequiredFlow};
use crate::model::{Action, Span};

pub static RULE: RuleInfo = RuleInfo {
    code: "firewall/unused-rule",
    default_severity: Severity::Warning,
    summary: "An allow rule permits no required flow",
    docs: r#"## What it does
Evaluates every required flow of every phase (operation, install and client
installation) and reports each `allow` rule, of a network firewall or of a Windows
Firewall, that decides none of them. A Windows Firewall has no rule order: every allow
rule that matches a flow permits it, so one of its allow rules is unused only when no
required flow matches it at all (a broader rule matching the same flow does not make a
specific one unused). A rule that earlier rules shadow is reported as
`firewall/shadowed-rule` instead, and one whose match cannot be decided as
`firewall/indeterminate`.

## Why
Every open port is attack surface. An allow rule that Configuration Manager does not
need is either left over from an old design or meant for something the model does not
describe; either way it should be removed or explained.

## Example that fails
```kdl
firewall "fw-core" default="deny" {
    zones "hq" "datacenter"
    allow "clients to MP" from="clients:HQ desktops" to="role:management-point" tcp="80,443"
    allow "old telnet" from="zone:hq" to="zone:datacenter" tcp="23"
}
```

## Fixed example
Remove the rule. If something the model does not describe needs it, declare that with a
`flow` node, which makes it a required flow:
```kdl
flow "telnet to the lab switch" from="zone:hq" to="host:sw01.contoso.com" tcp="23"
```
"#,
};

pub fn check(cx: &Context<'_, '_>, shadowed: &HashSet<RuleKey>, out: &mut Vec<Diagnostic>) {
    let usage = cx.usage();
    // A rule whose match is undecidable is reported as `firewall/indeterminate`.
    let undecided: HashSet<RuleKey> = cx
        .verdicts
        .iter()
        .flat_map(|v| &v.decisions)
        .filter_map(|d| match (d.outcome, d.by) {
            (Outcome::Unknown, DecidedBy::Rule(i)) => Some((d.filter, i)),
            _ => None,
        })
        .collect();
    // Below an uncertain rule that left some flow undecided, a rule may be the one that
    // decides it when the uncertain rule does not match: per filter, the first such rule
    // (for a Windows Firewall, whose blocks come first whatever their order, any).
    let mut hidden_below: HashMap<Filter, usize> = HashMap::new();
    for &(filter, i) in &undecided {
        if cx.inexact((filter, i)) {
            let first = match filter {
                Filter::Network(_) => i,
                Filter::HostIn(_) | Filter::HostOut(_) => 0,
            };
            let slot = hidden_below.entry(filter).or_insert(first);
            *slot = (*slot).min(first);
        }
    }
    // Required flows by host and direction, for Windows Firewall rules (built on demand).
    let mut by_host: Option<HashMap<Filter, Vec<&RequiredFlow>>> = None;
    for (key, traffic, action, span) in cx.all_rules() {
        // The stand-in rule of a firewall whose source file cannot be read (unknown as a
        // whole, at the `source=` value) is no rule of the user's.
        if whole_unknown(cx, key, span) || cx.follows_from_input_errors(traffic) {
            continue;
        }
        if hidden_below.get(&key.0).is_some_and(|&first| {
            key.1 > first || matches!(key.0, Filter::HostIn(_) | Filter::HostOut(_))
        }) {
            continue;
        }
        if action != Action::Allow
            || usage.contains_key(&key)
            || shadowed.contains(&key)
            || undecided.contains(&key)
        {
            continue;
        }
        if !matches!(key.0, Filter::Network(_)) {
            let flows = by_host.get_or_insert_with(|| {
                let mut map: HashMap<Filter, Vec<&RequiredFlow>> = HashMap::new();
                for f in cx.flows.iter().filter(|f| !f.is_waived()) {
                    map.entry(Filter::HostOut(f.source)).or_default().push(f);
                    map.entry(Filter::HostIn(f.destination))
                        .or_default()
                        .push(f);
                }
                map
            });
            let profile = match key.0 {
                Filter::HostIn(e) | Filter::HostOut(e) => {
                    crate::engine::network_profile(cx.model, e)
                }
                Filter::Network(_) => String::new(),
            };
            let applies = key
                .0
                .host_firewall(cx.model)
                .and_then(|fw| fw.rules.get(key.1))
                .is_none_or(|r| r.profiles.is_empty() || r.profiles.contains(&profile));
            let matched = applies
                && flows.get(&key.0).is_some_and(|list| {
                    list.iter()
                        .any(|f| crate::engine::intent::may_match(cx.net, traffic, f))
                });
            if matched {
                continue;
            }
        }
        let (filter, i) = key;
        out.push(
            Diagnostic::new(
                &RULE,
                format!(
                    "{} allows no required flow",
                    cx.decider_name(filter, DecidedBy::Rule(i))
                ),
                Label::new(span, "nothing the model requires passes here"),
            )
            .with_help(
                "remove the rule; if something outside the model needs it, declare that with a \
                 `flow` node",
            ),
        );
    }
}

/// Whether a rule's whole span is the construct that makes it unknown: the stand-in the
/// loader gives a firewall whose `source` cannot be read.
fn whole_unknown(cx: &Context<'_, '_>, (filter, i): RuleKey, span: Span) -> bool {
    let uncertain = match filter {
        Filter::Network(f) => cx.model.firewalls[f].rules.get(i).and_then(|r| r.uncertain),
        _ => filter
            .host_firewall(cx.model)
            .and_then(|fw| fw.rules.get(i))
            .and_then(|r| r.uncertain),
    };
    uncertain == Some(span)
}
