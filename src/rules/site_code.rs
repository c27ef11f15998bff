//! `hierarchy/site-code`: a site code that Configuration Manager setup refuses.

use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::Model;

pub static RULE: RuleInfo = RuleInfo {
    code: "hierarchy/site-code",
    default_severity: Severity::Error,
    summary: "A site code is not three letters or digits, or is a reserved name",
    docs: r#"## What it does
Checks every `site` code: exactly three characters, each a letter (`A`-`Z`, `a`-`z`) or a
digit, and none of the names Windows reserves for devices and Configuration Manager for
itself: `AUX`, `CON`, `NUL`, `PRN`, `SMS` (in any case).

## Why
The site code names the site everywhere: in the site database name (`CM_P01`), in
shares, in the client's assignment and in Active Directory. Setup accepts only three
alphanumeric characters and refuses the reserved names ("Prepare to install sites:
About site codes and site names", Microsoft's Configuration Manager documentation);
the code can't be changed after installation. Client communication and the ports
documents (`ports/*` checks, "How to configure client communication ports") all name
sites by this code.

## Example that fails
```kdl
site "SMS" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
}
```

## Fixed example
```kdl
site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
}
```
"#,
};

const RESERVED: [&str; 5] = ["AUX", "CON", "NUL", "PRN", "SMS"];

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    for site in &model.sites {
        let code = &site.code.value;
        let problem = if code.chars().count() != 3 {
            format!(
                "has {} characters: a site code is three letters or digits",
                code.chars().count()
            )
        } else if !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            "holds a character that is not a letter or a digit".to_owned()
        } else if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(code)) {
            format!("is reserved ({})", RESERVED.join(", "))
        } else {
            continue;
        };
        out.push(
            Diagnostic::new(
                &RULE,
                format!("site code `{code}` {problem}"),
                Label::new(site.code.span, "invalid site code"),
            )
            .with_help(format!(
                "choose three letters or digits that are not {}, e.g. `site \"{}\"`",
                RESERVED.join(", "),
                suggestion(site.site_type)
            )),
        );
    }
}

fn suggestion(t: crate::model::SiteType) -> &'static str {
    match t {
        crate::model::SiteType::Central => "CAS",
        crate::model::SiteType::Primary => "P01",
        crate::model::SiteType::Secondary => "S01",
    }
}
