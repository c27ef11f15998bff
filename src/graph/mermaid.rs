//! Mermaid flowcharts: ids made of the node ids' letters and digits (`server_cm01_contoso_com`,
//! a suffix when two collide), labels quoted with `"`, `<`, `>`, `&` and `#` written as
//! entities and `<br/>` between lines, one `classDef` per kind of node and `linkStyle`
//! for coloured edges.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};

use super::{Graph, NodeKind};

pub use crate::escape::mermaid::escape;

fn label(lines: &[String]) -> String {
    let escaped: Vec<String> = lines.iter().map(|l| escape(l)).collect();
    format!("\"{}\"", escaped.join("<br/>"))
}

/// Mermaid ids for logical ids: letters, digits and `_`, unique, in the given order.
struct Ids {
    map: HashMap<String, String>,
    used: HashSet<String>,
}

impl Ids {
    fn new() -> Self {
        Self {
            map: HashMap::new(),
            used: HashSet::new(),
        }
    }

    fn get(&mut self, logical: &str) -> String {
        if let Some(id) = self.map.get(logical) {
            return id.clone();
        }
        let base: String = logical
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let mut id = base.clone();
        let mut n = 2;
        while self.used.contains(&id) {
            id = format!("{base}_{n}");
            n += 1;
        }
        self.used.insert(id.clone());
        self.map.insert(logical.to_owned(), id.clone());
        id
    }
}

pub fn write(out: &mut dyn Write, graph: &Graph) -> io::Result<()> {
    writeln!(
        out,
        "flowchart {}",
        if graph.left_to_right { "LR" } else { "TB" }
    )?;
    let mut ids = Ids::new();
    // Node ids first, in node order, so that they do not depend on edges.
    for node in &graph.nodes {
        ids.get(&node.id);
    }
    for (g, group) in graph.groups.iter().enumerate() {
        let gid = ids.get(&format!("group:{}", group.id));
        writeln!(
            out,
            "    subgraph {gid}[{}]",
            label(std::slice::from_ref(&group.label))
        )?;
        for node in graph.nodes.iter().filter(|n| n.group == Some(g)) {
            writeln!(out, "        {}[{}]", ids.get(&node.id), label(&node.lines))?;
        }
        writeln!(out, "    end")?;
    }
    for node in graph.nodes.iter().filter(|n| n.group.is_none()) {
        writeln!(out, "    {}[{}]", ids.get(&node.id), label(&node.lines))?;
    }
    let arrow = if graph.directed { "-->" } else { "---" };
    // linkStyle lines by style, each listing its edges' indexes.
    let mut styles: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, edge) in graph.edges.iter().enumerate() {
        let (from, to) = (ids.get(&edge.from), ids.get(&edge.to));
        if edge.lines.is_empty() {
            writeln!(out, "    {from} {arrow} {to}")?;
        } else {
            writeln!(out, "    {from} {arrow}|{}| {to}", label(&edge.lines))?;
        }
        if let Some(color) = edge.style.color() {
            let mut style = format!("stroke:{color},color:{color}");
            if edge.style.dashed() {
                style.push_str(",stroke-dasharray:5 5");
            }
            styles.entry(style).or_default().push(i);
        }
    }
    for kind in NodeKind::ALL {
        let members: Vec<String> = graph
            .nodes
            .iter()
            .filter(|n| n.kind == kind)
            .map(|n| ids.get(&n.id))
            .collect();
        if members.is_empty() {
            continue;
        }
        writeln!(out, "    classDef {} fill:{}", kind.as_str(), kind.fill())?;
        writeln!(out, "    class {} {}", members.join(","), kind.as_str())?;
    }
    for (style, edges) in styles {
        let list: Vec<String> = edges.iter().map(ToString::to_string).collect();
        writeln!(out, "    linkStyle {} {style}", list.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_ids() {
        assert_eq!(
            escape(r#"<b>"x" & #1"#),
            "#lt;b#gt;#quot;x#quot; #amp; #35;1"
        );
        let mut ids = Ids::new();
        assert_eq!(ids.get("zone:a-b"), "zone_a_b");
        assert_eq!(ids.get("zone:a.b"), "zone_a_b_2");
        assert_eq!(ids.get("zone:a-b"), "zone_a_b");
    }
}
