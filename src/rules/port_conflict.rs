//! `ports/conflict`: two services of one server that need the same protocol and port.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::facts::{
    ClientPorts, PortSetting, SqlPortKind, free_port, replicating_instances, sql_ports,
};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::model::{Model, ServerId, Span};

pub static RULE: RuleInfo = RuleInfo {
    code: "ports/conflict",
    default_severity: Severity::Error,
    summary: "Two services need the same protocol and port on one server",
    docs: r#"## What it does
Lists every TCP port each server listens on, from its roles and instances, and reports
two different services on the same port:
- the site's client request ports (`client-ports http`, `https` and their alternates)
  on servers with an IIS-hosted role (management point, distribution point, fallback
  status point, state migration point, application catalog points);
- the client notification port (`client-ports notification`, default 10123) on
  management points;
- the WSUS ports of a software update point (`wsus-http`, `wsus-https`) and of an
  upstream `wsus-server` (`http`, `https`);
- the reporting services point's `http` and `https`;
- every static SQL Server port and Service Broker port of the server's instances;
- Windows' own RPC endpoint mapper (TCP 135) and SMB (TCP 445) on every server.

Not conflicts: the IIS-hosted roles sharing the site's client request ports (by
design), a reporting services point sharing them through HTTP.sys with the same scheme
(HTTP with HTTP, HTTPS with HTTPS), an alternate port equal to its main port
(`ports/alternate-same`), and two SQL Server instances on one port
(`sql/duplicate-port`). One diagnostic per pair of settings, listing the servers.

## Why
One port, one listener: "Ports used in Configuration Manager" gives each service its
own port (§ Client --> management point: HTTP, HTTPS and client notification 10123;
§ Client --> software update point: 80/443 or 8530/8531; § Connections to Microsoft SQL
Server: SQL 1433 and Service Broker 4022), and "How to configure client communication
ports" warns that changing the default website's ports breaks the other applications
that use it. When the client notification port equals the HTTP port, or WSUS is bound
to the management point's port on a shared server, one of the two services cannot
start and every flow to it fails.

## Example that fails
```kdl
site "P01" type="primary" {
    client-ports http=80 https=443 notification=80
    server "cm01.contoso.com" zone="datacenter" {
        site-server
        management-point
    }
}
```

## Fixed example
```kdl
site "P01" type="primary" {
    client-ports http=80 https=443 notification=10123
    server "cm01.contoso.com" zone="datacenter" {
        site-server
        management-point
    }
}
```

## References

