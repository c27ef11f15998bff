//! What one nftables rule matches, as a conjunction the model can hold: source and
//! destination address unions, layer-4 protocols, destination and source port intervals,
//! plus "matches no required flow" and "cannot tell" (with the construct's span).
//!
//! Every `match` statement narrows the conjunction; a rule reached through a `jump` is
//! the jump's match and the rule's, which [`Match::and`] computes exactly (CIDR unions
//! and port intervals intersect exactly).

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv4Subnets, Ipv6Net, Ipv6Subnets};

use super::super::json::{Json, JsonNode};
use super::super::{SourceError, Unsupported};
use crate::engine::intervals;
use crate::model::{Span, Spanned};

/// Layer-4 protocols as bits: what the model's flows use, and the rest.
pub const TCP: u8 = 1;
pub const UDP: u8 = 2;
pub const ICMP: u8 = 4;
pub const OTHER: u8 = 8;
pub const ALL: u8 = TCP | UDP | ICMP | OTHER;
/// The protocols of required flows.
pub const MODELLED: u8 = TCP | UDP | ICMP;

/// A required flow's source port is any port of this range (`language.md`).
pub const EPHEMERAL: (u32, u32) = (49152, 65535);

/// Port intervals with the span of the value that set them.
pub type Ports = Spanned<Vec<(u32, u32)>>;

/// The conjunction of a rule's matches (and of the jumps that lead to it).
#[derive(Clone, Debug, Default)]
pub struct Match {
    /// `None`: any address.
    pub src: Option<Vec<Spanned<IpNet>>>,
    pub dst: Option<Vec<Spanned<IpNet>>>,
    /// `None`: every protocol.
    pub protos: Option<u8>,
    pub dports: Option<Ports>,
    pub sports: Option<Ports>,
    /// The rule can match no required flow (a state other than `new`, an ICMP type other
    /// than echo, a protocol the model has no flows of, disjoint values).
    pub never: bool,
    /// The first construct cmflow cannot represent.
    pub uncertain: Option<Span>,
}

impl Match {
    /// Both matches at once.
    #[must_use]
    pub fn and(&self, other: &Match) -> Match {
        Match {
            src: and_nets(self.src.as_ref(), other.src.as_ref()),
            dst: and_nets(self.dst.as_ref(), other.dst.as_ref()),
            protos: match (self.protos, other.protos) {
                (Some(a), Some(b)) => Some(a & b),
                (a, b) => a.or(b),
            },
            dports: and_ports(self.dports.as_ref(), other.dports.as_ref()),
            sports: and_ports(self.sports.as_ref(), other.sports.as_ref()),
            never: self.never || other.never,
            uncertain: self.uncertain.or(other.uncertain),
        }
    }

    /// Whether no required flow can match: an empty intersection anywhere, or a source
    /// port set disjoint from the ephemeral range.
    pub fn is_never(&self) -> bool {
        self.never
            || self.src.as_ref().is_some_and(Vec::is_empty)
            || self.dst.as_ref().is_some_and(Vec::is_empty)
            || self.protos.is_some_and(|p| p & MODELLED == 0)
            || self.dports.as_ref().is_some_and(|p| p.value.is_empty())
            || self.sports.as_ref().is_some_and(|p| {
                let (inside, _) = intervals::split(&[EPHEMERAL], &p.value);
                inside.is_empty()
            })
    }

    fn narrow_protos(&mut self, bits: u8) {
        self.protos = Some(self.protos.unwrap_or(ALL) & bits);
    }
}

fn and_nets(
    a: Option<&Vec<Spanned<IpNet>>>,
    b: Option<&Vec<Spanned<IpNet>>>,
) -> Option<Vec<Spanned<IpNet>>> {
    match (a, b) {
        (None, x) | (x, None) => x.cloned(),
        (Some(a), Some(b)) => {
            let mut out = Vec::new();
            for x in a {
                for y in b {
                    // Two prefixes either nest or are disjoint: the smaller one is the
                    // intersection, with the span of the value that narrowed it.
                    if x.value.contains(&y.value) {
                        out.push(y.clone());
                    } else if y.value.contains(&x.value) {
                        out.push(x.clone());
                    }
                }
            }
            Some(out)
        }
    }
}

fn and_ports(a: Option<&Ports>, b: Option<&Ports>) -> Option<Ports> {
    match (a, b) {
        (None, x) | (x, None) => x.cloned(),
        (Some(a), Some(b)) => {
            let (inside, _) = intervals::split(&a.value, &b.value);
            Some(Spanned::new(inside, b.span))
        }
    }
}

