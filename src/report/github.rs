//! `--format github`: GitHub Actions workflow commands, one annotation per diagnostic:
//! `::error file=F,line=L,col=C,endLine=..,endColumn=..,title=CODE::F:L:C: MESSAGE`
//! (`::warning`, `::notice` for info), escaped as the Actions runner expects.

use std::io::{self, Write};

use super::{CheckReport, Place, escape_chars, placed_message};
use crate::diag::Severity;

pub fn write(out: &mut dyn Write, report: &CheckReport<'_>) -> io::Result<()> {
    for d in report.diagnostics {
        let place = Place::of(report.sources, d.primary.span);
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let file = escape_property(place.file);
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
            escape_property(d.code),
            escape_data(&placed_message(&place, "", d))
        )?;
    }
    Ok(())
}

/// The escaping of a command's message: `%`, CR and LF.
fn escape_data(s: &str) -> String {
    escape_chars(s, &[('%', "%25"), ('\r', "%0D"), ('\n', "%0A")])
}

/// The escaping of a property value: the message's, plus `:` and `,`, which end a value.
fn escape_property(s: &str) -> String {
    escape_chars(
        s,
        &[
            ('%', "%25"),
            ('\r', "%0D"),
            ('\n', "%0A"),
            (':', "%3A"),
            (',', "%2C"),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escapes_percent_and_line_breaks_only() {
        assert_eq!(
            escape_data("100% sure: a, b\r\nc – Île"),
            "100%25 sure: a, b%0D%0Ac – Île"
        );
    }

    #[test]
    fn properties_also_escape_colons_and_commas() {
        assert_eq!(
            escape_property("Ventes – Île-de-France 100%, a:b\n"),
            "Ventes – Île-de-France 100%25%2C a%3Ab%0A"
        );
        // `%` first, so that an escape is never escaped again.
        assert_eq!(escape_property("%3A"), "%253A");
    }
}
