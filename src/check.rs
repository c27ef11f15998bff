//! A loaded model to what `cmflow check` reports: its required flows, their verdicts and
//! every diagnostic, sorted, with severity overrides and suppressions applied.
//!
//! One pipeline: [`check_loaded`] for `check` and `diff` (through `cli`), and
//! [`recheck_loaded`] for the language server (`lsp`), the same stages taking over from
//! the previous check what an edit did not change (`reuse`), so an editor shows what
//! `check` prints. It owns the order of the stages, not the stages themselves (`engine`,
//! `rules`, `diag`), and it prints nothing but the optional stage timings.

mod reuse;

use crate::diag::{Diagnostic, Findings};
use crate::engine::{
    FlowVerdict, Network, Phase, RequiredFlow, evaluate, required_flows_after_server_edit,
};
use crate::load::Loaded;
use crate::model::Model;
use crate::rules;

pub use reuse::{Reusable, TakenOver};

/// A model with its flows, verdicts and diagnostics: what `check` reports, `diff`
/// compares and the language server answers from.
pub struct Checked {
    pub model: Model,
    pub flows: Vec<RequiredFlow>,
    /// Parallel to `flows`.
    pub verdicts: Vec<FlowVerdict>,
    /// Sorted, with severity overrides and suppressions applied.
    pub diagnostics: Vec<Diagnostic>,
    /// How many of the flows the checked phases hold.
    pub in_phases: usize,
    /// What [`recheck_loaded`] takes over besides flows and verdicts; `None` from
    /// [`check_loaded`], which keeps nothing for a next check.
    pub reusable: Option<Reusable>,
}

/// Computes the flows of every phase with `required_flows` (the caller says what happens
/// past the engine's limit), evaluates them, and runs every check over the flows of
/// `phases`.
pub fn check_loaded<E>(
    loaded: Loaded,
    phases: &[Phase],
    timings: &Timings,
    required_flows: impl FnOnce(&Model) -> Result<Vec<RequiredFlow>, E>,
) -> Result<Checked, E> {
    run(loaded, None, false, phases, timings, required_flows)
}

/// [`check_loaded`] after an edit: takes over from `previous` (the check before the
/// edit, left without its flows and verdicts) every stage whose inputs the edit did not
/// change, and keeps what the next re-check can take over. The result is the one of
/// [`check_loaded`]; see `check/reuse.rs` for when each stage is taken over.
pub fn recheck_loaded<E>(
    loaded: Loaded,
    previous: Option<&mut Checked>,
    phases: &[Phase],
    timings: &Timings,
    required_flows: impl FnOnce(&Model) -> Result<Vec<RequiredFlow>, E>,
) -> Result<Checked, E> {
    run(loaded, previous, true, phases, timings, required_flows)
}

