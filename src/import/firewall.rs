//! A firewall `source` file as KDL: one `firewall` node (network formats) or one
//! `windows-firewall` node (host formats), named after the file's stem, formatted as
//! `cmflow fmt` formats.
//!
//! What KDL cannot say exactly is said in comments where it applies: the `zones` the
//! firewall separates (which no source format states) is a commented placeholder; every
//! `source/unsupported` construct is a comment above the rule it touches (the KDL rule
//! matches without it: review it); an Azure NSG rule's guard narrows `to` (inbound) or
//! `from` (outbound) to `zone:ZONE` when it is `any`, and is a comment otherwise.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use crate::diag::{Diagnostic, Label};
use crate::escape::kdl::{comment, string};
use crate::export::kdl::traffic_props;
use crate::load::codes;
use crate::load::sources::{
    self, ExtraFiles, HostRules, NetworkRules, SourceError, SourceFormat, SourceInput, Unsupported,
};
use crate::model::{
    Action, Direction, Endpoint, FirewallRule, HostRule, RuleGuard, SourceFile, SourceId,
    SourceMap, Span, Spanned,
};

/// The placeholder `attached` zone of an Azure NSG imported without `--attached`.
pub const ATTACHED_PLACEHOLDER: &str = "ATTACHED-ZONE";

/// What an import gives: the KDL (`None` when the file could not be read), and the
/// diagnostics with the files they point into.
pub struct Imported {
    /// The file stem: the firewall's name and the output file's.
    pub stem: String,
    pub kdl: Option<String>,
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

/// The files the reader opened, registered so that diagnostics can point into them.
struct Files<'m>(&'m mut SourceMap);

impl ExtraFiles for Files<'_> {
    fn add(&mut self, path: &Path, text: String) -> SourceId {
        self.0.add(SourceFile::new(
            crate::load::display_path(path),
            Arc::from(text),
            false,
        ))
    }
}

/// Reads `path` (whose bytes are `bytes`) in `format` and writes it as KDL. `attached` is
/// the zone an Azure NSG guards (a placeholder when `None`).
pub fn import(format: SourceFormat, path: &Path, bytes: &[u8], attached: Option<&str>) -> Imported {
    let stem = path.file_stem().map_or_else(
        || "imported".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    let name = crate::load::display_path(path);
    let mut sources = SourceMap::default();
    let mut diagnostics = Vec::new();
    let text = match sources::decode(bytes) {
        Ok(text) => text,
        Err(e) => {
            let id = sources.add(SourceFile::new(name.clone(), Arc::from(""), false));
            diagnostics.push(Diagnostic::new(
                &codes::SOURCE_PARSE,
                format!("cannot read `{name}`: {}", e.message),
                Label::new(Span::new(id, 0, 0), "this file"),
            ));
            return Imported {
                stem,
                kdl: None,
                sources,
                diagnostics,
            };
        }
    };
    let text: Arc<str> = Arc::from(text);
    let id = sources.add(SourceFile::new(name.clone(), text.clone(), false));
    let attached = if format == SourceFormat::AzureNsgJson {
        Some(attached.unwrap_or(ATTACHED_PLACEHOLDER))
    } else {
        None
    };
    let input = SourceInput {
        id,
        text: &text,
        path,
        zones: &[],
        attached,
    };
    let header = format!(
        "// Imported by `cmflow import {} {}`.\n",
        format.as_str(),
        comment(&name)
    );
    let kdl = if format.is_host() {
        sources::read_host(format, &input).map(|read| {
            report(&read.unsupported, &mut diagnostics);
            header + &host_firewall(&read)
        })
    } else {
        let mut files = Files(&mut sources);
        sources::read_network(format, &input, &mut files).map(|read| {
            report(&read.unsupported, &mut diagnostics);
            header + &network_firewall(&stem, &read, attached)
        })
    };
    let kdl = match kdl {
        Ok(kdl) => Some(formatted(kdl)),
        Err(e) => {
            diagnostics.push(parse_error(e, id));
            None
        }
    };
    Imported {
        stem,
        kdl,
        sources,
        diagnostics,
    }
}

/// `cmflow fmt`'s layout (the text is already close to it: this fixes the indentation).
fn formatted(kdl: String) -> String {
    match crate::format::format_kdl(&kdl) {
        crate::format::Formatted::Text(text) => text,
        _ => kdl,
    }
}

fn parse_error(e: SourceError, id: SourceId) -> Diagnostic {
    let (span, label) = match e.span {
        Some(span) => (span, "here"),
        None => (Span::new(id, 0, 0), "this file"),
    };
    let d = Diagnostic::new(&codes::SOURCE_PARSE, e.message, Label::new(span, label));
    match e.help {
        Some(help) => d.with_help(help),
        None => d,
    }
}

fn report(found: &[Unsupported], diagnostics: &mut Vec<Diagnostic>) {
    for u in found {
        diagnostics.push(
            Diagnostic::new(
                &codes::SOURCE_UNSUPPORTED,
                format!("cmflow cannot represent {} exactly", u.construct),
                Label::new(u.span, "not represented"),
            )
            .with_help(format!(
                "the KDL rule matches without it: review it ({})",
                u.consequence
            )),
        );
    }
}

/// The `source/unsupported` constructs of a rule: those inside its span, and the one its
/// `uncertain` names (a conditional `RETURN` above it).
fn constructs(
    rule_span: Span,
    uncertain: Option<Span>,
    found: &[Unsupported],
) -> impl Iterator<Item = &Unsupported> {
    found.iter().filter(move |u| {
        uncertain == Some(u.span)
            || (uncertain.is_some()
                && u.span.source == rule_span.source
                && u.span.start >= rule_span.start
                && u.span.end <= rule_span.end)
    })
}

fn unsupported_comments(
    out: &mut String,
    rule_span: Span,
    uncertain: Option<Span>,
    found: &[Unsupported],
) {
    for u in constructs(rule_span, uncertain, found) {
        _ = writeln!(
            out,
            "    // source/unsupported: {}; this rule matches without it: review it",
            comment(&u.construct)
        );
    }
}

fn action(a: Action) -> &'static str {
    match a {
        Action::Allow => "allow",
        Action::Deny => "deny",
    }
}

