//! The rule space: the set of packets a rule (or a policy's `forbid`) matches, as a union
//! of regions protocol-and-port x source places x destination places. Set operations on
//! regions make the shadowed-rule analysis exact (a rule covered by the union of earlier
//! rules, not only by one) and let policies be checked against everything a firewall lets
//! through, not only against required flows.

use std::collections::HashMap;

use fixedbitset::FixedBitSet;

use super::FlowEndpoint;
use super::evaluate::{rpc_range, rule_ports};
use super::intervals;
use super::network::{Network, Place, Tri};
use crate::model::{Endpoint, Protocol, Spanned, Traffic};

/// Ports of the three protocols on one line: TCP `p`, UDP `65536 + p`, ICMP echo.
const UDP_BASE: u32 = 65536;
const ICMP_ECHO: u32 = 2 * 65536;

/// A box: every service in `services` from every place of `src` to every place of `dst`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// Sorted, disjoint, inclusive intervals of the combined service line.
    pub services: Vec<(u32, u32)>,
    pub src: FixedBitSet,
    pub dst: FixedBitSet,
}

impl Region {
    fn is_empty(&self) -> bool {
        self.services.is_empty() || self.src.is_clear() || self.dst.is_clear()
    }

    fn intersects(&self, other: &Region) -> bool {
        intervals::overlap(&self.services, &other.services)
            && !self.src.is_disjoint(&other.src)
            && !self.dst.is_disjoint(&other.dst)
    }

    /// `self` minus `other` (which it intersects), as at most three disjoint regions.
    fn subtract(&self, other: &Region, out: &mut Vec<Region>) {
        let (inside, outside) = intervals::split(&self.services, &other.services);
        let mut push = |r: Region| {
            if !r.is_empty() {
                out.push(r);
            }
        };
        push(Region {
            services: outside,
            src: self.src.clone(),
            dst: self.dst.clone(),
        });
        let mut src_out = self.src.clone();
        src_out.difference_with(&other.src);
        push(Region {
            services: inside.clone(),
            src: src_out,
            dst: self.dst.clone(),
        });
        let mut src_in = self.src.clone();
        src_in.intersect_with(&other.src);
        let mut dst_out = self.dst.clone();
        dst_out.difference_with(&other.dst);
        push(Region {
            services: inside,
            src: src_in,
            dst: dst_out,
        });
    }

    /// The services of the region, per protocol, as port intervals.
    pub fn ports(&self) -> Vec<(Protocol, u16, u16)> {
        let mut out = Vec::new();
        for &(a, b) in &self.services {
            for (protocol, base, top) in [
                (Protocol::Tcp, 0, UDP_BASE - 1),
                (Protocol::Udp, UDP_BASE, ICMP_ECHO - 1),
                (Protocol::Icmp, ICMP_ECHO, ICMP_ECHO),
            ] {
                let (lo, hi) = (a.max(base), b.min(top));
                if lo <= hi {
                    let port = |p: u32| u16::try_from(p - base).unwrap_or(u16::MAX);
                    out.push((protocol, port(lo), port(hi)));
                }
            }
        }
        out
    }
}

/// What a rule matches: surely (`yes`) and possibly (`maybe`, a superset), each a union of
/// regions.
#[derive(Clone, Debug, Default)]
pub struct RuleSpace {
    pub yes: Vec<Region>,
    pub maybe: Vec<Region>,
}

/// Builds rule spaces, caching the place sets of each distinct endpoint. Cloned, a
/// builder keeps its cache: each thread builds from its own.
#[derive(Clone)]
pub struct SpaceBuilder<'n, 'm> {
    net: &'n Network<'m>,
    places: Vec<Place>,
    endpoints: HashMap<Endpoint, (FixedBitSet, FixedBitSet)>,
    /// Destination places grouped by the RPC range `rpc` stands for there.
    rpc_groups: Vec<((u16, u16), FixedBitSet)>,
}

impl<'n, 'm> SpaceBuilder<'n, 'm> {
    pub fn new(net: &'n Network<'m>) -> Self {
        let places: Vec<Place> = net.places().collect();
        let mut groups: HashMap<(u16, u16), FixedBitSet> = HashMap::new();
        for (id, p) in places.iter().enumerate() {
            let range = match p {
                Place::Host(e) => rpc_range(net.model, *e),
                Place::Unlisted(_) => rpc_range(net.model, FlowEndpoint::Internet),
            };
            groups
                .entry(range)
                .or_insert_with(|| FixedBitSet::with_capacity(places.len()))
                .insert(id);
        }
        let mut rpc_groups: Vec<_> = groups.into_iter().collect();
        rpc_groups.sort_by_key(|g| g.0);
        Self {
            net,
            places,
            endpoints: HashMap::new(),
            rpc_groups,
        }
    }

    pub fn places(&self) -> &[Place] {
        &self.places
    }