/// The stages, taking over from `previous` what its model shares with `loaded`'s, and
/// keeping for a next check when `keep`.
fn run<E>(
    loaded: Loaded,
    mut previous: Option<&mut Checked>,
    keep: bool,
    phases: &[Phase],
    timings: &Timings,
    required_flows: impl FnOnce(&Model) -> Result<Vec<RequiredFlow>, E>,
) -> Result<Checked, E> {
    let model = loaded.model;
    let mut findings = Findings::default();
    findings.extend(loaded.diagnostics);
    // Every phase's flows are evaluated: a rule used only during installation is not unused.
    let same_flows = previous
        .as_ref()
        .is_some_and(|p| reuse::same_flow_inputs(&p.model, &model));
    // The findings hold spans: they need the flow inputs where they were written too.
    let unmoved = same_flows
        && previous
            .as_ref()
            .is_some_and(|p| reuse::same_flow_inputs_exactly(&p.model, &model));
    // Otherwise, when the edit changed only what some servers' roles and instances say,
    // only their flows are computed again, each other flow keeping its verdict.
    let spliced = match &mut previous {
        Some(p) if !same_flows => reuse::changed_servers(&p.model, &model).and_then(|changed| {
            let spliced = required_flows_after_server_edit(&model, &mut p.flows, &changed)?;
            Some((changed.len(), spliced))
        }),
        _ => None,
    };
    let changed_servers = spliced.as_ref().map_or(0, |(n, _)| *n);
    let (flows, origins) = match (&mut previous, spliced) {
        (Some(p), _) if same_flows => (std::mem::take(&mut p.flows), None),
        (_, Some((_, (flows, origins)))) => (flows, Some(origins)),
        _ => (required_flows(&model)?, None),
    };
    // Both keep the network: zones, firewalls, and where every host is.
    let same_network = same_flows || origins.is_some();
    timings.lap("flows");
    let net = Network::new(&model);
    let (verdicts, evaluated) = match (&mut previous, &origins) {
        (Some(p), None) if same_flows => {
            reuse::verdicts(&net, &flows, &p.model, std::mem::take(&mut p.verdicts))
        }
        (Some(p), Some(origins)) => {
            let previous = std::mem::take(&mut p.verdicts);
            reuse::spliced_verdicts(&net, &flows, &p.model, previous, origins)
        }
        _ => (evaluate(&net, &flows), flows.len()),
    };
    if previous.is_some() {
        timings.note(&format!("{evaluated} flows evaluated"));
    }
    timings.lap("evaluate");
    let mut reusable = previous.and_then(|p| Some((&p.model, p.reusable.take()?)));
    let known_spaces = match &mut reusable {
        Some((before, r)) if same_network => {
            reuse::rule_spaces(before, &model, std::mem::take(&mut r.rule_spaces))
        }
        _ => Vec::new(),
    };
    let cx = rules::Context::new(&model, &net, &flows, &verdicts, phases)
        .with_known_rule_spaces(known_spaces);
    let rules_taken_over = reusable
        .as_ref()
        .is_some_and(|(before, r)| unmoved && reuse::same_rule_findings(before, r, &model, phases));
    let model_taken_over = reusable
        .as_ref()
        .is_some_and(|(before, r)| unmoved && reuse::same_model_findings(before, r, &model));
    let found = match reusable {
        Some((_, r)) if rules_taken_over => r.found,
        Some((_, r)) if model_taken_over => run_rules(&cx, timings, Some(r.found.model)),
        _ => run_rules(&cx, timings, None),
    };
    timings.lap("rules");
    let checked = flows.iter().filter(|f| cx.checked(f)).count();
    let rule_spaces = if keep {
        cx.into_rule_spaces()
    } else {
        drop(cx);
        Vec::new()
    };
    let reusable = keep.then(|| Reusable {
        phases: phases.to_vec(),
        found: found.clone(),
        rule_spaces,
        taken_over: TakenOver {
            flows: same_flows,
            changed_servers,
            evaluated,
            model_findings: model_taken_over || rules_taken_over,
            rule_findings: rules_taken_over,
        },
    });
    let RuleFindings {
        model: model_findings,
        over_flows,
        every_phase,
    } = found;
    let every_phase = if every_phase.is_empty() {
        every_phase
    } else {
        model_findings.iter().cloned().chain(every_phase).collect()
    };
    findings.extend(model_findings);
    findings.extend(over_flows);
    let diagnostics = findings.finish_judged_over(
        &every_phase,
        &model.sources,
        &model.severity_overrides,
        &model.suppressions,
        rules::unused_suppression::diagnostic,
    );

    drop(net);
    Ok(Checked {
        model,
        flows,
        verdicts,
        diagnostics,
        in_phases: checked,
        reusable,
    })
}

/// What the checks found, before severities and suppressions: the diagnostics of
/// `rules::run` in its order, in the parts a re-check takes over on its own.
#[derive(Clone, Debug, Default)]
pub struct RuleFindings {
    /// The checks of the model alone (`rules::run_model`), the same in every phase.
    pub(crate) model: Vec<Diagnostic>,
    /// The other checks, over the checked phases.
    pub(crate) over_flows: Vec<Diagnostic>,
    /// The other checks over every phase (judging suppressions); empty when not needed.
    pub(crate) every_phase: Vec<Diagnostic>,
}

