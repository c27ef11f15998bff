//! `cmflow check`: load, compute flows, run every check, report.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use miette::IntoDiagnostic;

use super::{ColorChoice, ModelArgs, Outcome, known_codes, terminal_width};
use crate::check::check_loaded;
pub use crate::check::{Checked, Timings};
use crate::diag::{Severity, Summary};
use crate::engine::Phase;
use crate::load::{Inputs, load};
use crate::report::baseline::{self, Baseline};
use crate::report::{
    CheckFormat, CheckReport, HumanOptions, write_check, write_human, write_statistics,
};
use crate::rules;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cmflow check examples/contoso
  cmflow check models --format short --fail-on warning
  cmflow check models --format sarif --output-file cmflow.sarif
  cmflow check models --write-baseline cmflow-baseline.json
  cmflow check models --baseline cmflow-baseline.json")]
pub struct CheckArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Output format (default: human on a terminal, short otherwise).
    #[arg(long, value_enum)]
    format: Option<CheckFormat>,
    /// Exit 1 when a diagnostic at or above this severity is reported.
    #[arg(long, value_enum, default_value = "error")]
    fail_on: FailOn,
    /// When to use colors in human output.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
    /// Read one file's text from standard input and check it as if it were this file.
    #[arg(long, value_name = "NAME")]
    stdin_filename: Option<PathBuf>,
    /// Print how many diagnostics each rule reported instead of the diagnostics (a table,
    /// or a JSON list with `--format json`).
    #[arg(long)]
    statistics: bool,
    /// Do not report the diagnostics recorded in this file (written by
    /// `--write-baseline`); count its entries that no longer occur.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    baseline: Option<PathBuf>,
    /// Record the current diagnostics in this file, report nothing and exit 0.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Write the report to this file instead of standard output (written beside it,
    /// then renamed over it: a link at that path is replaced, not followed).
    #[arg(long, value_name = "FILE")]
    output_file: Option<PathBuf>,
    /// Print the diagnostics only: no summary or success line, no notes on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

