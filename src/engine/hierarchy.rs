//! The hierarchy as a petgraph graph (sites and their parents) plus the indexes flow
//! instantiation needs: holders of each role per site and in the whole model, client
//! groups per site, site databases. Built once per run, so instantiation never scans all
//! servers per role.

use rustc_hash::{FxHashMap, FxHashSet};

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::model::{Model, ServerId, SiteId};

/// Indexes over one model.
pub struct Hierarchy<'m> {
    pub model: &'m Model,
    /// Site tree: an edge parent -> child.
    sites: DiGraph<SiteId, ()>,
    site_nodes: Vec<NodeIndex>,
    holders: FxHashMap<&'m str, Vec<ServerId>>,
    site_holders: FxHashMap<&'m str, FxHashMap<SiteId, Vec<ServerId>>>,
    site_clients: Vec<Vec<usize>>,
    present: FxHashSet<&'m str>,
    databases: Vec<Option<(ServerId, usize)>>,
    /// Per client group, the servers of each boundary-group role that serve it
    /// (`engine::boundary`); empty when the model has no boundary group.
    boundary_serving: Vec<Option<[Vec<ServerId>; 4]>>,
}

const NONE: &[usize] = &[];

impl<'m> Hierarchy<'m> {
    pub fn new(model: &'m Model) -> Self {
        let mut sites = DiGraph::new();
        let site_nodes: Vec<NodeIndex> =
            (0..model.sites.len()).map(|i| sites.add_node(i)).collect();
        for (i, _) in model.sites.iter().enumerate() {
            if let Some(p) = model.parent_of(i)
                && p != i
            {
                sites.add_edge(site_nodes[p], site_nodes[i], ());
            }
        }
        let mut holders: FxHashMap<&str, Vec<ServerId>> = FxHashMap::default();
        let mut site_holders: FxHashMap<&str, FxHashMap<SiteId, Vec<ServerId>>> =
            FxHashMap::default();
        let mut present = FxHashSet::default();
        for (i, server) in model.servers.iter().enumerate() {
            let roles = server
                .roles
                .iter()
                .map(|r| r.name)
                .chain((!server.sql_instances.is_empty()).then_some("sql-server"));
            for role in roles {
                let list = holders.entry(role).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
                present.insert(role);
                if let Some(site) = server.site {
                    let list = site_holders
                        .entry(role)
                        .or_default()
                        .entry(site)
                        .or_default();
                    if list.last() != Some(&i) {
                        list.push(i);
                    }
                }
            }
        }
        for c in &model.cloud_services {
            present.insert(c.kind.node_name());
        }
        let mut site_clients = vec![Vec::new(); model.sites.len()];
        for (i, c) in model.clients.iter().enumerate() {
            if let Some(s) = model.site_id(&c.site.value) {
                site_clients[s].push(i);
            }
        }
        let databases = model
            .sites
            .iter()
            .map(|s| {
                let (r, _) = s.database.as_ref()?;
                model.instance_id(&r.server.value, &r.instance.value)
            })
            .collect();
        let mut h = Self {
            model,
            sites,
            site_nodes,
            holders,
            site_holders,
            site_clients,
            present,
            databases,
            boundary_serving: Vec::new(),
        };
        h.boundary_serving =
            super::boundary::serving_table(model, |site, role| h.site_holders(site, role));
        h
    }

    /// The servers holding `role` that serve client group `client` when boundary groups
    /// decide it (see [`super::boundary::serving`]).
    pub fn boundary_serving(&self, client: usize, role: &str) -> Option<&[ServerId]> {
        let roles = self.boundary_serving.get(client)?.as_ref()?;
        let i = super::boundary::BOUNDARY_ROLES
            .iter()
            .position(|r| *r == role)?;
        Some(&roles[i])
    }

    /// Servers holding a role anywhere (`sql-server`: servers with a SQL instance).
    pub fn holders(&self, role: &str) -> &[ServerId] {
        self.holders.get(role).map_or(NONE, Vec::as_slice)
    }

    /// Servers of one site holding a role.
    pub fn site_holders(&self, site: SiteId, role: &str) -> &[ServerId] {
        self.site_holders
            .get(role)
            .and_then(|m| m.get(&site))
            .map_or(NONE, Vec::as_slice)
    }

    /// Client groups whose `site` is this site.
    pub fn site_clients(&self, site: SiteId) -> &[usize] {
        &self.site_clients[site]
    }

    /// Whether any server holds the role, or a cloud service of that kind exists.
    pub fn hierarchy_has(&self, role: &str) -> bool {
        self.present.contains(role)
    }

    /// The child sites of a site.
    pub fn children_of(&self, site: SiteId) -> Vec<SiteId> {
        let mut v: Vec<SiteId> = self
            .sites
            .neighbors_directed(self.site_nodes[site], Direction::Outgoing)
            .map(|n| self.sites[n])
            .collect();
        v.sort_unstable();
        v
    }

    /// The site database instance of a site: (server, instance index).
    pub fn site_database(&self, site: SiteId) -> Option<(ServerId, usize)> {
        self.databases[site]
    }

    /// A `"FQDN/INSTANCE"` reference.
    pub fn instance_ref(&self, s: &str) -> Option<(ServerId, usize)> {
        let (host, name) = s.split_once('/')?;
        self.model.instance_id(host, name)
    }
}
