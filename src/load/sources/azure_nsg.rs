//! `format="azure-nsg-json"`: one Azure network security group, as `az network nsg show`
//! prints it (rule properties flattened), as the resource's JSON (Azure Resource Manager,
//! "Network Security Groups - Get": rule properties under `properties`), or as
//! `Get-AzNetworkSecurityGroup | ConvertTo-Json` writes it (`PascalCase` keys, one-item
//! lists unwrapped); keys are matched in any case.
//!
//! The NSG guards one subnet, the firewall's `attached` zone: its `Inbound` rules become
//! rules guarded by [`RuleGuard::IntoZone`], its `Outbound` rules [`RuleGuard::OutOfZone`],
//! all in ascending priority, then the default rules (the file's `defaultSecurityRules`,
//! or the documented ones). Flows neither into nor out of that zone are not the NSG's:
//! the `firewall` node's own `default=` decides them ([`NetworkRules::default`] is
//! `None`). Service tags: `Internet` is zone `internet`, `VirtualNetwork` every zone of
//! the firewall but `internet`, `*`/`Any` any address; any other tag and every
//! application security group is `source/unsupported`.

use std::net::IpAddr;

use ipnet::IpNet;

use super::json::{self, Json, JsonNode};
use super::{NetworkRules, SourceError, SourceInput, Unsupported};
use crate::engine::intervals;
use crate::model::{
    Action, Endpoint, FirewallRule, PortItem, PortList, RuleGuard, Span, Spanned, Traffic,
};

/// Port intervals with the span of the value that set them.
type Ports = Spanned<Vec<(u32, u32)>>;

/// A required flow's source port is any port of the ephemeral range (`language.md`).
const EPHEMERAL: (u32, u32) = (49152, 65535);

pub fn read(input: &SourceInput<'_>) -> Result<NetworkRules, SourceError> {
    let Some(attached) = input.attached else {
        return Err(SourceError {
            message: "an Azure NSG guards one subnet: the firewall needs `attached=\"ZONE\"`"
                .into(),
            span: None,
            help: Some("name the zone of the subnet the NSG is associated with".into()),
        });
    };
    let doc = json::parse(input.id, input.text)?;
    let nsg = the_nsg(&doc)?;
    let nsg_span = nsg
        .get("name")
        .filter(|n| n.as_str().is_some())
        .map_or(nsg.span, |n| n.span);
    let ctx = Context {
        attached,
        zones: input.zones,
    };
    let mut out = NetworkRules::default();
    let mut rules: Vec<(i64, FirewallRule)> = Vec::new();
    let custom = match &nsg.value {
        Json::Array(items) => items.as_slice(),
        _ if prop(nsg, "direction").is_some() => std::slice::from_ref(nsg),
        _ => prop(nsg, "securityRules").map_or(&[][..], JsonNode::items),
    };
    for rule in custom {
        if let Some(r) = ctx.rule(rule, false, &mut out.unsupported)? {
            rules.push(r);
        }
    }
    let defaults = prop(nsg, "defaultSecurityRules").map(JsonNode::items);
    match defaults {
        Some(defaults) if !defaults.is_empty() => {
            for rule in defaults {
                if let Some(r) = ctx.rule(rule, true, &mut out.unsupported)? {
                    rules.push(r);
                }
            }
        }
        _ => rules.extend(ctx.documented_defaults(nsg_span, &mut out.unsupported)),
    }
    // Priorities are unique per direction, and a flow is either into or out of the
    // subnet: sorting both directions together keeps each direction's order.
    rules.sort_by_key(|(priority, _)| *priority);
    out.rules = rules.into_iter().map(|(_, r)| r).collect();
    Ok(out)
}

/// The NSG object in the file: the document itself, or the only item of an array
/// (`az network nsg list` of one NSG); an array of rules (`az network nsg rule list`) is
/// read as the custom rules of an NSG with the documented defaults.
fn the_nsg(doc: &JsonNode) -> Result<&JsonNode, SourceError> {
    match &doc.value {
        // An NSG, or one rule (`az network nsg rule show`, read as a list of one).
        Json::Object(_) => Ok(doc),
        Json::Array(items) => {
            let nsgs: Vec<&JsonNode> = items
                .iter()
                .filter(|i| {
                    prop(i, "securityRules").is_some() || prop(i, "defaultSecurityRules").is_some()
                })
                .collect();
            match nsgs.as_slice() {
                [] => Ok(doc),
                [one] if items.len() == 1 => Ok(one),
                _ => Err(SourceError::at(
                    doc.span,
                    format!("the file holds {} network security groups", items.len()),
                )
                .with_help("export one NSG per file: `az network nsg show -g GROUP -n NAME`")),
            }
        }
        _ => Err(SourceError::at(
            doc.span,
            format!(
                "expected a network security group object, found {}",
                doc.kind()
            ),
        )),
    }
}

