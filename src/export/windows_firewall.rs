//! `--target windows-firewall`: one PowerShell script with a section per server (chosen
//! by the computer's FQDN) and per client group (chosen by `-ClientGroup NAME`). Each
//! section removes the rules an earlier run created (display names start with
//! `cmflow:`) and adds one `New-NetFirewallRule` per rule of the host's plan.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::plan::{ExportPlan, HostDirection, HostPlan, HostRule, PortKind};
use super::{Address, ExportInput, Output, address, phase_list};
use crate::engine::{FlowEndpoint, FlowPorts};
use crate::escape::powershell::{BOM, comment, quote};
use crate::model::{Action, Direction, Protocol};

/// The file name with `--out`.
pub const FILE: &str = "windows-firewall.ps1";

/// `Domain`, `Private`, `Public`.
fn profile_word(profile: &str) -> String {
    let mut chars = profile.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_ascii_uppercase().to_string() + chars.as_str()
    })
}

/// The display name: `cmflow: in HTTP (TCP 80,443)`, stable across runs.
pub fn display_name(rule: &HostRule) -> String {
    let direction = match rule.direction {
        HostDirection::Inbound => "in",
        HostDirection::Outbound => "out",
    };
    format!(
        "cmflow: {direction} {} ({} {})",
        rule.services,
        protocol_word(rule.protocol),
        ports_text(rule).join(",")
    )
}

fn protocol_word(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
        Protocol::Icmp => "ICMPv4",
    }
}

/// The port words of a rule: `80`, `8530-8531`, `RPC`, `RPCEPMap`, `echo`.
fn ports_text(rule: &HostRule) -> Vec<String> {
    match (rule.protocol, rule.kind) {
        (Protocol::Icmp, _) => vec!["echo".into()],
        (_, PortKind::Rpc) => vec!["RPC".into()],
        (_, PortKind::RpcEpmap) => vec!["RPCEPMap".into()],
        (_, PortKind::Numbers) => rule
            .ports
            .iter()
            .map(|&(a, b)| FlowPorts::Range(a, b).to_string())
            .collect(),
    }
}

pub fn write(
    input: &ExportInput<'_>,
    plan: &ExportPlan<'_>,
    out: &mut dyn Output,
) -> io::Result<()> {
    let mut w = out.create(FILE)?;
    let rules: usize = plan.hosts.iter().map(|h| h.rules.len()).sum();
    write!(w, "{BOM}")?;
    writeln!(
        w,
        "# Windows Firewall rules that allow exactly the required flows ({}).",
        phase_list(input.phases)
    )?;
    writeln!(
        w,
        "# Written by `cmflow export --target windows-firewall`: do not edit, export again."
    )?;
    writeln!(
        w,
        "# {} hosts, {rules} rules. Run it as administrator on each server (its section is",
        plan.hosts.len()
    )?;
    writeln!(
        w,
        "# chosen by the computer's FQDN) or with -ClientGroup NAME on a client. Each section"
    )?;
    writeln!(
        w,
        "# first removes every rule named 'cmflow:*', so a rerun replaces, never duplicates."
    )?;
    if plan.no_path > 0 {
        writeln!(
            w,
            "# {} required flows join zones that no path connects: no rule can carry them.",
            plan.no_path
        )?;
    }
    writeln!(w, "#Requires -RunAsAdministrator")?;
    writeln!(w, "[CmdletBinding()]")?;
    writeln!(w, "param([string]$ClientGroup = '')")?;
    writeln!(w)?;
    writeln!(w, "$ErrorActionPreference = 'Stop'")?;
    writeln!(
        w,
        "$fqdn = [System.Net.Dns]::GetHostEntry([System.Net.Dns]::GetHostName()).HostName"
    )?;
    writeln!(w, "$matched = $false")?;
    writeln!(w, "function Reset-CmflowRules {{")?;
    writeln!(
        w,
        "    Remove-NetFirewallRule -DisplayName 'cmflow:*' -ErrorAction SilentlyContinue"
    )?;
    writeln!(w, "}}")?;
    for host in &plan.hosts {
        writeln!(w)?;
        write_host(&mut w, input, host)?;
    }
    writeln!(w)?;
    writeln!(w, "if (-not $matched) {{")?;
    writeln!(
        w,
        "    Write-Warning \"cmflow: no section for $fqdn (ClientGroup '$ClientGroup'): nothing changed\""
    )?;
    writeln!(w, "}}")?;
    w.flush()
}

