//! KDL files to one [`Model`]: finds the files, parses each once (in parallel), walks the
//! nodes by hand to keep every span, validates them against the language
//! ([`vocabulary`]), resolves names across files, and collects every input diagnostic
//! (`rules.md` § Input) rather than stopping at the first.
//!
//! The loader knows the language, not its meaning: it computes no flows and runs no
//! checks beyond the input ones.

mod build;
pub mod codes;
pub mod firewall_sources;
pub(crate) mod reader;
mod resolve;
pub mod scan;
pub mod sources;
mod unparsed;
pub mod vocabulary;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::diag::{Diagnostic, Label};
use crate::model::{Model, SourceFile, SourceId, Span};
use build::FileModel;
use reader::Reader;

/// What to load.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Files or folders; folders mean every `*.kdl` below them (honouring `.gitignore`,
    /// skipping hidden folders).
    pub paths: Vec<PathBuf>,
    /// An unsaved buffer checked as if it were the file at this path (`--stdin-filename`).
    pub stdin: Option<(PathBuf, Vec<u8>)>,
}

/// Something that stops the run before any model exists (exit code 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error("cannot read {path}: {cause}")]
    #[diagnostic(code(cmflow::io))]
    Unreadable {
        path: String,
        /// Shown in the message, not as a cause of its own (which would say it twice).
        cause: std::io::Error,
    },
    #[error("no .kdl file found in {paths}")]
    #[diagnostic(
        code(cmflow::no_input),
        help(
            "give the files or folders that hold the model (`cmflow check path/to/model`), or write a starter model with `cmflow init`"
        )
    )]
    NoInput { paths: String },
}

/// A model and the input diagnostics found while loading it.
pub struct Loaded {
    pub model: Model,
    pub diagnostics: Vec<Diagnostic>,
}

pub use resolve::endpoint_problems;
pub use scan::MAX_NESTING;

/// The stack of the threads that parse: the `kdl` parser recurses about 2 KB (release)
/// to 10 KB (debug) per level of children, comment or slashdash, so 64 MB holds several
/// thousand levels, far above [`MAX_NESTING`] whatever mix a file has (measured:
/// `docs/decisions.md` § Hostile input).
const PARSE_STACK: usize = 64 << 20;

/// Runs `f` on the parsing threads: a rayon pool of their own with 64 MB stacks. Every
/// `kdl` parse of user text happens inside it.
pub fn on_parse_threads<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(PARSE_STACK)
            .thread_name(|i| format!("cmflow-parse-{i}"))
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(f),
        // No thread could be started: parse on this thread, whose nesting the limits
        // still bound (a 2 MB stack holds about 300 levels in release builds).
        None => f(),
    }
}

/// Loads the user's model. `known_codes` are the rule codes `lint` and `suppress` may name.
pub fn load(inputs: &Inputs, known_codes: &[&str]) -> Result<Loaded, LoadError> {
    let mut files = discover(&inputs.paths)?;
    if let Some((path, _)) = &inputs.stdin {
        let name = display_path(path);
        files.retain(|(n, _)| *n != name);
    }
    let mut texts: Vec<InputText> = files
        .into_par_iter()
        .map(|(name, path)| {
            std::fs::read(&path)
                .map(|bytes| InputText {
                    name,
                    bytes,
                    builtin: false,
                    path: Some(path.clone()),
                })
                .map_err(|cause| LoadError::Unreadable {
                    path: path.display().to_string(),
                    cause,
                })
        })
        .collect::<Result<_, _>>()?;
    if let Some((path, text)) = &inputs.stdin {
        texts.push(InputText {
            name: display_path(path),
            bytes: text.clone(),
            builtin: false,
            path: Some(path.clone()),
        });
    }
    if texts.is_empty() {
        let paths = inputs
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return Err(LoadError::NoInput { paths });
    }
    texts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(load_inputs(texts, known_codes))
}

/// One text to load: a file of the model, an unsaved buffer, or a catalog file.
#[derive(Clone, Debug)]
pub struct InputText {
    /// The name shown to users.
    pub name: String,
    pub bytes: Vec<u8>,
    /// Part of the built-in catalog.
    pub builtin: bool,
    /// The file on disk, which `source=` paths are relative to; `None`: the name is
    /// taken as a path (relative to the current folder).
    pub path: Option<PathBuf>,
}