pub fn run(args: &CheckArgs) -> miette::Result<Outcome> {
    if args.statistics
        && let Some(format) = args.format.filter(|f| !f.has_statistics())
    {
        miette::bail!(
            "--statistics works with --format human, short or json, not {}",
            clap::ValueEnum::to_possible_value(&format)
                .map_or_else(String::new, |v| v.get_name().to_owned())
        );
    }
    // Read before the model: a missing or malformed baseline stops the run at once.
    let baseline = args.baseline.as_deref().map(read_baseline).transpose()?;
    let stdin = match &args.stdin_filename {
        Some(name) => {
            // Bytes, not a string: invalid UTF-8 is reported with its position like in
            // any file.
            let mut text = Vec::new();
            std::io::stdin().read_to_end(&mut text).into_diagnostic()?;
            Some((name.clone(), text))
        }
        None => None,
    };
    let inputs = Inputs {
        paths: args.model.paths.clone(),
        stdin,
    };
    let timings = Timings::from_env();
    let phases = args.model.phases();
    let Checked {
        model,
        flows,
        verdicts,
        diagnostics,
        in_phases: checked,
        ..
    } = check_model(&inputs, &phases, &timings)?;
    if let Some(path) = &args.write_baseline {
        let entries = baseline::entries(&model.sources, &diagnostics);
        let count = entries.len();
        std::fs::write(path, baseline::to_text(entries)).map_err(|e| {
            miette::miette!(
                "cannot write {}: {e}",
                crate::escape::terminal::line(&path.display().to_string())
            )
        })?;
        eprintln!(
            "cmflow: recorded {count} diagnostics in {}",
            crate::escape::terminal::line(&path.display().to_string())
        );
        std::mem::forget((model, flows, verdicts, diagnostics));
        return Ok(Outcome::Clean);
    }
    let (diagnostics, applied) = match &baseline {
        Some(b) => {
            let (kept, applied) = b.apply(&model.sources, diagnostics);
            (kept, Some(applied))
        }
        None => (diagnostics, None),
    };
    let mut summary = Summary::new(&diagnostics, model.sources.user_file_count(), checked);
    summary.baseline = applied;
    summary.unchecked_files = model.unparsed.len();
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        CheckFormat::Human
    } else {
        CheckFormat::Short
    });
    let human = HumanOptions {
        color: args.color.enabled(),
        width: terminal_width(),
    };
    let report = CheckReport {
        sources: &model.sources,
        diagnostics: &diagnostics,
        summary: &summary,
        rules: rules::RULES,
    };
    let write_report = |out: &mut dyn Write| -> std::io::Result<()> {
        if args.statistics {
            write_statistics(out, format, &report)
        } else if args.quiet && format == CheckFormat::Human {
            write_human(out, report.sources, report.diagnostics, human)
        } else {
            write_check(out, format, &report, human)?;
            // A clean run says so (the short format has no summary line).
            if format == CheckFormat::Short && diagnostics.is_empty() && !args.quiet {
                writeln!(
                    out,
                    "All checks passed ({}, {} checked)",
                    crate::diag::count(summary.files, "file"),
                    crate::diag::count(summary.flows, "required flow")
                )?;
            }
            Ok(())
        }
    };
    if let Some(path) = &args.output_file {
        write_output_file(path, write_report)?;
    } else {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        write_report(&mut out).or_else(super::ignore_broken_pipe)?;
        out.flush().or_else(super::ignore_broken_pipe)?;
    }
    // The summary carries a baseline's counts in human, json and sarif; the formats
    // without a summary (short is one line per diagnostic) say them on stderr.
    let in_summary = !args.statistics
        && matches!(
            format,
            CheckFormat::Human | CheckFormat::Json | CheckFormat::Sarif
        );
    if let Some(applied) = applied.filter(|_| !in_summary && !args.quiet) {
        eprintln!("cmflow: {applied}");
    }
    if summary.unchecked_files > 0 && !in_summary && !args.quiet {
        eprintln!(
            "cmflow: {} not checked (syntax errors)",
            crate::diag::count(summary.unchecked_files, "file")
        );
    }
    timings.lap("report");
    let failed = args
        .fail_on
        .threshold()
        .is_some_and(|t| diagnostics.iter().any(|d| d.severity >= t));
    // The process ends next: freeing a large model's millions of allocations one by one
    // would take seconds (measured: 1.9 s on the generated max model).
    std::mem::forget((model, flows, verdicts));
    Ok(if failed {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// Writes `--output-file`: a temporary file beside `path`, renamed over it when whole.
fn write_output_file(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> miette::Result<()> {
    let shown = crate::escape::terminal::line(&path.display().to_string()).into_owned();
    let cannot = |e: &dyn std::fmt::Display| miette::miette!("cannot write {shown}: {e}");
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".cmflow-report-")
        .tempfile_in(dir)
        .map_err(|e| cannot(&e))?;
    {
        let mut out = std::io::BufWriter::new(temp.as_file_mut());
        write(&mut out).map_err(|e| cannot(&e))?;
        out.flush().map_err(|e| cannot(&e))?;
    }
    temp.persist(path).map_err(|e| cannot(&e.error))?;
    Ok(())
}

/// Loads the model of `inputs` and runs every check over the flows of `phases`.
pub fn check_model(
    inputs: &Inputs,
    phases: &[Phase],
    timings: &Timings,
) -> miette::Result<Checked> {
    let loaded = load(inputs, &known_codes())?;
    timings.lap("load");
    check_loaded(loaded, phases, timings, |model| {
        super::loaded::required_flows(model, &Phase::ALL)
    })
}

/// The baseline at `path` (`--baseline`).
fn read_baseline(path: &std::path::Path) -> miette::Result<Baseline> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        miette::miette!(
            code = "cmflow::baseline",
            help = "write one with `cmflow check --write-baseline FILE`",
            "cannot read baseline {}: {e}",
            crate::escape::terminal::line(&name)
        )
    })?;
    Ok(Baseline::parse(&bytes, &name)?)
}
