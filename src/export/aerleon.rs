//! `--target aerleon`: an Aerleon policy per network firewall, with the network and
//! service definitions it names, laid out as `aclgen` reads them:
//!
//! ```text
//! def/networks.yaml        one network per host, client group, console or cloud service
//! def/services.yaml        one service per protocol and port range
//! policies/pol/FW.yaml     one filter per network firewall, a term per rule and protocol
//! ```
//!
//! Addresses come from the model: a server's `address`, else its zone's subnets (client
//! groups and consoles always). The Internet and cloud services are "any" unless the
//! `internet` zone declares subnets. An endpoint with neither address nor zone subnets
//! cannot be written: it is left out of its terms, a term left without sources or
//! destinations is skipped, and both are written as comments and counted.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};

use super::plan::{ExportPlan, NetworkRule, PortRanges};
use super::{Address, ExportInput, Output, address, count, phase_list};
use crate::engine::{FlowEndpoint, FlowPorts};
use crate::escape::yaml::{comment as yaml_comment, string as yaml_string};
use crate::model::{Endpoint, Model, Protocol, Spanned};

/// The networks file with `--out`.
pub const NETWORKS_FILE: &str = "def/networks.yaml";
/// The services file with `--out`.
pub const SERVICES_FILE: &str = "def/services.yaml";
/// The folder of the policies (`aclgen` looks for folders named `pol`).
pub const POLICY_DIR: &str = "policies/pol";
/// The words on the second line of every policy this target writes: a later export
/// removes the policies it wrote before for firewalls that are gone, and only those.
pub const MARKER: &str = "Written by `cmflow export --target aerleon`";

/// The platforms each filter's header names; users add theirs (juniper, paloalto, ...).
const TARGETS: [(&str, &str); 2] = [("iptables", "FORWARD DROP"), ("windows_advfirewall", "in")];

/// An Aerleon token: letters, digits, `-` and `_`, upper case.
fn token(prefix: &str, name: &str) -> String {
    let body: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}_{body}")
}

fn prefix(e: FlowEndpoint) -> &'static str {
    match e {
        FlowEndpoint::Server(_) => "HOST",
        FlowEndpoint::Clients(_) => "CLIENTS",
        FlowEndpoint::Console(_) => "CONSOLE",
        FlowEndpoint::Cloud(_) => "CLOUD",
        FlowEndpoint::Internet => "INTERNET",
    }
}

/// The service token of one protocol and range: `TCP_80`, `UDP_63000-64000`.
fn service_token(protocol: Protocol, (a, b): (u16, u16)) -> String {
    let p = protocol.as_str().to_ascii_uppercase();
    if a == b {
        format!("{p}_{a}")
    } else {
        format!("{p}_{a}-{b}")
    }
}

/// How an endpoint appears in a term.
enum Named {
    Token(String),
    Any,
    Unknown,
}

/// Network tokens of every endpoint the plan names, with their addresses.
struct Networks {
    tokens: HashMap<FlowEndpoint, String>,
    /// Token → (endpoint name, CIDRs), sorted by token.
    defs: BTreeMap<String, (String, Vec<String>)>,
}

impl Networks {
    fn new(model: &Model, plan: &ExportPlan<'_>) -> Self {
        let mut endpoints: Vec<FlowEndpoint> = plan
            .firewalls
            .iter()
            .flat_map(|f| &f.rules)
            .flat_map(|r| {
                let sources: &[FlowEndpoint] = if r.any_source { &[] } else { &r.sources };
                sources.iter().chain(&r.destinations)
            })
            .copied()
            .collect();
        endpoints.sort_unstable();
        endpoints.dedup();
        // Tokens in name order, so that a suffix for a clash is stable.
        endpoints.sort_by(|a, b| (prefix(*a), a.name(model)).cmp(&(prefix(*b), b.name(model))));
        let mut tokens = HashMap::new();
        let mut defs = BTreeMap::new();
        for e in endpoints {
            let cidrs = match address(model, e) {
                a @ (Address::Exact(_) | Address::Subnets(_)) => a.cidrs(),
                Address::Any | Address::Unknown => continue,
            };
            let base = token(prefix(e), e.name(model));
            let mut t = base.clone();
            let mut n = 2;
            while defs.contains_key(&t) {
                t = format!("{base}_{n}");
                n += 1;
            }
            defs.insert(t.clone(), (e.name(model).to_owned(), cidrs));
            tokens.insert(e, t);
        }
        Self { tokens, defs }
    }

