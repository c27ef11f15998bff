//! The loader's step between parsing and resolving: every `firewall` and
//! `windows-firewall` with `source=` gets its rules from that file, read by the format's
//! reader in [`super::sources`].
//!
//! This module owns the files' paths (relative to the KDL file naming them), reading each
//! file once (in parallel), registering it in the [`SourceMap`] so its spans render like
//! any other, and turning reader results into `source/parse` and `source/unsupported`
//! diagnostics. It does not parse any format itself.
//!
//! Source ids are assigned in a fixed order (files in load order, then each file's
//! firewalls, servers' and client groups' host firewalls in node order), so the same
//! input gives byte-identical output whatever the threads do.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::build::FileModel;
use super::codes;
use super::sources::{self, ExtraFiles, SourceError, SourceInput, Unsupported};
use crate::diag::{Diagnostic, Label};
use crate::model::{
    Action, Direction, Firewall, FirewallRule, FirewallSource, HostFirewall, HostRule, RuleGuard,
    SourceFile, SourceId, SourceMap, Spanned, Traffic,
};

/// A firewall whose rules come from a file.
enum Target<'m> {
    Network(&'m mut Firewall),
    Host(&'m mut HostFirewall),
}

impl Target<'_> {
    fn source(&self) -> Option<&FirewallSource> {
        match self {
            Target::Network(f) => f.source.as_ref(),
            Target::Host(f) => f.source.as_ref(),
        }
    }
}

