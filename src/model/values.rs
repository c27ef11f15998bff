//! Small value types written inside strings: endpoint lists, port lists, protocols. Each
//! parser reports the byte offset and length of the offending part, so the loader can
//! point into the string.

use std::fmt;

use ipnet::IpNet;

/// A parse error inside a string value: `offset`/`len` in bytes within the string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

impl ValueError {
    fn new(offset: usize, len: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            len,
            message: message.into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One item of an endpoint list (`language.md` § Firewalls).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Any,
    Zone(String),
    Host(String),
    Site(String),
    Role { role: String, site: Option<String> },
    Clients(String),
    Cidr(IpNet),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Any => f.write_str("any"),
            Endpoint::Zone(z) => write!(f, "zone:{z}"),
            Endpoint::Host(h) => write!(f, "host:{h}"),
            Endpoint::Site(s) => write!(f, "site:{s}"),
            Endpoint::Role { role, site: None } => write!(f, "role:{role}"),
            Endpoint::Role {
                role,
                site: Some(s),
            } => write!(f, "role:{role}@{s}"),
            Endpoint::Clients(c) => write!(f, "clients:{c}"),
            Endpoint::Cidr(n) => write!(f, "cidr:{n}"),
        }
    }
}

/// Splits a comma-separated list into trimmed items with their byte offsets.
fn items(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    s.split(',').map(move |raw| {
        let start = offset + (raw.len() - raw.trim_start().len());
        offset += raw.len() + 1;
        (start, raw.trim())
    })
}

impl Endpoint {
    /// Parses `any`, `zone:NAME`, `host:NAME`, `site:CODE`, `role:ROLE[@CODE]`,
    /// `clients:GROUP`, `cidr:A.B.C.D/N`. Role names are checked by the loader.
    pub fn parse_list(s: &str) -> Result<Vec<(Endpoint, usize, usize)>, ValueError> {
        let mut out = Vec::new();
        for (offset, item) in items(s) {
            if item.is_empty() {
                return Err(ValueError::new(offset, 0, "empty endpoint in the list"));
            }
            let endpoint = if item == "any" {
                Endpoint::Any
            } else {
                let Some((kind, name)) = item.split_once(':') else {
                    return Err(ValueError::new(
                        offset,
                        item.len(),
                        format!(
                            "`{item}` is not an endpoint: expected `any` or KIND:NAME with KIND one of zone, host, site, role, clients, cidr"
                        ),
                    ));
                };
                let name_offset = offset + kind.len() + 1;
                if name.is_empty() {
                    return Err(ValueError::new(
                        offset,
                        item.len(),
                        format!("`{kind}:` needs a name"),
                    ));
                }
                match kind {
                    "zone" => Endpoint::Zone(name.into()),
                    "host" => Endpoint::Host(name.into()),
                    "site" => Endpoint::Site(name.into()),
                    "clients" => Endpoint::Clients(name.into()),
                    "role" => match name.split_once('@') {
                        Some((role, site)) if !role.is_empty() && !site.is_empty() => {
                            Endpoint::Role {
                                role: role.into(),
                                site: Some(site.into()),
                            }
                        }
                        Some(_) => {
                            return Err(ValueError::new(
                                name_offset,
                                name.len(),
                                "expected role:ROLE@SITE",
                            ));
                        }
                        None => Endpoint::Role {
                            role: name.into(),
                            site: None,
                        },
                    },
                    "cidr" => match name.parse::<IpNet>() {
                        Ok(net) => Endpoint::Cidr(net),
                        Err(_) => {
                            return Err(ValueError::new(
                                name_offset,
                                name.len(),
                                format!("`{name}` is not a CIDR such as 10.0.0.0/24"),
                            ));
                        }
                    },
                    other => {
                        return Err(ValueError::new(
                            offset,
                            other.len(),
                            format!(
                                "unknown endpoint kind `{other}`: expected zone, host, site, role, clients or cidr"
                            ),
                        ));
                    }
                }
            };
            out.push((endpoint, offset, item.len()));
        }
        Ok(out)
    }
}

