//! CI workflow commands: GitHub Actions' `::error file=...::MESSAGE` and Azure
//! Pipelines' `##vso[task.logissue ...]MESSAGE`. Each runner reads one command per line
//! and percent-decodes its fields; anything else in the line reaches a log viewer that
//! interprets ANSI escapes. So forbidden characters are first made visible (line feeds
//! kept), then each runner's own escapes apply.

/// `s` with each character of `table` replaced by its escape, in one pass (so that an
/// escape is never escaped again), and every other forbidden character made visible.
fn escape_chars(s: &str, table: &[(char, &str)]) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match table.iter().find(|(from, _)| *from == c) {
            Some((_, to)) => out.push_str(to),
            None if super::forbidden_char(c) => out.push_str(&super::visible(c)),
            None => out.push(c),
        }
    }
    out
}

/// GitHub: a command's message: `%`, CR and LF.
pub fn github_data(s: &str) -> String {
    escape_chars(s, &[('%', "%25"), ('\r', "%0D"), ('\n', "%0A")])
}

/// GitHub: a property value: the message's escapes, plus `:` and `,`, which end a value.
pub fn github_property(s: &str) -> String {
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

/// Azure: a command's message, as the Azure Pipelines task library writes it: `%`
/// becomes `%AZP25`, CR `%0D`, LF `%0A`.
pub fn azure_data(s: &str) -> String {
    escape_chars(s, &[('%', "%AZP25"), ('\r', "%0D"), ('\n', "%0A")])
}

/// Azure: a property value: the message's escapes, plus `;` (ends a property) and `]`
/// (ends the properties).
pub fn azure_property(s: &str) -> String {
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
    use crate::escape::strategies;
    use proptest::prelude::*;

    #[test]
    fn github() {
        assert_eq!(
            github_data("100% sure: a, b\r\nc – Île"),
            "100%25 sure: a, b%0D%0Ac – Île"
        );
        assert_eq!(
            github_property("Ventes – Île-de-France 100%:x,\n"),
            "Ventes – Île-de-France 100%25%3Ax%2C%0A"
        );
        assert_eq!(github_data("a\u{1b}[2J"), "a\\u{001b}[2J");
    }

    #[test]
    fn azure() {
        assert_eq!(azure_data("100%; [a]\r\nÎle"), "100%AZP25; [a]%0D%0AÎle");
        assert_eq!(
            azure_property("Ventes – Île-de-France 100%;x]\n"),
            "Ventes – Île-de-France 100%AZP25%3Bx%5D%0A"
        );
        assert_eq!(azure_property("%3B"), "%AZP253B");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// One command stays one line, and its properties stay one property each.
        #[test]
        fn commands_stay_on_one_line(name in strategies::name()) {
            for out in [github_data(&name), github_property(&name), azure_data(&name), azure_property(&name)] {
                prop_assert!(!out.chars().any(crate::escape::forbidden_char), "{out:?}");
            }
            prop_assert!(!github_property(&name).contains([':', ',']));
            prop_assert!(!azure_property(&name).contains([';', ']']));
        }
    }
}
