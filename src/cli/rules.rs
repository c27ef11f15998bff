//! `cmflow rules`: every rule with its default severity and summary.

use std::io::Write;

use miette::IntoDiagnostic;
use serde::Serialize;

use super::Outcome;
use crate::rules::RULES;

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: RulesFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum RulesFormat {
    Text,
    Json,
}

#[derive(Serialize)]
struct RuleRow {
    code: &'static str,
    severity: &'static str,
    summary: &'static str,
    url: String,
}

pub fn run(args: &RulesArgs) -> miette::Result<Outcome> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        RulesFormat::Text => {
            let width = RULES.iter().map(|r| r.code.len()).max().unwrap_or(0);
            for r in RULES {
                writeln!(
                    out,
                    "{:<width$}  {:<7}  {}",
                    r.code,
                    r.default_severity.as_str(),
                    r.summary
                )
                .into_diagnostic()?;
            }
        }
        RulesFormat::Json => {
            let rows: Vec<RuleRow> = RULES
                .iter()
                .map(|r| RuleRow {
                    code: r.code,
                    severity: r.default_severity.as_str(),
                    summary: r.summary,
                    url: r.url(),
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &rows).into_diagnostic()?;
            writeln!(out).into_diagnostic()?;
        }
    }
    Ok(Outcome::Clean)
}
