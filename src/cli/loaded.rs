//! Loading a model for the commands that work on it whatever its input errors (`flows`,
//! `export`, `graph`): load, then print the input errors on stderr after the output, as
//! `cli.md` § Exit codes asks.

use miette::IntoDiagnostic;

use super::{ModelArgs, Outcome, known_codes, terminal_width};
use crate::diag::{Diagnostic, Label};
use crate::engine::{MAX_FLOWS, Origin, Phase, RequiredFlow, required_flows_bounded};
use crate::load::{Inputs, codes, load};
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

/// Prints the input errors (and the loader's warnings) on stderr (human on a terminal,
/// short otherwise); the outcome is `Findings` when there are errors.
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
    // Warnings of the loader (`source/unsupported`) are shown, not failures.
    let errors = loaded
        .input_errors
        .iter()
        .any(|d| d.severity == crate::diag::Severity::Error);
    Ok(if errors {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// The required flows of `phases`; past [`MAX_FLOWS`], a diagnostic on stderr naming the
/// `flow` node or catalog section that was adding them, and `Err` (exit code 2).
pub fn required_flows(model: &Model, phases: &[Phase]) -> miette::Result<Vec<RequiredFlow>> {
    let too_many = match required_flows_bounded(model, phases) {
        Ok(flows) => return Ok(flows),
        Err(e) => e,
    };
    let message = format!("the model requires more than {MAX_FLOWS} flows");
    match too_many.origin {
        Origin::User(i) => {
            let flow = &model.flows[i];
            let label = match too_many.user_flow_count {
                Some(n) => {
                    format!("this flow alone requires {n} (every source, destination and port)")
                }
                None => "this flow was adding them".to_owned(),
            };
            let d = Diagnostic::new(&codes::INVALID_VALUE, message.clone(), Label::new(flow.span, label))
            .with_help(
                "name fewer hosts in `from` and `to` (a zone or `any` names every host in it), or fewer ports",
            );
            write_to_stderr(&model.sources, &[d], terminal_width()).into_diagnostic()?;
            Err(miette::miette!(
                "stopped: {message}; cmflow computes at most {MAX_FLOWS}"
            ))
        }
        Origin::Catalog(row) => Err(miette::miette!(
            help = "a model of this size is beyond what cmflow supports; split it by site",
            "stopped: {message} (the catalog section {} was adding them); cmflow computes at most {MAX_FLOWS}",
            crate::escape::terminal::line(&row.reference())
        )),
    }
}
