//! `firewall/shadowed-rule`: a rule of a network firewall that can never match, because
//! the rules above it together match everything it would.
//!
//! Exact over the rule space (protocol and ports x source places x destination places,
//! see `engine::space`), with the union of the earlier rules, not only one of them.
//! Windows Firewall rules are not ordered (block wins), so only network firewalls apply.

use std::collections::HashSet;
use std::fmt::Write as _;

use rayon::prelude::*;

use super::context::{Context, RuleKey};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use fixedbitset::FixedBitSet;

use crate::engine::{DecidedBy, Filter, Region, RuleSpace, covered_by, intervals};
use crate::model::{Action, RuleGuard};

/// Beyond this many pieces, the remainder of a rule is not analysed further (the rule is
/// then not reported).
const LIMIT: usize = 4096;

pub static RULE: RuleInfo = RuleInfo {
    code: "firewall/shadowed-rule",
    default_severity: Severity::Warning,
    summary: "A firewall rule can never match because earlier rules cover it",
    docs: r#"## What it does
Network firewalls decide by first match. For every rule, cmflow checks whether the rules
above it, together, already match every packet it matches: every protocol and port, from
every place it names (hosts of the model and the rest of each zone) to every place it
names. Such a rule never decides anything. The diagnostic labels the covering rules and
says when they have the opposite action: an `allow` eaten by an earlier `deny` is the
dangerous case, as the rule's author expected traffic to pass.

## Why
A shadowed rule is dead configuration at best; at worst it is the rule that was meant to
let a Configuration Manager flow through, and the flow is blocked by the rule above it.

## Example that fails
```kdl
firewall "fw-core" default="deny" {
    zones "hq" "datacenter"
    deny "no SMB from offices" from="zone:hq" tcp="445"
    allow "clients to DP" from="clients:HQ desktops" to="role:distribution-point" tcp="80,443,445"
    allow "HQ SMB to DP" from="clients:HQ desktops" to="role:distribution-point" tcp="445"
}
```
The last rule is covered by the two above it: its port 445 is denied by the first.

## Fixed example
Remove the shadowed rule, or move it above the rules that cover it if it was meant to
decide.
"#,
};

/// A shadowed rule and the earlier rules that cover it.
pub struct Shadowed {
    pub key: RuleKey,
    pub covers: Vec<usize>,
}

/// Every shadowed rule of every network firewall.
pub fn find(cx: &Context<'_, '_>) -> Vec<Shadowed> {
    // Firewalls side by side.
    let found: Vec<Vec<Shadowed>> = cx
        .rule_spaces()
        .par_iter()
        .enumerate()
        .map(|(f, spaces)| shadowed_in(cx, f, spaces))
        .collect();
    found.into_iter().flatten().collect()
}

/// The shadowed rules of network firewall `f`, whose rules' spaces are `spaces`.
fn shadowed_in(cx: &Context<'_, '_>, f: usize, spaces: &[RuleSpace]) -> Vec<Shadowed> {
    let mut found = Vec::new();
    let rules = &cx.model.firewalls[f].rules;
    // What each rule may match (its target) and surely matches (its cover), as place
    // sets: an earlier rule whose cover misses the target's sources or destinations
    // takes no part of it, and is skipped without comparing regions (a region
    // comparison scans bit sets as large as the model's places, and a firewall with
    // hundreds of rules would compare every pair).
    let targets: Vec<Footprint> = spaces.iter().map(|s| Footprint::of(&s.maybe)).collect();
    let covers: Vec<Footprint> = spaces.iter().map(|s| Footprint::of(&s.yes)).collect();
    // Everything the rules above rule `i` surely match, together: a rule reaching
    // beyond it (the closing `deny` of a long rule set) is not covered, and carving
    // it region by region would only find that out after thousands of regions.
    let mut above = Reach::default();
    for i in 1..spaces.len() {
        above.add(&spaces[i - 1].yes);
        if spaces[i].maybe.is_empty()
            || rules[i].uncertain.is_some()
            || !above.holds(&spaces[i].maybe)
        {
            continue;
        }
        // An uncertain rule may not match at all, and a guarded rule (an NSG's
        // inbound or outbound) covers only the flows its guard lets it see: it covers
        // a rule of the same guard, never an unguarded one.
        let earlier = (0..i)
            .filter(|&j| {
                rules[j].uncertain.is_none()
                    && (rules[j].guard == RuleGuard::Always || rules[j].guard == rules[i].guard)
                    && covers[j].may_meet(&targets[i])
            })
            .map(|j| (j, spaces[j].yes.as_slice()));
        if let Some(covers) = covered_by(&spaces[i].maybe, earlier, LIMIT) {
            found.push(Shadowed {
                key: (Filter::Network(f), i),
                covers,
            });
        }
    }
    found
}

/// The union of the services, sources and destinations of regions: a box around them.
#[derive(Default)]
struct Reach {
    services: Vec<(u32, u32)>,
    src: FixedBitSet,
    dst: FixedBitSet,
}

impl Reach {
    fn add(&mut self, regions: &[Region]) {
        for r in regions {
            self.services = intervals::merge(self.services.iter().chain(&r.services).copied());
            self.src.union_with(&r.src);
            self.dst.union_with(&r.dst);
        }
    }

    /// Whether every region lies inside the box (what the regions the box was built from
    /// cover together can only lie inside it).
    fn holds(&self, regions: &[Region]) -> bool {
        regions.iter().all(|r| {
            r.src.is_subset(&self.src)
                && r.dst.is_subset(&self.dst)
                && intervals::split(&r.services, &self.services).1.is_empty()
        })
    }
}

