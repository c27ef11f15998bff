//! `format="gpo-registry"`: Windows Firewall rules as Group Policy stores them in the
//! registry, one `v2.xx|Action=Allow|Dir=In|...|` string per rule ([MS-GPFAS] § 2.2.2.19),
//! read from a `reg export` of the policy's `FirewallRules` key (REGEDIT4 or version
//! 5.00, which [`super::decode`] turns into text) or from a text file with one rule string
//! per line (`docs/sources/gpo-registry.md`).
//!
//! This module owns the `.reg` syntax and the rule-string grammar; the mapping onto the
//! model is the one [`super::netfirewallrule`] shares. A `reg export` of the parent
//! `WindowsFirewall` key also holds the profiles' `DefaultInboundAction`,
//! `DefaultOutboundAction` and `EnableFirewall`: they are read too.

use super::netfirewallrule::{
    ProfileDefaults, ProtocolMatch, RuleDraft, address_token, defaults, icmp_includes_echo,
    port_token, profile_names,
};
use super::{HostRules, SourceError, SourceInput};
use crate::model::{Action, Direction, SourceId, Span, Spanned};

/// One rule string with where each of its bytes is written in the file (escapes in a
/// `.reg` string make the two differ).
struct RuleString {
    text: String,
    /// The file offset of each byte of `text`, plus one past the end.
    offsets: Vec<usize>,
    /// The registry value's name, when the rule comes from a `.reg` file.
    value_name: Option<Spanned<String>>,
}

impl RuleString {
    fn span(&self, id: SourceId, start: usize, end: usize) -> Span {
        let at = |i: usize| self.offsets.get(i).copied().unwrap_or(0);
        // The end is one past the last byte: its file offset follows that byte's.
        let end = if end > start {
            at(end - 1) + 1
        } else {
            at(start)
        };
        Span::new(id, at(start), end)
    }
}

/// Reads a `gpo-registry` file.
pub fn read(input: &SourceInput<'_>) -> Result<HostRules, SourceError> {
    let first = input
        .text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let is_reg = first == "REGEDIT4" || first.starts_with("Windows Registry Editor Version");
    let (strings, profiles) = if is_reg {
        read_reg(input.id, input.text)?
    } else {
        (read_lines(input.text), Vec::new())
    };
    let mut out = HostRules::default();
    for s in &strings {
        if let Some(draft) = read_rule(input.id, s)?
            && let Some(rule) = draft.finish(&mut out.unsupported)
        {
            out.rules.push(rule);
        }
    }
    defaults(&profiles, &mut out);
    Ok(out)
}

/// A text file: one rule string per line; blank lines and lines starting with `#` or `;`
/// are skipped.
fn read_lines(text: &str) -> Vec<RuleString> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        let body = trimmed.trim_end();
        if body.is_empty() || body.starts_with('#') || body.starts_with(';') {
            continue;
        }
        let base = start + lead;
        out.push(RuleString {
            text: body.to_owned(),
            offsets: (base..=base + body.len()).collect(),
            value_name: None,
        });
    }
    out
}

/// What the current `.reg` key is: rules, a profile (its index), or another key.
enum Key {
    Rules,
    Profile(usize),
    Other,
}