/// Named sets of the ruleset, by (family, table, name): the `set` objects.
pub type Sets<'d> = HashMap<(String, String, String), &'d JsonNode>;

/// Where a rule lives, to resolve `@set` references.
pub struct Scope<'a, 'd> {
    pub family: &'a str,
    pub table: &'a str,
    pub sets: &'a Sets<'d>,
}

/// Collects `source/unsupported` findings for one rule and marks its match uncertain.
pub struct Findings<'a> {
    pub out: &'a mut Vec<Unsupported>,
}

impl Findings<'_> {
    pub fn unsupported(&mut self, m: &mut Match, construct: String, span: Span) {
        self.out.push(Unsupported {
            construct,
            consequence: "the rule's verdicts are indeterminate".into(),
            span,
        });
        m.uncertain.get_or_insert(span);
    }
}

/// What a `match` statement's left side names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Addr { src: bool, v6: bool },
    Port { src: bool, protos: u8 },
    L4proto,
    Nfproto,
    CtState,
    IcmpType { v6: bool },
}

fn field(left: &JsonNode) -> Option<(Field, String)> {
    if let Some(p) = left.get("payload") {
        let proto = p.get("protocol")?.as_str()?;
        let name = p.get("field")?.as_str()?;
        let text = format!("{proto} {name}");
        let f = match (proto, name) {
            ("ip", "saddr") => Field::Addr {
                src: true,
                v6: false,
            },
            ("ip", "daddr") => Field::Addr {
                src: false,
                v6: false,
            },
            ("ip6", "saddr") => Field::Addr {
                src: true,
                v6: true,
            },
            ("ip6", "daddr") => Field::Addr {
                src: false,
                v6: true,
            },
            ("tcp", "dport") => Field::Port {
                src: false,
                protos: TCP,
            },
            ("tcp", "sport") => Field::Port {
                src: true,
                protos: TCP,
            },
            ("udp", "dport") => Field::Port {
                src: false,
                protos: UDP,
            },
            ("udp", "sport") => Field::Port {
                src: true,
                protos: UDP,
            },
            // The transport header of any protocol with ports: TCP, UDP, SCTP, DCCP...
            ("th", "dport") => Field::Port {
                src: false,
                protos: TCP | UDP | OTHER,
            },
            ("th", "sport") => Field::Port {
                src: true,
                protos: TCP | UDP | OTHER,
            },
            ("icmp", "type") => Field::IcmpType { v6: false },
            ("icmpv6", "type") => Field::IcmpType { v6: true },
            ("ip", "protocol") | ("ip6", "nexthdr") => Field::L4proto,
            _ => return None,
        };
        return Some((f, text));
    }
    if let Some(meta) = left.get("meta") {
        let key = meta.get("key")?.as_str()?;
        let f = match key {
            "l4proto" => Field::L4proto,
            "nfproto" => Field::Nfproto,
            _ => return None,
        };
        return Some((f, format!("meta {key}")));
    }
    if let Some(ct) = left.get("ct") {
        let key = ct.get("key")?.as_str()?;
        if key == "state" && ct.get("dir").is_none() {
            return Some((Field::CtState, "ct state".into()));
        }
    }
    None
}

/// Names a left-hand expression for diagnostics: `iifname`, `meta mark`, `ct status`.
pub fn describe(left: &JsonNode) -> String {
    match &left.value {
        Json::Object(members) => match members.first() {
            Some((kind, _, inner)) => {
                let key = inner
                    .get("key")
                    .or_else(|| inner.get("field"))
                    .and_then(JsonNode::as_str);
                let proto = inner.get("protocol").and_then(JsonNode::as_str);
                match (proto, key) {
                    (Some(p), Some(k)) => format!("{p} {k}"),
                    (None, Some(k)) if kind == "meta" && is_interface(k) => k.to_string(),
                    (None, Some(k)) => format!("{kind} {k}"),
                    _ => kind.clone(),
                }
            }
            None => "an empty expression".into(),
        },
        _ => left.kind().into(),
    }
}

fn is_interface(key: &str) -> bool {
    matches!(
        key,
        "iif" | "oif" | "iifname" | "oifname" | "iifgroup" | "oifgroup" | "iiftype" | "oiftype"
    )
}

