//! The first-match index of network firewall rules: a verdict costs a walk over a few
//! candidate rules, or a few word operations over bit sets of rules, instead of a scan of
//! every rule.
//!
//! Per firewall and place, the rules whose `from` (or `to`) may match it and those that
//! surely match, gathered from the endpoints that name the place: as bit sets per zone
//! for what every place of the zone has (`any`, the zone), and per place as the list of
//! the few rules it has beyond (its host name, its address's `cidr:` ranges), so that the
//! memory a verdict touches stays small. A (source, destination) pair ANDs them once and
//! lists its candidates. A flow's first match is then found one of two ways, whichever
//! costs less for the pair and the flow's ports:
//!
//! - by candidates: each candidate rule in order cuts what it covers out of the flow's
//!   ports (its port intervals per protocol kept flat, `rpc` joined as the destination's
//!   range), until nothing is left; a pair has a few dozen candidates in a firewall of
//!   thousands of rules, and a wide range (`rpc`) costs no more than a single port;
//! - by ports, for pairs with many candidates: per firewall and protocol, the ports are
//!   cut into elementary intervals at every rule's port boundary: within one, a rule
//!   covers every port or none. The rules covering an interval are a bit set kept every
//!   few intervals ([`CHECKPOINT`], more for huge rule bases), with the rules that start
//!   or stop covering at each boundary in between. A flow's first match on an interval is
//!   the lowest bit of the pair's candidates AND the interval's rules; walking the flow's
//!   ports only flips the bits that change, and a stretch ends only where its first match
//!   does. `rpc` stands for the destination's range, so rules naming it are a separate bit
//!   set that joins inside that range.
//!
//! Both give the decisions of the scan the index replaced, in its order.

use ipnet::IpNet;
use rustc_hash::FxHashMap as HashMap;

use super::{DecidedBy, Decision, Filter, Outcome};
use crate::engine::FlowPorts;
use crate::engine::network::{Network, Place, Tri};
use crate::engine::{FlowEndpoint, RequiredFlow};
use crate::model::{
    Action, Endpoint, Firewall, FirewallRule, Model, PortItem, Protocol, RuleGuard, Traffic,
};

/// Intervals between stored rule sets: a flow's first interval is rebuilt from the
/// nearest stored set by fewer than this many boundaries' flips.
const CHECKPOINT: usize = 8;

/// The most words the stored sets of one protocol take (32 MB): beyond, they are spaced
/// further apart, so that memory stays bounded whatever the rule base. The tests' bound
/// is tiny, so that their firewalls of a hundred rules take that path too.
const CHECKPOINT_WORDS: usize = if cfg!(test) { 64 } else { 1 << 22 };

/// In a pair's candidate list: the rule's `from` and `to` surely match.
const SURE: u32 = 1 << 31;

fn bit(words: &[u64], i: usize) -> bool {
    words[i / 64] >> (i % 64) & 1 == 1
}

/// The lowest set bit at or after `start`.
fn first_set(words: &[u64], start: usize) -> Option<usize> {
    let mut w = start / 64;
    if w >= words.len() {
        return None;
    }
    let mut word = words[w] & (u64::MAX << (start % 64));
    loop {
        if word != 0 {
            return Some(w * 64 + word.trailing_zeros() as usize);
        }
        w += 1;
        word = *words.get(w)?;
    }
}

/// The lowest bit set in both.
fn first_common(a: &[u64], b: &[u64]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x & y != 0)
        .map(|w| w * 64 + (a[w] & b[w]).trailing_zeros() as usize)
}

fn protocol_slot(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Tcp => 0,
        Protocol::Udp => 1,
        Protocol::Icmp => 2,
    }
}

/// The port intervals of `protocol` a rule covers whatever the destination (merged), into
/// `out`; whether it also names `rpc`, which covers the destination's range.
fn static_ports(traffic: &Traffic, protocol: Protocol, out: &mut Vec<(u32, u32)>) -> bool {
    out.clear();
    if traffic.matches_all_protocols() {
        out.push((0, 65535));
        return false;
    }
    let list = match protocol {
        Protocol::Icmp => {
            if traffic.icmp {
                out.push((0, 0));
            }
            return false;
        }
        Protocol::Tcp => &traffic.tcp,
        Protocol::Udp => &traffic.udp,
    };
    let mut rpc = false;
    if let Some(list) = list {
        for item in &list.value.items {
            match *item {
                PortItem::Range(a, b) => out.push((u32::from(a), u32::from(b))),
                PortItem::Rpc => rpc = true,
                PortItem::RpcEpmap => out.push((135, 135)),
            }
        }
    }
    merge_in_place(out);
    rpc
}