/// The sources and destinations of a union of regions, each kept as its few places when
/// it has few (`None`: too many to list, never ruled out).
struct Footprint {
    src: Option<Vec<usize>>,
    dst: Option<Vec<usize>>,
    src_set: FixedBitSet,
    dst_set: FixedBitSet,
}

/// Place sets with at most this many places are listed.
const FEW: usize = 64;

impl Footprint {
    fn of(regions: &[Region]) -> Self {
        let union = |side: fn(&Region) -> &FixedBitSet| {
            let mut set = FixedBitSet::new();
            for r in regions {
                set.union_with(side(r));
            }
            let few = (set.count_ones(..) <= FEW).then(|| set.ones().collect());
            (few, set)
        };
        let (src, src_set) = union(|r| &r.src);
        let (dst, dst_set) = union(|r| &r.dst);
        Self {
            src,
            dst,
            src_set,
            dst_set,
        }
    }

    /// False when the two surely share no source or no destination.
    fn may_meet(&self, other: &Footprint) -> bool {
        let meet = |a: &Option<Vec<usize>>,
                    a_set: &FixedBitSet,
                    b: &Option<Vec<usize>>,
                    b_set: &FixedBitSet| {
            match (a, b) {
                (Some(a), _) => a.iter().any(|&p| b_set.contains(p)),
                (None, Some(b)) => b.iter().any(|&p| a_set.contains(p)),
                (None, None) => true,
            }
        };
        meet(&self.src, &self.src_set, &other.src, &other.src_set)
            && meet(&self.dst, &self.dst_set, &other.dst, &other.dst_set)
    }
}

pub fn check(cx: &Context<'_, '_>, shadowed: &[Shadowed], out: &mut Vec<Diagnostic>) {
    let model = cx.model;
    for s in shadowed {
        let (Filter::Network(f), i) = s.key else {
            continue;
        };
        let rules = &model.firewalls[f].rules;
        let action = rules[i].action;
        let opposite: Vec<usize> = s
            .covers
            .iter()
            .copied()
            .filter(|&j| rules[j].action != action)
            .collect();
        let verb = |a: Action| match a {
            Action::Allow => "allow",
            Action::Deny => "deny",
        };
        let mut message = format!(
            "{} can never match: the rules above it already match everything it matches",
            cx.decider_name(Filter::Network(f), DecidedBy::Rule(i))
        );
        if !opposite.is_empty() {
            let _ = write!(
                message,
                "; some of them {} what it would {}",
                verb(rules[opposite[0]].action),
                verb(action)
            );
        }
        let mut d = Diagnostic::new(&RULE, message, Label::new(rules[i].span, "never matches"));
        for &j in &s.covers {
            let part = if s.covers.len() == 1 { "all" } else { "part" };
            let text = if rules[j].action == action {
                format!("this {} covers {part} of it", verb(rules[j].action))
            } else {
                format!("this {} takes {part} of it first", verb(rules[j].action))
            };
            d = d.with_label(Label::new(rules[j].span, text));
        }
        let first = s.covers.first().copied().unwrap_or(0);
        let first_name = cx.decider_name(Filter::Network(f), DecidedBy::Rule(first));
        out.push(d.with_help(format!(
            "remove it, or move it above {first_name} if it is meant to decide"
        )));
    }
}

/// The keys of the shadowed rules.
pub fn keys(shadowed: &[Shadowed]) -> HashSet<RuleKey> {
    shadowed.iter().map(|s| s.key).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Network, Phase, evaluate, required_flows};

    /// The shadowed rules of the model's firewalls, as (firewall, rule, covering rules).
    fn shadowed(kdl: &str) -> Vec<(usize, usize, Vec<usize>)> {
        let model = crate::engine::test_model(kdl);
        let net = Network::new(&model);
        let flows = required_flows(&model, &Phase::ALL);
        let verdicts = evaluate(&net, &flows);
        let cx = Context::new(&model, &net, &flows, &verdicts, &Phase::ALL);
        find(&cx)
            .into_iter()
            .map(|s| match s.key {
                (Filter::Network(f), i) => (f, i, s.covers),
                _ => unreachable!("only network rules are shadowed"),
            })
            .collect()
    }

    #[test]
    fn rules_apart_are_skipped_and_rules_reaching_beyond_those_above_are_not_shadowed() {
        let found = shadowed(
            r#"
            zone "hq" { subnet "10.1.0.0/16" }
            zone "dc" { subnet "10.2.0.0/16" }
            zone "branch" { subnet "10.3.0.0/16" }
            firewall "fw" default="deny" {
                zones "hq" "dc" "branch"
                allow "web" from="zone:hq" to="zone:dc" tcp="80"
                allow "branch web" from="zone:branch" to="zone:dc" tcp="80-100"
                allow "more web" from="zone:hq" to="zone:dc" tcp="81-100"
                allow "all web" from="zone:hq" to="zone:dc" tcp="80-100"
                deny "no NetBIOS" udp="137"
                deny "no web" tcp="80"
                allow "branch web again" from="zone:branch" to="zone:dc" tcp="90"
            }
            "#,
        );
        // `all web` lies inside `web` and `more web` together (`branch web` takes no
        // part); the closing denies reach protocols and places no rule above reaches;
        // `branch web again` lies inside `branch web`.
        assert_eq!(found, [(0, 3, vec![0, 2]), (0, 6, vec![1])]);
    }
}