/// A property of a resource, flattened (`az`) or under `properties` (ARM).
fn prop<'d>(obj: &'d JsonNode, key: &str) -> Option<&'d JsonNode> {
    obj.get(key)
        .or_else(|| obj.get("properties")?.get(key))
        .filter(|v| !v.is_null())
}

struct Context<'a> {
    attached: &'a str,
    zones: &'a [String],
}

/// One side of a rule: its endpoints, and what could not be represented.
struct Side {
    endpoints: Vec<Spanned<Endpoint>>,
    uncertain: Option<Span>,
}

impl Context<'_> {
    /// A security rule with its priority; `None` when it can match no required flow.
    fn rule(
        &self,
        rule: &JsonNode,
        default_rule: bool,
        unsupported: &mut Vec<Unsupported>,
    ) -> Result<Option<(i64, FirewallRule)>, SourceError> {
        if !matches!(rule.value, Json::Object(_)) {
            let mut e = SourceError::at(
                rule.span,
                format!("a security rule is an object, found {}", rule.kind()),
            );
            if rule.as_str().is_some() {
                // ConvertTo-Json writes objects deeper than `-Depth` (2 by default) as
                // their type name.
                e = e.with_help("export with `ConvertTo-Json -Depth 10`");
            }
            return Err(e);
        }
        let required = |key: &str| {
            prop(rule, key).ok_or_else(|| {
                SourceError::at(rule.span, format!("this security rule has no `{key}`"))
            })
        };
        let priority_node = required("priority")?;
        let priority = priority_node
            .as_i64()
            .or_else(|| priority_node.as_str()?.trim().parse().ok())
            .ok_or_else(|| SourceError::at(priority_node.span, "a priority is a number"))?;
        let direction = required("direction")?;
        // Enum values as `az` and ConvertTo-Json write them: names, or the .NET numbers
        // of SecurityRuleDirection / SecurityRuleAccess (declaration order).
        let guard = match enum_value(direction).as_deref() {
            Some("inbound" | "0") => RuleGuard::IntoZone(self.attached.to_owned()),
            Some("outbound" | "1") => RuleGuard::OutOfZone(self.attached.to_owned()),
            _ => {
                return Err(SourceError::at(
                    direction.span,
                    "a direction is `Inbound` or `Outbound`",
                ));
            }
        };
        let access = required("access")?;
        let action = match enum_value(access).as_deref() {
            Some("allow" | "0") => Action::Allow,
            Some("deny" | "1") => Action::Deny,
            _ => {
                return Err(SourceError::at(
                    access.span,
                    "an access is `Allow` or `Deny`",
                ));
            }
        };
        let protocol = required("protocol")?;
        let (tcp, udp, icmp) = match enum_value(protocol).as_deref() {
            Some("*" | "any") => (true, true, true),
            Some("tcp") => (true, false, false),
            Some("udp") => (false, true, false),
            Some("icmp") => (false, false, true),
            // IPsec: the model has no flows of these protocols.
            Some("ah" | "esp") => return Ok(None),
            _ => {
                return Err(SourceError::at(
                    protocol.span,
                    "a protocol is `Tcp`, `Udp`, `Icmp`, `Esp`, `Ah` or `*`",
                ));
            }
        };
        let from = self.side(rule, "source", default_rule, unsupported)?;
        let to = self.side(rule, "destination", default_rule, unsupported)?;
        let (Some(from), Some(to)) = (from, to) else {
            return Ok(None);
        };
        let mut uncertain = from.uncertain.or(to.uncertain);
        let sports = ports(rule, "sourcePortRange")?;
        if let Some(sports) = &sports {
            let (inside, outside) = intervals::split(&[EPHEMERAL], &sports.value);
            if inside.is_empty() {
                return Ok(None);
            }
            if !outside.is_empty() {
                unsupported.push(Unsupported {
                    construct: "source ports that hold part of the ephemeral range 49152-65535"
                        .into(),
                    consequence: "the rule's verdicts are indeterminate".into(),
                    span: sports.span,
                });
                uncertain = uncertain.or(Some(sports.span));
            }
        }
        let dports = ports(rule, "destinationPortRange")?;
        let traffic = if dports.is_none() && tcp && udp && icmp {
            // Every protocol and port.
            Traffic {
                from: from.endpoints,
                to: to.endpoints,
                tcp: None,
                udp: None,
                icmp: false,
            }
        } else {
            let list = match &dports {
                Some(p) => {
                    let items: Vec<PortItem> = p
                        .value
                        .iter()
                        .filter(|&&(_, b)| b >= 1)
                        .map(|&(a, b)| {
                            PortItem::Range(
                                u16::try_from(a.max(1)).unwrap_or(u16::MAX),
                                u16::try_from(b).unwrap_or(u16::MAX),
                            )
                        })
                        .collect();
                    Spanned::new(PortList { items }, p.span)
                }
                None => Spanned::new(
                    PortList {
                        items: vec![PortItem::Range(1, 65535)],
                    },
                    protocol.span,
                ),
            };
            // ICMP has no ports: a rule restricted to ports is a TCP/UDP rule.
            let icmp = icmp && dports.is_none();
            if list.value.items.is_empty() && !icmp {
                return Ok(None);
            }
            Traffic {
                from: from.endpoints,
                to: to.endpoints,
                tcp: tcp.then(|| list.clone()),
                udp: udp.then(|| list.clone()),
                icmp,
            }
        };
        let name = rule
            .get("name")
            .and_then(|n| Some(Spanned::new(n.as_str()?.to_owned(), n.span)));
        Ok(Some((
            priority,
            FirewallRule {
                action,
                name,
                traffic,
                guard,
                uncertain,
                span: rule.span,
            },
        )))
    }

    /// The `source`/`destination` addresses of a rule: the prefix, the prefixes and the
    /// application security groups. `None` when they can match no modelled endpoint.
    fn side(
        &self,
        rule: &JsonNode,
        side: &str,
        default_rule: bool,
        unsupported: &mut Vec<Unsupported>,
    ) -> Result<Option<Side>, SourceError> {
        let mut values: Vec<&JsonNode> = Vec::new();
        for key in [
            format!("{side}AddressPrefix"),
            format!("{side}AddressPrefixes"),
        ] {
            if let Some(v) = prop(rule, &key) {
                values.extend(v.items());
            }
        }
        let mut out = Side {
            endpoints: Vec::new(),
            uncertain: None,
        };
        let mut unrepresented = |construct: String, span: Span, out: &mut Side| {
            unsupported.push(Unsupported {
                construct,
                consequence: "the rule's verdicts are indeterminate".into(),
                span,
            });
            // What the construct stands for is unknown: it may be any address.
            out.endpoints.push(Spanned::new(Endpoint::Any, span));
            out.uncertain = out.uncertain.or(Some(span));
        };
        if let Some(asgs) = prop(rule, &format!("{side}ApplicationSecurityGroups")) {
            for asg in asgs.items() {
                let id = prop(asg, "id").and_then(JsonNode::as_str).unwrap_or("");
                let name = id.rsplit('/').next().unwrap_or(id);
                unrepresented(
                    format!("application security group `{name}`"),
                    asg.span,
                    &mut out,
                );
            }
        }
        let mut left_out = false;
        for v in values {
            let Some(s) = v.as_str() else {
                return Err(SourceError::at(
                    v.span,
                    format!("an address prefix is a string, found {}", v.kind()),
                ));
            };
            let s = s.trim();
            if s == "*" || s.eq_ignore_ascii_case("any") {
                out.endpoints.push(Spanned::new(Endpoint::Any, v.span));
            } else if s.eq_ignore_ascii_case("internet") {
                out.endpoints
                    .push(Spanned::new(Endpoint::Zone("internet".into()), v.span));
            } else if s.eq_ignore_ascii_case("virtualnetwork") && self.zones.is_empty() {
                // `cmflow import` knows no zones: the tag cannot be resolved there.
                unrepresented(
                    "service tag `VirtualNetwork` (the firewall names no zones)".into(),
                    v.span,
                    &mut out,
                );
            } else if s.eq_ignore_ascii_case("virtualnetwork") {
                out.endpoints.extend(
                    self.zones
                        .iter()
                        .filter(|z| z.as_str() != "internet")
                        .map(|z| Spanned::new(Endpoint::Zone(z.clone()), v.span)),
                );
            } else if let Some(net) = parse_prefix(s) {
                out.endpoints
                    .push(Spanned::new(Endpoint::Cidr(net), v.span));
            } else if default_rule && s.eq_ignore_ascii_case("azureloadbalancer") {
                // The platform's health probes (168.63.129.16): no required flow comes
                // from there, so the default rule that allows them matches none.
                left_out = true;
            } else if s.contains(['/', '.', ':']) && !s.contains(char::is_alphabetic) {
                return Err(SourceError::at(
                    v.span,
                    format!("`{s}` is not an address or prefix"),
                ));
            } else {
                unrepresented(format!("service tag `{s}`"), v.span, &mut out);
            }
        }
        if out.endpoints.is_empty() {
            if left_out {
                return Ok(None);
            }
            return Err(SourceError::at(
                rule.span,
                format!("this security rule has no {side} address prefix"),
            ));
        }
        Ok(Some(out))
    }

    /// The default rules Azure creates in every NSG ("Network security groups", Default
    /// security rules), for files that do not list them; their span is the NSG's name.
    fn documented_defaults(
        &self,
        span: Span,
        unsupported: &mut Vec<Unsupported>,
    ) -> Vec<(i64, FirewallRule)> {
        let mut vnet: Vec<Spanned<Endpoint>> = self
            .zones
            .iter()
            .filter(|z| z.as_str() != "internet")
            .map(|z| Spanned::new(Endpoint::Zone(z.clone()), span))
            .collect();
        // `cmflow import` knows no zones: the `VirtualNetwork` rules are uncertain.
        let vnet_uncertain = vnet.is_empty().then(|| {
            unsupported.push(Unsupported {
                construct: "service tag `VirtualNetwork` (the firewall names no zones)".into(),
                consequence: "the rule's verdicts are indeterminate".into(),
                span,
            });
            vnet.push(Spanned::new(Endpoint::Any, span));
            span
        });
        let any = vec![Spanned::new(Endpoint::Any, span)];
        let internet = vec![Spanned::new(Endpoint::Zone("internet".into()), span)];
        let rule = |name: &str,
                    action,
                    from: &Vec<Spanned<Endpoint>>,
                    to: &Vec<Spanned<Endpoint>>,
                    inbound: bool| {
            FirewallRule {
                action,
                name: Some(Spanned::new(name.to_owned(), span)),
                traffic: Traffic {
                    from: from.clone(),
                    to: to.clone(),
                    tcp: None,
                    udp: None,
                    icmp: false,
                },
                guard: if inbound {
                    RuleGuard::IntoZone(self.attached.to_owned())
                } else {
                    RuleGuard::OutOfZone(self.attached.to_owned())
                },
                uncertain: None,
                span,
            }
        };
        let vnet_rule = |name: &str, inbound: bool| FirewallRule {
            uncertain: vnet_uncertain,
            ..rule(name, Action::Allow, &vnet, &vnet, inbound)
        };
        // AllowAzureLoadBalancerInBound (65001) matches no required flow: left out.
        vec![
            (65000, vnet_rule("AllowVnetInBound", true)),
            (
                65500,
                rule("DenyAllInBound", Action::Deny, &any, &any, true),
            ),
            (65000, vnet_rule("AllowVnetOutBound", false)),
            (
                65001,
                rule(
                    "AllowInternetOutBound",
                    Action::Allow,
                    &any,
                    &internet,
                    false,
                ),
            ),
            (
                65500,
                rule("DenyAllOutBound", Action::Deny, &any, &any, false),
            ),
        ]
    }
}

