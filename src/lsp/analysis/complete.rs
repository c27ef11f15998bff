//! Completion from the loader's vocabulary: node names valid where the cursor is,
//! property names a node has not been given yet, and the values a property or argument
//! takes.
//!
//! The text is being edited, so it is often not valid KDL: instead of parsing it, a
//! lenient lexical scan of the text before the cursor follows braces (the enclosing node
//! path), strings (with escapes and raw strings), comments and line continuations, and
//! splits the current node into its entries.

use super::{Completion, CompletionKind};
use crate::load::vocabulary::{
    Context, DIRECTIONS, Kind, NodeSpec, PropSpec, SUPPRESS, SYMBOLIC_PORTS, endpoint_role_names,
};

/// The enclosing nodes and the current node's entries before the cursor.
struct Scanned<'t> {
    /// Names of the enclosing nodes, outermost first (`None`: a block with no name).
    path: Vec<Option<String>>,
    /// The current node's entries, as written, with their start offsets.
    entries: Vec<(usize, &'t str)>,
    /// The last entry ends at the cursor: it is the one being typed.
    touching: bool,
}

/// What the scan found at the cursor.
enum Position<'t> {
    /// Inside a comment: nothing to complete.
    Comment,
    Code(Scanned<'t>),
}

fn scan(text: &str) -> Position<'_> {
    let bytes = text.as_bytes();
    let mut path: Vec<Option<String>> = Vec::new();
    let mut entries: Vec<(usize, &str)> = Vec::new();
    let mut continuation = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' | b'\r' => {
                if !continuation {
                    entries.clear();
                }
                continuation = false;
                i += 1;
            }
            b';' => {
                entries.clear();
                i += 1;
            }
            b'{' => {
                path.push(entries.first().map(|(_, name)| unquote(name).to_owned()));
                entries.clear();
                i += 1;
            }
            b'}' => {
                path.pop();
                entries.clear();
                i += 1;
            }
            b'\\' => {
                continuation = true;
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => match text[i..].find('\n') {
                Some(n) => i += n,
                None => return Position::Comment,
            },
            b'/' if bytes.get(i + 1) == Some(&b'*') => match block_comment_end(text, i) {
                Some(end) => i = end,
                None => return Position::Comment,
            },
            // A slashdash comments out what follows; completion reads it as written.
            b'/' if bytes.get(i + 1) == Some(&b'-') => i += 2,
            c if c.is_ascii_whitespace() => i += 1,
            _ if text[i..].starts_with('\u{feff}') => i += '\u{feff}'.len_utf8(),
            _ => {
                let end = entry_end(text, i);
                entries.push((i, &text[i..end]));
                i = end.max(i + 1);
            }
        }
    }
    let touching = entries
        .last()
        .is_some_and(|(start, e)| start + e.len() == text.len());
    Position::Code(Scanned {
        path,
        entries,
        touching,
    })
}

/// The end of a nested `/* */` comment starting at `start`, if it is closed.
fn block_comment_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Some(i);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// Where an entry (`name`, `"arg"`, `key="value"`, `#true`) starting at `start` ends:
/// at a space, a line end, `;`, `{` or `}` outside strings, or at the end of the text.
fn entry_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b';' | b'{' | b'}' => return i,
            b'"' => i = string_end(text, i, 0),
            b'#' | b'r' if raw_hashes(&bytes[i..]).is_some() => {
                let (skip, hashes) = raw_hashes(&bytes[i..]).unwrap_or((0, 0));
                i = string_end(text, i + skip, hashes);
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// A raw string's opening (`#"`, `##"`, `r#"`, `r"`): bytes before its quote and hashes.
fn raw_hashes(bytes: &[u8]) -> Option<(usize, usize)> {
    let r = usize::from(bytes.first() == Some(&b'r'));
    let hashes = bytes[r..].iter().take_while(|&&b| b == b'#').count();
    (bytes.get(r + hashes) == Some(&b'"') && (hashes > 0 || r == 1)).then_some((r + hashes, hashes))
}

/// The end of a string whose quote is at `quote` (after the end when it is not closed:
/// the cursor is inside it). Single-line strings also end at a line end.
fn string_end(text: &str, quote: usize, hashes: usize) -> usize {
    let bytes = text.as_bytes();
    let multi = text[quote..].starts_with("\"\"\"");
    let mut i = quote + if multi { 3 } else { 1 };
    let close: Vec<u8> = std::iter::once(b'"')
        .chain(std::iter::repeat_n(b'#', hashes))
        .collect();
    while i < bytes.len() {
        if bytes[i] == b'\\' && hashes == 0 {
            i += 2;
            continue;
        }
        if !multi && matches!(bytes[i], b'\n' | b'\r') {
            return i;
        }
        let closing = if multi {
            bytes[i..].starts_with(b"\"\"\"") && bytes[i + 3..].starts_with(&close[1..])
        } else {
            bytes[i..].starts_with(&close)
        };
        if closing {
            return i + close.len() + if multi { 2 } else { 0 };
        }
        i += 1;
    }
    bytes.len()
}

/// A written name without its quotes (escapes are kept: node names never need them).
fn unquote(s: &str) -> &str {
    let s = s.trim_start_matches('#').trim_end_matches('#');
    s.strip_prefix('"')
        .map_or(s, |inner| inner.strip_suffix('"').unwrap_or(inner))
}

/// The completions at `offset` of `text` (module docs).
pub fn complete(text: &str, offset: usize) -> Vec<Completion> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let Position::Code(scanned) = scan(&text[..offset]) else {
        return Vec::new();
    };
    let Some(context) = context_of(&scanned.path) else {
        return Vec::new();
    };
    let (partial_start, partial, before) = match scanned.entries.split_last() {
        Some((&(start, last), before)) if scanned.touching => (start, last, before),
        _ => (offset, "", &scanned.entries[..]),
    };
    let mut out = match before.first() {
        None => node_names(context, partial, partial_start),
        Some(&(_, name)) => match context.find(unquote(name)) {
            Some(spec) => in_node(spec, context, &before[1..], partial, partial_start),
            None => Vec::new(),
        },
    };
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out.dedup_by(|a, b| a.label == b.label);
    out
}

