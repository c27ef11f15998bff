//! `cmflow import configmgr`: the inventory JSON that `scripts/Export-CmflowInventory.ps1`
//! writes on a site server (the SMS Provider's WMI classes, nearly raw) mapped onto the
//! language: sites and hierarchy, site system servers with their roles and role settings,
//! the site databases' SQL Server instances, client request ports, and boundary groups
//! with their boundaries, site systems and fallback relationships.
//!
//! The script stays close to the classes so that every mapping decision lives here, where
//! it is tested; `docs/import-configmgr.md` is the field table and says which values the
//! Microsoft documentation leaves undocumented. This module owns text in, KDL texts out:
//! it never touches files, and what ConfigMgr does not know (zones, addresses, firewalls)
//! is left to the user with a placeholder zone that the written files define.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use miette::{NamedSource, SourceSpan};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::escape::kdl::{comment, string as q};

/// The inventory version this cmflow reads (`"cmflow-inventory": 1`).
pub const VERSION: i64 = 1;

/// The zone every imported server is placed in, defined by `zones.kdl`: ConfigMgr does
/// not know the network, so the user splits it.
pub const PLACEHOLDER_ZONE: &str = "unassigned";

/// One written KDL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFile {
    /// A plain file name (`site-p01.kdl`), never a path.
    pub name: String,
    pub text: String,
}

/// What an import gives: the files, and warnings about what it could not map.
#[derive(Debug, Default)]
pub struct Imported {
    pub files: Vec<ImportedFile>,
    pub warnings: Vec<String>,
}

/// An inventory that cannot be imported: not JSON, another version, or a value of the
/// wrong kind; it names the file, the JSON path and what was expected.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{file}: {message}")]
#[diagnostic(code(import::configmgr))]
pub struct ImportError {
    file: String,
    /// The JSON path and what is wrong there.
    pub message: String,
    #[source_code]
    source_code: NamedSource<String>,
    #[label("{label}")]
    span: Option<SourceSpan>,
    label: String,
    #[help]
    help: Option<String>,
}

impl ImportError {
    fn new(file: &str, text: &str, message: String) -> Self {
        Self {
            file: file.to_owned(),
            message,
            source_code: NamedSource::new(file, text.to_owned()),
            span: None,
            label: String::new(),
            help: None,
        }
    }

    fn at(mut self, offset: usize, len: usize, label: &str) -> Self {
        self.span = Some(SourceSpan::new(offset.into(), len));
        label.clone_into(&mut self.label);
        self
    }

    fn help(mut self, help: &str) -> Self {
        self.help = Some(help.to_owned());
        self
    }
}

// ---------------------------------------------------------------------------------------
// The inventory document: the classes' properties under their WMI names. Unknown fields
// are ignored (a newer script, or a class that gained properties); numbers and strings
// are accepted for each other, and one object for an array, because PowerShell's
// `ConvertTo-Json` writes either depending on the version and on how a value was built.
// ---------------------------------------------------------------------------------------

/// The first pass: only the version, so that a document of another version is refused
/// before its shape is judged.
#[derive(Deserialize)]
struct Header {
    #[serde(rename = "cmflow-inventory")]
    version: Option<Num>,
}

#[derive(Deserialize)]
struct Inventory {
    #[serde(rename = "SMS_Site", default, deserialize_with = "many")]
    sites: Vec<SmsSite>,
    #[serde(rename = "SMS_SCI_SiteDefinition", default, deserialize_with = "many")]
    site_definitions: Vec<SiteDefinition>,
    #[serde(rename = "SMS_SCI_SysResUse", default, deserialize_with = "many")]
    roles: Vec<SysResUse>,
    #[serde(rename = "SMS_SCI_Component", default, deserialize_with = "many")]
    components: Vec<Component>,
    #[serde(rename = "SMS_Boundary", default, deserialize_with = "many")]
    boundaries: Vec<SmsBoundary>,
    #[serde(rename = "SMS_BoundaryGroup", default, deserialize_with = "many")]
    groups: Vec<SmsBoundaryGroup>,
    #[serde(
        rename = "SMS_BoundaryGroupMembers",
        default,
        deserialize_with = "many"
    )]
    members: Vec<GroupMember>,
    #[serde(
        rename = "SMS_BoundaryGroupSiteSystems",
        default,
        deserialize_with = "many"
    )]
    group_systems: Vec<GroupSiteSystem>,
    #[serde(
        rename = "SMS_BoundaryGroupRelationships",
        default,
        deserialize_with = "many"
    )]
    relationships: Vec<Relationship>,
}

#[derive(Deserialize)]
struct SmsSite {
    #[serde(rename = "SiteCode")]
    code: Text,
    #[serde(rename = "Type")]
    site_type: Num,
    #[serde(rename = "ReportingSiteCode", default)]
    reporting_site: Option<Text>,
}

#[derive(Deserialize)]
struct SiteDefinition {
    #[serde(rename = "SiteCode")]
    code: Text,
    #[serde(rename = "ParentSiteCode", default)]
    parent: Option<Text>,
    #[serde(rename = "SQLServerName", default)]
    sql_server: Option<Text>,
    #[serde(rename = "SQLDatabaseName", default)]
    sql_database: Option<Text>,
    #[serde(rename = "Props", default, deserialize_with = "many")]
    props: Vec<EmbeddedProperty>,
}

/// `SMS_EmbeddedProperty`.
#[derive(Deserialize)]
struct EmbeddedProperty {
    #[serde(rename = "PropertyName")]
    name: Text,
    #[serde(rename = "Value", default)]
    value: Option<Num>,
    #[serde(rename = "Value1", default)]
    value1: Option<Text>,
    #[serde(rename = "Value2", default)]
    value2: Option<Text>,
}

/// `SMS_EmbeddedPropertyList`.
#[derive(Deserialize)]
struct EmbeddedPropertyList {
    #[serde(rename = "PropertyListName")]
    name: Text,
    #[serde(rename = "Values", default, deserialize_with = "many")]
    values: Vec<Text>,
}

#[derive(Deserialize)]
struct SysResUse {
    #[serde(rename = "SiteCode")]
    site: Text,
    #[serde(rename = "RoleName")]
    role: Text,
    #[serde(rename = "NetworkOSPath")]
    path: Text,
    #[serde(rename = "SslState", default)]
    ssl_state: Option<Num>,
    #[serde(rename = "Props", default, deserialize_with = "many")]
    props: Vec<EmbeddedProperty>,
    #[serde(rename = "PropLists", default, deserialize_with = "many")]
    prop_lists: Vec<EmbeddedPropertyList>,
}

#[derive(Deserialize)]
struct Component {
    #[serde(rename = "SiteCode")]
    site: Text,
    #[serde(rename = "ItemName")]
    item: Text,
    #[serde(rename = "Props", default, deserialize_with = "many")]
    props: Vec<EmbeddedProperty>,
}

#[derive(Deserialize)]
struct SmsBoundary {
    #[serde(rename = "BoundaryID")]
    id: Num,
    #[serde(rename = "BoundaryType")]
    kind: Num,
    #[serde(rename = "Value")]
    value: Text,
}

