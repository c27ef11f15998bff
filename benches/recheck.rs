//! The language server's re-check after one file's edit against a cold `check`, on the
//! generated `medium` and `max` models (`examples/generate.rs`).
//!
//! - cold: what `cmflow check DIR` does before reporting: read and parse every file
//!   (`load::load`), then flows, verdicts and checks (`check::check_loaded`);
//! - re-check: what `cmflow lsp` does after an edit: read every file again (the edited
//!   one from memory), parse only the edited one (`load::load_cached`), rebuild the
//!   model, then the same `check_loaded`.
//!
//! Each is run a few times and the median is printed with the time of each stage
//! (`load`, `flows`, `evaluate`, `rules`). Freeing the previous model is not counted:
//! `check` never frees it and the server frees it on another thread.
//!
//! ```text
//! cargo bench --bench recheck            # medium and max
//! cargo bench --bench recheck -- medium  # one scale
//! ```
//!
//! One max-scale run holds about 1 GB; the scales run one after the other.

use std::path::Path;
use std::time::{Duration, Instant};

use cmflow::check::{Checked, Timings, check_loaded};
use cmflow::engine::{Phase, required_flows_bounded};
use cmflow::load::{InputText, Inputs, ParseCache, discover, load, load_cached};
use cmflow::rules::SPEC_CODES;

#[path = "../examples/generate/model.rs"]
#[expect(
    dead_code,
    reason = "the model with boundary groups is benches/flows.rs's"
)]
mod generate;

/// Runs per measurement; the median is reported.
const RUNS: usize = 5;

fn main() {
    // `cargo bench` passes `--bench`; any other argument selects scales.
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    for scale in generate::SCALE_NAMES.into_iter().filter(|s| *s != "small") {
        if !wanted.is_empty() && !wanted.iter().any(|w| scale.contains(w.as_str())) {
            continue;
        }
        let dir = tempfile::tempdir().expect("a temporary folder");
        let summary = generate::write_scale(scale, dir.path()).expect("the generated model");
        eprintln!("{summary}");
        measure(scale, dir.path());
    }
}

fn measure(scale: &str, dir: &Path) {
    let phases = [Phase::Operation];
    let inputs = Inputs {
        paths: vec![dir.to_path_buf()],
        stdin: None,
    };
    let mut cold = Vec::new();
    let mut diagnostics = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let timings = Timings::recording();
        let loaded = load(&inputs, SPEC_CODES).expect("the generated model loads");
        timings.lap("load");
        let checked = check(loaded, &phases, &timings);
        cold.push((started.elapsed(), timings.laps()));
        diagnostics = checked.diagnostics.len();
        // Not part of the time (as in `check`), but one model at a time.
        drop(checked);
    }

    // The server's state after its first check.
    let files = discover(&inputs.paths).expect("the generated files");
    let edited = files
        .iter()
        .position(|(name, _)| name.ends_with("p01.kdl"))
        .expect("p01.kdl");
    let mut cache = ParseCache::default();
    let first = load_cached(read(&files, edited, None), SPEC_CODES, &mut cache);
    drop(check(first, &phases, &Timings::off()));

    let mut warm = Vec::new();
    for run in 0..RUNS {
        // A different text each run: a comment at the end of the file.
        let comment = format!("\n// edit {run}\n");
        let started = Instant::now();
        let timings = Timings::recording();
        let texts = read(&files, edited, Some(&comment));
        let loaded = load_cached(texts, SPEC_CODES, &mut cache);
        timings.lap("load");
        assert_eq!(cache.last_parsed(), 1, "only the edited file is parsed");
        let checked = check(loaded, &phases, &timings);
        warm.push((started.elapsed(), timings.laps()));
        assert_eq!(
            checked.diagnostics.len(),
            diagnostics,
            "a comment changes no diagnostic"
        );
        drop(checked);
    }

    let (cold_total, cold_laps) = median(cold);
    let (warm_total, warm_laps) = median(warm);
    println!(
        "{scale}: cold check {} ({}); re-check after one file's edit {} ({}); ratio {:.2}",
        secs(cold_total),
        laps(&cold_laps),
        secs(warm_total),
        laps(&warm_laps),
        warm_total.as_secs_f64() / cold_total.as_secs_f64()
    );
}

fn check(loaded: cmflow::load::Loaded, phases: &[Phase], timings: &Timings) -> Checked {
    check_loaded(loaded, phases, timings, |model| {
        required_flows_bounded(model, &Phase::ALL).map_err(|_| "too many flows")
    })
    .expect("the generated model's flows")
}

/// The model's files as the server reads them: from disk, the edited one with `append`
/// at its end (the editor's buffer).
fn read(
    files: &[(String, std::path::PathBuf)],
    edited: usize,
    append: Option<&str>,
) -> Vec<InputText> {
    files
        .iter()
        .enumerate()
        .map(|(i, (name, path))| {
            let mut bytes = std::fs::read(path).expect("a generated file");
            if i == edited
                && let Some(text) = append
            {
                bytes.extend_from_slice(text.as_bytes());
            }
            InputText {
                name: name.clone(),
                bytes,
                builtin: false,
                path: Some(path.clone()),
            }
        })
        .collect()
}

/// The run of median total time.
fn median(
    mut runs: Vec<(Duration, Vec<(String, Duration)>)>,
) -> (Duration, Vec<(String, Duration)>) {
    runs.sort_by_key(|(total, _)| *total);
    runs.swap_remove(runs.len() / 2)
}

fn laps(laps: &[(String, Duration)]) -> String {
    laps.iter()
        .map(|(stage, took)| format!("{stage} {}", secs(*took)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}