/// The context the path leads to, if every node on it is known.
fn context_of(path: &[Option<String>]) -> Option<Context> {
    let mut context = Context::TopLevel;
    for name in path {
        context = context.find(name.as_deref()?)?.children;
    }
    Some(context)
}

fn node_names(context: Context, prefix: &str, from: usize) -> Vec<Completion> {
    let suppress = (context != Context::TopLevel).then_some(&SUPPRESS);
    context
        .nodes()
        .iter()
        .chain(suppress)
        .filter(|n| n.name.starts_with(prefix))
        .map(|n| Completion {
            label: n.name.to_owned(),
            kind: CompletionKind::Node,
            detail: Some(node_detail(n)),
            insert_text: None,
            replace_from: from,
        })
        .collect()
}

fn node_detail(n: &NodeSpec) -> String {
    let args: Vec<&str> = n.args.iter().map(|a| a.what).collect();
    let mut detail = if args.is_empty() {
        "no argument".to_owned()
    } else {
        format!("argument: {}", args.join(", "))
    };
    if n.children != Context::Leaf {
        detail.push_str("; has children");
    }
    detail
}

/// Completions after a node's name: its properties, or a value.
fn in_node(
    spec: &'static NodeSpec,
    context: Context,
    given: &[(usize, &str)],
    partial: &str,
    partial_start: usize,
) -> Vec<Completion> {
    let host = context == Context::WindowsFirewall;
    if let Some((name, value)) = partial.split_once('=') {
        let Some(prop) = spec.prop(unquote(name)) else {
            return Vec::new();
        };
        let value_start = partial_start + name.len() + 1;
        return values(prop.kind, prop.default, prop.name, value, value_start, host);
    }
    let given_props: Vec<&str> = given
        .iter()
        .filter_map(|(_, e)| e.split_once('=').map(|(k, _)| unquote(k)))
        .collect();
    let arg_index = given.iter().filter(|(_, e)| !is_property(e)).count();
    let arg = spec
        .args
        .get(arg_index)
        .or_else(|| spec.args.last().filter(|a| a.repeat));
    let mut out = Vec::new();
    if let Some(arg) = arg
        && matches!(arg.kind, Kind::Enum(_))
    {
        out.extend(values(
            arg.kind,
            None,
            arg.what,
            partial,
            partial_start,
            host,
        ));
        if arg.required {
            // The argument comes first: properties after it.
            return out;
        }
    }
    if partial.starts_with('"') {
        return out;
    }
    out.extend(
        spec.props
            .iter()
            .filter(|p| !given_props.contains(&p.name) && p.name.starts_with(partial))
            .map(|p| Completion {
                label: p.name.to_owned(),
                kind: CompletionKind::Property,
                detail: Some(prop_detail(p)),
                insert_text: Some(format!("{}=", p.name)),
                replace_from: partial_start,
            }),
    );
    out
}

/// An entry `key=value` (a `=` outside quotes, before any quote).
fn is_property(entry: &str) -> bool {
    entry
        .find('=')
        .is_some_and(|eq| !entry[..eq].contains('"') || entry.starts_with('"'))
}

fn prop_detail(p: &PropSpec) -> String {
    let mut detail = kind_description(p.kind);
    if p.required {
        detail.push_str(", required");
    } else if let Some(default) = p.default {
        detail.push_str(", default ");
        detail.push_str(default);
    }
    detail
}