/// One item of a port list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortItem {
    /// An inclusive range; a single port is `Range(p, p)`.
    Range(u16, u16),
    /// The destination host's `rpc-ports` range.
    Rpc,
    /// TCP 135 (Windows Firewall's `RPCEPMap`).
    RpcEpmap,
}

/// A port list such as `80,443,8530-8531,rpc`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PortList {
    pub items: Vec<PortItem>,
}

impl PortList {
    /// Parses a port list. `rpc-epmap` is accepted only where `allow_epmap` (host firewalls).
    pub fn parse(s: &str, allow_epmap: bool) -> Result<Self, ValueError> {
        let mut list = Vec::new();
        for (offset, item) in items(s) {
            let parsed = match item {
                "" => return Err(ValueError::new(offset, 0, "empty port in the list")),
                "rpc" => PortItem::Rpc,
                "rpc-epmap" if allow_epmap => PortItem::RpcEpmap,
                _ => {
                    let (a, b) = item.split_once('-').unwrap_or((item, item));
                    let start = parse_port(a.trim(), offset, item.len())?;
                    let end = parse_port(b.trim(), offset, item.len())?;
                    if start > end {
                        return Err(ValueError::new(
                            offset,
                            item.len(),
                            format!("range {start}-{end} starts after it ends"),
                        ));
                    }
                    PortItem::Range(start, end)
                }
            };
            list.push(parsed);
        }
        Ok(Self { items: list })
    }
}

impl fmt::Display for PortList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match item {
                PortItem::Range(a, b) if a == b => write!(f, "{a}")?,
                PortItem::Range(a, b) => write!(f, "{a}-{b}")?,
                PortItem::Rpc => f.write_str("rpc")?,
                PortItem::RpcEpmap => f.write_str("rpc-epmap")?,
            }
        }
        Ok(())
    }
}

fn parse_port(s: &str, offset: usize, len: usize) -> Result<u16, ValueError> {
    match s.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(u16::try_from(p).unwrap_or(u16::MAX)),
        Ok(p) => Err(ValueError::new(
            offset,
            len,
            format!("port {p} is outside 1-65535"),
        )),
        Err(_) => Err(ValueError::new(
            offset,
            len,
            format!("`{s}` is not a port, a range or `rpc`"),
        )),
    }
}

/// Parses `START-END` (a port range).
pub fn parse_port_range(s: &str) -> Result<(u16, u16), ValueError> {
    let Some((a, b)) = s.split_once('-') else {
        return Err(ValueError::new(
            0,
            s.len(),
            format!("`{s}` is not a range START-END"),
        ));
    };
    let start = parse_port(a.trim(), 0, a.len())?;
    let end = parse_port(b.trim(), a.len() + 1, b.len())?;
    if start > end {
        return Err(ValueError::new(
            0,
            s.len(),
            format!("range {start}-{end} starts after it ends"),
        ));
    }
    Ok((start, end))
}

/// Checks a host name: labels of letters, digits and `-`, separated by dots.
pub fn check_fqdn(s: &str) -> Result<(), ValueError> {
    if s.is_empty() || s.len() > 253 {
        return Err(ValueError::new(
            0,
            s.len(),
            "a host name has 1 to 253 characters",
        ));
    }
    let mut offset = 0;
    for label in s.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(ValueError::new(
                offset,
                label.len(),
                format!("`{label}` is not a valid host name label (letters, digits and inner `-`)"),
            ));
        }
        offset += label.len() + 1;
    }
    Ok(())
}

/// A boundary's address space: a subnet or prefix, or an inclusive address range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoundaryRange {
    Net(IpNet),
    Range(std::net::IpAddr, std::net::IpAddr),
}