fn network_firewall(stem: &str, read: &NetworkRules, attached: Option<&str>) -> String {
    let mut out = format!("firewall {}", string(stem));
    if let Some(default) = &read.default {
        _ = write!(out, " default={}", string(action(default.value)));
    }
    out.push_str(" {\n");
    out.push_str(
        "    // zones \"ZONE\" \"ZONE\" // the zones this firewall separates: name them and remove the leading `//`\n",
    );
    if let Some(zone) = attached {
        _ = writeln!(
            out,
            "    // An Azure NSG guards the subnet of zone {}: inbound rules apply to flows into it, outbound rules to flows out of it.",
            comment(zone)
        );
    }
    for rule in &read.rules {
        unsupported_comments(&mut out, rule.span, rule.uncertain, &read.unsupported);
        out.push_str(&network_rule(rule));
    }
    out.push_str("}\n");
    out
}

/// One rule; a guard narrows the side it is about when that side is `any`.
fn network_rule(rule: &FirewallRule) -> String {
    let mut traffic = rule.traffic.clone();
    let mut note = None;
    let narrow = |side: &mut Vec<Spanned<Endpoint>>, zone: &str, what: &str| {
        if side.iter().all(|e| e.value == Endpoint::Any) {
            let span = side.first().map_or(rule.span, |e| e.span);
            *side = vec![Spanned::new(Endpoint::Zone(zone.to_owned()), span)];
            None
        } else {
            Some(format!(
                "    // applies only to flows {what} zone {} (an NSG rule): the KDL rule does not say so\n",
                comment(zone)
            ))
        }
    };
    match &rule.guard {
        RuleGuard::Always => {}
        RuleGuard::IntoZone(z) => note = narrow(&mut traffic.to, z, "into"),
        RuleGuard::OutOfZone(z) => note = narrow(&mut traffic.from, z, "out of"),
    }
    let name = rule
        .name
        .as_ref()
        .map(|n| format!(" {}", string(&n.value)))
        .unwrap_or_default();
    format!(
        "{}    {}{name}{}\n",
        note.unwrap_or_default(),
        action(rule.action),
        traffic_props(&traffic)
    )
}

fn host_firewall(read: &HostRules) -> String {
    let host_action = |a: Action| match a {
        Action::Allow => "allow",
        Action::Deny => "block",
    };
    let mut out = String::from(
        "// Place this node inside the `server` or `clients` node whose Windows Firewall it is.\n",
    );
    out.push_str("windows-firewall");
    if let Some(a) = &read.inbound {
        _ = write!(out, " inbound={}", string(host_action(a.value)));
    }
    if let Some(a) = &read.outbound {
        _ = write!(out, " outbound={}", string(host_action(a.value)));
    }
    out.push_str(" {\n");
    for rule in &read.rules {
        unsupported_comments(&mut out, rule.span, rule.uncertain, &read.unsupported);
        out.push_str(&host_rule(rule, host_action(rule.action)));
    }
    out.push_str("}\n");
    out
}

