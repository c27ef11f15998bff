//! From Aerleon filters to the model's rules: which filters the firewall applies, the
//! default its header states, and each term's meaning (addresses and exclusions,
//! protocols, services, options, platforms, expiration), following Aerleon's policy
//! library. A term that can never match a new connection (`established`, an expired
//! term, a `next` action, a platform the filter does not render) gives no rule.

use std::collections::BTreeSet;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::defs::{self, Defs};
use super::{Field, Filter, Target, Term, Word};
use crate::load::sources::{NetworkRules, SourceError, Unsupported};
use crate::model::{
    Action, Endpoint, FirewallRule, PortItem, PortList, RuleGuard, Span, Spanned, Traffic,
    cidr_difference,
};

/// Fields that do not change what a term matches or does to a new connection.
const NO_EFFECT: [&str; 12] = [
    "comment",
    "counter",
    "logging",
    "log-limit",
    "log-name",
    "owner",
    "qos",
    "loss-priority",
    "dscp-set",
    "policer",
    "traffic-class-count",
    "timeout",
];

/// Fields this module reads.
const READ: [&str; 15] = [
    "action",
    "source-address",
    "destination-address",
    "source-exclude",
    "destination-exclude",
    "protocol",
    "protocol-except",
    "destination-port",
    "source-port",
    "option",
    "icmp-type",
    "platform",
    "platform-exclude",
    "expiration",
    "verbatim",
];

/// Options after which a term matches no packet that opens a connection: replies
/// (`established`), resets, and Juniper's disabled terms.
const NEVER_NEW: [&str; 4] = ["established", "tcp-established", "rst", "inactive"];
/// Options that keep a term matching the packet that opens a connection.
const HARMLESS: [&str; 4] = ["initial", "tcp-initial", "syn", "sample"];

/// Merged port ranges and the keyword that names them.
type Ports = (Vec<(u16, u16)>, Span);

/// A required flow's source port is any port of this range (`language.md`).
const EPHEMERAL: (u16, u16) = (49152, 65535);

/// Today as (year, month, day), UTC: Aerleon renders no expired term.
pub fn today() -> (i64, u32, u32) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// The date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// The `iptables`/`speedway` target of a filter that renders into the `FORWARD` chain.
fn forward_target(f: &Filter) -> Option<&Target> {
    f.targets.iter().find(|t| {
        matches!(t.platform.text.as_str(), "iptables" | "speedway")
            && t.options.first().is_some_and(|o| o.text == "FORWARD")
    })
}

pub fn convert(
    filters: &[Filter],
    defs: Option<&Defs>,
    today: (i64, u32, u32),
) -> Result<NetworkRules, SourceError> {
    let mut selected: Vec<&Filter> = filters
        .iter()
        .filter(|f| forward_target(f).is_some())
        .collect();
    if selected.is_empty() {
        match filters {
            [] => {
                return Err(SourceError {
                    message: "the policy has no filter".into(),
                    span: None,
                    help: None,
                });
            }
            [only] => selected.push(only),
            [_, second, ..] => {
                return Err(SourceError::at(
                    second.span,
                    format!(
                        "the policy has {} filters and none targets the forward chain: which one this firewall applies is unknown",
                        filters.len()
                    ),
                )
                .with_help("add `iptables: FORWARD DROP` (or ACCEPT) to the targets of the filters the firewall applies, or keep one filter per policy"));
            }
        }
    }
    let mut out = NetworkRules::default();
    for f in &selected {
        if let Some(t) = forward_target(f) {
            // iptables-restore applies the last policy line: the last filter's wins.
            if let Some(w) = t
                .options
                .iter()
                .find(|w| w.text == "ACCEPT" || w.text == "DROP")
            {
                let action = if w.text == "ACCEPT" {
                    Action::Allow
                } else {
                    Action::Deny
                };
                out.default = Some(Spanned::new(action, w.span));
            } else if t.platform.text == "iptables" {
                // Aerleon's iptables generator drops by default on FORWARD.
                out.default = Some(Spanned::new(Action::Deny, t.options[0].span));
            }
        }
        let platforms: Vec<&str> = f.targets.iter().map(|t| t.platform.text.as_str()).collect();
        let cx = Cx {
            defs,
            platforms: &platforms,
            today,
        };
        for term in &f.terms {
            out.rules.extend(cx.rule(term, &mut out.unsupported)?);
        }
    }
    Ok(out)
}

