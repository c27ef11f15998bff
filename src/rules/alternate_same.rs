//! `ports/alternate-same`: an alternate client request port equal to its main port.

use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::Model;

pub static RULE: RuleInfo = RuleInfo {
    code: "ports/alternate-same",
    default_severity: Severity::Warning,
    summary: "An alternate client request port equals its main port",
    docs: r#"## What it does
Reports `client-ports http-alternate=N` equal to `http` (default 80), and
`https-alternate=N` equal to `https` (default 443).

## Why
"How to configure client communication ports": *you can specify both a default port
number and an alternative port number. If communication fails with the default port,
clients automatically try the alternative port.* An alternate equal to the main port
gives clients nothing to fall back to ("Ports used in Configuration Manager", Note 2:
alternate port available); it is almost always a typo for another port.

## Example that fails
```kdl
site "P01" type="primary" {
    client-ports http=80 http-alternate=80
}
```

## Fixed example
```kdl
site "P01" type="primary" {
    client-ports http=80 http-alternate=8080
}
```

## References

- [Ports used in Configuration Manager, Note 2: alternate port available](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#bkmk_note2)
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for site in &model.sites {
        let Some((props, _)) = &site.client_ports else {
            continue;
        };
        for (main, alternate, default) in [
            ("http", "http-alternate", 80),
            ("https", "https-alternate", 443),
        ] {
            let Some(alt) = props.get(alternate) else {
                continue;
            };
            let Some(alt_port) = props.port(alternate) else {
                continue;
            };
            let main_port = props.port(main).unwrap_or(default);
            if alt_port != main_port {
                continue;
            }
            let upper = main.to_ascii_uppercase();
            let mut d = Diagnostic::new(
                &RULE,
                format!(
                    "site {}: {alternate} port {alt_port} equals the {upper} port{}",
                    site.code.value,
                    if props.get(main).is_some() {
                        ""
                    } else {
                        " (default)"
                    }
                ),
                Label::new(alt.span, "same as the main port"),
            );
            if let Some(m) = props.get(main) {
                d = d.with_label(Label::new(m.span, format!("{upper} port {main_port}")));
            }
            out.push(d.with_help(format!(
                "remove `{alternate}={alt_port}`, or set it to the port clients should try when {main_port} fails"
            )));
        }
    }
}
