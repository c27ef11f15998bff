//! Aerleon's naming definitions: the networks and services of a `def/` folder, from the
//! classic `.net`/`.svc` files and from YAML (`networks:`/`services:`), with the span of
//! every value so that a name that resolves to nothing, or a loop between names, is
//! reported where it is written. Resolution follows Aerleon's naming library: a value
//! that looks like a token (`[-_A-Za-z0-9]+`) names another definition, anything else is
//! an address (`10.0.0.0/8`, host bits allowed, a bare address being a host) or a port
//! (`80/tcp`, `1024-65535/udp`).

use std::collections::HashMap;

use ipnet::IpNet;

use super::yaml::{self, Node};
use crate::load::sources::SourceError;
use crate::model::{SourceId, Span};

/// One value of a definition.
#[derive(Clone, Debug)]
enum Item<T> {
    Value(T),
    Name(String),
}

#[derive(Clone, Debug)]
struct Def<T> {
    items: Vec<(Item<T>, Span)>,
}

/// A service's port range with its protocol, as written (`tcp`, `udp`, `6`...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub protocol: String,
    pub range: (u16, u16),
}

/// Every network and service of one `def/` folder.
#[derive(Debug, Default)]
pub struct Defs {
    networks: HashMap<String, Def<IpNet>>,
    services: HashMap<String, Def<Port>>,
}

/// Aerleon's token: a name rather than a value.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An address as Aerleon's `nacaddr.IP(value, strict=False)` reads it: host bits are
/// cleared, a bare address is a host.
pub fn parse_address(s: &str) -> Option<IpNet> {
    if let Ok(net) = s.parse::<IpNet>() {
        return Some(net.trunc());
    }
    s.parse::<std::net::IpAddr>().ok().map(IpNet::from)
}

/// `80`, `1024-65535`.
pub fn parse_range(s: &str) -> Option<(u16, u16)> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u16 = a.trim().parse().ok()?;
    let b: u16 = b.trim().parse().ok()?;
    (a <= b).then_some((a, b))
}

impl Defs {
    /// Reads one definitions file, by its extension (`.net`, `.svc`, `.yaml`/`.yml`).
    pub fn add_file(&mut self, id: SourceId, ext: &str, text: &str) -> Result<(), SourceError> {
        match ext {
            "net" => self.add_classic(id, text, false),
            "svc" => self.add_classic(id, text, true),
            _ => self.add_yaml(id, text),
        }
    }

    /// `NAME = value value  # comment`, continued on the following lines without `=`.
    fn add_classic(&mut self, id: SourceId, text: &str, services: bool) -> Result<(), SourceError> {
        let mut current: Option<String> = None;
        let mut offset = 0;
        for raw in text.split_inclusive('\n') {
            let line_start = offset;
            offset += raw.len();
            let code = raw.split('#').next().unwrap_or("");
            if code.trim().is_empty() {
                continue;
            }
            let (values, values_at) = match code.find('=') {
                Some(eq) => {
                    let name = &code[..eq];
                    let name_at = line_start + (name.len() - name.trim_start().len());
                    let name = name.trim();
                    let span = Span::new(id, name_at, name_at + name.len());
                    self.define(name, span, services)?;
                    current = Some(name.to_owned());
                    (&code[eq + 1..], line_start + eq + 1)
                }
                None => (code, line_start),
            };
            let Some(symbol) = &current else {
                return Err(SourceError::at(
                    Span::new(id, line_start, line_start + code.trim_end().len()),
                    "a value before any `NAME =` definition",
                ));
            };
            for (word_at, word) in words(values) {
                let span = Span::new(id, values_at + word_at, values_at + word_at + word.len());
                let item = if services {
                    Self::service_word(word, span)?
                } else {
                    Self::network_word(word, span)?
                };
                self.push(symbol, item, span, services);
            }
        }
        Ok(())
    }

    fn network_word(word: &str, span: Span) -> Result<NetOrPort, SourceError> {
        if is_token(word) {
            return Ok(NetOrPort::Name(word.to_owned()));
        }
        parse_address(word).map(NetOrPort::Net).ok_or_else(|| {
            SourceError::at(
                span,
                format!("`{word}` is neither an address nor a network name"),
            )
        })
    }

