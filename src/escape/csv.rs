//! CSV (RFC 4180, the `csv` export and `flows --format csv`): one field.
//!
//! A field holding a comma, a quote or a line break is quoted, its quotes doubled. A
//! field that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`,
//! tab or carriage return: OWASP's "CSV injection") is prefixed with `'`, which
//! spreadsheets show as text; cmflow never writes such a value itself, so the prefix
//! marks a name.

use std::borrow::Cow;

/// The characters that start a formula in Excel, `LibreOffice` and Google Sheets.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One CSV field (borrowed when it needs neither quotes nor the formula guard, as nearly
/// every field).
pub fn field(s: &str) -> Cow<'_, str> {
    let guard = if s.starts_with(FORMULA_START) {
        "'"
    } else {
        ""
    };
    if s.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{guard}{}\"", s.replace('"', "\"\"")))
    } else if guard.is_empty() {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(format!("{guard}{s}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::strategies;
    use proptest::prelude::*;

    #[test]
    fn quotes_and_formulas() {
        assert_eq!(field("a"), "a");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("1024-65535"), "1024-65535");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// A record of three fields reads back as three fields, the name intact (behind
        /// the formula guard when it starts like a formula).
        #[test]
        fn names_come_back_intact(name in strategies::name()) {
            // The first field of a file is always cmflow's header.
            let line = format!("start,{},{},end\r\n", field(&name), field(&name));
            let mut reader = ::csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
            let records: Vec<::csv::StringRecord> = reader.records().collect::<Result<_, _>>().map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(records.len(), 1);
            let expected = if name.starts_with(FORMULA_START) { format!("'{name}") } else { name.clone() };
            prop_assert_eq!(records[0].len(), 4);
            prop_assert_eq!(&records[0][1], expected.as_str());
            prop_assert_eq!(&records[0][2], expected.as_str());
            prop_assert_eq!(&records[0][3], "end");
            prop_assert!(!records[0][1].starts_with(FORMULA_START));
        }
    }
}
