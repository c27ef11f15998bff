//! `cmflow import FORMAT FILE [--out DIR]`: another tool's data written as KDL model
//! files. Without `--out`, the files go to stdout as one stream, each after a
//! `// ==> NAME <==` line (the stream is itself one loadable KDL file); with `--out DIR`
//! they are written as `export` writes: atomically, never through a symbolic link.
//!
//! Exit codes: 2 when the file cannot be read or the folder written; 1 when the file's
//! content cannot be imported (not JSON, another version, a value of the wrong kind), with
//! nothing written; 0 otherwise, warnings (what could not be mapped) on stderr.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::ValueEnum;
use miette::miette;

use super::Outcome;
use super::export::Folder;
use crate::escape::terminal;
use crate::export::Output;
use crate::import::configmgr;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// What the file holds.
    #[arg(value_enum)]
    format: ImportFormat,
    /// The file to import.
    file: PathBuf,
    /// Folder to write the KDL files into, created if needed (default: stdout, each file
    /// after a `// ==> NAME <==` line).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// The formats `import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// The inventory JSON of scripts/Export-CmflowInventory.ps1 (sites, site systems,
    /// boundary groups).
    Configmgr,
}

pub fn run(args: &ImportArgs) -> miette::Result<Outcome> {
    let shown = crate::load::display_path(&args.file);
    let bytes = std::fs::read(&args.file)
        .map_err(|e| miette!("cannot read {}: {e}", terminal::line(&shown)))?;
    let Ok(text) = String::from_utf8(bytes) else {
        eprintln!(
            "{:?}",
            miette!(
                "{}: not UTF-8 text: an inventory is JSON",
                terminal::line(&shown)
            )
        );
        return Ok(Outcome::Findings);
    };
    // PowerShell 5.1's `Out-File -Encoding utf8` writes a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let imported = match args.format {
        ImportFormat::Configmgr => configmgr::import(&shown, text),
    };
    let imported = match imported {
        Ok(i) => i,
        Err(e) => {
            // Unwrapped, so that the message (file, JSON path, what was expected) stays
            // on one line for whoever greps the output.
            let mut rendered = String::new();
            let written = miette::GraphicalReportHandler::new()
                .with_width(super::terminal_width())
                .with_wrap_lines(false)
                .render_report(&mut rendered, &e);
            if written.is_err() {
                rendered = e.to_string();
            }
            eprintln!("{rendered}");
            return Ok(Outcome::Findings);
        }
    };
    match &args.out {
        None => {
            let mut out = io::BufWriter::new(io::stdout().lock());
            let written = imported.files.iter().enumerate().try_for_each(|(i, f)| {
                if i > 0 {
                    writeln!(out)?;
                }
                writeln!(out, "// ==> {} <==", f.name)?;
                out.write_all(f.text.as_bytes())
            });
            written
                .and_then(|()| out.flush())
                .or_else(super::ignore_broken_pipe)?;
        }
        Some(dir) => {
            let mut folder = Folder::create(dir.clone())?;
            let written = imported.files.iter().try_for_each(|f| {
                let mut w = folder.create(&f.name)?;
                w.write_all(f.text.as_bytes())?;
                w.flush()
            });
            written
                .and_then(|()| folder.commit())
                .map_err(|e| miette!("cannot write the import: {e}"))?;
        }
    }
    for w in &imported.warnings {
        eprintln!("warning: {}", terminal::line(w));
    }
    Ok(Outcome::Clean)
}