/// One value of a match's right side, flattened out of sets and set references.
struct Item<'d> {
    node: &'d JsonNode,
}

/// The items of a right side: a value, an anonymous `set`, or `@name`.
fn items<'d>(right: &'d JsonNode, scope: &Scope<'_, 'd>) -> Result<Vec<Item<'d>>, (String, Span)> {
    if let Some(name) = right.as_str().and_then(|s| s.strip_prefix('@')) {
        let key = (
            scope.family.to_owned(),
            scope.table.to_owned(),
            name.to_owned(),
        );
        let Some(elems) = scope.sets.get(&key) else {
            return Err((format!("set `@{name}` (not in the ruleset)"), right.span));
        };
        let elems = elems.get("elem").map_or(&[][..], JsonNode::items);
        return Ok(elems.iter().map(unwrap_elem).collect());
    }
    if let Some(set) = right.get("set") {
        return Ok(set.items().iter().map(unwrap_elem).collect());
    }
    match &right.value {
        // `ct state` flags are written as an array.
        Json::Array(a) => Ok(a.iter().map(unwrap_elem).collect()),
        _ => Ok(vec![Item { node: right }]),
    }
}

/// `{"elem": {"val": V, "comment": ...}}` is the element V.
fn unwrap_elem(n: &JsonNode) -> Item<'_> {
    let node = n.get("elem").and_then(|e| e.get("val")).unwrap_or(n);
    Item { node }
}

/// Applies one `match` statement to `m`.
pub fn apply(
    stmt: &JsonNode,
    scope: &Scope<'_, '_>,
    m: &mut Match,
    findings: &mut Findings<'_>,
) -> Result<(), SourceError> {
    let (Some(left), Some(right)) = (stmt.get("left"), stmt.get("right")) else {
        return Err(SourceError::at(
            stmt.span,
            "a `match` needs `left` and `right`",
        ));
    };
    let op = stmt.get("op").and_then(JsonNode::as_str).unwrap_or("==");
    let negate = match op {
        "==" | "in" => false,
        "!=" => true,
        other => {
            findings.unsupported(m, format!("match operator `{other}`"), stmt.span);
            return Ok(());
        }
    };
    let Some((f, name)) = field(left) else {
        let what = describe(left);
        let construct = if left
            .get("meta")
            .and_then(|x| x.get("key"))
            .and_then(JsonNode::as_str)
            .is_some_and(is_interface)
        {
            format!("interface match `{what}`")
        } else {
            format!("match on `{what}`")
        };
        findings.unsupported(m, construct, stmt.span);
        return Ok(());
    };
    let items = match items(right, scope) {
        Ok(items) => items,
        Err((construct, span)) => {
            findings.unsupported(m, construct, span);
            return Ok(());
        }
    };
    match f {
        Field::Addr { src, v6 } => {
            let Some(found) = values(&items, &name, m, findings, |n| addr_nets(n, v6)) else {
                return Ok(());
            };
            let mut nets: Vec<Spanned<IpNet>> = found
                .into_iter()
                .flat_map(|(nets, span)| nets.into_iter().map(move |n| Spanned::new(n, span)))
                .collect();
            if negate {
                nets = complement(&nets, v6, right.span);
            }
            let side = Match {
                src: src.then(|| nets.clone()),
                dst: (!src).then_some(nets),
                ..Match::default()
            };
            *m = m.and(&side);
        }
        Field::Port { src, protos } => {
            let Some(found) = values(&items, &name, m, findings, port_range) else {
                return Ok(());
            };
            let ports = found.into_iter().map(|(r, _)| r);
            let mut ports = intervals::merge(ports);
            if negate {
                ports = intervals::split(&[(0, 65535)], &ports).1;
            }
            m.narrow_protos(protos);
            let side = Spanned::new(ports, right.span);
            let side = Match {
                dports: (!src).then(|| side.clone()),
                sports: src.then_some(side),
                ..Match::default()
            };
            *m = m.and(&side);
        }
        Field::L4proto => {
            let Some(found) = values(&items, &name, m, findings, proto_bits) else {
                return Ok(());
            };
            let mut bits = found.into_iter().fold(0, |acc, (b, _)| acc | b);
            if negate {
                // `!= tcp` still leaves every other protocol, `OTHER` included.
                bits = ALL & !bits | OTHER;
            }
            m.narrow_protos(bits);
        }
        Field::Nfproto => {
            let mut v4 = false;
            let mut v6 = false;
            for item in &items {
                match item.node.as_str() {
                    Some("ipv4") => v4 = true,
                    Some("ipv6") => v6 = true,
                    _ => {
                        findings.unsupported(
                            m,
                            format!("`{name}` value {}", short(item.node)),
                            item.node.span,
                        );
                        return Ok(());
                    }
                }
            }
            if negate {
                (v4, v6) = (!v4, !v6);
            }
            // An address family is every address of that family.
            let mut nets = Vec::new();
            if v4 {
                nets.push(Spanned::new(IpNet::V4(Ipv4Net::default()), right.span));
            }
            if v6 {
                nets.push(Spanned::new(IpNet::V6(Ipv6Net::default()), right.span));
            }
            *m = m.and(&Match {
                src: Some(nets),
                ..Match::default()
            });
        }
        Field::CtState => {
            // Required flows are new connections: only `new` matches them.
            let mut new = false;
            for item in &items {
                match item.node.as_str() {
                    Some("new") => new = true,
                    Some("established" | "related" | "invalid" | "untracked") => {}
                    _ => {
                        findings.unsupported(
                            m,
                            format!("`ct state` value {}", short(item.node)),
                            item.node.span,
                        );
                        return Ok(());
                    }
                }
            }
            if new == negate {
                m.never = true;
            }
        }
        Field::IcmpType { v6 } => {
            // `echo-request` in both ICMP and ICMPv6; type 8 and 128 in numbers.
            let echo_num = if v6 { 128 } else { 8 };
            let mut has_echo = false;
            for item in &items {
                match (&item.node.value, item.node.as_i64()) {
                    (Json::String(s), _) => has_echo |= s == "echo-request",
                    (_, Some(n)) => has_echo |= n == echo_num,
                    _ => {
                        findings.unsupported(
                            m,
                            format!("`{name}` value {}", short(item.node)),
                            item.node.span,
                        );
                        return Ok(());
                    }
                }
            }
            m.narrow_protos(ICMP);
            if has_echo == negate {
                m.never = true;
            }
        }
    }
    Ok(())
}