/// [`super::intervals::merge`] without a new vector: sorts, then joins the intervals that
/// overlap or touch.
fn merge_in_place(items: &mut Vec<(u32, u32)>) {
    items.sort_unstable();
    let mut kept = 0;
    for i in 0..items.len() {
        let (a, b) = items[i];
        if kept > 0 && a <= items[kept - 1].1.saturating_add(1) {
            items[kept - 1].1 = items[kept - 1].1.max(b);
        } else {
            items[kept] = (a, b);
            kept += 1;
        }
    }
    items.truncate(kept);
}

/// Crosses a boundary: flips the covering candidates among the rules whose coverage
/// starts or stops there, keeping their count and the lowest.
fn step(
    events: &[u32],
    may: &[u64],
    covering: &mut [u64],
    count: &mut u32,
    first: &mut Option<usize>,
) {
    for &r in events {
        let r = r as usize;
        if !bit(may, r) {
            continue;
        }
        let mask = 1 << (r % 64);
        covering[r / 64] ^= mask;
        if covering[r / 64] & mask == 0 {
            *count -= 1;
            if *first == Some(r) {
                *first = if *count == 0 {
                    None
                } else {
                    first_set(covering, r + 1)
                };
            }
        } else {
            *count += 1;
            *first = Some(first.map_or(r, |f| f.min(r)));
        }
    }
}

/// One protocol of one firewall: which rules cover which ports.
struct PortIndex {
    /// The first port of each elementary interval, ascending; the first is 0 and the last
    /// interval ends at 65535.
    starts: Vec<u32>,
    /// `events[event_at[k]..event_at[k + 1]]`: the rules that start or stop covering at
    /// `starts[k]`.
    event_at: Vec<u32>,
    events: Vec<u32>,
    /// Intervals between stored sets: [`CHECKPOINT`] or more.
    every: usize,
    /// The rules covering interval `c * every`, `words` words per `c`.
    checkpoints: Vec<u64>,
    /// The rules naming `rpc`, when any does.
    rpc: Option<Vec<u64>>,
}

impl PortIndex {
    fn new(rules: &[FirewallRule], protocol: Protocol, words: usize) -> Self {
        let mut rpc = vec![0u64; words];
        let mut any_rpc = false;
        // (port, rule): the rule's coverage flips at the port.
        let mut edges: Vec<(u32, u32)> = Vec::new();
        let mut ports = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            if static_ports(&rule.traffic, protocol, &mut ports) {
                rpc[i / 64] |= 1 << (i % 64);
                any_rpc = true;
            }
            #[allow(clippy::cast_possible_truncation)]
            let r = i as u32;
            for &(lo, hi) in &ports {
                edges.push((lo, r));
                if hi < 65535 {
                    edges.push((hi + 1, r));
                }
            }
        }
        edges.sort_unstable();
        let mut starts = vec![0];
        let mut event_at = vec![0];
        let mut events = Vec::with_capacity(edges.len());
        for (port, rule) in edges {
            if port != *starts.last().unwrap_or(&0) {
                #[allow(clippy::cast_possible_truncation)]
                event_at.push(events.len() as u32);
                starts.push(port);
            }
            events.push(rule);
        }
        #[allow(clippy::cast_possible_truncation)]
        event_at.push(events.len() as u32);
        let every = CHECKPOINT.max((starts.len() * words).div_ceil(CHECKPOINT_WORDS));
        let mut index = Self {
            starts,
            event_at,
            events,
            every,
            checkpoints: Vec::new(),
            rpc: any_rpc.then_some(rpc),
        };
        let mut cover = vec![0u64; words];
        for k in 0..index.starts.len() {
            for &r in index.events(k) {
                cover[r as usize / 64] ^= 1 << (r % 64);
            }
            if k % index.every == 0 {
                index.checkpoints.extend_from_slice(&cover);
            }
        }
        index
    }

    fn events(&self, k: usize) -> &[u32] {
        &self.events[self.event_at[k] as usize..self.event_at[k + 1] as usize]
    }
}

/// One protocol of one firewall, rule by rule: the ports each rule covers whatever the
/// destination, and which rules also name `rpc`.
struct RulePorts {
    /// `spans[at[r]..at[r + 1]]`: rule `r`'s intervals, merged.
    at: Vec<u32>,
    spans: Vec<(u32, u32)>,
    rpc: Vec<u64>,
}

impl RulePorts {
    fn new(rules: &[FirewallRule], protocol: Protocol, words: usize) -> Self {
        let mut at = Vec::with_capacity(rules.len() + 1);
        at.push(0);
        let mut spans = Vec::with_capacity(rules.len());
        let mut rpc = vec![0u64; words];
        let mut ports = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            if static_ports(&rule.traffic, protocol, &mut ports) {
                set_bit(&mut rpc, i);
            }
            spans.extend_from_slice(&ports);
            at.push(rule_id(spans.len()));
        }
        Self { at, spans, rpc }
    }

    fn spans(&self, r: usize) -> &[(u32, u32)] {
        &self.spans[self.at[r] as usize..self.at[r + 1] as usize]
    }
}

/// A host name compared as server FQDNs are, ignoring ASCII case, without lowering a
/// copy of it.
#[derive(Clone, Copy)]
struct Caseless<'a>(&'a str);

