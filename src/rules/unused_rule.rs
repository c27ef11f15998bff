//! `firewall/unused-rule`: an `allow` rule that lets no required flow through.

use std::collections::HashSet;

use super::context::{Context, RuleKey};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::engine::{DecidedBy, Outcome};
use crate::model::Action;

pub static RULE: RuleInfo = RuleInfo {
    code: "firewall/unused-rule",
    default_severity: Severity::Warning,
    summary: "An allow rule permits no required flow",
    docs: r#"## What it does
Evaluates every required flow of every phase (operation, install and client
installation) and reports each `allow` rule, of a network firewall or of a Windows
Firewall, that decides none of them. A rule that earlier rules shadow is reported as
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
    for (key, _, action, span) in cx.all_rules() {
        if action != Action::Allow
            || usage.contains_key(&key)
            || shadowed.contains(&key)
            || undecided.contains(&key)
        {
            continue;
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
