//! `--format short`: `FILE:LINE:COL: SEVERITY[CODE] MESSAGE`, the line shape vim's
//! quickfix, Emacs' compilation-mode and VS Code's problem matchers read, then the
//! diagnostic's help on an indented continuation line (`    help: ...`), which those
//! matchers skip: one diagnostic per unindented line.

use std::io::{self, Write};

use rayon::prelude::*;

use crate::diag::Diagnostic;
use crate::escape::terminal;
use crate::model::SourceMap;

pub fn write(
    out: &mut dyn Write,
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
) -> io::Result<()> {
    // A first run on a large estate reports a hundred thousand diagnostics: rendered in
    // chunks on every thread, written in order.
    let chunks: Vec<Vec<u8>> = diagnostics
        .par_chunks(4096)
        .map(|chunk| {
            let mut text = Vec::with_capacity(chunk.len() * 160);
            for d in chunk {
                render(&mut text, sources, d);
            }
            text
        })
        .collect();
    for text in chunks {
        out.write_all(&text)?;
    }
    Ok(())
}

fn render(text: &mut Vec<u8>, sources: &SourceMap, d: &Diagnostic) {
    let file = sources.get(d.primary.span.source);
    let (line, col) = file.line_col(d.primary.span.start);
    // Writing into a vector cannot fail.
    let _ = writeln!(
        text,
        "{}:{line}:{col}: {}[{}] {}",
        terminal::line(&file.name),
        d.severity,
        d.code,
        terminal::line(&d.message)
    );
    if let Some(help) = &d.help {
        let _ = writeln!(text, "    help: {}", terminal::line(help));
    }
}
