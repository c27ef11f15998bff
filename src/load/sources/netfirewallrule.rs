//! `format="netfirewallrule-json"`: the JSON that `scripts/Export-CmflowFirewallRules.ps1`
//! writes from `Get-NetFirewallRule` and its filters (`docs/sources/netfirewallrule-json.md`).
//!
//! This file also owns what both Windows Firewall formats share (`RuleDraft` and its
//! tokens): a rule read from either a JSON object or a `v2.xx|...` registry string is
//! first a draft of Windows Firewall's own fields, then one [`HostRule`] with the mapping
//! of `language.md` § Firewalls kept in other formats. Both readers skip disabled rules
//! and rules of protocols no required flow uses; what cannot be represented (a program,
//! a service, an interface, an address keyword, a port keyword, an `IPsec` requirement)
//! gives one [`Unsupported`] at the value that says it and makes the rule uncertain.

use ipnet::{IpNet, Ipv4Net, Ipv4Subnets, Ipv6Net, Ipv6Subnets};
use std::net::IpAddr;

use super::json::{self, Json, JsonNode};
use super::{HostRules, SourceError, SourceInput, Unsupported};
use crate::model::{
    Action, Direction, Endpoint, HostRule, PortItem, PortList, Span, Spanned, Traffic,
};

/// What the rule's verdicts become when it holds a construct cmflow cannot represent.
pub(super) const INDETERMINATE: &str = "the verdicts this rule touches are indeterminate";

/// One item of a rule's `LocalPort`/`RemotePort` (`LPort`/`RPort`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum PortToken {
    Any,
    Item(PortItem),
    /// A keyword such as `IPHTTPSIn` or `Ply2Disc`: a set of ports only Windows knows.
    Keyword(String),
}

/// Parses one port item: `80`, `8530-8531`, `Any`, `RPC`, `RPCEPMap`/`RPC-EPMap`, or a
/// keyword (any other word). `Err`: a malformed number or range.
pub(super) fn port_token(s: &str) -> Result<PortToken, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("any") || s == "*" {
        return Ok(PortToken::Any);
    }
    if s.eq_ignore_ascii_case("rpc") {
        return Ok(PortToken::Item(PortItem::Rpc));
    }
    if s.eq_ignore_ascii_case("rpcepmap") || s.eq_ignore_ascii_case("rpc-epmap") {
        return Ok(PortToken::Item(PortItem::RpcEpmap));
    }
    if s.chars().any(|c| c.is_ascii_alphabetic()) {
        return Ok(PortToken::Keyword(s.to_owned()));
    }
    let port = |p: &str| -> Result<u16, String> {
        match p.trim().parse::<u16>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "`{s}` is not a port, a port range or a port keyword"
            )),
        }
    };
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let (a, b) = (port(a)?, port(b)?);
    if a > b {
        return Err(format!("the port range `{s}` starts after it ends"));
    }
    Ok(PortToken::Item(PortItem::Range(a, b)))
}

/// One item of a rule's `LocalAddress`/`RemoteAddress` (`LA4`/`RA4`/`LA6`/`RA6`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum AddressToken {
    Any,
    /// An address, a subnet or a range, as the exact CIDRs that cover it.
    Nets(Vec<IpNet>),
    /// `LocalSubnet`, `DNS`, `Intranet`...: addresses only the host knows.
    Keyword(String),
}

