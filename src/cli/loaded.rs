//! Loading a model for the commands that work on it whatever its input errors (`export`,
//! `graph`): load, then print the input errors on stderr after the output, as
//! `cli.md` § Exit codes asks.

use std::io::IsTerminal;

use miette::IntoDiagnostic;

use super::{ModelArgs, Outcome, known_codes, terminal_width};
use crate::diag::Diagnostic;
use crate::load::{Inputs, load};
use crate::model::Model;
use crate::report::{HumanOptions, write_human, write_short};

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
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    if std::io::stderr().is_terminal() {
        let opts = HumanOptions {
            color: std::env::var_os("NO_COLOR").is_none(),
            width: terminal_width(),
        };
        write_human(&mut err, &loaded.model.sources, &loaded.input_errors, opts)
            .into_diagnostic()?;
    } else {
        write_short(&mut err, &loaded.model.sources, &loaded.input_errors).into_diagnostic()?;
    }
    Ok(Outcome::Findings)
}
