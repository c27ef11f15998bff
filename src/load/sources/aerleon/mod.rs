//! `format="aerleon"`: an Aerleon policy (YAML `.yaml` or the classic `.pol`) with its
//! `def/` networks and services, read with Aerleon's meaning (see `docs/sources/aerleon.md`).
//!
//! The policy is first read into a small syntax tree shared by both syntaxes (filters,
//! their headers' targets, terms and their `keyword: words` fields, every word with its
//! span), then each term of the filters the firewall applies becomes at most one
//! [`FirewallRule`](crate::model::FirewallRule): first match in term order, as the rendered ACLs evaluate. Which
//! filters apply: those whose `iptables` (or `speedway`) target names the `FORWARD`
//! chain, else the only filter of the policy (`docs/decisions.md`).
//!
//! This module owns the reading of Aerleon files; it knows nothing of flows.

mod defs;
mod pol;
mod terms;
#[cfg(test)]
mod tests;
mod yaml;

use std::path::{Component, Path, PathBuf};

use super::{ExtraFiles, NetworkRules, SourceError, SourceInput};
use crate::model::{SourceId, Span};
use defs::Defs;
use yaml::Node;

/// A word of a value, with where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub span: Span,
}

/// `keyword: words` of a header or a term.
#[derive(Clone, Debug)]
pub struct Field {
    pub key: Word,
    pub values: Vec<Word>,
    /// The value is a mapping (YAML `verbatim`, `flexible-match-range`): no words.
    pub structured: bool,
}

#[derive(Clone, Debug)]
pub struct Term {
    pub name: Word,
    pub fields: Vec<Field>,
    pub span: Span,
}

/// One platform of a header's targets and its options (`iptables: FORWARD DROP`).
#[derive(Clone, Debug)]
pub struct Target {
    pub platform: Word,
    pub options: Vec<Word>,
}

#[derive(Clone, Debug)]
pub struct Filter {
    /// The header.
    pub span: Span,
    pub targets: Vec<Target>,
    pub terms: Vec<Term>,
}

/// Opens an included file by the name the policy writes.
pub trait Includes {
    fn open(&mut self, name: &str, at: Span) -> Result<(SourceId, String), SourceError>;
}

/// For policies that must not include anything (tests).
#[cfg(test)]
pub struct NoIncludes;

#[cfg(test)]
impl Includes for NoIncludes {
    fn open(&mut self, name: &str, at: Span) -> Result<(SourceId, String), SourceError> {
        Err(SourceError::at(at, format!("no file `{name}`")))
    }
}

/// Includes looked up, as Aerleon's base directory, in the policy's folder and each
/// folder above it up to the one holding `def/`.
struct FileIncludes<'e> {
    dirs: Vec<PathBuf>,
    extra: &'e mut dyn ExtraFiles,
}

