//! The language server's re-check after one file's edit against a cold `check`, on the
//! generated `medium` and `max` models (`examples/generate.rs`).
//!
//! - cold: what `cmflow check DIR` does before reporting: read and parse every file
//!   (`load::load`), then flows, verdicts and checks (`check::check_loaded`);
//! - re-check: what `cmflow lsp` does after an edit: read every file again (the edited
//!   one from memory), parse only the edited one (`load::load_cached`), rebuild the
//!   model, then `check::recheck_loaded`, which takes over from the previous check each
//!   stage the edit did not change. Four edits: a comment at the end of a file (nothing
//!   changes), a comment line at its top (every node of the file moves: the checks run
//!   again), a rule of the core firewall (the flows it may decide are evaluated again,
//!   the checks run), a distribution point (every stage runs again).
//!
//! Each is run a few times and the median is printed with the time of each stage
//! (`load`, `flows`, `evaluate`, `rules`) and what the re-check took over. Freeing the previous model is not counted:
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

/// The binary's allocator (`src/main.rs`): the server runs in the binary.
#[cfg(all(target_arch = "x86_64", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use cmflow::check::{Checked, Reusable, TakenOver, Timings, check_loaded, recheck_loaded};
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

    let files = discover(&inputs.paths).expect("the generated files");
    let (cold_total, cold_laps) = median(cold);
    println!(
        "{scale}: cold check {} ({}), {diagnostics} diagnostics",
        secs(cold_total),
        laps(&cold_laps)
    );
    for edit in EDITS {
        let (warm_total, warm_laps, taken) = recheck(&files, &phases, edit, diagnostics);
        println!(
            "{scale}: re-check after {}: {} ({}; {taken:?}), ratio {:.2}",
            edit.name,
            secs(warm_total),
            laps(&warm_laps),
            warm_total.as_secs_f64() / cold_total.as_secs_f64()
        );
    }
}

/// One edit of one file, as an editor sends it: `variants` replaces `from` in turn
/// (each re-check sees a text other than the last one), or, when `from` is empty,
/// `variants` is appended.
#[derive(Clone, Copy)]
struct Edit {
    name: &'static str,
    file: &'static str,
    from: &'static str,
    variants: [&'static str; 2],
}

const EDITS: [Edit; 4] = [
    // Nothing in the model changes: every stage is taken over.
    Edit {
        name: "a comment at the end of p01.kdl",
        file: "p01.kdl",
        from: "",
        variants: ["\n// edit a\n", "\n// edit b\n"],
    },
    // Every node of the file moves: flows and verdicts are taken over, the checks run.
    Edit {
        name: "a comment line at the top of p01.kdl",
        file: "p01.kdl",
        from: "\nsite \"P01\"",
        variants: [
            "\n// edit a\nsite \"P01\"",
            "\n// edit b, longer\nsite \"P01\"",
        ],
    },
    // The core firewall, which most routes cross: its flows are evaluated again.
    Edit {
        name: "a rule of fw-core",
        file: "firewalls.kdl",
        from: "to=\"role:site-server\" tcp=\"445\"",
        variants: [
            "to=\"role:site-server\" tcp=\"139,445\"",
            "to=\"role:site-server\" tcp=\"445,8080\"",
        ],
    },
    // A distribution point: every flow is computed again.
    Edit {
        name: "a distribution point's pxe",
        file: "p01.kdl",
        from: "{ distribution-point pxe=#true }",
        variants: [
            "{ distribution-point pxe=#false }",
            "{ distribution-point pxe=#true multicast=#true }",
        ],
    },
];

/// The median re-check after `edit`, with what the last one took over.
fn recheck(
    files: &[(String, std::path::PathBuf)],
    phases: &[Phase],
    edit: Edit,
    diagnostics: usize,
) -> (Duration, Vec<(String, Duration)>, Option<TakenOver>) {
    let edited = files
        .iter()
        .position(|(name, _)| name.ends_with(edit.file))
        .expect("the edited file");
    // The server's state after its first check.
    let mut cache = ParseCache::default();
    let first = load_cached(read(files, edited, None), SPEC_CODES, &mut cache);
    let mut previous = recheck_loaded(first, None, phases, &Timings::off(), flows)
        .expect("the generated model's flows");
    let mut warm = Vec::new();
    let mut taken = None;
    for run in 0..RUNS {
        let change = (edit.from, edit.variants[run % 2]);
        let started = Instant::now();
        let timings = Timings::recording();
        let texts = read(files, edited, Some(change));
        let loaded = load_cached(texts, SPEC_CODES, &mut cache);
        timings.lap("load");
        assert_eq!(cache.last_parsed(), 1, "only the edited file is parsed");
        let checked = recheck_loaded(loaded, Some(&mut previous), phases, &timings, flows)
            .expect("the generated model's flows");
        warm.push((started.elapsed(), timings.laps()));
        if edit.name.contains("comment") {
            assert_eq!(
                checked.diagnostics.len(),
                diagnostics,
                "a comment changes no diagnostic"
            );
        }
        taken = checked.reusable.as_ref().map(Reusable::taken_over);
        // Freed after the time is taken, as the server frees it on another thread.
        drop(std::mem::replace(&mut previous, checked));
    }
    let (total, laps) = median(warm);
    (total, laps, taken)
}

fn flows(model: &cmflow::model::Model) -> Result<Vec<cmflow::engine::RequiredFlow>, &'static str> {
    required_flows_bounded(model, &Phase::ALL).map_err(|_| "too many flows")
}

fn check(loaded: cmflow::load::Loaded, phases: &[Phase], timings: &Timings) -> Checked {
    check_loaded(loaded, phases, timings, flows).expect("the generated model's flows")
}

/// The model's files as the server reads them: from disk, the edited one with `change`
/// (`from` replaced by `to`, or `to` appended when `from` is empty: the editor's buffer).
fn read(
    files: &[(String, std::path::PathBuf)],
    edited: usize,
    change: Option<(&str, &str)>,
) -> Vec<InputText> {
    files
        .iter()
        .enumerate()
        .map(|(i, (name, path))| {
            let mut bytes = std::fs::read(path).expect("a generated file");
            if i == edited
                && let Some((from, to)) = change
            {
                let text = String::from_utf8(bytes).expect("generated text");
                bytes = if from.is_empty() {
                    text + to
                } else {
                    assert!(text.contains(from), "the edit applies");
                    text.replacen(from, to, 1)
                }
                .into_bytes();
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