#[derive(Deserialize)]
struct SmsBoundaryGroup {
    #[serde(rename = "GroupID")]
    id: Num,
    #[serde(rename = "Name")]
    name: Text,
    #[serde(rename = "DefaultSiteCode", default)]
    site: Option<Text>,
}

#[derive(Deserialize)]
struct GroupMember {
    #[serde(rename = "GroupID")]
    group: Num,
    #[serde(rename = "BoundaryID")]
    boundary: Num,
}

#[derive(Deserialize)]
struct GroupSiteSystem {
    #[serde(rename = "GroupID")]
    group: Num,
    #[serde(rename = "ServerNALPath")]
    nal_path: Text,
}

#[derive(Deserialize)]
struct Relationship {
    #[serde(rename = "SourceGroupID")]
    source: Num,
    #[serde(rename = "DestinationGroupID")]
    destination: Num,
    #[serde(rename = "DestinationGroupName", default)]
    destination_name: Option<Text>,
    #[serde(rename = "FallbackDP", default)]
    dp: Option<Num>,
    #[serde(rename = "FallbackMP", default)]
    mp: Option<Num>,
    #[serde(rename = "FallbackSUP", default)]
    sup: Option<Num>,
}

/// An integer written as a JSON number, a string of digits, or a boolean (`true` is 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Num(i64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer (a number or a string of digits)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                i64::try_from(v)
                    .map(Num)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                // `ConvertTo-Json` writes a [double] that holds an integer as `80.0`.
                // Integral and below 2^53, so exactly an i64.
                if v.fract() == 0.0 && v.abs() < 9.0e15 {
                    #[expect(
                        clippy::cast_possible_truncation,
                        reason = "integral and below 2^53: the conversion is exact"
                    )]
                    Ok(Num(v as i64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Num, E> {
                Ok(Num(i64::from(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                v.trim()
                    .parse()
                    .map(Num)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A string; a number is accepted as its decimal text (a site code `123`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Text(String);

impl Text {
    fn trimmed(&self) -> &str {
        self.0.trim()
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// An array, one object (what `ConvertTo-Json` writes for a one-element pipeline), or
/// `null` (no instance).
fn many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of objects")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element()? {
                out.push(item);
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|one| vec![one])
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<T>, E> {
            // A one-element string list (`Values` of a property list).
            T::deserialize(de::value::StrDeserializer::new(v)).map(|one| vec![one])
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

fn prop<'a>(props: &'a [EmbeddedProperty], name: &str) -> Option<&'a EmbeddedProperty> {
    props
        .iter()
        .find(|p| p.name.trimmed().eq_ignore_ascii_case(name))
}

fn prop_value(props: &[EmbeddedProperty], name: &str) -> Option<i64> {
    prop(props, name).and_then(|p| p.value).map(|n| n.0)
}

fn prop_text<'a>(props: &'a [EmbeddedProperty], name: &str) -> Option<&'a str> {
    let p = prop(props, name)?;
    [&p.value1, &p.value2]
        .into_iter()
        .flatten()
        .map(Text::trimmed)
        .find(|s| !s.is_empty())
}

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

/// The byte offset of (1-based) `line`, `column` in `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

fn json_error(
    file: &str,
    text: &str,
    e: &serde_path_to_error::Error<serde_json::Error>,
) -> ImportError {
    let inner = e.inner();
    let full = inner.to_string();
    let suffix = format!(" at line {} column {}", inner.line(), inner.column());
    let what = full.strip_suffix(&suffix).unwrap_or(&full);
    let offset = offset_of(text, inner.line(), inner.column());
    let path = e.path().to_string();
    match inner.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            ImportError::new(file, text, format!("not JSON: {what}"))
                .at(offset, 0, "here")
                .help("give the file that scripts/Export-CmflowInventory.ps1 writes")
        }
        _ if path == "." => ImportError::new(file, text, format!("not an inventory: {what}"))
            .at(offset, 0, "here")
            .help("an inventory is one JSON object with `\"cmflow-inventory\": 1`"),
        _ => ImportError::new(file, text, format!("{path}: {what}")).at(offset, 0, "here"),
    }
}

fn parse(file: &str, text: &str) -> Result<Inventory, ImportError> {
    // Syntax first, then the top level: serde would read a struct from an array too.
    let _: de::IgnoredAny =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text))
            .map_err(|e| json_error(file, text, &e))?;
    let start = text.len() - text.trim_start().len();
    if !text[start..].starts_with('{') {
        let found = match text[start..].chars().next() {
            Some('[') => "an array",
            Some('"') => "a string",
            _ => "a single value",
        };
        return Err(ImportError::new(
            file,
            text,
            format!("not an inventory: expected a JSON object, found {found}"),
        )
        .at(start, 1, "this")
        .help("an inventory is one JSON object with `\"cmflow-inventory\": 1`"));
    }
    let header: Header =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text))
            .map_err(|e| json_error(file, text, &e))?;
    let key = text.find("\"cmflow-inventory\"");
    match header.version {
        None => {
            return Err(ImportError::new(
                file,
                text,
                "not a cmflow inventory: the field `cmflow-inventory` is missing".into(),
            )
            .help("write the file with scripts/Export-CmflowInventory.ps1"));
        }
        Some(Num(VERSION)) => {}
        Some(Num(v)) => {
            let e = ImportError::new(
                file,
                text,
                format!(
                    "cmflow-inventory: version {v} is not supported: this cmflow reads version {VERSION}"
                ),
            )
            .help("export again with the script of this cmflow version");
            return Err(match key {
                Some(at) => e.at(at, "\"cmflow-inventory\"".len(), "this version"),
                None => e,
            });
        }
    }
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text))
        .map_err(|e| json_error(file, text, &e))
}

// ---------------------------------------------------------------------------------------
// Mapping
// ---------------------------------------------------------------------------------------

/// What a `RoleName` of `SMS_SCI_SysResUse` becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RoleMap {
    /// A role node of the language.
    Role(&'static str),
    /// The site database server (`SMS SQL Server`): a `sql-instance` on the server.
    Sql,
    /// Site system plumbing with no flow of its own (`SMS Site System`, ...); `SMS Site
    /// System` carries the "site server initiates" setting.
    Plumbing,
    /// Multicast on a distribution point (`SMS Multicast Service Point`).
    Multicast,
}

