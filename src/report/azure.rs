//! `--format azure`: Azure DevOps logging commands, one issue per diagnostic:
//! `##vso[task.logissue type=error;sourcepath=F;linenumber=L;columnnumber=C;code=CODE]MESSAGE`.
//! Azure has only errors and warnings: info diagnostics are warnings whose message starts
//! with `info: `.

use std::io::{self, Write};

use super::{CheckReport, Place, placed_message};
use crate::diag::Severity;
use crate::escape::workflow::{azure_data, azure_property};

pub fn write(out: &mut dyn Write, report: &CheckReport<'_>) -> io::Result<()> {
    for d in report.diagnostics {
        let place = Place::of(report.sources, d.primary.span);
        let (kind, prefix) = match d.severity {
            Severity::Error => ("error", ""),
            Severity::Warning => ("warning", ""),
            Severity::Info => ("warning", "info: "),
        };
        writeln!(
            out,
            "##vso[task.logissue type={kind};sourcepath={};linenumber={};columnnumber={};code={}]{}",
            azure_property(place.file),
            place.line,
            place.column,
            azure_property(d.code),
            azure_data(&placed_message(&place, prefix, d))
        )?;
    }
    Ok(())
}