/// Loads named texts (user files, or the catalog) into one model; `source=` paths are
/// relative to the names, taken as paths from the current folder.
pub fn load_texts(texts: Vec<(String, Vec<u8>, bool)>, known_codes: &[&str]) -> Loaded {
    load_inputs(
        texts
            .into_iter()
            .map(|(name, bytes, builtin)| InputText {
                name,
                bytes,
                builtin,
                path: None,
            })
            .collect(),
        known_codes,
    )
}

/// Loads texts into one model: parses every KDL file, reads the firewalls' `source`
/// files, then resolves names across files.
pub fn load_inputs(texts: Vec<InputText>, known_codes: &[&str]) -> Loaded {
    let mut model = Model::default();
    let mut files = Vec::new();
    let mut paths = Vec::new();
    for InputText {
        name,
        bytes,
        builtin,
        path,
    } in texts
    {
        let (text, utf8_error) = decode(bytes);
        paths.push(path.unwrap_or_else(|| PathBuf::from(&name)));
        let id = model
            .sources
            .add(SourceFile::new(name, Arc::from(text), builtin));
        files.push((id, utf8_error));
    }
    let sources = &model.sources;
    let scans: Vec<scan::Scan> = files
        .par_iter()
        .map(|&(id, _)| scan::scan(&sources.get(id).text))
        .collect();
    if let Some(d) = too_many_tokens(&files, &scans) {
        return Loaded {
            model,
            diagnostics: vec![d],
        };
    }
    let parsed: Vec<(FileModel, Vec<Diagnostic>, bool)> = on_parse_threads(|| {
        files
            .par_iter()
            .zip(&scans)
            .map(|(&(id, utf8_error), found)| {
                read_file(id, &sources.get(id).text, utf8_error, found)
            })
            .collect()
    });
    let mut diagnostics = Vec::new();
    let mut file_models = Vec::new();
    for ((fm, diags, read), &(id, _)) in parsed.into_iter().zip(&files) {
        diagnostics.extend(diags);
        file_models.push(fm);
        if !read {
            model.unparsed.push(id);
        }
    }
    firewall_sources::read(
        &mut model.sources,
        &paths,
        &mut file_models,
        &mut diagnostics,
    );
    resolve::merge(&mut model, file_models, &mut diagnostics, known_codes);
    unparsed::drop_cascades(&mut model, &mut diagnostics);
    Loaded { model, diagnostics }
}

/// Reads one file: syntax check, then the node walk; the flag says whether it parsed.
fn read_file(
    id: SourceId,
    text: &str,
    utf8_error: Option<usize>,
    found: &scan::Scan,
) -> (FileModel, Vec<Diagnostic>, bool) {
    let mut reader = Reader::new(id, text);
    if let Some(offset) = utf8_error {
        let span = Span::new(id, offset, (offset + 1).min(text.len()));
        reader.diagnostics.push(
            Diagnostic::new(
                &codes::KDL_SYNTAX,
                "the file is not valid UTF-8",
                Label::new(span, "invalid byte here"),
            )
            .with_help("save the file as UTF-8"),
        );
        return (FileModel::default(), reader.diagnostics, false);
    }
    if let Some(d) = hostile(id, text, found) {
        reader.diagnostics.push(d);
        return (FileModel::default(), reader.diagnostics, false);
    }
    match parse_document(text) {
        Ok(doc) => {
            let fm = reader.read_document(doc.nodes());
            (fm, reader.diagnostics, true)
        }
        Err(err) => {
            for d in unparsed::first_errors(err.diagnostics) {
                let span = clamp(id, text, d.span);
                let kdl1 = unparsed::kdl1_hint(text, span);
                let message = match &kdl1 {
                    Some(hint) => hint.message.clone(),
                    None => d.message.unwrap_or_else(|| "invalid KDL".into()),
                };
                let mut diag = Diagnostic::new(
                    &codes::KDL_SYNTAX,
                    message,
                    Label::new(span, d.label.unwrap_or_else(|| "here".into())),
                );
                match kdl1 {
                    Some(hint) => {
                        diag = diag
                            .with_help(hint.help)
                            .with_fix(hint.fix.span, hint.fix.replacement);
                    }
                    None => {
                        if let Some(help) = d.help {
                            diag = diag.with_help(help);
                        }
                    }
                }
                if !reader.diagnostics.contains(&diag) {
                    reader.diagnostics.push(diag);
                }
            }
            (FileModel::default(), reader.diagnostics, false)
        }
    }
}