/// `RoleName` values (undocumented by Microsoft; as the console and the SMS Provider
/// write them) and their role node.
const ROLE_NAMES: &[(&str, RoleMap)] = &[
    ("SMS Site Server", RoleMap::Role("site-server")),
    ("SMS Provider", RoleMap::Role("sms-provider")),
    ("SMS Management Point", RoleMap::Role("management-point")),
    (
        "SMS Distribution Point",
        RoleMap::Role("distribution-point"),
    ),
    (
        "SMS Software Update Point",
        RoleMap::Role("software-update-point"),
    ),
    (
        "SMS Fallback Status Point",
        RoleMap::Role("fallback-status-point"),
    ),
    (
        "SMS SRS Reporting Point",
        RoleMap::Role("reporting-services-point"),
    ),
    (
        "SMS State Migration Point",
        RoleMap::Role("state-migration-point"),
    ),
    (
        "SMS Portal Web Site",
        RoleMap::Role("application-catalog-website-point"),
    ),
    (
        "SMS Application Web Service",
        RoleMap::Role("application-catalog-web-service-point"),
    ),
    (
        "AI Update Service Point",
        RoleMap::Role("asset-intelligence-synchronization-point"),
    ),
    (
        "SMS Certificate Registration Point",
        RoleMap::Role("certificate-registration-point"),
    ),
    (
        "SMS Cloud Proxy Connector",
        RoleMap::Role("cmg-connection-point"),
    ),
    (
        "SMS Dmp Connector",
        RoleMap::Role("service-connection-point"),
    ),
    (
        "SMS Endpoint Protection Point",
        RoleMap::Role("endpoint-protection-point"),
    ),
    ("SMS Enrollment Server", RoleMap::Role("enrollment-point")),
    (
        "SMS Enrollment Web Site",
        RoleMap::Role("enrollment-proxy-point"),
    ),
    (
        "Data Warehouse Service Point",
        RoleMap::Role("data-warehouse-service-point"),
    ),
    (
        "SMS Data Warehouse Service Point",
        RoleMap::Role("data-warehouse-service-point"),
    ),
    ("SMS SQL Server", RoleMap::Sql),
    ("SMS Site System", RoleMap::Plumbing),
    ("SMS Component Server", RoleMap::Plumbing),
    ("SMS Notification Server", RoleMap::Plumbing),
    ("SMS Multicast Service Point", RoleMap::Multicast),
];

fn role_map(name: &str) -> Option<RoleMap> {
    ROLE_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
        .map(|(_, m)| *m)
}

/// The host name in a NAL path (`["Display=\\cm01.contoso.com\"]MSWNET:[...]\\cm01\`) or
/// a network OS path (`\\cm01.contoso.com`); a bare name is returned as it is.
pub fn host_of_nal(path: &str) -> Option<String> {
    let path = path.trim();
    let lower = path.to_ascii_lowercase();
    let rest = match lower.find("display=") {
        Some(at) => &path[at + "display=".len()..],
        None => path,
    };
    let rest = rest.trim_start_matches('\\');
    let end = rest.find(['\\', '"', ']']).unwrap_or(rest.len());
    let host = rest[..end].trim();
    (!host.is_empty()).then(|| host.to_owned())
}

/// A role node being written: its name, its properties as KDL text, and comments.
#[derive(Debug, Clone)]
struct RoleOut {
    node: &'static str,
    props: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct ServerOut {
    /// As written in the inventory (first spelling met).
    fqdn: String,
    /// Site code of its roles (the first site met).
    site: Option<String>,
    roles: Vec<RoleOut>,
    /// SQL Server instances: name -> (port, broker port).
    sql: BTreeMap<String, (Option<i64>, Option<i64>)>,
    /// The SQL instance names as first spelled, keyed by lower case.
    sql_names: HashMap<String, String>,
    /// "Require the site server to initiate connections to this site system".
    initiates: bool,
    multicast: bool,
    comments: Vec<String>,
    sql_host: bool,
}

impl ServerOut {
    fn role_mut(&mut self, node: &str) -> Option<&mut RoleOut> {
        self.roles.iter_mut().find(|r| r.node == node)
    }
}

fn bool_kdl(b: bool) -> String {
    if b { "#true" } else { "#false" }.to_owned()
}

/// `SslState` of `SMS_SCI_SysResUse` (documented values): 0 HTTP, 1 HTTPS, 2 not
/// applicable, 3 always HTTPS, 4 always HTTP. "HTTPS" (1) is a role that takes HTTPS
/// clients while the site still allows HTTP ones ("HTTPS or HTTP"): both are written.
fn http_https(ssl_state: Option<Num>) -> (bool, bool) {
    match ssl_state.map(|n| n.0) {
        Some(1) => (true, true),
        Some(3) => (false, true),
        _ => (true, false),
    }
}

fn port_of(v: i64) -> Option<i64> {
    (1..=65535).contains(&v).then_some(v)
}

/// The props of one role from its `SMS_SCI_SysResUse` instance.
fn role_props(node: &str, r: &SysResUse) -> Vec<(String, String)> {
    let flag = |name: &str| prop_value(&r.props, name).is_some_and(|v| v != 0);
    let mut props = Vec::new();
    match node {
        "management-point" => {
            let (http, https) = http_https(r.ssl_state);
            props.push(("http".into(), bool_kdl(http)));
            props.push(("https".into(), bool_kdl(https)));
        }
        "distribution-point" => {
            let (http, https) = http_https(r.ssl_state);
            let pull = flag("IsPullDP");
            props.push(("pull".into(), bool_kdl(pull)));
            props.push(("pxe".into(), bool_kdl(flag("IsPXE"))));
            props.push(("multicast".into(), bool_kdl(flag("IsMulticast"))));
            props.push(("http".into(), bool_kdl(http)));
            props.push(("https".into(), bool_kdl(https)));
            let sources: Vec<String> = r
                .prop_lists
                .iter()
                .filter(|l| {
                    l.name
                        .trimmed()
                        .eq_ignore_ascii_case("SourceDistributionPoints")
                })
                .flat_map(|l| l.values.iter())
                .filter_map(|v| host_of_nal(&v.0))
                .collect();
            if pull && !sources.is_empty() {
                props.push(("sources".into(), q(&sources.join(","))));
            }
        }
        "software-update-point" => {
            if let Some(p) = prop_value(&r.props, "WSUSIISPort").and_then(port_of) {
                props.push(("wsus-http".into(), p.to_string()));
            }
            if let Some(p) = prop_value(&r.props, "WSUSIISSSLPort").and_then(port_of) {
                props.push(("wsus-https".into(), p.to_string()));
            }
            props.push(("ssl".into(), bool_kdl(flag("SSLWSUS"))));
        }
        _ => {}
    }
    props
}

/// The CIDR of an IP subnet boundary. ConfigMgr keeps the subnet ID only (`10.1.10.0`):
/// the mask is each client's own. The prefix assumed is the widest the ID allows, but no
/// wider than /24 (`10.1.10.0` -> /24, `10.1.10.128` -> /25); a value with `/N` is kept.
fn subnet_cidr(value: &str) -> Option<(String, bool)> {
    if value.contains('/') {
        return value
            .parse::<ipnet::IpNet>()
            .ok()
            .map(|n| (n.to_string(), false));
    }
    let addr: Ipv4Addr = value.parse().ok()?;
    let bits = u32::from(addr);
    let prefix = 32u32.saturating_sub(bits.trailing_zeros().min(32)).max(24);
    Some((format!("{addr}/{prefix}"), true))
}

/// The CIDR of an IPv6 prefix boundary: ConfigMgr keeps the 64-bit prefix
/// (`2001:db8:1:2::` or `2001:0DB8:0001:0002`).
fn ipv6_cidr(value: &str) -> Option<String> {
    if value.contains('/') {
        return value.parse::<ipnet::IpNet>().ok().map(|n| n.to_string());
    }
    let addr: Ipv6Addr = value.parse().ok().or_else(|| {
        let groups = value.split(':').filter(|g| !g.is_empty()).count();
        (groups <= 4 && !value.contains("::"))
            .then(|| format!("{value}::").parse().ok())
            .flatten()
    })?;
    let net = ipnet::Ipv6Net::new(addr, 64).ok()?.trunc();
    Some(net.to_string())
}

fn ip_range(value: &str) -> Option<String> {
    let (a, b) = value.split_once('-')?;
    let (a, b): (IpAddr, IpAddr) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    Some(format!("{a}-{b}"))
}

/// The default site boundary group's name: `Default-Site-Boundary-Group<P01>`.
fn default_group_site(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("Default-Site-Boundary-Group<")?;
    let code = rest.strip_suffix('>')?;
    (!code.is_empty()).then_some(code)
}

/// A fallback time: minutes, or `"never"` for a negative value.
fn minutes(v: Option<Num>) -> Option<String> {
    v.map(|Num(m)| if m < 0 { q("never") } else { m.to_string() })
}

/// A file name for a site: the code when it is a plain code, else its position.
fn site_file(code: &str, index: usize) -> String {
    if !code.is_empty() && code.len() <= 8 && code.chars().all(|c| c.is_ascii_alphanumeric()) {
        format!("site-{}.kdl", code.to_ascii_lowercase())
    } else {
        format!("site-{}.kdl", index + 1)
    }
}

struct SiteOut {
    code: String,
    kind: &'static str,
    parent: Option<String>,
    client_ports: Vec<(String, String)>,
    database: Option<(String, String)>,
}

/// A KDL text being written, indented by block.
struct Doc {
    text: String,
    depth: usize,
}

impl Doc {
    fn new(header: &str) -> Self {
        let mut text = String::new();
        for line in header.lines() {
            let _ = writeln!(text, "// {}", comment(line));
        }
        text.push('\n');
        Self { text, depth: 0 }
    }
    fn line(&mut self, s: &str) {
        for _ in 0..self.depth {
            self.text.push_str("    ");
        }
        self.text.push_str(s);
        self.text.push('\n');
    }
    fn comment(&mut self, s: &str) {
        self.line(&format!("// {}", comment(s)));
    }
    fn open(&mut self, s: &str) {
        self.line(&format!("{s} {{"));
        self.depth += 1;
    }
    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("}");
    }
    fn blank(&mut self) {
        self.text.push('\n');
    }
    /// The text through the formatter, so that it reads as `cmflow fmt` writes it.
    fn finish(self, name: String) -> ImportedFile {
        let text = match crate::format::format_kdl(&self.text) {
            crate::format::Formatted::Text(t) => t,
            _ => self.text,
        };
        ImportedFile { name, text }
    }
}

