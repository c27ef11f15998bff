//! Flow computation on the generated hierarchies (`examples/generate.rs`): for each of
//! the scales `small`, `medium` and `max`, the model is written into a temporary folder,
//! then two things are measured separately:
//!
//! - `load`: `cmflow::load::load` of that folder (discovery, reading, parsing and
//!   resolving every file into one model), as `cmflow check`/`flows` do first;
//! - `required_flows`: `cmflow::engine::required_flows` of the loaded model for the
//!   `operation` phase;
//! - `required_flows_with_boundary_groups`: the same on the model with the generator's
//!   boundary groups (`--boundary-groups`), which describe the same design.
//!
//! ```text
//! cargo bench --bench flows            # every scale
//! cargo bench --bench flows -- small   # one scale (a criterion filter)
//! ```
//!
//! Before measuring, each scale prints the generator's summary and the number of flows.

use std::hint::black_box;
use std::time::Duration;

use cmflow::engine::{Phase, required_flows};
use cmflow::load::{Inputs, load};
use cmflow::rules::SPEC_CODES;
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../examples/generate/model.rs"]
mod generate;

const OPERATION: &[Phase] = &[Phase::Operation];

fn flows(c: &mut Criterion) {
    for scale in generate::SCALE_NAMES {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let summary = generate::write_scale(scale, dir.path()).expect("the generated model");
        let inputs = Inputs {
            paths: vec![dir.path().to_path_buf()],
            stdin: None,
        };
        let loaded = load(&inputs, SPEC_CODES).expect("the generated model loads");
        assert!(
            loaded.diagnostics.is_empty(),
            "the generated {scale} model has input diagnostics: {:#?}",
            loaded.diagnostics
        );
        let count = required_flows(&loaded.model, OPERATION).len();
        eprintln!("{summary}\n{scale}: {count} required flows (operation)");

        let mut group = c.benchmark_group(scale);
        // A max-scale iteration takes a good part of a second: the fewest samples
        // criterion allows, so that the whole bench stays within a few minutes.
        match scale {
            "small" => group
                .sample_size(50)
                .measurement_time(Duration::from_secs(5)),
            "medium" => group
                .sample_size(20)
                .measurement_time(Duration::from_secs(8)),
            _ => group
                .sample_size(10)
                .warm_up_time(Duration::from_secs(2))
                .measurement_time(Duration::from_secs(15)),
        };
        group.bench_function("load", |b| {
            b.iter(|| load(black_box(&inputs), SPEC_CODES).expect("load"));
        });
        group.bench_function("required_flows", |b| {
            b.iter(|| required_flows(black_box(&loaded.model), OPERATION));
        });
        let with_groups = tempfile::tempdir().expect("a temporary folder");
        generate::write_scale_with_boundary_groups(scale, with_groups.path())
            .expect("the generated model with boundary groups");
        let grouped = load(
            &Inputs {
                paths: vec![with_groups.path().to_path_buf()],
                stdin: None,
            },
            SPEC_CODES,
        )
        .expect("the generated model with boundary groups loads");
        group.bench_function("required_flows_with_boundary_groups", |b| {
            b.iter(|| required_flows(black_box(&grouped.model), OPERATION));
        });
        group.finish();
    }
}

criterion_group!(benches, flows);
criterion_main!(benches);