/// The parser sometimes reports spans at offset 0 with no length or past the end of the
/// text; keep them inside the file so every renderer can show them.
fn clamp(id: SourceId, text: &str, span: miette::SourceSpan) -> Span {
    let len = text.len();
    let mut start = span.offset().min(len);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (span.offset() + span.len()).min(len).max(start);
    while !text.is_char_boundary(end) {
        end += 1;
    }
    if start == end && start == len && len > 0 {
        // Past the end: point at the last character.
        start = text[..len].char_indices().next_back().map_or(0, |(i, _)| i);
    }
    Span::new(id, start, end)
}

/// Lossless UTF-8 or a lossy copy and the offset (in the copy) of the first bad byte.
fn decode(bytes: Vec<u8>) -> (String, Option<usize>) {
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.replace_range(..3, "");
            }
            (s, None)
        }
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            (
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
                Some(valid),
            )
        }
    }
}

/// Parses KDL 2, falling back to KDL 1 as the `kdl` crate does. Its KDL 1 parser can
/// panic on some invalid input (found by the fuzz harness: a line separator inside a
/// comment); such a panic is caught, kept quiet, and the file gets its KDL 2 syntax errors.
pub fn parse_document(text: &str) -> Result<kdl::KdlDocument, kdl::KdlError> {
    quietly(|| kdl::KdlDocument::parse(text)).unwrap_or_else(|| kdl::KdlDocument::parse_v2(text))
}

/// Whether the text is a valid KDL 1 document (`None` when the KDL 1 parser panics).
pub fn is_kdl_v1(text: &str) -> bool {
    quietly(|| kdl::KdlDocument::parse_v1(text).is_ok()).unwrap_or(false)
}

std::thread_local! {
    /// Set while a parser runs whose panics are caught: the panic hook stays silent.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, catching a panic (`None`) without printing it.
fn quietly<R>(f: impl FnOnce() -> R) -> Option<R> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok();
    QUIET.with(|q| q.set(false));
    result
}

/// A `kdl/syntax` diagnostic when the files together hold more than
/// [`scan::MAX_TOTAL_TOKENS`]: on the file with the most, and no file is parsed.
fn too_many_tokens(
    files: &[(SourceId, Option<usize>)],
    scans: &[scan::Scan],
) -> Option<Diagnostic> {
    let total: usize = scans.iter().map(|s| s.tokens).sum();
    if total <= scan::MAX_TOTAL_TOKENS {
        return None;
    }
    let (&(id, _), largest) = files.iter().zip(scans).max_by_key(|(_, s)| s.tokens)?;
    Some(
        Diagnostic::new(
            &codes::KDL_SYNTAX,
            format!(
                "the model's {} files hold {total} names and values; cmflow reads at most {} (this file holds {})",
                files.len(),
                scan::MAX_TOTAL_TOKENS,
                largest.tokens
            ),
            Label::new(Span::new(id, 0, 0), "the largest file"),
        )
        .with_help("check a part of the model at a time"),
    )
}

/// A `kdl/syntax` diagnostic for a file the parser must not see: nested too deep (it
/// would exhaust the stack) or too large (it would exhaust memory).
pub fn hostile(id: SourceId, text: &str, found: &scan::Scan) -> Option<Diagnostic> {
    let at = |offset: usize, label: &str| {
        let end = text[offset..]
            .chars()
            .next()
            .map_or(offset, |c| offset + c.len_utf8());
        Label::new(Span::new(id, offset, end), label.to_owned())
    };
    let nested = [
        (found.braces, "nodes", "too deep"),
        (found.comments, "block comments", "too deep"),
        (found.slashdashes, "`/-` in a row", "too many"),
    ];
    for (depth, what, label) in nested {
        if depth.max > MAX_NESTING {
            let message = if what.starts_with('`') {
                format!("more than {MAX_NESTING} {what}")
            } else {
                format!("{what} are nested more than {MAX_NESTING} levels deep")
            };
            return Some(
                Diagnostic::new(&codes::KDL_SYNTAX, message, at(depth.at, label))
                    .with_help("the cmflow language nests at most five levels"),
            );
        }
    }
    if let Some(offset) = found.too_many_at {
        return Some(
            Diagnostic::new(
                &codes::KDL_SYNTAX,
                format!(
                    "the file holds {} names and values; cmflow reads at most {} per file",
                    found.tokens,
                    scan::MAX_TOKENS
                ),
                at(offset, "the limit is reached here"),
            )
            .with_help("split the model into several files"),
        );
    }
    None
}

