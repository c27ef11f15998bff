//! The checks and their registry. Each check lives in its own file with its code, default
//! severity and documentation ([`RuleInfo`]); [`RULES`] lists every check cmflow runs,
//! including the input checks the loader performs. `cmflow rules`, `cmflow explain`,
//! SARIF and `docs/rules.md` all read this one list.
//!
//! Rules read the model and the engine's results and push diagnostics; they never print.

mod blocked_flow;
mod context;
mod forbidden_flow;
mod indeterminate;
mod no_path;
mod overly_broad;
mod policy_conflict;
mod shadowed_rule;
mod sql_browser_port;
mod unused_rule;
pub mod unused_suppression;

pub use context::Context;

use crate::diag::{Diagnostic, RuleInfo};
use crate::load::codes;

/// Every rule cmflow reports, in the order of `rules.md`.
pub static RULES: &[&RuleInfo] = &[
    &codes::KDL_SYNTAX,
    &codes::UNKNOWN_NODE,
    &codes::UNKNOWN_PROPERTY,
    &codes::INVALID_VALUE,
    &codes::MISSING_VALUE,
    &codes::DUPLICATE_NAME,
    &codes::UNKNOWN_REFERENCE,
    &sql_browser_port::RULE,
    &blocked_flow::RULE,
    &no_path::RULE,
    &unused_rule::RULE,
    &shadowed_rule::RULE,
    &indeterminate::RULE,
    &overly_broad::RULE,
    &forbidden_flow::RULE,
    &policy_conflict::RULE,
    &unused_suppression::RULE,
];

/// Runs every check over the model and its evaluated flows.
pub fn run(cx: &Context<'_, '_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let shadowed = shadowed_rule::find(cx);
    blocked_flow::check(cx, &mut out);
    no_path::check(cx, &mut out);
    indeterminate::check(cx, &mut out);
    shadowed_rule::check(cx, &shadowed, &mut out);
    unused_rule::check(cx, &shadowed_rule::keys(&shadowed), &mut out);
    overly_broad::check(cx, &mut out);
    sql_browser_port::check(cx, &mut out);
    forbidden_flow::check(cx, &mut out);
    policy_conflict::check(cx, &mut out);
    out
}

/// Every code of `rules.md`, including checks that later versions add: `lint` and
/// `suppress` may name any of them.
pub const SPEC_CODES: &[&str] = &[
    "kdl/syntax",
    "schema/unknown-node",
    "schema/unknown-property",
    "schema/invalid-value",
    "schema/missing-value",
    "schema/duplicate-name",
    "schema/unknown-reference",
    "hierarchy/site-code",
    "hierarchy/parent",
    "hierarchy/role-placement",
    "hierarchy/missing-role",
    "hierarchy/server-in-two-sites",
    "ports/secondary-override",
    "ports/non-default-client-ports",
    "ports/internet-https",
    "ports/conflict",
    "ports/alternate-same",
    "wsus/https-port",
    "sql/dynamic-port",
    "sql/shared-instance",
    "sql/duplicate-port",
    "sql/browser-port",
    "firewall/blocked-flow",
    "firewall/no-path",
    "firewall/unused-rule",
    "firewall/shadowed-rule",
    "firewall/indeterminate",
    "firewall/overly-broad",
    "policy/forbidden-flow",
    "policy/conflict",
    "lint/unused-suppression",
];

/// The rule with this code.
pub fn find(code: &str) -> Option<&'static RuleInfo> {
    RULES.iter().copied().find(|r| r.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_codes_are_unique_documented_and_in_the_spec() {
        let mut seen = std::collections::HashSet::new();
        for rule in RULES {
            assert!(seen.insert(rule.code), "duplicate code {}", rule.code);
            assert!(
                SPEC_CODES.contains(&rule.code),
                "{} is not a rules.md code",
                rule.code
            );
            for section in [
                "## What it does",
                "## Why",
                "## Example that fails",
                "## How to fix",
            ] {
                assert!(rule.docs.contains(section), "{} lacks {section}", rule.code);
            }
            assert!(
                !rule.summary.ends_with('.'),
                "{}: summary ends with a period",
                rule.code
            );
        }
    }
}
