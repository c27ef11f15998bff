//! Graphviz DOT: quoted ids (`"server:cm01.contoso.com"`), a `cluster_` subgraph per
//! group, labels with `\n` between lines; quotes and backslashes escaped.

use std::io::{self, Write};

use super::{Graph, NodeKind};

pub use crate::escape::dot::quote;

/// A label of several lines: each escaped, joined by DOT's `\n`.
fn label(lines: &[String]) -> String {
    let escaped: Vec<String> = lines.iter().map(|l| crate::escape::dot::inner(l)).collect();
    format!("\"{}\"", escaped.join("\\n"))
}

fn node_attributes(kind: NodeKind) -> String {
    let shape = match kind {
        NodeKind::Site | NodeKind::Server | NodeKind::Console | NodeKind::Firewall => "box",
        NodeKind::Clients | NodeKind::Cloud | NodeKind::Zone => "ellipse",
    };
    let style = match kind {
        NodeKind::Site | NodeKind::Firewall => "filled,bold",
        NodeKind::Server | NodeKind::Console => "rounded,filled",
        NodeKind::Clients | NodeKind::Cloud | NodeKind::Zone => "filled",
    };
    format!(
        "shape={shape}, style={}, fillcolor={}",
        quote(style),
        quote(kind.fill())
    )
}

pub fn write(out: &mut dyn Write, graph: &Graph) -> io::Result<()> {
    let (keyword, arrow) = if graph.directed {
        ("digraph", "->")
    } else {
        ("graph", "--")
    };
    writeln!(out, "{keyword} {} {{", quote(graph.name))?;
    writeln!(
        out,
        "    graph [rankdir={}, fontname=\"Helvetica\", fontsize=11];",
        if graph.left_to_right { "LR" } else { "TB" }
    )?;
    writeln!(out, "    node [fontname=\"Helvetica\", fontsize=10];")?;
    writeln!(out, "    edge [fontname=\"Helvetica\", fontsize=9];")?;
    for (g, group) in graph.groups.iter().enumerate() {
        writeln!(
            out,
            "    subgraph {} {{",
            quote(&format!("cluster_{}", group.id))
        )?;
        writeln!(
            out,
            "        label={}; style=\"rounded\"; color=\"#9ca3af\";",
            quote(&group.label)
        )?;
        for node in graph.nodes.iter().filter(|n| n.group == Some(g)) {
            writeln!(
                out,
                "        {} [label={}, {}];",
                quote(&node.id),
                label(&node.lines),
                node_attributes(node.kind)
            )?;
        }
        writeln!(out, "    }}")?;
    }
    for node in graph.nodes.iter().filter(|n| n.group.is_none()) {
        writeln!(
            out,
            "    {} [label={}, {}];",
            quote(&node.id),
            label(&node.lines),
            node_attributes(node.kind)
        )?;
    }
    for edge in &graph.edges {
        let mut attributes: Vec<String> = Vec::new();
        if !edge.lines.is_empty() {
            attributes.push(format!("label={}", label(&edge.lines)));
        }
        if let Some(color) = edge.style.color() {
            attributes.push(format!("color={}", quote(color)));
            attributes.push(format!("fontcolor={}", quote(color)));
        }
        if edge.style.dashed() {
            attributes.push("style=dashed".into());
        }
        let attributes = if attributes.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attributes.join(", "))
        };
        writeln!(
            out,
            "    {} {arrow} {}{attributes};",
            quote(&edge.from),
            quote(&edge.to)
        )?;
    }
    writeln!(out, "}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_labels() {
        assert_eq!(quote(r#"a "b" \ c"#), r#""a \"b\" \\ c""#);
        assert_eq!(label(&["a\"".into(), "b".into()]), r#""a\"\nb""#);
    }
}