/// Every input file, as (name shown to users, path): explicit files as given, folders
/// walked for `*.kdl`. Sorted, unique.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<(String, PathBuf)>, LoadError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|cause| LoadError::Unreadable {
            path: path.display().to_string(),
            cause,
        })?;
        if meta.is_file() {
            out.push(path.clone());
            continue;
        }
        // Links are followed (a linked file is part of the model, never skipped in
        // silence); the walker reports a link that loops or points nowhere.
        let walker = ignore::WalkBuilder::new(path)
            .follow_links(true)
            .hidden(true)
            .require_git(false)
            .sort_by_file_name(std::cmp::Ord::cmp)
            .build();
        for entry in walker {
            let entry = entry.map_err(|e| {
                let text = e.to_string();
                LoadError::Unreadable {
                    path: path.display().to_string(),
                    cause: e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other(text)),
                }
            })?;
            let p = entry.path();
            if entry.file_type().is_some_and(|t| t.is_file())
                && p.extension().is_some_and(|e| e == "kdl")
            {
                out.push(p.to_path_buf());
            }
        }
    }
    let mut named: Vec<(String, PathBuf)> =
        out.into_iter().map(|p| (display_path(&p), p)).collect();
    named.sort();
    named.dedup_by(|a, b| a.0 == b.0);
    // One file reached through two spellings (a link, `a/../b`) is loaded once, under
    // its first name.
    let mut seen = std::collections::HashSet::new();
    named.retain(|(_, p)| seen.insert(p.canonicalize().unwrap_or_else(|_| p.clone())));
    Ok(named)
}

