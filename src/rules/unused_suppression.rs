//! `lint/unused-suppression`: a `suppress` child that silenced nothing.

use crate::diag::{Diagnostic, Label, RuleInfo, Severity, Suppression};

pub static RULE: RuleInfo = RuleInfo {
    code: "lint/unused-suppression",
    default_severity: Severity::Warning,
    summary: "A suppress node suppressed nothing",
    docs: r#"## What it does
Any node may carry `suppress "CODE" reason="why"` children: a diagnostic of that code
whose primary location is the node or lies inside it is not reported. A suppression that
silenced no diagnostic in the run is reported here.

## Why
Suppressions outlive the problems they hid: once the rule is fixed, a stale `suppress`
would silently hide the next, different finding of the same code at that place.

## Example that fails
```kdl
firewall "fw-core" default="deny" {
    zones "hq" "datacenter"
    allow "clients to MP" from="clients:HQ desktops" to="role:management-point" tcp="80,443" {
        suppress "firewall/overly-broad" reason="temporary, ticket 4711"
    }
}
```
The rule opens only what the clients use: nothing is suppressed.

## Fixed example
Remove the `suppress` node.
"#,
};

pub fn diagnostic(s: &Suppression) -> Diagnostic {
    Diagnostic::new(
        &RULE,
        format!("suppress \"{}\" suppressed nothing", s.code),
        Label::new(s.span, "no diagnostic of this code is reported here"),
    )
    .with_help("remove this `suppress`")
}