/// Parses one address item: `Any`, `10.0.0.5`, `10.0.0.0/8`, `10.0.0.0/255.0.0.0`,
/// `10.0.0.1-10.0.0.20` (IPv4 or IPv6), or a keyword (any other word without digits
/// or separators). `Err`: a malformed address.
pub(super) fn address_token(s: &str) -> Result<AddressToken, String> {
    let s = s.trim();
    let bad = || format!("`{s}` is not an address, a subnet, a range or an address keyword");
    if s.eq_ignore_ascii_case("any") || s == "*" {
        return Ok(AddressToken::Any);
    }
    if s.chars().all(|c| c.is_ascii_alphabetic() || c == '_') && !s.is_empty() {
        return Ok(AddressToken::Keyword(s.to_owned()));
    }
    let addr = |p: &str| p.trim().parse::<IpAddr>().map_err(|_| bad());
    if let Some((a, b)) = s.split_once('-') {
        let nets: Vec<IpNet> = match (addr(a)?, addr(b)?) {
            (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => {
                Ipv4Subnets::new(a, b, 0).map(IpNet::V4).collect()
            }
            (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => {
                Ipv6Subnets::new(a, b, 0).map(IpNet::V6).collect()
            }
            _ => return Err(format!("`{s}` is not a range of one family, low to high")),
        };
        return Ok(AddressToken::Nets(nets));
    }
    if let Some((a, m)) = s.split_once('/') {
        let a = addr(a)?;
        let prefix = match m.trim().parse::<u8>() {
            Ok(p) => p,
            // `10.0.0.0/255.0.0.0`: a mask, which must be contiguous.
            Err(_) => match addr(m)? {
                IpAddr::V4(mask) => {
                    let bits = u32::from(mask);
                    if bits.leading_ones() + bits.trailing_zeros() != 32 {
                        return Err(format!("the mask of `{s}` is not contiguous"));
                    }
                    u8::try_from(bits.leading_ones()).map_err(|_| bad())?
                }
                IpAddr::V6(_) => return Err(bad()),
            },
        };
        let net = match a {
            IpAddr::V4(a) => Ipv4Net::new(a, prefix).map(|n| IpNet::V4(n.trunc())),
            IpAddr::V6(a) => Ipv6Net::new(a, prefix).map(|n| IpNet::V6(n.trunc())),
        }
        .map_err(|_| bad())?;
        return Ok(AddressToken::Nets(vec![net]));
    }
    Ok(AddressToken::Nets(vec![IpNet::from(addr(s)?)]))
}

/// The protocol a rule matches, as far as required flows go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ProtocolMatch {
    Any,
    Tcp,
    Udp,
    /// `ICMPv4` or `ICMPv6`; `echo`: its types include the echo request (8, or 128 for v6).
    Icmp {
        echo: bool,
    },
    /// Another IP protocol (GRE, IGMP...): no required flow uses it.
    Other,
}

impl ProtocolMatch {
    /// `TCP`, `UDP`, `ICMPv4`, `ICMPv6`, `Any` or a number (6, 17, 1, 58, 256 = any).
    pub(super) fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Some(match s.to_ascii_lowercase().as_str() {
            "any" | "256" => Self::Any,
            "tcp" | "6" => Self::Tcp,
            "udp" | "17" => Self::Udp,
            "icmpv4" | "icmp" | "1" | "icmpv6" | "58" => Self::Icmp { echo: true },
            other => match other.parse::<u16>() {
                Ok(n) if n <= 255 => Self::Other,
                _ => return None,
            },
        })
    }

    /// The ICMP echo request type of the protocol (`ICMPv4`: 8, `ICMPv6`: 128).
    pub(super) fn echo_type(s: &str) -> u8 {
        if matches!(s.trim().to_ascii_lowercase().as_str(), "icmpv6" | "58") {
            128
        } else {
            8
        }
    }
}

/// Whether an ICMP type item (`8`, `8:0`, `8:*`, `Any`) includes the echo request.
pub(super) fn icmp_includes_echo(item: &str, echo: u8) -> bool {
    let item = item.trim();
    if item.eq_ignore_ascii_case("any") || item == "*" {
        return true;
    }
    let (ty, code) = item.split_once(':').unwrap_or((item, "*"));
    ty.trim().parse::<u8>() == Ok(echo) && matches!(code.trim(), "*" | "0")
}

/// A Windows Firewall rule as its source writes it, before the mapping onto the model.
#[derive(Clone, Debug)]
pub(super) struct RuleDraft {
    pub action: Action,
    pub direction: Direction,
    pub name: Option<Spanned<String>>,
    /// `domain`, `private`, `public`; empty: any.
    pub profiles: Vec<String>,
    pub protocol: Spanned<ProtocolMatch>,
    /// Empty: any.
    pub local_ports: Vec<Spanned<PortToken>>,
    pub remote_ports: Vec<Spanned<PortToken>>,
    pub local_addresses: Vec<Spanned<AddressToken>>,
    pub remote_addresses: Vec<Spanned<AddressToken>>,
    /// Constructs found while reading the draft that cannot be represented.
    pub unsupported: Vec<Unsupported>,
    pub span: Span,
}

impl RuleDraft {
    /// Records a construct the model cannot represent, at `span`.
    pub(super) fn unsupported(&mut self, construct: String, span: Span) {
        self.unsupported.push(Unsupported {
            construct,
            consequence: INDETERMINATE.into(),
            span,
        });
    }

