//! Turns the checked nodes of one file into model entities. Every entity keeps its
//! spans; nodes that fail their spec are reported (by the reader) and skipped.

use kdl::KdlNode;

use super::codes;
use super::reader::{CheckedNode, Reader};
use super::sources::SourceFormat;
use super::vocabulary::Context;
use crate::diag::{Diagnostic, Label, Severity, SeverityOverride, Suppression};
use crate::model::{
    Action, Boundary, BoundaryGroup, CatalogChoice, ClientGroup, CloudKind, CloudService, Console,
    Direction, Edition, Endpoint, Fallback, FallbackTime, Firewall, FirewallRule, FirewallSource,
    Forbid, HostFirewall, HostRule, InstanceRef, Policy, PortList, Role, Server, Site, SiteType,
    Span, Spanned, SqlInstance, Traffic, UserFlow, Value, Waiver, Zone,
};

/// The entities of one file, before names are resolved across files.
#[derive(Default)]
pub struct FileModel {
    pub zones: Vec<Zone>,
    /// Sites with their servers (whose `site` is set when merged).
    pub sites: Vec<(Site, Vec<Server>)>,
    pub servers: Vec<Server>,
    pub clients: Vec<ClientGroup>,
    pub consoles: Vec<Console>,
    pub cloud_services: Vec<CloudService>,
    pub firewalls: Vec<Firewall>,
    pub policies: Vec<Policy>,
    pub flows: Vec<UserFlow>,
    pub boundary_groups: Vec<BoundaryGroup>,
    pub waivers: Vec<Waiver>,
    pub severity_overrides: Vec<(SeverityOverride, Spanned<String>)>,
    pub suppressions: Vec<(Suppression, Span)>,
    /// `catalog` nodes (a model may have one; the merge reports a second).
    pub catalogs: Vec<CatalogChoice>,
}