    fn named(&self, model: &Model, e: FlowEndpoint) -> Named {
        if let Some(t) = self.tokens.get(&e) {
            return Named::Token(t.clone());
        }
        match address(model, e) {
            Address::Any => Named::Any,
            _ => Named::Unknown,
        }
    }

    /// A term's address list: `None` for any, else the tokens, with the endpoints left
    /// out for want of an address.
    fn side<'e>(
        &self,
        model: &'e Model,
        list: &[FlowEndpoint],
    ) -> (Option<Vec<String>>, Vec<&'e str>) {
        let mut tokens = Vec::new();
        let mut unknown = Vec::new();
        let mut any = false;
        for &e in list {
            match self.named(model, e) {
                Named::Token(t) => tokens.push(t),
                Named::Any => any = true,
                Named::Unknown => unknown.push(e.name(model)),
            }
        }
        (if any { None } else { Some(tokens) }, unknown)
    }
}

/// One side of an intent term: `None` for any address, else its parts, each a network.
type IntentParts = Option<Vec<Vec<String>>>;
/// A side's network token; `None` for any address.
type Side = Option<String>;

/// The addresses an intent's endpoint list names, for a deny term. The Internet (a zone
/// without subnets) is every address the model does not place elsewhere: any address
/// less every zone's subnets and every host's address, in a part of its own, so that the
/// deny never reaches the model's own hosts (a deny from "any" would stop the required
/// flows the intent lets through). `None` (outer) when the list names nothing with an
/// address.
fn intent_side(model: &Model, list: &[Spanned<Endpoint>]) -> Option<IntentParts> {
    if list.iter().any(|e| e.value == Endpoint::Any) {
        return Some(None);
    }
    let (wide, rest): (Vec<Spanned<Endpoint>>, Vec<Spanned<Endpoint>>) = list
        .iter()
        .cloned()
        .partition(|e| super::endpoint_list_cidrs(model, std::slice::from_ref(e)).is_none());
    let mut parts = Vec::new();
    if let Some(cidrs) = super::endpoint_list_cidrs(model, &rest)
        && !cidrs.is_empty()
    {
        parts.push(cidrs);
    }
    if !wide.is_empty() {
        let placed: Vec<ipnet::IpNet> = model
            .zones
            .iter()
            .flat_map(|z| z.subnets.iter().map(|s| s.value))
            .chain(
                model
                    .servers
                    .iter()
                    .filter_map(|s| s.address)
                    .chain(model.consoles.iter().filter_map(|c| c.address))
                    .map(ipnet::IpNet::from),
            )
            .collect();
        // Written as the difference itself, not as `source-exclude`: Aerleon's
        // windows_advfirewall target refuses exclusions.
        let placed = ipnet::IpNet::aggregate(&placed);
        let rest: Vec<String> = ["0.0.0.0/0", "::/0"]
            .iter()
            .filter_map(|n| n.parse::<ipnet::IpNet>().ok())
            .flat_map(|all| crate::model::cidr_difference(all, &placed))
            .map(|n| n.to_string())
            .collect();
        if !rest.is_empty() {
            parts.push(rest);
        }
    }
    (!parts.is_empty()).then_some(Some(parts))
}

