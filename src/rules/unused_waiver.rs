//! `lint/unused-waiver`: a `waive` that matches no required flow of any phase.

use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::engine::waive::{waived_ports, waiver_names};

use super::Context;

pub static RULE: RuleInfo = RuleInfo {
    code: "lint/unused-waiver",
    default_severity: Severity::Warning,
    summary: "A waive node matches no required flow",
    docs: r#"## What it does
Reports a `waive` whose endpoints, ports and phase match no required flow of any phase
(whatever `--phase` selects).

## Why
A waiver says "this documented flow is not wanted here". One that matches nothing
(a typo in an endpoint, a port the catalog never requires, a role since removed) waives
nothing, and would silently waive a flow that a later change adds.

## Example that fails
```kdl
waive "admin workstations are offline" from="zone:admin" to="zone:internet" tcp="8080"
```
Consoles reach the Internet on TCP 80 and 443, not 8080.

## Fixed example
```kdl
waive "admin workstations are offline" from="zone:admin" to="zone:internet" tcp="80,443"
```
"#,
};

pub fn check(cx: &Context<'_, '_>, out: &mut Vec<Diagnostic>) {
    let model = cx.model;
    if model.waivers.is_empty() {
        return;
    }
    let mut used = vec![false; model.waivers.len()];
    for flow in cx.flows {
        if let Some(w) = flow.waived_by {
            used[w] = true;
        }
    }
    for (w, waiver) in model.waivers.iter().enumerate() {
        if used[w] {
            continue;
        }
        // A later waiver over flows an earlier one already waives still matches them.
        let matches = cx
            .flows
            .iter()
            .any(|f| waiver_names(cx.net, waiver, f) && !waived_ports(model, waiver, f).is_empty());
        if !matches {
            out.push(
                Diagnostic::new(
                    &RULE,
                    format!("waive \"{}\" matches no required flow", waiver.reason.value),
                    Label::new(waiver.span, "waives nothing"),
                )
                .with_help("check its endpoints and ports against `cmflow flows`, or remove it"),
            );
        }
    }
}
