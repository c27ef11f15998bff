//! `format="iptables-save"`: the output of `iptables-save` or `ip6tables-save`.
//!
//! Reads the `*filter` table's `FORWARD` chain (the traffic a router filters between its
//! networks) and the user chains it reaches through `-j CHAIN` and `-g CHAIN`, and flattens
//! them into one first-match list of [`FirewallRule`]s whose spans are the `-A` lines
//! that decide; the chain's policy line (`:FORWARD DROP [0:0]`) is the default. Other
//! tables and chains are skipped: they do not filter forwarded traffic (`nat`, `mangle`
//! and `raw` rewrite or mark it).
//!
//! A conditional `RETURN` from a jumped-to chain on one side's addresses only (what
//! Aerleon writes for `*-exclude`) takes those networks out of the chain's later rules.
//! What the model cannot represent (interfaces, negated addresses, unknown matches, any
//! other conditional `RETURN` from a jumped-to chain, a source port range that partly overlaps
//! the ephemeral range) is reported as [`Unsupported`] and makes the rule `uncertain`;
//! what can never match a required flow (only `ESTABLISHED,RELATED`, a protocol other than
//! TCP, UDP and ICMP, an ICMP type other than echo request) drops the rule.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::{NetworkRules, SourceError, SourceInput, Unsupported};
use crate::model::{
    Action, Endpoint, FirewallRule, PortItem, PortList, RuleGuard, SourceId, Span, Spanned, Traffic,
};

/// Chains nested deeper than this are refused (a legitimate rule set nests a few levels).
const MAX_DEPTH: usize = 32;
/// Flattened rules beyond this are refused (each jump copies its chain's rules).
const MAX_RULES: usize = 200_000;

/// The consequence of most unsupported constructs.
const INDETERMINATE: &str =
    "whether the rule matches is unknown: the verdicts it decides are indeterminate";

/// Rule visits beyond this are refused: chains that jump to one chain many times each
/// multiply the work even when they add no rule (logging chains).
const MAX_VISITS: usize = 2_000_000;

/// The source port of a required flow lies in the ephemeral range (`language.md`).
const EPHEMERAL: (u16, u16) = (49152, 65535);

pub fn read(input: &SourceInput<'_>) -> Result<NetworkRules, SourceError> {
    let table = parse_filter_table(input.id, input.text)?;
    let mut out = NetworkRules::default();
    let Some(forward) = table.chains.get("FORWARD") else {
        return Ok(out);
    };
    let policy = forward.policy.clone();
    if let Some(p) = &policy {
        out.default = Some(p.clone());
    }
    let mut flattener = Flattener {
        table: &table,
        policy,
        out: &mut out,
        stack: Vec::new(),
        visited: 0,
        reported: std::collections::HashSet::new(),
    };
    flattener.chain("FORWARD", &Match::default(), Fall::Builtin)?;
    Ok(out)
}

/// One token of a line, with its byte span in the file.
#[derive(Clone, Debug)]
struct Token {
    text: String,
    span: Span,
}

/// Splits a line as `iptables-save` quotes it: words separated by blanks, `"..."` with
/// `\"` and `\\` escapes.
fn tokenize(id: SourceId, line: &str, offset: usize) -> Result<Vec<Token>, SourceError> {
    let mut tokens = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let mut text = String::new();
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            if bytes[i] == b'"' {
                let open = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(SourceError::at(
                                Span::new(id, offset + open, offset + line.len()),
                                "unterminated quoted string",
                            ));
                        }
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') if matches!(bytes.get(i + 1), Some(b'"' | b'\\')) => {
                            text.push(char::from(bytes[i + 1]));
                            i += 2;
                        }
                        Some(_) => {
                            let ch = line[i..].chars().next().unwrap_or('\u{fffd}');
                            text.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
            } else {
                let ch = line[i..].chars().next().unwrap_or('\u{fffd}');
                text.push(ch);
                i += ch.len_utf8();
            }
        }
        tokens.push(Token {
            text,
            span: Span::new(id, offset + start, offset + i),
        });
    }
    Ok(tokens)
}

/// A chain of the `filter` table.
#[derive(Default)]
struct Chain {
    /// Built-in chains only (`-` for user chains).
    policy: Option<Spanned<Action>>,
    /// Each rule, parsed once (a chain jumped to many times is visited many times).
    rules: Vec<Rule>,
}

struct Table {
    chains: HashMap<String, Chain>,
}

/// Finds the `*filter` table and its chains and rule lines.
fn parse_filter_table(id: SourceId, text: &str) -> Result<Table, SourceError> {
    let mut chains: HashMap<String, Chain> = HashMap::new();
    // The table being read: its name and header span; `None` between tables.
    let mut current: Option<(String, Span)> = None;
    let mut filter_seen: Option<Span> = None;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        let span = Span::new(id, line_start + lead, line_start + line.len());
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('*') {
            if let Some((open, _)) = &current {
                return Err(SourceError::at(
                    span,
                    format!("table `{open}` is not closed by COMMIT before this one"),
                ));
            }
            let name = name.trim().to_owned();
            if name == "filter" {
                if let Some(first) = filter_seen {
                    let _ = first;
                    return Err(SourceError::at(span, "a second `*filter` table").with_help(
                        "read iptables-save and ip6tables-save output from separate files, one firewall each",
                    ));
                }
                filter_seen = Some(span);
            }
            current = Some((name, span));
            continue;
        }
        let Some((table, _)) = &current else {
            return Err(SourceError::at(span, "a line outside any table")
                .with_help("iptables-save output starts each table with `*filter`, `*nat`, ..."));
        };
        if trimmed == "COMMIT" {
            current = None;
            continue;
        }
        if table != "filter" {
            continue;
        }
        if let Some(decl) = trimmed.strip_prefix(':') {
            let tokens = tokenize(id, decl, span.start + 1)?;
            let (Some(name), Some(policy)) = (tokens.first(), tokens.get(1)) else {
                return Err(
                    SourceError::at(span, "a chain line needs a name and a policy")
                        .with_help("e.g. `:FORWARD DROP [0:0]` or `:MY-CHAIN - [0:0]`"),
                );
            };
            let policy = match policy.text.as_str() {
                "-" => None,
                "ACCEPT" => Some(Spanned::new(Action::Allow, policy.span)),
                "DROP" => Some(Spanned::new(Action::Deny, policy.span)),
                other => {
                    return Err(SourceError::at(
                        policy.span,
                        format!("`{other}` is not a chain policy"),
                    )
                    .with_help("iptables-save writes ACCEPT, DROP, or `-` for a user chain"));
                }
            };
            chains.insert(
                name.text.clone(),
                Chain {
                    policy,
                    rules: Vec::new(),
                },
            );
            continue;
        }
        let mut tokens = tokenize(id, trimmed, span.start)?;
        // `iptables-save -c` writes the counters first: `[12:3400] -A FORWARD ...`.
        if tokens.first().is_some_and(|t| t.text.starts_with('[')) {
            tokens.remove(0);
        }
        match tokens.first().map(|t| t.text.as_str()) {
            Some("-A" | "--append") => {}
            _ => {
                return Err(SourceError::at(span, "expected a rule (`-A CHAIN ...`)")
                    .with_help("iptables-save writes `*TABLE`, `:CHAIN POLICY [p:b]`, `-A CHAIN ...` and `COMMIT` lines"));
            }
        }
        let Some(chain) = tokens.get(1) else {
            return Err(SourceError::at(span, "`-A` needs a chain name"));
        };
        let Some(c) = chains.get_mut(&chain.text) else {
            return Err(SourceError::at(
                chain.span,
                format!("chain `{}` is not declared", chain.text),
            )
            .with_help("declare it with a `:CHAIN - [0:0]` line before its rules"));
        };
        c.rules.push(parse_rule(&tokens[2..], span)?);
    }
    if let Some((name, span)) = current {
        return Err(SourceError::at(
            span,
            format!("table `{name}` is not closed by COMMIT"),
        ));
    }
    if filter_seen.is_none() {
        return Err(SourceError {
            message: "no `*filter` table".into(),
            span: None,
            help: Some(
                "produce the file with `iptables-save` (or `iptables-save -t filter`)".into(),
            ),
        });
    }
    Ok(Table { chains })
}

