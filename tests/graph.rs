//! End-to-end tests of `cmflow graph`: snapshots of every view in both formats on
//! `examples/contoso`, escaping of quotes and markup in labels, determinism, every
//! example, and (where Graphviz is installed; `.ci/run` installs it) that `dot` renders
//! the DOT output.

mod common;

use common::{root, run};

use std::process::Stdio;

const VIEWS: [&str; 3] = ["hierarchy", "network", "flows"];

#[test]
fn contoso_snapshots() {
    for view in VIEWS {
        for format in ["dot", "mermaid"] {
            let r = run(
                &root(),
                &[
                    "graph",
                    "examples/contoso",
                    "--view",
                    view,
                    "--format",
                    format,
                ],
            );
            assert_eq!(r.code, 0, "{}", r.stderr);
            insta::assert_snapshot!(format!("graph-contoso-{view}-{format}"), r.stdout);
        }
    }
}

#[test]
fn defaults_are_dot_and_hierarchy() {
    let default = run(&root(), &["graph", "examples/contoso"]);
    let explicit = run(
        &root(),
        &[
            "graph",
            "examples/contoso",
            "--view",
            "hierarchy",
            "--format",
            "dot",
        ],
    );
    assert_eq!(default.stdout, explicit.stdout);
    assert!(default.stdout.starts_with("digraph \"hierarchy\" {"));
}

/// A model whose names hold quotes, a backslash and markup characters.
const AWKWARD: &str = r#"
zone "hq \"main\"" { subnet "10.10.0.0/16" }
zone "datacenter" { subnet "10.0.0.0/24" }
site "P01" type="primary" {
    database server="sql01.example.com" instance="MSSQLSERVER"
    server "cm01.example.com" zone="datacenter" {
        site-server
        management-point
    }
}
server "sql01.example.com" zone="datacenter" {
    sql-instance "MSSQLSERVER"
}
clients "Say \"hi\" \\ <b>#1</b> & co's" site="P01" zone="hq \"main\""
firewall "fw \"edge\"" {
    zones "datacenter" "hq \"main\""
}
"#;

