//! `ports/secondary-override`: a secondary site that sets `client-ports`.

use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::{Model, SiteType};

pub static RULE: RuleInfo = RuleInfo {
    code: "ports/secondary-override",
    default_severity: Severity::Error,
    summary: "A secondary site sets client-ports; secondaries inherit their parent primary's",
    docs: r#"## What it does
Reports a `client-ports` node inside a secondary site, even one whose values equal the
parent's: the ports are inherited, never set at a secondary.

## Why
"How to configure client communication ports": *when you change the request ports on
a primary site, any attached secondary sites automatically inherit the same port
configuration*, and the ports are configured on the primary site only ("Repeat this
procedure for all primary sites in the hierarchy"). A `client-ports` at a secondary
describes a setting that does not exist; cmflow computes the secondary's flows with the
parent's ports, so the node only misleads the reader.

## Example that fails
```kdl
site "P01" type="primary" {
    client-ports http=8080 https=8443
}
site "S01" type="secondary" parent="P01" {
    client-ports http=8080 https=8443
}
```

## Fixed example
```kdl
site "P01" type="primary" {
    client-ports http=8080 https=8443
}
site "S01" type="secondary" parent="P01"
```
"#,
};

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for (i, site) in model.sites.iter().enumerate() {
        if site.site_type != SiteType::Secondary {
            continue;
        }
        let Some((_, node)) = &site.client_ports else {
            continue;
        };
        let code = &site.code.value;
        let parent = model.parent_of(i).map(|p| &model.sites[p]);
        let message = match parent {
            Some(p) => format!(
                "secondary site {code} sets client-ports; it inherits the client ports of its parent {}",
                p.code.value
            ),
            None => format!(
                "secondary site {code} sets client-ports; a secondary inherits its parent primary's"
            ),
        };
        let mut d = Diagnostic::new(&RULE, message, Label::new(*node, "set at a secondary site"));
        if let Some(p) = parent {
            d = d.with_label(match &p.client_ports {
                Some((_, pnode)) => Label::new(*pnode, format!("the ports of {}", p.code.value)),
                None => Label::new(
                    p.code.span,
                    format!("{} uses the default ports", p.code.value),
                ),
            });
        }
        let help = match parent {
            Some(p) => format!(
                "remove `client-ports` from site {code}; to change its ports, change those of {}",
                p.code.value
            ),
            None => format!("remove `client-ports` from site {code}"),
        };
        out.push(d.with_help(help));
    }
}