pub fn write(
    input: &ExportInput<'_>,
    plan: &ExportPlan<'_>,
    out: &mut dyn Output,
) -> io::Result<()> {
    let model = input.model;
    let mut networks = Networks::new(model, plan);
    // The model's intent: its forbids and deny rules that stop no exported flow, as deny
    // terms before the allow terms, with networks and services of their own.
    let mut deny_terms: HashMap<usize, Vec<String>> = HashMap::new();
    let mut intent_services: Vec<(Protocol, (u16, u16))> = Vec::new();
    for fp in &plan.firewalls {
        // The firewall's position makes the tokens unique whatever its name.
        let stem = token(
            "INTENT",
            &format!(
                "{}-{}",
                fp.firewall + 1,
                model.firewalls[fp.firewall].name.value
            ),
        );
        for (n, (name, traffic)) in super::carried_network_rules(input, fp.firewall)
            .into_iter()
            .enumerate()
        {
            let (Some(from), Some(to)) = (
                intent_side(model, &traffic.from),
                intent_side(model, &traffic.to),
            ) else {
                deny_terms.entry(fp.firewall).or_default().push(format!(
                    "      # skipped {}: no address for its endpoints\n",
                    yaml_comment(&name)
                ));
                continue;
            };
            // Each side's parts become networks of their own: `..._SRC`, `..._SRC_2`.
            let mut tokens = |suffix: &str, parts: &IntentParts, list: &[Spanned<Endpoint>]| {
                let Some(parts) = parts else {
                    return vec![None];
                };
                let text: Vec<String> = list.iter().map(|e| e.value.to_string()).collect();
                let mut out = Vec::new();
                for (k, cidrs) in parts.iter().enumerate() {
                    let t = if k == 0 {
                        format!("{stem}_{}_{suffix}", n + 1)
                    } else {
                        format!("{stem}_{}_{suffix}_{}", n + 1, k + 1)
                    };
                    networks
                        .defs
                        .insert(t.clone(), (text.join(","), cidrs.clone()));
                    out.push(Some(t));
                }
                out
            };
            let sources = tokens("SRC", &from, &traffic.from);
            let destinations = tokens("DST", &to, &traffic.to);
            let mut protocols: Vec<(Protocol, Vec<(u16, u16)>)> =
                [Protocol::Tcp, Protocol::Udp, Protocol::Icmp]
                    .into_iter()
                    .filter_map(|p| super::traffic_ports(traffic, p).map(|r| (p, r)))
                    .collect();
            let all = traffic.matches_all_protocols();
            if all {
                protocols.clear();
            }
            let comment = yaml_string(&format!("cmflow: the model's intent: {name}"));
            let pairs: Vec<(&Side, &Side)> = sources
                .iter()
                .flat_map(|s| destinations.iter().map(move |d| (s, d)))
                .collect();
            let several = pairs.len() > 1;
            for (k, (src, dst)) in pairs.into_iter().enumerate() {
                let part = if several {
                    format!("-{}", k + 1)
                } else {
                    String::new()
                };
                let mut write_term =
                    |suffix: &str, protocol: Option<Protocol>, ports: &[(u16, u16)]| {
                        let mut t = String::new();
                        _ = writeln!(t, "      - name: cmflow-deny-{:03}{suffix}{part}", n + 1);
                        _ = writeln!(t, "        comment: {comment}");
                        if let Some(s) = src {
                            _ = writeln!(t, "        source-address: {s}");
                        }
                        if let Some(d) = dst {
                            _ = writeln!(t, "        destination-address: {d}");
                        }
                        if !ports.is_empty()
                            && let Some(p) = protocol
                        {
                            let tokens: Vec<String> =
                                ports.iter().map(|&r| service_token(p, r)).collect();
                            _ = writeln!(t, "        destination-port: {}", tokens.join(" "));
                        }
                        if let Some(p) = protocol {
                            _ = writeln!(t, "        protocol: {}", p.as_str());
                        }
                        t.push_str("        action: deny\n");
                        deny_terms.entry(fp.firewall).or_default().push(t);
                    };
                if all {
                    write_term("", None, &[]);
                }
                for (p, ports) in &protocols {
                    write_term(&format!("-{}", p.as_str()), Some(*p), ports);
                }
            }
            for (p, ports) in protocols {
                if p != Protocol::Icmp {
                    intent_services.extend(ports.iter().map(|&r| (p, r)));
                }
            }
        }
    }
    let networks = networks;
    {
        let mut w = out.create(NETWORKS_FILE)?;
        writeln!(
            w,
            "# Networks of the hosts that cmflow's required flows join; written by `cmflow export --target aerleon`."
        )?;
        writeln!(w, "networks:")?;
        for (t, (name, cidrs)) in &networks.defs {
            writeln!(w, "  {t}:")?;
            writeln!(w, "    values:")?;
            for c in cidrs {
                writeln!(w, "      - address: {c}")?;
                writeln!(w, "        comment: {}", yaml_string(name))?;
            }
        }
        w.flush()?;
    }
    let mut services: BTreeMap<String, (Protocol, (u16, u16))> = BTreeMap::new();
    for (p, r) in intent_services {
        services.insert(service_token(p, r), (p, r));
    }
    for rule in plan.firewalls.iter().flat_map(|f| &f.rules) {
        for (protocol, ranges) in [
            (Protocol::Tcp, &rule.ports.tcp),
            (Protocol::Udp, &rule.ports.udp),
        ] {
            for &r in ranges {
                services.insert(service_token(protocol, r), (protocol, r));
            }
        }
    }
    {
        let mut w = out.create(SERVICES_FILE)?;
        writeln!(
            w,
            "# Ports of cmflow's required flows; written by `cmflow export --target aerleon`."
        )?;
        if services.is_empty() {
            writeln!(w, "services: {{}}")?;
        } else {
            writeln!(w, "services:")?;
        }
        for (t, (protocol, (a, b))) in &services {
            writeln!(w, "  {t}:")?;
            writeln!(w, "    - port: {}", FlowPorts::Range(*a, *b))?;
            writeln!(w, "      protocol: {}", protocol.as_str())?;
        }
        w.flush()?;
    }
    let names: Vec<&str> = plan
        .firewalls
        .iter()
        .map(|fp| model.firewalls[fp.firewall].name.value.as_str())
        .collect();
    let stems = file_stems(&names);
    for (fp, stem) in plan.firewalls.iter().zip(stems) {
        let fw = &model.firewalls[fp.firewall];
        let file = format!("{POLICY_DIR}/{stem}.yaml");
        let mut w = out.create(&file)?;
        let denies = deny_terms.remove(&fp.firewall).unwrap_or_default();
        write_policy(&mut w, input, &networks, &fw.name.value, &fp.rules, denies)?;
        w.flush()?;
    }
    Ok(())
}