#[test]
fn labels_are_escaped() {
    let dir = tempfile::tempdir().expect("temporary folder");
    std::fs::write(dir.path().join("m.kdl"), AWKWARD).expect("write");
    for view in VIEWS {
        let dot = run(dir.path(), &["graph", ".", "--view", view]);
        assert_eq!(dot.code, 0, "{}", dot.stderr);
        let mermaid = run(
            dir.path(),
            &["graph", ".", "--view", view, "--format", "mermaid"],
        );
        assert_eq!(mermaid.code, 0, "{}", mermaid.stderr);
        insta::assert_snapshot!(
            format!("graph-escaping-{view}"),
            format!("{}\n{}", dot.stdout, mermaid.stdout)
        );
        // Mermaid labels hold no raw quote, angle bracket or ampersand of the names.
        for line in mermaid.stdout.lines() {
            if let Some(start) = line.find("[\"") {
                let label = &line[start + 2..line.rfind("\"]").expect("closed label")];
                let label = label.replace("<br/>", "");
                assert!(!label.contains(['"', '<', '>', '&']), "{line}");
            }
        }
        if let Some(ok) = renders(&dot.stdout) {
            assert!(ok, "dot cannot render the {view} view:\n{}", dot.stdout);
        }
    }
    // In DOT, quotes and backslashes are escaped inside quoted ids and labels.
    let dot = run(dir.path(), &["graph", ".", "--view", "hierarchy"]).stdout;
    assert!(
        dot.contains(r#""clients:Say \"hi\" \\ <b>#1</b> & co's""#),
        "{dot}"
    );
}

#[test]
fn output_is_deterministic() {
    for view in VIEWS {
        let a = run(&root(), &["graph", "examples/contoso", "--view", view]);
        let b = run(&root(), &["graph", "examples/contoso", "--view", view]);
        assert_eq!(a.stdout, b.stdout);
    }
}

#[test]
fn every_example_every_view() {
    for example in ["contoso", "standalone-primary", "broken"] {
        for view in VIEWS {
            for format in ["dot", "mermaid"] {
                let path = format!("examples/{example}");
                let r = run(
                    &root(),
                    &["graph", &path, "--view", view, "--format", format],
                );
                // Input errors go to stderr with exit 1; the picture is still drawn.
                let expected = i32::from(example == "broken");
                assert_eq!(r.code, expected, "{example} {view} {format}: {}", r.stderr);
                assert!(!r.stdout.is_empty());
                if format == "dot"
                    && let Some(ok) = renders(&r.stdout)
                {
                    assert!(ok, "dot cannot render {example} {view}");
                }
            }
        }
    }
}

/// The flows view colours edges by verdict: `broken` has every kind.
#[test]
fn flows_are_coloured_by_verdict() {
    let r = run(
        &root(),
        &[
            "graph",
            "examples/broken",
            "--view",
            "flows",
            "--phase",
            "all",
        ],
    );
    for color in ["#2e7d32", "#c62828", "#9e9e9e"] {
        assert!(r.stdout.contains(color), "{color}\n{}", r.stdout);
    }
    assert!(r.stdout.contains("style=dashed"));
}

/// Whether Graphviz renders `dot` to SVG; `None` when it is not installed.
fn renders(dot: &str) -> Option<bool> {
    use std::io::Write;
    let mut child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(dot.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("dot runs");
    Some(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("<svg"))
}

/// `docs/graphs.md`: the contoso pictures (SVGs rendered by `tests/e2e/graphviz.sh
/// --write-docs`) and their mermaid sources, kept equal to the code's output;
/// `CMFLOW_UPDATE_DOCS=1 cargo test --test graph` rewrites it.
#[test]
fn docs_graphs_are_current() {
    let mut doc = String::from(
        "# Pictures of a model\n\n\
         `cmflow graph` draws a model in Graphviz DOT (`--format dot`, the default) or as a\n\
         mermaid flowchart (`--format mermaid`, which GitHub renders in Markdown). Three\n\
         views of [`examples/contoso`](../examples/contoso) follow: each as the SVG that\n\
         Graphviz renders from the DOT output, then the mermaid source.\n\n\
         ```sh\n\
         cmflow graph examples/contoso --view hierarchy | dot -Tsvg -o hierarchy.svg\n\
         cmflow graph examples/contoso --view flows --format mermaid\n\
         ```\n\n\
         Node ids are the names users wrote (`server:cm01.contoso.com`; in mermaid the same\n\
         with `_` for other characters), so a picture changes only where the model does.\n",
    );
    let views = [
        (
            "hierarchy",
            "Hierarchy",
            "`--view hierarchy` (the default): a box per site with its servers (each with its \
             roles and SQL instances), client groups, consoles and cloud services; servers \
             outside any site under `infrastructure`; an arrow from each parent site to its \
             children.",
        ),
        (
            "network",
            "Network",
            "`--view network`: the zones (with their subnets; `internet` always exists) and \
             the network firewalls, joined where a firewall lists a zone.",
        ),
        (
            "flows",
            "Flows",
            "`--view flows`: the required flows between zones (and within one), one arrow per \
             pair of zones and verdict with the number of flows and their services: allowed \
             green, blocked red, indeterminate orange, no path grey and dashed. `--phase` \
             selects the phases as for `cmflow flows`.",
        ),
    ];
    for (view, title, text) in views {
        let r = run(
            &root(),
            &[
                "graph",
                "examples/contoso",
                "--view",
                view,
                "--format",
                "mermaid",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        doc = format!(
            "{doc}\n## {title}\n\n{text}\n\n![{title} of examples/contoso](img/contoso-{view}.svg)\n\n```mermaid\n{}```\n",
            r.stdout
        );
        assert!(
            root().join(format!("docs/img/contoso-{view}.svg")).exists(),
            "run tests/e2e/graphviz.sh --write-docs"
        );
    }
    let path = root().join("docs/graphs.md");
    if std::env::var_os("CMFLOW_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &doc).expect("write docs/graphs.md");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == doc,
        "docs/graphs.md is stale: run CMFLOW_UPDATE_DOCS=1 cargo test --test graph"
    );
}