/// The protocol a rule matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Proto {
    #[default]
    Any,
    Tcp,
    Udp,
    /// ICMP echo request (the only ICMP of required flows).
    IcmpEcho,
}

/// What a rule (conjoined with the rules that jumped to its chain) matches.
#[derive(Clone, Debug, Default)]
struct Match {
    /// Source networks (any of them); `None`: any address.
    src: Option<Vec<Spanned<IpNet>>>,
    dst: Option<Vec<Spanned<IpNet>>>,
    proto: Proto,
    proto_span: Option<Span>,
    /// Destination ports (TCP/UDP), sorted and merged; `None`: every port.
    ports: Option<Spanned<Vec<(u16, u16)>>>,
    name: Option<Spanned<String>>,
    uncertain: Option<Span>,
    /// The rule can never match a required flow (a new TCP, UDP or echo connection).
    never: bool,
}

impl Match {
    /// Both matches at once (a rule inside a chain that a rule jumped to).
    fn and(&self, inner: &Match) -> Match {
        let mut m = inner.clone();
        m.never |= self.never;
        m.uncertain = inner.uncertain.or(self.uncertain);
        if m.name.is_none() {
            m.name.clone_from(&self.name);
        }
        for (mine, outer) in [(&mut m.src, &self.src), (&mut m.dst, &self.dst)] {
            match (mine.as_ref(), outer) {
                (_, None) => {}
                (None, Some(o)) => *mine = Some(o.clone()),
                (Some(inner), Some(outer)) => {
                    // Two networks overlap only when one holds the other: the smaller.
                    let mut both = Vec::new();
                    for a in inner {
                        for b in outer {
                            if a.value.contains(&b.value) {
                                both.push(b.clone());
                            } else if b.value.contains(&a.value) {
                                both.push(a.clone());
                            }
                        }
                    }
                    if both.is_empty() {
                        m.never = true;
                    }
                    *mine = Some(both);
                }
            }
        }
        match (m.proto, self.proto) {
            (_, Proto::Any) => {}
            (Proto::Any, p) => {
                m.proto = p;
                m.proto_span = self.proto_span;
            }
            (a, b) if a == b => {}
            _ => m.never = true,
        }
        match (&m.ports, &self.ports) {
            (_, None) => {}
            (None, Some(o)) => m.ports = Some(o.clone()),
            (Some(a), Some(b)) => {
                let both = intersect(&a.value, &b.value);
                if both.is_empty() {
                    m.never = true;
                }
                m.ports = Some(Spanned::new(both, a.span));
            }
        }
        m
    }

    /// The rule's traffic; what the line does not state (`any`, every port) takes the
    /// span of `line`.
    fn traffic(&self, line: Span) -> Traffic {
        let endpoint = |e: &Option<Vec<Spanned<IpNet>>>| match e {
            Some(nets) => nets
                .iter()
                .map(|net| Spanned::new(Endpoint::Cidr(net.value), net.span))
                .collect(),
            None => vec![Spanned::new(Endpoint::Any, line)],
        };
        let span = self.proto_span.unwrap_or(line);
        let ports = || {
            let list = match &self.ports {
                Some(p) => Spanned::new(
                    PortList {
                        items: p
                            .value
                            .iter()
                            .map(|&(a, b)| PortItem::Range(a, b))
                            .collect(),
                    },
                    p.span,
                ),
                None => Spanned::new(
                    PortList {
                        items: vec![PortItem::Range(1, 65535)],
                    },
                    span,
                ),
            };
            Some(list)
        };
        let mut t = Traffic {
            from: endpoint(&self.src),
            to: endpoint(&self.dst),
            tcp: None,
            udp: None,
            icmp: false,
        };
        match self.proto {
            Proto::Any => {}
            Proto::Tcp => t.tcp = ports(),
            Proto::Udp => t.udp = ports(),
            Proto::IcmpEcho => t.icmp = true,
        }
        t
    }
}

fn intersect(a: &[(u16, u16)], b: &[(u16, u16)]) -> Vec<(u16, u16)> {
    let mut out = Vec::new();
    for &(a0, a1) in a {
        for &(b0, b1) in b {
            let (lo, hi) = (a0.max(b0), a1.min(b1));
            if lo <= hi {
                out.push((lo, hi));
            }
        }
    }
    merge(out)
}

