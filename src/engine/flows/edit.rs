//! The flows after an edit of what some servers' roles and SQL instances say (a
//! distribution point's `pxe`, a software update point's ports, an instance's port),
//! from the flows before it: only the flows of those servers are computed again (the
//! language server's re-check, `check/reuse.rs`).
//!
//! Instantiation reads a server through the parties of a flow: its role's or instance's
//! properties when it is the flow's source or destination. What else it reads of a
//! server, any flow may read: its name, zone, address, RPC range, site, and the names of
//! its roles and SQL instances (the hierarchy's indexes, relations, user flows, boundary
//! groups). So when an edit keeps those for every server ([`same_places`]) and changes
//! nothing else the flows read, a flow between two unchanged endpoints stays as it was,
//! with its services; the flows with a changed server at either end are computed again,
//! by the rows that may give them, in catalog order, and merged in. One relation reads a
//! server that is neither end, `susdb` (the software update points of the source's site
//! name the database), and waivers split flows by their ports; an edit of a software
//! update point, or a model with waivers, computes every flow, as does an edit of more
//! than a few dozen servers at once.

use super::{
    FlowEndpoint, FlowKey, FlowService, FlowSet, FlowSink, Hierarchy, MAX_FLOWS, Origin, Party,
    RequiredFlow, add_catalog_row, add_catalog_row_from, add_user_flows, unpack,
};
use crate::catalog::CatalogRow;
use crate::model::{Model, Server, ServerId, SiteId};

/// Whether a server keeps, across an edit, everything instantiation may read of it for
/// flows it is not an end of: its name, zone, address, RPC range, site, and the names of
/// its roles and SQL instances, in order (compare [`crate::model::ignoring_spans`] to
/// ignore where they are written).
pub fn same_places(before: &Server, after: &Server) -> bool {
    before.fqdn == after.fqdn
        && before.zone == after.zone
        && before.address == after.address
        && before.rpc_ports == after.rpc_ports
        && before.site == after.site
        && before.roles.len() == after.roles.len()
        && before
            .roles
            .iter()
            .zip(&after.roles)
            .all(|(a, b)| a.name == b.name)
        && before.sql_instances.len() == after.sql_instances.len()
        && before
            .sql_instances
            .iter()
            .zip(&after.sql_instances)
            .all(|(a, b)| a.name == b.name)
}

/// Every phase's flows of `model`, from `before` (every phase's flows of the model before
/// an edit that changed the servers `changed` and nothing else the flows read, each
/// changed server keeping [`same_places`]), whose kept flows move out. Each flow comes
/// with the index in `before` of the flow it is, when it was kept. `None` when the edit
/// needs every flow computed (see the module's documentation; `before` is left as it
/// was) or the flows pass [`MAX_FLOWS`] (the caller computes them all, and reports it).
pub fn required_flows_after_server_edit(
    model: &Model,
    before: &mut Vec<RequiredFlow>,
    changed: &[ServerId],
) -> Option<(Vec<RequiredFlow>, Vec<Option<usize>>)> {
    let holds_sup = |&s: &ServerId| model.servers[s].has_role("software-update-point");
    if !model.waivers.is_empty() || changed.len() > MAX_CHANGED || changed.iter().any(holds_sup) {
        return None;
    }
    let mut changed = changed.to_vec();
    changed.sort_unstable();
    changed.dedup();
    let mut is_changed = vec![false; model.servers.len()];
    for &s in &changed {
        is_changed[s] = true;
    }
    let touches = |e: FlowEndpoint| matches!(e, FlowEndpoint::Server(s) if is_changed[s]);
    let h = Hierarchy::new(model);
    let mut set = Touching {
        set: FlowSet {
            limit: usize::MAX,
            ..FlowSet::default()
        },
        touches: &touches,
    };
    // Every row, in catalog order (every phase), then the user flows: each flow's
    // services come in the order a full computation finds them.
    for row in &crate::catalog::for_model(model).rows {
        let mut near: Vec<SiteId> = Vec::new();
        let mut every_source = false;
        for &s in &changed {
            match destination_of(&h, &model.servers[s], row) {
                Destination::Never => {}
                Destination::FromSites(sites) => near.extend(sites),
                Destination::FromAnywhere => every_source = true,
            }
        }
        if every_source {
            add_catalog_row(&h, row, &mut set);
        } else if !near.is_empty() || changed.iter().any(|&s| holds(&model.servers[s], &row.from)) {
            let from = |p: &Party<'_>| {
                touches(p.endpoint) || p.site.is_some_and(|site| near.contains(&site))
            };
            add_catalog_row_from(&h, row, from, &mut set);
        }
    }
    add_user_flows(&h, &mut set);
    let fresh = set.set.into_sorted();
    // At most this many: every flow before is kept or replaced.
    let total = fresh.len() + before.len();
    // Both sorted by source, destination, protocol and ports, and disjoint. The flows
    // kept move out of `before`.
    let order = |f: &RequiredFlow| (f.source, f.destination, f.protocol, f.ports);
    let mut flows = Vec::with_capacity(total);
    let mut origins = Vec::with_capacity(total);
    let mut kept = std::mem::take(before)
        .into_iter()
        .enumerate()
        .filter(|(_, f)| !touches(f.source) && !touches(f.destination))
        .peekable();
    for flow in fresh {
        while let Some((i, old)) = kept.next_if(|(_, old)| order(old) < order(&flow)) {
            flows.push(old);
            origins.push(Some(i));
        }
        flows.push(flow);
        origins.push(None);
    }
    for (i, old) in kept {
        flows.push(old);
        origins.push(Some(i));
    }
    (flows.len() <= MAX_FLOWS).then_some((flows, origins))
}