    /// The model's rule, or `None` when the rule matches no required flow (another IP
    /// protocol, or ICMP types without the echo request). Unsupported constructs move to
    /// `out`; the first one's span makes the rule uncertain.
    pub(super) fn finish(mut self, out: &mut Vec<Unsupported>) -> Option<HostRule> {
        let protocol = self.protocol.value;
        if matches!(
            protocol,
            ProtocolMatch::Other | ProtocolMatch::Icmp { echo: false }
        ) {
            // Nothing this rule matches is a required flow; its constructs do not matter.
            return None;
        }
        let (service, source) = match self.direction {
            Direction::In => (&self.local_ports, &self.remote_ports),
            Direction::Out => (&self.remote_ports, &self.local_ports),
        };
        let mut found = Vec::new();
        let service_ports = port_list(service, &mut found);
        let source_ports = port_list(source, &mut found);
        let remote = endpoints(&self.remote_addresses, self.span, &mut found);
        let local = endpoints(&self.local_addresses, self.span, &mut found);
        for (construct, span) in found {
            self.unsupported(construct, span);
        }
        let every_port = || {
            Spanned::new(
                PortList {
                    items: vec![PortItem::Range(1, 65535)],
                },
                self.protocol.span,
            )
        };
        let (tcp, udp, icmp) = match protocol {
            ProtocolMatch::Tcp => (Some(service_ports.unwrap_or_else(every_port)), None, false),
            ProtocolMatch::Udp => (None, Some(service_ports.unwrap_or_else(every_port)), false),
            ProtocolMatch::Icmp { .. } => (None, None, true),
            // No ports with protocol `Any` (Windows refuses them): every protocol.
            ProtocolMatch::Any | ProtocolMatch::Other => (None, None, false),
        };
        let (from, to) = match self.direction {
            Direction::In => (remote, local),
            Direction::Out => (local, remote),
        };
        let uncertain = self.unsupported.first().map(|u| u.span);
        out.append(&mut self.unsupported);
        Some(HostRule {
            action: self.action,
            direction: self.direction,
            name: self.name,
            traffic: Traffic {
                from,
                to,
                tcp,
                udp,
                icmp,
            },
            profiles: self.profiles,
            source_ports: if matches!(protocol, ProtocolMatch::Tcp | ProtocolMatch::Udp) {
                source_ports
            } else {
                None
            },
            uncertain,
            span: self.span,
        })
    }
}

/// A port list from tokens: `None` when empty or when one is `Any`. A keyword stands for
/// every port (the rule is then uncertain), so the rule is never narrower than Windows'.
fn port_list(
    tokens: &[Spanned<PortToken>],
    found: &mut Vec<(String, Span)>,
) -> Option<Spanned<PortList>> {
    if tokens.is_empty() || tokens.iter().any(|t| t.value == PortToken::Any) {
        return None;
    }
    let mut items = Vec::new();
    for t in tokens {
        match &t.value {
            PortToken::Item(i) => items.push(*i),
            PortToken::Keyword(k) => {
                found.push((format!("port keyword `{k}`"), t.span));
                items.push(PortItem::Range(1, 65535));
            }
            PortToken::Any => {}
        }
    }
    let span = join(tokens.iter().map(|t| t.span))?;
    Some(Spanned::new(PortList { items }, span))
}

/// Endpoints from address tokens: `any` when empty or when one is `Any`; a keyword stands
/// for any address (the rule is then uncertain).
fn endpoints(
    tokens: &[Spanned<AddressToken>],
    rule: Span,
    found: &mut Vec<(String, Span)>,
) -> Vec<Spanned<Endpoint>> {
    let mut out = Vec::new();
    let mut any = tokens.is_empty();
    for t in tokens {
        match &t.value {
            AddressToken::Any => any = true,
            AddressToken::Nets(nets) => {
                out.extend(
                    nets.iter()
                        .map(|n| Spanned::new(Endpoint::Cidr(*n), t.span)),
                );
            }
            AddressToken::Keyword(k) => {
                found.push((format!("address keyword `{k}`"), t.span));
                out.push(Spanned::new(Endpoint::Any, t.span));
            }
        }
    }
    if any {
        let span = join(tokens.iter().map(|t| t.span)).unwrap_or(rule);
        return vec![Spanned::new(Endpoint::Any, span)];
    }
    out
}

