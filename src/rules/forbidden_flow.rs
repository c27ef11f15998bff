//! `policy/forbidden-flow`: a firewall lets through traffic that a user `policy` forbids.
//!
//! Every packet a `forbid` names is routed zone class by zone class (zones attached to
//! the same firewalls route alike); each firewall on the way is walked rule by rule over
//! the forbidden region (`engine::space`), and every `allow` rule (or `default="allow"`)
//! that takes a part of it is reported, once per forbid.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use fixedbitset::FixedBitSet;

use super::context::Context;
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::engine::{DecidedBy, Filter, Route, SpaceBuilder, first_match, restrict};
use crate::model::{Action, Traffic};

const LIMIT: usize = 4096;

pub static RULE: RuleInfo = RuleInfo {
    code: "policy/forbidden-flow",
    default_severity: Severity::Error,
    summary: "A firewall allows traffic that a policy forbids",
    docs: r#"## What it does
A `policy` lists traffic that must never pass (`forbid from= to= tcp= udp= icmp=`). For
every network firewall on the path between the places a `forbid` names, cmflow walks the
rules in order over all of the forbidden traffic (not only the required flows) and
reports each `allow` rule, or `default="allow"`, that lets some of it through. The
severity is the policy's `severity`.

## Why
Policies state a security design ("branches fetch content over HTTP(S) only"); a firewall
rule that contradicts it is a finding for the network team, whether or not Configuration
Manager uses the port.

## Example that fails
```kdl
policy "no SMB across the WAN" severity="error" {
    forbid from="zone:branch" to="zone:datacenter" tcp="445"
}
firewall "fw-wan" default="deny" {
    zones "branch" "datacenter"
    allow "branch to file servers" from="zone:branch" to="zone:datacenter" tcp="445"
}
```

## Fixed example
Remove or narrow the allow rule, or put a `deny` for the forbidden traffic above it:
```kdl
firewall "fw-wan" default="deny" {
    zones "branch" "datacenter"
    deny "no SMB across the WAN" from="zone:branch" to="zone:datacenter" tcp="445"
}
```
"#,
};

/// `from="zone:branch" to="zone:datacenter" tcp="445"`.
pub fn traffic_text(t: &Traffic) -> String {
    let list = |l: &[crate::model::Spanned<crate::model::Endpoint>]| {
        l.iter()
            .map(|e| e.value.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut s = format!("from=\"{}\" to=\"{}\"", list(&t.from), list(&t.to));
    for (name, ports) in [("tcp", &t.tcp), ("udp", &t.udp)] {
        if let Some(p) = ports {
            let _ = write!(s, " {name}=\"{}\"", p.value);
        }
    }
    if t.icmp {
        s.push_str(" icmp=#true");
    }
    s
}

pub fn check(cx: &Context<'_, '_>, out: &mut Vec<Diagnostic>) {
    let model = cx.model;
    let net = cx.net;
    if model.policies.is_empty() || !net.routed() {
        return;
    }
    let mut builder = SpaceBuilder::new(net);
    let n = builder.places().len();
    let mut class_masks = vec![FixedBitSet::with_capacity(n); net.class_count()];
    for (id, p) in builder.places().iter().enumerate() {
        class_masks[net.zone_class(net.place_zone(*p))].insert(id);
    }
    for policy in &model.policies {
        for forbid in &policy.forbids {
            let space = builder.space(&forbid.traffic);
            let classes_of = |src: bool| -> Vec<usize> {
                (0..class_masks.len())
                    .filter(|&c| {
                        space.yes.iter().any(|r| {
                            let set = if src { &r.src } else { &r.dst };
                            !set.is_disjoint(&class_masks[c])
                        })
                    })
                    .collect()
            };
            let mut allowing: BTreeSet<(usize, DecidedBy)> = BTreeSet::new();
            for &ca in &classes_of(true) {
                for &cb in &classes_of(false) {
                    let Route::Through(fws) = net.class_route(ca, cb) else {
                        continue;
                    };
                    let region = restrict(&space.yes, &class_masks[ca], &class_masks[cb]);
                    if region.is_empty() {
                        continue;
                    }
                    for &f in fws.iter() {
                        let fw = &model.firewalls[f];
                        let spaces = &cx.rule_spaces()[f];
                        // A rule whose match is unknown or guarded (read from a source
                        // file) may allow the traffic: an allow counts, a deny does not
                        // stop it (`docs/decisions.md` § Firewall sources).
                        let exact_or_allow = spaces.iter().enumerate().filter(|&(i, _)| {
                            fw.rules[i].action == Action::Allow
                                || !cx.inexact((Filter::Network(f), i))
                        });
                        let (takers, left) = first_match(&region, exact_or_allow, LIMIT);
                        for t in takers {
                            if fw.rules[t].action == Action::Allow {
                                allowing.insert((f, DecidedBy::Rule(t)));
                            }
                        }
                        if left && fw.default == Action::Allow {
                            allowing.insert((f, DecidedBy::Default));
                        }
                    }
                }
            }
            for (f, by) in allowing {
                let filter = Filter::Network(f);
                let deny = format!(
                    "deny \"{}\" {}",
                    policy.name.value,
                    traffic_text(&forbid.traffic)
                );
                let place = match by {
                    DecidedBy::Rule(_) => "insert above this rule".to_owned(),
                    DecidedBy::Default => format!(
                        "add to firewall \"{}\" after its last rule",
                        model.firewalls[f].name.value
                    ),
                };
                let message = format!(
                    "{} allows traffic that policy \"{}\" forbids ({})",
                    cx.decider_name(filter, by),
                    policy.name.value,
                    traffic_text(&forbid.traffic)
                );
                let mut help = format!("Remove or narrow what allows it, or {place}: {deny}");
                if let Some(m) = &policy.message {
                    help = format!("{m} {help}");
                }
                out.push(
                    Diagnostic::new(
                        &RULE,
                        message,
                        Label::new(cx.decider_span(filter, by), "lets some of it through"),
                    )
                    .with_label(Label::new(forbid.span, "forbidden here"))
                    .with_help(help)
                    .with_severity(policy.severity),
                );
            }
        }
    }
}
