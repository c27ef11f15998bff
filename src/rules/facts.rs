//! What the ConfigMgr checks (hierarchy, ports, WSUS and SQL Server) share: a site's
//! effective client request ports with the place that sets each one, the client groups
//! that use them, and the SQL Server instances Configuration Manager connects to.
//!
//! Plain reads of the model; no diagnostics are made here.

use std::collections::{BTreeMap, HashSet};

use crate::model::{Model, ServerId, SiteId, SiteType, Span};

/// One port setting: its value, where it is written (or, for a default, the node it
/// belongs to) and whether it was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortSetting {
    pub port: u16,
    pub span: Span,
    pub written: bool,
}

/// The `client-ports` that apply to a site: its own, or its parent's for a secondary.
#[derive(Clone, Copy, Debug)]
pub struct ClientPorts {
    /// The site whose `client-ports` these are.
    pub site: SiteId,
    pub http: PortSetting,
    pub https: PortSetting,
    pub http_alternate: Option<PortSetting>,
    pub https_alternate: Option<PortSetting>,
    pub notification: PortSetting,
}

impl ClientPorts {
    /// The ports of `site` (a secondary inherits its parent's).
    pub fn of(model: &Model, site: SiteId) -> Self {
        let owner = model.client_ports_site(site);
        let s = &model.sites[owner];
        let setting = |name: &str, default: Option<u16>| -> Option<PortSetting> {
            match &s.client_ports {
                // An unwritten port is labelled on the site code: a label on the whole
                // `client-ports` node would cover the ports that are written.
                Some((props, _)) => Some(PortSetting {
                    port: props.port(name).or(default)?,
                    span: props.span_of(name, s.code.span),
                    written: props.get(name).is_some(),
                }),
                None => Some(PortSetting {
                    port: default?,
                    span: s.code.span,
                    written: false,
                }),
            }
        };
        let required = |name: &str, default: u16| {
            setting(name, Some(default)).unwrap_or(PortSetting {
                port: default,
                span: s.code.span,
                written: false,
            })
        };
        Self {
            site: owner,
            http: required("http", 80),
            https: required("https", 443),
            http_alternate: setting("http-alternate", None),
            https_alternate: setting("https-alternate", None),
            notification: required("notification", 10123),
        }
    }

    /// Whether the request ports differ from the documented defaults 80 and 443.
    pub fn non_default(&self) -> bool {
        self.http.port != 80 || self.https.port != 443
    }
}

/// The primary and central sites that write `client-ports`, with the ports.
pub fn sites_writing_client_ports(model: &Model) -> impl Iterator<Item = (SiteId, ClientPorts)> {
    model
        .sites
        .iter()
        .enumerate()
        .filter(|(_, s)| s.site_type != SiteType::Secondary && s.client_ports.is_some())
        .map(|(i, _)| (i, ClientPorts::of(model, i)))
}

/// The client groups whose request ports are those of `site`'s `client-ports`: the
/// groups of the site and, for a primary, of its secondaries. Sorted by name.
pub fn groups_using_ports_of(model: &Model, site: SiteId) -> Vec<usize> {
    let mut groups: Vec<usize> = model
        .clients
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            model
                .site_id(&c.site.value)
                .is_some_and(|s| model.client_ports_site(s) == site)
        })
        .map(|(i, _)| i)
        .collect();
    groups.sort_by(|&a, &b| {
        model.clients[a]
            .name
            .value
            .cmp(&model.clients[b].name.value)
    });
    groups
}

/// Why Configuration Manager connects to a SQL Server instance, and where the model says
/// so.
#[derive(Clone, Debug)]
pub struct SqlUse {
    /// E.g. `site database of P01`.
    pub what: String,
    /// The reference (`database` node, `susdb=` or `database=` value).
    pub span: Span,
}