impl Includes for FileIncludes<'_> {
    fn open(&mut self, name: &str, at: Span) -> Result<(SourceId, String), SourceError> {
        let relative = Path::new(name);
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(SourceError::at(
                at,
                format!("`{name}`: an include is a path inside the policies' folder"),
            )
            .with_help("Aerleon refuses includes from outside its base directory"));
        }
        for dir in &self.dirs {
            let path = dir.join(relative);
            if path.is_file() {
                let bytes = std::fs::read(&path).map_err(|e| {
                    SourceError::at(at, format!("cannot read `{}`: {e}", path.display()))
                })?;
                let text = super::decode(&bytes)
                    .map_err(|e| SourceError::at(at, format!("`{name}`: {}", e.message)))?;
                let id = self.extra.add(&path, text.clone());
                return Ok((id, text));
            }
        }
        Err(
            SourceError::at(at, format!("no included file `{name}`")).with_help(format!(
                "looked in {}",
                self.dirs
                    .iter()
                    .map(|d| format!("`{}`", d.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        )
    }
}

/// The folder holding the policy, and the nearest `def/` folder beside or above it.
fn folders(policy: &Path) -> (PathBuf, Option<PathBuf>) {
    let here = policy
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let def = here.ancestors().map(|d| d.join("def")).find(|d| d.is_dir());
    (here, def)
}

/// Reads every definitions file of a `def/` folder, in name order.
fn read_defs(dir: &Path, extra: &mut dyn ExtraFiles) -> Result<Defs, SourceError> {
    let whole = |message: String| SourceError {
        message,
        span: None,
        help: None,
    };
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
        .map_err(|e| whole(format!("cannot read `{}`: {e}", dir.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter_map(|p| {
            let ext = p.extension()?.to_str()?.to_ascii_lowercase();
            matches!(ext.as_str(), "net" | "svc" | "yaml" | "yml").then_some((p, ext))
        })
        .filter(|(p, _)| p.is_file())
        .collect();
    files.sort();
    let mut defs = Defs::default();
    for (path, ext) in files {
        let bytes = std::fs::read(&path)
            .map_err(|e| whole(format!("cannot read `{}`: {e}", path.display())))?;
        let text = super::decode(&bytes)
            .map_err(|e| whole(format!("`{}`: {}", path.display(), e.message)))?;
        let id = extra.add(&path, text.clone());
        defs.add_file(id, &ext, &text)?;
    }
    Ok(defs)
}

pub fn read(
    input: &SourceInput<'_>,
    extra: &mut dyn ExtraFiles,
) -> Result<NetworkRules, SourceError> {
    let (here, def) = folders(input.path);
    let defs = match &def {
        Some(dir) => Some(read_defs(dir, extra)?),
        None => None,
    };
    // The base directory for includes: this folder up to the one holding `def/`.
    let top = def.as_deref().and_then(Path::parent);
    let mut dirs = Vec::new();
    for d in here.ancestors() {
        dirs.push(d.to_path_buf());
        if Some(d) == top || top.is_none() {
            break;
        }
    }
    let mut includes = FileIncludes { dirs, extra };
    let filters = parse_policy(input, &mut includes)?;
    terms::convert(&filters, defs.as_ref(), terms::today())
}

/// Reads the policy's filters, by its extension: `.pol` is the classic syntax, anything
/// else YAML.
fn parse_policy(
    input: &SourceInput<'_>,
    includes: &mut dyn Includes,
) -> Result<Vec<Filter>, SourceError> {
    let classic = input
        .path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pol"));
    if classic {
        pol::parse(input.id, input.text, includes)
    } else {
        yaml_policy(input.id, input.text, includes)
    }
}

/// Aerleon's limit on nested includes.
const MAX_DEPTH: usize = 5;

/// A YAML policy: `filters:`, each a `header` and `terms`, or an `include`.
fn yaml_policy(
    id: SourceId,
    text: &str,
    includes: &mut dyn Includes,
) -> Result<Vec<Filter>, SourceError> {
    let whole = Span::new(id, 0, text.len().min(1));
    let root = yaml::parse(id, text)?
        .ok_or_else(|| SourceError::at(whole, "the policy is empty: it needs `filters`"))?;
    let list = root.get("filters").ok_or_else(|| {
        SourceError::at(root.span(), "the policy has no `filters` list")
            .with_help("an Aerleon YAML policy is `filters:` followed by headers and terms")
    })?;
    let mut out = Vec::new();
    yaml_filters(list, includes, 0, &mut out)?;
    Ok(out)
}

fn include_name(node: &Node) -> Option<&yaml::Scalar> {
    let entries = node.entries()?;
    if entries.len() != 1 {
        return None;
    }
    node.get("include").and_then(Node::as_scalar)
}

fn open_yaml_include(
    name: &yaml::Scalar,
    includes: &mut dyn Includes,
    depth: usize,
) -> Result<Node, SourceError> {
    if depth >= MAX_DEPTH {
        return Err(SourceError::at(
            name.span,
            format!("includes nest deeper than {MAX_DEPTH} files"),
        ));
    }
    if Path::new(&name.value).extension().and_then(|e| e.to_str()) != Some("yaml") {
        return Err(SourceError::at(
            name.span,
            format!(
                "`{}`: an included file's name must end in `.yaml`",
                name.value
            ),
        ));
    }
    let (id, text) = includes.open(&name.value, name.span)?;
    yaml::parse(id, &text)?
        .ok_or_else(|| SourceError::at(name.span, format!("`{}` is empty", name.value)))
}

fn yaml_filters(
    list: &Node,
    includes: &mut dyn Includes,
    depth: usize,
    out: &mut Vec<Filter>,
) -> Result<(), SourceError> {
    let Node::Seq(items, _) = list else {
        return Err(SourceError::at(
            list.span(),
            format!("`filters` must be a list, not {}", list.kind()),
        ));
    };
    for item in items {
        if let Some(name) = include_name(item) {
            let root = open_yaml_include(name, includes, depth)?;
            let inner = root
                .get("filters_include_only")
                .or_else(|| root.get("filters"))
                .ok_or_else(|| {
                    SourceError::at(
                        name.span,
                        format!(
                            "`{}` has no `filters_include_only` or `filters`",
                            name.value
                        ),
                    )
                })?;
            yaml_filters(inner, includes, depth + 1, out)?;
            continue;
        }
        let header = item.get("header").ok_or_else(|| {
            SourceError::at(item.span(), "a filter needs a `header` with its `targets`")
        })?;
        let mut targets = Vec::new();
        if let Some(t) = header.get("targets") {
            let entries = t.entries().ok_or_else(|| {
                SourceError::at(t.span(), "`targets` must map each platform to its options")
            })?;
            for (k, v) in entries {
                let Some(platform) = k.as_scalar() else {
                    return Err(SourceError::at(k.span(), "a target is a platform name"));
                };
                targets.push(Target {
                    platform: Word {
                        text: platform.value.clone(),
                        span: platform.span,
                    },
                    options: node_words(v),
                });
            }
        }
        let mut terms = Vec::new();
        let list = item
            .get("terms")
            .ok_or_else(|| SourceError::at(item.span(), "a filter needs a `terms` list"))?;
        yaml_terms(list, includes, depth, &mut terms)?;
        out.push(Filter {
            span: header.span(),
            targets,
            terms,
        });
    }
    Ok(())
}

fn yaml_terms(
    list: &Node,
    includes: &mut dyn Includes,
    depth: usize,
    out: &mut Vec<Term>,
) -> Result<(), SourceError> {
    let Node::Seq(items, _) = list else {
        return Err(SourceError::at(
            list.span(),
            format!("`terms` must be a list, not {}", list.kind()),
        ));
    };
    for item in items {
        if let Some(name) = include_name(item) {
            let root = open_yaml_include(name, includes, depth)?;
            let inner = root.get("terms").ok_or_else(|| {
                SourceError::at(name.span, format!("`{}` has no `terms`", name.value))
            })?;
            yaml_terms(inner, includes, depth + 1, out)?;
            continue;
        }
        let Some(entries) = item.entries() else {
            return Err(SourceError::at(
                item.span(),
                format!("a term is a mapping, not {}", item.kind()),
            ));
        };
        let name = item
            .get("name")
            .and_then(Node::as_scalar)
            .ok_or_else(|| SourceError::at(item.span(), "a term needs a `name`"))?;
        let mut fields = Vec::new();
        for (k, v) in entries {
            let Some(key) = k.as_scalar() else {
                return Err(SourceError::at(k.span(), "a term's keys are words"));
            };
            if key.value == "name" {
                continue;
            }
            fields.push(Field {
                key: Word {
                    text: key.value.clone(),
                    span: key.span,
                },
                values: node_words(v),
                structured: matches!(v, Node::Map(..)),
            });
        }
        out.push(Term {
            name: Word {
                text: name.value.clone(),
                span: name.span,
            },
            fields,
            span: item.span(),
        });
    }
    Ok(())
}

/// The words of a value: a space-separated string, or a list of them. A YAML null
/// (an empty value) has none.
fn node_words(node: &Node) -> Vec<Word> {
    let mut out = Vec::new();
    let mut scalar = |s: &yaml::Scalar| {
        if s.value == "~" {
            return;
        }
        for (at, w) in defs::words(&s.value) {
            let span = match s.exact_at {
                Some(start) => Span::new(s.span.source, start + at, start + at + w.len()),
                None => s.span,
            };
            out.push(Word {
                text: w.to_owned(),
                span,
            });
        }
    };
    match node {
        Node::Scalar(s) => scalar(s),
        Node::Seq(items, _) => {
            for s in items.iter().filter_map(Node::as_scalar) {
                scalar(s);
            }
        }
        Node::Map(..) => {}
    }
    out
}
