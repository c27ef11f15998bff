//! `--target kdl`: the plan in cmflow's own language, to load back and check.
//!
//! `firewalls.kdl` holds one `firewall` node per network firewall (its zones,
//! `default="deny"`, one `allow` per planned rule): it replaces the model's firewalls as
//! is. `windows-firewall.kdl` holds one `windows-firewall` block per host, each inside a
//! `server "FQDN"` or `clients "NAME"` node that names where it goes: the language
//! declares a server once, so these blocks are pasted into the model's own nodes (the
//! round-trip test does exactly that). A `.ignore` file keeps cmflow's loader out of
//! the folder, which may lie below the model's.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::plan::{ExportPlan, HostDirection, NetworkRule, PortKind, port_list};
use super::windows_firewall::display_name;
use super::{ExportInput, Output, count, phase_list};
use crate::engine::FlowEndpoint;
use crate::escape::kdl::{comment, string};
use crate::model::{Action, Endpoint, Model, Protocol, Spanned, Traffic};

/// The network firewalls' file with `--out`.
pub const FIREWALLS_FILE: &str = "firewalls.kdl";
/// The hosts' Windows Firewall blocks' file with `--out`.
pub const HOSTS_FILE: &str = "windows-firewall.kdl";
/// Keeps cmflow's loader out of the export folder: an export written below the model's
/// folder (the default `./cmflow-export`) would otherwise join the model on the next run
/// and declare every firewall twice. Users copy the files in on purpose.
pub const IGNORE_FILE: &str = ".ignore";

/// An endpoint as a rule names it: `host:`, `clients:`, or `zone:internet`.
pub fn endpoint(model: &Model, e: FlowEndpoint) -> String {
    match e {
        FlowEndpoint::Clients(_) => format!("clients:{}", e.name(model)),
        FlowEndpoint::Internet => "zone:internet".into(),
        _ => format!("host:{}", e.name(model)),
    }
}