/// The span from the first to the last of several spans of one file.
pub(super) fn join(mut spans: impl Iterator<Item = Span>) -> Option<Span> {
    let first = spans.next()?;
    let last = spans.last().unwrap_or(first);
    Some(Span::new(
        first.source,
        first.start.min(last.start),
        first.end.max(last.end),
    ))
}

/// `domain`, `private`, `public` from profile words; `Any` or all three: empty (any).
/// `Err`: the word that is not a profile.
pub(super) fn profile_names<'a>(
    words: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for w in words {
        let w = w.trim();
        let name = match w.to_ascii_lowercase().as_str() {
            "any" | "all" => return Ok(Vec::new()),
            "domain" => "domain",
            "private" => "private",
            "public" => "public",
            _ => return Err(w.to_owned()),
        };
        if !out.iter().any(|p| p == name) {
            out.push(name.to_owned());
        }
    }
    if out.len() == 3 {
        out.clear();
    }
    Ok(out)
}

/// One profile's stated defaults (`Get-NetFirewallProfile`, or a GPO's `DomainProfile`
/// key).
#[derive(Clone, Debug)]
pub(super) struct ProfileDefaults {
    /// `Domain`, `Private`, `Public`.
    pub name: String,
    /// `None`: not configured.
    pub inbound: Option<Spanned<Action>>,
    pub outbound: Option<Spanned<Action>>,
    /// `Some(span)` when the profile's firewall is turned off.
    pub off: Option<Span>,
}

/// The host's defaults from its profiles: the `Domain` profile's (servers are domain
/// members and the model's `network-profile` defaults to `domain`; without a `Domain`
/// profile, the first stated), with a `source/unsupported` at each value of another
/// profile that differs from it. A profile whose firewall is off is reported: cmflow evaluates the rules anyway.
pub(super) fn defaults(profiles: &[ProfileDefaults], out: &mut HostRules) {
    for p in profiles {
        if let Some(span) = p.off {
            out.unsupported.push(Unsupported {
                construct: format!("the {} profile with Windows Firewall turned off", p.name),
                consequence: "cmflow evaluates the rules as if it were on".into(),
                span,
            });
        }
    }
    let pick = |get: fn(&ProfileDefaults) -> Option<Spanned<Action>>,
                what: &str,
                unsupported: &mut Vec<Unsupported>|
     -> Option<Spanned<Action>> {
        let stated: Vec<(&str, Spanned<Action>)> = profiles
            .iter()
            .filter_map(|p| get(p).map(|a| (p.name.as_str(), a)))
            .collect();
        // A Domain profile that states nothing (`NotConfigured`) leaves the node's default.
        let chosen = match profiles
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case("domain"))
        {
            Some(domain) => get(domain),
            None => stated.first().map(|(_, a)| a.clone()),
        };
        for (name, a) in &stated {
            if chosen.as_ref().map(|c| c.value) != Some(a.value) {
                unsupported.push(Unsupported {
                    construct: format!(
                        "the {name} profile's default {what} action, which differs from the Domain profile's"
                    ),
                    consequence: "cmflow uses the Domain profile's default".into(),
                    span: a.span,
                });
            }
        }
        chosen
    };
    out.inbound = pick(|p| p.inbound.clone(), "inbound", &mut out.unsupported);
    out.outbound = pick(|p| p.outbound.clone(), "outbound", &mut out.unsupported);
}

// ---------------------------------------------------------------------------------------
// The JSON format.

/// The filter objects the script writes under each rule, and the fields read from each.
/// A field may also sit on the rule itself (flat exports of other scripts).
const PORT_FILTER: &str = "PortFilter";
const ADDRESS_FILTER: &str = "AddressFilter";
const APPLICATION_FILTER: &str = "ApplicationFilter";
const SERVICE_FILTER: &str = "ServiceFilter";
const INTERFACE_FILTER: &str = "InterfaceFilter";
const INTERFACE_TYPE_FILTER: &str = "InterfaceTypeFilter";
const SECURITY_FILTER: &str = "SecurityFilter";