    fn service_word(word: &str, span: Span) -> Result<NetOrPort, SourceError> {
        if let Some((port, protocol)) = word.split_once('/') {
            if let Some(range) = parse_range(port)
                && is_token(protocol)
            {
                return Ok(NetOrPort::Port(Port {
                    protocol: protocol.to_ascii_lowercase(),
                    range,
                }));
            }
        } else if is_token(word) {
            return Ok(NetOrPort::Name(word.to_owned()));
        }
        Err(SourceError::at(
            span,
            format!("`{word}` is neither a port such as 80/tcp nor a service name"),
        ))
    }

    fn define(&mut self, name: &str, span: Span, services: bool) -> Result<(), SourceError> {
        let taken = if services {
            self.services.contains_key(name)
        } else {
            self.networks.contains_key(name)
        };
        if taken {
            return Err(SourceError::at(
                span,
                format!(
                    "{} `{name}` is defined twice",
                    if services { "service" } else { "network" }
                ),
            )
            .with_help("Aerleon refuses a name defined in two places (NamespaceCollisionError)"));
        }
        if services {
            self.services
                .insert(name.to_owned(), Def { items: Vec::new() });
        } else {
            self.networks
                .insert(name.to_owned(), Def { items: Vec::new() });
        }
        Ok(())
    }

    fn push(&mut self, symbol: &str, item: NetOrPort, span: Span, services: bool) {
        match (item, services) {
            (NetOrPort::Net(n), false) => {
                if let Some(d) = self.networks.get_mut(symbol) {
                    d.items.push((Item::Value(n), span));
                }
            }
            (NetOrPort::Port(p), true) => {
                if let Some(d) = self.services.get_mut(symbol) {
                    d.items.push((Item::Value(p), span));
                }
            }
            (NetOrPort::Name(n), false) => {
                if let Some(d) = self.networks.get_mut(symbol) {
                    d.items.push((Item::Name(n), span));
                }
            }
            (NetOrPort::Name(n), true) => {
                if let Some(d) = self.services.get_mut(symbol) {
                    d.items.push((Item::Name(n), span));
                }
            }
            _ => {}
        }
    }

    fn add_yaml(&mut self, id: SourceId, text: &str) -> Result<(), SourceError> {
        let Some(root) = yaml::parse(id, text)? else {
            return Ok(());
        };
        if let Some(networks) = root.get("networks") {
            let entries = networks.entries().ok_or_else(|| {
                SourceError::at(networks.span(), "`networks` must be a mapping of names")
            })?;
            for (k, v) in entries {
                let name = scalar_name(k)?;
                self.define(&name, k.span(), false)?;
                let values = v.get("values");
                let Some(Node::Seq(items, _)) = values else {
                    return Err(SourceError::at(
                        v.span(),
                        format!("network `{name}` needs a `values` list"),
                    ));
                };
                for item in items {
                    let (value, span, is_name) = match item {
                        Node::Scalar(s) => (s.value.clone(), s.span, true),
                        Node::Map(..) => {
                            if let Some(n) = item.get("name").and_then(Node::as_scalar) {
                                (n.value.clone(), n.span, true)
                            } else if let Some(a) = item.get("address").and_then(Node::as_scalar) {
                                (a.value.clone(), a.span, false)
                            } else if item.get("fqdn").is_some() {
                                // An FQDN value serves DNS-based targets only: no address.
                                continue;
                            } else {
                                return Err(SourceError::at(
                                    item.span(),
                                    format!(
                                        "a value of network `{name}` needs `address` or `name`"
                                    ),
                                ));
                            }
                        }
                        Node::Seq(..) => {
                            return Err(SourceError::at(
                                item.span(),
                                format!("a value of network `{name}` cannot be a list"),
                            ));
                        }
                    };
                    let item = if is_name {
                        NetOrPort::Name(value)
                    } else {
                        NetOrPort::Net(parse_address(value.trim()).ok_or_else(|| {
                            SourceError::at(span, format!("`{value}` is not an address"))
                        })?)
                    };
                    self.push(&name, item, span, false);
                }
            }
        }
        if let Some(services) = root.get("services") {
            let entries = services.entries().ok_or_else(|| {
                SourceError::at(services.span(), "`services` must be a mapping of names")
            })?;
            for (k, v) in entries {
                let name = scalar_name(k)?;
                self.define(&name, k.span(), true)?;
                let Node::Seq(items, _) = v else {
                    return Err(SourceError::at(
                        v.span(),
                        format!("service `{name}` must be a list"),
                    ));
                };
                for item in items {
                    let (entry, span) = match item {
                        Node::Scalar(s) => (NetOrPort::Name(s.value.clone()), s.span),
                        Node::Map(..) => {
                            if let Some(n) = item.get("name").and_then(Node::as_scalar) {
                                (NetOrPort::Name(n.value.clone()), n.span)
                            } else if let (Some(port), Some(protocol)) = (
                                item.get("port").and_then(Node::as_scalar),
                                item.get("protocol").and_then(Node::as_scalar),
                            ) {
                                let range = parse_range(&port.value).ok_or_else(|| {
                                    SourceError::at(
                                        port.span,
                                        format!("`{}` is not a port or a range", port.value),
                                    )
                                })?;
                                (
                                    NetOrPort::Port(Port {
                                        protocol: protocol.value.to_ascii_lowercase(),
                                        range,
                                    }),
                                    port.span,
                                )
                            } else {
                                return Err(SourceError::at(
                                    item.span(),
                                    format!(
                                        "a value of service `{name}` needs `port` and `protocol`, or `name`"
                                    ),
                                ));
                            }
                        }
                        Node::Seq(..) => {
                            return Err(SourceError::at(
                                item.span(),
                                format!("a value of service `{name}` cannot be a list"),
                            ));
                        }
                    };
                    self.push(&name, entry, span, true);
                }
            }
        }
        Ok(())
    }

