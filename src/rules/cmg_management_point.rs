//! `hierarchy/cmg-management-point`: a site with a cloud management gateway and no
//! management point that accepts its traffic (HTTPS, or HTTP with Enhanced HTTP).

use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::{CloudKind, Model};

pub static RULE: RuleInfo = RuleInfo {
    code: "hierarchy/cmg-management-point",
    default_severity: Severity::Error,
    summary: "A site with a cloud management gateway has no management point that accepts HTTPS (or enhanced HTTP)",
    docs: r#"## What it does
Reports a `cloud-management-gateway` whose site has no `management-point https=#true`,
unless the site sets `enhanced-http=#true` and has a management point that accepts HTTP.

## Why
"Plan for cloud management gateway" (Configure management points): *enable at least one
management point for HTTPS, or configure the site for Enhanced HTTP*; the management
point's "Allow Configuration Manager cloud management gateway traffic" needs either. A
gateway in front of HTTP-only management points serves no client.

## Example that fails
```kdl
site "P01" type="primary" {
    server "mp01.contoso.com" zone="datacenter" { management-point http=#true; }
}
cloud-management-gateway "cmg-p01" site="P01"
```

## Fixed example
```kdl
site "P01" type="primary" enhanced-http=#true {
    server "mp01.contoso.com" zone="datacenter" { management-point http=#true; }
}
cloud-management-gateway "cmg-p01" site="P01"
```
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for cmg in &model.cloud_services {
        if cmg.kind != CloudKind::ManagementGateway {
            continue;
        }
        let Some(site_id) = model.site_id(&cmg.site.value) else {
            continue;
        };
        let site = &model.sites[site_id];
        let enhanced = site.props.bool("enhanced-http");
        let mps: Vec<&crate::model::Role> = site
            .servers
            .iter()
            .filter_map(|&s| model.servers[s].role("management-point"))
            .collect();
        let accepts = mps
            .iter()
            .any(|r| r.props.bool("https") || (enhanced && r.props.bool("http")));
        if accepts {
            continue;
        }
        let mut d = Diagnostic::new(
            &RULE,
            format!(
                "cloud management gateway \"{}\" of site {} has no management point that accepts HTTPS or enhanced HTTP",
                cmg.name.value, site.code.value
            ),
            Label::new(cmg.name.span, "no management point can serve it"),
        );
        if let Some(mp) = mps.first() {
            d = d.with_label(Label::new(mp.span, "HTTP only"));
        }
        out.push(d.with_help(format!(
            "set `https=#true` on a management point of site {0} (with a PKI certificate), or write `enhanced-http=#true` on site \"{0}\"",
            site.code.value
        )));
    }
}
