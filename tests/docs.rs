//! The documentation is tested like code: every KDL example of `docs/language.md` is
//! loaded by the real binary, and no Markdown file of the repository links to a file
//! that does not exist.
//!
//! Info strings of the ```` ```kdl ```` blocks in `docs/language.md`:
//! - none: a complete model, loaded alone; it must give no `schema/` or `kdl/`
//!   diagnostic (other findings, such as a blocked flow, are allowed: an example shows
//!   the language, not a finished estate);
//! - `fails=CODE`: loaded alone, it must give `CODE` and no other `schema/` or `kdl/`
//!   diagnostic;
//! - `part=NAME`: the blocks sharing `NAME` are joined, in order, into one model loaded
//!   as above (the walkthrough builds one file step by step);
//! - `fragment`: a few lines that are not a model (a rule without its firewall); only
//!   parsed as KDL.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{root, run};

/// A fenced KDL block of a Markdown file.
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    /// The info string's attributes after `kdl` (`fails=...`, `part=...`, `fragment`).
    attributes: Vec<String>,
    text: String,
}

impl Block {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find_map(|a| a.strip_prefix(key)?.strip_prefix('='))
    }

    fn is_fragment(&self) -> bool {
        self.attributes.iter().any(|a| a == "fragment")
    }
}

/// Every ```` ```kdl ```` block of `markdown`; blocks may be indented (inside a list).
fn kdl_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let trimmed = line.trim_start();
        let Some(info) = trimmed.strip_prefix("```") else {
            continue;
        };
        let indent = line.len() - trimmed.len();
        let mut words = info.trim().split(',').map(str::trim);
        let is_kdl = words.next() == Some("kdl");
        let attributes: Vec<String> = words.map(str::to_owned).collect();
        let mut text = String::new();
        for (_, body) in lines.by_ref() {
            if body.trim() == "```" {
                break;
            }
            let body = if body.len() >= indent && body[..indent].trim().is_empty() {
                &body[indent..]
            } else {
                body.trim_start()
            };
            text.push_str(body);
            text.push('\n');
        }
        if is_kdl {
            blocks.push(Block {
                line: index + 1,
                attributes,
                text,
            });
        }
    }
    blocks
}

/// The `schema/` and `kdl/` codes that `cmflow check` gives for `text`, with the output.
fn load_codes(text: &str) -> (Vec<String>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("example.kdl"), text).expect("write example");
    let out = run(
        dir.path(),
        &[
            "check",
            "example.kdl",
            "--format",
            "short",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(out.code, 0, "cmflow could not run:\n{}", out.stderr);
    // `FILE:LINE:COL: SEVERITY[CODE] MESSAGE`
    let codes = out
        .stdout
        .lines()
        .filter_map(|line| {
            let start = line.find('[')? + 1;
            let end = start + line[start..].find(']')?;
            Some(line[start..end].to_owned())
        })
        .filter(|code| code.starts_with("schema/") || code.starts_with("kdl/"))
        .collect();
    (codes, out.stdout)
}

#[test]
fn every_language_example_loads_as_documented() {
    let path = root().join("docs/language.md");
    let markdown = std::fs::read_to_string(&path).expect("docs/language.md");
    let blocks = kdl_blocks(&markdown);
    assert!(blocks.len() > 20, "only {} KDL blocks found", blocks.len());

    let mut failures = Vec::new();
    // Standalone models, keyed by the line of their first block.
    let mut models: Vec<(usize, Option<String>, String)> = Vec::new();
    let mut parts: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for block in &blocks {
        if block.is_fragment() {
            if let Err(e) = kdl::KdlDocument::parse(&block.text) {
                failures.push(format!("line {}: fragment is not KDL: {e}", block.line));
            }
        } else if let Some(part) = block.attribute("part") {
            let entry = parts
                .entry(part.to_owned())
                .or_insert_with(|| (block.line, String::new()));
            entry.1.push_str(&block.text);
        } else {
            models.push((
                block.line,
                block.attribute("fails").map(str::to_owned),
                block.text.clone(),
            ));
        }
    }
    models.extend(parts.into_values().map(|(line, text)| (line, None, text)));
    assert!(
        models.iter().any(|(_, fails, _)| fails.is_some()),
        "no example shows an error"
    );

    for (line, fails, text) in &models {
        let (codes, output) = load_codes(text);
        match fails {
            None if !codes.is_empty() => failures.push(format!(
                "line {line}: the example should load cleanly, got:\n{output}"
            )),
            Some(code) if !codes.contains(code) || codes.iter().any(|c| c != code) => failures
                .push(format!(
                    "line {line}: the example should give exactly `{code}`, got:\n{output}"
                )),
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "docs/language.md:\n{}",
        failures.join("\n")
    );
}

/// `README.md`, every `docs/*.md` and every `examples/**/README.md`.
fn markdown_files() -> Vec<PathBuf> {
    let root = root();
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut folders = vec![root.join("examples")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("examples/") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.file_name().is_some_and(|n| n == "README.md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The targets of the inline links (`[text](target)`, `![alt](target)`) and reference
/// definitions (`[label]: target`) of `markdown`, with their lines, outside fenced code.
fn link_targets(markdown: &str) -> Vec<(usize, String)> {
    let mut targets = Vec::new();
    let mut in_code = false;
    for (index, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with('[')
            && let Some(end) = trimmed.find("]:")
            && let Some(target) = trimmed[end + 2..].split_whitespace().next()
        {
            targets.push((index + 1, target.to_owned()));
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or("");
            let target = target.trim_start_matches('<').trim_end_matches('>');
            if !target.is_empty() {
                targets.push((index + 1, target.to_owned()));
            }
            rest = &after[end..];
        }
    }
    targets
}

/// The file a relative link points to, or `None` for links that leave the repository's
/// files (web, mail) or stay on the page (`#anchor`).
fn local_target(from: &Path, target: &str) -> Option<PathBuf> {
    let lower = target.to_ascii_lowercase();
    if lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("mailto:")
        || target.starts_with('#')
    {
        return None;
    }
    let path = target.split(['#', '?']).next().unwrap_or(target);
    Some(from.parent().expect("a folder").join(path))
}

#[test]
fn no_markdown_file_links_to_a_missing_file() {
    let root = root();
    let mut dangling = Vec::new();
    for file in markdown_files() {
        let markdown = std::fs::read_to_string(&file).expect("markdown file");
        for (line, target) in link_targets(&markdown) {
            if let Some(path) = local_target(&file, &target)
                && !path.exists()
            {
                let shown = file.strip_prefix(&root).unwrap_or(&file).display();
                dangling.push(format!("{shown}:{line}: {target}"));
            }
        }
    }
    assert!(
        dangling.is_empty(),
        "links to files that do not exist:\n{}",
        dangling.join("\n")
    );
}

#[test]
fn link_targets_are_found_and_judged() {
    let markdown = "See [a](a.md#x), ![img](img/b.svg) and [web](https://x.y).\n\
                    ```\n[not](a link)\n```\n[ref]: ../c.md\n[top](#anchor)\n";
    let targets: Vec<String> = link_targets(markdown).into_iter().map(|t| t.1).collect();
    assert_eq!(
        targets,
        ["a.md#x", "img/b.svg", "https://x.y", "../c.md", "#anchor"]
    );
    let from = Path::new("docs/x.md");
    assert_eq!(
        local_target(from, "a.md#x"),
        Some(PathBuf::from("docs/a.md"))
    );
    assert_eq!(local_target(from, "https://x.y"), None);
    assert_eq!(local_target(from, "mailto:a@b"), None);
    assert_eq!(local_target(from, "#anchor"), None);
}
