//! The flows view: one node per zone that flows leave or reach, and one edge per pair of
//! zones and verdict, labelled with the number of required flows and their services.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Edge, EdgeStyle, Graph, Node, NodeKind, node_id};
use crate::engine::{FlowVerdict, Network, RequiredFlow, Verdict};

/// Services shown on an edge; the rest are counted.
const SHOWN_SERVICES: usize = 4;

pub fn build(net: &Network<'_>, flows: &[RequiredFlow], verdicts: &[FlowVerdict]) -> Graph {
    let model = net.model;
    // (source zone, destination zone, verdict) -> (flows, services); keyed by zone ids
    // first, names after, so the map stays small on large models.
    let mut pairs: HashMap<(usize, usize, Verdict), (usize, BTreeSet<&str>)> = HashMap::new();
    for (flow, verdict) in flows.iter().zip(verdicts) {
        let key = (
            net.zone_of(flow.source),
            net.zone_of(flow.destination),
            verdict.verdict,
        );
        let entry = pairs.entry(key).or_default();
        entry.0 += 1;
        entry
            .1
            .extend(flow.services.iter().map(|s| s.service(model)));
    }
    let mut named: BTreeMap<(&str, &str, Verdict), (usize, BTreeSet<&str>)> = BTreeMap::new();
    let mut zones: BTreeSet<&str> = BTreeSet::new();
    for ((a, b, v), load) in pairs {
        let (a, b) = (net.zones[a].name, net.zones[b].name);
        zones.insert(a);
        zones.insert(b);
        named.insert((a, b, v), load);
    }
    let nodes = zones
        .into_iter()
        .map(|z| Node {
            id: node_id(NodeKind::Zone, z),
            kind: NodeKind::Zone,
            lines: vec![z.to_owned()],
            group: None,
        })
        .collect();
    let edges = named
        .into_iter()
        .map(|((a, b, verdict), (count, services))| {
            let mut shown: Vec<&str> = services.iter().take(SHOWN_SERVICES).copied().collect();
            let more = services.len().saturating_sub(SHOWN_SERVICES);
            let more_text = format!("+{more} more");
            if more > 0 {
                shown.push(&more_text);
            }
            Edge {
                from: node_id(NodeKind::Zone, a),
                to: node_id(NodeKind::Zone, b),
                lines: vec![
                    format!(
                        "{count} {} {}",
                        if count == 1 { "flow" } else { "flows" },
                        verdict.as_str()
                    ),
                    shown.join(", "),
                ],
                style: EdgeStyle::Verdict(verdict),
            }
        })
        .collect();
    Graph {
        name: "flows",
        directed: true,
        left_to_right: true,
        groups: Vec::new(),
        nodes,
        edges,
    }
}