fn merge(mut items: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    items.sort_unstable();
    let mut merged: Vec<(u16, u16)> = Vec::with_capacity(items.len());
    for (a, b) in items {
        match merged.last_mut() {
            Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// What a rule does when it matches.
enum Target {
    Action(Action),
    /// Decided by a program (`NFQUEUE`): matches as unknown.
    Unknown(Action),
    Jump(Token),
    Goto(Token),
    Return,
    /// `LOG`, `NFLOG`, counters: the packet goes on to the next rule.
    Continue,
}

/// One rule line, parsed.
struct Rule {
    m: Match,
    target: Target,
    span: Span,
    unsupported: Vec<Unsupported>,
}

/// Targets that log, mark or count and let the packet go on.
const NON_TERMINAL: &[&str] = &[
    "LOG",
    "NFLOG",
    "ULOG",
    "MARK",
    "CONNMARK",
    "TCPMSS",
    "CLASSIFY",
    "DSCP",
    "TOS",
    "NOTRACK",
    "CT",
    "SET",
    "AUDIT",
    "TRACE",
    "CHECKSUM",
    "CONNSECMARK",
    "SECMARK",
    "IDLETIMER",
    "LED",
    "RATEEST",
    "TEE",
];

fn parse_port(t: &Token, s: &str, open_low: u16) -> Result<(u16, u16), SourceError> {
    let bad = || {
        SourceError::at(t.span, format!("`{}` is not a port or port range", t.text))
            .with_help("ports are numbers 0-65535, ranges `FIRST:LAST`")
    };
    let num = |p: &str, empty: u16| -> Result<u16, SourceError> {
        if p.is_empty() {
            Ok(empty)
        } else {
            p.parse().map_err(|_| bad())
        }
    };
    if s.is_empty() {
        return Err(bad());
    }
    let (a, b) = if let Some((a, b)) = s.split_once(':') {
        (num(a, open_low)?, num(b, 65535)?)
    } else {
        let p = num(s, 0)?;
        (p, p)
    };
    if a > b {
        return Err(bad());
    }
    Ok((a, b))
}

fn parse_ports(t: &Token, multi: bool) -> Result<Vec<(u16, u16)>, SourceError> {
    let parts: Vec<&str> = if multi {
        t.text.split(',').collect()
    } else {
        vec![t.text.as_str()]
    };
    let mut out = Vec::new();
    for p in parts {
        // Port 0 is no port of a required flow; a range from 0 is from 1.
        let (a, b) = parse_port(t, p, 0)?;
        out.push((a.max(1), b));
        if b == 0 {
            out.pop();
        }
    }
    Ok(merge(out))
}

fn parse_net(t: &Token) -> Result<IpNet, SourceError> {
    let bad = || {
        SourceError::at(t.span, format!("`{}` is not an address or network", t.text))
            .with_help("iptables-save writes `10.1.0.0/16`, `10.1.2.3/32` or `fd00::/64`")
    };
    let s = t.text.as_str();
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    // `ADDRESS/NETMASK`, contiguous masks only.
    let (addr, mask) = s.split_once('/').ok_or_else(bad)?;
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let mask: IpAddr = mask.parse().map_err(|_| bad())?;
    let prefix = match mask {
        IpAddr::V4(m) => {
            let bits = u32::from(m);
            if bits.leading_ones() + bits.trailing_zeros() != 32 {
                return Err(bad());
            }
            bits.leading_ones()
        }
        IpAddr::V6(m) => {
            let bits = u128::from(m);
            if bits.leading_ones() + bits.trailing_zeros() != 128 {
                return Err(bad());
            }
            bits.leading_ones()
        }
    };
    let prefix = u8::try_from(prefix).map_err(|_| bad())?;
    IpNet::new(addr, prefix)
        .map(|n| n.trunc())
        .map_err(|_| bad())
}

/// `-m iprange` ranges (`10.0.0.5-10.0.0.20`) as the networks that cover them exactly.
fn parse_range(t: &Token) -> Result<Vec<IpNet>, SourceError> {
    let bad = || {
        SourceError::at(t.span, format!("`{}` is not an address range", t.text))
            .with_help("`-m iprange` takes `FIRST-LAST`, both of one family, FIRST not after LAST")
    };
    let (a, b) = t.text.split_once('-').ok_or_else(bad)?;
    let nets: Vec<IpNet> = match (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
        (Ok(IpAddr::V4(a)), Ok(IpAddr::V4(b))) if a <= b => {
            ipnet::Ipv4Subnets::new(a, b, 0).map(IpNet::V4).collect()
        }
        (Ok(IpAddr::V6(a)), Ok(IpAddr::V6(b))) if a <= b => {
            ipnet::Ipv6Subnets::new(a, b, 0).map(IpNet::V6).collect()
        }
        _ => return Err(bad()),
    };
    Ok(nets)
}

/// Parses the tokens after `-A CHAIN`.
#[expect(
    clippy::too_many_lines,
    clippy::many_single_char_names,
    reason = "one arm per option; `t`, `v`, `m`, `i` are the token, its value, the match and the position throughout"
)]
fn parse_rule(tokens: &[Token], span: Span) -> Result<Rule, SourceError> {
    let mut m = Match::default();
    let mut target = Target::Continue;
    let mut unsupported = Vec::new();
    let mut uncertain = |m: &mut Match, at: Span, construct: String, consequence: &str| {
        m.uncertain.get_or_insert(at);
        unsupported.push(Unsupported {
            construct,
            consequence: consequence.to_owned(),
            span: at,
        });
    };
    let mut sport: Option<(Token, Vec<(u16, u16)>)> = None;
    let mut negate: Option<Span> = None;
    let mut i = 0;
    let value = |i: usize| -> Result<&Token, SourceError> {
        tokens.get(i + 1).ok_or_else(|| {
            SourceError::at(
                tokens[i].span,
                format!("`{}` needs a value", tokens[i].text),
            )
        })
    };
    while i < tokens.len() {
        let t = &tokens[i];
        if t.text == "!" {
            negate = Some(t.span);
            i += 1;
            continue;
        }
        let neg = negate.take();
        let option = t.text.as_str();
        match option {
            "-s" | "--source" | "-d" | "--destination" => {
                let v = value(i)?;
                let net = parse_net(v)?;
                let at = Span::new(
                    span.source,
                    neg.map_or(t.span.start, |n| n.start),
                    v.span.end,
                );
                if neg.is_some() {
                    uncertain(
                        &mut m,
                        at,
                        format!("negated address `! {option} {}`", v.text),
                        INDETERMINATE,
                    );
                } else if option.starts_with("-s") || option == "--source" {
                    m.src = Some(vec![Spanned::new(net, v.span)]);
                } else {
                    m.dst = Some(vec![Spanned::new(net, v.span)]);
                }
                i += 2;
            }
            "-p" | "--protocol" => {
                let v = value(i)?;
                let p = v.text.to_ascii_lowercase();
                let proto = match p.as_str() {
                    "tcp" | "6" => Some(Proto::Tcp),
                    "udp" | "17" => Some(Proto::Udp),
                    "icmp" | "1" | "ipv6-icmp" | "icmpv6" | "58" => Some(Proto::IcmpEcho),
                    "all" | "0" => Some(Proto::Any),
                    _ => None,
                };
                if neg.is_some() {
                    uncertain(
                        &mut m,
                        v.span,
                        format!("negated protocol `! -p {}`", v.text),
                        INDETERMINATE,
                    );
                } else if let Some(proto) = proto {
                    m.proto = proto;
                    m.proto_span = Some(v.span);
                } else {
                    // Another protocol (GRE, ESP, ...): never a required flow.
                    m.never = true;
                }
                i += 2;
            }
            "--dport"
            | "--destination-port"
            | "--dports"
            | "--destination-ports"
            | "--sport"
            | "--source-port"
            | "--sports"
            | "--source-ports" => {
                let v = value(i)?;
                let multi = option.ends_with('s');
                let ports = parse_ports(v, multi)?;
                if neg.is_some() {
                    uncertain(
                        &mut m,
                        Span::new(span.source, t.span.start, v.span.end),
                        format!("negated ports `! {option} {}`", v.text),
                        INDETERMINATE,
                    );
                } else if matches!(
                    option,
                    "--dport" | "--destination-port" | "--dports" | "--destination-ports"
                ) {
                    let ports = match &m.ports {
                        Some(old) => intersect(&old.value, &ports),
                        None => ports,
                    };
                    if ports.is_empty() {
                        m.never = true;
                    }
                    m.ports = Some(Spanned::new(ports, v.span));
                } else {
                    sport = Some((v.clone(), ports));
                }
                i += 2;
            }
            "-m" | "--match" => {
                let v = value(i)?;
                match v.text.as_str() {
                    "tcp" | "udp" | "icmp" | "icmp6" | "multiport" | "conntrack" | "state"
                    | "comment" | "iprange" => {}
                    other => {
                        uncertain(
                            &mut m,
                            Span::new(span.source, t.span.start, v.span.end),
                            format!("match module `-m {other}`"),
                            INDETERMINATE,
                        );
                    }
                }
                i += 2;
            }
            "--ctstate" | "--state" => {
                let v = value(i)?;
                let has_new = v.text.split(',').any(|s| s == "NEW");
                // A required flow is a new connection: the rule matches it when its states
                // hold NEW (or, negated, do not).
                if has_new == neg.is_some() {
                    m.never = true;
                }
                i += 2;
            }
            "--comment" => {
                let v = value(i)?;
                m.name = Some(Spanned::new(v.text.clone(), v.span));
                i += 2;
            }
            "--icmp-type" | "--icmpv6-type" => {
                let v = value(i)?;
                let echo = matches!(
                    v.text.as_str(),
                    "echo-request" | "8" | "128" | "8/0" | "128/0"
                );
                if echo == neg.is_some() {
                    m.never = true;
                }
                i += 2;
            }
            "-i" | "--in-interface" | "-o" | "--out-interface" => {
                let v = value(i)?;
                let at = Span::new(
                    span.source,
                    neg.map_or(t.span.start, |n| n.start),
                    v.span.end,
                );
                let bang = if neg.is_some() { "! " } else { "" };
                uncertain(
                    &mut m,
                    at,
                    format!("interface match `{bang}{option} {}`", v.text),
                    INDETERMINATE,
                );
                i += 2;
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                let v = value(i)?;
                target = match v.text.as_str() {
                    "ACCEPT" => Target::Action(Action::Allow),
                    "DROP" | "REJECT" => Target::Action(Action::Deny),
                    "RETURN" => Target::Return,
                    "NFQUEUE" | "QUEUE" => {
                        uncertain(
                            &mut m,
                            v.span,
                            format!("target `{}` (a program decides)", v.text),
                            INDETERMINATE,
                        );
                        Target::Unknown(Action::Allow)
                    }
                    name if NON_TERMINAL.contains(&name) => Target::Continue,
                    _ if option.starts_with("-g") || option == "--goto" => Target::Goto(v.clone()),
                    _ => Target::Jump(v.clone()),
                };
                i += 2;
                // The target's own options (`--reject-with`, `--log-prefix "..."`).
                while i < tokens.len() && tokens[i].text.starts_with("--") {
                    i += 1;
                    while i < tokens.len()
                        && !tokens[i].text.starts_with('-')
                        && tokens[i].text != "!"
                    {
                        i += 1;
                    }
                }
            }
            "--src-range" | "--dst-range" => {
                let v = value(i)?;
                let nets = parse_range(v)?;
                let at = Span::new(
                    span.source,
                    neg.map_or(t.span.start, |n| n.start),
                    v.span.end,
                );
                if neg.is_some() {
                    uncertain(
                        &mut m,
                        at,
                        format!("negated range `! {option} {}`", v.text),
                        INDETERMINATE,
                    );
                } else {
                    let nets = nets.into_iter().map(|n| Spanned::new(n, v.span)).collect();
                    if option == "--src-range" {
                        m.src = Some(nets);
                    } else {
                        m.dst = Some(nets);
                    }
                }
                i += 2;
            }
            // The first packet of a new TCP connection: every required TCP flow.
            "--syn" if neg.is_none() => i += 1,
            "-f" | "--fragment" => {
                uncertain(&mut m, t.span, "fragment match `-f`".into(), INDETERMINATE);
                i += 1;
            }
            _ if option.starts_with('-') => {
                // An option of a match module cmflow does not know: it and its values.
                let mut end = i + 1;
                while end < tokens.len()
                    && !tokens[end].text.starts_with('-')
                    && tokens[end].text != "!"
                {
                    end += 1;
                }
                let last = &tokens[end - 1];
                let words: Vec<&str> = tokens[i..end].iter().map(|t| t.text.as_str()).collect();
                uncertain(
                    &mut m,
                    Span::new(span.source, t.span.start, last.span.end),
                    format!("match `{}`", words.join(" ")),
                    INDETERMINATE,
                );
                i = end;
            }
            _ => {
                return Err(SourceError::at(t.span, format!("unexpected `{}`", t.text))
                    .with_help("every word of a rule follows an option such as `-s`, `-p`, `--dport` or `-j`"));
            }
        }
    }
    if let Some((t, ports)) = sport {
        // The flow's source port is any ephemeral port: inside → matches, disjoint →
        // never, partly → unknown.
        let inside = intersect(&ports, &[EPHEMERAL]);
        if inside.is_empty() {
            m.never = true;
        } else if inside != [EPHEMERAL] {
            uncertain(
                &mut m,
                t.span,
                format!("source ports `{}`", t.text),
                "they cover part of the ephemeral range 49152-65535 a required flow's source port lies in: the verdicts the rule decides are indeterminate",
            );
        }
    }
    Ok(Rule {
        m,
        target,
        span,
        unsupported,
    })
}

/// What happens to a packet that reaches the end of a chain (or a `RETURN`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fall {
    /// `FORWARD` itself: its policy.
    Builtin,
    /// A chain entered by `-j`: back to the rule after the jump.
    Continue,
    /// A chain entered by `-g` from `FORWARD` (or from a chain so entered): the policy.
    Policy,
}