fn write_host(w: &mut dyn Write, input: &ExportInput<'_>, host: &HostPlan) -> io::Result<()> {
    let model = input.model;
    let name = host.host.name(model);
    let (what, condition) = match host.host {
        FlowEndpoint::Clients(_) => ("client group", format!("$ClientGroup -eq {}", quote(name))),
        _ => (
            "server",
            format!("$ClientGroup -eq '' -and $fqdn -ieq {}", quote(name)),
        ),
    };
    writeln!(
        w,
        "# {what} {} (zone {}, profile {}){}",
        comment(name),
        comment(host.host.zone(model)),
        comment(&host.profile),
        if host.outbound_default == Action::Deny {
            ", outbound blocked by default"
        } else {
            ""
        }
    )?;
    writeln!(w, "if ({condition}) {{")?;
    writeln!(w, "    $matched = $true")?;
    writeln!(w, "    Reset-CmflowRules")?;
    let profile = profile_word(&host.profile);
    for rule in &host.rules {
        let (direction, port_flag) = match rule.direction {
            HostDirection::Inbound => ("Inbound", "-LocalPort"),
            HostDirection::Outbound => ("Outbound", "-RemotePort"),
        };
        let mut remote: Vec<String> = Vec::new();
        let mut unknown: Vec<&str> = Vec::new();
        // DHCP (`any_remote`): the clients send from 0.0.0.0 to the broadcast address.
        let mut any = rule.any_remote;
        for &e in &rule.remotes {
            match address(model, e) {
                Address::Any => any = true,
                Address::Unknown => {
                    any = true;
                    unknown.push(e.name(model));
                }
                a => remote.extend(a.plain()),
            }
        }
        writeln!(
            w,
            "    # {} {}: {}",
            match rule.direction {
                HostDirection::Inbound => "from",
                HostDirection::Outbound => "to",
            },
            comment(&super::name_list(model, &rule.remotes)),
            super::count(rule.flows, "flow")
        )?;
        if rule.any_remote {
            writeln!(
                w,
                "    # DHCP requests come from 0.0.0.0 to the broadcast address: any remote address."
            )?;
        }
        if !unknown.is_empty() {
            writeln!(
                w,
                "    # No address for {}: the rule accepts any remote address.",
                comment(&unknown.join(", "))
            )?;
        }
        remote.sort();
        remote.dedup();
        let remote = if any || remote.is_empty() {
            "Any".to_owned()
        } else {
            remote
                .iter()
                .map(|r| quote(r))
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut line = format!(
            "    New-NetFirewallRule -DisplayName {} -Group 'cmflow' -Direction {direction} -Action Allow -Protocol {}",
            quote(&display_name(rule)),
            protocol_word(rule.protocol)
        );
        if rule.protocol == Protocol::Icmp {
            line.push_str(" -IcmpType 8");
        } else {
            let ports: Vec<String> = ports_text(rule).iter().map(|p| quote(p)).collect();
            _ = write!(line, " {port_flag} {}", ports.join(","));
        }
        _ = write!(
            line,
            " -RemoteAddress {remote} -Profile {profile} | Out-Null"
        );
        writeln!(w, "{line}")?;
    }
    write_blocks(w, input, host)?;
    writeln!(w, "}}")
}

/// The model's intent on this host: its own `block` rules and the forbids that name it,
/// those that stop none of the flows the export allows (`engine::intent::Carried`).
fn write_blocks(w: &mut dyn Write, input: &ExportInput<'_>, host: &HostPlan) -> io::Result<()> {
    let model = input.model;
    let mut blocks: Vec<(String, Direction, &crate::model::Traffic, Vec<String>)> = Vec::new();
    if let Some(fw) = crate::engine::host_firewall(model, host.host) {
        for &i in input
            .carried
            .host_blocks
            .get(&host.host)
            .into_iter()
            .flatten()
        {
            let r = &fw.rules[i];
            let name = r
                .name
                .as_ref()
                .map_or_else(|| format!("block rule {}", i + 1), |n| n.value.clone());
            blocks.push((name, r.direction, &r.traffic, r.profiles.clone()));
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
        blocks.push((
            format!("policy: {}", policy.name.value),
            d,
            &policy.forbids[f].traffic,
            Vec::new(),
        ));
    }
    for (name, direction, traffic, profiles) in blocks {
        let (dir_word, port_flag, remote_list) = match direction {
            Direction::In => ("Inbound", "-LocalPort", &traffic.from),
            Direction::Out => ("Outbound", "-RemotePort", &traffic.to),
        };
        // `Any` only where the model says `any`: a remote side with no addresses to name
        // (`zone:internet`, a host without an address) written as `Any` would block
        // required flows from everywhere else. Inbound and outbound defaults already
        // stop what no allow rule opens, so such a block is left out.
        let explicit_any = remote_list
            .iter()
            .any(|e| e.value == crate::model::Endpoint::Any);
        let remote = match super::endpoint_list_cidrs(model, remote_list) {
            Some(list) if !list.is_empty() => {
                list.iter().map(|r| quote(r)).collect::<Vec<_>>().join(",")
            }
            None if explicit_any => "Any".to_owned(),
            _ => {
                writeln!(
                    w,
                    "    # the model's intent: {}: left out, no address names its remote side",
                    comment(&name)
                )?;
                continue;
            }
        };
        let profile = if profiles.is_empty() {
            "Any".to_owned()
        } else {
            profiles
                .iter()
                .map(|p| profile_word(p))
                .collect::<Vec<_>>()
                .join(",")
        };
        writeln!(w, "    # the model's intent: {}", comment(&name))?;
        let display = format!("cmflow: block {name}");
        let mut parts: Vec<String> = Vec::new();
        if traffic.matches_all_protocols() {
            parts.push(" -Protocol Any".to_owned());
        }
        for protocol in [Protocol::Tcp, Protocol::Udp, Protocol::Icmp] {
            let Some(ports) = super::traffic_ports(traffic, protocol) else {
                continue;
            };
            let mut part = format!(" -Protocol {}", protocol_word(protocol));
            if protocol == Protocol::Icmp {
                part.push_str(" -IcmpType 8");
            } else if !ports.is_empty() {
                let list: Vec<String> = ports
                    .iter()
                    .map(|&(a, b)| quote(&FlowPorts::Range(a, b).to_string()))
                    .collect();
                _ = write!(part, " {port_flag} {}", list.join(","));
            }
            parts.push(part);
        }
        for part in parts {
            writeln!(
                w,
                "    New-NetFirewallRule -DisplayName {} -Group 'cmflow' -Direction {dir_word} -Action Block{part} -RemoteAddress {remote} -Profile {profile} | Out-Null",
                quote(&display)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles() {
        assert_eq!(profile_word("private"), "Private");
    }
}
