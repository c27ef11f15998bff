//! Output: one renderer per format. Renderers take finished, sorted diagnostics (or
//! flows) and write text; they decide nothing about what is wrong.

pub mod flows;
mod human;
mod json;
mod short;

use std::io::{self, Write};

use crate::diag::{Diagnostic, Summary};
use crate::model::SourceMap;

/// `cmflow check --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// miette's graphical report, with source snippets and labels.
    Human,
    /// `FILE:LINE:COL: SEVERITY[CODE] MESSAGE`, one line per diagnostic.
    Short,
    /// One JSON document.
    Json,
}

/// Options of the human renderer.
#[derive(Clone, Copy, Debug)]
pub struct HumanOptions {
    pub color: bool,
    /// Terminal width to wrap at.
    pub width: usize,
}

/// Writes the diagnostics of a `check` run in `format`.
pub fn write_check(
    out: &mut dyn Write,
    format: CheckFormat,
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
    summary: &Summary,
    human: HumanOptions,
) -> io::Result<()> {
    match format {
        CheckFormat::Human => human::write(out, sources, diagnostics, summary, human),
        CheckFormat::Short => short::write(out, sources, diagnostics),
        CheckFormat::Json => json::write(out, sources, diagnostics, summary),
    }
}

/// Writes diagnostics for people on stderr-like outputs (used by `flows` and friends).
pub fn write_human(
    out: &mut dyn Write,
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
    human: HumanOptions,
) -> io::Result<()> {
    human::write_diagnostics(out, sources, diagnostics, human)
}

/// Writes diagnostics one per line (used by `flows` and friends when not on a terminal).
pub fn write_short(
    out: &mut dyn Write,
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
) -> io::Result<()> {
    short::write(out, sources, diagnostics)
}