struct Flattener<'t, 'o> {
    table: &'t Table,
    policy: Option<Spanned<Action>>,
    out: &'o mut NetworkRules,
    /// The chains being expanded, for loops.
    stack: Vec<String>,
    /// Rule lines visited so far, for [`MAX_VISITS`].
    visited: usize,
    /// The lines whose unsupported constructs are reported (by start offset).
    reported: std::collections::HashSet<usize>,
}

impl Flattener<'_, '_> {
    fn push(&mut self, m: &Match, action: Action, span: Span) -> Result<(), SourceError> {
        if m.never {
            return Ok(());
        }
        if self.out.rules.len() >= MAX_RULES {
            return Err(SourceError::at(
                span,
                format!("the chains expand to more than {MAX_RULES} rules"),
            ));
        }
        self.out.rules.push(FirewallRule {
            action,
            name: m.name.clone(),
            traffic: m.traffic(span),
            guard: RuleGuard::Always,
            uncertain: m.uncertain,
            span,
        });
        Ok(())
    }

    fn chain(&mut self, name: &str, outer: &Match, fall: Fall) -> Result<(), SourceError> {
        let table = self.table;
        let Some(chain) = table.chains.get(name) else {
            return Ok(());
        };
        self.stack.push(name.to_owned());
        // After a conditional RETURN in a jumped-to chain, the later rules see the packets
        // it did not return. A RETURN on addresses of one side only is exact: its
        // networks are taken out of that side of the later rules (a CIDR difference).
        // Any other conditional RETURN is not representable: they match as unknown.
        let mut returned: Option<Span> = None;
        let mut returned_src: Vec<Spanned<IpNet>> = Vec::new();
        let mut returned_dst: Vec<Spanned<IpNet>> = Vec::new();
        for rule in &chain.rules {
            self.visited += 1;
            if self.visited > MAX_VISITS {
                return Err(SourceError::at(
                    rule.span,
                    format!("the chains' jumps visit more than {MAX_VISITS} rules"),
                )
                .with_help("a chain jumped to many times from chains themselves jumped to many times multiplies the rules"));
            }
            // Reported once per line, when the line is reached from FORWARD.
            if self.reported.insert(rule.span.start) {
                self.out
                    .unsupported
                    .extend(rule.unsupported.iter().cloned());
            }
            let mut m = outer.and(&rule.m);
            if m.uncertain.is_none() {
                m.uncertain = returned;
            }
            without_returned(&mut m, &returned_src, &returned_dst);
            match &rule.target {
                Target::Continue => {}
                Target::Action(a) | Target::Unknown(a) => self.push(&m, *a, rule.span)?,
                Target::Return => {
                    let unconditional = rule_is_unconditional(&rule.m);
                    match fall {
                        // Returning from FORWARD, or from a chain entered by `-g`, is the
                        // policy (unconditionally: the default or the goto's own rule).
                        Fall::Builtin | Fall::Policy => {
                            if let Some(p) = self.policy.clone().filter(|_| !unconditional) {
                                self.push(&m, p.value, rule.span)?;
                            }
                        }
                        Fall::Continue => {
                            if let Some((side, nets)) = one_side_only(&rule.m)
                                .filter(|_| !unconditional && returned.is_none() && !m.never)
                            {
                                let list = if side {
                                    &mut returned_src
                                } else {
                                    &mut returned_dst
                                };
                                list.extend(nets.iter().cloned());
                            } else if !unconditional && returned.is_none() && !m.never {
                                returned = Some(rule.span);
                                self.out.unsupported.push(Unsupported {
                                    construct: "a conditional `RETURN` in a jumped-to chain".into(),
                                    consequence: "the rules after it in this chain match as unknown: the verdicts they decide are indeterminate".into(),
                                    span: rule.span,
                                });
                            }
                        }
                    }
                    if unconditional && !m.never {
                        break;
                    }
                }
                Target::Jump(t) | Target::Goto(t) if m.never => {
                    self.check_chain(t)?;
                }
                Target::Jump(t) => {
                    self.enter(t, &m, Fall::Continue)?;
                }
                Target::Goto(t) => {
                    let callee = if fall == Fall::Continue {
                        Fall::Continue
                    } else {
                        Fall::Policy
                    };
                    self.enter(t, &m, callee)?;
                    if let Some(p) = self.policy.clone().filter(|_| callee == Fall::Policy) {
                        self.push(&m, p.value, p.span)?;
                    }
                }
            }
        }
        self.stack.pop();
        Ok(())
    }