/// Reads the `source` files of the firewalls of `files` (parsed from the KDL files at
/// `paths`, in the same order) and replaces their rules with the files' rules.
pub(super) fn read(
    map: &mut SourceMap,
    paths: &[PathBuf],
    files: &mut [FileModel],
    diagnostics: &mut Vec<Diagnostic>,
) {
    // Every firewall with a source, in file and node order, with its file's path.
    let mut targets: Vec<(Target<'_>, PathBuf)> = Vec::new();
    for (fm, kdl_path) in files.iter_mut().zip(paths) {
        let base = kdl_path.parent().unwrap_or(Path::new(""));
        // Destructuring keeps the mutable references into each list disjoint.
        let FileModel {
            firewalls,
            sites,
            servers,
            clients,
            ..
        } = fm;
        let network = firewalls.iter_mut().map(Target::Network);
        let hosts = sites
            .iter_mut()
            .flat_map(|(_, servers)| servers.iter_mut())
            .chain(servers.iter_mut())
            .filter_map(|s| s.host_firewall.as_mut())
            .chain(clients.iter_mut().filter_map(|c| c.host_firewall.as_mut()))
            .map(Target::Host);
        for t in network.chain(hosts) {
            if let Some(s) = t.source() {
                let path = base.join(&s.path.value);
                targets.push((t, path));
            }
        }
    }
    if targets.is_empty() {
        return;
    }

    // Each file once: the first spelling of a file (after links) names it.
    let mut slots: Vec<PathBuf> = Vec::new();
    let mut slot_of: HashMap<PathBuf, usize> = HashMap::new();
    let mut target_slot = Vec::with_capacity(targets.len());
    for (_, path) in &targets {
        let key = path.canonicalize().unwrap_or_else(|_| path.clone());
        let slot = *slot_of.entry(key).or_insert_with(|| {
            slots.push(path.clone());
            slots.len() - 1
        });
        target_slot.push(slot);
    }
    let read: Vec<std::io::Result<Vec<u8>>> = slots.par_iter().map(|p| read_capped(p)).collect();
    let mut seen: HashMap<PathBuf, SourceId> = HashMap::new();
    let texts: Vec<Result<(SourceId, Arc<str>), String>> = slots
        .iter()
        .zip(read)
        .map(|(path, bytes)| {
            let bytes = bytes.map_err(|e| e.to_string())?;
            let text: Arc<str> = Arc::from(sources::decode(&bytes).map_err(|e| e.message)?);
            let id = map.add(SourceFile::new(
                super::display_path(path),
                text.clone(),
                false,
            ));
            seen.insert(path.canonicalize().unwrap_or_else(|_| path.clone()), id);
            Ok((id, text))
        })
        .collect();

    let mut extra = Extra { map, seen };
    for ((target, path), slot) in targets.into_iter().zip(target_slot) {
        let result = &texts[slot];
        apply(target, &path, result, &mut extra, diagnostics);
    }
}

/// The largest source file read (a 5,000-rule file is about 1 MB): a larger one is
/// `source/parse`, not an exhausted memory.
pub const MAX_SOURCE_BYTES: u64 = 256 << 20;

/// Reads a source file, refusing one larger than [`MAX_SOURCE_BYTES`].
pub fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let too_large = || {
        std::io::Error::other(format!(
            "the file is larger than {} MB, the most cmflow reads",
            MAX_SOURCE_BYTES >> 20
        ))
    };
    if file.metadata()?.len() > MAX_SOURCE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    // A file growing while read stops at the limit too.
    file.take(MAX_SOURCE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Reads one firewall's file (already decoded) and puts its rules in place.
fn apply(
    target: Target<'_>,
    path: &Path,
    text: &Result<(SourceId, Arc<str>), String>,
    extra: &mut Extra<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(source) = target.source().cloned() else {
        return;
    };
    let (id, text) = match text {
        Ok((id, text)) => (*id, text),
        Err(cause) => {
            push_unique(
                diagnostics,
                Diagnostic::new(
                    &codes::SOURCE_PARSE,
                    format!("cannot read `{}`: {cause}", source.path.value),
                    Label::new(source.path.span, "this file"),
                )
                .with_help(
                    "the path is relative to the file that names it; every verdict through this firewall is indeterminate",
                ),
            );
            unreadable(target, &source);
            return;
        }
    };
    let zones: Vec<String> = match &target {
        Target::Network(f) => f.zones.iter().map(|z| z.value.clone()).collect(),
        Target::Host(_) => Vec::new(),
    };
    let input = SourceInput {
        id,
        text,
        path,
        zones: &zones,
        attached: source.attached.as_ref().map(|a| a.value.as_str()),
    };
    let format = source.format.value;
    match target {
        Target::Network(f) => match sources::read_network(format, &input, extra) {
            Ok(read) => {
                f.rules = read.rules;
                if let Some(default) = read.default {
                    f.default = default.value;
                    f.default_span = default.span;
                }
                report_unsupported(&read.unsupported, diagnostics);
                if let Some(s) = f.source.as_mut() {
                    s.file = Some(id);
                }
            }
            Err(e) => {
                report_error(&source, e, diagnostics);
                unreadable(Target::Network(f), &source);
            }
        },
        Target::Host(h) => match sources::read_host(format, &input) {
            Ok(read) => {
                h.rules = read.rules;
                if let Some(a) = read.inbound {
                    h.inbound = a.value;
                }
                if let Some(a) = read.outbound {
                    h.outbound = a.value;
                }
                report_unsupported(&read.unsupported, diagnostics);
                if let Some(s) = h.source.as_mut() {
                    s.file = Some(id);
                }
            }
            Err(e) => {
                report_error(&source, e, diagnostics);
                unreadable(Target::Host(h), &source);
            }
        },
    }
}

/// A firewall whose file cannot be read decides nothing for sure: one rule that may or
/// may not match anything, so every verdict through it is `indeterminate` (never a
/// silent block by the default, nor a silent allow).
fn unreadable(target: Target<'_>, source: &FirewallSource) {
    let span = source.path.span;
    let any = || Traffic {
        from: vec![Spanned::new(crate::model::Endpoint::Any, span)],
        to: vec![Spanned::new(crate::model::Endpoint::Any, span)],
        tcp: None,
        udp: None,
        icmp: false,
    };
    match target {
        Target::Network(f) => {
            f.rules = vec![FirewallRule {
                action: Action::Allow,
                name: None,
                traffic: any(),
                guard: RuleGuard::Always,
                uncertain: Some(span),
                span,
            }];
        }
        Target::Host(h) => {
            h.rules = [Direction::In, Direction::Out]
                .into_iter()
                .map(|direction| HostRule {
                    action: Action::Allow,
                    direction,
                    name: None,
                    traffic: any(),
                    profiles: Vec::new(),
                    source_ports: None,
                    uncertain: Some(span),
                    span,
                })
                .collect();
        }
    }
}

fn report_error(source: &FirewallSource, e: SourceError, diagnostics: &mut Vec<Diagnostic>) {
    let (span, label) = match e.span {
        Some(span) => (span, "here"),
        None => (source.path.span, "this file"),
    };
    let message = if e.span.is_some() {
        e.message
    } else {
        format!("cannot read `{}`: {}", source.path.value, e.message)
    };
    let mut d = Diagnostic::new(&codes::SOURCE_PARSE, message, Label::new(span, label));
    if let Some(help) = e.help {
        d = d.with_help(help);
    }
    push_unique(diagnostics, d);
}

fn report_unsupported(found: &[Unsupported], diagnostics: &mut Vec<Diagnostic>) {
    for u in found {
        // A file read by two firewalls reports the same construct twice.
        if diagnostics
            .iter()
            .rev()
            .take(found.len())
            .any(|d| d.primary.span == u.span && d.code == codes::SOURCE_UNSUPPORTED.code)
        {
            continue;
        }
        diagnostics.push(
            Diagnostic::new(
                &codes::SOURCE_UNSUPPORTED,
                format!("cmflow cannot represent {} exactly", u.construct),
                Label::new(u.span, "not represented"),
            )
            .with_help(u.consequence.clone()),
        );
    }
}

/// Two firewalls reading one file would report its findings twice.
fn push_unique(diagnostics: &mut Vec<Diagnostic>, d: Diagnostic) {
    if !diagnostics.contains(&d) {
        diagnostics.push(d);
    }
}

/// Registers the files a reader opens besides the source file (Aerleon's definitions),
/// each once.
struct Extra<'m> {
    map: &'m mut SourceMap,
    seen: HashMap<PathBuf, SourceId>,
}

impl ExtraFiles for Extra<'_> {
    fn add(&mut self, path: &Path, text: String) -> SourceId {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if let Some(&id) = self.seen.get(&key) {
            return id;
        }
        let id = self.map.add(SourceFile::new(
            super::display_path(path),
            Arc::from(text),
            false,
        ));
        self.seen.insert(key, id);
        id
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::load::{InputText, Loaded, load_inputs};

    const ZONES: &str = "zone \"hq\"\nzone \"dc\"\n";

    /// Loads `kdl` as `DIR/sub/m.kdl`, with `files` (path relative to DIR, bytes) beside.
    fn load(dir: &Path, kdl: &str, files: &[(&str, &[u8])]) -> Loaded {
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        for (name, bytes) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        load_inputs(
            vec![InputText {
                name: "sub/m.kdl".into(),
                bytes: format!("{ZONES}{kdl}").into_bytes(),
                builtin: false,
                path: Some(dir.join("sub/m.kdl")),
            }],
            crate::rules::SPEC_CODES,
        )
    }

    /// `CODE: MESSAGE @ FILE:LINE:COL` of every diagnostic.
    fn found(l: &Loaded) -> Vec<String> {
        l.diagnostics
            .iter()
            .map(|d| {
                let file = l.model.sources.get(d.primary.span.source);
                let (line, col) = file.line_col(d.primary.span.start);
                let name = Path::new(&file.name)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                format!("{}: {} @ {name}:{line}:{col}", d.code, d.message)
            })
            .collect()
    }

    #[test]
    fn source_and_format_need_each_other_and_the_right_node() {
        let dir = tempfile::tempdir().unwrap();
        let l = load(
            dir.path(),
            r#"firewall "a" source="a.rules" { zones "hq" "dc"; }
firewall "b" format="iptables-save" { zones "hq" "dc"; }
firewall "c" source="c.json" format="netfirewallrule-json" { zones "hq" "dc"; }
firewall "d" source="d.json" format="azure-nsg-json" { zones "hq" "dc"; }
firewall "e" source="e.json" format="azure-nsg-json" attached="hqq" { zones "hq" "dc"; }
firewall "f" source="f.rules" format="iptables-save" attached="hq" { zones "hq" "dc"; }
firewall "g" attached="hq" { zones "hq" "dc"; }
firewall "h" source="h.rules" format="iptables-save" {
    zones "hq" "dc"
    allow "x" tcp="80"
    deny "y"
}
server "s.contoso.com" zone="hq" {
    windows-firewall source="s.rules" format="iptables-save"
}
server "t.contoso.com" zone="hq" {
    windows-firewall source="t.json" format="netfirewallrule-json" {
        allow in tcp="80"
    }
}
"#,
            &[],
        );
        assert_eq!(
            found(&l),
            [
                "schema/missing-value: `firewall` has `source` but no `format` @ m.kdl:3:21",
                "schema/missing-value: `firewall` has `format` but no `source` @ m.kdl:4:21",
                "schema/invalid-value: `netfirewallrule-json` describes a Windows Firewall, not a `firewall` @ m.kdl:5:37",
                "schema/missing-value: a firewall read from an Azure NSG needs `attached`: the zone of the subnet it guards @ m.kdl:6:37",
                "schema/invalid-value: `attached` zone `hqq` is not one of the firewall's zones @ m.kdl:7:63",
                "schema/unknown-property: `attached` is a property of `azure-nsg-json` sources, not of `iptables-save` @ m.kdl:8:63",
                "schema/unknown-property: `attached` is a property of firewalls read from an Azure NSG @ m.kdl:9:23",
                "schema/unknown-node: a `firewall` with `source` takes its rules from that file, not from `allow` nodes @ m.kdl:12:5",
                "schema/invalid-value: `iptables-save` describes a network firewall, not a `windows-firewall` @ m.kdl:16:46",
                "schema/unknown-node: a `windows-firewall` with `source` takes its rules from that file, not from `allow` nodes @ m.kdl:20:9",
                // The valid ones are read (`attached` refused, the source still is): their
                // files do not exist.
                "source/parse: cannot read `f.rules`: No such file or directory (os error 2) @ m.kdl:8:21",
                "source/parse: cannot read `h.rules`: No such file or directory (os error 2) @ m.kdl:10:21",
                "source/parse: cannot read `t.json`: No such file or directory (os error 2) @ m.kdl:19:29",
            ]
        );
        // The misspelt `attached` zone's fix writes the zone it is closest to.
        let attached = l.diagnostics.iter().find(|d| d.message.contains("`hqq`"));
        let fix = attached.and_then(|d| d.fix.as_ref()).expect("a fix");
        let text = &l.model.sources.get(fix.span.source).text;
        assert_eq!(
            (
                &text[fix.span.start..fix.span.end],
                fix.replacement.as_str()
            ),
            ("\"hqq\"", "\"hq\"")
        );
    }

    #[test]
    fn paths_are_relative_to_the_kdl_file_and_unreadable_files_are_indeterminate() {
        let dir = tempfile::tempdir().unwrap();
        let l = load(
            dir.path(),
            r#"firewall "fw" source="../rules/fw.rules" format="iptables-save" { zones "hq" "dc"; }
firewall "fw2" source="bad.rules" format="iptables-save" { zones "hq" "dc"; }
"#,
            &[
                // UTF-16LE with a lone high surrogate.
                ("rules/fw.rules", b"\xff\xfe\x00\xd8"),
                ("sub/bad.rules", b"\xc3\x28"),
            ],
        );
        assert_eq!(
            found(&l),
            [
                "source/parse: cannot read `../rules/fw.rules`: the file is not valid UTF-16 @ m.kdl:3:22",
                "source/parse: cannot read `bad.rules`: the file is not valid UTF-8 (byte 0) @ m.kdl:4:23",
            ]
        );
        // A file larger than the limit is refused before it is read (a sparse file).
        let big = dir.path().join("big.rules");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(super::MAX_SOURCE_BYTES + 1)
            .unwrap();
        assert_eq!(
            super::read_capped(&big).unwrap_err().to_string(),
            "the file is larger than 256 MB, the most cmflow reads"
        );
        // One rule that may match anything: every verdict through it is indeterminate.
        let fw = &l.model.firewalls[0];
        assert_eq!(fw.rules.len(), 1);
        assert_eq!(
            fw.rules[0].uncertain,
            Some(fw.source.as_ref().unwrap().path.span)
        );
    }
}
