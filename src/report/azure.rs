//! `--format azure`: Azure DevOps logging commands, one issue per diagnostic:
//! `##vso[task.logissue type=error;sourcepath=F;linenumber=L;columnnumber=C;code=CODE]MESSAGE`.
//! Azure has only errors and warnings: info diagnostics are warnings whose message starts
//! with `info: `.

use std::io::{self, Write};

use super::{CheckReport, Place, escape_chars, placed_message};
use crate::diag::Severity;

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
            escape_property(place.file),
            place.line,
            place.column,
            escape_property(d.code),
            escape_data(&placed_message(&place, prefix, d))
        )?;
    }
    Ok(())
}

/// The escaping of a command's message, as the Azure Pipelines task library writes it:
/// `%` becomes `%AZP25`, CR `%0D`, LF `%0A`.
fn escape_data(s: &str) -> String {
    escape_chars(s, &[('%', "%AZP25"), ('\r', "%0D"), ('\n', "%0A")])
}

/// The escaping of a property value: the message's, plus `;` (ends a property) and `]`
/// (ends the properties).
fn escape_property(s: &str) -> String {
    escape_chars(
        s,
        &[
            ('%', "%AZP25"),
            ('\r', "%0D"),
            ('\n', "%0A"),
            (';', "%3B"),
            (']', "%5D"),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escapes_percent_and_line_breaks_only() {
        assert_eq!(escape_data("100%; [a]\r\nÎle"), "100%AZP25; [a]%0D%0AÎle");
    }

    #[test]
    fn properties_also_escape_semicolons_and_brackets() {
        assert_eq!(
            escape_property("Ventes – Île-de-France 100%;x]\n"),
            "Ventes – Île-de-France 100%AZP25%3Bx%5D%0A"
        );
        assert_eq!(escape_property("%3B"), "%AZP253B");
    }
}
