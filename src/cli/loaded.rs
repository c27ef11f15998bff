//! Loading a model for the commands that work on it whatever its input errors (`flows`,
//! `export`, `graph`): load, then print the input errors on stderr after the output, as
//! `cli.md` § Exit codes asks.

use miette::IntoDiagnostic;

use super::{ModelArgs, Outcome, known_codes, terminal_width};
use crate::diag::Diagnostic;
use crate::load::{Inputs, load};
use crate::model::Model;
use crate::report::write_to_stderr;

/// A loaded model and its input errors, sorted by file and position.
pub struct Loaded {
    pub model: Model,
    pub input_errors: Vec<Diagnostic>,
}

/// Loads the model of `args`; `Err` when it cannot be read at all (exit code 2).
pub fn load_model(args: &ModelArgs) -> miette::Result<Loaded> {
    let loaded = load(
        &Inputs {
            paths: args.paths.clone(),
            stdin: None,
        },
        &known_codes(),
    )?;
    let model = loaded.model;
    let mut input_errors = loaded.diagnostics;
    input_errors.sort_by_key(|d| {
        (
            model.sources.get(d.primary.span.source).name.clone(),
            d.primary.span.start,
        )
    });
    Ok(Loaded {
        model,
        input_errors,
    })
}

/// Prints the input errors on stderr (human on a terminal, short otherwise); the outcome
/// is `Findings` when there are any.
pub fn report_input_errors(loaded: &Loaded) -> miette::Result<Outcome> {
    if loaded.input_errors.is_empty() {
        return Ok(Outcome::Clean);
    }
    write_to_stderr(
        &loaded.model.sources,
        &loaded.input_errors,
        terminal_width(),
    )
    .into_diagnostic()?;
    Ok(Outcome::Findings)
}
