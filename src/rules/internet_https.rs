//! `ports/internet-https`: an HTTPS request port other than 443 for clients on the
//! internet.

use super::facts::{groups_using_ports_of, sites_writing_client_ports};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::{CloudKind, Model};

pub static RULE: RuleInfo = RuleInfo {
    code: "ports/internet-https",
    default_severity: Severity::Warning,
    summary: "The HTTPS client request port is not 443 while the site serves internet clients or has a cloud management gateway",
    docs: r#"## What it does
Reports a primary site whose HTTPS client request port (`client-ports https=`) is not
443 while it (or one of its secondary sites) serves a client group with
`internet=#true`, or has a `cloud-management-gateway`.

## Why
"How to configure client communication ports": *if you will manage clients on the
internet, and change the default HTTPS port number of 443, routers and firewalls on the
internet might block this communication.* Hotel, home and mobile networks rarely open
anything but 443 outbound, and those clients must also be reinstalled with
`CCMHTTPSPORT` ("For existing and new clients that are currently on the internet,
configure the non-default port numbers by using the CCMSetup.exe client.msi properties
of CCMHTTPPORT and CCMHTTPSPORT").

## Example that fails
```kdl
site "P01" type="primary" {
    client-ports https=8443
}
clients "Road warriors" site="P01" zone="internet" internet=#true
```

## Fixed example
```kdl
site "P01" type="primary" {
    client-ports https=443
}
clients "Road warriors" site="P01" zone="internet" internet=#true
```
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for (i, ports) in sites_writing_client_ports(model) {
        let site = &model.sites[i];
        if ports.https.port == 443 {
            continue;
        }
        let mut reasons: Vec<(String, Label)> = groups_using_ports_of(model, i)
            .into_iter()
            .map(|g| &model.clients[g])
            .filter(|c| c.props.bool("internet"))
            .map(|c| {
                (
                    format!("internet client group \"{}\"", c.name.value),
                    Label::new(c.props.span_of("internet", c.name.span), "on the internet"),
                )
            })
            .collect();
        for c in &model.cloud_services {
            if c.kind == CloudKind::ManagementGateway
                && model
                    .site_id(&c.site.value)
                    .is_some_and(|s| model.client_ports_site(s) == i)
            {
                reasons.push((
                    format!("cloud management gateway \"{}\"", c.name.value),
                    Label::new(c.name.span, "cloud management gateway"),
                ));
            }
        }
        if reasons.is_empty() {
            continue;
        }
        let what: Vec<&str> = reasons.iter().map(|(w, _)| w.as_str()).collect();
        let mut d = Diagnostic::new(
            &RULE,
            format!(
                "site {} uses HTTPS client request port {} but serves {}: internet networks often open only 443",
                site.code.value,
                ports.https.port,
                what.join(", ")
            ),
            Label::new(ports.https.span, "not 443"),
        );
        for (_, label) in reasons {
            d = d.with_label(label);
        }
        out.push(d.with_help(format!(
            "set `https=443` in the client-ports of site {}",
            site.code.value
        )));
    }
}