impl PartialEq for Caseless<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for Caseless<'_> {}

impl std::hash::Hash for Caseless<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for b in self.0.bytes() {
            state.write_u8(b.to_ascii_lowercase());
        }
        state.write_usize(self.0.len());
    }
}

/// A firewall's index, built as flows reach it.
struct FirewallIndex<'m> {
    /// Words in a bit set of the firewall's rules.
    words: usize,
    from: SideIndex<'m>,
    to: SideIndex<'m>,
    /// By protocol: the elementary intervals (for pairs of many candidates) and the
    /// rules' own intervals (for the others), each built when first needed.
    ports: [Option<PortIndex>; 3],
    rule_ports: [Option<RulePorts>; 3],
}

fn set_bit(words: &mut [u64], i: usize) {
    words[i / 64] |= 1 << (i % 64);
}

#[allow(clippy::cast_possible_truncation)]
fn rule_id(i: usize) -> u32 {
    i as u32
}

/// One side (`from` or `to`) of a firewall's rules by endpoint, so that a place's
/// candidates are gathered from the endpoints that name it rather than by asking every
/// rule. A rule matches a place as surely as the surest item of its list does
/// ([`Network::list_matches`]), so a place's sets are the union of its items' rules.
struct SideIndex<'m> {
    words: usize,
    /// By zone id, what every place of the zone has: the rules naming `any` or the zone,
    /// as bit sets (those whose list may match the place, then in the next `words` those
    /// whose list surely matches it), guards and uncertainty applied.
    bases: Vec<Option<Vec<u64>>>,
    /// By place id, the rules the place has beyond its zone's base: a few per place,
    /// where whole bit sets per place would be most of the memory a verdict touches.
    places: Vec<Option<OwnRules>>,
    /// Rules naming `any`.
    any: Vec<u64>,
    /// `zone:` items by zone id; a name that no zone has names no place.
    zones: Vec<Vec<u32>>,
    /// `host:` items by name ignoring case: servers' FQDNs compare so; consoles' and
    /// cloud services' names compare exactly, so their rules are checked item by item.
    /// A name's rules are `host_rules[host_at[k]..host_at[k + 1]]`, `k` its number.
    hosts: HashMap<Caseless<'m>, u32>,
    host_at: Vec<u32>,
    host_rules: Vec<u32>,
    /// `cidr:` items by network (host bits cleared), for places with an address, with
    /// the prefix lengths in use.
    cidr_networks: HashMap<IpNet, Vec<u32>>,
    cidr_lengths: Vec<u8>,
    /// `cidr:` items as written, for places without an address.
    cidrs: Vec<(Endpoint, Vec<u32>)>,
    /// The `cidr:` rules' sets of places without an address, which only their zone
    /// decides, by zone.
    cidr_by_zone: Vec<Option<Vec<u64>>>,
    /// `site:`, `role:` and `clients:` items, asked place by place.
    others: Vec<(&'m Endpoint, Vec<u32>)>,
    /// Rules whose list holds several `cidr:` items: together they may name a zone that
    /// none names alone.
    unions: Vec<u32>,
    /// Rules whose guard restricts this side, and by zone id those it lets see the place
    /// (a guard naming no zone sees nothing).
    guarded: Vec<u64>,
    guard_zones: Vec<Option<Vec<u64>>>,
    /// Rules matching as unknown at best (uncertain rules, on the source side).
    unsure: Vec<u64>,
}