/// A `.reg` file: the string values of every key named `FirewallRules`, and the profile
/// settings of the keys named `DomainProfile`, `PrivateProfile` and `PublicProfile`.
fn read_reg(
    id: SourceId,
    text: &str,
) -> Result<(Vec<RuleString>, Vec<ProfileDefaults>), SourceError> {
    let mut rules = Vec::new();
    let mut profiles: Vec<ProfileDefaults> = Vec::new();
    let mut key = Key::Other;
    let mut offset = 0;
    let mut continued = false;
    for raw in text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\r', '\n']);
        // Hex values go on over lines ending in `\`: skip their continuation lines.
        if continued {
            continued = line.trim_end().ends_with('\\');
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty()
            || trimmed.starts_with(';')
            || trimmed == "REGEDIT4"
            || trimmed.starts_with("Windows Registry Editor Version")
        {
            continue;
        }
        if let Some(path) = trimmed.strip_prefix('[') {
            let path = path.trim_end_matches(']').to_ascii_lowercase();
            let last = path.rsplit('\\').next().unwrap_or("");
            key = match last {
                _ if path.starts_with('-') => Key::Other,
                "firewallrules" => Key::Rules,
                "domainprofile" | "privateprofile" | "publicprofile" => {
                    let name = match last {
                        "domainprofile" => "Domain",
                        "privateprofile" => "Private",
                        _ => "Public",
                    };
                    profiles.push(ProfileDefaults {
                        name: name.into(),
                        inbound: None,
                        outbound: None,
                        off: None,
                    });
                    Key::Profile(profiles.len() - 1)
                }
                _ => Key::Other,
            };
            continue;
        }
        let lead = line.len() - line.trim_start().len();
        let base = start + lead;
        let line_span = Span::new(id, base, start + line.trim_end().len());
        let (name, rest) = if let Some(rest) = trimmed.strip_prefix('@') {
            (None, rest)
        } else if trimmed.starts_with('"') {
            let (name, used) = reg_string(trimmed, base)
                .ok_or_else(|| SourceError::at(line_span, "unterminated value name"))?;
            (Some(name), &trimmed[used..])
        } else {
            return Err(SourceError::at(
                line_span,
                "expected a key `[...]` or a value `\"NAME\"=DATA`",
            ));
        };
        let Some(data) = rest.trim_start().strip_prefix('=') else {
            return Err(SourceError::at(
                line_span,
                "expected `=` after the value name",
            ));
        };
        let data_start = base + (trimmed.len() - data.len());
        let data_trimmed = data.trim_start();
        let data_start = data_start + (data.len() - data_trimmed.len());
        let data = data_trimmed.trim_end();
        if !data.starts_with('"') && data.ends_with('\\') {
            // A hex value that goes on over the next lines: never a rule or a dword.
            continued = true;
            continue;
        }
        match key {
            Key::Rules if data.starts_with('"') => {
                let (value, used) = reg_string(data, data_start)
                    .ok_or_else(|| SourceError::at(line_span, "unterminated string value"))?;
                if used != data.len() {
                    return Err(SourceError::at(
                        Span::new(id, data_start + used, data_start + data.len()),
                        "unexpected text after the string value",
                    ));
                }
                rules.push(RuleString {
                    text: value.text,
                    offsets: value.offsets,
                    value_name: name.map(|n| {
                        let span = n.span(id, 0, n.text.len());
                        Spanned::new(n.text, span)
                    }),
                });
            }
            Key::Profile(i) => {
                let Some(name) = name else { continue };
                let Some(hex) = data.strip_prefix("dword:") else {
                    continue;
                };
                let span = Span::new(id, data_start, data_start + data.len());
                let value = u32::from_str_radix(hex.trim(), 16)
                    .map_err(|_| SourceError::at(span, format!("`{data}` is not a dword")))?;
                let action = |v: u32| {
                    // [MS-GPFAS] § 2.2.3.16-17: 0 allows, 1 blocks.
                    Spanned::new(if v == 0 { Action::Allow } else { Action::Deny }, span)
                };
                let p = &mut profiles[i];
                match name.text.to_ascii_lowercase().as_str() {
                    "defaultinboundaction" => p.inbound = Some(action(value)),
                    "defaultoutboundaction" => p.outbound = Some(action(value)),
                    "enablefirewall" if value == 0 => p.off = Some(span),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    Ok((rules, profiles))
}

/// A `.reg` quoted string at the start of `s` (which starts at file offset `base`):
/// its text with `\\` and `\"` unescaped, the file offset of each byte, and how many
/// bytes of `s` it used. `None`: no closing quote.
fn reg_string(s: &str, base: usize) -> Option<(RuleString, usize)> {
    let mut text = String::new();
    let mut offsets = Vec::new();
    let mut chars = s.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                offsets.push(base + i);
                return Some((
                    RuleString {
                        text,
                        offsets,
                        value_name: None,
                    },
                    i + 1,
                ));
            }
            '\\' if matches!(chars.peek(), Some((_, '\\' | '"'))) => {
                let (j, e) = chars.next()?;
                offsets.extend((0..e.len_utf8()).map(|k| base + j + k));
                text.push(e);
            }
            _ => {
                offsets.extend((0..c.len_utf8()).map(|k| base + i + k));
                text.push(c);
            }
        }
    }
    None
}

/// Fields that do not change which traffic a rule matches: read or ignored.
const DESCRIPTIVE: &[&str] = &[
    "Name",
    "Desc",
    "EmbedCtxt",
    "Edge",
    "Defer",
    "LSM",
    "LOM",
    "Platform",
    "Platform2",
    "SkipVer",
    "PCross",
    "AuthByPassOut",
];

/// Fields that scope a rule to what cmflow cannot see, with what they are.
const SCOPING: &[(&str, &str)] = &[
    ("App", "program"),
    ("Svc", "service"),
    ("IF", "interface"),
    ("IFType", "interface type"),
    ("Security", "IPsec requirement"),
    ("Security2_9", "IPsec requirement"),
    ("Security2", "IPsec requirement"),
    ("RMauth", "remote machine authorization"),
    ("RUAuth", "remote user authorization"),
    ("LUAuth", "local user authorization"),
    ("LUAuth2_24", "local user authorization"),
    ("LUOwn", "local user owner"),
    ("AppPkgId", "package"),
    ("TTK", "trust tuple keyword"),
    ("TTK2_22", "trust tuple keyword"),
    ("TTK2_27", "trust tuple keyword"),
    ("TTK2_28", "trust tuple keyword"),
    ("NNm", "network name"),
    ("SecurityRealmId", "security realm"),
    ("RA42", "address keyword"),
    ("RA62", "address keyword"),
    ("LPort2_20", "port keyword"),
];

/// One rule string; `None` for an inactive rule (`Active=FALSE`, or no `Active`, which the
/// grammar reads as false).
fn read_rule(id: SourceId, s: &RuleString) -> Result<Option<RuleDraft>, SourceError> {
    let whole = s.span(id, 0, s.text.len());
    let Some(rest) = s
        .text
        .strip_prefix('v')
        .or_else(|| s.text.strip_prefix('V'))
    else {
        return Err(SourceError::at(
            whole,
            "a rule string starts with its version, such as `v2.31|`",
        ));
    };
    let version_len = rest.find('|').unwrap_or(rest.len());
    let version = &rest[..version_len];
    if !version
        .split_once('.')
        .is_some_and(|(a, b)| a.parse::<u8>().is_ok() && b.parse::<u8>().is_ok())
    {
        return Err(SourceError::at(
            s.span(id, 0, 1 + version_len),
            format!("`v{version}` is not a rule string version such as `v2.31`"),
        ));
    }
    let mut action = None;
    let mut direction = None;
    let mut active = false;
    let mut protocol: Option<(String, Span)> = None;
    let mut profiles: Vec<(String, Span)> = Vec::new();
    let mut local_ports = Vec::new();
    let mut remote_ports = Vec::new();
    let mut local_addresses = Vec::new();
    let mut remote_addresses = Vec::new();
    let mut icmp_types: Vec<String> = Vec::new();
    let mut name = None;
    let mut scoped: Vec<(String, Span)> = Vec::new();
    let mut offset = 1 + version_len;
    for field in rest[version_len..].split('|') {
        let start = offset;
        offset += field.len() + 1;
        if field.is_empty() {
            continue;
        }
        let field_span = s.span(id, start, start + field.len());
        let Some((key, value)) = field.split_once('=') else {
            return Err(SourceError::at(
                field_span,
                format!("`{field}` is not a field `NAME=VALUE`"),
            ));
        };
        let value_start = start + key.len() + 1;
        let value_span = s.span(id, value_start, value_start + value.len());
        let port = |v: &str| {
            port_token(v)
                .map(|t| Spanned::new(t, value_span))
                .map_err(|m| SourceError::at(value_span, m))
        };
        let address = |v: &str| {
            address_token(v)
                .map(|t| Spanned::new(t, value_span))
                .map_err(|m| SourceError::at(value_span, m))
        };
        let flag = |v: &str| match v.to_ascii_uppercase().as_str() {
            "TRUE" => Ok(true),
            "FALSE" => Ok(false),
            _ => Err(SourceError::at(
                value_span,
                format!("`{key}` is TRUE or FALSE, not `{v}`"),
            )),
        };
        match key {
            "Action" => {
                action = Some(match value {
                    "Allow" => (Action::Allow, false),
                    "Block" => (Action::Deny, false),
                    // Authenticated traffic bypasses block rules: an uncertain allow.
                    "ByPass" | "Bypass" => (Action::Allow, true),
                    _ => {
                        return Err(SourceError::at(
                            value_span,
                            format!("`Action` is Allow, Block or ByPass, not `{value}`"),
                        ));
                    }
                });
                if action.is_some_and(|(_, b)| b) {
                    scoped.push((
                        "action `ByPass` (authenticated traffic bypasses block rules)".into(),
                        value_span,
                    ));
                }
            }
            "Dir" => {
                direction = Some(match value {
                    "In" => Direction::In,
                    "Out" => Direction::Out,
                    _ => {
                        return Err(SourceError::at(
                            value_span,
                            format!("`Dir` is In or Out, not `{value}`"),
                        ));
                    }
                });
            }
            "Active" => active = flag(value)?,
            "Protocol" => protocol = Some((value.to_owned(), value_span)),
            "Profile" => profiles.push((value.to_owned(), value_span)),
            "LPort" | "LPort2_10" => local_ports.push(port(value)?),
            "RPort" | "RPort2_10" => remote_ports.push(port(value)?),
            "LA4" | "LA6" => local_addresses.push(address(value)?),
            "RA4" | "RA6" => remote_addresses.push(address(value)?),
            "ICMP4" | "ICMP6" => icmp_types.push(value.to_owned()),
            "Name" => name = Some(Spanned::new(value.to_owned(), value_span)),
            _ if DESCRIPTIVE.iter().any(|d| d.eq_ignore_ascii_case(key)) => {}
            _ => {
                let what = SCOPING
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map_or_else(
                        || format!("the field `{key}={value}`"),
                        |(_, w)| format!("{w} `{value}`"),
                    );
                scoped.push((what, field_span));
            }
        }
    }
    if !active {
        return Ok(None);
    }
    let Some((action, _)) = action else {
        return Err(SourceError::at(whole, "the rule string has no `Action=`"));
    };
    let Some(direction) = direction else {
        return Err(SourceError::at(whole, "the rule string has no `Dir=`"));
    };
    let protocol = match protocol {
        None => Spanned::new(ProtocolMatch::Any, whole),
        Some((text, span)) => {
            let mut p = match text.parse::<u16>() {
                Ok(n) if n <= 256 => ProtocolMatch::parse(&text),
                _ => None,
            }
            .ok_or_else(|| {
                SourceError::at(
                    span,
                    format!("`Protocol` is a number up to 255, not `{text}`"),
                )
            })?;
            if let ProtocolMatch::Icmp { .. } = p
                && !icmp_types.is_empty()
            {
                let echo = ProtocolMatch::echo_type(&text);
                p = ProtocolMatch::Icmp {
                    echo: icmp_types.iter().any(|t| icmp_includes_echo(t, echo)),
                };
            }
            Spanned::new(p, span)
        }
    };
    let profile_list = profile_names(profiles.iter().map(|(p, _)| p.as_str())).map_err(|w| {
        let span = profiles
            .iter()
            .find(|(p, _)| *p == w)
            .map_or(whole, |(_, s)| *s);
        SourceError::at(
            span,
            format!("`{w}` is not a profile: Domain, Private or Public"),
        )
    })?;
    // Indirect names (`@FirewallAPI.dll,-28502`) mean nothing outside Windows: the
    // registry value's name says more.
    let name = match (name, &s.value_name) {
        (Some(n), Some(v)) if n.value.starts_with('@') => Some(v.clone()),
        (Some(n), _) => Some(n),
        (None, v) => v.clone(),
    };
    let mut draft = RuleDraft {
        action,
        direction,
        name,
        profiles: profile_list,
        protocol,
        local_ports,
        remote_ports,
        local_addresses,
        remote_addresses,
        unsupported: Vec::new(),
        span: whole,
    };
    for (construct, span) in scoped {
        draft.unsupported(construct, span);
    }
    Ok(Some(draft))
}

#[cfg(test)]
mod tests;
