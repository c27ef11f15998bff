//! The checks and their registry. Each check lives in its own file with its code, default
//! severity and documentation ([`RuleInfo`]); [`RULES`] lists every check cmflow runs,
//! including the input checks the loader performs. `cmflow rules`, `cmflow explain`,
//! SARIF and `docs/rules.md` all read this one list.
//!
//! Rules read the model and the engine's results and push diagnostics; they never print.

mod alternate_same;
mod blocked_flow;
mod boundary_group;
mod cmg_management_point;
mod context;
mod facts;
mod forbidden_flow;
mod indeterminate;
mod internet_https;
mod missing_role;
mod no_path;
mod non_default_client_ports;
mod overly_broad;
mod policy_conflict;
mod port_conflict;
mod redundant_rule;
mod removed_role;
mod role_placement;
mod secondary_override;
mod server_in_two_sites;
mod shadowed_rule;
mod site_code;
mod site_parent;
mod software_update_point;
mod sql_browser_port;
mod sql_duplicate_port;
mod sql_dynamic_port;
mod sql_shared_instance;
mod unused_rule;
pub mod unused_suppression;
mod unused_waiver;
mod wsus_https_port;

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
    &site_code::RULE,
    &site_parent::RULE,
    &role_placement::RULE,
    &missing_role::RULE,
    &server_in_two_sites::RULE,
    &secondary_override::RULE,
    &non_default_client_ports::RULE,
    &internet_https::RULE,
    &port_conflict::RULE,
    &alternate_same::RULE,
    &wsus_https_port::RULE,
    &sql_dynamic_port::RULE,
    &sql_shared_instance::RULE,
    &sql_duplicate_port::RULE,
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
    &boundary_group::RULE,
    &software_update_point::RULE,
    &cmg_management_point::RULE,
    &removed_role::RULE,
    &redundant_rule::RULE,
    &codes::SOURCE_UNSUPPORTED,
    &codes::SOURCE_PARSE,
    &unused_waiver::RULE,
];

/// A check that reads the model alone.
type ModelCheck = fn(&crate::model::Model, &mut Vec<Diagnostic>);

/// Runs every check over the model and its evaluated flows. The checks of the verdicts
/// and the checks of the rules run side by side (they share nothing but the context's
/// caches); the diagnostics come out in the same order as [`run_timed`]'s.
pub fn run(cx: &Context<'_, '_>) -> Vec<Diagnostic> {
    let (mut out, rest) = rayon::join(|| run_model(cx.model, &mut |_| {}), || run_over_flows(cx));
    out.extend(rest);
    out
}

/// The checks that read the model alone (the hierarchy, its ports and SQL instances,
/// boundary groups, the catalog), neither the firewalls, the policies nor the flows:
/// the first diagnostics of [`run`], in the same order. The language server takes them
/// over when an edit leaves what they read unchanged.
pub fn run_model(model: &crate::model::Model, done: &mut dyn FnMut(&str)) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (rule, check) in MODEL_CHECKS {
        check(model, &mut out);
        done(rule.code);
    }
    out
}

/// The rest of [`run`], after [`run_model`]'s diagnostics.
pub fn run_over_flows(cx: &Context<'_, '_>) -> Vec<Diagnostic> {
    let mut out = waiver_checks(cx, &mut |_| {});
    let (verdicts, rules) = rayon::join(
        || verdict_checks(cx, &mut |_| {}),
        || rule_checks(cx, &mut |_| {}),
    );
    out.extend(verdicts);
    out.extend(rules);
    out.extend(policy_checks(cx, &mut |_| {}));
    out
}

/// [`run`] one check after another (so that each time is its own), calling `done` with
/// the name of each check (its code) or shared step when it finishes, in order:
/// `CMFLOW_TIMINGS` prints the time of each (`cli::check`).
pub fn run_timed(cx: &Context<'_, '_>, done: &mut dyn FnMut(&str)) -> Vec<Diagnostic> {
    let mut out = run_model(cx.model, done);
    out.extend(run_over_flows_timed(cx, done));
    out
}