impl<'m> SideIndex<'m> {
    fn new(
        net: &Network<'_>,
        zone_ids: &HashMap<&str, usize>,
        rules: &'m [FirewallRule],
        from_side: bool,
    ) -> Self {
        let words = rules.len().div_ceil(64);
        let zone_count = net.zones.len();
        // (name number, rule) of every `host:` item, gathered by name below.
        let mut host_items: Vec<(u32, u32)> = Vec::new();
        let mut side = Self {
            words,
            bases: vec![None; zone_count],
            places: (0..net.place_count()).map(|_| None).collect(),
            any: vec![0; words],
            zones: vec![Vec::new(); zone_count],
            hosts: HashMap::default(),
            host_at: Vec::new(),
            host_rules: Vec::new(),
            cidr_networks: HashMap::default(),
            cidr_lengths: Vec::new(),
            cidrs: Vec::new(),
            cidr_by_zone: Vec::new(),
            others: Vec::new(),
            unions: Vec::new(),
            guarded: vec![0; words],
            guard_zones: vec![None; zone_count],
            unsure: vec![0; words],
        };
        let mut cidrs: HashMap<IpNet, Vec<u32>> = HashMap::default();
        let mut others: HashMap<&'m Endpoint, usize> = HashMap::default();
        for (i, rule) in rules.iter().enumerate() {
            let r = rule_id(i);
            let list = if from_side {
                &rule.traffic.from
            } else {
                &rule.traffic.to
            };
            let mut cidr_items = 0;
            for item in list {
                match &item.value {
                    Endpoint::Any => set_bit(&mut side.any, i),
                    Endpoint::Zone(z) => {
                        if let Some(&zone) = zone_ids.get(z.as_str()) {
                            side.zones[zone].push(r);
                        }
                    }
                    Endpoint::Host(h) => {
                        let next = rule_id(side.hosts.len());
                        let k = *side.hosts.entry(Caseless(h)).or_insert(next);
                        host_items.push((k, r));
                    }
                    Endpoint::Cidr(net) => {
                        cidr_items += 1;
                        cidrs.entry(*net).or_default().push(r);
                    }
                    other => {
                        let at = *others.entry(other).or_insert_with(|| {
                            side.others.push((other, Vec::new()));
                            side.others.len() - 1
                        });
                        side.others[at].1.push(r);
                    }
                }
            }
            if cidr_items >= 2 {
                side.unions.push(r);
            }
            let guard_zone = match (&rule.guard, from_side) {
                (RuleGuard::IntoZone(zone), false) | (RuleGuard::OutOfZone(zone), true) => {
                    Some(zone)
                }
                _ => None,
            };
            if let Some(zone) = guard_zone {
                set_bit(&mut side.guarded, i);
                if let Some(&zone) = zone_ids.get(zone.as_str()) {
                    set_bit(
                        side.guard_zones[zone].get_or_insert_with(|| vec![0; words]),
                        i,
                    );
                }
            }
            if from_side && rule.uncertain.is_some() {
                set_bit(&mut side.unsure, i);
            }
        }
        // A counting sort by name: rules stay ascending within a name.
        side.host_at = vec![0; side.hosts.len() + 1];
        for &(k, _) in &host_items {
            side.host_at[k as usize + 1] += 1;
        }
        for k in 1..side.host_at.len() {
            side.host_at[k] += side.host_at[k - 1];
        }
        let mut next = side.host_at.clone();
        side.host_rules = vec![0; host_items.len()];
        for &(k, r) in &host_items {
            side.host_rules[next[k as usize] as usize] = r;
            next[k as usize] += 1;
        }
        let mut cidrs: Vec<(IpNet, Vec<u32>)> = cidrs.into_iter().collect();
        cidrs.sort_unstable_by_key(|(net, _)| *net);
        for (net, rules) in &cidrs {
            side.cidr_networks
                .entry(net.trunc())
                .or_default()
                .extend(rules);
            if !side.cidr_lengths.contains(&net.prefix_len()) {
                side.cidr_lengths.push(net.prefix_len());
            }
        }
        side.cidrs = cidrs
            .into_iter()
            .map(|(net, rules)| (Endpoint::Cidr(net), rules))
            .collect();
        side
    }

    /// Adds the rules of an item that names the place as `tri`.
    fn add(sets: &mut [u64], words: usize, rules: &[u32], tri: Tri) {
        if tri == Tri::No {
            return;
        }
        for &r in rules {
            set_bit(sets, r as usize);
            if tri == Tri::Yes {
                set_bit(sets, words * 64 + r as usize);
            }
        }
    }

    /// The place's sets: the rules whose list may match it, then those whose list surely
    /// does; as [`Network::list_matches`] and [`Network::guard_matches`] answer, and
    /// an uncertain rule at best unknown on the source side.
    fn sets(
        &mut self,
        net: &Network<'_>,
        model: &Model,
        rules: &[FirewallRule],
        place: Place,
        from_side: bool,
        sets: &mut Vec<u64>,
    ) {
        let words = self.words;
        let zone = net.place_zone(place);
        self.zone_sets(zone, sets);
        // The host's name, and whether it compares exactly (not as an FQDN).
        let host = match place {
            Place::Host(FlowEndpoint::Server(i)) => Some((&model.servers[i].fqdn.value, false)),
            Place::Host(FlowEndpoint::Console(i)) => Some((&model.consoles[i].name.value, true)),
            Place::Host(FlowEndpoint::Cloud(i)) => {
                Some((&model.cloud_services[i].name.value, true))
            }
            _ => None,
        };
        if let Some((name, exact)) = host
            && let Some(&k) = self.hosts.get(&Caseless(name))
        {
            let k = k as usize;
            let named = &self.host_rules[self.host_at[k] as usize..self.host_at[k + 1] as usize];
            for &r in named {
                let rule = &rules[r as usize].traffic;
                let list = if from_side { &rule.from } else { &rule.to };
                let names = !exact
                    || list
                        .iter()
                        .any(|item| matches!(&item.value, Endpoint::Host(h) if h == name));
                if names {
                    Self::add(sets, words, &[r], Tri::Yes);
                }
            }
        }
        self.add_cidrs(net, model, place, zone, sets);
        for (endpoint, rules) in &self.others {
            Self::add(sets, words, rules, net.matches(endpoint, place));
        }
        // A list whose best item is unknown may still name the place by its `cidr:`
        // items together; never a server with an address, which its address decides.
        let addressed_server = matches!(place, Place::Host(FlowEndpoint::Server(i))
            if model.servers[i].address.is_some());
        if !addressed_server {
            for &r in &self.unions {
                let r = r as usize;
                if bit(sets, r) && !bit(&sets[words..], r) {
                    let rule = &rules[r].traffic;
                    let list = if from_side { &rule.from } else { &rule.to };
                    if net.list_matches(list, place) == Tri::Yes {
                        set_bit(&mut sets[words..], r);
                    }
                }
            }
        }
        self.mask(zone, sets);
    }