/// An enum value as lower-case text: `"Inbound"`, `"inbound"` or the number `0`.
fn enum_value(n: &JsonNode) -> Option<String> {
    match &n.value {
        Json::String(s) => Some(s.trim().to_ascii_lowercase()),
        Json::Number(x) => Some(x.clone()),
        _ => None,
    }
}

/// An address or prefix: `10.1.0.0/16`, `10.1.0.4`, `2001:db8::/32`.
fn parse_prefix(s: &str) -> Option<IpNet> {
    if let Ok(net) = s.parse::<IpNet>() {
        return Some(net.trunc());
    }
    s.parse::<IpAddr>().ok().map(IpNet::from)
}

/// The ports of `sourcePortRange`(s) or `destinationPortRange`(s); `None`: any (`*`).
fn ports(rule: &JsonNode, key: &str) -> Result<Option<Ports>, SourceError> {
    let mut values: Vec<&JsonNode> = Vec::new();
    let mut span = None;
    for k in [key.to_owned(), format!("{key}s")] {
        if let Some(v) = prop(rule, &k) {
            if !v.items().is_empty() {
                span = span.or(Some(v.span));
            }
            values.extend(v.items());
        }
    }
    let Some(span) = span else {
        return Ok(None);
    };
    let mut ranges = Vec::new();
    for v in values {
        let text = match &v.value {
            Json::String(s) => s.trim().to_owned(),
            Json::Number(x) => x.clone(),
            _ => {
                return Err(SourceError::at(
                    v.span,
                    format!("a port range is a string, found {}", v.kind()),
                ));
            }
        };
        if text == "*" || text.eq_ignore_ascii_case("any") {
            return Ok(None);
        }
        let (a, b) = text.split_once('-').unwrap_or((&text, &text));
        let port = |p: &str| p.trim().parse::<u32>().ok().filter(|&p| p <= 65535);
        match (port(a), port(b)) {
            (Some(a), Some(b)) if a <= b => ranges.push((a, b)),
            _ => {
                return Err(SourceError::at(
                    v.span,
                    format!("`{text}` is not a port, a range such as 1000-2000, or `*`"),
                ));
            }
        }
    }
    let merged = intervals::merge(ranges);
    if merged == [(0, 65535)] {
        return Ok(None);
    }
    Ok(Some(Spanned::new(merged, span)))
}

#[cfg(test)]
mod tests;
