//! The typed model of one ConfigMgr hierarchy, its network and firewalls, as written in
//! the user's files: every entity keeps the span of its node and of each value.
//!
//! The model is plain data with lookups. It does not parse (that is `load`) and does not
//! know which flows are required (that is `engine`).

mod source;
pub mod values;

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

pub use source::{SourceFile, SourceId, SourceMap, Span, Spanned, ignoring_spans};
pub use values::{BoundaryRange, Endpoint, PortItem, PortList, Protocol, cidr_difference};

use crate::diag::{SeverityOverride, Suppression};
use crate::load::vocabulary::NodeSpec;

/// A validated property value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
}

/// A [`Value`] borrowed from the model, or a documented default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueRef<'a> {
    Bool(bool),
    Int(i64),
    Str(&'a str),
}

/// The validated properties of one node, with the node's spec for defaults.
#[derive(Clone, Debug)]
pub struct Props {
    pub spec: &'static NodeSpec,
    pub values: Vec<(&'static str, Spanned<Value>)>,
}

/// Equal when written the same way: the same node's spec (by identity: specs are the
/// loader's static vocabulary) and the same values at the same places.
impl PartialEq for Props {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.spec, other.spec) && self.values == other.values
    }
}

impl Props {
    pub fn new(spec: &'static NodeSpec) -> Self {
        Self {
            spec,
            values: Vec::new(),
        }
    }

    /// The written value of a property, if it was written.
    pub fn get(&self, name: &str) -> Option<&Spanned<Value>> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// A property's value, or its documented default.
    pub fn value(&self, name: &str) -> Option<Value> {
        Some(match self.value_ref(name)? {
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Str(s) => Value::Str(s.to_owned()),
        })
    }

