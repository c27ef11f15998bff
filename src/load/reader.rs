//! The node-walking helper: checks one KDL node against its [`NodeSpec`] (name in context,
//! arguments, properties, value kinds) and returns its validated values with spans,
//! pushing a diagnostic for every problem instead of stopping at the first.

use kdl::{KdlEntry, KdlNode, KdlValue};

use super::codes::{DUPLICATE_NAME, INVALID_VALUE, MISSING_VALUE, UNKNOWN_NODE, UNKNOWN_PROPERTY};
use super::vocabulary::{Context, Kind, NodeSpec};
use crate::diag::fix::rename;
use crate::diag::{Diagnostic, Label, did_you_mean};
use crate::model::values::{ValueError, check_fqdn, parse_port_range};
use crate::model::{Endpoint, PortList, Props, SourceId, Span, Spanned, Value};

/// A node that passed its spec: arguments and properties validated (invalid ones are
/// dropped after being reported).
pub struct CheckedNode<'a> {
    pub node: &'a KdlNode,
    pub spec: &'static NodeSpec,
    pub args: Vec<Option<Spanned<Value>>>,
    pub props: Props,
    pub span: Span,
    pub name_span: Span,
}

impl CheckedNode<'_> {
    /// A string argument.
    pub fn arg_str(&self, i: usize) -> Option<Spanned<String>> {
        match self.args.get(i)? {
            Some(Spanned {
                value: Value::Str(s),
                span,
            }) => Some(Spanned::new(s.clone(), *span)),
            _ => None,
        }
    }

    /// A string property with its value span.
    pub fn prop_str(&self, name: &str) -> Option<Spanned<String>> {
        match self.props.get(name)? {
            Spanned {
                value: Value::Str(s),
                span,
            } => Some(Spanned::new(s.clone(), *span)),
            _ => None,
        }
    }
}