/// [`run_over_flows`] one check after another, as [`run_timed`].
pub fn run_over_flows_timed(cx: &Context<'_, '_>, done: &mut dyn FnMut(&str)) -> Vec<Diagnostic> {
    let mut out = waiver_checks(cx, done);
    out.extend(verdict_checks(cx, done));
    out.extend(rule_checks(cx, done));
    out.extend(policy_checks(cx, done));
    out
}

/// The checks of the model alone ([`run_model`]), in the order of `rules.md`.
const MODEL_CHECKS: [(&RuleInfo, ModelCheck); 18] = [
    (&site_code::RULE, site_code::check),
    (&site_parent::RULE, site_parent::check),
    (&role_placement::RULE, role_placement::check),
    (&missing_role::RULE, missing_role::check),
    (&server_in_two_sites::RULE, server_in_two_sites::check),
    (&secondary_override::RULE, secondary_override::check),
    (
        &non_default_client_ports::RULE,
        non_default_client_ports::check,
    ),
    (&internet_https::RULE, internet_https::check),
    (&port_conflict::RULE, port_conflict::check),
    (&alternate_same::RULE, alternate_same::check),
    (&wsus_https_port::RULE, wsus_https_port::check),
    (&sql_dynamic_port::RULE, sql_dynamic_port::check),
    (&sql_shared_instance::RULE, sql_shared_instance::check),
    (&sql_duplicate_port::RULE, sql_duplicate_port::check),
    (&removed_role::RULE, removed_role::check),
    (&boundary_group::RULE, boundary_group::check),
    (&software_update_point::RULE, software_update_point::check),
    (&cmg_management_point::RULE, cmg_management_point::check),
];

/// The check of waivers, which reads the flows.
fn waiver_checks(cx: &Context<'_, '_>, done: &mut dyn FnMut(&str)) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    unused_waiver::check(cx, &mut out);
    done(unused_waiver::RULE.code);
    out
}

/// The checks of the flows' verdicts: blocked, unrouted, undecided.
fn verdict_checks(cx: &Context<'_, '_>, done: &mut dyn FnMut(&str)) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    blocked_flow::check(cx, &mut out);
    done(blocked_flow::RULE.code);
    no_path::check(cx, &mut out);
    done(no_path::RULE.code);
    indeterminate::check(cx, &mut out);
    done(indeterminate::RULE.code);
    out
}

/// The checks of the firewall rules themselves: shadowed, unused, too broad, redundant.
fn rule_checks(cx: &Context<'_, '_>, done: &mut dyn FnMut(&str)) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // The two analyses these checks share, computed here so that their time is not
    // charged to whichever check asks first.
    cx.rule_spaces();
    done("(rule spaces)");
    cx.usage();
    done("(rule usage)");
    let shadowed = shadowed_rule::find(cx);
    done("(shadowed rules)");
    shadowed_rule::check(cx, &shadowed, &mut out);
    done(shadowed_rule::RULE.code);
    unused_rule::check(cx, &shadowed_rule::keys(&shadowed), &mut out);
    done(unused_rule::RULE.code);
    let broad = overly_broad::check(cx, &mut out);
    done(overly_broad::RULE.code);
    redundant_rule::check(cx, &broad, &mut out);
    done(redundant_rule::RULE.code);
    out
}

/// The checks of SQL Server Browser, forbids and policies over the flows.
fn policy_checks(cx: &Context<'_, '_>, done: &mut dyn FnMut(&str)) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    sql_browser_port::check(cx, &mut out);
    done(sql_browser_port::RULE.code);
    forbidden_flow::check(cx, &mut out);
    done(forbidden_flow::RULE.code);
    policy_conflict::check(cx, &mut out);
    done(policy_conflict::RULE.code);
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
    "hierarchy/boundary-group",
    "hierarchy/software-update-point",
    "hierarchy/cmg-management-point",
    "catalog/removed-role",
    "firewall/redundant-rule",
    "source/unsupported",
    "source/parse",
    "lint/unused-waiver",
];

/// Codes of `rules.md` that no check reports yet (none since the firewall `source`
/// readers). [`RULES`] is [`SPEC_CODES`] without these, in order; `lint` and `suppress`
/// may already name them.
pub const PENDING_CODES: &[&str] = &[];