    /// The places an endpoint list names surely, and possibly.
    pub fn place_sets(&mut self, list: &[Spanned<Endpoint>]) -> (FixedBitSet, FixedBitSet) {
        let n = self.places.len();
        let mut yes = FixedBitSet::with_capacity(n);
        let mut maybe = FixedBitSet::with_capacity(n);
        for e in list {
            let (y, m) = self.endpoints.entry(e.value.clone()).or_insert_with(|| {
                let mut y = FixedBitSet::with_capacity(n);
                let mut m = FixedBitSet::with_capacity(n);
                // A zone names exactly its own places, surely: no scan of every place
                // (a model with thousands of zones names most of them in rules).
                if let Endpoint::Zone(name) = &e.value {
                    for &id in self
                        .net
                        .zone_id(name)
                        .map_or(&[][..], |z| self.net.zone_places(z))
                    {
                        y.insert(id);
                        m.insert(id);
                    }
                    return (y, m);
                }
                for (id, p) in self.places.iter().enumerate() {
                    match self.net.matches(&e.value, *p) {
                        Tri::Yes => {
                            y.insert(id);
                            m.insert(id);
                        }
                        Tri::Maybe => m.insert(id),
                        Tri::No => {}
                    }
                }
                (y, m)
            });
            yes.union_with(y);
            maybe.union_with(m);
        }
        (yes, maybe)
    }

    /// The space of a rule's (or forbid's) traffic.
    pub fn space(&mut self, traffic: &Traffic) -> RuleSpace {
        let (src_yes, src_maybe) = self.place_sets(&traffic.from);
        let (dst_yes, dst_maybe) = self.place_sets(&traffic.to);
        let uses_rpc = [&traffic.tcp, &traffic.udp]
            .into_iter()
            .flatten()
            .any(|l| l.value.items.contains(&crate::model::PortItem::Rpc));
        let groups: Vec<((u16, u16), Option<&FixedBitSet>)> = if uses_rpc {
            self.rpc_groups.iter().map(|(r, g)| (*r, Some(g))).collect()
        } else {
            vec![((49152, 65535), None)]
        };
        let mut space = RuleSpace::default();
        for (rpc, group) in groups {
            let services = services(traffic, rpc);
            if services.is_empty() {
                continue;
            }
            let restrict = |set: &FixedBitSet| {
                let mut s = set.clone();
                if let Some(g) = group {
                    s.intersect_with(g);
                }
                s
            };
            for (list, src, dst) in [
                (&mut space.yes, &src_yes, &dst_yes),
                (&mut space.maybe, &src_maybe, &dst_maybe),
            ] {
                let region = Region {
                    services: services.clone(),
                    src: src.clone(),
                    dst: restrict(dst),
                };
                if !region.is_empty() {
                    list.push(region);
                }
            }
        }
        space
    }
}

/// Every service of a traffic spec on the combined line.
fn services(traffic: &Traffic, rpc: (u16, u16)) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for (protocol, base) in [
        (Protocol::Tcp, 0),
        (Protocol::Udp, UDP_BASE),
        (Protocol::Icmp, ICMP_ECHO),
    ] {
        buf.clear();
        rule_ports(traffic, protocol, rpc, &mut buf);
        for &(a, b) in &buf {
            if protocol == Protocol::Icmp {
                out.push((ICMP_ECHO, ICMP_ECHO));
            } else {
                out.push((base + a.max(1), base + b));
            }
        }
    }
    out.retain(|(a, b)| a <= b);
    out
}

/// Removes `cover` from `remaining` (`next` is scratch space).
fn carve(remaining: &mut Vec<Region>, cover: &Region, next: &mut Vec<Region>) {
    next.clear();
    for r in remaining.drain(..) {
        if r.intersects(cover) {
            r.subtract(cover, next);
        } else {
            next.push(r);
        }
    }
    std::mem::swap(remaining, next);
}

/// Whether `target` lies inside the union of `covers` taken in order; returns the indexes
/// of the covers that took a part of it, or `None` when some of it is left (or the
/// analysis would grow beyond `limit` regions, which cmflow then does not claim).
pub fn covered_by<'r>(
    target: &[Region],
    covers: impl IntoIterator<Item = (usize, &'r [Region])>,
    limit: usize,
) -> Option<Vec<usize>> {
    let mut remaining: Vec<Region> = target.to_vec();
    let mut used = Vec::new();
    let mut next = Vec::new();
    for (index, regions) in covers {
        if remaining.is_empty() {
            break;
        }
        let mut touched = false;
        for cover in regions {
            if !remaining.iter().any(|r| r.intersects(cover)) {
                continue;
            }
            touched = true;
            carve(&mut remaining, cover, &mut next);
            if remaining.len() > limit {
                return None;
            }
        }
        if touched {
            used.push(index);
        }
    }
    remaining.is_empty().then_some(used)
}

