//! `cmflow diff BASE HEAD` / `cmflow diff --git REV [PATHS]`: checks two revisions of a
//! model and reports what changed between them (`report::diff`).
//!
//! Both revisions are loaded under the same file names: with two paths, names relative to
//! each path; with `--git`, the revision's files are unpacked (through `git archive`, the
//! work tree untouched) into a temporary folder and named as the work tree's are.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use miette::IntoDiagnostic;

use super::check::{Checked, Timings, check_model};
use super::{ModelArgs, Outcome};
use crate::load::{Inputs, display_path};
use crate::report::diff::{DiffFormat, Revision, compare, write};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cmflow diff old/ new/                      two copies of a model
  cmflow diff --git origin/main              the model in . at origin/main against the work tree
  cmflow diff --git HEAD~1 sites/ --format markdown > comment.md")]
pub struct DiffArgs {
    /// BASE and HEAD (two files or folders); with `--git`, the model's files or folders in
    /// the work tree (default: `.`).
    #[command(flatten)]
    model: ModelArgs,
    /// Compare the model at this git revision (BASE) with the work tree (HEAD).
    #[arg(long, value_name = "REV")]
    git: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: DiffFormat,
}

pub fn run(args: &DiffArgs) -> miette::Result<Outcome> {
    let phases = args.model.phases();
    let timings = Timings::from_env();
    let (base, head, base_label, head_label);
    // Kept until both revisions are loaded: the unpacked revision.
    let _unpacked;
    if let Some(rev) = &args.git {
        let (folder, prefix) = unpack_revision(rev, &args.model.paths)?;
        let root = folder.path().join(&prefix);
        let paths = args.model.paths.iter().map(|p| root.join(p)).collect();
        base = load_renamed(paths, &phases, &timings, &display_path(&root), None)?;
        head = check_model(&inputs(args.model.paths.clone()), &phases, &timings)?;
        base_label = rev.clone();
        head_label = "work tree".to_owned();
        _unpacked = Some(folder);
    } else {
        let [b, h] = args.model.paths.as_slice() else {
            miette::bail!(
                code = "cmflow::usage",
                help = "give BASE and HEAD (`cmflow diff old/ new/`), or `--git REV` to compare with a git revision",
                "diff needs two models, got {}",
                args.model.paths.len()
            );
        };
        base = load_renamed(
            vec![b.clone()],
            &phases,
            &timings,
            &display_path(b),
            Some(b),
        )?;
        head = load_renamed(
            vec![h.clone()],
            &phases,
            &timings,
            &display_path(h),
            Some(h),
        )?;
        base_label = display_path(b);
        head_label = display_path(h);
        _unpacked = None;
    }
    let diff = compare(&revision(&base_label, &base), &revision(&head_label, &head));
    timings.lap("compare");
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write(&mut out, args.format, &diff).or_else(super::ignore_broken_pipe)?;
    out.flush().or_else(super::ignore_broken_pipe)?;
    Ok(if diff.has_new_errors() {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

fn revision<'a>(label: &'a str, c: &'a Checked) -> Revision<'a> {
    Revision {
        label,
        model: &c.model,
        flows: &c.flows,
        verdicts: &c.verdicts,
        diagnostics: &c.diagnostics,
    }
}

fn inputs(paths: Vec<PathBuf>) -> Inputs {
    Inputs { paths, stdin: None }
}

/// Checks the model at `paths` and names its files as if `root` (shown as `root_shown`)
/// were the current folder; a file given as the whole model (`single`) keeps its file
/// name.
fn load_renamed(
    paths: Vec<PathBuf>,
    phases: &[crate::engine::Phase],
    timings: &Timings,
    root_shown: &str,
    single: Option<&Path>,
) -> miette::Result<Checked> {
    let mut checked = check_model(&inputs(paths), phases, timings)?;
    let prefix = format!("{}/", root_shown.trim_end_matches('/'));
    let file_name = single
        .filter(|p| p.is_file())
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    checked.model.sources.rename_user_files(|name| {
        if name == root_shown {
            return file_name.clone();
        }
        if root_shown.is_empty() || root_shown == "." {
            return None;
        }
        name.strip_prefix(&prefix).map(str::to_owned)
    });
    Ok(checked)
}

/// Unpacks the repository's tree at `rev` into a temporary folder; returns it and the
/// current folder's path inside the repository (`git rev-parse --show-prefix`).
fn unpack_revision(rev: &str, paths: &[PathBuf]) -> miette::Result<(tempfile::TempDir, PathBuf)> {
    if let Some(p) = paths
        .iter()
        .find(|p| p.is_absolute() || p.components().any(|c| c == std::path::Component::ParentDir))
    {
        miette::bail!(
            code = "cmflow::usage",
            help = "with --git, give paths inside the repository, relative to the current folder",
            "{} is not under the current folder",
            crate::escape::terminal::line(&p.display().to_string())
        );
    }
    let prefix = git(&["rev-parse", "--show-prefix"])?;
    let toplevel = git(&["rev-parse", "--show-toplevel"])?;
    let commit = git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{commit}}"),
    ])
    .map_err(|_| {
        miette::miette!(
            code = "cmflow::git",
            help =
                "give a branch, tag or commit of this repository (`git log --oneline` lists them)",
            "{} is not a revision of this repository",
            crate::escape::terminal::line(rev)
        )
    })?;
    let folder = tempfile::Builder::new()
        .prefix("cmflow-diff-")
        .tempdir()
        .into_diagnostic()?;
    // From the top: in a subfolder, `git archive` would pack only that subfolder.
    let mut child = Command::new("git")
        .current_dir(&toplevel)
        .args(["archive", "--format=tar", commit.trim()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| git_missing(&e))?;
    let unpacked = match child.stdout.take() {
        Some(stdout) => tar::Archive::new(stdout).unpack(folder.path()),
        None => Ok(()),
    };
    let output = child.wait_with_output().into_diagnostic()?;
    if !output.status.success() {
        miette::bail!(
            code = "cmflow::git",
            "git archive {} failed: {}",
            crate::escape::terminal::line(rev),
            crate::escape::terminal::line(String::from_utf8_lossy(&output.stderr).trim())
        );
    }
    unpacked.map_err(|e| miette::miette!(code = "cmflow::git", "cannot unpack {rev}: {e}"))?;
    Ok((folder, PathBuf::from(prefix.trim_end_matches(['\n', '\r']))))
}

/// Runs git in the current folder; its first line of output, or an error.
fn git(args: &[&str]) -> miette::Result<String> {
    let output = Command::new("git")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| git_missing(&e))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        miette::bail!(
            code = "cmflow::git",
            help = "run `cmflow diff --git` inside a git repository",
            "git {} failed: {}",
            args.join(" "),
            crate::escape::terminal::line(stderr.trim())
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned())
}

fn git_missing(e: &std::io::Error) -> miette::Report {
    miette::miette!(
        code = "cmflow::git",
        help = "install git, or compare two folders: `cmflow diff old/ new/`",
        "cannot run git: {e}"
    )
}