fn props_text(props: &[(String, String)]) -> String {
    props.iter().fold(String::new(), |mut out, (k, v)| {
        let _ = write!(out, " {k}={v}");
        out
    })
}

/// Imports the inventory `text` (read from `file`, named in messages and headers).
pub fn import(file: &str, text: &str) -> Result<Imported, ImportError> {
    let inv = parse(file, text)?;
    let mut warnings = Vec::new();

    // Sites, with their definitions (parent, database) and client request ports.
    let mut sites: Vec<SiteOut> = Vec::new();
    for (i, s) in inv.sites.iter().enumerate() {
        let code = s.code.trimmed().to_owned();
        let kind = match s.site_type.0 {
            1 => "secondary",
            2 => "primary",
            4 => "central",
            t => {
                return Err(ImportError::new(
                    file,
                    text,
                    format!(
                        "SMS_Site[{i}].Type: {t} is not a site type: expected 1 (secondary), 2 (primary) or 4 (central administration site)"
                    ),
                ));
            }
        };
        if code.is_empty() {
            return Err(ImportError::new(
                file,
                text,
                format!("SMS_Site[{i}].SiteCode: empty: expected a site code"),
            ));
        }
        if sites.iter().any(|o| o.code.eq_ignore_ascii_case(&code)) {
            warnings.push(format!(
                "SMS_Site[{i}]: site {code} is listed twice: the first is kept"
            ));
            continue;
        }
        let definition = inv
            .site_definitions
            .iter()
            .find(|d| d.code.trimmed().eq_ignore_ascii_case(&code));
        let parent = s
            .reporting_site
            .as_ref()
            .map(Text::trimmed)
            .filter(|p| !p.is_empty() && !p.eq_ignore_ascii_case(&code))
            .or_else(|| {
                definition
                    .and_then(|d| d.parent.as_ref())
                    .map(Text::trimmed)
                    .filter(|p| !p.is_empty() && !p.eq_ignore_ascii_case(&code))
            })
            .map(str::to_owned);
        let database = definition.and_then(|d| {
            // `SQLServerName` may be a NetBIOS name or `SERVER\INSTANCE`; the FQDN
            // property, when there, names the server as its site system role does.
            let name = d.sql_server.as_ref().map_or("", Text::trimmed);
            let server = prop_text(&d.props, "SQLServerFQDN")
                .and_then(host_of_nal)
                .or_else(|| host_of_nal(name))?;
            let db = d.sql_database.as_ref().map_or("", Text::trimmed);
            // `INSTANCE\DATABASE`, else `SERVER\INSTANCE`, else the default instance.
            let instance = match (db.split_once('\\'), name.split_once('\\')) {
                (Some((inst, _)), _) | (None, Some((_, inst))) => inst.trim(),
                (None, None) => "",
            };
            let instance = if instance.is_empty() {
                "MSSQLSERVER"
            } else {
                instance
            };
            Some((server, instance.to_owned()))
        });
        let client_ports = if kind == "secondary" {
            Vec::new()
        } else {
            client_ports(&inv, &code)
        };
        sites.push(SiteOut {
            code,
            kind,
            parent,
            client_ports,
            database,
        });
    }
    // Parents first: central, then primaries, then secondaries; by code within a kind.
    let rank = |k: &str| match k {
        "central" => 0,
        "primary" => 1,
        _ => 2,
    };
    sites.sort_by(|a, b| {
        rank(a.kind)
            .cmp(&rank(b.kind))
            .then_with(|| a.code.cmp(&b.code))
    });
    let codes: HashMap<String, String> = sites
        .iter()
        .map(|s| (s.code.to_ascii_lowercase(), s.code.clone()))
        .collect();
    let site_of = |code: &str| -> Option<String> { codes.get(&code.to_ascii_lowercase()).cloned() };

    // Servers and their roles.
    let mut servers: BTreeMap<String, ServerOut> = BTreeMap::new();
    let mut unknown_roles: BTreeSet<String> = BTreeSet::new();
    for (i, r) in inv.roles.iter().enumerate() {
        let Some(fqdn) = host_of_nal(&r.path.0) else {
            warnings.push(format!(
                "SMS_SCI_SysResUse[{i}].NetworkOSPath: no server name in {:?}: the role is skipped",
                r.path.0
            ));
            continue;
        };
        let key = fqdn.to_ascii_lowercase();
        let server = servers.entry(key).or_insert_with(|| ServerOut {
            fqdn: fqdn.clone(),
            ..ServerOut::default()
        });
        let role_site = site_of(r.site.trimmed());
        let role_name = r.role.trimmed();
        match role_map(role_name) {
            Some(RoleMap::Role(_)) if role_site.is_none() => warnings.push(format!(
                "SMS_SCI_SysResUse[{i}]: site {:?} of role {role_name:?} on {fqdn} is not in SMS_Site: the role is skipped",
                r.site.0
            )),
            Some(RoleMap::Role(node)) => {
                match (&server.site, &role_site) {
                    (None, Some(code)) => server.site = Some(code.clone()),
                    (Some(a), Some(b)) if a != b => warnings.push(format!(
                        "{fqdn}: holds roles of sites {a} and {b}: it is written in site {a}, with every role"
                    )),
                    _ => {}
                }
                if server.role_mut(node).is_none() {
                    server.roles.push(RoleOut {
                        node,
                        props: role_props(node, r),
                    });
                }
            }
            Some(RoleMap::Sql) => server.sql_host = true,
            Some(RoleMap::Plumbing) => {
                if prop_value(&r.props, "FDMOperation").is_some_and(|v| v != 0) {
                    server.initiates = true;
                }
            }
            Some(RoleMap::Multicast) => server.multicast = true,
            None => {
                server.comments.push(format!(
                    "ConfigMgr role {role_name:?} is not one cmflow knows: not imported"
                ));
                unknown_roles.insert(role_name.to_owned());
            }
        }
    }
    for name in &unknown_roles {
        warnings.push(format!(
            "unknown ConfigMgr role {name:?}: not imported (a comment marks each server that holds it)"
        ));
    }
    // SQL Server instances of the site databases, on the server of that name.
    for (site, def) in sites.iter().filter_map(|s| {
        let def = inv
            .site_definitions
            .iter()
            .find(|d| d.code.trimmed().eq_ignore_ascii_case(&s.code))?;
        Some((s, def))
    }) {
        let Some((server_name, instance)) = &site.database else {
            continue;
        };
        let server = servers
            .entry(server_name.to_ascii_lowercase())
            .or_insert_with(|| ServerOut {
                fqdn: server_name.clone(),
                sql_host: true,
                ..ServerOut::default()
            });
        let port = prop_value(&def.props, "SQLServicePort").and_then(port_of);
        let broker = prop_value(&def.props, "SSBPort")
            .or_else(|| prop_value(&def.props, "SQL Server Service Broker Port"))
            .and_then(port_of);
        let key = instance.to_ascii_lowercase();
        server
            .sql_names
            .entry(key.clone())
            .or_insert_with(|| instance.clone());
        let entry = server.sql.entry(key).or_insert((None, None));
        entry.0 = entry.0.or(port);
        entry.1 = entry.1.or(broker);
    }
    // Roles in the vocabulary's order; multicast and "site server initiates" applied.
    let order: Vec<&str> = crate::load::vocabulary::site_role_names().collect();
    for server in servers.values_mut() {
        server
            .roles
            .sort_by_key(|r| order.iter().position(|n| *n == r.node));
        if server.multicast
            && let Some(dp) = server.role_mut("distribution-point")
        {
            for (k, v) in &mut dp.props {
                if k == "multicast" {
                    *v = bool_kdl(true);
                }
            }
        }
        if server.initiates {
            for role in &mut server.roles {
                role.props
                    .push(("site-server-initiates".into(), bool_kdl(true)));
            }
        }
    }

    let source = comment(file).into_owned();
    let mut files = Vec::new();

    // zones.kdl: the placeholder zone every server is in.
    let mut zones = Doc::new(&format!(
        "Written by `cmflow import configmgr {source}`.\n\
         ConfigMgr does not know your network: every imported server is in the zone\n\
         \"{PLACEHOLDER_ZONE}\". Declare your zones here (zone \"NAME\" {{ subnet \"CIDR\" }}), set\n\
         each server's zone= (and address=), then remove this zone. Firewalls go in their\n\
         own files: `firewall` nodes, or `source=` files (docs/language.md)."
    ));
    zones.line(&format!("zone {}", q(PLACEHOLDER_ZONE)));
    files.push(zones.finish("zones.kdl".into()));

    let zone = q(PLACEHOLDER_ZONE);
    let write_server = |doc: &mut Doc, s: &ServerOut| {
        let head = format!("server {} zone={zone}", q(&s.fqdn));
        let mut children: Vec<String> = s
            .roles
            .iter()
            .map(|r| format!("{}{}", r.node, props_text(&r.props)))
            .collect();
        for (key, (port, broker)) in &s.sql {
            let name = s.sql_names.get(key).map_or(key.as_str(), String::as_str);
            let mut line = format!("sql-instance {}", q(name));
            if let Some(p) = port {
                let _ = write!(line, " port={p}");
            }
            if let Some(b) = broker {
                let _ = write!(line, " broker-port={b}");
            }
            children.push(line);
        }
        if children.is_empty() && s.comments.is_empty() {
            doc.line(&head);
            return;
        }
        doc.open(&head);
        for c in &s.comments {
            doc.comment(c);
        }
        for c in &children {
            doc.line(c);
        }
        doc.close();
    };

    // One file per site.
    for (index, site) in sites.iter().enumerate() {
        let mut doc = Doc::new(&format!(
            "Site {} ({}), written by `cmflow import configmgr {source}`.",
            site.code, site.kind
        ));
        let mut head = format!("site {} type={}", q(&site.code), q(site.kind));
        if let Some(p) = &site.parent {
            let _ = write!(head, " parent={}", q(p));
        }
        doc.open(&head);
        if !site.client_ports.is_empty() {
            doc.line(&format!("client-ports{}", props_text(&site.client_ports)));
        }
        if let Some((server, instance)) = &site.database {
            doc.line(&format!(
                "database server={} instance={}",
                q(server),
                q(instance)
            ));
        }
        for s in servers
            .values()
            .filter(|s| !s.roles.is_empty() && s.site.as_deref() == Some(site.code.as_str()))
        {
            doc.blank();
            write_server(&mut doc, s);
        }
        doc.close();
        files.push(doc.finish(site_file(&site.code, index)));
    }

    // Servers with no site role: the SQL Servers of the site databases, and servers
    // whose only roles cmflow does not know.
    let infrastructure: Vec<&ServerOut> = servers
        .values()
        .filter(|s| {
            s.roles.is_empty() && (s.sql_host || !s.sql.is_empty() || !s.comments.is_empty())
        })
        .collect();
    if !infrastructure.is_empty() {
        let mut doc = Doc::new(&format!(
            "Servers outside any site (site database servers), written by\n`cmflow import configmgr {source}`."
        ));
        for (i, s) in infrastructure.into_iter().enumerate() {
            if i > 0 {
                doc.blank();
            }
            write_server(&mut doc, s);
        }
        files.push(doc.finish("infrastructure.kdl".into()));
    }

    if let Some(doc) = boundary_groups(&inv, &source, &site_of, &mut warnings) {
        files.push(doc.finish("boundary-groups.kdl".into()));
    }
    Ok(Imported { files, warnings })
}

