//! `--format short`: `FILE:LINE:COL: SEVERITY[CODE] MESSAGE`, the line shape vim's
//! quickfix, Emacs' compilation-mode and VS Code's problem matchers read, then the
//! diagnostic's help on an indented continuation line (`    help: ...`), which those
//! matchers skip: one diagnostic per unindented line.

use std::io::{self, Write};

use crate::diag::Diagnostic;
use crate::escape::terminal;
use crate::model::SourceMap;

pub fn write(
    out: &mut dyn Write,
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
) -> io::Result<()> {
    for d in diagnostics {
        let file = sources.get(d.primary.span.source);
        let (line, col) = file.line_col(d.primary.span.start);
        writeln!(
            out,
            "{}:{line}:{col}: {}[{}] {}",
            terminal::line(&file.name),
            d.severity,
            d.code,
            terminal::line(&d.message)
        )?;
        if let Some(help) = &d.help {
            writeln!(out, "    help: {}", terminal::line(help))?;
        }
    }
    Ok(())
}
