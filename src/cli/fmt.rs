//! `cmflow fmt`: formats the model's KDL files in place (atomically: a temporary file in
//! the same folder, then a rename), or with `--check` lists the files that would change
//! and changes nothing. Files that do not parse are reported and left untouched; KDL v1
//! files are left as they are, with a note.

use std::io::Write;
use std::path::{Path, PathBuf};

use miette::{IntoDiagnostic, miette};
use rayon::prelude::*;

use super::{Outcome, known_codes, terminal_width};
use crate::diag::Diagnostic;
use crate::format::{Formatted, format_kdl};
use crate::load::{LoadError, codes, discover, load_texts, on_parse_threads};
use crate::model::SourceMap;
use crate::report::write_to_stderr;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cmflow fmt models
  cmflow fmt --check models")]
pub struct FmtArgs {
    /// Files or folders to format (a folder means every *.kdl below it).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Change nothing: list the files that would change and exit 1 if there are any.
    #[arg(long)]
    check: bool,
}

pub fn run(args: &FmtArgs) -> miette::Result<Outcome> {
    let files = discover(&args.paths)?;
    if files.is_empty() {
        return Err(LoadError::NoInput {
            paths: args
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }
        .into());
    }
    let known = known_codes();
    // Files are parsed and formatted in parallel; results are reported in file order.
    let results: Vec<FileResult> = on_parse_threads(|| {
        files
            .par_iter()
            .map(|(name, path)| format_file(name, path, &known))
            .collect::<miette::Result<_>>()
    })?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut changed = 0;
    let mut invalid = false;
    for ((name, path), result) in files.iter().zip(results) {
        let name = crate::escape::terminal::line(name);
        match result {
            FileResult::Unchanged => {}
            FileResult::Changed(text) => {
                changed += 1;
                let links = hard_links(path);
                if args.check {
                } else if links > 1 {
                    eprintln!(
                        "note: {name} is left as it is: it has {links} hard links, which rewriting it would split"
                    );
                    invalid = true;
                    continue;
                } else {
                    write_atomically(path, &text)?;
                }
                writeln!(out, "{name}").into_diagnostic()?;
            }
            FileResult::Syntax(sources, diagnostics) => {
                write_to_stderr(&sources, &diagnostics, terminal_width()).into_diagnostic()?;
                invalid = true;
            }
            FileResult::KdlV1 => eprintln!(
                "note: {name} is a KDL v1 document: left as it is (cmflow fmt writes KDL v2)"
            ),
            FileResult::WouldDropText => eprintln!(
                "note: {name} is left as it is: formatted, it would not say the same (a comment the KDL parser drops)"
            ),
            FileResult::Invalid => {
                eprintln!("{name}: not a KDL document: left as it is");
                invalid = true;
            }
        }
    }
    if args.check && changed > 0 {
        eprintln!(
            "{changed} {} would be reformatted (run `cmflow fmt`)",
            if changed == 1 { "file" } else { "files" }
        );
    }
    Ok(if invalid || (args.check && changed > 0) {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// What formatting one file gives.
enum FileResult {
    Unchanged,
    /// The formatted text, to write (byte-order mark kept).
    Changed(String),
    /// The file does not parse: its `kdl/syntax` diagnostics.
    Syntax(SourceMap, Vec<Diagnostic>),
    KdlV1,
    WouldDropText,
    Invalid,
}

fn format_file(name: &str, path: &Path, known: &[&str]) -> miette::Result<FileResult> {
    let bytes = std::fs::read(path).map_err(|cause| LoadError::Unreadable {
        path: path.display().to_string(),
        cause,
    })?;
    // The loader's syntax check, nesting guard and UTF-8 check decide what is safe to
    // format.
    let loaded = load_texts(vec![(name.to_owned(), bytes.clone(), false)], known);
    let syntax: Vec<Diagnostic> = loaded
        .diagnostics
        .into_iter()
        .filter(|d| d.code == codes::KDL_SYNTAX.code)
        .collect();
    if !syntax.is_empty() {
        return Ok(FileResult::Syntax(loaded.model.sources, syntax));
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(FileResult::Unchanged);
    };
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(body) => ("\u{feff}", body),
        None => ("", text.as_str()),
    };
    Ok(match format_kdl(body) {
        Formatted::Text(formatted) if formatted == body => FileResult::Unchanged,
        Formatted::Text(formatted) => FileResult::Changed(format!("{bom}{formatted}")),
        Formatted::KdlV1 => FileResult::KdlV1,
        Formatted::WouldDropText => FileResult::WouldDropText,
        Formatted::Invalid => FileResult::Invalid,
    })
}

/// Replaces the file at `path` by `text` so that a reader sees the old or the new file,
/// never half of one: a temporary file created exclusively beside the real file (a
/// symbolic link is followed to it and kept), given the file's permissions and owner,
/// then renamed over it. The temporary file is removed on every error, and leftovers of
/// an earlier run that was killed are removed first.
fn write_atomically(path: &Path, text: &str) -> miette::Result<()> {
    let cannot = |e: &dyn std::fmt::Display| miette!("cannot write {}: {e}", path.display());
    let target = path.canonicalize().map_err(|e| cannot(&e))?;
    let (Some(dir), Some(file_name)) = (target.parent(), target.file_name()) else {
        return Err(cannot(&"not a file"));
    };
    let meta = std::fs::metadata(&target).map_err(|e| cannot(&e))?;
    let prefix = format!(".{}.cmflow-fmt-", file_name.to_string_lossy());
    remove_leftovers(dir, &prefix);
    let mut n = 0u32;
    let (temp, mut file) = loop {
        let temp = dir.join(format!("{prefix}{}-{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(file) => break (temp, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(cannot(&e)),
        }
    };
    let result = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| keep_owner(&file, &meta))
        .and_then(|()| file.set_permissions(meta.permissions()))
        .and_then(|()| {
            drop(file);
            std::fs::rename(&temp, &target)
        });
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        cannot(&e)
    })
}

/// Gives the new file the owner and group of the old one (when run as root; others can
/// only keep their own).
#[cfg(unix)]
fn keep_owner(file: &std::fs::File, meta: &std::fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    match std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid())) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(()),
        other => other,
    }
}

#[cfg(not(unix))]
fn keep_owner(_file: &std::fs::File, _meta: &std::fs::Metadata) -> std::io::Result<()> {
    Ok(())
}

/// Whether the file has other hard links, which a rename would split from it.
#[cfg(unix)]
fn hard_links(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map_or(1, |m| m.nlink())
}

#[cfg(not(unix))]
fn hard_links(_path: &Path) -> u64 {
    1
}

/// Removes the temporary files (`prefix*.tmp`, regular files only) that a killed run
/// left beside a file.
fn remove_leftovers(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(prefix)
            && name.ends_with(".tmp")
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