/// Reads a `netfirewallrule-json` file.
pub fn read(input: &SourceInput<'_>) -> Result<HostRules, SourceError> {
    let doc = json::parse(input.id, input.text)?;
    let (rules, profiles) = match &doc.value {
        Json::Array(_) => (&doc, None),
        Json::Object(_) => (
            doc.get("Rules").ok_or_else(|| {
                SourceError::at(doc.span, "the export has no `Rules` member")
                    .with_help("write it with scripts/Export-CmflowFirewallRules.ps1")
            })?,
            doc.get("Profiles"),
        ),
        _ => {
            return Err(SourceError::at(
                doc.span,
                format!("expected an object with `Rules`, found {}", doc.kind()),
            ));
        }
    };
    let mut out = HostRules::default();
    for rule in rules.items() {
        if let Some(draft) = read_rule(rule)?
            && let Some(r) = draft.finish(&mut out.unsupported)
        {
            out.rules.push(r);
        }
    }
    if let Some(profiles) = profiles {
        let list = profiles
            .items()
            .iter()
            .map(read_profile)
            .collect::<Result<Vec<_>, _>>()?;
        defaults(&list, &mut out);
    }
    Ok(out)
}

/// A JSON enum value: `ConvertTo-Json` writes CIM enums as numbers, scripts that cast
/// them as strings.
enum EnumValue<'a> {
    Number(i64),
    Text(&'a str),
}

fn enum_value(node: &JsonNode) -> Option<EnumValue<'_>> {
    match &node.value {
        Json::Number(_) => node.as_i64().map(EnumValue::Number),
        Json::String(s) => Some(match s.trim().parse::<i64>() {
            Ok(n) => EnumValue::Number(n),
            Err(_) => EnumValue::Text(s.trim()),
        }),
        Json::Bool(b) => Some(EnumValue::Number(if *b { 1 } else { 2 })),
        _ => None,
    }
}

/// `value` read as one of `words` (by name, any case) or `numbers`.
fn one_of<T: Copy>(
    node: &JsonNode,
    field: &str,
    words: &[(&str, T)],
    numbers: &[(i64, T)],
) -> Result<T, SourceError> {
    let found = match enum_value(node) {
        Some(EnumValue::Number(n)) => numbers.iter().find(|(k, _)| *k == n).map(|(_, v)| *v),
        Some(EnumValue::Text(s)) => words
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(s))
            .map(|(_, v)| *v),
        None => None,
    };
    found.ok_or_else(|| {
        let expected: Vec<String> = words
            .iter()
            .map(|(w, _)| format!("`{w}`"))
            .chain(numbers.iter().map(|(n, _)| n.to_string()))
            .collect();
        SourceError::at(
            node.span,
            format!(
                "`{field}` is not one of {} ({} given)",
                expected.join(", "),
                describe(node)
            ),
        )
    })
}

fn describe(node: &JsonNode) -> String {
    match &node.value {
        Json::String(s) => format!("`{s}`"),
        Json::Number(n) => n.clone(),
        _ => node.kind().to_owned(),
    }
}

/// A field of a rule: inside its filter object, else on the rule itself.
fn field<'a>(rule: &'a JsonNode, filter: &str, key: &str) -> Option<&'a JsonNode> {
    rule.get(filter)
        .and_then(|f| f.get(key))
        .or_else(|| rule.get(key))
        .filter(|n| !n.is_null())
}

/// The string items of a value written as one string, an array of strings, or numbers;
/// a string may itself hold a comma-separated list.
fn strings(node: &JsonNode) -> Result<Vec<Spanned<String>>, SourceError> {
    let mut out = Vec::new();
    for item in node.items() {
        match &item.value {
            Json::String(s) => out.extend(
                s.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| Spanned::new(p.to_owned(), item.span)),
            ),
            Json::Number(n) => out.push(Spanned::new(n.clone(), item.span)),
            _ => {
                return Err(SourceError::at(
                    item.span,
                    format!("expected a string, found {}", item.kind()),
                ));
            }
        }
    }
    Ok(out)
}

fn required<'a>(rule: &'a JsonNode, filter: &str, key: &str) -> Result<&'a JsonNode, SourceError> {
    field(rule, filter, key).ok_or_else(|| {
        SourceError::at(rule.span, format!("the rule has no `{key}`")).with_help(
            "export the rules with scripts/Export-CmflowFirewallRules.ps1, which writes every filter",
        )
    })
}