    fn check_chain(&self, t: &Token) -> Result<(), SourceError> {
        if self.table.chains.contains_key(&t.text) {
            Ok(())
        } else {
            Err(SourceError::at(
                t.span,
                format!("`{}` is no chain of the filter table and no target cmflow knows", t.text),
            )
            .with_help("declare the chain with `:NAME - [0:0]`; terminal targets are ACCEPT, DROP and REJECT"))
        }
    }

    fn enter(&mut self, t: &Token, m: &Match, fall: Fall) -> Result<(), SourceError> {
        self.check_chain(t)?;
        if self.stack.contains(&t.text) {
            return Err(SourceError::at(
                t.span,
                format!(
                    "jump loop: `{}` is reached again from {}",
                    t.text,
                    self.stack.join(" -> ")
                ),
            ));
        }
        if t.text == "FORWARD"
            || self
                .table
                .chains
                .get(&t.text)
                .is_some_and(|c| c.policy.is_some())
        {
            return Err(SourceError::at(
                t.span,
                format!("a jump to the built-in chain `{}`", t.text),
            ));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(SourceError::at(
                t.span,
                format!("chains nest more than {MAX_DEPTH} levels deep"),
            ));
        }
        self.chain(&t.text, m, fall)
    }
}

/// The networks of a match on addresses of one side only (`true`: the source), with
/// no protocol, port or unsupported construct: what a RETURN on it takes out exactly.
fn one_side_only(m: &Match) -> Option<(bool, &Vec<Spanned<IpNet>>)> {
    if m.proto != Proto::Any || m.ports.is_some() || m.uncertain.is_some() || m.never {
        return None;
    }
    match (&m.src, &m.dst) {
        (Some(src), None) => Some((true, src)),
        (None, Some(dst)) => Some((false, dst)),
        _ => None,
    }
}

