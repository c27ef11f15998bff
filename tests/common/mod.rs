//! What the end-to-end tests share: the binary run in a folder with a fixed width and no
//! color, and its outcome.
#![allow(dead_code, reason = "each test crate uses part of these helpers")]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary, run in `dir`, with a fixed width and no color.
pub fn cmflow(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("cmflow").expect("binary");
    cmd.current_dir(dir)
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .env_remove("FORCE_COLOR");
    cmd
}

/// The exit code and output of a run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmflow ARGS` in `dir`.
pub fn run(dir: &Path, args: &[&str]) -> Run {
    let out = cmflow(dir).args(args).output().expect("runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Copies the files of `from` (a folder, recursively) into `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// The flows of `phases` that carry a service of `anchor`, rendered and sorted; or the
/// model's load diagnostics.
pub fn section_flows(
    model_text: &str,
    anchor: &str,
    phases: &[cmflow::engine::Phase],
) -> Result<Vec<String>, String> {
    let loaded = cmflow::load::load_texts(
        vec![("model.kdl".into(), model_text.as_bytes().to_vec(), false)],
        cmflow::rules::SPEC_CODES,
    );
    if !loaded.diagnostics.is_empty() {
        return Err(format!(
            "the model does not load cleanly: {:#?}",
            loaded.diagnostics
        ));
    }
    let model = loaded.model;
    let mut flows: Vec<String> = cmflow::engine::required_flows(&model, phases)
        .iter()
        .filter(|f| {
            f.services
                .iter()
                .any(|s| matches!(s.origin, cmflow::engine::Origin::Catalog(row) if row.anchor == anchor))
        })
        .map(|f| {
            format!(
                "{} -> {} {} {}",
                f.source.name(&model),
                f.destination.name(&model),
                f.protocol,
                f.ports
            )
        })
        .collect();
    flows.sort();
    Ok(flows)
}

/// Asserts a clean `check --format short` run: exit 0 and only the success line.
#[track_caller]
pub fn assert_clean(r: &Run, context: &str) {
    let ok = r.code == 0
        && r.stdout.starts_with("All checks passed (")
        && r.stdout.ends_with(" checked)\n")
        && r.stdout.lines().count() == 1;
    assert!(ok, "{context}: exit {}\n{}{}", r.code, r.stdout, r.stderr);
}

/// `cmflow check . --phase all --format short --fail-on never` in `dir`.
pub fn check_every_phase(dir: &Path) -> Run {
    run(
        dir,
        &[
            "check",
            ".",
            "--phase",
            "all",
            "--format",
            "short",
            "--fail-on",
            "never",
        ],
    )
}

/// Every file below `dir` that `keep` accepts, sorted.
pub fn paths_below(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if keep(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every file below `dir` that `keep` accepts, as (relative path with `/`, text), sorted.
pub fn files_below(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<(String, String)> {
    paths_below(dir, keep)
        .into_iter()
        .map(|path| {
            let rel = path
                .strip_prefix(dir)
                .expect("below")
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path).expect("text");
            (rel, text)
        })
        .collect()
}
