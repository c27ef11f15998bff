//! `--format github`: GitHub Actions workflow commands, one annotation per diagnostic:
//! `::error file=F,line=L,col=C,endLine=..,endColumn=..,title=CODE::F:L:C: MESSAGE`
//! (`::warning`, `::notice` for info), escaped as the Actions runner expects. A blocked
//! flow is annotated where the flow is required ([`super::anchored`]).

use std::io::{self, Write};

use super::{CheckReport, Place, placed_message};
use crate::diag::Severity;
use crate::escape::workflow::{github_data, github_property};

pub fn write(out: &mut dyn Write, report: &CheckReport<'_>) -> io::Result<()> {
    for d in report.diagnostics {
        let d = &*super::anchored(d);
        let place = Place::of(report.sources, d.primary.span);
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let file = github_property(place.file);
        write!(out, "::{command} file={file},line={}", place.line)?;
        // GitHub drops annotations that give columns across several lines.
        if place.end_line == place.line {
            write!(out, ",col={}", place.column)?;
        }
        write!(out, ",endLine={}", place.end_line)?;
        if place.end_line == place.line {
            write!(out, ",endColumn={}", place.end_column)?;
        }
        writeln!(
            out,
            ",title={}::{}",
            github_property(d.code),
            github_data(&placed_message(&place, "", d))
        )?;
    }
    Ok(())
}