/// One rule object; `None` for a disabled rule.
fn read_rule(rule: &JsonNode) -> Result<Option<RuleDraft>, SourceError> {
    if !matches!(rule.value, Json::Object(_)) {
        return Err(SourceError::at(
            rule.span,
            format!("expected a rule object, found {}", rule.kind()),
        ));
    }
    if let Some(enabled) = field(rule, "", "Enabled") {
        let on = one_of(
            enabled,
            "Enabled",
            &[("True", true), ("False", false)],
            &[(1, true), (2, false)],
        )?;
        if !on {
            return Ok(None);
        }
    }
    let direction = one_of(
        required(rule, "", "Direction")?,
        "Direction",
        &[
            ("Inbound", Direction::In),
            ("In", Direction::In),
            ("Outbound", Direction::Out),
            ("Out", Direction::Out),
        ],
        &[(1, Direction::In), (2, Direction::Out)],
    )?;
    let action_node = required(rule, "", "Action")?;
    // `AllowBypass` lets authenticated IPsec traffic through block rules: read as an
    // allow whose match is uncertain.
    let (action, bypass) = one_of(
        action_node,
        "Action",
        &[
            ("Allow", (Action::Allow, false)),
            ("Block", (Action::Deny, false)),
            ("AllowBypass", (Action::Allow, true)),
            ("Bypass", (Action::Allow, true)),
        ],
        &[
            (2, (Action::Allow, false)),
            (3, (Action::Allow, true)),
            (4, (Action::Deny, false)),
        ],
    )?;
    let name = field(rule, "", "DisplayName")
        .or_else(|| field(rule, "", "Name"))
        .and_then(|n| n.as_str().map(|s| Spanned::new(s.to_owned(), n.span)));
    let profiles = match field(rule, "", "Profile").or_else(|| field(rule, "", "Profiles")) {
        None => Vec::new(),
        Some(node) => read_profiles(node)?,
    };
    let protocol_node = required(rule, PORT_FILTER, "Protocol")?;
    let protocol_text = match &protocol_node.value {
        Json::String(s) => s.clone(),
        Json::Number(n) => n.clone(),
        _ => String::new(),
    };
    let mut protocol = ProtocolMatch::parse(&protocol_text).ok_or_else(|| {
        SourceError::at(
            protocol_node.span,
            format!(
                "`Protocol` is not TCP, UDP, ICMPv4, ICMPv6, Any or a number up to 255 ({} given)",
                describe(protocol_node)
            ),
        )
    })?;
    if let ProtocolMatch::Icmp { .. } = protocol
        && let Some(types) = field(rule, PORT_FILTER, "IcmpType")
    {
        let echo = ProtocolMatch::echo_type(&protocol_text);
        let types = strings(types)?;
        protocol = ProtocolMatch::Icmp {
            echo: types.is_empty() || types.iter().any(|t| icmp_includes_echo(&t.value, echo)),
        };
    }
    let ports = |key: &str| -> Result<Vec<Spanned<PortToken>>, SourceError> {
        let Some(node) = field(rule, PORT_FILTER, key) else {
            return Ok(Vec::new());
        };
        strings(node)?
            .into_iter()
            .map(|s| {
                port_token(&s.value)
                    .map(|t| Spanned::new(t, s.span))
                    .map_err(|m| SourceError::at(s.span, m))
            })
            .collect()
    };
    let addresses = |key: &str| -> Result<Vec<Spanned<AddressToken>>, SourceError> {
        let Some(node) = field(rule, ADDRESS_FILTER, key) else {
            return Ok(Vec::new());
        };
        strings(node)?
            .into_iter()
            .map(|s| {
                address_token(&s.value)
                    .map(|t| Spanned::new(t, s.span))
                    .map_err(|m| SourceError::at(s.span, m))
            })
            .collect()
    };
    let mut draft = RuleDraft {
        action,
        direction,
        name,
        profiles,
        protocol: Spanned::new(protocol, protocol_node.span),
        local_ports: ports("LocalPort")?,
        remote_ports: ports("RemotePort")?,
        local_addresses: addresses("LocalAddress")?,
        remote_addresses: addresses("RemoteAddress")?,
        unsupported: Vec::new(),
        span: rule.span,
    };
    required(rule, ADDRESS_FILTER, "RemoteAddress")?;
    if bypass {
        draft.unsupported(
            "action `AllowBypass` (authenticated traffic bypasses block rules)".into(),
            action_node.span,
        );
    }
    scoped(rule, &mut draft)?;
    Ok(Some(draft))
}

