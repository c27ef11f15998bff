//! `cmflow explain CODE`: a rule's full documentation.

use miette::miette;

use super::Outcome;
use crate::diag::did_you_mean;
use crate::rules::{RULES, find};

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The rule code, e.g. `schema/unknown-node` (or `unknown-node` alone).
    code: String,
}

pub fn run(args: &ExplainArgs) -> miette::Result<Outcome> {
    // `blocked-flow` for `firewall/blocked-flow`: the part after the group, when it
    // names one rule.
    let by_name = || {
        let mut named = RULES.iter().filter(|r| {
            r.code
                .split_once('/')
                .is_some_and(|(_, name)| name.eq_ignore_ascii_case(&args.code))
        });
        match (named.next(), named.next()) {
            (Some(rule), None) => Some(*rule),
            _ => None,
        }
    };
    let Some(rule) = find(&args.code).or_else(by_name) else {
        // Close to a code, or to a code's name after its group.
        let names = RULES.iter().map(|r| r.code).chain(
            RULES
                .iter()
                .filter_map(|r| r.code.split_once('/').map(|(_, n)| n)),
        );
        let code = |m: &'static str| {
            RULES
                .iter()
                .find(|r| r.code == m || r.code.split_once('/').is_some_and(|(_, n)| n == m))
                .map_or(m, |r| r.code)
        };
        let help = did_you_mean(&args.code, names).map(code).map_or_else(
            || "`cmflow rules` lists every code".to_owned(),
            |c| format!("did you mean `{c}`?"),
        );
        return Err(miette!(help = help, "unknown rule code `{}`", args.code));
    };
    println!(
        "# {}\n\nDefault severity: {}\n\n{}\n\n{}",
        rule.code,
        rule.default_severity,
        rule.summary,
        rule.docs.trim_end()
    );
    Ok(Outcome::Clean)
}
