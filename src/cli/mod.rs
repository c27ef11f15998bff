//! The command line: clap derive arguments, one file per subcommand. Each subcommand
//! loads, runs the pipeline and maps the outcome to an exit code; nothing below `cli`
//! prints or exits.

mod check;
mod diff;
mod explain;
mod export;
mod flows;
mod fmt;
mod graph;
mod import;
mod init;
mod loaded;
mod lsp;
mod rules;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::engine::Phase;

/// Lint Configuration Manager (SCCM/MECM) hierarchies, their network flows and firewalls.
#[derive(Debug, Parser)]
#[command(
    name = "cmflow",
    version,
    about,
    long_about = None,
    arg_required_else_help = true,
    after_help = "Examples:
  cmflow init my-site                        write a starter model
  cmflow check my-site                       check it (exit 1 on errors)
  cmflow flows my-site --verdict blocked     the required flows a firewall blocks
  cmflow export my-site --target windows-firewall --out fw/
  cmflow diff --git origin/main my-site      what a change does

Documentation: docs/language.md (the model), docs/rules.md (every check)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate the model and its firewalls; print diagnostics.
    Check(check::CheckArgs),
    /// List every required flow.
    Flows(flows::FlowsArgs),
    /// Write firewall rules that allow exactly the required flows.
    Export(export::ExportArgs),
    /// Draw the hierarchy, the zones and firewalls, or the flows.
    Graph(graph::GraphArgs),
    /// Print a rule's documentation.
    Explain(explain::ExplainArgs),
    /// List every rule with its default severity.
    Rules(rules::RulesArgs),
    /// Write a commented starter model.
    Init(init::InitArgs),
    /// Format the KDL files (in place, or `--check` to list what would change).
    Fmt(fmt::FmtArgs),
    /// Write KDL from another format: a firewall's rules, or ConfigMgr's inventory.
    Import(import::ImportArgs),
    /// Compare two revisions of a model: flows, verdicts, rules and diagnostics.
    Diff(diff::DiffArgs),
    /// Run the language server (for editors) on standard input and output.
    Lsp(lsp::LspArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cmflow completions bash > ~/.local/share/bash-completion/completions/cmflow
  cmflow completions zsh > \"${fpath[1]}/_cmflow\"
  cmflow completions powershell >> $PROFILE")]
struct CompletionsArgs {
    shell: clap_complete::Shell,
}

fn completions(args: &CompletionsArgs) -> miette::Result<Outcome> {
    use clap::CommandFactory;
    use std::io::Write;
    // Into memory first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "cmflow", &mut script);
    std::io::stdout()
        .write_all(&script)
        .or_else(ignore_broken_pipe)?;
    Ok(Outcome::Clean)
}

/// What the user reads when a command cannot run (exit code 2): `error: MESSAGE`, the
/// causes it does not already say, and the help, on stderr; internal error codes are for
/// tests and logs, not shown.
pub fn fatal_message(report: &miette::Report) -> String {
    use std::fmt::Write as _;
    let mut text = format!(
        "error: {}",
        crate::escape::terminal::line(&report.to_string())
    );
    for cause in report.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            let _ = write!(
                text,
                "\n  caused by: {}",
                crate::escape::terminal::line(&cause)
            );
        }
    }
    if let Some(help) = report.help() {
        let help = help.to_string();
        let _ = write!(text, "\n  help: {}", crate::escape::terminal::text(&help));
    }
    text
}

/// The outcome of a command, as `cli.md` § Exit codes defines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing at or above the failure threshold.
    Clean,
    /// Findings at or above the threshold (or input errors).
    Findings,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Clean => ExitCode::SUCCESS,
            Outcome::Findings => ExitCode::from(1),
        }
    }
}

/// Runs the command line; `Err` means the command could not run (exit code 2).
pub fn run() -> miette::Result<Outcome> {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Flows(args) => flows::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Rules(args) => rules::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Lsp(args) => lsp::run(&args),
        Command::Completions(args) => completions(&args),
    }
}

/// Paths and phase options shared by the commands that load a model.
#[derive(Debug, clap::Args)]
struct ModelArgs {
    /// Files or folders holding the model (a folder means every *.kdl below it).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    phase: PhaseArgs,
}

/// `--phase`, for the commands that check or list a model's flows.
#[derive(Debug, clap::Args)]
pub(crate) struct PhaseArgs {
    /// Phases to check or list: operation (default), install, client-install, or all.
    #[arg(long = "phase", value_enum)]
    phases: Vec<PhaseArg>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum PhaseArg {
    Operation,
    Install,
    ClientInstall,
    All,
}

impl ModelArgs {
    fn phases(&self) -> Vec<Phase> {
        self.phase.phases()
    }
}

impl PhaseArgs {
    fn phases(&self) -> Vec<Phase> {
        if self.phases.contains(&PhaseArg::All) {
            return Phase::ALL.to_vec();
        }
        let mut phases: Vec<Phase> = self
            .phases
            .iter()
            .map(|p| match p {
                PhaseArg::Install => Phase::Install,
                PhaseArg::ClientInstall => Phase::ClientInstall,
                PhaseArg::Operation | PhaseArg::All => Phase::Operation,
            })
            .collect();
        if phases.is_empty() {
            phases.push(Phase::Operation);
        }
        phases.sort();
        phases.dedup();
        phases
    }
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// `auto` honours `NO_COLOR`, then `FORCE_COLOR`, then whether stdout is a terminal.
    fn enabled(self) -> bool {
        let set = |v: &str| std::env::var_os(v).is_some_and(|s| !s.is_empty());
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if set("NO_COLOR") => false,
            ColorChoice::Auto if set("FORCE_COLOR") => true,
            ColorChoice::Auto => std::io::stdout().is_terminal(),
        }
    }
}

/// The terminal width for human output (`COLUMNS`, else 100).
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or_else(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}

/// Every code `lint`/`suppress` may name.
fn known_codes() -> Vec<&'static str> {
    crate::rules::SPEC_CODES.to_vec()
}

/// A closed pipe (`cmflow flows | head`) is not a failure: stop writing quietly.
#[expect(
    clippy::needless_pass_by_value,
    reason = "used as `Result::or_else` callback"
)]
fn ignore_broken_pipe(e: std::io::Error) -> miette::Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(miette::miette!("cannot write the output: {e}"))
    }
}