/// What one term gives.
enum TermRule {
    /// Nothing: it never matches a new connection.
    Never,
    Rule(FirewallRule),
    /// A rule whose action is unknown too (`verbatim`), given as its allow.
    Unknown(FirewallRule),
}

struct Cx<'a> {
    defs: Option<&'a Defs>,
    platforms: &'a [&'a str],
    today: (i64, u32, u32),
}

/// Every word written for a keyword (a `.pol` keyword may repeat).
fn words<'t>(term: &'t Term, key: &str) -> Vec<&'t Word> {
    term.fields
        .iter()
        .filter(|f| f.key.text == key)
        .flat_map(|f| &f.values)
        .collect()
}

fn field<'t>(term: &'t Term, key: &str) -> Option<&'t Field> {
    term.fields.iter().find(|f| f.key.text == key)
}

/// The protocols a term names, as they matter to required flows.
#[derive(Default)]
struct Protocols {
    tcp: bool,
    udp: bool,
    icmp: bool,
}

fn protocol_kind(word: &str) -> Option<usize> {
    match word.to_ascii_lowercase().as_str() {
        "tcp" | "6" => Some(0),
        "udp" | "17" => Some(1),
        "icmp" | "1" | "icmpv6" | "58" => Some(2),
        _ => None,
    }
}

/// Protocols whose packets carry ports (Aerleon's `PROTOS_WITH_PORTS`).
fn has_ports(word: &str) -> bool {
    matches!(
        word.to_ascii_lowercase().as_str(),
        "tcp" | "udp" | "udplite" | "sctp" | "6" | "17" | "136" | "132"
    )
}