    /// The addresses of a network name, following its references.
    pub fn network(&self, name: &str, at: Span) -> Result<Vec<IpNet>, SourceError> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        self.network_into(name, at, &mut path, &mut out)?;
        Ok(out)
    }

    fn network_into(
        &self,
        name: &str,
        at: Span,
        path: &mut Vec<String>,
        out: &mut Vec<IpNet>,
    ) -> Result<(), SourceError> {
        let Some(def) = self.networks.get(name) else {
            return Err(SourceError::at(at, format!("no network named `{name}`"))
                .with_help("define it in a `.net` or `.yaml` file of the policy's `def/` folder"));
        };
        if path.iter().any(|p| p == name) {
            return Err(SourceError::at(
                at,
                format!(
                    "network `{name}` refers to itself ({} → {name})",
                    path.join(" → ")
                ),
            ));
        }
        path.push(name.to_owned());
        for (item, span) in &def.items {
            match item {
                Item::Value(net) => out.push(*net),
                Item::Name(n) => self.network_into(n, *span, path, out)?,
            }
        }
        path.pop();
        Ok(())
    }

    /// The ports of a service name, following its references.
    pub fn service(&self, name: &str, at: Span) -> Result<Vec<Port>, SourceError> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        self.service_into(name, at, &mut path, &mut out)?;
        Ok(out)
    }

    fn service_into(
        &self,
        name: &str,
        at: Span,
        path: &mut Vec<String>,
        out: &mut Vec<Port>,
    ) -> Result<(), SourceError> {
        let Some(def) = self.services.get(name) else {
            return Err(SourceError::at(at, format!("no service named `{name}`"))
                .with_help("define it in a `.svc` or `.yaml` file of the policy's `def/` folder"));
        };
        if path.iter().any(|p| p == name) {
            return Err(SourceError::at(
                at,
                format!(
                    "service `{name}` refers to itself ({} → {name})",
                    path.join(" → ")
                ),
            ));
        }
        path.push(name.to_owned());
        for (item, span) in &def.items {
            match item {
                Item::Value(p) => out.push(p.clone()),
                Item::Name(n) => self.service_into(n, *span, path, out)?,
            }
        }
        path.pop();
        Ok(())
    }
}

enum NetOrPort {
    Net(IpNet),
    Port(Port),
    Name(String),
}

fn scalar_name(k: &Node) -> Result<String, SourceError> {
    k.as_scalar()
        .map(|s| s.value.clone())
        .ok_or_else(|| SourceError::at(k.span(), "a definition's name must be a word"))
}