/// `client-ports` of a site from the management point component's `IISPortsList` and
/// `IISSSLPortsList` (`80`, or `80,8080` with the alternate port second).
fn client_ports(inv: &Inventory, code: &str) -> Vec<(String, String)> {
    let Some(component) = inv.components.iter().find(|c| {
        c.site.trimmed().eq_ignore_ascii_case(code)
            && c.item
                .trimmed()
                .to_ascii_uppercase()
                .starts_with("SMS_MP_CONTROL_MANAGER")
    }) else {
        return Vec::new();
    };
    let ports = |name: &str| -> Vec<i64> {
        prop_text(&component.props, name)
            .map(|s| {
                s.split([',', ';', ' '])
                    .filter_map(|p| p.trim().parse().ok())
                    .filter_map(port_of)
                    .collect()
            })
            .or_else(|| {
                prop_value(&component.props, name)
                    .and_then(port_of)
                    .map(|p| vec![p])
            })
            .unwrap_or_default()
    };
    let (http, https) = (ports("IISPortsList"), ports("IISSSLPortsList"));
    let mut out = Vec::new();
    if let Some(p) = http.first() {
        out.push(("http".into(), p.to_string()));
    }
    if let Some(p) = https.first() {
        out.push(("https".into(), p.to_string()));
    }
    if let Some(p) = http.get(1) {
        out.push(("http-alternate".into(), p.to_string()));
    }
    if let Some(p) = https.get(1) {
        out.push(("https-alternate".into(), p.to_string()));
    }
    out
}