fn kind_description(kind: Kind) -> String {
    match kind {
        Kind::Bool => "boolean".into(),
        Kind::Port => "port 1-65535".into(),
        Kind::Count => "integer >= 1".into(),
        Kind::Enum(values) => format!("one of {}", values.join(", ")),
        Kind::Text => "text".into(),
        Kind::Fqdn => "FQDN".into(),
        Kind::Cidr => "CIDR".into(),
        Kind::Ip => "IP address".into(),
        Kind::PortRange => "port range START-END".into(),
        Kind::Endpoints => "endpoints: zone:, host:, site:, role:, clients:, cidr:, any".into(),
        Kind::Ports => "ports: 80,443,8530-8531,rpc".into(),
        Kind::Profiles => "profiles: domain, private, public, any".into(),
        Kind::InternetOrFqdn => "\"internet\" or an FQDN".into(),
        Kind::OnlineOrFqdn => "\"online\" or an FQDN".into(),
        Kind::InstanceRef => "\"FQDN/INSTANCE\"".into(),
        Kind::FqdnList => "FQDNs, comma-separated".into(),
        Kind::CatalogPort => "port, range or symbolic port".into(),
        Kind::Boundary => "subnet, prefix or range".into(),
        Kind::CidrList => "CIDRs, comma-separated".into(),
        Kind::Names => "names, comma-separated".into(),
        Kind::Minutes => "minutes or \"never\"".into(),
    }
}

/// The words a value of `kind` may be, with how each is written.
fn words(kind: Kind, host: bool) -> (Vec<&'static str>, Written) {
    match kind {
        Kind::Bool => (vec!["#true", "#false"], Written::Bare),
        // The rule syntax writes a host rule's direction bare: `allow in tcp="80"`.
        Kind::Enum(values) if values == DIRECTIONS => (values.to_vec(), Written::Bare),
        Kind::Enum(values) => (values.to_vec(), Written::Quoted),
        Kind::InternetOrFqdn => (vec!["internet"], Written::Quoted),
        Kind::OnlineOrFqdn => (vec!["online"], Written::Quoted),
        Kind::Minutes => (vec!["never"], Written::Quoted),
        Kind::Profiles => (
            vec!["any", "domain", "private", "public"],
            Written::ListItem,
        ),
        Kind::Ports if host => (vec!["rpc", "rpc-epmap"], Written::ListItem),
        Kind::Ports => (vec!["rpc"], Written::ListItem),
        Kind::CatalogPort => (SYMBOLIC_PORTS.to_vec(), Written::Quoted),
        Kind::Endpoints => (
            vec![
                "any", "zone:", "host:", "site:", "role:", "clients:", "cidr:",
            ],
            Written::ListItem,
        ),
        _ => (Vec::new(), Written::Quoted),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Written {
    /// `#true`: never quoted.
    Bare,
    /// A whole string value: quoted when the quote is not typed yet.
    Quoted,
    /// One item of a comma-separated string: completes the item after the last comma.
    ListItem,
}

/// Values of `kind` starting with what is typed of `value` (which starts at `start`).
fn values(
    kind: Kind,
    default: Option<&str>,
    what: &str,
    value: &str,
    start: usize,
    host: bool,
) -> Vec<Completion> {
    let (mut words, written) = words(kind, host);
    let quoted = value.starts_with('"');
    let (mut start, mut typed) = if quoted {
        (start + 1, &value[1..])
    } else {
        (start, value)
    };
    if written == Written::ListItem {
        if let Some(comma) = typed.rfind(',') {
            start += comma + 1;
            typed = &typed[comma + 1..];
        }
        let item = typed.trim_start();
        start += typed.len() - item.len();
        typed = item;
    }
    let mut roles_owned: Vec<String> = Vec::new();
    if kind == Kind::Endpoints && typed.starts_with("role:") {
        roles_owned = endpoint_role_names().map(|r| format!("role:{r}")).collect();
        words.clear();
    }
    let labels = words
        .iter()
        .map(|w| (*w).to_owned())
        .chain(roles_owned)
        .filter(|w| w.starts_with(typed));
    labels
        .map(|label| {
            // An endpoint kind (`zone:`) is followed by a name: the string stays open.
            let close = if label.ends_with(':') { "" } else { "\"" };
            let insert_text =
                (written != Written::Bare && !quoted).then(|| format!("\"{label}{close}"));
            let mut detail = what.to_owned();
            if default == Some(label.as_str()) {
                detail.push_str(" (default)");
            }
            Completion {
                label,
                kind: CompletionKind::Value,
                detail: Some(detail),
                insert_text,
                replace_from: start,
            }
        })
        .collect()
}