- [Ports used in Configuration Manager, Client --> Management point](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_PortsClient-MP)
- [Ports used in Configuration Manager, Client --> Software update point](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_PortsClient-SUP)
- [Ports used in Configuration Manager, Connections to Microsoft SQL Server](https://learn.microsoft.com/en-us/intune/configmgr/core/plan-design/hierarchy/ports#BKMK_SQLPorts)
- [How to configure client communication ports in Configuration Manager](https://learn.microsoft.com/en-us/intune/configmgr/core/clients/deploy/configure-client-communication-ports)
"#,
};

/// Roles that IIS hosts on the site's client request ports.
const IIS_ROLES: [&str; 6] = [
    "management-point",
    "distribution-point",
    "fallback-status-point",
    "state-migration-point",
    "application-catalog-website-point",
    "application-catalog-web-service-point",
];

/// A role's port property, its scheme when HTTP.sys may share it, and its default.
type WebPort = (&'static str, Option<Scheme>, u16);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

/// One TCP listener of a server.
#[derive(Clone)]
struct Listener {
    setting: PortSetting,
    /// E.g. `the client notification port of site P01`.
    what: String,
    /// Web listeners share a port through HTTP.sys when their schemes match.
    web: Option<Scheme>,
    /// The SQL Server instance, for `sql/duplicate-port`'s pairs.
    sql_instance: Option<usize>,
    /// The property to change and its documented default, when it can be changed.
    fix: Option<(&'static str, u16)>,
}

/// The services of one setting's port: the setting to change, the other services on
/// its port, and the servers where they meet.
struct Conflict {
    port: u16,
    setting: Listener,
    others: Vec<Listener>,
    servers: BTreeSet<ServerId>,
}

pub fn check(model: &Model, out: &mut Vec<Diagnostic>) {
    let replicating = replicating_instances(model);
    // One diagnostic per setting to change: the notification port equal to both the HTTP
    // port and its alternate is one mistake.
    let mut conflicts: BTreeMap<(Span, u16), Conflict> = BTreeMap::new();
    let mut ports_of: Vec<Vec<u16>> = Vec::with_capacity(model.servers.len());
    for s in 0..model.servers.len() {
        let listeners = listeners(model, s, &replicating);
        let mut by_port: BTreeMap<u16, Vec<&Listener>> = BTreeMap::new();
        for l in &listeners {
            by_port.entry(l.setting.port).or_default().push(l);
        }
        for (port, list) in by_port {
            for (n, &a) in list.iter().enumerate() {
                for &b in &list[n + 1..] {
                    if !conflict(a, b) {
                        continue;
                    }
                    let (setting, other) = if changeable(b) || !changeable(a) {
                        (b, a)
                    } else {
                        (a, b)
                    };
                    let c = conflicts
                        .entry((setting.setting.span, port))
                        .or_insert_with(|| Conflict {
                            port,
                            setting: setting.clone(),
                            others: Vec::new(),
                            servers: BTreeSet::new(),
                        });
                    if !c
                        .others
                        .iter()
                        .any(|o| o.setting.span == other.setting.span)
                    {
                        c.others.push(other.clone());
                    }
                    c.servers.insert(s);
                }
            }
        }
        ports_of.push(listeners.iter().map(|l| l.setting.port).collect());
    }
    for c in conflicts.into_values() {
        let taken: Vec<u16> = c
            .servers
            .iter()
            .flat_map(|&s| ports_of[s].iter().copied())
            .collect();
        out.push(diagnostic(model, &c, &taken));
    }
}

/// The setting to change is a written one that can change (the later one of two).
fn changeable(l: &Listener) -> bool {
    l.setting.written && l.fix.is_some()
}

fn conflict(a: &Listener, b: &Listener) -> bool {
    if a.setting.span == b.setting.span {
        return false;
    }
    if a.web.is_some() && a.web == b.web {
        return false;
    }
    !matches!((a.sql_instance, b.sql_instance), (Some(x), Some(y)) if x != y)
}

fn listeners(
    model: &Model,
    s: ServerId,
    replicating: &HashSet<(ServerId, usize)>,
) -> Vec<Listener> {
    let server = &model.servers[s];
    let mut out = vec![
        Listener {
            setting: PortSetting {
                port: 135,
                span: server.fqdn.span,
                written: false,
            },
            what: "the RPC endpoint mapper (Windows)".into(),
            web: None,
            sql_instance: None,
            fix: None,
        },
        Listener {
            setting: PortSetting {
                port: 445,
                span: server.fqdn.span,
                written: false,
            },
            what: "SMB (Windows)".into(),
            web: None,
            sql_instance: None,
            fix: None,
        },
    ];
    if let Some(site) = server.site {
        let ports = ClientPorts::of(model, site);
        let code = &model.sites[ports.site].code.value;
        if IIS_ROLES.iter().any(|r| server.has_role(r)) {
            for (setting, name, label, scheme, default) in [
                (Some(ports.http), "http", "HTTP", Scheme::Http, 80),
                (Some(ports.https), "https", "HTTPS", Scheme::Https, 443),
                (
                    ports.http_alternate,
                    "http-alternate",
                    "alternate HTTP",
                    Scheme::Http,
                    8080,
                ),
                (
                    ports.https_alternate,
                    "https-alternate",
                    "alternate HTTPS",
                    Scheme::Https,
                    8443,
                ),
            ] {
                if let Some(setting) = setting {
                    out.push(Listener {
                        setting,
                        what: format!("the {label} client request port of site {code}"),
                        web: Some(scheme),
                        sql_instance: None,
                        fix: Some((name, default)),
                    });
                }
            }
        }
        if server.has_role("management-point") {
            out.push(Listener {
                setting: ports.notification,
                what: format!("the client notification port of site {code}"),
                web: None,
                sql_instance: None,
                fix: Some(("notification", 10123)),
            });
        }
    }
    for role in &server.roles {
        let (what, props): (&str, [WebPort; 2]) = match role.name {
            "software-update-point" => (
                "software update point (WSUS)",
                [("wsus-http", None, 8530), ("wsus-https", None, 8531)],
            ),
            "wsus-server" => (
                "upstream WSUS server",
                [("http", None, 8530), ("https", None, 8531)],
            ),
            "reporting-services-point" => (
                "reporting services point",
                [
                    ("http", Some(Scheme::Http), 80),
                    ("https", Some(Scheme::Https), 443),
                ],
            ),
            _ => continue,
        };
        for (prop, web, default) in props {
            let scheme = if prop.ends_with("https") {
                "HTTPS"
            } else {
                "HTTP"
            };
            let Some(port) = role.props.port(prop) else {
                continue;
            };
            out.push(Listener {
                setting: PortSetting {
                    port,
                    span: role.props.span_of(prop, role.span),
                    written: role.props.get(prop).is_some(),
                },
                what: format!("the {scheme} port of the {what}"),
                web,
                sql_instance: None,
                fix: Some((prop, default)),
            });
        }
    }
    for p in sql_ports(model, s, replicating) {
        let name = &server.sql_instances[p.instance].name.value;
        let (what, prop, default) = match p.kind {
            SqlPortKind::Sql => ("SQL port", "port", 1433),
            SqlPortKind::Broker => ("Service Broker port", "broker-port", 4022),
        };
        out.push(Listener {
            setting: p.setting,
            what: format!("the {what} of SQL instance {name}"),
            web: None,
            sql_instance: Some(p.instance),
            fix: Some((prop, default)),
        });
    }
    out
}

fn diagnostic(model: &Model, c: &Conflict, taken: &[u16]) -> Diagnostic {
    let (port, primary, others) = (c.port, &c.setting, &c.others);
    let names: Vec<&str> = c
        .servers
        .iter()
        .map(|&s| model.servers[s].fqdn.value.as_str())
        .collect();
    let on = match names.as_slice() {
        [one] => (*one).to_owned(),
        [first, rest @ ..] => format!(
            "{first} and {} more server{}",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
        [] => String::new(),
    };
    let label_text = |l: &Listener| {
        if l.setting.written {
            format!("TCP {port}: {}", l.what.trim_start_matches("the "))
        } else {
            format!(
                "TCP {port} (default): {}",
                l.what.trim_start_matches("the ")
            )
        }
    };
    let others_what: Vec<&str> = others.iter().map(|o| o.what.as_str()).collect();
    let mut d = Diagnostic::new(
        &RULE,
        format!(
            "TCP port {port} is needed twice on {on}: by {} and by {}",
            others_what.join(", "),
            primary.what
        ),
        Label::new(primary.setting.span, label_text(primary)),
    );
    for other in others {
        d = d.with_label(Label::new(other.setting.span, label_text(other)));
    }
    if let Some((prop, default)) = primary.fix {
        let to = if taken.contains(&default) {
            free_port(default.saturating_add(1), taken)
        } else {
            default
        };
        d = d.with_help(format!(
            "set {prop}={to}: {} needs a port of its own",
            primary.what.trim_start_matches("the ")
        ));
    }
    d
}