impl Cx<'_> {
    fn rule(
        &self,
        term: &Term,
        unsupported: &mut Vec<Unsupported>,
    ) -> Result<Vec<FirewallRule>, SourceError> {
        Ok(match self.term(term, unsupported)? {
            TermRule::Never => Vec::new(),
            TermRule::Rule(rule) => vec![rule],
            // Either action, uncertainly: an uncertain allow then an uncertain deny, so
            // that no verdict the term may reach is sure.
            TermRule::Unknown(allow) => {
                let mut deny = allow.clone();
                deny.action = Action::Deny;
                vec![allow, deny]
            }
        })
    }

    fn term(
        &self,
        term: &Term,
        unsupported: &mut Vec<Unsupported>,
    ) -> Result<TermRule, SourceError> {
        let name = &term.name.text;
        let mut uncertain: Option<Span> = None;
        let mut flag = |span: Span, construct: String, unsupported: &mut Vec<Unsupported>| {
            unsupported.push(Unsupported {
                construct,
                consequence: "the term's verdicts are indeterminate".into(),
                span,
            });
            uncertain.get_or_insert(span);
        };
        for f in &term.fields {
            let key = f.key.text.as_str();
            if !READ.contains(&key) && !NO_EFFECT.contains(&key) {
                flag(f.key.span, format!("`{key}` in term `{name}`"), unsupported);
            }
        }
        if let Some(f) = field(term, "verbatim") {
            // Raw text for some platform: what it matches and does is unknown.
            flag(
                f.key.span,
                format!("`verbatim` in term `{name}`"),
                unsupported,
            );
            return Ok(TermRule::Unknown(FirewallRule {
                action: Action::Allow,
                name: Some(Spanned::new(name.clone(), term.name.span)),
                traffic: Traffic {
                    from: vec![Spanned::new(Endpoint::Any, term.name.span)],
                    to: vec![Spanned::new(Endpoint::Any, term.name.span)],
                    tcp: None,
                    udp: None,
                    icmp: false,
                },
                guard: RuleGuard::Always,
                uncertain,
                span: term.span,
            }));
        }
        if let Some(w) = words(term, "expiration").first() {
            let date = parse_date(&w.text).ok_or_else(|| {
                SourceError::at(
                    w.span,
                    format!("`{}` is not a date such as 2030-12-31", w.text),
                )
            })?;
            if date < self.today {
                // Aerleon's generators skip an expired term.
                return Ok(TermRule::Never);
            }
        }
        // Platforms: the term is rendered for the filter's targets it names and does not
        // exclude; when they disagree, what the firewall runs depends on which it is.
        let only: Vec<&Word> = words(term, "platform");
        let except: Vec<&Word> = words(term, "platform-exclude");
        if !only.is_empty() || !except.is_empty() {
            let kept = self
                .platforms
                .iter()
                .filter(|p| {
                    (only.is_empty() || only.iter().any(|w| w.text == **p))
                        && !except.iter().any(|w| w.text == **p)
                })
                .count();
            if kept == 0 {
                return Ok(TermRule::Never);
            }
            if kept < self.platforms.len() {
                let span = field(term, "platform")
                    .or_else(|| field(term, "platform-exclude"))
                    .map_or(term.name.span, |f| f.key.span);
                flag(
                    span,
                    format!(
                        "term `{name}` rendered for some of the filter's platforms only ({})",
                        self.platforms.join(", ")
                    ),
                    unsupported,
                );
            }
        }
        let action = match words(term, "action").first() {
            None => {
                return Err(SourceError::at(
                    term.name.span,
                    format!("term `{name}` has no action"),
                )
                .with_help("add `action: accept` (or deny, reject, next)"));
            }
            Some(w) => match w.text.as_str() {
                "accept" => Action::Allow,
                "deny" | "reject" | "reject-with-tcp-rst" => Action::Deny,
                // No verdict: evaluation goes on with the next term.
                "next" | "count" => return Ok(TermRule::Never),
                other => {
                    return Err(SourceError::at(
                        w.span,
                        format!(
                            "`{other}` is not an action: expected accept, deny, reject, reject-with-tcp-rst, next or count"
                        ),
                    ));
                }
            },
        };
        for w in words(term, "option") {
            if NEVER_NEW.contains(&w.text.as_str()) {
                return Ok(TermRule::Never);
            }
            if !HARMLESS.contains(&w.text.as_str()) {
                flag(
                    w.span,
                    format!("option `{}` in term `{name}`", w.text),
                    unsupported,
                );
            }
        }
        // Protocols.
        let proto_words = words(term, "protocol");
        let except_words = words(term, "protocol-except");
        let restricted = !proto_words.is_empty() || !except_words.is_empty();
        let mut protocols = Protocols::default();
        if restricted {
            let mut set = [proto_words.is_empty(); 3];
            for w in &proto_words {
                if let Some(k) = protocol_kind(&w.text) {
                    set[k] = true;
                }
            }
            for w in &except_words {
                if let Some(k) = protocol_kind(&w.text) {
                    set[k] = false;
                }
            }
            protocols = Protocols {
                tcp: set[0],
                udp: set[1],
                icmp: set[2],
            };
        }
        // Ports, as Aerleon's TranslatePorts: each service's ports of each protocol of
        // the term, pooled and applied to every protocol of the term.
        let dst = self.ports(term, "destination-port", &proto_words)?;
        let src = self.ports(term, "source-port", &proto_words)?;
        if let Some((list, span)) = &src {
            let (inside, outside) = ephemeral_split(list);
            match (inside, outside) {
                (_, false) => {}
                (false, true) => return Ok(TermRule::Never),
                (true, true) => {
                    // Representable, but whether the flow's source port matches is
                    // unknown: the rule is uncertain without being unsupported.
                    uncertain.get_or_insert(*span);
                }
            }
        }
        if protocols.icmp {
            let types = words(term, "icmp-type");
            // A required ICMP flow is an echo request.
            if !types.is_empty() && !types.iter().any(|w| w.text == "echo-request") {
                protocols.icmp = false;
            }
        }
        if restricted && !protocols.tcp && !protocols.udp && !protocols.icmp {
            // Only protocols no required flow uses (GRE, ESP...).
            return Ok(TermRule::Never);
        }
        let Some(from) = self.side(term, "source-address", "source-exclude")? else {
            return Ok(TermRule::Never);
        };
        let Some(to) = self.side(term, "destination-address", "destination-exclude")? else {
            return Ok(TermRule::Never);
        };
        let proto_span = field(term, "protocol")
            .or_else(|| field(term, "protocol-except"))
            .map_or(term.name.span, |f| f.key.span);
        let port_list = |on: bool| -> Option<Spanned<PortList>> {
            if !on {
                return None;
            }
            Some(match &dst {
                Some((items, span)) => Spanned::new(
                    PortList {
                        items: items.iter().map(|&(a, b)| PortItem::Range(a, b)).collect(),
                    },
                    *span,
                ),
                None => Spanned::new(
                    PortList {
                        items: vec![PortItem::Range(1, 65535)],
                    },
                    proto_span,
                ),
            })
        };
        let traffic = if restricted {
            Traffic {
                from,
                to,
                tcp: port_list(protocols.tcp),
                udp: port_list(protocols.udp),
                icmp: protocols.icmp,
            }
        } else {
            Traffic {
                from,
                to,
                tcp: None,
                udp: None,
                icmp: false,
            }
        };
        Ok(TermRule::Rule(FirewallRule {
            action,
            name: Some(Spanned::new(name.clone(), term.name.span)),
            traffic,
            guard: RuleGuard::Always,
            uncertain,
            span: term.span,
        }))
    }

    /// The port ranges of a port keyword, merged, with the keyword's span.
    fn ports(
        &self,
        term: &Term,
        key: &str,
        protocols: &[&Word],
    ) -> Result<Option<Ports>, SourceError> {
        let Some(f) = field(term, key) else {
            return Ok(None);
        };
        let list = words(term, key);
        if protocols.is_empty() {
            return Err(SourceError::at(
                f.key.span,
                format!("term `{}` has ports but no protocol", term.name.text),
            )
            .with_help("add `protocol: tcp` (or udp): Aerleon takes each service's ports of the term's protocols"));
        }
        if let Some(p) = protocols.iter().find(|p| !has_ports(&p.text)) {
            return Err(SourceError::at(
                p.span,
                format!(
                    "protocol `{}` has no ports, yet the term names ports",
                    p.text
                ),
            ));
        }
        let mut ranges = Vec::new();
        for w in &list {
            if let Some(r) = defs::parse_range(&w.text) {
                ranges.push(r);
                continue;
            }
            let ports = self.need_defs(w, "service")?.service(&w.text, w.span)?;
            for p in protocols {
                let proto = p.text.to_ascii_lowercase();
                ranges.extend(
                    ports
                        .iter()
                        .filter(|s| s.protocol == proto || same_protocol(&s.protocol, &proto))
                        .map(|s| s.range),
                );
            }
        }
        if ranges.is_empty() {
            return Err(SourceError::at(
                f.key.span,
                format!(
                    "no {key} of the term's protocols ({}) in its services",
                    protocols
                        .iter()
                        .map(|w| w.text.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(Some((merge(ranges), f.key.span)))
    }

    fn need_defs(&self, w: &Word, what: &str) -> Result<&Defs, SourceError> {
        self.defs.ok_or_else(|| {
            SourceError::at(w.span, format!("no {what} named `{}`", w.text))
                .with_help("no `def/` folder was found beside or above the policy")
        })
    }

    /// One side's endpoints: its addresses less its exclusions (an exact CIDR
    /// difference); `None` when nothing is left, so the term matches nothing.
    fn side(
        &self,
        term: &Term,
        key: &str,
        exclude_key: &str,
    ) -> Result<Option<Vec<Spanned<Endpoint>>>, SourceError> {
        let include = words(term, key);
        let exclude = words(term, exclude_key);
        let mut nets: Vec<(IpNet, Span)> = Vec::new();
        for w in &include {
            for n in self.addresses(w)? {
                nets.push((n, w.span));
            }
        }
        if include.is_empty() {
            if exclude.is_empty() {
                return Ok(Some(vec![Spanned::new(Endpoint::Any, term.name.span)]));
            }
            let span = field(term, exclude_key).map_or(term.name.span, |f| f.key.span);
            nets.push((IpNet::V4(Ipv4Net::default()), span));
            nets.push((IpNet::V6(Ipv6Net::default()), span));
        }
        let mut excluded = Vec::new();
        for w in &exclude {
            excluded.extend(self.addresses(w)?);
        }
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for (net, span) in nets {
            for piece in cidr_difference(net, &excluded) {
                if seen.insert(piece) {
                    out.push(Spanned::new(Endpoint::Cidr(piece), span));
                }
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }

    /// A network name's addresses, or a literal address.
    fn addresses(&self, w: &Word) -> Result<Vec<IpNet>, SourceError> {
        if !defs::is_token(&w.text)
            && let Some(net) = defs::parse_address(&w.text)
        {
            return Ok(vec![net]);
        }
        let nets = self.need_defs(w, "network")?.network(&w.text, w.span)?;
        if nets.is_empty() {
            return Err(SourceError::at(
                w.span,
                format!("network `{}` has no address", w.text),
            ));
        }
        Ok(nets)
    }
}

/// `tcp` and `6` are the same protocol.
fn same_protocol(a: &str, b: &str) -> bool {
    fn number(s: &str) -> &str {
        match s {
            "tcp" => "6",
            "udp" => "17",
            "icmp" => "1",
            other => other,
        }
    }
    number(a) == number(b)
}

fn merge(mut ranges: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    ranges.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::new();
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Whether merged ranges hold ports inside the ephemeral range, and whether they leave
/// some of it out.
fn ephemeral_split(ranges: &[(u16, u16)]) -> (bool, bool) {
    let (lo, hi) = EPHEMERAL;
    let inside = ranges.iter().any(|&(a, b)| a <= hi && b >= lo);
    let whole = ranges.iter().any(|&(a, b)| a <= lo && b >= hi);
    (inside, !whole)
}

/// `YYYY-MM-DD`.
fn parse_date(s: &str) -> Option<(i64, u32, u32)> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_454), (2026, 1, 1));
        assert_eq!(civil(11_016), (2000, 2, 29));
        assert_eq!(parse_date("2026-12-02"), Some((2026, 12, 2)));
        assert_eq!(parse_date("2026-13-02"), None);
        assert_eq!(parse_date("soon"), None);
    }

    #[test]
    fn cidr_difference_is_exact() {
        let n = |s: &str| s.parse::<IpNet>().unwrap();
        let out = cidr_difference(n("10.0.0.0/8"), &[n("10.1.0.0/16")]);
        let text: Vec<String> = out.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "10.0.0.0/16",
                "10.2.0.0/15",
                "10.4.0.0/14",
                "10.8.0.0/13",
                "10.16.0.0/12",
                "10.32.0.0/11",
                "10.64.0.0/10",
                "10.128.0.0/9"
            ]
        );
        assert!(cidr_difference(n("10.1.2.0/24"), &[n("10.0.0.0/8")]).is_empty());
        assert_eq!(
            cidr_difference(n("10.0.0.0/8"), &[n("192.168.0.0/16")]),
            [n("10.0.0.0/8")]
        );
        assert_eq!(cidr_difference(n("::/0"), &[n("10.0.0.0/8")]), [n("::/0")]);
    }

    #[test]
    fn ranges_and_the_ephemeral_range() {
        assert_eq!(
            merge(vec![(80, 80), (81, 90), (70, 75)]),
            [(70, 75), (80, 90)]
        );
        assert_eq!(ephemeral_split(&[(1024, 65535)]), (true, false));
        assert_eq!(ephemeral_split(&[(53, 53)]), (false, true));
        assert_eq!(ephemeral_split(&[(50000, 60000)]), (true, true));
    }
}
