//! `cmflow check` on the generator's stress models (`examples/generate.rs --stress`):
//! network firewalls that deny by default with a few rules each, most of them too broad
//! or unused, so that most flows are blocked and the checks report tens of thousands of
//! findings, as on a first run against a real estate. For each model, two things are
//! measured:
//!
//! - `check`: what `cmflow check` does before it reports: load the folder, compute the
//!   required flows of every phase, evaluate them, run every check
//!   (`cmflow::rules::run`);
//! - `rules`: the checks alone, on the flows and verdicts computed once.
//!
//! Models: `stress-small`, `stress-medium` and `stress-max` (`--stress`), and
//! `stress-hosts-small` and `stress-hosts-medium` (`--stress --host-firewalls`: a
//! Windows Firewall on every site system, SQL Server and client group).
//!
//! ```text
//! cargo bench --bench check                 # every model
//! cargo bench --bench check -- stress-max   # one model (a criterion filter)
//! ```
//!
//! Before measuring, each model prints the generator's summary, the number of flows and
//! the number of diagnostics. docs/performance.md has the whole-process measurements.

use std::hint::black_box;
use std::time::Duration;

use cmflow::check::{Timings, check_loaded};
use cmflow::engine::{Network, Phase, evaluate, required_flows, required_flows_bounded};
use cmflow::load::{Inputs, load};
use cmflow::rules::{self, Context, SPEC_CODES};
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../examples/generate/model.rs"]
#[allow(
    dead_code,
    reason = "write_scale and its boundary-group twin serve the other benchmarks and tests"
)]
mod generate;

/// `check`'s default: findings for the operation phase, rule usage over every phase.
const OPERATION: &[Phase] = &[Phase::Operation];

/// Load, flows, verdicts and checks, as `cmflow check` runs them
/// ([`check_loaded`]); returns the number of diagnostics.
fn check(inputs: &Inputs) -> usize {
    let loaded = load(inputs, SPEC_CODES).expect("the generated model loads");
    check_loaded(loaded, OPERATION, &Timings::off(), |model| {
        required_flows_bounded(model, &Phase::ALL)
    })
    .expect("the generated model's flows")
    .diagnostics
    .len()
}

fn stress(c: &mut Criterion) {
    let models = [
        ("stress-small", "small", false),
        ("stress-medium", "medium", false),
        ("stress-max", "max", false),
        ("stress-hosts-small", "small", true),
        ("stress-hosts-medium", "medium", true),
    ];
    for (name, scale, host_firewalls) in models {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let variant = generate::Variant {
            stress: true,
            host_firewalls,
            ..generate::Variant::default()
        };
        let summary =
            generate::write_model(scale, variant, dir.path()).expect("the generated model");
        let inputs = Inputs {
            paths: vec![dir.path().to_path_buf()],
            stdin: None,
        };
        let loaded = load(&inputs, SPEC_CODES).expect("the generated model loads");
        assert!(
            loaded.diagnostics.is_empty(),
            "the generated {name} model has input diagnostics: {:#?}",
            loaded.diagnostics
        );
        let model = loaded.model;
        let flows = required_flows(&model, &Phase::ALL);
        let net = Network::new(&model);
        let verdicts = evaluate(&net, &flows);
        let findings = rules::run(&Context::new(&model, &net, &flows, &verdicts, OPERATION));
        eprintln!(
            "{summary}\n{name}: {} required flows, {} diagnostics",
            flows.len(),
            findings.len()
        );

        let mut group = c.benchmark_group(name);
        // A max-scale iteration takes seconds: the fewest samples criterion allows, so
        // that the whole bench stays within minutes.
        match scale {
            "small" => group
                .sample_size(30)
                .measurement_time(Duration::from_secs(5)),
            "medium" => group
                .sample_size(10)
                .measurement_time(Duration::from_secs(10)),
            _ => group
                .sample_size(10)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(40)),
        };
        group.bench_function("check", |b| b.iter(|| check(black_box(&inputs))));
        group.bench_function("rules", |b| {
            b.iter(|| {
                rules::run(&Context::new(
                    black_box(&model),
                    &net,
                    &flows,
                    &verdicts,
                    OPERATION,
                ))
            });
        });
        group.finish();
    }
}

criterion_group!(benches, stress);
criterion_main!(benches);