/// The longest file stem written: file systems allow 255 bytes per name, and a policy's
/// path also holds `.yaml` and, while it is written, a temporary suffix.
const MAX_STEM: usize = 100;

/// A file name for a firewall: its name with anything but letters, digits, `-`, `_`
/// and `.` replaced by `_`, cut to [`MAX_STEM`] bytes.
fn file_stem(name: &str) -> String {
    let mut stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.starts_with('.') {
        // Never a hidden file, nor `..`.
        stem.replace_range(..1, "_");
    }
    stem.truncate(MAX_STEM);
    stem
}

/// One file stem per firewall name, in the given order: [`file_stem`], with `_2`, `_3`
/// ... after a stem that an earlier firewall already has (compared without case, as
/// Windows and macOS file systems do), so that no policy overwrites another.
fn file_stems(names: &[&str]) -> Vec<String> {
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by_key(|&i| names[i]);
    let mut used = std::collections::HashSet::new();
    let mut stems = vec![String::new(); names.len()];
    for i in order {
        let base = file_stem(names[i]);
        let mut stem = base.clone();
        let mut n = 2;
        while !used.insert(stem.to_ascii_lowercase()) {
            stem = format!("{base}_{n}");
            n += 1;
        }
        stems[i] = stem;
    }
    stems
}

