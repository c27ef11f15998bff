//! `ports/non-default-client-ports`: custom client request ports that some clients cannot
//! learn from Active Directory.

use super::facts::{groups_using_ports_of, sites_writing_client_ports};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::{Model, Span};

pub static RULE: RuleInfo = RuleInfo {
    code: "ports/non-default-client-ports",
    default_severity: Severity::Warning,
    summary: "Custom client request ports that some client groups cannot read from Active Directory",
    docs: r#"## What it does
For every primary site whose client request ports (`client-ports http=` / `https=`)
differ from 80 and 443, lists the Windows client groups of the site and of its
secondary sites that cannot read the ports from Active Directory:
- `workgroup=#true` (workgroup clients),
- `forest="..."` (clients of another Active Directory forest),
- `internet=#true` (internet-only clients, or clients on the internet),
- any group of a site with `published-to-ad=#false`.

One warning per site names every such group and why.

## Why
"How to configure client communication ports", § How clients get the port
configuration: clients that can access the site data published to Active Directory
Domain Services get the ports automatically; *workgroup clients, clients from another
Active Directory forest, clients that are configured for internet-only and clients that
are currently on the internet* cannot. *If you change the default port numbers after
you install these clients, reinstall them*, with the CCMSetup.exe client.msi properties
**CCMHTTPPORT** and **CCMHTTPSPORT**; for clients on the internet this is the only way.
Otherwise they keep the old ports and become unmanaged.

## Example that fails
```kdl
site "P01" type="primary" {
    client-ports http=8080 https=8443
}
clients "Kiosk PCs" site="P01" zone="hq" workgroup=#true
```

## Fixed example
Either keep the default ports:
```kdl
site "P01" type="primary" {
    client-ports http=80 https=443
}
clients "Kiosk PCs" site="P01" zone="hq" workgroup=#true
```
or install the group with `CCMSetup.exe CCMHTTPPORT=8080 CCMHTTPSPORT=8443` and, once
done, record it with `suppress "ports/non-default-client-ports" reason="..."` on the
`client-ports` node.

## References

- [How to configure client communication ports in Configuration Manager](https://learn.microsoft.com/en-us/intune/configmgr/core/clients/deploy/configure-client-communication-ports)
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for (i, ports) in sites_writing_client_ports(model) {
        let site = &model.sites[i];
        if !ports.non_default() {
            continue;
        }
        let blind: Vec<(usize, String, Span)> = groups_using_ports_of(model, i)
            .into_iter()
            .filter_map(|g| {
                let (why, span) = no_active_directory(model, g)?;
                Some((g, why, span))
            })
            .collect();
        if blind.is_empty() {
            continue;
        }
        let names: Vec<String> = blind
            .iter()
            .map(|(g, why, _)| format!("\"{}\" ({why})", model.clients[*g].name.value))
            .collect();
        let (first, second) = if ports.http.port == 80 {
            (ports.https, None)
        } else if ports.https.port == 443 {
            (ports.http, None)
        } else {
            (ports.http, Some(ports.https))
        };
        let mut d = Diagnostic::new(
            &RULE,
            format!(
                "site {} uses client request ports {}/{}, which client {} {} cannot read from Active Directory",
                site.code.value,
                ports.http.port,
                ports.https.port,
                if blind.len() == 1 { "group" } else { "groups" },
                names.join(", ")
            ),
            Label::new(first.span, "non-default port"),
        );
        if let Some(s) = second {
            d = d.with_label(Label::new(s.span, "non-default port"));
        }
        for (_, why, span) in &blind {
            d = d.with_label(Label::new(*span, why.clone()));
        }
        out.push(d.with_help(format!(
            "install these clients with `CCMSetup.exe CCMHTTPPORT={} CCMHTTPSPORT={}` (reinstall those already installed), or use the default ports 80/443",
            ports.http.port, ports.https.port
        )));
    }
}

/// Why a Windows client group cannot read the site's ports from Active Directory, and
/// the property that says so.
fn no_active_directory(model: &Model, group: usize) -> Option<(String, Span)> {
    let c = &model.clients[group];
    if c.props.str("type").is_some_and(|t| t != "windows") {
        return None;
    }
    if c.props.bool("workgroup") {
        return Some((
            "workgroup".into(),
            c.props.span_of("workgroup", c.name.span),
        ));
    }
    if let Some(forest) = c.props.str("forest") {
        return Some((
            format!("forest {forest}"),
            c.props.span_of("forest", c.name.span),
        ));
    }
    if c.props.bool("internet") {
        return Some(("internet".into(), c.props.span_of("internet", c.name.span)));
    }
    let site = model.site_id(&c.site.value)?;
    let s = &model.sites[site];
    if !s.props.bool("published-to-ad") {
        return Some((
            format!("site {} not published to AD", s.code.value),
            c.site.span,
        ));
    }
    None
}