/// Every SQL Server instance Configuration Manager connects to (site databases, SUSDB,
/// data warehouse), by (server, instance index), with the uses in model order.
pub fn connected_instances(model: &Model) -> BTreeMap<(ServerId, usize), Vec<SqlUse>> {
    let mut out: BTreeMap<(ServerId, usize), Vec<SqlUse>> = BTreeMap::new();
    for site in &model.sites {
        if let Some((r, span)) = &site.database
            && let Some(key) = model.instance_id(&r.server.value, &r.instance.value)
        {
            out.entry(key).or_default().push(SqlUse {
                what: format!("site database of {}", site.code.value),
                span: *span,
            });
        }
    }
    for server in &model.servers {
        for (role, prop, what) in [
            ("software-update-point", "susdb", "WSUS database"),
            (
                "data-warehouse-service-point",
                "database",
                "data warehouse database",
            ),
        ] {
            let Some(r) = server.role(role) else { continue };
            let Some(value) = r.props.get(prop) else {
                continue;
            };
            let crate::model::Value::Str(s) = &value.value else {
                continue;
            };
            let Some((host, name)) = s.split_once('/') else {
                continue;
            };
            if let Some(key) = model.instance_id(host, name) {
                out.entry(key).or_default().push(SqlUse {
                    what: format!("{what} of {}", server.fqdn.value),
                    span: value.span,
                });
            }
        }
    }
    out
}

/// Which port of an instance a [`SqlPort`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SqlPortKind {
    Sql,
    Broker,
}

/// A TCP port one SQL Server instance listens on.
#[derive(Clone, Copy, Debug)]
pub struct SqlPort {
    pub instance: usize,
    pub kind: SqlPortKind,
    pub setting: PortSetting,
}

/// The SQL Server instances that hold the database of a site replicating with another
/// site (it has a parent or a child): such databases talk over SQL Server Service Broker.
pub fn replicating_instances(model: &Model) -> HashSet<(ServerId, usize)> {
    let mut related = vec![false; model.sites.len()];
    for (i, _) in model.sites.iter().enumerate() {
        if let Some(p) = model.parent_of(i) {
            related[i] = true;
            related[p] = true;
        }
    }
    model
        .sites
        .iter()
        .zip(related)
        .filter(|(_, r)| *r)
        .filter_map(|(site, _)| {
            let (r, _) = site.database.as_ref()?;
            model.instance_id(&r.server.value, &r.instance.value)
        })
        .collect()
}

/// The static TCP ports the instances of `server` listen on: each instance's SQL port
/// (its `port`, or 1433 for the default instance; none for dynamic ports) and its Service
/// Broker port (`broker-port`, or 4022 for an instance in `replicating`).
pub fn sql_ports(
    model: &Model,
    server: ServerId,
    replicating: &HashSet<(ServerId, usize)>,
) -> Vec<SqlPort> {
    let s = &model.servers[server];
    let mut out = Vec::new();
    for (i, inst) in s.sql_instances.iter().enumerate() {
        if let Some(port) = inst.port() {
            out.push(SqlPort {
                instance: i,
                kind: SqlPortKind::Sql,
                setting: PortSetting {
                    port,
                    span: inst.props.span_of("port", inst.name.span),
                    written: inst.props.get("port").is_some(),
                },
            });
        }
        let written = inst.props.get("broker-port").is_some();
        if written || replicating.contains(&(server, i)) {
            out.push(SqlPort {
                instance: i,
                kind: SqlPortKind::Broker,
                setting: PortSetting {
                    port: inst.broker_port(),
                    span: inst.props.span_of("broker-port", inst.name.span),
                    written,
                },
            });
        }
    }
    out
}

/// A TCP port for `server` that none of `taken` uses, starting at `from` (skipping 1434,
/// the SQL Server Browser's).
pub fn free_port(from: u16, taken: &[u16]) -> u16 {
    (from..=u16::MAX)
        .chain(1024..from)
        .find(|p| *p != 1434 && !taken.contains(p))
        .unwrap_or(from)
}

/// How a site type is written in messages.
pub fn site_kind(t: SiteType) -> &'static str {
    match t {
        SiteType::Central => "central administration site",
        SiteType::Primary => "primary site",
        SiteType::Secondary => "secondary site",
    }
}

/// Runs one model check on a model text and returns `line: message` of each finding.
#[cfg(test)]
pub fn findings(check: fn(&Model, &mut Vec<crate::diag::Diagnostic>), kdl: &str) -> Vec<String> {
    let model = crate::engine::test_model(kdl);
    let mut out = Vec::new();
    check(&model, &mut out);
    let mut lines: Vec<String> = out
        .iter()
        .map(|d| {
            let ((line, _), _) = model.sources.range(d.primary.span);
            format!("{line}: {}", d.message)
        })
        .collect();
    lines.sort();
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_port_skips_taken_ports_and_the_browser_port() {
        assert_eq!(free_port(1433, &[]), 1433);
        assert_eq!(free_port(1433, &[1433]), 1435);
        assert_eq!(free_port(4022, &[4022, 4023]), 4024);
    }
}
