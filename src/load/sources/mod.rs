//! Firewalls kept in other formats: the readers behind `source=`/`format=` on `firewall`
//! and `windows-firewall`.
//!
//! Each format has one file here with one entry point, `read`, that turns the text of a
//! source file into the model's own rules ([`FirewallRule`] or [`HostRule`]) whose spans
//! point into that file, plus the `source/unsupported` findings for what the format can
//! say but cmflow cannot represent exactly. A rule touched by such a construct carries
//! [`FirewallRule::uncertain`] / [`HostRule::uncertain`]: the engine then treats its match
//! as unknown wherever the represented parts match, so the verdicts it touches are
//! `indeterminate`, never silently allowed or blocked.
//!
//! This module reads files and builds rules; it knows nothing of flows, routing or
//! checks, and it reports through [`SourceError`] and [`Unsupported`] only.

use std::path::Path;

use crate::model::{Action, FirewallRule, HostRule, SourceId, Span, Spanned};

pub mod aerleon;
pub mod azure_nsg;
pub mod gpo_registry;
pub mod iptables;
pub mod json;
pub mod netfirewallrule;
pub mod nftables;

/// The formats of `format=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceFormat {
    Aerleon,
    NftablesJson,
    IptablesSave,
    AzureNsgJson,
    NetFirewallRuleJson,
    GpoRegistry,
}

impl SourceFormat {
    pub const ALL: [SourceFormat; 6] = [
        SourceFormat::Aerleon,
        SourceFormat::NftablesJson,
        SourceFormat::IptablesSave,
        SourceFormat::AzureNsgJson,
        SourceFormat::NetFirewallRuleJson,
        SourceFormat::GpoRegistry,
    ];

    /// The `format=` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Aerleon => "aerleon",
            SourceFormat::NftablesJson => "nftables-json",
            SourceFormat::IptablesSave => "iptables-save",
            SourceFormat::AzureNsgJson => "azure-nsg-json",
            SourceFormat::NetFirewallRuleJson => "netfirewallrule-json",
            SourceFormat::GpoRegistry => "gpo-registry",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Whether the format describes a Windows Firewall (`windows-firewall`) rather than a
    /// network firewall (`firewall`).
    pub fn is_host(self) -> bool {
        matches!(
            self,
            SourceFormat::NetFirewallRuleJson | SourceFormat::GpoRegistry
        )
    }
}

/// One source file handed to a reader.
pub struct SourceInput<'a> {
    /// The id every span of the result points into (already in the model's source map).
    pub id: SourceId,
    pub text: &'a str,
    /// The file on disk (Aerleon looks for its `def/` folder beside or above it).
    pub path: &'a Path,
    /// The firewall's `zones` (network firewalls; empty for host firewalls).
    pub zones: &'a [String],
    /// The firewall's `attached=` zone (`azure-nsg-json` only).
    pub attached: Option<&'a str>,
}

/// Files a reader opened besides the source file itself (Aerleon definitions, includes),
/// so that spans may point into them too: the caller adds each to the source map.
pub trait ExtraFiles {
    /// Registers a file read by the reader and returns the id its spans use.
    fn add(&mut self, path: &Path, text: String) -> SourceId;
}

/// What a network firewall's source file says.
#[derive(Debug, Default)]
pub struct NetworkRules {
    /// In evaluation order (first match wins).
    pub rules: Vec<FirewallRule>,
    /// The default the file states (a chain policy, an NSG's final deny), with its span;
    /// `None`: the `firewall` node's `default=` applies.
    pub default: Option<Spanned<Action>>,
    pub unsupported: Vec<Unsupported>,
}

/// What a host firewall's source file says.
#[derive(Debug, Default)]
pub struct HostRules {
    pub rules: Vec<HostRule>,
    /// Default actions the file states (`None`: the `windows-firewall` node's applies).
    pub inbound: Option<Spanned<Action>>,
    pub outbound: Option<Spanned<Action>>,
    pub unsupported: Vec<Unsupported>,
}

/// A construct cmflow cannot represent exactly (`source/unsupported`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// Names the construct: "interface match `-i eth0`", "service tag `AzureCloud`".
    pub construct: String,
    /// What cmflow does about it: "the rule's verdicts are indeterminate".
    pub consequence: String,
    pub span: Span,
}