fn boundary_groups(
    inv: &Inventory,
    source: &str,
    site_of: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Option<Doc> {
    if inv.groups.is_empty() {
        if !inv.boundaries.is_empty() {
            warnings.push(format!(
                "{} boundaries in no boundary group: cmflow models boundaries inside groups only",
                inv.boundaries.len()
            ));
        }
        return None;
    }
    let mut doc = Doc::new(&format!(
        "Boundary groups, written by `cmflow import configmgr {source}`\n(docs/boundary-groups.md)."
    ));
    let names: HashMap<i64, &str> = inv
        .groups
        .iter()
        .map(|g| (g.id.0, g.name.trimmed()))
        .collect();
    let boundaries: HashMap<i64, &SmsBoundary> =
        inv.boundaries.iter().map(|b| (b.id.0, b)).collect();
    // By group, so that a hierarchy with thousands of groups stays linear.
    let mut members_of: HashMap<i64, Vec<&GroupMember>> = HashMap::new();
    for m in &inv.members {
        members_of.entry(m.group.0).or_default().push(m);
    }
    let mut systems_of: HashMap<i64, Vec<&GroupSiteSystem>> = HashMap::new();
    for s in &inv.group_systems {
        systems_of.entry(s.group.0).or_default().push(s);
    }
    let mut relationships_of: HashMap<i64, Vec<&Relationship>> = HashMap::new();
    for r in &inv.relationships {
        relationships_of.entry(r.source.0).or_default().push(r);
    }
    let mut groups: Vec<&SmsBoundaryGroup> = inv.groups.iter().collect();
    groups.sort_by(|a, b| a.name.trimmed().cmp(b.name.trimmed()));
    let mut inferred = 0usize;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for g in groups {
        let name = g.name.trimmed();
        if !seen.insert(name.to_owned()) {
            warnings.push(format!(
                "boundary group {name:?} is listed twice: the first is kept"
            ));
            continue;
        }
        if seen.len() > 1 {
            doc.blank();
        }
        let mut head = format!("boundary-group {}", q(name));
        if let Some(code) = default_group_site(name) {
            let code = site_of(code).unwrap_or_else(|| code.to_owned());
            let _ = write!(head, " default-for={}", q(&code));
        } else if let Some(site) = g.site.as_ref().map(Text::trimmed).filter(|s| !s.is_empty()) {
            let code = site_of(site).unwrap_or_else(|| site.to_owned());
            let _ = write!(head, " site={}", q(&code));
        }
        let mut lines: Vec<String> = Vec::new();
        let mut members: Vec<&SmsBoundary> = members_of
            .get(&g.id.0)
            .into_iter()
            .flatten()
            .filter_map(|m| {
                let b = boundaries.get(&m.boundary.0).copied();
                if b.is_none() {
                    warnings.push(format!(
                        "boundary group {name:?}: boundary {} is not in SMS_Boundary",
                        m.boundary.0
                    ));
                }
                b
            })
            .collect();
        members.sort_by_key(|b| (b.kind, b.id));
        members.dedup_by_key(|b| b.id);
        for b in members {
            let value = b.value.trimmed();
            let line = match b.kind.0 {
                0 => subnet_cidr(value).map(|(cidr, guessed)| {
                    if guessed {
                        inferred += 1;
                        format!(
                            "boundary {} // IP subnet ID {}: ConfigMgr keeps no mask, check the prefix",
                            q(&cidr),
                            comment(value)
                        )
                    } else {
                        format!("boundary {}", q(&cidr))
                    }
                }),
                1 => (!value.is_empty()).then(|| format!("boundary ad-site={}", q(value))),
                2 => ipv6_cidr(value).map(|c| format!("boundary {}", q(&c))),
                3 => ip_range(value).map(|r| format!("boundary {}", q(&r))),
                4 => {
                    warnings.push(format!(
                        "boundary group {name:?}: VPN boundary {value:?} is not modelled by cmflow: written as a comment"
                    ));
                    Some(format!(
                        "// VPN boundary {}: not modelled by cmflow",
                        comment(value)
                    ))
                }
                t => {
                    warnings.push(format!(
                        "boundary group {name:?}: boundary {} has the unknown BoundaryType {t}: written as a comment",
                        b.id.0
                    ));
                    Some(format!(
                        "// boundary of unknown type {t}: {}",
                        comment(value)
                    ))
                }
            };
            if let Some(l) = line {
                lines.push(l);
            } else {
                warnings.push(format!(
                    "boundary group {name:?}: boundary {} ({value:?}) is not a valid value for its type {}: written as a comment",
                    b.id.0, b.kind.0
                ));
                lines.push(format!(
                    "// boundary {}: not a valid value for its type",
                    comment(value)
                ));
            }
        }
        let mut systems: Vec<String> = systems_of
            .get(&g.id.0)
            .into_iter()
            .flatten()
            .filter_map(|s| host_of_nal(&s.nal_path.0))
            .collect();
        systems.sort_by_key(|s| s.to_ascii_lowercase());
        systems.dedup_by_key(|s| s.to_ascii_lowercase());
        lines.extend(systems.iter().map(|s| format!("site-system {}", q(s))));
        let mut fallbacks: Vec<(&str, String)> = relationships_of
            .get(&g.id.0)
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let to = names.get(&r.destination.0).copied().or_else(|| {
                    r.destination_name
                        .as_ref()
                        .map(Text::trimmed)
                        .filter(|n| !n.is_empty())
                });
                let Some(to) = to else {
                    warnings.push(format!(
                        "boundary group {name:?}: fallback to group {} that is not in SMS_BoundaryGroup: skipped",
                        r.destination.0
                    ));
                    return None;
                };
                let mut line = format!("fallback {}", q(to));
                for (prop, v) in [
                    ("distribution-point", r.dp),
                    ("software-update-point", r.sup),
                    ("management-point", r.mp),
                ] {
                    if let Some(m) = minutes(v) {
                        let _ = write!(line, " {prop}={m}");
                    }
                }
                Some((to, line))
            })
            .collect();
        fallbacks.sort();
        lines.extend(fallbacks.into_iter().map(|(_, l)| l));
        if lines.is_empty() {
            doc.line(&head);
        } else {
            doc.open(&head);
            for l in &lines {
                doc.line(l);
            }
            doc.close();
        }
    }
    if inferred > 0 {
        warnings.push(format!(
            "{inferred} IP subnet boundaries: ConfigMgr keeps the subnet ID without its mask; check the prefixes assumed in boundary-groups.kdl"
        ));
    }
    Some(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nal_paths_give_their_host() {
        assert_eq!(
            host_of_nal(
                r#"["Display=\\cm01.contoso.com\"]MSWNET:["SMS_SITE=P01"]\\cm01.contoso.com\"#
            )
            .as_deref(),
            Some("cm01.contoso.com")
        );
        assert_eq!(
            host_of_nal(r"\\cm01.contoso.com").as_deref(),
            Some("cm01.contoso.com")
        );
        assert_eq!(
            host_of_nal("cm01.contoso.com").as_deref(),
            Some("cm01.contoso.com")
        );
        assert_eq!(host_of_nal(r"\\"), None);
        assert_eq!(host_of_nal("  "), None);
    }

    #[test]
    fn subnet_ids_get_the_widest_prefix_up_to_24() {
        assert_eq!(
            subnet_cidr("10.1.10.0"),
            Some(("10.1.10.0/24".into(), true))
        );
        assert_eq!(subnet_cidr("10.1.0.0"), Some(("10.1.0.0/24".into(), true)));
        assert_eq!(
            subnet_cidr("10.1.10.128"),
            Some(("10.1.10.128/25".into(), true))
        );
        assert_eq!(
            subnet_cidr("10.1.10.7"),
            Some(("10.1.10.7/32".into(), true))
        );
        assert_eq!(subnet_cidr("0.0.0.0"), Some(("0.0.0.0/24".into(), true)));
        assert_eq!(
            subnet_cidr("10.1.0.0/16"),
            Some(("10.1.0.0/16".into(), false))
        );
        assert_eq!(subnet_cidr("ten"), None);
    }

    #[test]
    fn ipv6_prefixes_are_64_bits() {
        assert_eq!(
            ipv6_cidr("2001:db8:1:2::").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_eq!(
            ipv6_cidr("2001:0DB8:0001:0002").as_deref(),
            Some("2001:db8:1:2::/64")
        );
        assert_eq!(ipv6_cidr("2001:db8::/48").as_deref(), Some("2001:db8::/48"));
        assert_eq!(ipv6_cidr("nope"), None);
    }

    #[test]
    fn ranges_and_default_groups() {
        assert_eq!(
            ip_range("10.0.0.1 - 10.0.0.9").as_deref(),
            Some("10.0.0.1-10.0.0.9")
        );
        assert_eq!(ip_range("10.0.0.1"), None);
        assert_eq!(
            default_group_site("Default-Site-Boundary-Group<P01>"),
            Some("P01")
        );
        assert_eq!(default_group_site("Default-Site-Boundary-Group<>"), None);
        assert_eq!(default_group_site("HQ"), None);
    }

    #[test]
    fn ssl_states_map_to_http_and_https() {
        assert_eq!(http_https(None), (true, false));
        assert_eq!(http_https(Some(Num(0))), (true, false));
        assert_eq!(http_https(Some(Num(1))), (true, true));
        assert_eq!(http_https(Some(Num(2))), (true, false));
        assert_eq!(http_https(Some(Num(3))), (false, true));
        assert_eq!(http_https(Some(Num(4))), (true, false));
    }

    #[test]
    fn numbers_are_read_from_strings_and_doubles() {
        let n: Vec<Num> = serde_json::from_str(r#"[1, "2", " 3 ", 4.0, true]"#).unwrap();
        assert_eq!(n, vec![Num(1), Num(2), Num(3), Num(4), Num(1)]);
        assert!(serde_json::from_str::<Num>("4.5").is_err());
        assert!(serde_json::from_str::<Num>(r#""x""#).is_err());
    }

    #[test]
    fn one_object_counts_as_a_one_element_array() {
        let text = r#"{"cmflow-inventory": 1, "SMS_Site": {"SiteCode": "P01", "Type": 2}}"#;
        let imported = import("inv.json", text).unwrap();
        let site = imported
            .files
            .iter()
            .find(|f| f.name == "site-p01.kdl")
            .unwrap();
        assert!(
            site.text.contains(r#"site "P01" type="primary""#),
            "{}",
            site.text
        );
    }

    #[test]
    fn fallback_minutes_and_never() {
        assert_eq!(minutes(Some(Num(-1))).as_deref(), Some("\"never\""));
        assert_eq!(minutes(Some(Num(0))).as_deref(), Some("0"));
        assert_eq!(minutes(None), None);
    }

    fn text_of<'a>(imported: &'a Imported, name: &str) -> &'a str {
        imported
            .files
            .iter()
            .find(|f| f.name == name)
            .map_or("", |f| f.text.as_str())
    }

    #[test]
    fn roles_of_unknown_sites_and_odd_values_are_warned_about() {
        let text = r#"{"cmflow-inventory": 1,
            "SMS_Site": [{"SiteCode": "P01", "Type": 2}, {"SiteCode": "p01", "Type": 2},
                         {"SiteCode": "S01", "Type": 1, "ReportingSiteCode": "P01"}],
            "SMS_SCI_SysResUse": [
              {"SiteCode": "P01", "RoleName": "SMS Management Point", "NetworkOSPath": "\\\\mp.contoso.com"},
              {"SiteCode": "S01", "RoleName": "SMS Distribution Point", "NetworkOSPath": "\\\\mp.contoso.com"},
              {"SiteCode": "X99", "RoleName": "SMS Fallback Status Point", "NetworkOSPath": "\\\\fsp.contoso.com"},
              {"SiteCode": "P01", "RoleName": "SMS Site Server", "NetworkOSPath": "\\\\"},
              {"SiteCode": "S01", "RoleName": "SMS Multicast Service Point", "NetworkOSPath": "\\\\mp.contoso.com"},
              {"SiteCode": "S01", "RoleName": "SMS Distribution Point", "NetworkOSPath": "\\\\dp.contoso.com"}
            ],
            "SMS_SCI_Component": [{"SiteCode": "P01", "ItemName": "SMS_MP_CONTROL_MANAGER|SMS Management Point",
              "Props": [{"PropertyName": "IISPortsList", "Value": 8080}]},
              {"SiteCode": "S01", "ItemName": "SMS_MP_CONTROL_MANAGER|SMS Management Point",
              "Props": [{"PropertyName": "IISPortsList", "Value1": "81"}]}],
            "SMS_Boundary": [{"BoundaryID": 1, "BoundaryType": 7, "Value": "x"},
                             {"BoundaryID": 2, "BoundaryType": 3, "Value": "10.0.0.1"}],
            "SMS_BoundaryGroup": [{"GroupID": 1, "Name": "G"}, {"GroupID": 2, "Name": "G"}],
            "SMS_BoundaryGroupMembers": [{"GroupID": 1, "BoundaryID": 1}, {"GroupID": 1, "BoundaryID": 2},
                                         {"GroupID": 1, "BoundaryID": 3}],
            "SMS_BoundaryGroupRelationships": [{"SourceGroupID": 1, "DestinationGroupID": 9},
                                               {"SourceGroupID": 1, "DestinationGroupID": 8, "DestinationGroupName": "Elsewhere", "FallbackMP": "15"}]
        }"#;
        let imported = import("inv.json", text).unwrap();
        assert_eq!(
            imported.warnings,
            [
                "SMS_Site[1]: site p01 is listed twice: the first is kept",
                "mp.contoso.com: holds roles of sites P01 and S01: it is written in site P01, with every role",
                "SMS_SCI_SysResUse[2]: site \"X99\" of role \"SMS Fallback Status Point\" on fsp.contoso.com is not in SMS_Site: the role is skipped",
                r#"SMS_SCI_SysResUse[3].NetworkOSPath: no server name in "\\\\": the role is skipped"#,
                "boundary group \"G\": boundary 3 is not in SMS_Boundary",
                "boundary group \"G\": boundary 2 (\"10.0.0.1\") is not a valid value for its type 3: written as a comment",
                "boundary group \"G\": boundary 1 has the unknown BoundaryType 7: written as a comment",
                "boundary group \"G\": fallback to group 9 that is not in SMS_BoundaryGroup: skipped",
                "boundary group \"G\" is listed twice: the first is kept",
            ]
        );
        let p01 = text_of(&imported, "site-p01.kdl");
        assert!(p01.contains("    client-ports http=8080\n"), "{p01}");
        assert!(
            p01.contains("management-point http=#true https=#false\n        distribution-point pull=#false pxe=#false multicast=#true"),
            "{p01}"
        );
        let s01 = text_of(&imported, "site-s01.kdl");
        assert!(s01.starts_with("// Site S01 (secondary)"), "{s01}");
        assert!(
            !s01.contains("client-ports"),
            "a secondary uses its parent's: {s01}"
        );
        assert!(s01.contains(r#"server "dp.contoso.com""#), "{s01}");
        assert!(
            !imported
                .files
                .iter()
                .any(|f| f.text.contains("fsp.contoso.com"))
        );
        let groups = text_of(&imported, "boundary-groups.kdl");
        assert!(
            groups.contains("// boundary of unknown type 7: x"),
            "{groups}"
        );
        assert!(
            groups.contains("// boundary 10.0.0.1: not a valid value for its type"),
            "{groups}"
        );
        assert!(
            groups.contains(r#"fallback "Elsewhere" management-point=15"#),
            "{groups}"
        );
    }

    #[test]
    fn the_site_database_instance_comes_from_the_database_or_the_server_name() {
        let text = r#"{"cmflow-inventory": 1,
            "SMS_Site": [{"SiteCode": "P01", "Type": 2}, {"SiteCode": "P02", "Type": 2}, {"SiteCode": "P03", "Type": 2}],
            "SMS_SCI_SiteDefinition": [
              {"SiteCode": "P01", "SQLServerName": "SQL01", "SQLDatabaseName": "INST1\\CM_P01",
               "Props": [{"PropertyName": "SQLServerFQDN", "Value1": "sql01.contoso.com"}]},
              {"SiteCode": "P02", "SQLServerName": "sql02.contoso.com\\INST2", "SQLDatabaseName": "CM_P02",
               "Props": [{"PropertyName": "SQL Server Service Broker Port", "Value": 4030}]},
              {"SiteCode": "P03", "SQLServerName": "sql03.contoso.com", "SQLDatabaseName": "CM_P03"}
            ]}"#;
        let imported = import("inv.json", text).unwrap();
        assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
        let p01 = text_of(&imported, "site-p01.kdl");
        assert!(
            p01.contains(r#"database server="sql01.contoso.com" instance="INST1""#),
            "{p01}"
        );
        let p02 = text_of(&imported, "site-p02.kdl");
        assert!(
            p02.contains(r#"database server="sql02.contoso.com" instance="INST2""#),
            "{p02}"
        );
        assert_eq!(
            text_of(&imported, "infrastructure.kdl")
                .lines()
                .filter(|l| !l.starts_with("//"))
                .collect::<Vec<_>>(),
            [
                "",
                r#"server "sql01.contoso.com" zone="unassigned" {"#,
                r#"    sql-instance "INST1""#,
                "}",
                "",
                r#"server "sql02.contoso.com" zone="unassigned" {"#,
                r#"    sql-instance "INST2" broker-port=4030"#,
                "}",
                "",
                r#"server "sql03.contoso.com" zone="unassigned" {"#,
                r#"    sql-instance "MSSQLSERVER""#,
                "}",
            ]
        );
    }

    #[test]
    fn boundaries_without_groups_are_a_warning() {
        let text = r#"{"cmflow-inventory": 1, "SMS_Boundary": [{"BoundaryID": 1, "BoundaryType": 1, "Value": "Redmond"}]}"#;
        let imported = import("inv.json", text).unwrap();
        assert_eq!(
            imported.warnings,
            ["1 boundaries in no boundary group: cmflow models boundaries inside groups only"]
        );
        assert_eq!(
            imported
                .files
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["zones.kdl"]
        );
    }

    #[test]
    fn errors_point_at_the_json_where_they_are() {
        let text =
            "{\"cmflow-inventory\": 1,\n \"SMS_Site\": [{\"SiteCode\": \"P01\", \"Type\": [2]}]}";
        let e = import("inv.json", text).unwrap_err();
        assert_eq!(
            e.to_string(),
            "inv.json: SMS_Site[0].Type: invalid type: sequence, expected an integer (a number or a string of digits)"
        );
        let span = e.span.expect("a span");
        assert_eq!(&text[span.offset()..=span.offset()], "[", "{span:?}");
        let e = import("inv.json", "{\"cmflow-inventory\": \"two\"}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "inv.json: cmflow-inventory: invalid value: string \"two\", expected an integer (a number or a string of digits)"
        );
        let e = import("inv.json", "\"text\"").unwrap_err();
        assert_eq!(
            e.to_string(),
            "inv.json: not an inventory: expected a JSON object, found a string"
        );
    }

    #[test]
    fn site_files_are_plain_names() {
        assert_eq!(site_file("P01", 0), "site-p01.kdl");
        assert_eq!(site_file("../x", 3), "site-4.kdl");
        assert_eq!(site_file("", 0), "site-1.kdl");
    }
}
