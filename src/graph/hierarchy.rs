//! The hierarchy view: a group per site holding the site, its servers (each with its
//! roles and SQL instances), client groups, consoles and cloud services; servers outside
//! any site in an `infrastructure` group; an edge from each parent site to its children.

use super::{Edge, EdgeStyle, Graph, Group, Node, NodeKind, node_id};
use crate::model::{Model, Server, SiteType};

fn site_type(t: SiteType) -> &'static str {
    match t {
        SiteType::Central => "central",
        SiteType::Primary => "primary",
        SiteType::Secondary => "secondary",
    }
}

/// The label lines of a server: its name, then its roles and SQL instances.
fn server_lines(server: &Server) -> Vec<String> {
    let mut lines = vec![server.fqdn.value.clone()];
    lines.extend(server.roles.iter().map(|r| r.name.to_owned()));
    lines.extend(
        server
            .sql_instances
            .iter()
            .map(|i| format!("sql-instance {}", i.name.value)),
    );
    lines
}

pub fn build(model: &Model) -> Graph {
    let mut sites: Vec<usize> = (0..model.sites.len()).collect();
    sites.sort_by(|a, b| model.sites[*a].code.value.cmp(&model.sites[*b].code.value));
    let mut groups = Vec::new();
    let mut group_of_site = vec![None; model.sites.len()];
    for &s in &sites {
        let site = &model.sites[s];
        group_of_site[s] = Some(groups.len());
        groups.push(Group {
            id: format!("site:{}", site.code.value),
            label: format!("{} ({})", site.code.value, site_type(site.site_type)),
        });
    }
    let has_infrastructure = model.servers.iter().any(|s| s.site.is_none());
    let infrastructure = has_infrastructure.then(|| {
        groups.push(Group {
            id: "infrastructure".into(),
            label: "infrastructure".into(),
        });
        groups.len() - 1
    });
    let site_group = |code: &str| model.site_id(code).and_then(|s| group_of_site[s]);

    let mut nodes = Vec::new();
    for &s in &sites {
        let site = &model.sites[s];
        nodes.push(Node {
            id: node_id(NodeKind::Site, &site.code.value),
            kind: NodeKind::Site,
            lines: vec![
                site.code.value.clone(),
                format!("{} site", site_type(site.site_type)),
            ],
            group: group_of_site[s],
        });
    }
    let mut servers: Vec<&Server> = model.servers.iter().collect();
    servers.sort_by(|a, b| a.fqdn.value.cmp(&b.fqdn.value));
    for server in servers {
        nodes.push(Node {
            id: node_id(NodeKind::Server, &server.fqdn.value),
            kind: NodeKind::Server,
            lines: server_lines(server),
            group: server.site.map_or(infrastructure, |s| group_of_site[s]),
        });
    }
    let mut clients: Vec<_> = model.clients.iter().collect();
    clients.sort_by(|a, b| a.name.value.cmp(&b.name.value));
    for c in clients {
        nodes.push(Node {
            id: node_id(NodeKind::Clients, &c.name.value),
            kind: NodeKind::Clients,
            lines: vec![c.name.value.clone(), format!("clients in {}", c.zone.value)],
            group: site_group(&c.site.value),
        });
    }
    let mut consoles: Vec<_> = model.consoles.iter().collect();
    consoles.sort_by(|a, b| a.name.value.cmp(&b.name.value));
    for c in consoles {
        nodes.push(Node {
            id: node_id(NodeKind::Console, &c.name.value),
            kind: NodeKind::Console,
            lines: vec![c.name.value.clone(), format!("console in {}", c.zone.value)],
            group: site_group(&c.site.value),
        });
    }
    let mut clouds: Vec<_> = model.cloud_services.iter().collect();
    clouds.sort_by(|a, b| a.name.value.cmp(&b.name.value));
    for c in clouds {
        nodes.push(Node {
            id: node_id(NodeKind::Cloud, &c.name.value),
            kind: NodeKind::Cloud,
            lines: vec![c.name.value.clone(), c.kind.node_name().to_owned()],
            group: site_group(&c.site.value),
        });
    }

    let mut edges = Vec::new();
    for &s in &sites {
        if let Some(p) = model.parent_of(s)
            && p != s
        {
            edges.push(Edge {
                from: node_id(NodeKind::Site, &model.sites[p].code.value),
                to: node_id(NodeKind::Site, &model.sites[s].code.value),
                lines: Vec::new(),
                style: EdgeStyle::Plain,
            });
        }
    }
    edges.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
    Graph {
        name: "hierarchy",
        directed: true,
        left_to_right: false,
        groups,
        nodes,
        edges,
    }
}