/// Walks a first-match list over `target`: for each rule (in order) whether it takes a
/// part of what is left, then removes what it surely matches. Returns the rules that take
/// a part and whether anything is left for the default.
pub fn first_match<'r>(
    target: &[Region],
    rules: impl IntoIterator<Item = (usize, &'r RuleSpace)>,
    limit: usize,
) -> (Vec<usize>, bool) {
    let mut remaining: Vec<Region> = target.to_vec();
    let mut takers = Vec::new();
    let mut next = Vec::new();
    for (index, space) in rules {
        if remaining.is_empty() {
            break;
        }
        if space
            .yes
            .iter()
            .any(|y| remaining.iter().any(|r| r.intersects(y)))
        {
            takers.push(index);
        }
        for cover in &space.yes {
            carve(&mut remaining, cover, &mut next);
        }
        if remaining.len() > limit {
            return (takers, true);
        }
    }
    (takers, !remaining.is_empty())
}

/// Restricts regions to source and destination place sets.
pub fn restrict(regions: &[Region], src: &FixedBitSet, dst: &FixedBitSet) -> Vec<Region> {
    regions
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.src.intersect_with(src);
            r.dst.intersect_with(dst);
            r
        })
        .filter(|r| !r.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(n: usize, bits: &[usize]) -> FixedBitSet {
        let mut s = FixedBitSet::with_capacity(n);
        for &b in bits {
            s.insert(b);
        }
        s
    }

    fn region(services: &[(u32, u32)], src: &[usize], dst: &[usize]) -> Region {
        Region {
            services: services.to_vec(),
            src: set(4, src),
            dst: set(4, dst),
        }
    }

    #[test]
    fn a_zone_names_exactly_the_places_a_scan_finds() {
        let model = crate::engine::test_model(
            r#"
            zone "hq" { subnet "10.1.0.0/16" }
            zone "dc" { subnet "10.2.0.0/16" }
            zone "empty"
            site "P01" type="primary" {
                database server="sql.contoso.com" instance="MSSQLSERVER"
                server "cm.contoso.com" zone="dc" address="10.2.0.10" { site-server; management-point }
            }
            server "sql.contoso.com" zone="dc" { sql-instance "MSSQLSERVER" }
            clients "HQ" site="P01" zone="hq"
            console "admin" zone="hq" site="P01"
            firewall "fw" { zones "hq" "dc" "internet" "empty" }
            "#,
        );
        let net = Network::new(&model);
        let mut builder = SpaceBuilder::new(&net);
        let places: Vec<Place> = net.places().collect();
        for name in ["hq", "dc", "empty", "internet", "nowhere"] {
            let endpoint = Endpoint::Zone(name.to_owned());
            let list = [Spanned {
                value: endpoint.clone(),
                span: crate::model::Span::new(crate::model::SourceId(0), 0, 0),
            }];
            let (yes, maybe) = builder.place_sets(&list);
            let scanned: Vec<usize> = (0..places.len())
                .filter(|&id| net.matches(&endpoint, places[id]) == Tri::Yes)
                .collect();
            assert_eq!(yes.ones().collect::<Vec<_>>(), scanned, "zone:{name}");
            assert_eq!(maybe, yes, "zone:{name}: a zone is never uncertain");
        }
        // Each host is in the zone it names, and `zone_of` says so.
        let dc = net.zone_id("dc").expect("zone dc");
        assert_eq!(net.zone_of(FlowEndpoint::Server(0)), dc);
        assert_eq!(
            net.zone_of(FlowEndpoint::Clients(0)),
            net.zone_id("hq").expect("hq")
        );
        let internet = net.zone_id("internet").expect("internet");
        assert_eq!(net.zone_of(FlowEndpoint::Internet), internet);
        assert_eq!(
            net.zone_places(net.zone_id("empty").expect("empty")),
            [net.place_id(Place::Unlisted(net.zone_id("empty").expect("empty")))]
        );
    }

    #[test]
    fn union_of_two_rules_covers_what_neither_covers_alone() {
        let target = [region(&[(80, 443)], &[0, 1], &[2])];
        let low = [region(&[(1, 200)], &[0, 1], &[2])];
        let high = [region(&[(201, 65535)], &[0, 1, 3], &[2, 3])];
        assert_eq!(covered_by(&target, [(0, &low[..])], 100), None);
        assert_eq!(covered_by(&target, [(1, &high[..])], 100), None);
        assert_eq!(
            covered_by(&target, [(0, &low[..]), (1, &high[..])], 100),
            Some(vec![0, 1])
        );
    }

    #[test]
    fn sources_split_across_rules() {
        let target = [region(&[(445, 445)], &[0, 1], &[2])];
        let a = [region(&[(445, 445)], &[0], &[2])];
        let b = [region(&[(1, 65535)], &[1], &[2, 3])];
        let unrelated = [region(&[(445, 445)], &[3], &[2])];
        assert_eq!(
            covered_by(
                &target,
                [(0, &a[..]), (1, &unrelated[..]), (2, &b[..])],
                100
            ),
            Some(vec![0, 2])
        );
        assert_eq!(covered_by(&target, [(0, &a[..])], 100), None);
    }
}