/// The checks over `cx`'s phases, and over every phase when suppressions need judging
/// there; the checks of the model alone only when `model` does not bring their findings.
fn run_rules(
    cx: &rules::Context<'_, '_>,
    timings: &Timings,
    model: Option<Vec<Diagnostic>>,
) -> RuleFindings {
    // Timed, the checks run one after another so that each one's time is its own;
    // otherwise side by side. The diagnostics are the same, in the same order.
    let (model, over_flows) = if timings.prints() {
        let model = model.unwrap_or_else(|| {
            rules::run_model(cx.model, &mut |check| timings.detail("rules", check))
        });
        let rest = rules::run_over_flows_timed(cx, &mut |check| timings.detail("rules", check));
        (model, rest)
    } else {
        match model {
            Some(model) => (model, rules::run_over_flows(cx)),
            None => rayon::join(
                || rules::run_model(cx.model, &mut |_| {}),
                || rules::run_over_flows(cx),
            ),
        }
    };
    // Suppressions are judged over every phase: a suppression used by a diagnostic of a
    // phase that `--phase` leaves out is not unused. Without suppressions there is
    // nothing to judge (the run would double the rules stage for nothing).
    let every_phase = if cx.phases.len() < Phase::ALL.len() && !cx.model.suppressions.is_empty() {
        rules::run_over_flows(&rules::Context::new(
            cx.model,
            cx.net,
            cx.flows,
            cx.verdicts,
            &Phase::ALL,
        ))
    } else {
        Vec::new()
    };
    RuleFindings {
        model,
        over_flows,
        every_phase,
    }
}

/// Stage timings: on stderr when `CMFLOW_TIMINGS` is set (for profiling), or recorded
/// (for benchmarks). Printed as `load: 1.234 s` per stage, and
/// `  rules/firewall/blocked-flow: 0.123 s` per step of a stage that reports its steps.
pub struct Timings {
    since: std::cell::Cell<std::time::Instant>,
    /// When the current step of a stage started.
    step: std::cell::Cell<std::time::Instant>,
    print: bool,
    laps: Option<std::cell::RefCell<Vec<(String, std::time::Duration)>>>,
}

impl Timings {
    pub fn from_env() -> Self {
        Self {
            print: std::env::var_os("CMFLOW_TIMINGS").is_some(),
            ..Self::off()
        }
    }

    /// Timings that print and record nothing.
    pub fn off() -> Self {
        let now = std::time::Instant::now();
        Self {
            since: std::cell::Cell::new(now),
            step: std::cell::Cell::new(now),
            print: false,
            laps: None,
        }
    }

    /// Timings that record each stage's time, for [`Timings::laps`].
    pub fn recording() -> Self {
        Self {
            laps: Some(std::cell::RefCell::default()),
            ..Self::off()
        }
    }

    /// The end of `stage`, which started at the previous lap (or at creation).
    pub fn lap(&self, stage: &str) {
        if !self.print && self.laps.is_none() {
            return;
        }
        let now = std::time::Instant::now();
        let took = now - self.since.get();
        self.since.set(now);
        self.step.set(now);
        if self.print {
            eprintln!("{stage}: {:.3} s", took.as_secs_f64());
        }
        if let Some(laps) = &self.laps {
            laps.borrow_mut().push((stage.to_owned(), took));
        }
    }

    /// Whether the timings go to stderr (`CMFLOW_TIMINGS`).
    pub fn prints(&self) -> bool {
        self.print
    }

    /// Ends a step of `stage` (a check of the rules stage): prints its time since the
    /// previous step or stage ended; the stage's own time keeps running. Not recorded.
    pub fn detail(&self, stage: &str, step: &str) {
        if !self.print {
            return;
        }
        let now = std::time::Instant::now();
        eprintln!(
            "  {stage}/{step}: {:.3} s",
            (now - self.step.get()).as_secs_f64()
        );
        self.step.set(now);
    }

    /// A line about the current stage (how much of it was done again), printed as
    /// `  TEXT` when the timings print.
    pub fn note(&self, text: &str) {
        if self.print {
            eprintln!("  {text}");
        }
    }

    /// The recorded stages and their times, in order.
    pub fn laps(&self) -> Vec<(String, std::time::Duration)> {
        self.laps
            .as_ref()
            .map(|l| l.borrow().clone())
            .unwrap_or_default()
    }
}
