//! `--format junit`: a JUnit XML report for CI test views. One `testsuite` per file of the
//! model, holding one `testcase` per rule of the registry: a rule with no finding in the
//! file passes, and each diagnostic is a `failure` of its rule's case (`type` is its
//! severity). No times or timestamps, so that the report is deterministic.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::{CheckReport, Place};
use crate::diag::Diagnostic;

pub fn write(out: &mut dyn Write, report: &CheckReport<'_>) -> io::Result<()> {
    // File name -> its diagnostics; every user file appears, clean or not.
    let mut files: BTreeMap<&str, Vec<&Diagnostic>> = report
        .sources
        .iter()
        .filter(|(_, f)| !f.builtin)
        .map(|(_, f)| (f.name.as_str(), Vec::new()))
        .collect();
    for d in report.diagnostics {
        let name = report.sources.get(d.primary.span.source).name.as_str();
        files.entry(name).or_default().push(d);
    }
    let mut codes: Vec<&str> = report.rules.iter().map(|r| r.code).collect();
    for d in report.diagnostics {
        if !codes.contains(&d.code) {
            codes.push(d.code);
        }
    }

    let mut suites = String::new();
    let (mut tests, mut failures) = (0, 0);
    for (file, diagnostics) in &files {
        let mut cases = String::new();
        let mut failed = 0;
        for code in &codes {
            let found: Vec<&&Diagnostic> = diagnostics.iter().filter(|d| d.code == *code).collect();
            let _ = write!(
                cases,
                "    <testcase name=\"{}\" classname=\"{}\"",
                escape(code),
                escape(file)
            );
            if found.is_empty() {
                cases.push_str("/>\n");
                continue;
            }
            failed += 1;
            cases.push_str(">\n");
            for d in found {
                let place = Place::of(report.sources, d.primary.span);
                let mut body = format!(
                    "{}:{}:{}: {}[{}] {}",
                    place.file, place.line, place.column, d.severity, d.code, d.message
                );
                if let Some(help) = &d.help {
                    body.push_str("\nhelp: ");
                    body.push_str(help);
                }
                let _ = writeln!(
                    cases,
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                    escape(&d.message),
                    d.severity,
                    escape(&body)
                );
            }
            cases.push_str("    </testcase>\n");
        }
        tests += codes.len();
        failures += failed;
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\">\n{cases}  </testsuite>\n",
            escape(file),
            codes.len()
        );
    }
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"cmflow\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">\n{suites}</testsuites>\n"
    )
}

/// Text safe in XML content and in double- or single-quoted attributes: the five special
/// characters as entities, line breaks and tabs as character references (attributes would
/// otherwise normalise them to spaces), and characters XML 1.0 forbids as U+FFFD.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_line_breaks_and_forbidden_characters() {
        assert_eq!(
            escape("a < b & \"c\" 'd' > e\nÎle 100%\u{1}"),
            "a &lt; b &amp; &quot;c&quot; &apos;d&apos; &gt; e&#10;Île 100%\u{fffd}"
        );
    }
}
