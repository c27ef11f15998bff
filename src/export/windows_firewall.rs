//! `--target windows-firewall`: one PowerShell script with a section per server (chosen
//! by the computer's FQDN) and per client group (chosen by `-ClientGroup NAME`). Each
//! section removes the rules an earlier run created (display names start with
//! `cmflow:`) and adds one `New-NetFirewallRule` per rule of the host's plan. The script
//! refuses to run on a computer (or for a client group) it holds no section for.
//!
//! With `--policy-store` the commands name the store: a local one (`localhost`, the
//! computer's local GPO; `PersistentStore`) with `-PolicyStore`, a domain GPO
//! (`domain\GPO name`) through one GPO session (`Open-NetGPO`, `-GPOSession`,
//! `Save-NetGPO`), in which case every section is written into the GPO and the script
//! runs on any computer. `--only` ([`only_hosts`]) keeps the sections of some hosts.
//! `-WhatIf` (the script is `SupportsShouldProcess`) changes nothing: every
//! `*-NetFirewallRule` command gets it through `$PSDefaultParameterValues`, so no
//! rule's command line carries it, and `Save-NetGPO` asks
//! `$PSCmdlet.ShouldProcess`.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::plan::{ExportPlan, HostDirection, HostPlan, HostRule, PortKind};
use super::{Address, ExportInput, Output, address, phase_list};
use crate::diag::did_you_mean;
use crate::engine::{FlowEndpoint, FlowPorts};
use crate::escape::powershell::{BOM, comment, quote};
use crate::model::{Action, Direction, Endpoint, Model, Protocol};

/// Where the script writes its rules (`--policy-store`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyStore {
    /// A store of the computer the script runs on: `localhost` (its local GPO) or
    /// `PersistentStore` (the default of `New-NetFirewallRule`), as written.
    Local(String),
    /// A domain GPO, `domain.tld\GPO name`: written through a GPO session.
    Gpo(String),
}

/// A command-line value cmflow refuses, with a "did you mean" when one is close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError {
    pub message: String,
    pub help: Option<String>,
}

/// The local stores `--policy-store` takes besides a GPO.
const LOCAL_STORES: [&str; 2] = ["localhost", "PersistentStore"];

impl PolicyStore {
    /// `localhost`, `PersistentStore` (any case) or `domain\GPO name`.
    pub fn parse(s: &str) -> Result<Self, UsageError> {
        if let Some((domain, name)) = s.split_once('\\') {
            if domain.trim().is_empty() || name.trim().is_empty() || name.contains('\\') {
                return Err(UsageError {
                    message: format!("`{s}` is not a GPO"),
                    help: Some("write a GPO as `domain.tld\\GPO name`".to_owned()),
                });
            }
            return Ok(Self::Gpo(s.to_owned()));
        }
        if let Some(store) = LOCAL_STORES.iter().find(|l| l.eq_ignore_ascii_case(s)) {
            return Ok(Self::Local((*store).to_owned()));
        }
        let help = did_you_mean(s, LOCAL_STORES).map_or_else(
            || "give `localhost`, `PersistentStore` or a GPO as `domain.tld\\GPO name`".to_owned(),
            |m| format!("did you mean `{m}`?"),
        );
        Err(UsageError {
            message: format!("unknown policy store `{s}`"),
            help: Some(help),
        })
    }
}