    /// The rules naming `any` or the zone, unmasked, into `sets` (both halves).
    fn zone_sets(&self, zone: usize, sets: &mut Vec<u64>) {
        let words = self.words;
        sets.clear();
        sets.extend_from_slice(&self.any);
        sets.extend_from_slice(&self.any);
        Self::add(sets, words, &self.zones[zone], Tri::Yes);
    }

    /// Hides the rules whose guard does not see the zone, and makes the uncertain ones
    /// unsure.
    fn mask(&self, zone: usize, sets: &mut [u64]) {
        let words = self.words;
        let sees = self.guard_zones[zone].as_deref();
        for w in 0..words {
            let hidden = self.guarded[w] & !sees.map_or(0, |s| s[w]);
            sets[w] &= !hidden;
            sets[words + w] &= !(hidden | self.unsure[w]);
        }
    }

    /// The zone's base ([`SideIndex::bases`]), computed once.
    fn base(&mut self, zone: usize) -> &[u64] {
        if self.bases[zone].is_none() {
            let mut sets = Vec::with_capacity(2 * self.words);
            self.zone_sets(zone, &mut sets);
            self.mask(zone, &mut sets);
            self.bases[zone] = Some(sets);
        }
        self.bases[zone].as_deref().unwrap_or_default()
    }

    /// The place's sets into `out`: its zone's base and its own rules, these found once
    /// (`full` is scratch space).
    #[allow(clippy::too_many_arguments)]
    fn place_sets(
        &mut self,
        net: &Network<'_>,
        model: &Model,
        rules: &[FirewallRule],
        place: Place,
        from_side: bool,
        full: &mut Vec<u64>,
        out: &mut Vec<u64>,
    ) {
        let words = self.words;
        let id = net.place_id(place);
        let zone = net.place_zone(place);
        if self.places[id].is_none() {
            self.sets(net, model, rules, place, from_side, full);
            let base = self.base(zone);
            let beyond = |w: usize| (full[w] & !base[w]) | (full[words + w] & !base[words + w]);
            let count = (0..words)
                .map(|w| beyond(w).count_ones() as usize)
                .sum::<usize>();
            // A listed rule takes 32 bits, where the sets take 2 bits per rule.
            let own = if count > 4 * words {
                OwnRules::Whole(full.as_slice().into())
            } else {
                let mut own = Vec::with_capacity(count);
                for w in 0..words {
                    let mut beyond = beyond(w);
                    while beyond != 0 {
                        let b = beyond.trailing_zeros();
                        beyond &= beyond - 1;
                        let sure = if full[words + w] >> b & 1 == 1 {
                            SURE
                        } else {
                            0
                        };
                        own.push((rule_id(w * 64) + b) | sure);
                    }
                }
                OwnRules::Listed(own.into_boxed_slice())
            };
            self.places[id] = Some(own);
        }
        self.base(zone);
        let base = self.bases[zone].as_deref().unwrap_or_default();
        out.clear();
        match &self.places[id] {
            Some(OwnRules::Whole(sets)) => out.extend_from_slice(sets),
            Some(OwnRules::Listed(own)) => {
                out.extend_from_slice(base);
                for &r in own {
                    let i = (r & !SURE) as usize;
                    set_bit(out, i);
                    if r & SURE != 0 {
                        set_bit(out, words * 64 + i);
                    }
                }
            }
            None => {}
        }
    }

    /// The `cidr:` items' rules: by prefix lookups for a place with an address, by the
    /// zone's subnets for the others (cached per zone), by its own subnets for a client
    /// group with some.
    fn add_cidrs(
        &mut self,
        net: &Network<'_>,
        model: &Model,
        place: Place,
        zone: usize,
        sets: &mut [u64],
    ) {
        if self.cidrs.is_empty() {
            return;
        }
        let words = self.words;
        let address = match place {
            Place::Host(FlowEndpoint::Server(i)) => model.servers[i].address,
            Place::Host(FlowEndpoint::Console(i)) => model.consoles[i].address,
            _ => None,
        };
        if let Some(address) = address {
            for &len in &self.cidr_lengths {
                if let Some(rules) = IpNet::new(address, len)
                    .ok()
                    .and_then(|n| self.cidr_networks.get(&n.trunc()))
                {
                    Self::add(sets, words, rules, Tri::Yes);
                }
            }
            return;
        }
        let own_subnets = matches!(place, Place::Host(FlowEndpoint::Clients(i))
            if !model.clients[i].subnets.is_empty());
        if own_subnets {
            for (endpoint, rules) in &self.cidrs {
                Self::add(sets, words, rules, net.matches(endpoint, place));
            }
            return;
        }
        if self.cidr_by_zone.len() <= zone {
            self.cidr_by_zone.resize(zone + 1, None);
        }
        let cidrs = &self.cidrs;
        let by_zone = self.cidr_by_zone[zone].get_or_insert_with(|| {
            let mut zone_sets = vec![0u64; 2 * words];
            for (endpoint, rules) in cidrs {
                Self::add(&mut zone_sets, words, rules, net.matches(endpoint, place));
            }
            zone_sets
        });
        for (s, z) in sets.iter_mut().zip(by_zone.iter()) {
            *s |= z;
        }
    }
}