impl BoundaryRange {
    /// The first and last address, as integers of one family (IPv4 mapped into IPv6 so
    /// that both compare; an IPv4 and an IPv6 range never overlap).
    pub fn bounds(self) -> (u128, u128, bool) {
        fn num(a: std::net::IpAddr) -> u128 {
            match a {
                std::net::IpAddr::V4(v) => u128::from(u32::from(v)),
                std::net::IpAddr::V6(v) => u128::from(v),
            }
        }
        match self {
            BoundaryRange::Net(n) => (num(n.network()), num(n.broadcast()), n.addr().is_ipv4()),
            BoundaryRange::Range(a, b) => (num(a), num(b), a.is_ipv4()),
        }
    }

    /// Whether two address spaces share an address.
    pub fn overlaps(self, other: BoundaryRange) -> bool {
        let (a1, b1, v4a) = self.bounds();
        let (a2, b2, v4b) = other.bounds();
        v4a == v4b && a1 <= b2 && a2 <= b1
    }
}

impl fmt::Display for BoundaryRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoundaryRange::Net(n) => write!(f, "{n}"),
            BoundaryRange::Range(a, b) => write!(f, "{a}-{b}"),
        }
    }
}

/// Parses a boundary: `10.1.0.0/16`, `2001:db8::/48` or `10.1.0.1-10.1.0.254`.
pub fn parse_boundary(s: &str) -> Result<BoundaryRange, ValueError> {
    if let Some((a, b)) = s.split_once('-') {
        let parse = |t: &str, offset: usize| {
            t.trim().parse::<std::net::IpAddr>().map_err(|_| {
                ValueError::new(
                    offset,
                    t.len(),
                    format!("`{}` is not an IP address", t.trim()),
                )
            })
        };
        let start = parse(a, 0)?;
        let end = parse(b, a.len() + 1)?;
        let range = BoundaryRange::Range(start, end);
        let (lo, hi, _) = range.bounds();
        if start.is_ipv4() != end.is_ipv4() || lo > hi {
            return Err(ValueError::new(
                0,
                s.len(),
                format!("`{s}` is not a range from a lower to a higher address of one family"),
            ));
        }
        return Ok(range);
    }
    match s.parse::<IpNet>() {
        Ok(net) if net.trunc() == net => Ok(BoundaryRange::Net(net)),
        Ok(net) => Err(ValueError::new(
            0,
            s.len(),
            format!("`{s}` has host bits set (did you mean {}?)", net.trunc()),
        )),
        Err(_) => Err(ValueError::new(
            0,
            s.len(),
            format!(
                "`{s}` is not a subnet, prefix or range such as 10.1.0.0/16 or 10.1.0.1-10.1.0.254"
            ),
        )),
    }
}

/// Parses comma-separated CIDRs (`10.1.10.0/24,10.1.11.0/24`).
pub fn parse_cidr_list(s: &str) -> Result<Vec<IpNet>, ValueError> {
    let mut out = Vec::new();
    for (offset, item) in items(s) {
        match item.parse::<IpNet>() {
            Ok(net) if net.trunc() == net => out.push(net),
            Ok(net) => {
                return Err(ValueError::new(
                    offset,
                    item.len(),
                    format!("`{item}` has host bits set (did you mean {}?)", net.trunc()),
                ));
            }
            Err(_) => {
                return Err(ValueError::new(
                    offset,
                    item.len(),
                    format!("`{item}` is not a CIDR such as 10.1.10.0/24"),
                ));
            }
        }
    }
    Ok(out)
}

/// Parses comma-separated names, with each one's byte offset and length.
pub fn parse_names(s: &str) -> Result<Vec<(String, usize, usize)>, ValueError> {
    let mut out = Vec::new();
    for (offset, item) in items(s) {
        if item.is_empty() {
            return Err(ValueError::new(offset, 0, "empty name in the list"));
        }
        out.push((item.to_owned(), offset, item.len()));
    }
    Ok(out)
}

