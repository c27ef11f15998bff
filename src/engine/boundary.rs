//! Boundary groups: which boundary groups a client group belongs to and which site systems
//! serve it (`flows.md` § Boundary groups narrow who serves a client group).
//!
//! The rules follow Microsoft's "Boundary groups" articles (recorded in
//! `docs/decisions.md`): a client uses the site systems of its current boundary groups;
//! distribution points, software update points and management points of the neighbours a
//! `fallback` names (any time but `never`); fallback is not transitive; every group also
//! falls back to the default site boundary group; state migration points never fall back;
//! management points: when the current groups list none, the site's whole list.
//!
//! This module only answers questions about the model; it reports nothing (the check
//! `hierarchy/boundary-group` does).

use ipnet::IpNet;

use crate::model::{Boundary, BoundaryRange, FallbackTime, Model, ServerId, SiteId};

/// The roles boundary groups decide for clients.
pub const BOUNDARY_ROLES: [&str; 4] = [
    "distribution-point",
    "software-update-point",
    "management-point",
    "state-migration-point",
];

/// A client group's address space: its `subnet`s, else its zone's subnets.
pub fn client_subnets(model: &Model, client: usize) -> Vec<IpNet> {
    let c = &model.clients[client];
    if c.subnets.is_empty() {
        model
            .zone(&c.zone.value)
            .map(|z| z.subnets.iter().map(|s| s.value).collect())
            .unwrap_or_default()
    } else {
        c.subnets.iter().map(|s| s.value).collect()
    }
}

/// The boundaries of every boundary group, indexed for membership lookups: address
/// spaces sorted by their first address (with the running maximum of their last one, so
/// that a lookup stops early), Active Directory sites by name.
pub struct BoundaryIndex {
    /// (IPv4, first, last, group), sorted.
    ranges: Vec<(bool, u128, u128, usize)>,
    /// For each position, the largest `last` of the ranges of the same family up to it.
    max_last: Vec<u128>,
    ad_sites: std::collections::HashMap<String, Vec<usize>>,
}

impl BoundaryIndex {
    pub fn new(model: &Model) -> Self {
        let mut ranges = Vec::new();
        let mut ad_sites: std::collections::HashMap<String, Vec<usize>> =
            std::collections::HashMap::new();
        for (g, group) in model.boundary_groups.iter().enumerate() {
            for b in &group.boundaries {
                match b {
                    Boundary::Range(r) => {
                        let (first, last, v4) = r.value.bounds();
                        ranges.push((v4, first, last, g));
                    }
                    Boundary::AdSite(site) => {
                        ad_sites.entry(site.value.clone()).or_default().push(g);
                    }
                }
            }
        }
        ranges.sort_unstable();
        let mut max_last = Vec::with_capacity(ranges.len());
        for (i, r) in ranges.iter().enumerate() {
            let previous = (i > 0 && ranges[i - 1].0 == r.0).then(|| max_last[i - 1]);
            max_last.push(previous.map_or(r.2, |m: u128| m.max(r.2)));
        }
        Self {
            ranges,
            max_last,
            ad_sites,
        }
    }