fn host_rule(rule: &HostRule, action: &str) -> String {
    let (direction, source_port) = match rule.direction {
        Direction::In => ("in", "remote-port"),
        Direction::Out => ("out", "local-port"),
    };
    let mut out = format!("    {action} {direction}");
    if let Some(n) = &rule.name {
        _ = write!(out, " {}", string(&n.value));
    }
    out.push_str(&traffic_props(&rule.traffic));
    if !rule.profiles.is_empty() {
        _ = write!(out, " profile={}", string(&rule.profiles.join(",")));
    }
    if let Some(p) = &rule.source_ports {
        _ = write!(out, " {source_port}={}", string(&p.value.to_string()));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PortList, Traffic};

    fn span() -> Span {
        Span::new(SourceId(0), 0, 0)
    }

    fn traffic(from: Endpoint, to: Endpoint, tcp: &str) -> Traffic {
        Traffic {
            from: vec![Spanned::new(from, span())],
            to: vec![Spanned::new(to, span())],
            tcp: Some(Spanned::new(PortList::parse(tcp, true).unwrap(), span())),
            udp: None,
            icmp: false,
        }
    }

    #[test]
    fn nsg_guards_narrow_any_to_the_zone_or_become_comments() {
        let net: ipnet::IpNet = "10.2.0.0/24".parse().unwrap();
        let rule = |guard, from, to| FirewallRule {
            action: Action::Allow,
            name: Some(Spanned::new("r".into(), span())),
            traffic: traffic(from, to, "443"),
            guard,
            uncertain: None,
            span: span(),
        };
        let read = NetworkRules {
            rules: vec![
                rule(
                    RuleGuard::IntoZone("web".into()),
                    Endpoint::Any,
                    Endpoint::Any,
                ),
                rule(
                    RuleGuard::OutOfZone("web".into()),
                    Endpoint::Any,
                    Endpoint::Any,
                ),
                rule(
                    RuleGuard::IntoZone("web".into()),
                    Endpoint::Any,
                    Endpoint::Cidr(net),
                ),
            ],
            default: Some(Spanned::new(Action::Deny, span())),
            unsupported: Vec::new(),
        };
        let kdl = formatted(network_firewall("nsg-web", &read, Some("web")));
        assert_eq!(
            kdl,
            r#"firewall "nsg-web" default="deny" {
    // zones "ZONE" "ZONE" // the zones this firewall separates: name them and remove the leading `//`
    // An Azure NSG guards the subnet of zone web: inbound rules apply to flows into it, outbound rules to flows out of it.
    allow "r" from="any" to="zone:web" tcp="443"
    allow "r" from="zone:web" to="any" tcp="443"
    // applies only to flows into zone web (an NSG rule): the KDL rule does not say so
    allow "r" from="any" to="cidr:10.2.0.0/24" tcp="443"
}
"#
        );
    }

    #[test]
    fn host_rules_keep_direction_profiles_and_source_ports() {
        let read = HostRules {
            rules: vec![HostRule {
                action: Action::Deny,
                direction: Direction::In,
                name: Some(Spanned::new("No \"SMB\"".into(), span())),
                traffic: traffic(Endpoint::Any, Endpoint::Any, "445"),
                profiles: vec!["domain".into(), "private".into()],
                source_ports: Some(Spanned::new(
                    PortList::parse("1024-65535", true).unwrap(),
                    span(),
                )),
                uncertain: Some(Span::new(SourceId(0), 0, 3)),
                span: Span::new(SourceId(0), 0, 10),
            }],
            inbound: Some(Spanned::new(Action::Deny, span())),
            outbound: None,
            unsupported: vec![Unsupported {
                construct: "program `C:\\app.exe`".into(),
                consequence: "unknown".into(),
                span: Span::new(SourceId(0), 0, 3),
            }],
        };
        assert_eq!(
            formatted(host_firewall(&read)),
            r#"// Place this node inside the `server` or `clients` node whose Windows Firewall it is.
windows-firewall inbound="block" {
    // source/unsupported: program `C:\app.exe`; this rule matches without it: review it
    block in "No \"SMB\"" from="any" to="any" tcp="445" profile="domain,private" remote-port="1024-65535"
}
"#
        );
    }
}