/// ` from="..." to="..." tcp="..." udp="..." icmp=#true` of a model rule or forbid, as
/// written in the model.
pub fn traffic_props(t: &Traffic) -> String {
    let list = |l: &[Spanned<Endpoint>]| {
        l.iter()
            .map(|e| e.value.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut out = format!(
        " from={} to={}",
        string(&list(&t.from)),
        string(&list(&t.to))
    );
    for (key, ports) in [("tcp", &t.tcp), ("udp", &t.udp)] {
        if let Some(p) = ports {
            _ = write!(out, " {key}={}", string(&p.value.to_string()));
        }
    }
    if t.icmp {
        out.push_str(" icmp=#true");
    }
    out
}

fn endpoints(model: &Model, list: &[FlowEndpoint]) -> String {
    list.iter()
        .map(|&e| endpoint(model, e))
        .collect::<Vec<_>>()
        .join(",")
}

/// The stable name of a network rule: `cmflow: A and 2 more to B`. Two rules of one
/// firewall never share their first source and first destination (their pairs are
/// disjoint), so names are unique; a pair's broadcast (DHCP) flows have a rule of their
/// own, named with ` (broadcast)`.
pub fn rule_name(model: &Model, rule: &NetworkRule<'_>) -> String {
    let side = |list: &[FlowEndpoint]| {
        let first = list.first().map_or("", |e| e.name(model));
        if list.len() > 1 {
            format!("{first} and {} more", list.len() - 1)
        } else {
            first.to_owned()
        }
    };
    format!(
        "cmflow: {} to {}{}",
        side(&rule.sources),
        side(&rule.destinations),
        if rule.any_source { " (broadcast)" } else { "" }
    )
}

pub fn write(
    input: &ExportInput<'_>,
    plan: &ExportPlan<'_>,
    out: &mut dyn Output,
) -> io::Result<()> {
    let model = input.model;
    {
        let mut w = out.create(IGNORE_FILE)?;
        writeln!(
            w,
            "# Written by `cmflow export --target kdl`: cmflow does not load this folder as part"
        )?;
        writeln!(
            w,
            "# of a model; copy firewalls.kdl and the windows-firewall blocks into the model."
        )?;
        writeln!(w, "*")?;
        w.flush()?;
    }
    {
        let mut w = out.create(FIREWALLS_FILE)?;
        writeln!(
            w,
            "// Network firewalls that allow exactly the required flows ({}).",
            phase_list(input.phases)
        )?;
        writeln!(
            w,
            "// Written by `cmflow export --target kdl`: replaces the model's `firewall` nodes."
        )?;
        if plan.no_path > 0 {
            writeln!(
                w,
                "// {} required flows join zones that no path connects: no rule can carry them.",
                plan.no_path
            )?;
        }
        for fp in &plan.firewalls {
            let fw = &model.firewalls[fp.firewall];
            writeln!(w)?;
            writeln!(w, "firewall {} default=\"deny\" {{", string(&fw.name.value))?;
            let zones: Vec<String> = fw.zones.iter().map(|z| string(&z.value)).collect();
            writeln!(w, "    zones {}", zones.join(" "))?;
            // The model's intent first: forbids and deny rules that stop no opened flow.
            for &(p, f) in &input.carried.firewall_forbids[fp.firewall] {
                let policy = &model.policies[p];
                writeln!(
                    w,
                    "    // forbidden by policy {}",
                    comment(&policy.name.value)
                )?;
                writeln!(
                    w,
                    "    deny {}{}",
                    string(&format!("policy: {}", policy.name.value)),
                    traffic_props(&policy.forbids[f].traffic)
                )?;
            }
            for &i in &input.carried.firewall_denies[fp.firewall] {
                let rule = &fw.rules[i];
                let name = rule
                    .name
                    .as_ref()
                    .map(|n| format!(" {}", string(&n.value)))
                    .unwrap_or_default();
                writeln!(w, "    // a deny rule of the model")?;
                writeln!(w, "    deny{name}{}", traffic_props(&rule.traffic))?;
            }
            for rule in &fp.rules {
                writeln!(
                    w,
                    "    // {}: {}",
                    count(rule.flows, "flow"),
                    comment(&rule.services.join(", "))
                )?;
                // DHCP: the clients send from 0.0.0.0 to the broadcast address.
                let sources = if rule.any_source {
                    writeln!(
                        w,
                        "    // from any: {} ask before they have an address (from 0.0.0.0 to broadcast)",
                        comment(&super::name_list(model, &rule.sources))
                    )?;
                    "any".to_owned()
                } else {
                    endpoints(model, &rule.sources)
                };
                let mut line = format!(
                    "    allow {} from={} to={}",
                    string(&rule_name(model, rule)),
                    string(&sources),
                    string(&endpoints(model, &rule.destinations))
                );
                if !rule.ports.tcp.is_empty() {
                    _ = write!(line, " tcp={}", string(&port_list(&rule.ports.tcp)));
                }
                if !rule.ports.udp.is_empty() {
                    _ = write!(line, " udp={}", string(&port_list(&rule.ports.udp)));
                }
                if rule.ports.icmp {
                    line.push_str(" icmp=#true");
                }
                writeln!(w, "{line}")?;
            }
            writeln!(w, "}}")?;
        }
        w.flush()?;
    }
    let mut w = out.create(HOSTS_FILE)?;
    writeln!(
        w,
        "// Windows Firewall blocks that allow exactly the required flows ({}).",
        phase_list(input.phases)
    )?;
    writeln!(
        w,
        "// Written by `cmflow export --target kdl`. A server is declared once: paste each"
    )?;
    writeln!(
        w,
        "// `windows-firewall` block into the node of its server or client group."
    )?;
    for host in &plan.hosts {
        let kind = match host.host {
            FlowEndpoint::Clients(_) => "clients",
            _ => "server",
        };
        let outbound = match host.outbound_default {
            Action::Allow => "allow",
            Action::Deny => "block",
        };
        writeln!(w)?;
        writeln!(w, "{kind} {} {{", string(host.host.name(model)))?;
        writeln!(
            w,
            "    windows-firewall inbound=\"block\" outbound=\"{outbound}\" {{"
        )?;
        for rule in &host.rules {
            let (direction, remote) = match rule.direction {
                HostDirection::Inbound => ("in", "from"),
                HostDirection::Outbound => ("out", "to"),
            };
            let mut line = format!("        allow {direction} {}", string(&display_name(rule)));
            match (rule.protocol, rule.kind) {
                (Protocol::Icmp, _) => line.push_str(" icmp=#true"),
                (p, kind) => {
                    let ports = match kind {
                        PortKind::Rpc => "rpc".to_owned(),
                        PortKind::RpcEpmap => "rpc-epmap".to_owned(),
                        PortKind::Numbers => port_list(&rule.ports),
                    };
                    _ = write!(line, " {}={}", p.as_str(), string(&ports));
                }
            }
            let remotes = if rule.any_remote {
                "any".to_owned()
            } else {
                endpoints(model, &rule.remotes)
            };
            _ = write!(
                line,
                " {remote}={} profile={}",
                string(&remotes),
                string(&host.profile)
            );
            writeln!(w, "{line}")?;
        }
        // The model's intent on this host: its block rules and the forbids that name it.
        if let Some(fw) = crate::engine::host_firewall(model, host.host) {
            for &i in input
                .carried
                .host_blocks
                .get(&host.host)
                .into_iter()
                .flatten()
            {
                let r = &fw.rules[i];
                let direction = match r.direction {
                    crate::model::Direction::In => "in",
                    crate::model::Direction::Out => "out",
                };
                let name = r
                    .name
                    .as_ref()
                    .map(|n| format!(" {}", string(&n.value)))
                    .unwrap_or_default();
                let profile = if r.profiles.is_empty() {
                    String::new()
                } else {
                    format!(" profile={}", string(&r.profiles.join(",")))
                };
                writeln!(
                    w,
                    "        block {direction}{name}{}{profile}",
                    traffic_props(&r.traffic)
                )?;
            }
        }
        for &(d, p, f) in input
            .carried
            .host_forbids
            .get(&host.host)
            .into_iter()
            .flatten()
        {
            let policy = &model.policies[p];
            let direction = match d {
                crate::model::Direction::In => "in",
                crate::model::Direction::Out => "out",
            };
            writeln!(
                w,
                "        block {direction} {}{}",
                string(&format!("policy: {}", policy.name.value)),
                traffic_props(&policy.forbids[f].traffic)
            )?;
        }
        writeln!(w, "    }}")?;
        writeln!(w, "}}")?;
    }
    w.flush()
}