/// A place's rules beyond its zone's base, as a list while that is smaller than its
/// whole sets (many rules naming wide `cidr:` ranges may name every host), so that a
/// place never takes more memory than its two bit sets.
enum OwnRules {
    /// The rules, ascending, [`SURE`] set on those whose list surely matches the place.
    Listed(Box<[u32]>),
    /// The place's whole sets, base included.
    Whole(Box<[u64]>),
}

/// The candidate rules of one firewall for one (source, destination) pair.
pub(super) struct PairRules {
    firewall: usize,
    /// The rules whose `from` and `to` may match, ascending, [`SURE`] set on those whose
    /// `from` and `to` surely match.
    candidates: Vec<u32>,
}

/// A firewall's index, created empty on first use.
fn firewall_index<'a, 'm>(
    slots: &'a mut [Option<FirewallIndex<'m>>],
    model: &'m Model,
    net: &Network<'_>,
    zone_ids: &HashMap<&str, usize>,
    fw: usize,
) -> &'a mut FirewallIndex<'m> {
    slots[fw].get_or_insert_with(|| {
        let rules = &model.firewalls[fw].rules;
        FirewallIndex {
            words: rules.len().div_ceil(64),
            from: SideIndex::new(net, zone_ids, rules, true),
            to: SideIndex::new(net, zone_ids, rules, false),
            ports: [None, None, None],
            rule_ports: [None, None, None],
        }
    })
}

/// Whether a flow is cheaper to decide by its pair's candidates than by the elementary
/// intervals: the latter costs a few passes over the bit sets' words, plus the boundaries
/// the flow's ports cross (known once those intervals are built).
fn by_candidates(candidates: usize, words: usize) -> bool {
    candidates <= 4 * words + 16
}

/// Every network firewall's index, and the scratch space of a verdict.
pub(super) struct RuleIndex<'m> {
    /// The model of the network the index is asked about (the rules' names are
    /// borrowed from it).
    model: &'m Model,
    /// Zone ids by name ([`Network::zone_id`], with a faster hash: rules name zones
    /// thousands of times).
    zone_ids: HashMap<&'m str, usize>,
    firewalls: Vec<Option<FirewallIndex<'m>>>,
    covering: Vec<u64>,
    /// (first rule or `u32::MAX` for the default, first port, last port).
    runs: Vec<(u32, u32, u32)>,
    /// The ports a walk over candidates has yet to decide, and the next of them.
    remaining: Vec<(u32, u32)>,
    left: Vec<(u32, u32)>,
    /// A rule naming `rpc`: its intervals with the destination's range.
    covered: Vec<(u32, u32)>,
    /// A pair's source and destination sets, a place's sets before they are split into
    /// its zone's and its own, and a pair's candidates as bit sets.
    from_sets: Vec<u64>,
    to_sets: Vec<u64>,
    full: Vec<u64>,
    pair_sets: Vec<u64>,
    /// The tests' choice of a way to decide: by candidates (`true`) or by ports.
    #[cfg(test)]
    force: Option<bool>,
}

impl<'m> RuleIndex<'m> {
    pub(super) fn new(net: &Network<'m>) -> Self {
        Self {
            model: net.model,
            zone_ids: net
                .zones
                .iter()
                .enumerate()
                .map(|(id, zone)| (zone.name, id))
                .collect(),
            firewalls: (0..net.model.firewalls.len()).map(|_| None).collect(),
            covering: Vec::new(),
            runs: Vec::new(),
            remaining: Vec::new(),
            left: Vec::new(),
            covered: Vec::new(),
            from_sets: Vec::new(),
            to_sets: Vec::new(),
            full: Vec::new(),
            pair_sets: Vec::new(),
            #[cfg(test)]
            force: None,
        }
    }