/// A source file that cannot be read or parsed (`source/parse`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SourceError {
    pub message: String,
    /// Where in the source file (or an extra file); `None`: the file as a whole.
    pub span: Option<Span>,
    pub help: Option<String>,
}

impl SourceError {
    pub fn at(span: Span, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            span: Some(span),
            help: None,
        }
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Reads a network firewall's source file.
pub fn read_network(
    format: SourceFormat,
    input: &SourceInput<'_>,
    extra: &mut dyn ExtraFiles,
) -> Result<NetworkRules, SourceError> {
    match format {
        SourceFormat::Aerleon => aerleon::read(input, extra),
        SourceFormat::NftablesJson => nftables::read(input),
        SourceFormat::IptablesSave => iptables::read(input),
        SourceFormat::AzureNsgJson => azure_nsg::read(input),
        SourceFormat::NetFirewallRuleJson | SourceFormat::GpoRegistry => Err(SourceError {
            message: format!("`{}` describes a Windows Firewall", format.as_str()),
            span: None,
            help: Some("use it on a `windows-firewall` node".into()),
        }),
    }
}

/// Reads a host firewall's source file.
pub fn read_host(format: SourceFormat, input: &SourceInput<'_>) -> Result<HostRules, SourceError> {
    match format {
        SourceFormat::NetFirewallRuleJson => netfirewallrule::read(input),
        SourceFormat::GpoRegistry => gpo_registry::read(input),
        _ => Err(SourceError {
            message: format!("`{}` describes a network firewall", format.as_str()),
            span: None,
            help: Some("use it on a `firewall` node".into()),
        }),
    }
}

/// Decodes a source file's bytes: UTF-8 (with or without BOM) or UTF-16 with its BOM
/// (`reg export` and Windows PowerShell 5.1's `Out-File` write UTF-16LE).
pub fn decode(bytes: &[u8]) -> Result<String, SourceError> {
    let whole = |message: String| SourceError {
        message,
        span: None,
        help: None,
    };
    let utf16 = |le: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| {
                let pair = [c[0], *c.get(1).unwrap_or(&0)];
                if le {
                    u16::from_le_bytes(pair)
                } else {
                    u16::from_be_bytes(pair)
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| whole("the file is not valid UTF-16".into()))
    };
    match bytes {
        [0xFF, 0xFE, ..] => utf16(true),
        [0xFE, 0xFF, ..] => utf16(false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            std::str::from_utf8(rest).map(str::to_owned).map_err(|e| {
                whole(format!(
                    "the file is not valid UTF-8 (byte {})",
                    e.valid_up_to() + 3
                ))
            })
        }
        _ => std::str::from_utf8(bytes).map(str::to_owned).map_err(|e| {
            whole(format!(
                "the file is not valid UTF-8 (byte {})",
                e.valid_up_to()
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::SourceFormat;

    #[test]
    fn the_vocabulary_lists_every_format() {
        let names: Vec<&str> = SourceFormat::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(names, crate::load::vocabulary::SOURCE_FORMATS);
        for f in SourceFormat::ALL {
            assert_eq!(SourceFormat::parse(f.as_str()), Some(f));
        }
    }
}

/// What the readers' unit tests share: an input for a text, and spans and values as text.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::Path;

    use super::SourceInput;
    use crate::model::{Endpoint, PortList, SourceId, Span, Spanned};

    /// `text` as source 0 named `name`, with no zones and nothing attached.
    pub fn input<'a>(text: &'a str, name: &'static str) -> SourceInput<'a> {
        SourceInput {
            id: SourceId(0),
            text,
            path: Path::new(name),
            zones: &[],
            attached: None,
        }
    }

    /// The text a span covers.
    pub fn at(text: &str, span: Span) -> &str {
        &text[span.start..span.end]
    }

    /// A port list as written, or `-` for none.
    pub fn ports(list: Option<&Spanned<PortList>>) -> String {
        list.map_or_else(|| "-".into(), |l| l.value.to_string())
    }

    /// Endpoints as written.
    pub fn ends(list: &[Spanned<Endpoint>]) -> Vec<String> {
        list.iter().map(|e| e.value.to_string()).collect()
    }
}