impl Reader<'_> {
    /// Reads every top-level node of a document.
    pub fn read_document(&mut self, nodes: &[KdlNode]) -> FileModel {
        let mut out = FileModel::default();
        for node in nodes {
            let Some(n) = self.check(node, Context::TopLevel) else {
                continue;
            };
            match n.spec.name {
                "zone" => self.zone(&n, &mut out),
                "site" => self.site(&n, &mut out),
                "server" => {
                    if let Some(s) = self.server(&n, Context::InfraServer, &mut out) {
                        out.servers.push(s);
                    }
                }
                "clients" => self.clients(&n, &mut out),
                "console" => {
                    self.suppressions_only(&n, &mut out);
                    if let (Some(name), Some(site), Some(zone)) =
                        (n.arg_str(0), n.prop_str("site"), n.prop_str("zone"))
                    {
                        let address = n.prop_str("address").and_then(|a| a.value.parse().ok());
                        out.consoles.push(Console {
                            name,
                            site,
                            zone,
                            address,
                            span: n.span,
                        });
                    }
                }
                "cloud-management-gateway" | "cloud-distribution-point" => {
                    self.suppressions_only(&n, &mut out);
                    let kind = if n.spec.name == "cloud-management-gateway" {
                        CloudKind::ManagementGateway
                    } else {
                        CloudKind::DistributionPoint
                    };
                    if let (Some(name), Some(site)) = (n.arg_str(0), n.prop_str("site")) {
                        out.cloud_services.push(CloudService {
                            kind,
                            name,
                            site,
                            props: n.props.clone(),
                            span: n.span,
                        });
                    }
                }
                "firewall" => self.firewall(&n, &mut out),
                "policy" => self.policy(&n, &mut out),
                "flow" => {
                    self.suppressions_only(&n, &mut out);
                    if let (Some(name), Some(traffic)) = (n.arg_str(0), self.traffic(&n)) {
                        let only_any = |list: &[Spanned<Endpoint>]| {
                            list.iter().all(|e| e.value == Endpoint::Any)
                        };
                        if only_any(&traffic.from) && only_any(&traffic.to) {
                            // `any` in a flow is the Internet, and a host does not talk
                            // to itself: such a flow would silently require nothing.
                            self.report(
                                Diagnostic::new(
                                    &super::codes::INVALID_VALUE,
                                    format!(
                                        "flow `{}` goes from `any` to `any`: it requires no flow",
                                        name.value
                                    ),
                                    Label::new(n.name_span, "requires nothing"),
                                )
                                .with_help(
                                    "in a `flow`, `any` is the Internet: name the hosts, e.g. from=\"zone:office\" to=\"role:management-point\"",
                                ),
                            );
                            continue;
                        }
                        out.flows.push(UserFlow {
                            name,
                            traffic,
                            span: n.span,
                        });
                    }
                }
                "lint" => self.lint(&n, &mut out),
                "catalog" => self.catalog(&n, &mut out),
                "boundary-group" => self.boundary_group(&n, &mut out),
                "waive" => {
                    self.suppressions_only(&n, &mut out);
                    if let (Some(reason), Some(traffic)) = (n.arg_str(0), self.traffic(&n)) {
                        let phase = n.props.str("phase").filter(|p| p != "all");
                        out.waivers.push(Waiver {
                            reason,
                            traffic,
                            phase,
                            span: n.span,
                        });
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Checks the children of a node in its child context, handling `suppress` children
    /// and returning the others.
    fn children<'n>(&mut self, n: &CheckedNode<'n>, out: &mut FileModel) -> Vec<CheckedNode<'n>> {
        let Some(doc) = n.node.children() else {
            return Vec::new();
        };
        let mut kids = Vec::new();
        for child in doc.nodes() {
            let Some(c) = self.check(child, n.spec.children) else {
                continue;
            };
            if c.spec.name == "suppress" {
                if let (Some(code), Some(_reason)) = (c.arg_str(0), c.prop_str("reason")) {
                    out.suppressions.push((
                        Suppression {
                            code: code.value,
                            scope: n.span,
                            span: c.span,
                        },
                        code.span,
                    ));
                }
            } else {
                // Leaf nodes (roles, rules, forbids, ...) are not walked again: their
                // `suppress` children are collected here.
                if c.spec.children == Context::Leaf {
                    self.suppressions_only(&c, out);
                }
                kids.push(c);
            }
        }
        kids
    }

    /// For nodes whose only allowed children are `suppress`.
    fn suppressions_only(&mut self, n: &CheckedNode<'_>, out: &mut FileModel) {
        let _ = self.children(n, out);
    }

    fn zone(&mut self, n: &CheckedNode<'_>, out: &mut FileModel) {
        let subnets = self
            .children(n, out)
            .iter()
            .filter_map(|c| {
                let cidr = c.arg_str(0)?;
                Some(Spanned::new(cidr.value.parse().ok()?, cidr.span))
            })
            .collect();
        if let Some(name) = n.arg_str(0) {
            out.zones.push(Zone {
                name,
                subnets,
                span: n.span,
            });
        }
    }

    fn site(&mut self, n: &CheckedNode<'_>, out: &mut FileModel) {
        let mut client_ports = None;
        let mut database = None;
        let mut content_library = None;
        let mut servers = Vec::new();
        for c in self.children(n, out) {
            match c.spec.name {
                "client-ports" => client_ports = Some((c.props.clone(), c.span)),
                "database" => {
                    if let (Some(server), Some(instance)) =
                        (c.prop_str("server"), c.prop_str("instance"))
                    {
                        database = Some((InstanceRef { server, instance }, c.span));
                    }
                }
                "content-library" => content_library = c.prop_str("server"),
                "server" => {
                    if let Some(s) = self.server(&c, Context::SiteServer, out) {
                        servers.push(s);
                    }
                }
                _ => {}
            }
        }
        let site_type = match n.props.get("type") {
            Some(Spanned {
                value: Value::Str(t),
                ..
            }) => SiteType::parse(t),
            _ => None,
        };
        if let (Some(code), Some(site_type)) = (n.arg_str(0), site_type) {
            let site = Site {
                code,
                site_type,
                props: n.props.clone(),
                parent: n.prop_str("parent"),
                client_ports,
                database,
                content_library,
                servers: Vec::new(),
                span: n.span,
            };
            out.sites.push((site, servers));
        }
    }

    fn server(
        &mut self,
        n: &CheckedNode<'_>,
        context: Context,
        out: &mut FileModel,
    ) -> Option<Server> {
        let mut roles = Vec::new();
        let mut sql_instances = Vec::new();
        let mut host_firewall = None;
        for c in self.children(n, out) {
            match c.spec.name {
                "sql-instance" => {
                    if let Some(name) = c.arg_str(0) {
                        sql_instances.push(SqlInstance {
                            name,
                            props: c.props.clone(),
                            span: c.span,
                        });
                    }
                }
                "windows-firewall" => host_firewall = Some(self.host_firewall(&c, out)),
                _ => roles.push(Role {
                    name: c.spec.name,
                    props: c.props.clone(),
                    span: c.span,
                }),
            }
        }
        debug_assert!(matches!(
            context,
            Context::SiteServer | Context::InfraServer
        ));
        let fqdn = n.arg_str(0)?;
        let zone = n.prop_str("zone")?;
        let address = n.prop_str("address").and_then(|a| a.value.parse().ok());
        let rpc_ports = n
            .props
            .str("rpc-ports")
            .and_then(|r| crate::model::values::parse_port_range(&r).ok())
            .unwrap_or((49152, 65535));
        Some(Server {
            fqdn,
            zone,
            props: n.props.clone(),
            address,
            rpc_ports,
            site: None,
            roles,
            sql_instances,
            host_firewall,
            span: n.span,
        })
    }

    fn clients(&mut self, n: &CheckedNode<'_>, out: &mut FileModel) {
        let mut host_firewall = None;
        for c in self.children(n, out) {
            if c.spec.name == "windows-firewall" {
                host_firewall = Some(self.host_firewall(&c, out));
            }
        }
        if let (Some(name), Some(site), Some(zone)) =
            (n.arg_str(0), n.prop_str("site"), n.prop_str("zone"))
        {
            let subnets = n
                .prop_str("subnet")
                .and_then(|v| {
                    let nets = crate::model::values::parse_cidr_list(&v.value).ok()?;
                    Some(
                        nets.into_iter()
                            .map(|net| Spanned::new(net, v.span))
                            .collect(),
                    )
                })
                .unwrap_or_default();
            let boundary_groups = n
                .prop_str("boundary-group")
                .and_then(|v| {
                    let names = crate::model::values::parse_names(&v.value).ok()?;
                    Some(
                        names
                            .into_iter()
                            .map(|(name, off, len)| {
                                Spanned::new(name, self.inner_span(v.span, off, len))
                            })
                            .collect(),
                    )
                })
                .unwrap_or_default();
            out.clients.push(ClientGroup {
                name,
                site,
                zone,
                props: n.props.clone(),
                subnets,
                boundary_groups,
                host_firewall,
                span: n.span,
            });
        }
    }

    fn host_firewall(&mut self, n: &CheckedNode<'_>, out: &mut FileModel) -> HostFirewall {
        let action = |v: Option<String>, default| match v.as_deref() {
            Some("allow") => Action::Allow,
            Some("block") => Action::Deny,
            _ => default,
        };
        let mut rules = Vec::new();
        let source = self.firewall_source(n, &[]);
        let mut refused = false;
        for c in self.children(n, out) {
            if source.is_some() && matches!(c.spec.name, "allow" | "block") {
                self.refuse_rule_child(n, &c, &mut refused);
                continue;
            }
            let direction = match c.arg_str(0).as_deref().map(String::as_str) {
                Some("in") => Direction::In,
                Some("out") => Direction::Out,
                _ => continue,
            };
            let Some(traffic) = self.traffic(&c) else {
                continue;
            };
            let profiles = c
                .props
                .str("profile")
                .map(|p| {
                    p.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| s != "any")
                        .collect()
                })
                .unwrap_or_default();
            // `remote-port` on `in` rules and `local-port` on `out` rules restrict the
            // source's port; the other combination is the same as `tcp`/`udp` and refused.
            let (own, other) = match direction {
                Direction::In => ("remote-port", "local-port"),
                Direction::Out => ("local-port", "remote-port"),
            };
            if let Some(v) = c.props.get(other) {
                let dir = if direction == Direction::In {
                    "in"
                } else {
                    "out"
                };
                self.report(
                    crate::diag::Diagnostic::new(
                        &super::codes::UNKNOWN_PROPERTY,
                        format!("`{other}` is not a property of `{dir}` rules"),
                        crate::diag::Label::new(v.span, "unknown property here"),
                    )
                    .with_help(format!(
                        "`tcp`/`udp` give the {} ports of `{dir}` rules; `{own}` gives the other side's",
                        if direction == Direction::In { "local" } else { "remote" }
                    )),
                );
                continue;
            }
            let source_ports = c.prop_str(own).and_then(|v| {
                PortList::parse(&v.value, true)
                    .ok()
                    .map(|p| Spanned::new(p, v.span))
            });
            rules.push(HostRule {
                action: if c.spec.name == "allow" {
                    Action::Allow
                } else {
                    Action::Deny
                },
                direction,
                name: c.arg_str(1),
                traffic,
                profiles,
                source_ports,
                uncertain: None,
                span: c.span,
            });
        }
        HostFirewall {
            inbound: action(n.props.str("inbound"), Action::Deny),
            outbound: action(n.props.str("outbound"), Action::Allow),
            rules,
            source,
            span: n.span,
        }
    }

    fn firewall(&mut self, n: &CheckedNode<'_>, out: &mut FileModel) {
        let mut zones = Vec::new();
        let mut rules = Vec::new();
        let children = self.children(n, out);
        for c in &children {
            if c.spec.name == "zones" {
                zones.extend(c.args.iter().flatten().filter_map(|v| match &v.value {
                    Value::Str(s) => Some(Spanned::new(s.clone(), v.span)),
                    _ => None,
                }));
            }
        }
        let source = self.firewall_source(n, &zones);
        let mut refused = false;
        for c in children {
            if source.is_some() && matches!(c.spec.name, "allow" | "deny") {
                self.refuse_rule_child(n, &c, &mut refused);
                continue;
            }
            match c.spec.name {
                "allow" | "deny" => {
                    if let Some(traffic) = self.traffic(&c) {
                        let action = if c.spec.name == "allow" {
                            Action::Allow
                        } else {
                            Action::Deny
                        };
                        rules.push(FirewallRule {
                            action,
                            name: c.arg_str(0),
                            traffic,
                            guard: crate::model::RuleGuard::Always,
                            uncertain: None,
                            span: c.span,
                        });
                    }
                }
                _ => {}
            }
        }
        let default = if n.props.str("default").as_deref() == Some("allow") {
            Action::Allow
        } else {
            Action::Deny
        };
        if let Some(name) = n.arg_str(0) {
            let default_span = n.props.span_of("default", name.span);
            out.firewalls.push(Firewall {
                name,
                default,
                default_span,
                zones,
                rules,
                source,
                span: n.span,
            });
        }
    }

    /// `source=`, `format=` and `attached=` of a `firewall` (with its `zones`) or a
    /// `windows-firewall`: both or neither of `source` and `format`, a format of the
    /// node's kind, and `attached` exactly with `azure-nsg-json`, naming one of `zones`.
    /// `None` (after reporting) when the node keeps its rules in KDL or is invalid.
    fn firewall_source(
        &mut self,
        n: &CheckedNode<'_>,
        zones: &[Spanned<String>],
    ) -> Option<FirewallSource> {
        let host = n.spec.name == "windows-firewall";
        let path = n.prop_str("source");
        let format = n.prop_str("format");
        let attached = n.prop_str("attached");
        let node = n.spec.name;
        let (path, format) = match (path, format) {
            (None, None) => {
                if let Some(a) = attached {
                    self.report(
                        Diagnostic::new(
                            &codes::UNKNOWN_PROPERTY,
                            "`attached` is a property of firewalls read from an Azure NSG",
                            Label::new(a.span, "unknown property here"),
                        )
                        .with_help(
                            "add `source=` and `format=\"azure-nsg-json\"`, or remove `attached`",
                        ),
                    );
                }
                return None;
            }
            (Some(path), None) => {
                self.report(
                    Diagnostic::new(
                        &codes::MISSING_VALUE,
                        format!("`{node}` has `source` but no `format`"),
                        Label::new(path.span, "the file's format is not given"),
                    )
                    .with_help(format!(
                        "add `format=` with one of {}",
                        quoted_formats(host)
                    )),
                );
                return None;
            }
            (None, Some(format)) => {
                self.report(
                    Diagnostic::new(
                        &codes::MISSING_VALUE,
                        format!("`{node}` has `format` but no `source`"),
                        Label::new(format.span, "a format, but no file"),
                    )
                    .with_help("add `source=` with the path of the file, relative to this one"),
                );
                return None;
            }
            (Some(path), Some(format)) => (path, format),
        };
        // The vocabulary has already refused names outside `SourceFormat::ALL`.
        let kind = SourceFormat::parse(&format.value)?;
        if kind.is_host() != host {
            let (right, what) = if kind.is_host() {
                ("windows-firewall", "a Windows Firewall")
            } else {
                ("firewall", "a network firewall")
            };
            self.report(
                Diagnostic::new(
                    &codes::INVALID_VALUE,
                    format!("`{}` describes {what}, not a `{node}`", kind.as_str()),
                    Label::new(format.span, "wrong kind of firewall"),
                )
                .with_help(format!(
                    "read it from a `{right}` node; a `{node}` takes {}",
                    quoted_formats(host)
                )),
            );
            return None;
        }
        let attached = match (kind, attached) {
            (SourceFormat::AzureNsgJson, None) => {
                self.report(
                    Diagnostic::new(
                        &codes::MISSING_VALUE,
                        "a firewall read from an Azure NSG needs `attached`: the zone of the subnet it guards",
                        Label::new(format.span, "an NSG guards one subnet"),
                    )
                    .with_help("add `attached=\"ZONE\"`, one of the firewall's `zones`"),
                );
                return None;
            }
            (SourceFormat::AzureNsgJson, Some(a)) => {
                if !zones.iter().any(|z| z.value == a.value) {
                    let names: Vec<&str> = zones.iter().map(|z| z.value.as_str()).collect();
                    let mut d = Diagnostic::new(
                        &codes::INVALID_VALUE,
                        format!(
                            "`attached` zone `{}` is not one of the firewall's zones",
                            a.value
                        ),
                        Label::new(a.span, "not in `zones`"),
                    );
                    d = match crate::diag::did_you_mean(&a.value, names.iter().copied()) {
                        Some(best) => d
                            .with_help(format!("did you mean `{best}`?"))
                            .with_optional_fix(crate::diag::fix::rename(
                                self.text, a.span, &a.value, best,
                            )),
                        None => d.with_help("name one of the zones listed in `zones`"),
                    };
                    self.report(d);
                    return None;
                }
                Some(a)
            }
            (_, Some(a)) => {
                self.report(
                    Diagnostic::new(
                        &codes::UNKNOWN_PROPERTY,
                        format!("`attached` is a property of `azure-nsg-json` sources, not of `{}`", kind.as_str()),
                        Label::new(a.span, "unknown property here"),
                    )
                    .with_help("remove `attached`: this format applies to every flow crossing the firewall"),
                );
                None
            }
            (_, None) => None,
        };
        Some(FirewallSource {
            path,
            format: Spanned::new(kind, format.span),
            attached,
            file: None,
        })
    }

    /// Reports the first rule child of a node whose rules come from `source=`.
    fn refuse_rule_child(&mut self, n: &CheckedNode<'_>, c: &CheckedNode<'_>, refused: &mut bool) {
        if std::mem::replace(refused, true) {
            return;
        }
        self.report(
            Diagnostic::new(
                &codes::UNKNOWN_NODE,
                format!(
                    "a `{}` with `source` takes its rules from that file, not from `{}` nodes",
                    n.spec.name, c.spec.name
                ),
                Label::new(c.name_span, "rule here"),
            )
            .with_help(
                "remove the rule nodes, or remove `source` and `format` to write every rule in KDL",
            ),
        );
    }

    fn policy(&mut self, n: &CheckedNode<'_>, out: &mut FileModel) {
        let mut forbids = Vec::new();
        let mut message = None;
        for c in self.children(n, out) {
            match c.spec.name {
                "forbid" => {
                    if let Some(traffic) = self.traffic(&c) {
                        forbids.push(Forbid {
                            traffic,
                            span: c.span,
                        });
                    }
                }
                "message" => message = c.arg_str(0).map(|m| m.value),
                _ => {}
            }
        }
        let severity = n
            .props
            .str("severity")
            .and_then(|s| Severity::parse(&s))
            .unwrap_or(Severity::Error);
        if let Some(name) = n.arg_str(0) {
            out.policies.push(Policy {
                name,
                severity,
                forbids,
                message,
                span: n.span,
            });
        }
    }

    fn catalog(&mut self, n: &CheckedNode<'_>, out: &mut FileModel) {
        let edition = n
            .prop_str("edition")
            .and_then(|e| Edition::parse(&e.value))
            .unwrap_or_default();
        let mut includes: Vec<String> = self
            .children(n, out)
            .iter()
            .filter_map(|c| c.arg_str(0).map(|a| a.value))
            .collect();
        includes.sort();
        includes.dedup();
        out.catalogs.push(CatalogChoice {
            edition,
            includes,
            span: Some(n.span),
        });
    }

    fn boundary_group(&mut self, n: &CheckedNode<'_>, out: &mut FileModel) {
        let mut boundaries = Vec::new();
        let mut site_systems = Vec::new();
        let mut fallbacks = Vec::new();
        let time = |c: &CheckedNode<'_>, key: &str| match c.props.value(key) {
            Some(Value::Int(i)) => FallbackTime::Minutes(u32::try_from(i).unwrap_or(u32::MAX)),
            _ => FallbackTime::Never,
        };
        for c in self.children(n, out) {
            match c.spec.name {
                "boundary" => {
                    match (c.arg_str(0), c.prop_str("ad-site")) {
                        (Some(range), None) => {
                            if let Ok(r) = crate::model::values::parse_boundary(&range.value) {
                                boundaries.push(Boundary::Range(Spanned::new(r, range.span)));
                            }
                        }
                        (None, Some(site)) => boundaries.push(Boundary::AdSite(site)),
                        (Some(range), Some(_)) => self.report(
                            crate::diag::Diagnostic::new(
                                &super::codes::INVALID_VALUE,
                                "a `boundary` is either an address space or an `ad-site`, not both",
                                crate::diag::Label::new(range.span, "and an ad-site"),
                            )
                            .with_help("write two `boundary` nodes"),
                        ),
                        (None, None) => {
                            // An invalid argument or property was already reported.
                            if c.node.entries().is_empty() {
                                self.report(
                                crate::diag::Diagnostic::new(
                                    &super::codes::MISSING_VALUE,
                                    "`boundary` needs a subnet, prefix or range, or `ad-site=`",
                                    crate::diag::Label::new(c.name_span, "empty boundary"),
                                )
                                .with_help("e.g. boundary \"10.1.0.0/16\" or boundary ad-site=\"HQ-Site\""),
                            );
                            }
                        }
                    }
                }
                "site-system" => site_systems.extend(c.arg_str(0)),
                "fallback" => {
                    if let Some(to) = c.arg_str(0) {
                        fallbacks.push(Fallback {
                            to,
                            distribution_point: time(&c, "distribution-point"),
                            software_update_point: time(&c, "software-update-point"),
                            management_point: time(&c, "management-point"),
                            span: c.span,
                        });
                    }
                }
                _ => {}
            }
        }
        if let Some(name) = n.arg_str(0) {
            out.boundary_groups.push(BoundaryGroup {
                name,
                site: n.prop_str("site"),
                default_for: n.prop_str("default-for"),
                boundaries,
                site_systems,
                fallbacks,
                span: n.span,
            });
        }
    }

    fn lint(&mut self, n: &CheckedNode<'_>, out: &mut FileModel) {
        for c in self.children(n, out) {
            if let (Some(code), Some(level)) = (c.arg_str(0), c.arg_str(1)) {
                let severity = Severity::parse(&level.value);
                out.severity_overrides.push((
                    SeverityOverride {
                        code: code.value.clone(),
                        severity,
                    },
                    code,
                ));
            }
        }
    }

    /// The `from`/`to`/`tcp`/`udp`/`icmp` of a rule, forbid or flow. `None` when a value
    /// failed to validate (already reported).
    fn traffic(&mut self, n: &CheckedNode<'_>) -> Option<Traffic> {
        let endpoints = |this: &Self, key: &str| -> Option<Vec<Spanned<Endpoint>>> {
            let Some(v) = n.prop_str(key) else {
                // Written but invalid: already reported; absent: `any`.
                return if n.node.entry(key).is_some() {
                    None
                } else {
                    Some(vec![Spanned::new(Endpoint::Any, n.name_span)])
                };
            };
            let list = Endpoint::parse_list(&v.value).ok()?;
            Some(
                list.into_iter()
                    .map(|(e, off, len)| Spanned::new(e, this.inner_span(v.span, off, len)))
                    .collect(),
            )
        };
        let ports = |key: &str| -> Result<Option<Spanned<PortList>>, ()> {
            match n.prop_str(key) {
                Some(v) => PortList::parse(&v.value, true)
                    .map(|p| Some(Spanned::new(p, v.span)))
                    .map_err(|_| ()),
                None if n.node.entry(key).is_some() => Err(()),
                None => Ok(None),
            }
        };
        Some(Traffic {
            from: endpoints(self, "from")?,
            to: endpoints(self, "to")?,
            tcp: ports("tcp").ok()?,
            udp: ports("udp").ok()?,
            icmp: n.props.bool("icmp"),
        })
    }
}

/// The `format=` values a node takes, quoted for a help text.
fn quoted_formats(host: bool) -> String {
    let names: Vec<String> = SourceFormat::ALL
        .iter()
        .filter(|f| f.is_host() == host)
        .map(|f| format!("\"{}\"", f.as_str()))
        .collect();
    names.join(", ")
}