    /// [`Props::value`], borrowed: flow conditions read properties millions of times on a
    /// large model, and a copied string each time was a tenth of the flow computation.
    pub fn value_ref(&self, name: &str) -> Option<ValueRef<'_>> {
        if let Some(v) = self.get(name) {
            return Some(match &v.value {
                Value::Bool(b) => ValueRef::Bool(*b),
                Value::Int(i) => ValueRef::Int(*i),
                Value::Str(s) => ValueRef::Str(s),
            });
        }
        let default = self.spec.prop(name)?.default?;
        Some(match default {
            "#true" => ValueRef::Bool(true),
            "#false" => ValueRef::Bool(false),
            d => d.parse().map_or(ValueRef::Str(d), ValueRef::Int),
        })
    }

    pub fn bool(&self, name: &str) -> bool {
        matches!(self.value_ref(name), Some(ValueRef::Bool(true)))
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.value_ref(name)? {
            ValueRef::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn port(&self, name: &str) -> Option<u16> {
        self.int(name).and_then(|i| u16::try_from(i).ok())
    }

    pub fn str(&self, name: &str) -> Option<String> {
        self.str_ref(name).map(str::to_owned)
    }

    pub fn str_ref(&self, name: &str) -> Option<&str> {
        match self.value_ref(name)? {
            ValueRef::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Span of a written property's value, else of `fallback`.
    pub fn span_of(&self, name: &str, fallback: Span) -> Span {
        self.get(name).map_or(fallback, |v| v.span)
    }
}

/// Index into [`Model::sites`].
pub type SiteId = usize;
/// Index into [`Model::servers`].
pub type ServerId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SiteType {
    Central,
    Primary,
    Secondary,
}

impl SiteType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "central" => Some(Self::Central),
            "primary" => Some(Self::Primary),
            "secondary" => Some(Self::Secondary),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Zone {
    pub name: Spanned<String>,
    pub subnets: Vec<Spanned<IpNet>>,
    pub span: Span,
}

/// `database server= instance=` and the `FQDN/INSTANCE` references.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceRef {
    pub server: Spanned<String>,
    pub instance: Spanned<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    pub code: Spanned<String>,
    pub site_type: SiteType,
    pub props: Props,
    pub parent: Option<Spanned<String>>,
    /// The `client-ports` node, when written.
    pub client_ports: Option<(Props, Span)>,
    pub database: Option<(InstanceRef, Span)>,
    pub content_library: Option<Spanned<String>>,
    /// Servers declared inside this site.
    pub servers: Vec<ServerId>,
    pub span: Span,
}

/// A role node on a server: its node name (`management-point`) and properties.
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    pub name: &'static str,
    pub props: Props,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SqlInstance {
    pub name: Spanned<String>,
    pub props: Props,
    pub span: Span,
}

impl SqlInstance {
    pub fn is_default_instance(&self) -> bool {
        self.name.value.eq_ignore_ascii_case("MSSQLSERVER")
    }

    /// The static TCP port: `port`, or 1433 for the default instance; `None` when the
    /// instance uses dynamic ports.
    pub fn port(&self) -> Option<u16> {
        if self.props.bool("dynamic") {
            return None;
        }
        self.props
            .port("port")
            .or_else(|| self.is_default_instance().then_some(1433))
    }

    /// The Service Broker port (default 4022).
    pub fn broker_port(&self) -> u16 {
        self.props.port("broker-port").unwrap_or(4022)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Server {
    pub fqdn: Spanned<String>,
    pub zone: Spanned<String>,
    pub props: Props,
    pub address: Option<IpAddr>,
    /// The dynamic RPC range.
    pub rpc_ports: (u16, u16),
    pub site: Option<SiteId>,
    pub roles: Vec<Role>,
    pub sql_instances: Vec<SqlInstance>,
    pub host_firewall: Option<HostFirewall>,
    pub span: Span,
}

impl Server {
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    pub fn has_role(&self, name: &str) -> bool {
        self.role(name).is_some()
    }

    pub fn network_profile(&self) -> String {
        self.props
            .str("network-profile")
            .unwrap_or_else(|| "domain".into())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClientGroup {
    pub name: Spanned<String>,
    pub site: Spanned<String>,
    pub zone: Spanned<String>,
    pub props: Props,
    /// `subnet`: where the group's computers are; empty means the zone's subnets.
    pub subnets: Vec<Spanned<IpNet>>,
    /// `boundary-group`: the groups it belongs to, when written (else from its subnets).
    pub boundary_groups: Vec<Spanned<String>>,
    pub host_firewall: Option<HostFirewall>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Console {
    pub name: Spanned<String>,
    pub site: Spanned<String>,
    pub zone: Spanned<String>,
    pub address: Option<IpAddr>,
    pub span: Span,
}

/// A `boundary` of a boundary group: an address space or an Active Directory site.
#[derive(Clone, Debug, PartialEq)]
pub enum Boundary {
    Range(Spanned<BoundaryRange>),
    AdSite(Spanned<String>),
}

/// Minutes before a client falls back to a neighbour for one role, or never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FallbackTime {
    Minutes(u32),
    Never,
}

/// `fallback "NEIGHBOUR" distribution-point= software-update-point= management-point=`.
#[derive(Clone, Debug, PartialEq)]
pub struct Fallback {
    pub to: Spanned<String>,
    pub distribution_point: FallbackTime,
    pub software_update_point: FallbackTime,
    pub management_point: FallbackTime,
    pub span: Span,
}

impl Fallback {
    /// The time for a role (`distribution-point`, `software-update-point`,
    /// `management-point`); other roles never fall back.
    pub fn time(&self, role: &str) -> FallbackTime {
        match role {
            "distribution-point" => self.distribution_point,
            "software-update-point" => self.software_update_point,
            "management-point" => self.management_point,
            _ => FallbackTime::Never,
        }
    }
}

/// A `boundary-group`.
#[derive(Clone, Debug, PartialEq)]
pub struct BoundaryGroup {
    pub name: Spanned<String>,
    /// `site`: the site assigned to clients in the group.
    pub site: Option<Spanned<String>>,
    /// `default-for`: this is that site's default site boundary group.
    pub default_for: Option<Spanned<String>>,
    pub boundaries: Vec<Boundary>,
    pub site_systems: Vec<Spanned<String>>,
    pub fallbacks: Vec<Fallback>,
    pub span: Span,
}

/// `waive REASON ...`: required flows that are not wanted here.
#[derive(Clone, Debug, PartialEq)]
pub struct Waiver {
    pub reason: Spanned<String>,
    pub traffic: Traffic,
    /// `None` for `"all"`.
    pub phase: Option<String>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CloudKind {
    ManagementGateway,
    DistributionPoint,
}

impl CloudKind {
    /// The node name, which is also the endpoint kind in the catalog.
    pub fn node_name(self) -> &'static str {
        match self {
            CloudKind::ManagementGateway => "cloud-management-gateway",
            CloudKind::DistributionPoint => "cloud-distribution-point",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CloudService {
    pub kind: CloudKind,
    pub name: Spanned<String>,
    pub site: Spanned<String>,
    pub props: Props,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Allow,
    Deny,
}

/// What a firewall rule, a forbid or a user flow matches.
#[derive(Clone, Debug, PartialEq)]
pub struct Traffic {
    pub from: Vec<Spanned<Endpoint>>,
    pub to: Vec<Spanned<Endpoint>>,
    pub tcp: Option<Spanned<PortList>>,
    pub udp: Option<Spanned<PortList>>,
    pub icmp: bool,
}

impl Traffic {
    /// No `tcp`, `udp` or `icmp`: every protocol and port.
    pub fn matches_all_protocols(&self) -> bool {
        self.tcp.is_none() && self.udp.is_none() && !self.icmp
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FirewallRule {
    pub action: Action,
    pub name: Option<Spanned<String>>,
    pub traffic: Traffic,
    /// Which crossing flows the rule applies to at all (an Azure NSG's inbound rules
    /// apply only to flows into its subnet).
    pub guard: RuleGuard,
    /// Set when the rule's source file holds a construct cmflow cannot represent (an
    /// interface match, an unresolvable object): where the represented parts match,
    /// whether the rule matches is unknown. The span is that construct's.
    pub uncertain: Option<Span>,
    pub span: Span,
}

/// The flows a network firewall rule applies to, besides its own match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RuleGuard {
    /// Every flow crossing the firewall (KDL rules, ACLs, chains).
    #[default]
    Always,
    /// Only flows whose destination is in this zone (an NSG's `Inbound` rules).
    IntoZone(String),
    /// Only flows whose source is in this zone (an NSG's `Outbound` rules).
    OutOfZone(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Firewall {
    pub name: Spanned<String>,
    pub default: Action,
    /// The `default=` value, or the node name when absent.
    pub default_span: Span,
    pub zones: Vec<Spanned<String>>,
    pub rules: Vec<FirewallRule>,
    /// `source=`/`format=`: the rules come from that file (read by the loader, which
    /// fills `rules` and, when the file states one, `default`).
    pub source: Option<FirewallSource>,
    pub span: Span,
}

/// Where a `firewall` or `windows-firewall` keeps its rules when they are not KDL
/// children: `source=` (a path relative to the KDL file), `format=`, and for an Azure NSG
/// the zone it guards (`attached=`).
#[derive(Clone, Debug, PartialEq)]
pub struct FirewallSource {
    pub path: Spanned<String>,
    pub format: Spanned<crate::load::sources::SourceFormat>,
    pub attached: Option<Spanned<String>>,
    /// The source file in the [`SourceMap`], once read.
    pub file: Option<SourceId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    In,
    Out,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HostRule {
    pub action: Action,
    pub direction: Direction,
    pub name: Option<Spanned<String>>,
    pub traffic: Traffic,
    /// Profiles the rule applies to; empty means any.
    pub profiles: Vec<String>,
    /// The source's ports the rule restricts (`remote-port` of an `in` rule, `local-port`
    /// of an `out` rule); `None`: any.
    pub source_ports: Option<Spanned<PortList>>,
    /// As [`FirewallRule::uncertain`]: a program-, service- or interface-scoped rule, or
    /// an address keyword cmflow cannot resolve, read from a source file.
    pub uncertain: Option<Span>,
    pub span: Span,
}

/// A `windows-firewall` on a server or client group.
#[derive(Clone, Debug, PartialEq)]
pub struct HostFirewall {
    pub inbound: Action,
    pub outbound: Action,
    pub rules: Vec<HostRule>,
    /// `source=`/`format=`, as on [`Firewall::source`].
    pub source: Option<FirewallSource>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Forbid {
    pub traffic: Traffic,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub name: Spanned<String>,
    pub severity: crate::diag::Severity,
    pub forbids: Vec<Forbid>,
    pub message: Option<String>,
    pub span: Span,
}

/// A user-declared required flow.
#[derive(Clone, Debug, PartialEq)]
pub struct UserFlow {
    pub name: Spanned<String>,
    pub traffic: Traffic,
    pub span: Span,
}

/// The edition of the built-in catalog a model asks for (`catalog edition=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Edition {
    /// The seed documents (2020), with the corrections of `docs/decisions.md`.
    #[default]
    E2020,
    /// The current "Ports used in Configuration Manager" article.
    E2025,
}

impl Edition {
    /// Every edition, oldest first.
    pub const ALL: [Edition; 2] = [Edition::E2020, Edition::E2025];

    /// `2020` / `2025`, as written in `catalog edition=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Edition::E2020 => "2020",
            Edition::E2025 => "2025",
        }
    }

    pub fn parse(s: &str) -> Option<Edition> {
        Edition::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// The model's `catalog` node: the edition and the extra catalogs it includes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CatalogChoice {
    pub edition: Edition,
    /// Extra catalogs (`include "windows-domain"`), sorted, without duplicates.
    pub includes: Vec<String>,
    /// The `catalog` node, when the model has one.
    pub span: Option<Span>,
}

/// Name lookups, built once after loading. Server names are case-insensitive.
#[derive(Clone, Debug, Default)]
pub struct Index {
    pub zones: HashMap<String, usize>,
    pub sites: HashMap<String, SiteId>,
    /// Lower-cased FQDN.
    pub servers: HashMap<String, ServerId>,
    pub clients: HashMap<String, usize>,
    pub consoles: HashMap<String, usize>,
    pub cloud_services: HashMap<String, usize>,
    pub boundary_groups: HashMap<String, usize>,
    /// Site code -> its default site boundary group (`default-for`; the first one when a
    /// site has two, which `hierarchy/boundary-group` reports).
    pub default_boundary_groups: HashMap<String, usize>,
}

/// One hierarchy, network and firewalls: the union of every file.
#[derive(Debug, Default)]
pub struct Model {
    pub sources: SourceMap,
    /// User files that do not parse: the model lacks whatever they declare, so the model
    /// checks do not run (`check` says which files were not checked).
    pub unparsed: Vec<SourceId>,
    /// Every name the unparsed files may declare or use (their quoted strings and words):
    /// what follows from their absence is not reported.
    pub unparsed_words: std::collections::HashSet<String>,
    pub zones: Vec<Zone>,
    pub sites: Vec<Site>,
    pub servers: Vec<Server>,
    pub clients: Vec<ClientGroup>,
    pub consoles: Vec<Console>,
    pub cloud_services: Vec<CloudService>,
    pub firewalls: Vec<Firewall>,
    pub policies: Vec<Policy>,
    pub flows: Vec<UserFlow>,
    pub boundary_groups: Vec<BoundaryGroup>,
    pub waivers: Vec<Waiver>,
    pub severity_overrides: Vec<SeverityOverride>,
    pub suppressions: Vec<Suppression>,
    /// The catalog edition and extra catalogs (`catalog` node; default: 2020, none).
    pub catalog: CatalogChoice,
    pub index: Index,
}

impl Model {
    pub fn site(&self, code: &str) -> Option<&Site> {
        self.index.sites.get(code).map(|&i| &self.sites[i])
    }

    pub fn site_id(&self, code: &str) -> Option<SiteId> {
        self.index.sites.get(code).copied()
    }

    pub fn server_id(&self, fqdn: &str) -> Option<ServerId> {
        self.index.servers.get(&fqdn.to_ascii_lowercase()).copied()
    }

    pub fn server(&self, fqdn: &str) -> Option<&Server> {
        self.server_id(fqdn).map(|i| &self.servers[i])
    }

    pub fn zone(&self, name: &str) -> Option<&Zone> {
        self.index.zones.get(name).map(|&i| &self.zones[i])
    }

    /// The parent site, if any.
    pub fn parent_of(&self, site: SiteId) -> Option<SiteId> {
        self.sites[site]
            .parent
            .as_ref()
            .and_then(|p| self.site_id(&p.value))
    }

    /// The top-level site: the central site, or else the single primary without a parent.
    pub fn top_level_site(&self) -> Option<SiteId> {
        self.sites
            .iter()
            .position(|s| s.site_type == SiteType::Central)
            .or_else(|| {
                self.sites
                    .iter()
                    .position(|s| s.site_type == SiteType::Primary && s.parent.is_none())
            })
    }

    /// The site whose `client-ports` apply to `site`: itself, or a secondary's parent.
    pub fn client_ports_site(&self, site: SiteId) -> SiteId {
        if self.sites[site].site_type == SiteType::Secondary {
            self.parent_of(site).unwrap_or(site)
        } else {
            site
        }
    }

    /// The SQL instance `name` of server `fqdn` (both ignoring case), as (server, index
    /// into its `sql_instances`).
    pub fn instance_id(&self, fqdn: &str, name: &str) -> Option<(ServerId, usize)> {
        let server = self.server_id(fqdn)?;
        let idx = self.servers[server]
            .sql_instances
            .iter()
            .position(|i| i.name.value.eq_ignore_ascii_case(name))?;
        Some((server, idx))
    }

    /// The SQL instance named by a reference, if it exists.
    pub fn instance(&self, r: &InstanceRef) -> Option<(ServerId, &SqlInstance)> {
        let (server, idx) = self.instance_id(&r.server.value, &r.instance.value)?;
        Some((server, &self.servers[server].sql_instances[idx]))
    }
}