    /// The boundary groups a client group belongs to (`language.md`): the ones it names,
    /// else every group with a boundary that overlaps one of its subnets or names its
    /// `ad-site`. Sorted, without duplicates.
    pub fn member_of(&self, model: &Model, client: usize) -> Vec<usize> {
        let c = &model.clients[client];
        let mut out: Vec<usize> = if c.boundary_groups.is_empty() {
            let mut out = Vec::new();
            for net in client_subnets(model, client) {
                let (first, last, v4) = BoundaryRange::Net(net).bounds();
                // Ranges of this family starting at or before `last`, walked backwards
                // while an earlier one may still reach `first`.
                let end = self.ranges.partition_point(|r| (r.0, r.1) <= (v4, last));
                for i in (0..end).rev() {
                    let r = self.ranges[i];
                    if r.0 != v4 || self.max_last[i] < first {
                        break;
                    }
                    if r.2 >= first {
                        out.push(r.3);
                    }
                }
            }
            if let Some(site) = c.props.str("ad-site")
                && let Some(groups) = self.ad_sites.get(&site)
            {
                out.extend(groups);
            }
            out
        } else {
            c.boundary_groups
                .iter()
                .filter_map(|b| model.index.boundary_groups.get(&b.value).copied())
                .collect()
        };
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The boundary groups a client group belongs to (see [`BoundaryIndex::member_of`]).
pub fn member_of(model: &Model, client: usize) -> Vec<usize> {
    BoundaryIndex::new(model).member_of(model, client)
}

/// The default site boundary group of a site, if the model declares one.
pub fn default_group(model: &Model, site: SiteId) -> Option<usize> {
    model
        .index
        .default_boundary_groups
        .get(&model.sites[site].code.value)
        .copied()
}

/// A client group's current boundary groups: those it belongs to, else its site's default
/// group (none when the site has no declared default group: that default group is empty).
pub fn current_groups(model: &Model, client: usize) -> Vec<usize> {
    current_groups_of(model, client, member_of(model, client))
}

/// [`current_groups`] when the membership is known.
pub fn current_groups_of(model: &Model, client: usize, groups: Vec<usize>) -> Vec<usize> {
    if !groups.is_empty() {
        return groups;
    }
    model
        .site_id(&model.clients[client].site.value)
        .and_then(|s| default_group(model, s))
        .into_iter()
        .collect()
}

/// The neighbours a current group falls back to for `role`: its `fallback`s whose time is
/// not `never`, plus the default site boundary group (of the group's `site`, else of the
/// client's) unless a `fallback` names it. Not transitive.
pub fn fallback_groups(
    model: &Model,
    group: usize,
    client_site: Option<SiteId>,
    role: &str,
) -> Vec<usize> {
    if role == "state-migration-point" {
        return Vec::new();
    }
    let g = &model.boundary_groups[group];
    let mut out = Vec::new();
    for f in &g.fallbacks {
        if let Some(&to) = model.index.boundary_groups.get(&f.to.value)
            && to != group
            && f.time(role) != FallbackTime::Never
        {
            out.push(to);
        }
    }
    let site = g
        .site
        .as_ref()
        .and_then(|s| model.site_id(&s.value))
        .or(client_site);
    if let Some(default) = site.and_then(|s| default_group(model, s))
        && default != group
        && !g
            .fallbacks
            .iter()
            .any(|f| f.to.value == model.boundary_groups[default].name.value)
    {
        out.push(default);
    }
    out
}

/// The servers among a group's `site-system`s that hold `role`.
pub fn group_systems(model: &Model, group: usize, role: &str) -> Vec<ServerId> {
    model.boundary_groups[group]
        .site_systems
        .iter()
        .filter_map(|s| model.server_id(&s.value))
        .filter(|&s| model.servers[s].has_role(role))
        .collect()
}

/// The servers holding `role` that serve a client group, when boundary groups decide it
/// (`None`: the model has no boundary group, the group is an Internet group, or the role
/// does not follow boundary groups). `site_holders` gives every holder of the role at the
/// client's site (management points when the current groups list none).
pub fn serving(
    model: &Model,
    client: usize,
    role: &str,
    site_holders: &[ServerId],
) -> Option<Vec<ServerId>> {
    if model.boundary_groups.is_empty()
        || !BOUNDARY_ROLES.contains(&role)
        || model.clients[client].props.bool("internet")
    {
        return None;
    }
    Some(serving_from(
        model,
        client,
        role,
        &current_groups(model, client),
        site_holders,
    ))
}

/// For every client group, the servers of each of [`BOUNDARY_ROLES`] that serve it
/// (`None` for Internet groups and models without boundary groups), computed once:
/// flow instantiation asks for every catalog row. `site_holders(site, role)` gives every
/// holder of a role at a site.
pub fn serving_table<'h>(
    model: &Model,
    site_holders: impl Fn(SiteId, &str) -> &'h [ServerId],
) -> Vec<Option<[Vec<ServerId>; 4]>> {
    if model.boundary_groups.is_empty() {
        return Vec::new();
    }
    let index = BoundaryIndex::new(model);
    (0..model.clients.len())
        .map(|client| {
            if model.clients[client].props.bool("internet") {
                return None;
            }
            let current = current_groups_of(model, client, index.member_of(model, client));
            let site = model.site_id(&model.clients[client].site.value);
            Some(BOUNDARY_ROLES.map(|role| {
                let holders = site.map_or(&[][..], |s| site_holders(s, role));
                serving_from(model, client, role, &current, holders)
            }))
        })
        .collect()
}

/// [`serving`] for a client group whose current groups are known.
pub fn serving_from(
    model: &Model,
    client: usize,
    role: &str,
    current: &[usize],
    site_holders: &[ServerId],
) -> Vec<ServerId> {
    let client_site = model.site_id(&model.clients[client].site.value);
    let mut out: Vec<ServerId> = current
        .iter()
        .flat_map(|&g| group_systems(model, g, role))
        .collect();
    if role == "management-point" && out.is_empty() {
        out.extend_from_slice(site_holders);
    }
    for &g in current {
        for n in fallback_groups(model, g, client_site, role) {
            out.extend(group_systems(model, n, role));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_model;

    const MODEL: &str = r#"
zone "dc" { subnet "10.0.0.0/16"; }
zone "hq" { subnet "10.1.0.0/16"; }
site "P01" type="primary" {
    database server="cm01.contoso.com" instance="MSSQLSERVER"
    server "cm01.contoso.com" zone="dc" {
        site-server
        management-point
        distribution-point
        software-update-point
        sql-instance "MSSQLSERVER"
    }
    server "dp01.contoso.com" zone="hq" {
        distribution-point
        management-point
        state-migration-point
    }
    server "dp02.contoso.com" zone="hq" { distribution-point; }
}
boundary-group "HQ" site="P01" {
    boundary "10.1.0.0/17"
    site-system "dp01.contoso.com"
    fallback "Annex" distribution-point=60 management-point="never"
}
boundary-group "Annex" site="P01" {
    boundary "10.1.128.0/17"
    site-system "dp02.contoso.com"
    fallback "Datacenter"
}
boundary-group "Datacenter" default-for="P01" {
    site-system "cm01.contoso.com"
}
clients "HQ desktops" site="P01" zone="hq" subnet="10.1.10.0/24"
clients "Annex" site="P01" zone="hq" boundary-group="Annex"
clients "Lost" site="P01" zone="dc" subnet="10.0.5.0/24"
"#;

    fn names(m: &Model, servers: &[ServerId]) -> Vec<String> {
        servers
            .iter()
            .map(|&s| m.servers[s].fqdn.value.clone())
            .collect()
    }

    #[test]
    fn membership_comes_from_subnets_names_or_the_site_default() {
        let m = test_model(MODEL);
        assert_eq!(member_of(&m, 0), vec![0]);
        assert_eq!(member_of(&m, 1), vec![1]);
        assert!(member_of(&m, 2).is_empty());
        assert_eq!(current_groups(&m, 2), vec![2]);
    }

    #[test]
    fn fallback_is_per_role_not_transitive_and_reaches_the_default_group() {
        let m = test_model(MODEL);
        let all_mps = [0, 1];
        // HQ: its own DP, Annex's DP (fallback), the default group's DP; not Annex's
        // neighbours' beyond the default group.
        assert_eq!(
            names(&m, &serving(&m, 0, "distribution-point", &[]).unwrap()),
            ["cm01.contoso.com", "dp01.contoso.com", "dp02.contoso.com"]
        );
        // Management points: HQ lists dp01; Annex is `never`; the default group's cm01.
        assert_eq!(
            names(&m, &serving(&m, 0, "management-point", &all_mps).unwrap()),
            ["cm01.contoso.com", "dp01.contoso.com"]
        );
        // State migration points never fall back.
        assert_eq!(
            names(&m, &serving(&m, 0, "state-migration-point", &[]).unwrap()),
            ["dp01.contoso.com"]
        );
        // Annex lists no management point: the site's whole list.
        assert_eq!(
            names(&m, &serving(&m, 1, "management-point", &all_mps).unwrap()),
            ["cm01.contoso.com", "dp01.contoso.com"]
        );
        assert_eq!(
            names(&m, &serving(&m, 1, "distribution-point", &[]).unwrap()),
            ["cm01.contoso.com", "dp02.contoso.com"]
        );
        // A group in no boundary group uses the default group.
        assert_eq!(
            names(&m, &serving(&m, 2, "software-update-point", &[]).unwrap()),
            ["cm01.contoso.com"]
        );
    }

    #[test]
    fn required_flows_of_a_client_group_follow_its_boundary_groups() {
        let m = test_model(MODEL);
        let flows = crate::engine::required_flows(&m, &[crate::engine::Phase::Operation]);
        let of_hq: Vec<String> = flows
            .iter()
            .filter(|f| f.source == crate::engine::FlowEndpoint::Clients(0))
            .map(|f| {
                format!(
                    "{} {} {} ({})",
                    f.destination.name(&m),
                    f.protocol,
                    f.ports,
                    f.services[0].destination_role
                )
            })
            .collect();
        assert_eq!(
            of_hq,
            [
                "cm01.contoso.com tcp 80 (distribution-point)",
                "cm01.contoso.com tcp 8530 (software-update-point)",
                "cm01.contoso.com tcp 10123 (management-point)",
                "dp01.contoso.com tcp 80 (distribution-point)",
                "dp01.contoso.com tcp 443 (state-migration-point)",
                "dp01.contoso.com tcp 445 (state-migration-point)",
                "dp01.contoso.com tcp 10123 (management-point)",
                "dp02.contoso.com tcp 80 (distribution-point)",
            ]
        );
    }
}
