//! `cmflow graph`: pictures of a model. Each view ([`hierarchy`], [`network`],
//! [`flows`]) builds one format-neutral [`Graph`] (nodes, groups, edges, all sorted);
//! each renderer ([`dot`], [`mermaid`]) writes any graph in its syntax, escaping labels
//! and keeping ids stable (derived from the names users wrote).

pub mod dot;
pub mod flows;
pub mod hierarchy;
pub mod mermaid;
pub mod network;

use std::io::{self, Write};

use crate::engine::Verdict;

/// `cmflow graph --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// A mermaid flowchart (GitHub renders it in Markdown).
    Mermaid,
}

/// `cmflow graph --view`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphView {
    /// The site tree, with the roles of every server.
    Hierarchy,
    /// The zones and the firewalls between them.
    Network,
    /// The required flows between zones, per verdict.
    Flows,
}

/// What a node stands for; renderers pick its shape and colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    Site,
    Server,
    Clients,
    Console,
    Cloud,
    Zone,
    Firewall,
}

impl NodeKind {
    pub const ALL: [NodeKind; 7] = [
        NodeKind::Site,
        NodeKind::Server,
        NodeKind::Clients,
        NodeKind::Console,
        NodeKind::Cloud,
        NodeKind::Zone,
        NodeKind::Firewall,
    ];

    /// The prefix of the node ids of this kind (`site:CAS`).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Site => "site",
            NodeKind::Server => "server",
            NodeKind::Clients => "clients",
            NodeKind::Console => "console",
            NodeKind::Cloud => "cloud",
            NodeKind::Zone => "zone",
            NodeKind::Firewall => "firewall",
        }
    }

    /// Fill colour.
    pub fn fill(self) -> &'static str {
        match self {
            NodeKind::Site => "#dbeafe",
            NodeKind::Server => "#f3f4f6",
            NodeKind::Clients => "#dcfce7",
            NodeKind::Console => "#ede9fe",
            NodeKind::Cloud => "#e0f2fe",
            NodeKind::Zone => "#fef9c3",
            NodeKind::Firewall => "#fecaca",
        }
    }
}

/// One node: a stable id (`KIND:NAME`), the lines of its label, its group.
#[derive(Clone, Debug)]
pub struct Node {
    pub id: String,
    pub kind: NodeKind,
    pub lines: Vec<String>,
    /// Index into [`Graph::groups`].
    pub group: Option<usize>,
}

/// A box around nodes (a site in the hierarchy).
#[derive(Clone, Debug)]
pub struct Group {
    pub id: String,
    pub label: String,
}

/// How an edge is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeStyle {
    /// Parent to child (the site tree), or zone to firewall.
    Plain,
    /// Flows of one verdict: allowed green, blocked red, indeterminate orange, no-path
    /// grey and dashed, waived light grey and dotted-dashed (drawn apart: never blocked).
    Verdict(Verdict),
}

impl EdgeStyle {
    /// Stroke colour.
    pub fn color(self) -> Option<&'static str> {
        match self {
            EdgeStyle::Plain => None,
            EdgeStyle::Verdict(Verdict::Allowed) => Some("#2e7d32"),
            EdgeStyle::Verdict(Verdict::Blocked) => Some("#c62828"),
            EdgeStyle::Verdict(Verdict::Indeterminate) => Some("#ef6c00"),
            EdgeStyle::Verdict(Verdict::NoPath) => Some("#9e9e9e"),
            EdgeStyle::Verdict(Verdict::Waived) => Some("#bdbdbd"),
        }
    }

    pub fn dashed(self) -> bool {
        matches!(self, EdgeStyle::Verdict(Verdict::NoPath | Verdict::Waived))
    }
}

#[derive(Clone, Debug)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub lines: Vec<String>,
    pub style: EdgeStyle,
}

/// A format-neutral picture.
#[derive(Clone, Debug)]
pub struct Graph {
    /// `hierarchy`, `network`, `flows`.
    pub name: &'static str,
    pub directed: bool,
    /// Lay out left to right rather than top to bottom.
    pub left_to_right: bool,
    pub groups: Vec<Group>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// The id of a node: `server:cm01.contoso.com`.
pub fn node_id(kind: NodeKind, name: &str) -> String {
    format!("{}:{name}", kind.as_str())
}

/// Writes a graph in a format.
pub fn write(out: &mut dyn Write, format: GraphFormat, graph: &Graph) -> io::Result<()> {
    match format {
        GraphFormat::Dot => dot::write(out, graph),
        GraphFormat::Mermaid => mermaid::write(out, graph),
    }
}
