//! The network view: every zone (with its subnets; the implicit `internet` included) and
//! every network firewall, joined by an edge where a firewall lists a zone.

use super::{Edge, EdgeStyle, Graph, Node, NodeKind, node_id};
use crate::engine::Network;
use crate::model::Action;

pub fn build(net: &Network<'_>) -> Graph {
    let model = net.model;
    let mut nodes = Vec::new();
    let mut zones: Vec<_> = net.zones.iter().collect();
    zones.sort_by(|a, b| a.name.cmp(b.name));
    for z in zones {
        let mut lines = vec![z.name.to_owned()];
        lines.extend(z.subnets.iter().map(|s| s.value.to_string()));
        nodes.push(Node {
            id: node_id(NodeKind::Zone, z.name),
            kind: NodeKind::Zone,
            lines,
            group: None,
        });
    }
    let mut firewalls: Vec<_> = model.firewalls.iter().collect();
    firewalls.sort_by(|a, b| a.name.value.cmp(&b.name.value));
    let mut edges = Vec::new();
    for fw in firewalls {
        let id = node_id(NodeKind::Firewall, &fw.name.value);
        let default = match fw.default {
            Action::Allow => "allow",
            Action::Deny => "deny",
        };
        nodes.push(Node {
            id: id.clone(),
            kind: NodeKind::Firewall,
            lines: vec![
                fw.name.value.clone(),
                format!("{} rules, default {default}", fw.rules.len()),
            ],
            group: None,
        });
        let mut zones: Vec<&str> = fw.zones.iter().map(|z| z.value.as_str()).collect();
        zones.sort_unstable();
        zones.dedup();
        edges.extend(zones.into_iter().map(|z| Edge {
            from: node_id(NodeKind::Zone, z),
            to: id.clone(),
            lines: Vec::new(),
            style: EdgeStyle::Plain,
        }));
    }
    Graph {
        name: "network",
        directed: false,
        left_to_right: true,
        groups: Vec::new(),
        nodes,
        edges,
    }
}