/// A match less the networks an earlier RETURN of its chain took out, side by side;
/// nothing left on a side: it matches nothing.
fn without_returned(m: &mut Match, src: &[Spanned<IpNet>], dst: &[Spanned<IpNet>]) {
    for (side, out) in [(&mut m.src, src), (&mut m.dst, dst)] {
        if out.is_empty() {
            continue;
        }
        let excluded: Vec<IpNet> = out.iter().map(|n| n.value).collect();
        let nets: Vec<Spanned<IpNet>> = match side.take() {
            Some(list) => list,
            // Any address: both families, pointed at the RETURN.
            None => ["0.0.0.0/0", "::/0"]
                .iter()
                .filter_map(|n| n.parse::<IpNet>().ok())
                .map(|n| Spanned::new(n, out[0].span))
                .collect(),
        };
        let left: Vec<Spanned<IpNet>> = nets
            .iter()
            .flat_map(|n| {
                crate::model::cidr_difference(n.value, &excluded)
                    .into_iter()
                    .map(move |piece| Spanned::new(piece, n.span))
            })
            .collect();
        if left.is_empty() {
            m.never = true;
        }
        *side = Some(left);
    }
}

/// Whether a rule matches every packet (a bare `-j RETURN`).
fn rule_is_unconditional(m: &Match) -> bool {
    m.src.is_none()
        && m.dst.is_none()
        && m.proto == Proto::Any
        && m.ports.is_none()
        && m.uncertain.is_none()
        && !m.never
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::path::Path;

    use super::*;

    fn read_text(text: &str) -> Result<NetworkRules, SourceError> {
        read(&SourceInput {
            id: SourceId(7),
            text,
            path: Path::new("fw.rules"),
            zones: &[],
            attached: None,
        })
    }

    fn join(list: &[Spanned<Endpoint>]) -> String {
        let names: Vec<String> = list.iter().map(|e| e.value.to_string()).collect();
        names.join(",")
    }

    /// `ACTION [name] from -> to proto ports (line N) [?]` per rule.
    fn rules(text: &str) -> Vec<String> {
        let read = read_text(text).unwrap();
        read.rules
            .iter()
            .map(|r| {
                let t = &r.traffic;
                let ports = |l: &Option<Spanned<PortList>>| {
                    l.as_ref().map(|l| {
                        l.value
                            .items
                            .iter()
                            .map(|i| match i {
                                PortItem::Range(a, b) if a == b => a.to_string(),
                                PortItem::Range(a, b) => format!("{a}-{b}"),
                                _ => "?".into(),
                            })
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                };
                let proto = match (ports(&t.tcp), ports(&t.udp), t.icmp) {
                    (Some(p), _, _) => format!("tcp {p}"),
                    (_, Some(p), _) => format!("udp {p}"),
                    (_, _, true) => "icmp".into(),
                    _ => "all".into(),
                };
                let line = text[..r.span.start].matches('\n').count() + 1;
                format!(
                    "{:?}{} {} -> {} {proto} (line {line}){}",
                    r.action,
                    r.name
                        .as_ref()
                        .map(|n| format!(" \"{}\"", n.value))
                        .unwrap_or_default(),
                    join(&t.from),
                    join(&t.to),
                    if r.uncertain.is_some() { " ?" } else { "" }
                )
            })
            .collect()
    }

    fn error(text: &str) -> (String, Option<String>) {
        let e = read_text(text).unwrap_err();
        (e.message, e.span.map(|s| text[s.start..s.end].to_owned()))
    }

    const SAVED: &str = r#"# Generated by iptables-save v1.8.9
*nat
:PREROUTING ACCEPT [0:0]
-A PREROUTING -j DNAT --to-destination 10.0.0.1
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [12:345]
:OUTPUT ACCEPT [0:0]
:to-dc - [0:0]
:web - [0:0]
-A INPUT -j DROP
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -j LOG --log-prefix "fwd: "
-A FORWARD -s 10.1.0.0/16 -d 10.2.0.10/32 -p tcp -m multiport --dports 80,443,8530:8531 -m comment --comment "HQ to \"MP\"" -m conntrack --ctstate NEW -j ACCEPT
-A FORWARD -d 10.2.0.0/255.255.0.0 -j to-dc
-A FORWARD -p udp --dport 53 -g web
-A FORWARD -p 6 --dport 22 -j REJECT --reject-with icmp-port-unreachable
-A FORWARD -p icmp --icmp-type echo-request -j ACCEPT
-A FORWARD -p icmp --icmp-type 0 -j ACCEPT
-A FORWARD -p gre -j ACCEPT
-A to-dc -p tcp --dport 445 -j DROP
-A to-dc -s 10.1.0.0/16 -p tcp --dport 135 -j ACCEPT
-A to-dc -s 10.9.0.0/16 -p udp -j RETURN
-A to-dc -p tcp --dport 22:25 -j ACCEPT
-A web -s 10.3.0.0/16 -j ACCEPT
COMMIT
"#;

    #[test]
    fn forward_and_the_chains_it_reaches_flatten_in_order() {
        assert_eq!(
            rules(SAVED),
            [
                "Allow \"HQ to \"MP\"\" cidr:10.1.0.0/16 -> cidr:10.2.0.10/32 tcp 80,443,8530-8531 (line 15)",
                "Deny any -> cidr:10.2.0.0/16 tcp 445 (line 22)",
                "Allow cidr:10.1.0.0/16 -> cidr:10.2.0.0/16 tcp 135 (line 23)",
                // After the conditional RETURN the later rules of the chain are unknown.
                "Allow any -> cidr:10.2.0.0/16 tcp 22-25 (line 25) ?",
                "Allow cidr:10.3.0.0/16 -> any udp 53 (line 26)",
                // Falling off a chain entered by -g: the policy, at the policy line.
                "Deny any -> any udp 53 (line 8)",
                "Deny any -> any tcp 22 (line 18)",
                "Allow any -> any icmp (line 19)",
            ]
        );
        let read = read_text(SAVED).unwrap();
        let default = read.default.unwrap();
        assert_eq!(default.value, Action::Deny);
        assert_eq!(&SAVED[default.span.start..default.span.end], "DROP");
        assert_eq!(read.unsupported.len(), 1);
        assert_eq!(
            &SAVED[read.unsupported[0].span.start..read.unsupported[0].span.end],
            "-A to-dc -s 10.9.0.0/16 -p udp -j RETURN"
        );
    }

    /// A RETURN on one side's addresses only (Aerleon's rendering of `*-exclude`) is
    /// exact: the later rules of the chain lose those networks.
    #[test]
    fn a_return_on_addresses_takes_them_out_of_the_later_rules() {
        let text = "*filter\n:FORWARD DROP [0:0]\n:c - [0:0]\n-A FORWARD -j c\n-A c -d 10.1.0.20/32 -j RETURN\n-A c -s 10.20.5.10/32 -d 10.1.0.0/24 -p tcp --dport 135 -j ACCEPT\n-A c -s 10.1.0.0/16 -j RETURN\n-A c -s 10.1.0.0/24 -j DROP\n-A c -p udp -j ACCEPT\nCOMMIT\n";
        let read = read_text(text).unwrap();
        assert!(read.unsupported.is_empty(), "{:?}", read.unsupported);
        assert_eq!(
            rules(text),
            [
                "Allow cidr:10.20.5.10/32 -> cidr:10.1.0.0/28,cidr:10.1.0.16/30,cidr:10.1.0.21/32,cidr:10.1.0.22/31,cidr:10.1.0.24/29,cidr:10.1.0.32/27,cidr:10.1.0.64/26,cidr:10.1.0.128/25 tcp 135 (line 6)",
                // Line 8 is inside the returned source range: it matches nothing.
                // Any source less 10.1.0.0/16, any destination less 10.1.0.20.
                "Allow cidr:0.0.0.0/5,cidr:8.0.0.0/7,cidr:10.0.0.0/16,cidr:10.2.0.0/15,cidr:10.4.0.0/14,cidr:10.8.0.0/13,cidr:10.16.0.0/12,cidr:10.32.0.0/11,cidr:10.64.0.0/10,cidr:10.128.0.0/9,cidr:11.0.0.0/8,cidr:12.0.0.0/6,cidr:16.0.0.0/4,cidr:32.0.0.0/3,cidr:64.0.0.0/2,cidr:128.0.0.0/1,cidr:::/0 -> cidr:0.0.0.0/5,cidr:8.0.0.0/7,cidr:10.0.0.0/16,cidr:10.1.0.0/28,cidr:10.1.0.16/30,cidr:10.1.0.21/32,cidr:10.1.0.22/31,cidr:10.1.0.24/29,cidr:10.1.0.32/27,cidr:10.1.0.64/26,cidr:10.1.0.128/25,cidr:10.1.1.0/24,cidr:10.1.2.0/23,cidr:10.1.4.0/22,cidr:10.1.8.0/21,cidr:10.1.16.0/20,cidr:10.1.32.0/19,cidr:10.1.64.0/18,cidr:10.1.128.0/17,cidr:10.2.0.0/15,cidr:10.4.0.0/14,cidr:10.8.0.0/13,cidr:10.16.0.0/12,cidr:10.32.0.0/11,cidr:10.64.0.0/10,cidr:10.128.0.0/9,cidr:11.0.0.0/8,cidr:12.0.0.0/6,cidr:16.0.0.0/4,cidr:32.0.0.0/3,cidr:64.0.0.0/2,cidr:128.0.0.0/1,cidr:::/0 udp 1-65535 (line 9)",
            ]
        );
    }

    #[test]
    fn returns_from_forward_and_unconditional_returns_are_exact() {
        let text = "*filter\n:FORWARD ACCEPT [0:0]\n:c - [0:0]\n-A FORWARD -s 10.0.0.0/8 -j RETURN\n-A FORWARD -j c\n-A FORWARD -j DROP\n-A c -j RETURN\n-A c -j DROP\nCOMMIT\n";
        assert_eq!(
            rules(text),
            [
                "Allow cidr:10.0.0.0/8 -> any all (line 4)",
                "Deny any -> any all (line 6)",
            ]
        );
    }

    #[test]
    fn interfaces_negations_and_unknown_matches_are_unsupported() {
        let text = "*filter\n:FORWARD DROP [0:0]\n[5:60] -A FORWARD -i eth1 -p tcp --dport 443 -j ACCEPT\n-A FORWARD ! -s 10.0.0.0/8 -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT\n-A FORWARD -p tcp --sport 1024:50000 -j ACCEPT\n-A FORWARD -p tcp --sport 1:1023 -j ACCEPT\n-A FORWARD -p tcp --sport 1024:65535 --dport 80 -j ACCEPT\nCOMMIT\n";
        assert_eq!(
            rules(text),
            [
                "Allow any -> any tcp 443 (line 3) ?",
                "Allow any -> any all (line 4) ?",
                "Allow any -> any tcp 1-65535 (line 5) ?",
                "Allow any -> any tcp 80 (line 7)",
            ]
        );
        let read = read_text(text).unwrap();
        let found: Vec<(String, &str)> = read
            .unsupported
            .iter()
            .map(|u| (u.construct.clone(), &text[u.span.start..u.span.end]))
            .collect();
        assert_eq!(
            found,
            [
                ("interface match `-i eth1`".to_owned(), "-i eth1"),
                (
                    "negated address `! -s 10.0.0.0/8`".to_owned(),
                    "! -s 10.0.0.0/8"
                ),
                ("match module `-m mac`".to_owned(), "-m mac"),
                (
                    "match `--mac-source 00:11:22:33:44:55`".to_owned(),
                    "--mac-source 00:11:22:33:44:55"
                ),
                ("source ports `1024:50000`".to_owned(), "1024:50000"),
            ]
        );
    }

    #[test]
    fn iprange_becomes_the_networks_that_cover_it_and_conjoins_with_jumps() {
        let text = "*filter\n:FORWARD DROP [0:0]\n:c - [0:0]\n-A FORWARD -m iprange --src-range 10.0.0.5-10.0.0.8 -j c\n-A FORWARD -p tcp --syn -m tcp --dport 80 -s 10.9.0.0/16 -j c\n-A c -s 10.0.0.6/31 -j ACCEPT\n-A c -s 10.0.0.0/8 -p tcp -m tcp --dport 80:90 -j DROP\nCOMMIT\n";
        assert_eq!(
            rules(text),
            [
                "Allow cidr:10.0.0.6/31 -> any all (line 6)",
                "Deny cidr:10.0.0.5/32,cidr:10.0.0.6/31,cidr:10.0.0.8/32 -> any tcp 80-90 (line 7)",
                "Deny cidr:10.9.0.0/16 -> any tcp 80 (line 7)",
            ]
        );
        assert!(read_text(text).unwrap().unsupported.is_empty());
    }

    #[test]
    fn ip6tables_save_output_reads_the_same() {
        let text = "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -s fd00:1::/64 -d fd00:2::10/128 -p ipv6-icmp -m icmp6 --icmpv6-type echo-request -j ACCEPT\n-A FORWARD -d fd00:2::/64 -p udp -m udp --dport 67:68 -j ACCEPT\nCOMMIT\n";
        assert_eq!(
            rules(text),
            [
                "Allow cidr:fd00:1::/64 -> cidr:fd00:2::10/128 icmp (line 3)",
                "Allow any -> cidr:fd00:2::/64 udp 67-68 (line 4)",
            ]
        );
    }

    #[test]
    fn malformed_files_are_errors_with_spans() {
        let head = "*filter\n:FORWARD DROP [0:0]\n:a - [0:0]\n:b - [0:0]\n";
        let cases = [
            (
                "-A FORWARD -j nowhere\nCOMMIT\n",
                "`nowhere` is no chain of the filter table and no target cmflow knows",
                "nowhere",
            ),
            (
                "-A a -j b\n-A b -j a\n-A FORWARD -j a\nCOMMIT\n",
                "jump loop: `a` is reached again from FORWARD -> a -> b",
                "a",
            ),
            (
                "-A FORWARD -s 10.0.0.300 -j ACCEPT\nCOMMIT\n",
                "`10.0.0.300` is not an address or network",
                "10.0.0.300",
            ),
            (
                "-A FORWARD -p tcp --dport 90:80 -j ACCEPT\nCOMMIT\n",
                "`90:80` is not a port or port range",
                "90:80",
            ),
            (
                "-A FORWARD -m comment --comment \"open\nCOMMIT\n",
                "unterminated quoted string",
                "\"open",
            ),
            (
                "-A nochain -j ACCEPT\nCOMMIT\n",
                "chain `nochain` is not declared",
                "nochain",
            ),
            (
                "-I FORWARD -j ACCEPT\nCOMMIT\n",
                "expected a rule (`-A CHAIN ...`)",
                "-I FORWARD -j ACCEPT",
            ),
            (
                "-A FORWARD -j ACCEPT\n",
                "table `filter` is not closed by COMMIT",
                "*filter",
            ),
            ("-A FORWARD -s\nCOMMIT\n", "`-s` needs a value", "-s"),
            (
                "-A FORWARD stray -j ACCEPT\nCOMMIT\n",
                "unexpected `stray`",
                "stray",
            ),
        ];
        for (rest, message, at) in cases {
            let text = format!("{head}{rest}");
            assert_eq!(
                error(&text),
                (message.to_owned(), Some(at.to_owned())),
                "{rest}"
            );
        }
        assert_eq!(
            error(":FORWARD DROP [0:0]\n"),
            (
                "a line outside any table".into(),
                Some(":FORWARD DROP [0:0]".into())
            )
        );
        assert_eq!(error("*nat\nCOMMIT\n"), ("no `*filter` table".into(), None));
        // Ten chains, each jumping ten times to the next: 10^10 visits, refused.
        let mut text = String::from("*filter\n:FORWARD DROP [0:0]\n");
        for c in 0..10 {
            _ = writeln!(text, ":c{c} - [0:0]");
        }
        text.push_str("-A FORWARD -j c0\n");
        for c in 0..9 {
            for _ in 0..10 {
                _ = writeln!(text, "-A c{c} -j c{}", c + 1);
            }
        }
        text.push_str("-A c9 -j LOG\nCOMMIT\n");
        assert_eq!(
            error(&text).0,
            "the chains' jumps visit more than 2000000 rules"
        );
        assert_eq!(
            error("*filter\n:FORWARD BLOCK [0:0]\nCOMMIT\n"),
            ("`BLOCK` is not a chain policy".into(), Some("BLOCK".into()))
        );
    }

    use proptest::prelude::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// Any mix of iptables-save words, quotes and stray bytes reads to rules or an
        /// error, never a panic, and every span lies inside the text.
        #[test]
        fn hostile_files_never_panic(words in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::sample::select(vec![
                    "*filter", "*nat", "COMMIT", ":FORWARD DROP [0:0]", ":c - [0:0]", "-A", "FORWARD",
                    "c", "-j", "-g", "RETURN", "ACCEPT", "DROP", "!", "-s", "-d", "10.0.0.0/8",
                    "::/0", "-p", "tcp", "--dport", "1:65535", "0", "-m", "multiport", "--dports",
                    "80,443", "--comment", "\"", "\\", "\n", "--ctstate", "NEW", "-i", "eth0",
                    "--src-range", "10.0.0.1-10.0.0.9", "--sport", "é", "[1:2]", "#",
                ]).prop_map(str::to_owned),
                "[ -~é\n\r\"]{0,6}",
            ],
            0..60,
        )) {
            // After a valid header, so that rule lines are parsed too.
            let text = format!(
                "*filter\n:FORWARD DROP [0:0]\n:c - [0:0]\n-A FORWARD -j c\n-A {}",
                words.join(" ").replace(" \n ", "\n-A ")
            );
            match read_text(&text) {
                Ok(read) => {
                    for r in &read.rules {
                        proptest::prop_assert!(r.span.end <= text.len());
                    }
                }
                Err(e) => {
                    if let Some(span) = e.span {
                        proptest::prop_assert!(span.start <= span.end && span.end <= text.len());
                        proptest::prop_assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
                    }
                }
            }
        }
    }
}