    /// The candidate rules of `fw` for flows from `source` to `destination`.
    pub(super) fn pair(
        &mut self,
        net: &Network<'_>,
        fw: usize,
        source: Place,
        destination: Place,
    ) -> PairRules {
        let model = self.model;
        let rules = &model.firewalls[fw].rules;
        let index = firewall_index(&mut self.firewalls, model, net, &self.zone_ids, fw);
        let words = index.words;
        let (from, to, full) = (&mut self.from_sets, &mut self.to_sets, &mut self.full);
        index
            .from
            .place_sets(net, model, rules, source, true, full, from);
        index
            .to
            .place_sets(net, model, rules, destination, false, full, to);
        let count: u32 = (0..words).map(|w| (from[w] & to[w]).count_ones()).sum();
        let mut candidates = Vec::with_capacity(count as usize);
        for w in 0..words {
            let mut may = from[w] & to[w];
            let yes = from[words + w] & to[words + w];
            while may != 0 {
                let b = may.trailing_zeros();
                may &= may - 1;
                let sure = if yes >> b & 1 == 1 { SURE } else { 0 };
                candidates.push((rule_id(w * 64) + b) | sure);
            }
        }
        PairRules {
            firewall: fw,
            candidates,
        }
    }

    /// First match of the pair's rules, then the firewall's `default`, for one flow: the
    /// same decisions, in the same order, as the scan ([`super::decide`]).
    pub(super) fn decide(
        &mut self,
        net: &Network<'_>,
        pair: &PairRules,
        flow: &RequiredFlow,
        rpc: (u16, u16),
        out: &mut Vec<Decision>,
    ) {
        let fw = pair.firewall;
        let model = self.model;
        let firewall = &model.firewalls[fw];
        let slot = protocol_slot(flow.protocol);
        let index = firewall_index(&mut self.firewalls, model, net, &self.zone_ids, fw);
        let words = index.words;
        #[cfg_attr(not(test), allow(unused_mut))]
        let mut walk = by_candidates(pair.candidates.len(), words);
        #[cfg(test)]
        if let Some(forced) = self.force {
            walk = forced;
        }
        if !walk {
            let ports = index.ports[slot]
                .get_or_insert_with(|| PortIndex::new(&firewall.rules, flow.protocol, words));
            // A wide range may cross more boundaries than the pair has candidates.
            let (lo, hi) = flow.ports.interval();
            let crossed = ports.starts.partition_point(|&s| s <= hi)
                - ports.starts.partition_point(|&s| s <= lo);
            let by_ports = crossed <= pair.candidates.len();
            #[cfg(test)]
            let by_ports = by_ports || self.force == Some(false);
            if by_ports {
                let sets = &mut self.pair_sets;
                sets.clear();
                sets.resize(2 * words, 0);
                for &candidate in &pair.candidates {
                    let r = (candidate & !SURE) as usize;
                    set_bit(sets, r);
                    if candidate & SURE != 0 {
                        set_bit(sets, words * 64 + r);
                    }
                }
                let (may, yes) = sets.split_at(words);
                Self::decide_by_ports(
                    ports,
                    &mut self.covering,
                    &mut self.runs,
                    (fw, firewall),
                    (may, yes),
                    flow,
                    rpc,
                    out,
                );
                return;
            }
        }
        let rule_ports = index.rule_ports[slot]
            .get_or_insert_with(|| RulePorts::new(&firewall.rules, flow.protocol, words));
        let filter = Filter::Network(fw);
        let remaining = &mut self.remaining;
        let left = &mut self.left;
        let covered = &mut self.covered;
        remaining.clear();
        remaining.push(flow.ports.interval());
        let rpc = (u32::from(rpc.0), u32::from(rpc.1));
        for &candidate in &pair.candidates {
            let r = (candidate & !SURE) as usize;
            let mut spans = rule_ports.spans(r);
            if bit(&rule_ports.rpc, r) {
                covered.clear();
                covered.extend_from_slice(spans);
                covered.push(rpc);
                merge_in_place(covered);
                spans = covered;
            }
            let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
                continue;
            };
            // `remaining` is never empty here, and sorted.
            if last.1 < remaining[0].0 || first.0 > remaining[remaining.len() - 1].1 {
                continue;
            }
            let outcome = match (candidate & SURE != 0, firewall.rules[r].action) {
                (false, _) => Outcome::Unknown,
                (true, Action::Allow) => Outcome::Allow,
                (true, Action::Deny) => Outcome::Deny,
            };
            // What the rule covers of each remaining part is decided, in port order;
            // the rest is left to the next candidates (`intervals::split`).
            left.clear();
            for &(lo, hi) in remaining.iter() {
                let mut cur = lo;
                for &(x, y) in spans {
                    if y < cur {
                        continue;
                    }
                    if x > hi {
                        break;
                    }
                    if x > cur {
                        left.push((cur, x - 1));
                    }
                    let end = y.min(hi);
                    out.push(Decision {
                        filter,
                        by: DecidedBy::Rule(r),
                        outcome,
                        ports: FlowPorts::from_interval(flow.protocol, (x.max(cur), end)),
                    });
                    cur = end + 1;
                    if cur > hi {
                        break;
                    }
                }
                if cur <= hi {
                    left.push((cur, hi));
                }
            }
            std::mem::swap(remaining, left);
            if remaining.is_empty() {
                return;
            }
        }
        let outcome = match firewall.default {
            Action::Allow => Outcome::Allow,
            Action::Deny => Outcome::Deny,
        };
        out.extend(remaining.iter().map(|&part| Decision {
            filter,
            by: DecidedBy::Default,
            outcome,
            ports: FlowPorts::from_interval(flow.protocol, part),
        }));
    }

    /// [`RuleIndex::decide`] by the elementary intervals of the flow's protocol.
    #[allow(clippy::too_many_arguments)]
    fn decide_by_ports(
        ports: &PortIndex,
        covering: &mut Vec<u64>,
        runs: &mut Vec<(u32, u32, u32)>,
        (fw, firewall): (usize, &Firewall),
        (may, yes): (&[u64], &[u64]),
        flow: &RequiredFlow,
        rpc: (u16, u16),
        out: &mut Vec<Decision>,
    ) {
        let words = may.len();
        runs.clear();
        let (lo, hi) = flow.ports.interval();
        let (rpc_lo, rpc_hi) = (u32::from(rpc.0), u32::from(rpc.1));
        // The first rule naming `rpc`, when the flow reaches the destination's range.
        let first_rpc = match &ports.rpc {
            Some(rpc_rules) if lo <= rpc_hi && rpc_lo <= hi => first_common(may, rpc_rules),
            _ => None,
        };
        // The candidates covering the flow's first interval: the nearest stored set, with
        // the flips of the boundaries since, masked by the pair's candidates.
        let mut k = ports.starts.partition_point(|&s| s <= lo) - 1;
        let checkpoint = k / ports.every;
        covering.clear();
        covering.extend_from_slice(&ports.checkpoints[checkpoint * words..][..words]);
        for j in checkpoint * ports.every + 1..=k {
            for &r in ports.events(j) {
                covering[r as usize / 64] ^= 1 << (r % 64);
            }
        }
        for (c, m) in covering.iter_mut().zip(may) {
            *c &= m;
        }
        let mut count: u32 = covering.iter().map(|w| w.count_ones()).sum();
        let mut first = first_set(covering, 0);

        let mut cur = lo;
        loop {
            if ports.starts.get(k + 1) == Some(&cur) {
                k += 1;
                step(ports.events(k), may, covering, &mut count, &mut first);
            }
            // The stretch from `cur` on, up to an edge of the destination's `rpc` range,
            // where the deciding rule stays the same: boundaries that do not change it
            // are crossed without ending the stretch.
            let in_rpc = first_rpc.is_some() && rpc_lo <= cur && cur <= rpc_hi;
            let mut limit = hi;
            if first_rpc.is_some() {
                if in_rpc {
                    limit = limit.min(rpc_hi);
                } else if cur < rpc_lo {
                    limit = limit.min(rpc_lo - 1);
                }
            }
            let rpc_decider = first_rpc.filter(|_| in_rpc);
            let decider_of = |first: Option<usize>| -> u32 {
                let decider = match (first, rpc_decider) {
                    (Some(a), Some(b)) => a.min(b),
                    (Some(a), None) | (None, Some(a)) => a,
                    (None, None) => return u32::MAX,
                };
                #[allow(clippy::cast_possible_truncation)]
                let decider = decider as u32;
                decider
            };
            let decider = decider_of(first);
            let mut end = limit;
            while let Some(&next) = ports.starts.get(k + 1) {
                if next > limit {
                    break;
                }
                k += 1;
                step(ports.events(k), may, covering, &mut count, &mut first);
                if decider_of(first) != decider {
                    end = next - 1;
                    break;
                }
            }
            match runs.last_mut() {
                Some(last) if last.0 == decider => last.2 = end,
                _ => runs.push((decider, cur, end)),
            }
            if end >= hi {
                break;
            }
            cur = end + 1;
        }

        // The scan decides rule by rule, each on its ports in order, then the default.
        runs.sort_by_key(|run| run.0);
        let filter = Filter::Network(fw);
        out.extend(runs.iter().map(|&(decider, a, b)| {
            let (by, outcome) = if decider == u32::MAX {
                (
                    DecidedBy::Default,
                    match firewall.default {
                        Action::Allow => Outcome::Allow,
                        Action::Deny => Outcome::Deny,
                    },
                )
            } else {
                let r = decider as usize;
                let outcome = match (bit(yes, r), firewall.rules[r].action) {
                    (false, _) => Outcome::Unknown,
                    (true, Action::Allow) => Outcome::Allow,
                    (true, Action::Deny) => Outcome::Deny,
                };
                (DecidedBy::Rule(r), outcome)
            };
            Decision {
                filter,
                by,
                outcome,
                ports: FlowPorts::from_interval(flow.protocol, (a, b)),
            }
        }));
    }
}

#[cfg(test)]
mod tests;