/// The servers and client groups that `--only` names: `host:FQDN` (a server),
/// `clients:NAME` (a client group), `site:CODE` (the servers and client groups of the
/// site), comma-separated; an unknown name is an error with the closest known one.
pub fn only_hosts(model: &Model, spec: &str) -> Result<Vec<FlowEndpoint>, UsageError> {
    let list = Endpoint::parse_list(spec).map_err(|e| UsageError {
        message: e.message,
        help: None,
    })?;
    let unknown = |what: &str, name: &str, known: &mut dyn Iterator<Item = &str>| UsageError {
        message: format!("the model has no {what} `{name}`"),
        help: did_you_mean(name, known).map(|m| format!("did you mean `{m}`?")),
    };
    let mut out = Vec::new();
    for (e, _, _) in list {
        match e {
            Endpoint::Host(h) => match model.server_id(&h) {
                Some(i) => out.push(FlowEndpoint::Server(i)),
                None => {
                    return Err(unknown(
                        "server",
                        &h,
                        &mut model.servers.iter().map(|s| s.fqdn.value.as_str()),
                    ));
                }
            },
            Endpoint::Clients(c) => match model.index.clients.get(&c) {
                Some(&i) => out.push(FlowEndpoint::Clients(i)),
                None => {
                    return Err(unknown(
                        "client group",
                        &c,
                        &mut model.clients.iter().map(|g| g.name.value.as_str()),
                    ));
                }
            },
            Endpoint::Site(code) => {
                let Some(site) = model.site_id(&code) else {
                    return Err(unknown(
                        "site",
                        &code,
                        &mut model.sites.iter().map(|s| s.code.value.as_str()),
                    ));
                };
                out.extend(
                    (0..model.servers.len())
                        .filter(|&i| model.servers[i].site == Some(site))
                        .map(FlowEndpoint::Server),
                );
                out.extend(
                    (0..model.clients.len())
                        .filter(|&i| model.clients[i].site.value == code)
                        .map(FlowEndpoint::Clients),
                );
            }
            _ => {
                return Err(UsageError {
                    message: format!("`{spec}`: --only takes host:, clients: and site: names"),
                    help: Some("for example `--only host:cm01.contoso.com,site:P01`".to_owned()),
                });
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

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

/// How the script reaches its store: the text each rule command ends with, before
/// `| Out-Null` (nothing without `--policy-store`).
fn store_parameter(store: Option<&PolicyStore>) -> String {
    match store {
        None => String::new(),
        Some(PolicyStore::Local(s)) => format!(" -PolicyStore {}", quote(s)),
        Some(PolicyStore::Gpo(_)) => " -GPOSession $gpo".to_owned(),
    }
}

pub fn write(
    input: &ExportInput<'_>,
    plan: &ExportPlan<'_>,
    out: &mut dyn Output,
) -> io::Result<()> {
    let model = input.model;
    let hosts: Vec<&HostPlan> = plan
        .hosts
        .iter()
        .filter(|h| {
            input
                .options
                .only
                .as_ref()
                .is_none_or(|only| only.contains(&h.host))
        })
        .collect();
    let store = input.options.policy_store.as_ref();
    let gpo = match store {
        Some(PolicyStore::Gpo(name)) => Some(name.as_str()),
        _ => None,
    };
    let suffix = store_parameter(store);
    let mut w = out.create(FILE)?;
    let rules: usize = hosts.iter().map(|h| h.rules.len()).sum();
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
    if let Some(name) = gpo {
        writeln!(
            w,
            "# {}, {}, all written into the GPO {} (run it anywhere, as a",
            super::count(hosts.len(), "host"),
            super::count(rules, "rule"),
            comment(name)
        )?;
        writeln!(
            w,
            "# user who may edit the GPO): every computer the GPO applies to gets every rule."
        )?;
        writeln!(
            w,
            "# It first removes the GPO's rules named 'cmflow:*', so a rerun replaces them."
        )?;
    } else {
        writeln!(
            w,
            "# {}, {}. Run it as administrator on each server (its section is",
            super::count(hosts.len(), "host"),
            super::count(rules, "rule")
        )?;
        writeln!(
            w,
            "# chosen by the computer's FQDN) or with -ClientGroup NAME on a client. Each section"
        )?;
        writeln!(
            w,
            "# first removes every rule named 'cmflow:*', so a rerun replaces, never duplicates."
        )?;
        if let Some(PolicyStore::Local(name)) = store {
            writeln!(w, "# Rules go to the policy store {}.", comment(name))?;
        }
    }
    writeln!(w, "# -WhatIf shows what it would do and changes nothing.")?;
    if plan.no_path > 0 {
        writeln!(
            w,
            "# {} required flows join zones that no path connects: no rule can carry them.",
            plan.no_path
        )?;
    }
    if gpo.is_none() {
        writeln!(w, "#Requires -RunAsAdministrator")?;
    }
    writeln!(w, "[CmdletBinding(SupportsShouldProcess)]")?;
    if gpo.is_some() {
        writeln!(w, "param()")?;
    } else {
        writeln!(w, "param([string]$ClientGroup = '')")?;
    }
    writeln!(w)?;
    writeln!(w, "$ErrorActionPreference = 'Stop'")?;
    // The NetSecurity cmdlets live in a module, which does not see this script's
    // $WhatIfPreference; default parameter values are bound at the call, here. A new
    // hashtable in the script's scope leaves the caller's defaults alone.
    writeln!(
        w,
        "$PSDefaultParameterValues = @{{ '*-NetFirewallRule:WhatIf' = [bool]$WhatIfPreference }}"
    )?;
    if let Some(name) = gpo {
        writeln!(w, "$gpo = Open-NetGPO -PolicyStore {}", quote(name))?;
        writeln!(
            w,
            "Remove-NetFirewallRule -DisplayName 'cmflow:*' -GPOSession $gpo -ErrorAction SilentlyContinue"
        )?;
        for host in &hosts {
            writeln!(w)?;
            write_host(&mut w, input, host, true, &suffix)?;
        }
        writeln!(w)?;
        writeln!(
            w,
            "if ($PSCmdlet.ShouldProcess({}, 'Save-NetGPO')) {{",
            quote(name)
        )?;
        writeln!(w, "    Save-NetGPO -GPOSession $gpo")?;
        writeln!(w, "}}")?;
        return w.flush();
    }
    writeln!(
        w,
        "$fqdn = [System.Net.Dns]::GetHostEntry([System.Net.Dns]::GetHostName()).HostName"
    )?;
    write_refusal(&mut w, model, &hosts)?;
    writeln!(w, "function Reset-CmflowRules {{")?;
    writeln!(
        w,
        "    Remove-NetFirewallRule -DisplayName 'cmflow:*'{suffix} -ErrorAction SilentlyContinue"
    )?;
    writeln!(w, "}}")?;
    for host in &hosts {
        writeln!(w)?;
        write_host(&mut w, input, host, false, &suffix)?;
    }
    w.flush()
}

/// The hosts the script holds, and the refusal to run anywhere else: before any change,
/// the computer's FQDN must be one of the servers, or `-ClientGroup` one of the groups.
fn write_refusal(w: &mut dyn Write, model: &Model, hosts: &[&HostPlan]) -> io::Result<()> {
    let list = |w: &mut dyn Write, var: &str, servers: bool| -> io::Result<()> {
        writeln!(w, "${var} = @(")?;
        for h in hosts {
            if matches!(h.host, FlowEndpoint::Clients(_)) != servers {
                writeln!(w, "    {}", quote(h.host.name(model)))?;
            }
        }
        writeln!(w, ")")
    };
    list(w, "cmflowServers", true)?;
    list(w, "cmflowClientGroups", false)?;
    writeln!(w, "if ($ClientGroup -ne '') {{")?;
    writeln!(
        w,
        "    if ($cmflowClientGroups -notcontains $ClientGroup) {{"
    )?;
    writeln!(
        w,
        "        Write-Error \"cmflow: this script holds no client group '$ClientGroup' (it holds $($cmflowClientGroups.Count)): nothing changed.\" -ErrorAction Continue"
    )?;
    writeln!(w, "        exit 1")?;
    writeln!(w, "    }}")?;
    writeln!(w, "}} elseif ($cmflowServers -notcontains $fqdn) {{")?;
    writeln!(
        w,
        "    Write-Error \"cmflow: this computer ($env:COMPUTERNAME, $fqdn) is none of the $($cmflowServers.Count) servers this script holds: nothing changed. Run it on one of them, or with -ClientGroup NAME on a client.\" -ErrorAction Continue"
    )?;
    writeln!(w, "    exit 1")?;
    writeln!(w, "}}")
}

/// One host's section: with a GPO (`gpo`), unconditional and without its own reset.
fn write_host(
    w: &mut dyn Write,
    input: &ExportInput<'_>,
    host: &HostPlan,
    gpo: bool,
    suffix: &str,
) -> io::Result<()> {
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
    if !gpo {
        writeln!(w, "if ({condition}) {{")?;
        writeln!(w, "    Reset-CmflowRules")?;
    }
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
            " -RemoteAddress {remote} -Profile {profile}{suffix} | Out-Null"
        );
        writeln!(w, "{line}")?;
    }
    write_blocks(w, input, host, suffix)?;
    if gpo { Ok(()) } else { writeln!(w, "}}") }
}

/// The model's intent on this host: its own `block` rules and the forbids that name it,
/// those that stop none of the flows the export allows (`engine::intent::Carried`).
fn write_blocks(
    w: &mut dyn Write,
    input: &ExportInput<'_>,
    host: &HostPlan,
    suffix: &str,
) -> io::Result<()> {
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
                "    New-NetFirewallRule -DisplayName {} -Group 'cmflow' -Direction {dir_word} -Action Block{part} -RemoteAddress {remote} -Profile {profile}{suffix} | Out-Null",
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

    #[test]
    fn policy_stores() {
        assert_eq!(
            PolicyStore::parse("persistentstore"),
            Ok(PolicyStore::Local("PersistentStore".into()))
        );
        assert_eq!(
            PolicyStore::parse("LocalHost"),
            Ok(PolicyStore::Local("localhost".into()))
        );
        assert_eq!(
            PolicyStore::parse("contoso.com\\Firewall, servers"),
            Ok(PolicyStore::Gpo("contoso.com\\Firewall, servers".into()))
        );
        for bad in ["\\GPO", "contoso.com\\", "a\\b\\c"] {
            let e = PolicyStore::parse(bad).expect_err(bad);
            assert_eq!(e.message, format!("`{bad}` is not a GPO"));
        }
        let e = PolicyStore::parse("localhots").expect_err("typo");
        assert_eq!(e.help.as_deref(), Some("did you mean `localhost`?"));
        let e = PolicyStore::parse("ActiveStore").expect_err("not writable here");
        assert_eq!(e.message, "unknown policy store `ActiveStore`");
    }

    #[test]
    fn only_names_servers_groups_and_sites() {
        let m = crate::engine::test_model(
            r#"
zone "dc" { subnet "10.0.0.0/24" }
site "P01" type="primary" {
    database server="cm01.example.com" instance="MSSQLSERVER"
    server "cm01.example.com" zone="dc" address="10.0.0.10" {
        site-server
        management-point
        sql-instance "MSSQLSERVER"
    }
}
site "P02" type="primary" {
    database server="cm02.example.com" instance="MSSQLSERVER"
    server "cm02.example.com" zone="dc" address="10.0.0.11" {
        site-server
        management-point
        sql-instance "MSSQLSERVER"
    }
}
server "dc01.example.com" zone="dc" address="10.0.0.5"
clients "HQ" site="P01" zone="dc"
clients "Branch" site="P02" zone="dc"
"#,
        );
        let names = |spec: &str| -> Vec<String> {
            only_hosts(&m, spec)
                .expect(spec)
                .iter()
                .map(|e| e.name(&m).to_owned())
                .collect()
        };
        assert_eq!(names("site:P01"), ["cm01.example.com", "HQ"]);
        assert_eq!(
            names("host:DC01.example.com,clients:Branch,site:P01"),
            ["cm01.example.com", "dc01.example.com", "HQ", "Branch"]
        );
        let e = only_hosts(&m, "clients:HQ,host:cm03.example.com").expect_err("unknown");
        assert_eq!(e.message, "the model has no server `cm03.example.com`");
        assert_eq!(e.help.as_deref(), Some("did you mean `cm01.example.com`?"));
        let e = only_hosts(&m, "zone:dc").expect_err("not a host");
        assert!(
            e.message.contains("--only takes host:, clients: and site:"),
            "{e:?}"
        );
    }
}
