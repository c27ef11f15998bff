//! Verdicts after an edit of network firewalls' rules, from the verdicts before it:
//! only the flows an edited rule may decide are evaluated again (the language server's
//! re-check, `check/reuse.rs`).
//!
//! A network firewall decides by first match. Say an edit replaced its rules `old` by
//! `new`, every rule before and after deciding as before. A flow part decided before the
//! edit by a rule outside `old` (or by the default) keeps that decision when no rule of
//! `new` may match it: the rules before `new` are the same and decide the same ports, and
//! the ports left over reach the same rules after it. So a flow is evaluated again only
//! when a rule of `old` decided a part of it, or a rule of `new` may match it (the
//! candidate test of the evaluation itself: endpoints, guard and ports, an `uncertain`
//! rule included), or the default changed and decided a part of it. The other flows keep
//! their decisions, the indexes of the rules after `old` shifted by the difference in
//! length.

use std::ops::Range;

use rustc_hash::FxHashMap;

use super::{DecidedBy, Filter, FlowVerdict, evaluate, rpc_range, rule_ports};
use crate::engine::network::{Network, Place, Tri};
use crate::engine::{FlowEndpoint, RequiredFlow, pair_runs};
use crate::model::FirewallRule;

/// What an edit did to one network firewall whose name and zones it kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RulesEdit {
    /// The firewall, by index in `Model::firewalls` (the same before and after).
    pub firewall: usize,
    /// The rules the edit replaced, by index before it.
    pub old: Range<usize>,
    /// The rules that replaced them, by index after it.
    pub new: Range<usize>,
    /// Whether the firewall's `default` changed.
    pub default_changed: bool,
}

impl RulesEdit {
    /// A rule's index after the edit, for a rule outside `old`.
    fn renumbered(&self, rule: usize) -> usize {
        if rule < self.old.end {
            rule
        } else {
            rule - self.old.len() + self.new.len()
        }
    }

    /// Whether the flow's decisions by this firewall before the edit may not hold after it.
    fn undone(&self, verdict: &FlowVerdict) -> bool {
        verdict.decisions.iter().any(|d| {
            d.filter == Filter::Network(self.firewall)
                && match d.by {
                    DecidedBy::Rule(i) => self.old.contains(&i),
                    DecidedBy::Default => self.default_changed,
                }
        })
    }
}

/// The verdicts of `flows` in `net` after `edits`, from `previous`: the verdicts of the
/// same flows before them, in a network with the same routes (every firewall kept its
/// name and zones, and the flows are the same). Returns the verdicts and how many flows
/// were evaluated again; when most were, all of them are (that costs less than picking
/// them out).
pub fn reevaluate(
    net: &Network<'_>,
    flows: &[RequiredFlow],
    mut previous: Vec<FlowVerdict>,
    edits: &[RulesEdit],
) -> (Vec<FlowVerdict>, usize) {
    if edits.is_empty() {
        return (previous, 0);
    }
    let model = net.model;
    let mut edit_of: Vec<Option<&RulesEdit>> = vec![None; model.firewalls.len()];
    for edit in edits {
        edit_of[edit.firewall] = Some(edit);
    }
    let mut matcher = NewRules::default();
    let mut again = Vec::new();
    for run in pair_runs(flows) {
        let (start, end) = (run.start, run.end);
        let (source, destination) = (flows[start].source, flows[start].destination);
        // Routes are the same: the previous verdict's firewalls are the flow's.
        let crossed: Vec<&RulesEdit> = previous[start]
            .firewalls()
            .iter()
            .filter_map(|&f| edit_of[f])
            .collect();
        if !crossed.is_empty() {
            let candidates = matcher.candidates(net, &crossed, source, destination);
            let rpc = rpc_range(model, destination);
            for i in start..end {
                let verdict = &mut previous[i];
                let may_match = candidates
                    .iter()
                    .any(|rule| may_decide_ports(rule, &flows[i], rpc));
                if may_match || crossed.iter().any(|e| e.undone(verdict)) {
                    again.push(i);
                } else {
                    renumber(verdict, &crossed);
                }
            }
        }
    }
    if again.len() * 2 > flows.len() {
        return (evaluate(net, flows), flows.len());
    }
    // Still sorted by source and destination, as `evaluate` needs.
    let subset: Vec<RequiredFlow> = again.iter().map(|&i| flows[i].clone()).collect();
    for (&i, verdict) in again.iter().zip(evaluate(net, &subset)) {
        previous[i] = verdict;
    }
    (previous, again.len())
}

/// The new indexes of a kept flow's decisions by edited firewalls.
fn renumber(verdict: &mut FlowVerdict, crossed: &[&RulesEdit]) {
    for edit in crossed {
        if edit.old.len() == edit.new.len() {
            continue;
        }
        for d in &mut verdict.decisions {
            if d.filter == Filter::Network(edit.firewall)
                && let DecidedBy::Rule(i) = d.by
            {
                d.by = DecidedBy::Rule(edit.renumbered(i));
            }
        }
    }
}

/// Whether a candidate rule for a flow's pair covers some of the flow's ports (the port
/// test of the evaluation's first match).
fn may_decide_ports(rule: &FirewallRule, flow: &RequiredFlow, rpc: (u16, u16)) -> bool {
    let mut covered = Vec::new();
    rule_ports(&rule.traffic, flow.protocol, rpc, &mut covered);
    let (lo, hi) = flow.ports.interval();
    covered.iter().any(|&(a, b)| a <= hi && lo <= b)
}

/// The new rules of the edits that may match a pair of endpoints, with each rule's
/// answer per source and per destination kept: flows come sorted by source, and most
/// destinations recur.
#[derive(Default)]
struct NewRules<'m> {
    from: FxHashMap<(usize, usize, FlowEndpoint), bool>,
    to: FxHashMap<(usize, usize, FlowEndpoint), bool>,
    found: Vec<&'m FirewallRule>,
}

impl<'m> NewRules<'m> {
    fn candidates(
        &mut self,
        net: &Network<'m>,
        crossed: &[&RulesEdit],
        source: FlowEndpoint,
        destination: FlowEndpoint,
    ) -> &[&'m FirewallRule] {
        self.found.clear();
        for edit in crossed {
            let rules = &net.model.firewalls[edit.firewall].rules;
            for i in edit.new.clone() {
                let rule = &rules[i];
                let from = *self
                    .from
                    .entry((edit.firewall, i, source))
                    .or_insert_with(|| side_may_match(net, rule, source, true));
                if !from {
                    continue;
                }
                let to = *self
                    .to
                    .entry((edit.firewall, i, destination))
                    .or_insert_with(|| side_may_match(net, rule, destination, false));
                if to {
                    self.found.push(rule);
                }
            }
        }
        &self.found
    }
}

/// Whether a rule's `from` (`from_side`) or `to` list and its guard may name an endpoint:
/// the evaluation's candidate test, one side at a time.
fn side_may_match(
    net: &Network<'_>,
    rule: &FirewallRule,
    endpoint: FlowEndpoint,
    from_side: bool,
) -> bool {
    let place = Place::Host(endpoint);
    let list = if from_side {
        &rule.traffic.from
    } else {
        &rule.traffic.to
    };
    net.list_matches(list, place)
        .and(net.guard_matches(&rule.guard, place, from_side))
        != Tri::No
}