/// Walks the nodes of one file.
pub struct Reader<'a> {
    pub source: SourceId,
    pub text: &'a str,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> Reader<'a> {
    pub fn new(source: SourceId, text: &'a str) -> Self {
        Self {
            source,
            text,
            diagnostics: Vec::new(),
        }
    }

    pub fn span(&self, s: miette::SourceSpan) -> Span {
        let start = s.offset().min(self.text.len());
        Span::new(
            self.source,
            start,
            (s.offset() + s.len()).min(self.text.len()),
        )
    }

    pub(super) fn report(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// The span of an entry's value (after `key=` for properties).
    pub fn value_span(&self, entry: &KdlEntry) -> Span {
        let span = self.span(entry.span());
        let Some(name) = entry.name() else {
            return span;
        };
        let after_name = self.span(name.span()).end;
        let rest = &self.text[after_name..span.end];
        let skip = rest.find('=').map_or(0, |i| {
            let after_eq = &rest[i + 1..];
            i + 1 + (after_eq.len() - after_eq.trim_start().len())
        });
        Span::new(self.source, after_name + skip, span.end)
    }

    /// The span of `offset..offset+len` inside a string value, when the value is written
    /// without escapes (so bytes map one to one); otherwise the whole value.
    pub fn inner_span(&self, value_span: Span, offset: usize, len: usize) -> Span {
        let written = &self.text[value_span.start..value_span.end];
        let hashes = written.len() - written.trim_start_matches('#').len();
        let quoted = &written[hashes..];
        let content_start = if quoted.starts_with("\"\"\"") {
            return value_span;
        } else if quoted.starts_with('"') {
            hashes + 1
        } else {
            0
        };
        if hashes == 0 && written.contains('\\') {
            return value_span;
        }
        let start = value_span.start + content_start + offset;
        Span::new(
            self.source,
            start.min(value_span.end),
            (start + len.max(1)).min(value_span.end),
        )
    }

    /// Checks a node's name in `context`, then its arguments and properties.
    pub fn check<'n>(&mut self, node: &'n KdlNode, context: Context) -> Option<CheckedNode<'n>> {
        let name = node.name().value();
        let span = self.span(node.span());
        let name_span = self.span(node.name().span());
        let Some(spec) = context.find(name) else {
            self.unknown_node(name, name_span, context);
            return None;
        };
        let mut args = Vec::new();
        let mut positional = node.entries().iter().filter(|e| e.name().is_none());
        for (i, arg_spec) in spec.args.iter().enumerate() {
            let entries: Vec<&KdlEntry> = if arg_spec.repeat {
                positional.by_ref().collect()
            } else {
                positional.next().into_iter().collect()
            };
            if entries.is_empty() {
                if arg_spec.required {
                    self.report(
                        Diagnostic::new(
                            &MISSING_VALUE,
                            format!("`{name}` needs its {} as argument {}", arg_spec.what, i + 1),
                            Label::new(name_span, format!("no {}", arg_spec.what)),
                        )
                        .with_help(format!("write it after the node name: {name} \"...\"")),
                    );
                }
                args.push(None);
            }
            for entry in entries {
                let vspan = self.value_span(entry);
                args.push(self.check_value(
                    entry.value(),
                    arg_spec.kind,
                    vspan,
                    arg_spec.what,
                    context,
                ));
            }
        }
        if ENDPOINT_NAMED.contains(&name)
            && let Some(Some(Spanned {
                value: Value::Str(n),
                span: vspan,
            })) = args.first()
            && (n.contains(',') || n.trim() != n)
        {
            self.report(
                Diagnostic::new(
                    &INVALID_VALUE,
                    format!("a `{name}` name cannot hold a comma or start or end with a space"),
                    Label::new(*vspan, "invalid name"),
                )
                .with_help(
                    "rules name it in comma-separated endpoint lists (`from=\"clients:A,zone:B\"`): choose a name without commas",
                ),
            );
            args[0] = None;
        }
        for extra in positional {
            let vspan = self.value_span(extra);
            self.report(
                Diagnostic::new(
                    &INVALID_VALUE,
                    format!("`{name}` takes no further argument"),
                    Label::new(vspan, "unexpected argument"),
                )
                .with_help(format!("`{name}` takes {}", describe_args(spec))),
            );
        }
        let mut props = Props::new(spec);
        let mut seen: Vec<(&str, Span)> = Vec::new();
        for entry in node.entries() {
            let Some(key) = entry.name() else { continue };
            let key_name = key.value();
            let key_span = self.span(key.span());
            let Some(prop_spec) = spec.prop(key_name) else {
                let mut d = Diagnostic::new(
                    &UNKNOWN_PROPERTY,
                    format!("`{name}` has no property `{key_name}`"),
                    Label::new(key_span, "unknown property"),
                );
                let names = spec.props.iter().map(|p| p.name);
                d = match did_you_mean(key_name, names) {
                    Some(s) => {
                        d.fix = rename(self.text, key_span, key_name, s);
                        d.with_help(format!("did you mean `{s}`?"))
                    }
                    None if spec.props.is_empty() => {
                        d.with_help(format!("`{name}` takes no properties"))
                    }
                    None => d.with_help(format!(
                        "`{name}` takes: {}",
                        spec.props
                            .iter()
                            .map(|p| p.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                };
                self.report(d);
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key_name) {
                self.report(
                    Diagnostic::new(
                        &DUPLICATE_NAME,
                        format!("property `{key_name}` is given twice on `{name}`"),
                        Label::new(key_span, "given again here"),
                    )
                    .with_label(Label::new(*first, "first given here"))
                    .with_help(format!("keep one `{key_name}=`")),
                );
                continue;
            }
            seen.push((key_name, key_span));
            let vspan = self.value_span(entry);
            if let Some(v) = self.check_value(
                entry.value(),
                prop_spec.kind,
                vspan,
                prop_spec.name,
                context,
            ) {
                props.values.push((prop_spec.name, v));
            }
        }
        for p in spec.props.iter().filter(|p| p.required) {
            if !seen.iter().any(|(k, _)| *k == p.name) {
                self.report(
                    Diagnostic::new(
                        &MISSING_VALUE,
                        format!("`{name}` needs `{}`", p.name),
                        Label::new(name_span, format!("no `{}`", p.name)),
                    )
                    .with_help(format!("add {}", example_prop(p.name, p.kind))),
                );
            }
        }
        Some(CheckedNode {
            node,
            spec,
            args,
            props,
            span,
            name_span,
        })
    }

    fn unknown_node(&mut self, name: &str, name_span: Span, context: Context) {
        let mut d = Diagnostic::new(
            &UNKNOWN_NODE,
            format!("`{name}` is not allowed {}", context_phrase(context)),
            Label::new(name_span, "unknown node"),
        );
        let allowed = context.nodes().iter().map(|n| n.name);
        if let Some(s) = did_you_mean(name, allowed) {
            d.fix = rename(self.text, name_span, name, s);
            d = d.with_help(format!("did you mean `{s}`?"));
        } else if let Some(other) = Context::ALL
            .iter()
            .find(|c| **c != context && c.nodes().iter().any(|n| n.name == name))
        {
            d = d.with_help(format!("`{name}` belongs {}", context_phrase(*other)));
        } else if !context.nodes().is_empty() {
            d = d.with_help(format!(
                "allowed here: {}",
                context
                    .nodes()
                    .iter()
                    .map(|n| n.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.report(d);
    }

    /// Validates one value against its kind; reports and returns `None` when invalid.
    pub fn check_value(
        &mut self,
        value: &KdlValue,
        kind: Kind,
        span: Span,
        what: &str,
        context: Context,
    ) -> Option<Spanned<Value>> {
        let invalid = |msg: String, label_span: Span, help: Option<String>| {
            let d = Diagnostic::new(&INVALID_VALUE, msg, Label::new(label_span, "invalid value"));
            match help {
                Some(h) => d.with_help(h),
                None => d,
            }
        };
        let result: Result<Value, Diagnostic> = match (kind, value) {
            (Kind::Bool, KdlValue::Bool(b)) => Ok(Value::Bool(*b)),
            (Kind::Bool, other) => Err(invalid(
                format!("`{what}` must be #true or #false, not {}", show(other)),
                span,
                Some(format!("write {what}=#true or {what}=#false")),
            )),
            (Kind::Port | Kind::CatalogPort, KdlValue::Integer(i)) if (1..=65535).contains(i) => {
                Ok(Value::Int(i64::try_from(*i).unwrap_or(0)))
            }
            (Kind::Port, KdlValue::Integer(i)) => Err(invalid(
                format!("`{what}`: port {i} is outside 1-65535"),
                span,
                None,
            )),
            (Kind::Count, KdlValue::Integer(i)) if (1..=i128::from(u32::MAX)).contains(i) => {
                Ok(Value::Int(i64::try_from(*i).unwrap_or(0)))
            }
            (Kind::Count, KdlValue::Integer(i)) => Err(invalid(
                format!("`{what}` must be a positive count, not {i}"),
                span,
                None,
            )),
            (Kind::Minutes, KdlValue::Integer(i)) if (0..=i128::from(u32::MAX)).contains(i) => {
                Ok(Value::Int(i64::try_from(*i).unwrap_or(0)))
            }
            (Kind::Minutes, KdlValue::Integer(i)) => Err(invalid(
                format!("`{what}` must be minutes (0 or more) or \"never\", not {i}"),
                span,
                None,
            )),
            (Kind::Port | Kind::Count | Kind::CatalogPort, other)
                if !matches!(other, KdlValue::String(_)) =>
            {
                Err(invalid(
                    format!("`{what}` must be an integer, not {}", show(other)),
                    span,
                    Some(format!("write the number without quotes: {what}=...")),
                ))
            }
            (_, KdlValue::String(s)) => self.check_string(s, kind, span, what, context),
            (Kind::Enum(values), other) => Err(invalid(
                format!(
                    "`{what}` must be one of {}, not {}",
                    quote_list(values),
                    show(other)
                ),
                span,
                None,
            )),
            (_, other) => Err(invalid(
                format!("`{what}` must be a string, not {}", show(other)),
                span,
                Some(format!("quote it: \"{}\"", bare(other))),
            )),
        };
        match result {
            Ok(v) => Some(Spanned::new(v, span)),
            Err(d) => {
                self.report(d);
                None
            }
        }
    }

    fn check_string(
        &mut self,
        s: &str,
        kind: Kind,
        span: Span,
        what: &str,
        context: Context,
    ) -> Result<Value, Diagnostic> {
        let at = |e: ValueError, reader: &Self| {
            Diagnostic::new(
                &INVALID_VALUE,
                format!("`{what}`: {}", e.message),
                Label::new(reader.inner_span(span, e.offset, e.len), "here"),
            )
        };
        if let Some((offset, c)) = crate::escape::first_forbidden(s) {
            return Err(Diagnostic::new(
                &INVALID_VALUE,
                format!(
                    "`{what}` holds the control character {}",
                    crate::escape::visible(c)
                ),
                Label::new(self.inner_span(span, offset, c.len_utf8()), "here"),
            )
            .with_help(
                "names and values are written into firewall scripts, policies and terminals: remove line breaks, control, bidirectional and zero-width characters",
            ));
        }
        let ok = Value::Str(s.to_owned());
        match kind {
            Kind::Text if s.trim().is_empty() => Err(Diagnostic::new(
                &INVALID_VALUE,
                format!("`{what}` must not be empty"),
                Label::new(span, "empty"),
            )),
            Kind::Enum(values) if !values.contains(&s) => {
                let d = Diagnostic::new(
                    &INVALID_VALUE,
                    format!(
                        "`{what}` must be one of {}, not \"{s}\"",
                        quote_list(values)
                    ),
                    Label::new(span, "unknown value"),
                );
                Err(match did_you_mean(s, values.iter().copied()) {
                    Some(m) => d
                        .with_help(format!("did you mean \"{m}\"?"))
                        .with_optional_fix(rename(self.text, span, s, m)),
                    None => d,
                })
            }
            Kind::Fqdn => check_fqdn(s).map(|()| ok).map_err(|e| at(e, self)),
            Kind::FqdnList => {
                let mut offset = 0;
                for part in s.split(',') {
                    check_fqdn(part).map_err(|mut e| {
                        e.offset += offset;
                        at(e, self)
                    })?;
                    offset += part.len() + 1;
                }
                Ok(ok)
            }
            Kind::InternetOrFqdn if s == "internet" => Ok(ok),
            Kind::OnlineOrFqdn if s == "online" => Ok(ok),
            Kind::InternetOrFqdn | Kind::OnlineOrFqdn => {
                check_fqdn(s).map(|()| ok).map_err(|e| at(e, self))
            }
            Kind::InstanceRef => match s.split_once('/') {
                Some((host, inst)) if !inst.is_empty() => {
                    check_fqdn(host).map(|()| ok).map_err(|e| at(e, self))
                }
                _ => Err(Diagnostic::new(
                    &INVALID_VALUE,
                    format!("`{what}` must be \"FQDN/INSTANCE\", not \"{s}\""),
                    Label::new(span, "invalid value"),
                )
                .with_help("e.g. \"sql01.contoso.com/CM_P01\"")),
            },
            Kind::Cidr => match s.parse::<ipnet::IpNet>() {
                Ok(net) if net.trunc() == net => Ok(ok),
                Ok(net) => Err(Diagnostic::new(
                    &INVALID_VALUE,
                    format!("`{s}` has host bits set"),
                    Label::new(span, "not a network address"),
                )
                .with_help(format!("did you mean \"{}\"?", net.trunc()))
                .with_optional_fix(rename(
                    self.text,
                    span,
                    s,
                    &net.trunc().to_string(),
                ))),
                Err(_) => Err(Diagnostic::new(
                    &INVALID_VALUE,
                    format!("`{s}` is not a CIDR"),
                    Label::new(span, "invalid CIDR"),
                )
                .with_help("write a network and prefix length, e.g. \"10.0.0.0/24\"")),
            },
            Kind::Ip => s.parse::<std::net::IpAddr>().map(|_| ok).map_err(|_| {
                Diagnostic::new(
                    &INVALID_VALUE,
                    format!("`{s}` is not an IPv4 or IPv6 address"),
                    Label::new(span, "invalid address"),
                )
            }),
            Kind::PortRange => parse_port_range(s).map(|_| ok).map_err(|e| at(e, self)),
            Kind::Ports => PortList::parse(s, context == Context::WindowsFirewall)
                .map(|_| ok)
                .map_err(|e| at(e, self)),
            Kind::Endpoints => Endpoint::parse_list(s).map(|_| ok).map_err(|e| at(e, self)),
            Kind::Profiles => {
                let mut offset = 0;
                for item in s.split(',') {
                    let t = item.trim();
                    if !matches!(t, "any" | "domain" | "private" | "public") {
                        return Err(at(
                            ValueError {
                                offset,
                                len: item.len(),
                                message: format!(
                                    "`{t}` is not a profile: expected domain, private, public or any"
                                ),
                            },
                            self,
                        ));
                    }
                    offset += item.len() + 1;
                }
                Ok(ok)
            }
            Kind::CatalogPort => {
                if super::vocabulary::SYMBOLIC_PORTS.contains(&s) {
                    Ok(ok)
                } else {
                    parse_port_range(s).map(|_| ok).map_err(|e| at(e, self))
                }
            }
            Kind::Boundary => crate::model::values::parse_boundary(s)
                .map(|_| ok)
                .map_err(|e| at(e, self)),
            Kind::CidrList => crate::model::values::parse_cidr_list(s)
                .map(|_| ok)
                .map_err(|e| at(e, self)),
            Kind::Names => crate::model::values::parse_names(s)
                .map(|_| ok)
                .map_err(|e| at(e, self)),
            Kind::Minutes if s == "never" => Ok(ok),
            Kind::Minutes => Err(Diagnostic::new(
                &INVALID_VALUE,
                format!("`{what}` must be minutes (a number) or \"never\", not \"{s}\""),
                Label::new(span, "invalid value"),
            )
            .with_help(format!("write {what}=120 or {what}=\"never\""))),
            Kind::Bool | Kind::Port | Kind::Count => unreachable_kind(what, span),
            Kind::Text | Kind::Enum(_) => Ok(ok),
        }
    }
}

/// Nodes whose names endpoint lists refer to (`zone:NAME`, `clients:NAME`, `host:NAME`).
const ENDPOINT_NAMED: &[&str] = &[
    "zone",
    "clients",
    "console",
    "cloud-management-gateway",
    "cloud-distribution-point",
];

/// Strings never reach the numeric/bool kinds' success path: report them as wrong type.
fn unreachable_kind(what: &str, span: Span) -> Result<Value, Diagnostic> {
    // Numbers written in quotes.

    Err(Diagnostic::new(
        &INVALID_VALUE,
        format!("`{what}` must not be a string"),
        Label::new(span, "invalid value"),
    ))
}

fn show(v: &KdlValue) -> String {
    match v {
        KdlValue::String(s) => format!("the string \"{s}\""),
        KdlValue::Integer(i) => format!("the number {i}"),
        KdlValue::Float(f) => format!("the number {f}"),
        KdlValue::Bool(b) => format!("#{b}"),
        KdlValue::Null => "#null".into(),
    }
}

fn bare(v: &KdlValue) -> String {
    match v {
        KdlValue::String(s) => s.clone(),
        KdlValue::Integer(i) => i.to_string(),
        KdlValue::Float(f) => f.to_string(),
        KdlValue::Bool(b) => b.to_string(),
        KdlValue::Null => "null".into(),
    }
}

fn quote_list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_args(spec: &NodeSpec) -> String {
    if spec.args.is_empty() {
        return "no arguments".into();
    }
    spec.args
        .iter()
        .map(|a| a.what)
        .collect::<Vec<_>>()
        .join(" and ")
}

fn example_prop(name: &str, kind: Kind) -> String {
    match kind {
        Kind::Enum(values) => format!("{name}=\"{}\"", values[0]),
        Kind::Bool => format!("{name}=#true"),
        Kind::Port | Kind::Count => format!("{name}=..."),
        _ => format!("{name}=\"...\""),
    }
}

fn context_phrase(context: Context) -> &'static str {
    match context {
        Context::TopLevel => "at the top level",
        Context::Zone => "inside a `zone`",
        Context::Site => "inside a `site`",
        Context::SiteServer => "on a site's `server` (site system roles)",
        Context::InfraServer => "on a top-level `server` (infrastructure roles)",
        Context::Clients => "inside `clients`",
        Context::BoundaryGroup => "inside a `boundary-group`",
        Context::WindowsFirewall => "inside a `windows-firewall`",
        Context::Firewall => "inside a `firewall`",
        Context::Policy => "inside a `policy`",
        Context::Lint => "inside `lint`",
        Context::CatalogChoice => "inside `catalog`",
        Context::Leaf => "here: this node takes no children",
        Context::Catalog => "at the top of a catalog file",
        Context::CatalogSection => "inside a catalog `section`",
    }
}
