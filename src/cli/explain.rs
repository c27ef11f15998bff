//! `cmflow explain CODE`: a rule's full documentation.

use miette::miette;

use super::Outcome;
use crate::diag::did_you_mean;
use crate::rules::{RULES, find};

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The rule code, e.g. `schema/unknown-node`.
    code: String,
}

pub fn run(args: &ExplainArgs) -> miette::Result<Outcome> {
    let Some(rule) = find(&args.code) else {
        let help = did_you_mean(&args.code, RULES.iter().map(|r| r.code)).map_or_else(
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