/// `net` less every excluded CIDR, as CIDRs (exact): halves are split off until each
/// piece is inside or outside the exclusions, since two CIDRs either nest or are
/// disjoint. Aerleon's `*-exclude` and the export of the Internet use it.
pub fn cidr_difference(net: IpNet, excluded: &[IpNet]) -> Vec<IpNet> {
    fn minus(p: IpNet, e: IpNet) -> Vec<IpNet> {
        if e.contains(&p) {
            return Vec::new();
        }
        if !p.contains(&e) {
            return vec![p];
        }
        match p.subnets(p.prefix_len() + 1) {
            Ok(halves) => halves.flat_map(|h| minus(h, e)).collect(),
            Err(_) => vec![p],
        }
    }
    let mut pieces = vec![net];
    for e in excluded {
        pieces = pieces.into_iter().flat_map(|p| minus(p, *e)).collect();
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_lists_parse_with_offsets() {
        let l = Endpoint::parse_list("zone:hq, role:management-point@P01,any").unwrap();
        assert_eq!(l[0], (Endpoint::Zone("hq".into()), 0, 7));
        assert_eq!(
            l[1],
            (
                Endpoint::Role {
                    role: "management-point".into(),
                    site: Some("P01".into())
                },
                9,
                25
            )
        );
        assert_eq!(l[2].0, Endpoint::Any);
        let err = Endpoint::parse_list("zone:hq,cidr:10.0.0.0/33").unwrap_err();
        assert_eq!((err.offset, err.len), (13, 11));
        let err = Endpoint::parse_list("zone:hq,group:x").unwrap_err();
        assert_eq!((err.offset, err.len), (8, 5));
    }

    #[test]
    fn port_lists_parse_ranges_and_rpc() {
        let p = PortList::parse("80, 443,8530-8531,rpc", false).unwrap();
        assert_eq!(
            p.items,
            vec![
                PortItem::Range(80, 80),
                PortItem::Range(443, 443),
                PortItem::Range(8530, 8531),
                PortItem::Rpc
            ]
        );
        assert_eq!(p.to_string(), "80,443,8530-8531,rpc");
        let e = PortList::parse("80,70000", false).unwrap_err();
        assert_eq!((e.offset, e.len), (3, 5));
        assert!(PortList::parse("90-80", false).is_err());
        assert!(PortList::parse("rpc-epmap", false).is_err());
        assert!(PortList::parse("rpc-epmap", true).is_ok());
    }

    #[test]
    fn fqdn_labels_are_checked() {
        assert!(check_fqdn("cm01.contoso.com").is_ok());
        let e = check_fqdn("cm01..com").unwrap_err();
        assert_eq!(e.offset, 5);
        assert!(check_fqdn("cm_01.contoso.com").is_err());
    }

    #[test]
    fn boundaries_parse_and_overlap() {
        let a = parse_boundary("10.1.0.0/16").unwrap();
        let b = parse_boundary("10.1.5.1-10.1.5.9").unwrap();
        let c = parse_boundary("10.2.0.0/16").unwrap();
        assert!(a.overlaps(b) && b.overlaps(a));
        assert!(!a.overlaps(c));
        assert!(parse_boundary("10.1.0.9-10.1.0.1").is_err());
        assert!(parse_boundary("10.1.0.1/16").is_err());
        assert!(parse_boundary("2001:db8::/48").is_ok());
        assert_eq!(
            parse_cidr_list("10.0.0.0/24, 10.0.1.0/24").unwrap().len(),
            2
        );
        let e = parse_cidr_list("10.0.0.0/24,nope").unwrap_err();
        assert_eq!((e.offset, e.len), (12, 4));
    }

    #[test]
    fn port_ranges() {
        assert_eq!(parse_port_range("49152-65535"), Ok((49152, 65535)));
        assert!(parse_port_range("5000").is_err());
        assert!(parse_port_range("6000-5000").is_err());
    }
}