/// Past this many changed servers (an edit of a whole file of them), computing every flow
/// costs less than finding, row by row, which sources each of them may be related to.
const MAX_CHANGED: usize = 64;

/// Whether a server is a party of the kind a catalog row names (`sql-server`: a server
/// with an instance; `domain-member`: any server but a domain controller).
fn holds(server: &Server, kind: &str) -> bool {
    match kind {
        "sql-server" => server.has_role(kind) || !server.sql_instances.is_empty(),
        "domain-member" => !server.has_role("domain-controller"),
        _ => server.has_role(kind),
    }
}

/// Which sources a row may give a flow to a server from.
enum Destination {
    Never,
    /// Sources of these sites.
    FromSites(Vec<SiteId>),
    FromAnywhere,
}

/// Which other parties a row may give a flow to `server` from. The relations that pick
/// destinations by kind give it only when it holds the row's `to` kind: `site` to the
/// sources of its site, and to the clients of the secondary sites below it that lack
/// the role (any client when boundary groups decide); `parent-child` to the sources of
/// the sites above and below its own (a site database: from anywhere). The others follow a setting (a database, an
/// upstream, a content library, an Exchange server, a pull distribution point's
/// sources) that may name any server.
fn destination_of(h: &Hierarchy<'_>, server: &Server, row: &CatalogRow) -> Destination {
    let model = h.model;
    let kind = || holds(server, &row.to);
    match row.relation.as_str() {
        "same-group" => Destination::Never,
        "site" | "parent-child" | "hierarchy" | "top-level" | "pull-sources" if !kind() => {
            Destination::Never
        }
        "site" if model.boundary_groups.is_empty() => match server.site {
            Some(site) => {
                let mut sites = h.children_of(site);
                sites.push(site);
                Destination::FromSites(sites)
            }
            None => Destination::Never,
        },
        // A related site's database may be on a server of any site, or of none.
        "parent-child" if row.to == "sql-server" => Destination::FromAnywhere,
        "parent-child" => match server.site {
            Some(site) => {
                let mut sites = h.children_of(site);
                sites.extend(model.parent_of(site));
                Destination::FromSites(sites)
            }
            None => Destination::Never,
        },
        _ => Destination::FromAnywhere,
    }
}

/// The flows with a changed server at either end, deduplicated as a full computation
/// does.
struct Touching<'t, F: Fn(FlowEndpoint) -> bool> {
    set: FlowSet,
    touches: &'t F,
}

impl<F: Fn(FlowEndpoint) -> bool> FlowSink for Touching<'_, F> {
    fn add_key(&mut self, key: FlowKey, service: &FlowService) {
        let (source, destination, _, _) = unpack(key);
        if (self.touches)(source) || (self.touches)(destination) {
            self.set.add_key(key, service);
        }
    }

    fn done(&self) -> bool {
        false
    }

    fn refuse(&mut self, _origin: Origin, _count: usize) {}

    fn limit(&self) -> usize {
        usize::MAX
    }
}