/// The filters that scope a rule to what cmflow cannot see: each non-`Any` value is
/// unsupported where it is written.
fn scoped(rule: &JsonNode, draft: &mut RuleDraft) -> Result<(), SourceError> {
    // (filter, field, what it is, the values meaning "no restriction")
    const SCOPES: &[(&str, &str, &str, &[&str])] = &[
        (APPLICATION_FILTER, "Program", "program", &["Any"]),
        (APPLICATION_FILTER, "Package", "package", &["Any", ""]),
        (SERVICE_FILTER, "Service", "service", &["Any"]),
        (INTERFACE_FILTER, "InterfaceAlias", "interface", &["Any"]),
        (
            INTERFACE_TYPE_FILTER,
            "InterfaceType",
            "interface type",
            &["Any", "0"],
        ),
        (
            PORT_FILTER,
            "DynamicTarget",
            "dynamic target",
            &["Any", "0"],
        ),
        (
            SECURITY_FILTER,
            "Authentication",
            "IPsec authentication",
            &["NotRequired", "0"],
        ),
        (
            SECURITY_FILTER,
            "Encryption",
            "IPsec encryption",
            &["NotRequired", "0"],
        ),
        (SECURITY_FILTER, "RemoteUser", "remote user", &["Any", ""]),
        (
            SECURITY_FILTER,
            "RemoteMachine",
            "remote machine",
            &["Any", ""],
        ),
        (SECURITY_FILTER, "LocalUser", "local user", &["Any", ""]),
    ];
    for (filter, key, what, free) in SCOPES {
        let Some(node) = field(rule, filter, key) else {
            continue;
        };
        for value in strings(node)? {
            if !free.iter().any(|f| f.eq_ignore_ascii_case(&value.value)) {
                draft.unsupported(format!("{what} `{}`", value.value), value.span);
            }
        }
    }
    Ok(())
}

/// `Profile`: a number (flags 1 Domain, 2 Private, 4 Public; 0 Any), a name, a
/// comma-separated string (`Domain, Private`) or an array of names.
fn read_profiles(node: &JsonNode) -> Result<Vec<String>, SourceError> {
    if let Some(EnumValue::Number(n)) = enum_value(node) {
        if !(0..=7).contains(&n) {
            return Err(SourceError::at(
                node.span,
                format!("`Profile` {n} is not a combination of 1, 2 and 4"),
            ));
        }
        let words: Vec<&str> = [(1, "domain"), (2, "private"), (4, "public")]
            .into_iter()
            .filter(|(bit, _)| n & bit != 0)
            .map(|(_, w)| w)
            .collect();
        return profile_names(words).map_err(|_| SourceError::at(node.span, "bad profile"));
    }
    let words = strings(node)?;
    profile_names(words.iter().map(|w| w.value.as_str())).map_err(|w| {
        SourceError::at(
            node.span,
            format!("`{w}` is not a profile: expected Domain, Private, Public or Any"),
        )
    })
}

/// One object of `Profiles` (`Get-NetFirewallProfile`).
fn read_profile(node: &JsonNode) -> Result<ProfileDefaults, SourceError> {
    let name = node
        .get("Name")
        .and_then(JsonNode::as_str)
        .ok_or_else(|| SourceError::at(node.span, "the profile has no `Name`"))?
        .to_owned();
    let action = |key: &str| -> Result<Option<Spanned<Action>>, SourceError> {
        let Some(v) = node.get(key).filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let a = one_of(
            v,
            key,
            &[
                ("NotConfigured", None),
                ("Allow", Some(Action::Allow)),
                ("Block", Some(Action::Deny)),
            ],
            &[(0, None), (2, Some(Action::Allow)), (4, Some(Action::Deny))],
        )?;
        Ok(a.map(|a| Spanned::new(a, v.span)))
    };
    let off = match node.get("Enabled").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => {
            // GpoBoolean: False 0, True 1, NotConfigured 2 (on, the default).
            let on = match &v.value {
                Json::Bool(b) => *b,
                _ => one_of(
                    v,
                    "Enabled",
                    &[("True", true), ("False", false), ("NotConfigured", true)],
                    &[(0, false), (1, true), (2, true)],
                )?,
            };
            (!on).then_some(v.span)
        }
    };
    Ok(ProfileDefaults {
        inbound: action("DefaultInboundAction")?,
        outbound: action("DefaultOutboundAction")?,
        name,
        off,
    })
}

#[cfg(test)]
mod tests;