/// Each item read by `read`; on the first that cannot be, reports it (`source/unsupported`)
/// and gives `None`.
fn values<T>(
    items: &[Item<'_>],
    name: &str,
    m: &mut Match,
    findings: &mut Findings<'_>,
    read: impl Fn(&JsonNode) -> Option<T>,
) -> Option<Vec<(T, Span)>> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(v) = read(item.node) else {
            findings.unsupported(
                m,
                format!("`{name}` value {}", short(item.node)),
                item.node.span,
            );
            return None;
        };
        out.push((v, item.node.span));
    }
    Some(out)
}

/// A value as written, shortened for a diagnostic.
pub fn short(n: &JsonNode) -> String {
    let s = match &n.value {
        Json::String(s) => format!("`{s}`"),
        Json::Number(x) => format!("`{x}`"),
        _ => format!("({})", n.kind()),
    };
    s.chars().take(80).collect()
}

/// An address, prefix or address range of the expected family, as prefixes.
fn addr_nets(n: &JsonNode, v6: bool) -> Option<Vec<IpNet>> {
    let family_ok = |a: &IpAddr| a.is_ipv6() == v6;
    if let Some(s) = n.as_str() {
        let addr: IpAddr = s.parse().ok().filter(family_ok)?;
        return Some(vec![IpNet::from(addr)]);
    }
    if let Some(p) = n.get("prefix") {
        let addr: IpAddr = p.get("addr")?.as_str()?.parse().ok().filter(family_ok)?;
        let len = u8::try_from(p.get("len")?.as_i64()?).ok()?;
        return IpNet::new(addr, len).ok().map(|n| vec![n.trunc()]);
    }
    if let Some(r) = n.get("range") {
        let [a, b] = r.as_array()? else { return None };
        let a: IpAddr = a.as_str()?.parse().ok().filter(family_ok)?;
        let b: IpAddr = b.as_str()?.parse().ok().filter(family_ok)?;
        return Some(range_nets(a, b));
    }
    None
}

/// The prefixes covering an inclusive address range (empty when reversed).
fn range_nets(a: IpAddr, b: IpAddr) -> Vec<IpNet> {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => Ipv4Subnets::new(a, b, 0).map(IpNet::V4).collect(),
        (IpAddr::V6(a), IpAddr::V6(b)) => Ipv6Subnets::new(a, b, 0).map(IpNet::V6).collect(),
        _ => Vec::new(),
    }
}