/// `docs/rules.md`: the index of every rule and each rule's documentation, generated from
/// [`RULES`] (a test keeps the file in sync; `CMFLOW_UPDATE_DOCS=1 cargo test` rewrites it).
pub fn markdown() -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "# Rules\n\n<!-- Generated from the rule registry (src/rules/); do not edit. \
         Regenerate with `CMFLOW_UPDATE_DOCS=1 cargo test --test rules`. -->\n\n\
         Every check cmflow runs, with its code and default severity (`lint { severity \"CODE\" \"LEVEL\" }` \
         changes it). `cmflow explain CODE` prints the same text.\n\n\
         | code | default | summary |\n|---|---|---|\n",
    );
    for rule in RULES {
        let _ = writeln!(
            out,
            "| [`{}`](#{}) | {} | {} |",
            rule.code,
            rule.anchor(),
            rule.default_severity,
            rule.summary
        );
    }
    for rule in RULES {
        let _ = write!(
            out,
            "\n<a id=\"{}\"></a>\n\n## `{}`\n\nDefault severity: {}. {}.\n\n{}\n",
            rule.anchor(),
            rule.code,
            rule.default_severity,
            rule.summary,
            rule.docs
                .trim_end()
                .replace("\n## ", "\n### ")
                .replacen("## ", "### ", 1)
        );
    }
    out
}

/// The rule with this code.
pub fn find(code: &str) -> Option<&'static RuleInfo> {
    RULES.iter().copied().find(|r| r.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The side-by-side run and the timed run give the same diagnostics in the same order,
    /// on models with findings of every kind of check.
    #[test]
    fn run_gives_what_run_timed_gives() {
        use crate::engine::{Network, Phase, evaluate, required_flows};
        for dir in [
            "examples/broken",
            "examples/contoso",
            "examples/aerleon-repo",
        ] {
            let inputs = crate::load::Inputs {
                paths: vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)],
                stdin: None,
            };
            let loaded = crate::load::load(&inputs, SPEC_CODES).expect("the example loads");
            let model = &loaded.model;
            let flows = required_flows(model, &Phase::ALL);
            let net = Network::new(model);
            let verdicts = evaluate(&net, &flows);
            let cx = Context::new(model, &net, &flows, &verdicts, &Phase::ALL);
            let mut steps = Vec::new();
            let timed = run_timed(&cx, &mut |step| steps.push(step.to_owned()));
            assert_eq!(run(&cx), timed, "{dir}");
            assert_eq!(
                steps.first().map(String::as_str),
                Some("hierarchy/site-code")
            );
            assert_eq!(steps.last().map(String::as_str), Some("policy/conflict"));
        }
    }

    #[test]
    fn rules_that_cite_sections_link_them_on_microsoft_learn() {
        let ports = crate::catalog::seed_url("001");
        // The article's notes and its SQL Server heading, which are no catalog section.
        let headings = ["bkmk_note2", "bkmk_note3", "bkmk_note5", "BKMK_SQLPorts"];
        let catalog = crate::catalog::builtin();
        for rule in RULES {
            let cites = rule.docs.contains('§') || rule.docs.contains("Note ");
            let references = rule.docs.split("## References").nth(1);
            assert_eq!(
                cites,
                references.is_some(),
                "{}: a rule citing a section has a References section, and only such a rule",
                rule.code
            );
            for link in rule.docs.split("](").skip(1) {
                let url = link.split(')').next().unwrap_or_default();
                let Some(anchor) = url.strip_prefix(ports).and_then(|a| a.strip_prefix('#')) else {
                    continue;
                };
                assert!(
                    headings.contains(&anchor) || catalog.rows.iter().any(|r| r.url == url),
                    "{}: {url} is no section of the catalog",
                    rule.code
                );
            }
        }
    }

    #[test]
    fn the_registry_holds_every_code_of_the_spec_in_its_order() {
        let codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
        let expected: Vec<&str> = SPEC_CODES
            .iter()
            .copied()
            .filter(|c| !PENDING_CODES.contains(c))
            .collect();
        assert_eq!(codes, expected);
    }

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
                "## Fixed example",
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