fn write_policy(
    w: &mut dyn Write,
    input: &ExportInput<'_>,
    networks: &Networks,
    name: &str,
    rules: &[NetworkRule<'_>],
    deny_terms: Vec<String>,
) -> io::Result<()> {
    let model = input.model;
    let mut terms: Vec<String> = deny_terms;
    let mut skipped_rules = 0;
    let mut skipped_flows = 0;
    let mut partial = 0;
    let width = rules.len().to_string().len().max(3);
    for (n, rule) in rules.iter().enumerate() {
        let rule_name = super::kdl::rule_name(model, rule);
        // DHCP (`any_source`): the clients send from 0.0.0.0, so no source address.
        let (sources, unknown_sources) = if rule.any_source {
            (None, Vec::new())
        } else {
            networks.side(model, &rule.sources)
        };
        let (destinations, unknown_destinations) = networks.side(model, &rule.destinations);
        let mut notes = String::new();
        for (what, unknown) in [
            ("sources", &unknown_sources),
            ("destinations", &unknown_destinations),
        ] {
            if !unknown.is_empty() {
                _ = writeln!(
                    notes,
                    "      # {what} without address or zone subnet, left out: {}",
                    yaml_comment(&unknown.join(", "))
                );
            }
        }
        let empty = |side: &Option<Vec<String>>| side.as_ref().is_some_and(Vec::is_empty);
        if empty(&sources) || empty(&destinations) {
            skipped_rules += 1;
            skipped_flows += rule.flows;
            terms.push(format!(
                "      # skipped {}: no address for {} ({})\n",
                yaml_comment(&rule_name),
                yaml_comment(&name_list_str(&unknown_sources, &unknown_destinations)),
                count(rule.flows, "flow")
            ));
            continue;
        }
        if !notes.is_empty() {
            partial += 1;
        }
        let comment = format!(
            "{rule_name}: {} ({})",
            rule.services.join(", "),
            count(rule.flows, "flow")
        );
        let protocols: [(Protocol, &PortRanges); 2] = [
            (Protocol::Tcp, &rule.ports.tcp),
            (Protocol::Udp, &rule.ports.udp),
        ];
        let mut parts: Vec<(Protocol, Vec<String>)> = protocols
            .into_iter()
            .filter(|(_, r)| !r.is_empty())
            .map(|(p, r)| (p, r.iter().map(|&x| service_token(p, x)).collect()))
            .collect();
        if rule.ports.icmp {
            parts.push((Protocol::Icmp, Vec::new()));
        }
        for (protocol, ports) in parts {
            let mut t = String::new();
            t.push_str(&notes);
            _ = writeln!(
                t,
                "      - name: cmflow-{:0width$}-{}",
                n + 1,
                protocol.as_str()
            );
            _ = writeln!(t, "        comment: {}", yaml_string(&comment));
            if let Some(s) = &sources {
                _ = writeln!(t, "        source-address: {}", s.join(" "));
            }
            if let Some(d) = &destinations {
                _ = writeln!(t, "        destination-address: {}", d.join(" "));
            }
            if !ports.is_empty() {
                _ = writeln!(t, "        destination-port: {}", ports.join(" "));
            }
            _ = writeln!(t, "        protocol: {}", protocol.as_str());
            if protocol == Protocol::Icmp {
                t.push_str("        icmp-type: echo-request\n");
            }
            t.push_str("        action: accept\n");
            terms.push(t);
        }
    }
    writeln!(
        w,
        "# Firewall {}: allows exactly the required flows that cross it ({}).",
        yaml_comment(name),
        phase_list(input.phases)
    )?;
    writeln!(
        w,
        "# Written by `cmflow export --target aerleon`; render with aclgen. Add your platforms"
    )?;
    writeln!(
        w,
        "# to `targets` (see Aerleon's docs for each one's options)."
    )?;
    writeln!(
        w,
        "# {}; {skipped_rules} skipped ({}) and {partial} narrowed for endpoints without address.",
        count(rules.len(), "rule"),
        count(skipped_flows, "flow")
    )?;
    let ipv6 = rules
        .iter()
        .flat_map(|r| r.sources.iter().chain(&r.destinations))
        .filter_map(|e| networks.tokens.get(e))
        .any(|t| networks.defs[t].1.iter().any(|c| c.contains(':')));
    if ipv6 {
        writeln!(
            w,
            "# IPv6: this policy names IPv6 networks, and Aerleon's iptables target renders"
        )?;
        writeln!(
            w,
            "# IPv4 terms only (it drops the IPv6 ones without a word). Add targets for IPv6:"
        )?;
        writeln!(
            w,
            "# `iptables: FORWARD DROP inet6`, `nftables: mixed FORWARD` or `windows_advfirewall: in inet6`."
        )?;
    }
    writeln!(w, "filters:")?;
    writeln!(w, "  - header:")?;
    writeln!(
        w,
        "      comment: {}",
        yaml_string(&format!("cmflow: required flows through {name}"))
    )?;
    writeln!(w, "      targets:")?;
    for (platform, options) in TARGETS {
        writeln!(w, "        {platform}: {options}")?;
    }
    if terms.iter().all(|t| t.trim_start().starts_with('#')) {
        // A filter needs a term: a firewall no required flow crosses denies everything.
        writeln!(w, "    terms:")?;
        for t in &terms {
            write!(w, "{t}")?;
        }
        writeln!(w, "      - name: cmflow-none")?;
        writeln!(
            w,
            "        comment: \"cmflow: no rule to write for this firewall\""
        )?;
        writeln!(w, "        action: deny")?;
        return Ok(());
    }
    writeln!(w, "    terms:")?;
    for t in &terms {
        write!(w, "{t}")?;
    }
    Ok(())
}

fn name_list_str(a: &[&str], b: &[&str]) -> String {
    let mut all: Vec<&str> = a.iter().chain(b).copied().collect();
    all.sort_unstable();
    all.dedup();
    all.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_strings() {
        assert_eq!(token("HOST", "cm-01.contoso.com"), "HOST_CM-01_CONTOSO_COM");
        assert_eq!(token("CLIENTS", "HQ desktops"), "CLIENTS_HQ_DESKTOPS");
        assert_eq!(service_token(Protocol::Tcp, (8530, 8531)), "TCP_8530-8531");
        assert_eq!(service_token(Protocol::Udp, (135, 135)), "UDP_135");
        assert_eq!(file_stem("fw core/1"), "fw_core_1");
        assert_eq!(file_stem("../x"), "_._x");
        assert_eq!(file_stem(&"a".repeat(300)).len(), MAX_STEM);
        assert_eq!(
            file_stems(&["fw_a", "fw a", "FW_A", &"b".repeat(300), &"b".repeat(301)]),
            vec![
                "fw_a_3".to_owned(),
                "fw_a_2".to_owned(),
                "FW_A".to_owned(),
                "b".repeat(MAX_STEM),
                format!("{}_2", "b".repeat(MAX_STEM)),
            ]
        );
    }
}