/// Every address of the family outside the prefixes (`ip saddr != 10.0.0.0/8` matches
/// IPv4 packets only).
fn complement(nets: &[Spanned<IpNet>], v6: bool, span: Span) -> Vec<Spanned<IpNet>> {
    let bounds = |n: &IpNet| -> (u128, u128) {
        match n {
            IpNet::V4(n) => (
                u128::from(u32::from(n.network())),
                u128::from(u32::from(n.broadcast())),
            ),
            IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
        }
    };
    let mut ranges: Vec<(u128, u128)> = nets.iter().map(|n| bounds(&n.value)).collect();
    ranges.sort_unstable();
    let max = if v6 { u128::MAX } else { u128::from(u32::MAX) };
    let mut gaps = Vec::new();
    let mut next = Some(0u128);
    for (lo, hi) in ranges {
        if let Some(start) = next
            && lo > start
        {
            gaps.push((start, lo - 1));
        }
        next = match next {
            Some(n) if hi < n => Some(n),
            _ => hi.checked_add(1).filter(|&n| n <= max),
        };
    }
    if let Some(start) = next {
        gaps.push((start, max));
    }
    let to_addr = |x: u128| -> IpAddr {
        if v6 {
            IpAddr::V6(x.into())
        } else {
            IpAddr::V4(u32::try_from(x).unwrap_or(u32::MAX).into())
        }
    };
    gaps.into_iter()
        .flat_map(|(a, b)| range_nets(to_addr(a), to_addr(b)))
        .map(|n| Spanned::new(n, span))
        .collect()
}

/// A port, a numeric string or a `range`, as an inclusive interval.
fn port_range(n: &JsonNode) -> Option<(u32, u32)> {
    let port = |n: &JsonNode| -> Option<u32> {
        let p = n.as_i64().or_else(|| n.as_str()?.parse().ok())?;
        u32::try_from(p).ok().filter(|&p| p <= 65535)
    };
    if let Some(r) = n.get("range") {
        let [a, b] = r.as_array()? else { return None };
        let (a, b) = (port(a)?, port(b)?);
        return (a <= b).then_some((a, b));
    }
    port(n).map(|p| (p, p))
}

/// A `meta l4proto` value: a name (`tcp`) or a protocol number.
fn proto_bits(n: &JsonNode) -> Option<u8> {
    if let Some(s) = n.as_str() {
        return Some(match s {
            "tcp" => TCP,
            "udp" => UDP,
            "icmp" | "ipv6-icmp" | "icmpv6" => ICMP,
            _ => OTHER,
        });
    }
    let p = n.as_i64()?;
    (0..=255).contains(&p).then_some(match p {
        6 => TCP,
        17 => UDP,
        1 | 58 => ICMP,
        _ => OTHER,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complement_of_a_prefix_is_the_rest_of_its_family() {
        let span = Span::new(crate::model::SourceId(0), 0, 0);
        let net = |s: &str| Spanned::new(s.parse::<IpNet>().unwrap(), span);
        let rest: Vec<String> = complement(&[net("10.0.0.0/8")], false, span)
            .iter()
            .map(|n| n.value.to_string())
            .collect();
        assert_eq!(
            rest,
            [
                "0.0.0.0/5",
                "8.0.0.0/7",
                "11.0.0.0/8",
                "12.0.0.0/6",
                "16.0.0.0/4",
                "32.0.0.0/3",
                "64.0.0.0/2",
                "128.0.0.0/1"
            ]
        );
        assert!(complement(&[net("0.0.0.0/0")], false, span).is_empty());
        assert_eq!(
            complement(&[], false, span)[0].value.to_string(),
            "0.0.0.0/0"
        );
    }

    #[test]
    fn and_keeps_the_nested_prefix() {
        let span = Span::new(crate::model::SourceId(0), 0, 0);
        let net = |s: &str| Spanned::new(s.parse::<IpNet>().unwrap(), span);
        let a = Some(vec![net("10.0.0.0/8"), net("192.168.0.0/16")]);
        let b = Some(vec![net("10.1.0.0/16"), net("172.16.0.0/12")]);
        let both = and_nets(a.as_ref(), b.as_ref()).unwrap();
        assert_eq!(both.len(), 1);
        assert_eq!(both[0].value.to_string(), "10.1.0.0/16");
    }
}
