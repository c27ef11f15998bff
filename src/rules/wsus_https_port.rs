//! `wsus/https-port`: a WSUS HTTPS port that does not follow its HTTP port.

use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::{Model, Role};

pub static RULE: RuleInfo = RuleInfo {
    code: "wsus/https-port",
    default_severity: Severity::Error,
    summary: "A WSUS HTTPS port is not 443 with HTTP 80, or not HTTP + 1 otherwise",
    docs: r#"## What it does
Checks the WSUS ports of every `software-update-point` (`wsus-http`, default 8530, and
`wsus-https`, default 8531) and every upstream `wsus-server` (`http`, `https`): when
the HTTP port is 80 the HTTPS port must be 443; otherwise it must be the HTTP port + 1.
80/443 and 8530/8531 pass; 80/8531 and 8530/8532 fail.

## Why
"Ports used in Configuration Manager", Note 3 (Windows Server Update Services): *WSUS
can be installed to use ports 80/443 or ports 8530/8531 for client communication [...]
If the HTTP port is 80, the HTTPS port must be 443. If the HTTP port is anything else,
the HTTPS port must be 1 or higher, for example, 8530 and 8531.* "1 or higher" is the
article's wording; its example, and WSUS itself (which derives the HTTPS port from the
HTTP port), mean the HTTP port + 1, which is what this check asks. WSUS derives one from
the other; a model that says otherwise computes the wrong Client --> software update
point and software update point --> upstream WSUS flows, and the firewall opens the
wrong port.

## Example that fails
```kdl
server "sup01.contoso.com" zone="datacenter" {
    software-update-point wsus-http=8530 wsus-https=8532
}
```

## Fixed example
```kdl
server "sup01.contoso.com" zone="datacenter" {
    software-update-point wsus-http=8530 wsus-https=8531
}
```

## References

- [Ports used in Configuration Manager, Note 3: Windows Server Update Services (WSUS)](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#bkmk_note3)
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for server in &model.servers {
        for role in &server.roles {
            let (what, http, https) = match role.name {
                "software-update-point" => ("software update point", "wsus-http", "wsus-https"),
                "wsus-server" => ("upstream WSUS server", "http", "https"),
                _ => continue,
            };
            check_role(&server.fqdn.value, what, role, http, https, out);
        }
    }
}

fn check_role(
    fqdn: &str,
    what: &str,
    role: &Role,
    http: &str,
    https: &str,
    out: &mut Vec<Diagnostic>,
) {
    let (Some(http_port), Some(https_port)) = (role.props.port(http), role.props.port(https))
    else {
        return;
    };
    let expected = if http_port == 80 {
        443
    } else {
        match http_port.checked_add(1) {
            Some(p) => p,
            None => return,
        }
    };
    if https_port == expected {
        return;
    }
    let why = if http_port == 80 {
        "the HTTP port is 80".to_owned()
    } else {
        "HTTP port + 1".to_owned()
    };
    let http_label = |text: &str| {
        Label::new(
            role.props.span_of(http, role.span),
            if role.props.get(http).is_some() {
                format!("HTTP port {http_port}{text}")
            } else {
                format!("HTTP port {http_port} (default){text}")
            },
        )
    };
    // The HTTPS value is the one at fault unless only the HTTP port was written.
    let d = if role.props.get(https).is_some() || role.props.get(http).is_none() {
        Diagnostic::new(
            &RULE,
            format!("{what} {fqdn}: WSUS HTTPS port {https_port} must be {expected} ({why})"),
            Label::new(role.props.span_of(https, role.span), "this port"),
        )
        .with_label(http_label(""))
    } else {
        Diagnostic::new(
            &RULE,
            format!(
                "{what} {fqdn}: WSUS HTTPS port {https_port} (default) must be {expected} ({why})"
            ),
            http_label(&format!(" needs HTTPS port {expected}")),
        )
    };
    // The edit: the written HTTPS value, or `https=` written after the HTTP value.
    let fix = match (role.props.get(https), role.props.get(http)) {
        (Some(v), _) => Some((v.span, expected.to_string())),
        (None, Some(v)) => Some((
            crate::model::Span::new(v.span.source, v.span.end, v.span.end),
            format!(" {https}={expected}"),
        )),
        (None, None) => None,
    };
    let d = d.with_help(format!("set {https}={expected}"));
    out.push(match fix {
        Some((span, replacement)) => d.with_fix(span, replacement),
        None => d,
    });
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::rules::facts::findings;

    fn sup(props: &str) -> Vec<String> {
        findings(
            check,
            &format!(
                "zone \"dc\"\nsite \"P01\" type=\"primary\" {{\n    server \"sup01\" zone=\"dc\" {{\n        software-update-point {props}\n    }}\n}}\n"
            ),
        )
    }

    /// The `software-update-point` line with each diagnostic's fix applied.
    fn fixed(props: &str) -> Vec<String> {
        let text = format!(
            "zone \"dc\"\nsite \"P01\" type=\"primary\" {{\n    server \"sup01\" zone=\"dc\" {{\n        software-update-point {props}\n    }}\n}}\n"
        );
        let model = crate::engine::test_model(&text);
        let mut out = Vec::new();
        check(&model, &mut out);
        out.iter()
            .map(|d| {
                let fix = d.fix.as_ref().expect("a fix");
                let mut edited = text.clone();
                edited.replace_range(fix.span.start..fix.span.end, &fix.replacement);
                edited.lines().nth(3).unwrap_or_default().trim().to_owned()
            })
            .collect()
    }

    #[test]
    fn the_fix_writes_the_https_port_the_http_port_asks_for() {
        assert_eq!(
            fixed("wsus-http=8530 wsus-https=8532"),
            ["software-update-point wsus-http=8530 wsus-https=8531"]
        );
        assert_eq!(
            fixed("wsus-https=8531 wsus-http=80"),
            ["software-update-point wsus-https=443 wsus-http=80"]
        );
        // Only the HTTP port written: the HTTPS port is added after it.
        assert_eq!(
            fixed("wsus-http=80 upstream=\"internet\""),
            ["software-update-point wsus-http=80 wsus-https=443 upstream=\"internet\""]
        );
        assert_eq!(
            fixed("wsus-https=443"),
            ["software-update-point wsus-https=8531"]
        );
    }

    #[test]
    fn https_follows_http_as_note_3_says() {
        assert!(sup("").is_empty(), "defaults 8530/8531");
        assert!(sup("wsus-http=80 wsus-https=443").is_empty());
        assert!(sup("wsus-http=8530 wsus-https=8531").is_empty());
        assert!(sup("wsus-http=9000 wsus-https=9001").is_empty());
        assert_eq!(
            sup("wsus-http=80 wsus-https=8531"),
            [
                "4: software update point sup01: WSUS HTTPS port 8531 must be 443 (the HTTP port is 80)"
            ]
        );
        assert_eq!(
            sup("wsus-http=8530 wsus-https=8532"),
            ["4: software update point sup01: WSUS HTTPS port 8532 must be 8531 (HTTP port + 1)"]
        );
        assert_eq!(
            sup("wsus-http=80"),
            [
                "4: software update point sup01: WSUS HTTPS port 8531 (default) must be 443 (the HTTP port is 80)"
            ]
        );
        assert_eq!(
            sup("wsus-https=443"),
            ["4: software update point sup01: WSUS HTTPS port 443 must be 8531 (HTTP port + 1)"]
        );
        assert!(
            sup("wsus-http=65535 wsus-https=1").is_empty(),
            "no HTTP + 1"
        );
    }
}