/// A path as shown to users: relative to the current folder when under it, with `/`.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.as_ref()
            .map_or_else(|| path.to_path_buf(), |c| c.join(path))
    };
    let shown = cwd
        .as_ref()
        .and_then(|c| abs.strip_prefix(c).ok())
        .map_or_else(|| path.to_path_buf(), Path::to_path_buf);
    let s = shown.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(text: &str) -> Vec<String> {
        load_texts(
            vec![("m.kdl".into(), text.as_bytes().to_vec(), false)],
            crate::rules::SPEC_CODES,
        )
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
    }

    /// `CODE: WRITTEN -> REPLACEMENT` of every diagnostic with a fix, in order.
    fn fixes(text: &str) -> Vec<String> {
        load_texts(
            vec![("m.kdl".into(), text.as_bytes().to_vec(), false)],
            crate::rules::SPEC_CODES,
        )
        .diagnostics
        .iter()
        .filter_map(|d| {
            let fix = d.fix.as_ref()?;
            let written = &text[fix.span.start..fix.span.end];
            Some(format!("{}: {written} -> {}", d.code, fix.replacement))
        })
        .collect()
    }

    #[test]
    fn a_help_that_names_one_edit_comes_with_it_as_a_fix() {
        let model = r#"
zone "office" { subnet "10.20.0.0/16"; }
zone "lab" { subnet "10.30.0.9/16"; }
site "P01" type="primary" {
    server "dp1.contoso.com" zone="office" {
        distribution-point
    }
    server "dp2.contoso.com" zone="office" adress="10.20.0.2" {
        distribution-point pull=#true sources="dp1.contoso.com,dp1.contoso.cm"
        managment-point
    }
}
clients "A" site="P01" zone="ofice"
clients "B" site="P01" zone=ofice
firewall "fw" default="deni" {
    zones "office" "lab"
    allow "x" from="clients:A,zone:labb" to="role:distribution-point@P02" tcp="80"
    allow "y" from="zone:lab" to="zone:lab" tcp="80" {
        suppress "firewall/overly-brod" reason="r"
    }
}
"#;
        assert_eq!(
            fixes(model),
            [
                "schema/invalid-value: \"10.30.0.9/16\" -> \"10.30.0.0/16\"",
                "schema/unknown-property: adress -> address",
                "schema/unknown-node: managment-point -> management-point",
                "schema/invalid-value: \"deni\" -> \"deny\"",
                "schema/unknown-reference: \"firewall/overly-brod\" -> \"firewall/overly-broad\"",
                "schema/unknown-reference: dp1.contoso.cm -> dp1.contoso.com",
                "schema/unknown-reference: \"ofice\" -> \"office\"",
                "schema/unknown-reference: ofice -> office",
                "schema/unknown-reference: labb -> lab",
                "schema/unknown-reference: P02 -> P01",
            ]
        );
        // No fix where the help names no single edit, or the name is not written as such.
        let none = r#"
zone "office" { subnet "10.20.0.0/16"; }
clients "A" site="P01" zone="o\u{66}ice"
clients "B" zone="zzzzzz"
"#;
        assert_eq!(fixes(none), Vec::<String>::new());
        let escaped = messages(none);
        assert!(
            escaped.contains(&"schema/unknown-reference: zone `ofice` does not exist".to_owned()),
            "{escaped:?}"
        );
        // KDL 1's `true` in a KDL 2 file.
        assert_eq!(
            fixes("zone \"a\" x=#false\nzone \"b\" y=true\n"),
            ["kdl/syntax: true -> #true"]
        );
    }

    #[test]
    fn boundary_groups_waivers_and_addresses_are_checked() {
        let m = messages(
            r#"
zone "hq" { subnet "10.1.0.0/16"; }
site "P01" type="primary"
boundary-group "HQ" site="P01" {
    boundary "10.1.0.0/16"
    boundary ad-site="HQ" "10.2.0.0/16"
    boundary "10.1.0.9-10.1.0.1"
    site-system "dp99.contoso.com"
    fallback "Nowhere" distribution-point="soon"
}
clients "HQ desktops" site="P01" zone="hq" subnet="10.1.1.0/24,10.9.0.0/24" boundary-group="HQ,Branch"
console "PAW01" zone="hq" site="P01" address="10.7.0.1"
waive "x" to="role:sql-server" udp="1434" phase="sometimes"
waive to="any"
"#,
        );
        assert_eq!(
            m,
            [
                "schema/invalid-value: `subnet, prefix or range`: `10.1.0.9-10.1.0.1` is not a range from a lower to a higher address of one family",
                "schema/invalid-value: `distribution-point` must be minutes (a number) or \"never\", not \"soon\"",
                "schema/invalid-value: a `boundary` is either an address space or an `ad-site`, not both",
                "schema/invalid-value: `phase` must be one of \"all\", \"operation\", \"install\", \"client-install\", not \"sometimes\"",
                "schema/missing-value: `waive` needs its reason as argument 1",
                "schema/unknown-reference: boundary group `Branch` does not exist",
                "schema/invalid-value: subnet 10.9.0.0/24 of client group `HQ desktops` is not inside a subnet of zone `hq`",
                "schema/invalid-value: address 10.7.0.1 of console `PAW01` is not inside a subnet of zone `hq`",
                "schema/unknown-reference: server `dp99.contoso.com` does not exist",
                "schema/unknown-reference: boundary group `Nowhere` does not exist",
            ]
        );
    }

    #[test]
    fn nesting_guard_ignores_braces_in_strings_and_comments() {
        let id = SourceId(0);
        let check = |text: &str| hostile(id, text, &scan::scan(text));
        assert!(check("a \"{{{{\" // {{{{\n").is_none());
        let comment = format!("a /* {} */", "{".repeat(MAX_NESTING + 1));
        assert!(check(&comment).is_none());
        let deep = "a{".repeat(MAX_NESTING + 1);
        let d = check(&deep).unwrap();
        assert_eq!(d.primary.span.start, MAX_NESTING * 2 + 1);
    }

    #[test]
    fn utf8_errors_point_at_the_first_bad_byte() {
        let (text, bad) = decode(b"zone \"a\"\xff\n".to_vec());
        assert_eq!(bad, Some(8));
        assert!(text.contains('\u{fffd}'));
    }
}