/// Whitespace-separated words with their byte offsets.
pub fn words(s: &str) -> impl Iterator<Item = (usize, &str)> {
    s.split_ascii_whitespace()
        .map(move |w| (w.as_ptr() as usize - s.as_ptr() as usize, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: SourceId = SourceId(7);

    fn at(text: &str, span: Span) -> &str {
        &text[span.start..span.end]
    }

    #[test]
    fn classic_files_with_references_and_continuations() {
        let net = "# networks\nRFC1918 = 10.0.0.0/8  # private\n          172.16.0.0/12\nINTERNAL = RFC1918 192.168.1.7\nLOOP_A = LOOP_B\nLOOP_B = LOOP_A\n";
        let svc = "HTTP = 80/tcp\nWEB = HTTP 8000-8080/tcp\nDNS = 53/tcp 53/udp\n";
        let mut d = Defs::default();
        d.add_file(ID, "net", net).unwrap();
        d.add_file(SourceId(8), "svc", svc).unwrap();
        let nets = d.network("INTERNAL", Span::new(ID, 0, 0)).unwrap();
        let text: Vec<String> = nets.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["10.0.0.0/8", "172.16.0.0/12", "192.168.1.7/32"]);
        let web = d.service("WEB", Span::new(ID, 0, 0)).unwrap();
        assert_eq!(
            web.iter().map(|p| p.range).collect::<Vec<_>>(),
            [(80, 80), (8000, 8080)]
        );
        let dns = d.service("DNS", Span::new(ID, 0, 0)).unwrap();
        assert_eq!(dns[1].protocol, "udp");
        let err = d.network("LOOP_A", Span::new(ID, 0, 0)).unwrap_err();
        assert!(err.message.contains("refers to itself"), "{}", err.message);
        // The loop is reported at the reference that closes it, in the file.
        assert_eq!(at(net, err.span.unwrap()), "LOOP_A");
        let err = d.network("NOPE", Span::new(ID, 3, 7)).unwrap_err();
        assert_eq!(err.message, "no network named `NOPE`");
        assert_eq!(err.span, Some(Span::new(ID, 3, 7)));
    }

    #[test]
    fn classic_errors_point_at_the_word() {
        let net = "A = 10.0.0.0/8\nB = 10.0.0.300\n";
        let err = Defs::default().add_file(ID, "net", net).unwrap_err();
        assert_eq!(at(net, err.span.unwrap()), "10.0.0.300");
        let svc = "A = 80/tcp\nA = 81/tcp\n";
        let err = Defs::default().add_file(ID, "svc", svc).unwrap_err();
        assert_eq!(err.message, "service `A` is defined twice");
        assert_eq!(err.span.unwrap().start, 11);
        let svc = "A = 80:tcp\n";
        let err = Defs::default().add_file(ID, "svc", svc).unwrap_err();
        assert_eq!(at(svc, err.span.unwrap()), "80:tcp");
        let err = Defs::default()
            .add_file(ID, "net", "  10.0.0.0/8\n")
            .unwrap_err();
        assert!(err.message.contains("before any"));
    }

    #[test]
    fn yaml_definitions() {
        let text = "networks:\n  WEB:\n    values:\n      - address: 10.1.0.5\n      - name: DB\n      - fqdn: www.example.com\n  DB:\n    values:\n      - address: 10.2.0.1/24\n        comment: db\nservices:\n  HTTPS:\n    - port: 443\n      protocol: tcp\n  ALL:\n    - name: HTTPS\n    - RANGE\n  RANGE:\n    - port: 1024-2048\n      protocol: UDP\n";
        let mut d = Defs::default();
        d.add_file(ID, "yaml", text).unwrap();
        let nets = d.network("WEB", Span::new(ID, 0, 0)).unwrap();
        assert_eq!(
            nets.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["10.1.0.5/32", "10.2.0.0/24"]
        );
        let all = d.service("ALL", Span::new(ID, 0, 0)).unwrap();
        assert_eq!(
            all,
            [
                Port {
                    protocol: "tcp".into(),
                    range: (443, 443)
                },
                Port {
                    protocol: "udp".into(),
                    range: (1024, 2048)
                }
            ]
        );
        let bad = "services:\n  X:\n    - port: 99999\n      protocol: tcp\n";
        let err = Defs::default().add_file(ID, "yaml", bad).unwrap_err();
        assert_eq!(at(bad, err.span.unwrap()), "99999");
        let bad = "networks:\n  X:\n    - address: 10.0.0.1\n";
        let err = Defs::default().add_file(ID, "yaml", bad).unwrap_err();
        assert_eq!(err.message, "network `X` needs a `values` list");
    }
}
