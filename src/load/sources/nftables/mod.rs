//! `format="nftables-json"`: the output of `nft -j list ruleset` (libnftables-json(5)),
//! read as the forward path of a Linux router.
//!
//! Every base chain of type `filter` hooked at `forward` in a table of family `inet`,
//! `ip` or `ip6` filters forwarded packets, in priority order: a packet passes only if
//! every one of them accepts it (a drop in any is final; an accept ends only its own
//! chain). Regular chains reached by `jump`/`goto` are inlined, each inlined rule matching
//! the jump's match and its own (an exact intersection). The chains become one first-match
//! list (see `docs/sources/nftables-json.md` for how several chains combine and where that
//! is not exact).
//!
//! The JSON is read with its spans ([`super::json`]) rather than deserialised into the
//! `nftables` crate's types: each rule's span is its `{"rule": ...}` object, and each
//! construct cmflow cannot represent (an interface match, a rate limit) is reported where
//! it is written, in a file that may hold expressions no fixed schema knows.

mod matching;

use std::collections::HashMap;

use matching::{Findings, Match, Scope, Sets};

use super::json::{self, Json, JsonNode};
use super::{NetworkRules, SourceError, SourceInput, Unsupported};
use crate::engine::intervals;
use crate::model::{
    Action, Endpoint, FirewallRule, PortItem, PortList, RuleGuard, Span, Spanned, Traffic,
};

/// How deep `jump`/`goto` may nest (the kernel allows 16 levels).
const MAX_DEPTH: usize = 16;

/// Rule visits while inlining chains: ten chains each jumping ten times into the next
/// would otherwise take 10^10 steps on a hostile file.
const MAX_VISITS: usize = 2_000_000;

/// Rules of the flat list: a bound on memory for what the jumps multiply out to.
const MAX_RULES: usize = 200_000;

pub fn read(input: &SourceInput<'_>) -> Result<NetworkRules, SourceError> {
    let doc = json::parse(input.id, input.text)?;
    let Some(objects) = doc.get("nftables").and_then(JsonNode::as_array) else {
        return Err(SourceError::at(
            doc.span,
            "expected an object with an `nftables` array (the output of `nft -j list ruleset`)",
        )
        .with_help("write the file with `nft -j list ruleset > ruleset.json`"));
    };
    let all_span = doc.get("nftables").map_or(doc.span, |n| n.span);
    let ruleset = Ruleset::collect(objects)?;
    let mut out = NetworkRules::default();
    let mut chains: Vec<(usize, &Chain)> = ruleset
        .chains
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_forward_filter())
        .collect();
    // Equal priorities run in an order nftables leaves undefined: file order is used.
    chains.sort_by_key(|&(i, c)| (c.prio, i));

    // Each forward chain as a flat first-match list; chains that accept every flow drop
    // out (exactly: they change no verdict).
    let mut flats = Vec::new();
    for (_, chain) in chains {
        let flat = ruleset.flatten_base(chain, &mut out.unsupported)?;
        let denies = flat.iter().any(|r| r.action == Action::Deny);
        if denies || chain.policy.value == Action::Deny {
            flats.push((chain, flat));
        } else {
            out.default = Some(chain.policy.clone());
        }
    }
    let last = flats.len().saturating_sub(1);
    for (k, (chain, mut flat)) in flats.into_iter().enumerate() {
        let family_only = chain.family_match();
        if k < last {
            // A flow this chain accepts goes on to the next chain, which one list cannot
            // say: accepts followed by no drop (with an accept policy) change nothing and
            // are left out; any other accept is uncertain.
            if chain.policy.value == Action::Allow {
                let keep = flat
                    .iter()
                    .rposition(|r| r.action == Action::Deny)
                    .map_or(0, |i| i + 1);
                flat.truncate(keep);
            }
            for r in flat.iter_mut().filter(|r| r.action == Action::Allow) {
                out.unsupported.push(Unsupported {
                    construct: format!(
                        "an accept in forward chain `{}` followed by another forward chain",
                        chain.display()
                    ),
                    consequence: "the flows it accepts are indeterminate: the later chain \
                                  decides them and cmflow keeps one rule list"
                        .into(),
                    span: r.span,
                });
                r.m.uncertain.get_or_insert(r.span);
            }
            if chain.policy.value == Action::Deny {
                flat.push(chain.policy_rule(&family_only));
            }
        } else if family_only.src.is_some() && chain.policy.value == Action::Deny {
            // A chain of family `ip`/`ip6` never sees the other family's packets: its
            // drop policy is a rule of its family, and the rest passes. (An accept
            // policy accepts both families alike: it stays the default.)
            flat.push(chain.policy_rule(&family_only));
            out.default = Some(Spanned::new(Action::Allow, chain.span));
        } else {
            out.default = Some(chain.policy.clone());
        }
        for r in flat {
            if let Some(rule) = r.into_rule(&family_only, &mut out.unsupported) {
                out.rules.push(rule);
            }
        }
    }
    if out.default.is_none() {
        // No forward chain: the kernel forwards everything.
        out.default = Some(Spanned::new(Action::Allow, all_span));
    }
    out.unsupported.sort_by(|a, b| {
        (a.span.start, a.span.end, &a.construct).cmp(&(b.span.start, b.span.end, &b.construct))
    });
    out.unsupported
        .dedup_by(|a, b| a.span == b.span && a.construct == b.construct);
    Ok(out)
}

/// A `chain` object.
struct Chain {
    family: String,
    table: String,
    name: String,
    hook: Option<String>,
    kind: Option<String>,
    prio: i64,
    policy: Spanned<Action>,
    span: Span,
}

impl Chain {
    fn is_forward_filter(&self) -> bool {
        self.hook.as_deref() == Some("forward")
            && self.kind.as_deref().is_none_or(|k| k == "filter")
            && matches!(self.family.as_str(), "inet" | "ip" | "ip6")
    }

    /// `inet filter forward`.
    fn display(&self) -> String {
        format!("{} {} {}", self.family, self.table, self.name)
    }

    /// The addresses the chain's family sees (none for `inet`: every packet).
    fn family_match(&self) -> Match {
        let all = |net: ipnet::IpNet| Some(vec![Spanned::new(net, self.span)]);
        Match {
            src: match self.family.as_str() {
                "ip" => all(ipnet::IpNet::V4(ipnet::Ipv4Net::default())),
                "ip6" => all(ipnet::IpNet::V6(ipnet::Ipv6Net::default())),
                _ => None,
            },
            ..Match::default()
        }
    }

    /// The policy as a rule, for where it is not the list's default.
    fn policy_rule(&self, family: &Match) -> Flat {
        Flat {
            action: self.policy.value,
            m: family.clone(),
            span: self.policy.span,
            name: Some(Spanned::new(
                format!("policy of chain {}", self.display()),
                self.policy.span,
            )),
        }
    }
}

/// One rule of the flat list, before it becomes a model rule.
struct Flat {
    action: Action,
    m: Match,
    span: Span,
    name: Option<Spanned<String>>,
}

impl Flat {
    /// The model's rule; `None` when it can match no required flow.
    fn into_rule(
        mut self,
        family: &Match,
        unsupported: &mut Vec<Unsupported>,
    ) -> Option<FirewallRule> {
        self.m = self.m.and(family);
        if self.m.is_never() {
            return None;
        }
        let m = self.m;
        let mut uncertain = m.uncertain;
        if let Some(sports) = &m.sports {
            let (_, outside) = intervals::split(&[matching::EPHEMERAL], &sports.value);
            if !outside.is_empty() {
                unsupported.push(Unsupported {
                    construct: "source ports that hold part of the ephemeral range 49152-65535"
                        .into(),
                    consequence: "the rule's verdicts are indeterminate".into(),
                    span: sports.span,
                });
                uncertain.get_or_insert(sports.span);
            }
        }
        let endpoints = |nets: &Option<Vec<Spanned<ipnet::IpNet>>>| match nets {
            None => vec![Spanned::new(Endpoint::Any, self.span)],
            Some(nets) => nets
                .iter()
                .map(|n| Spanned::new(Endpoint::Cidr(n.value), n.span))
                .collect(),
        };
        let protos = m.protos.unwrap_or(matching::ALL) & matching::MODELLED;
        let (tcp, udp, icmp) = if protos == matching::MODELLED && m.dports.is_none() {
            (None, None, false)
        } else {
            let ports = match &m.dports {
                Some(p) => Spanned::new(
                    PortList {
                        items: p
                            .value
                            .iter()
                            .filter(|&&(_, b)| b >= 1)
                            .map(|&(a, b)| {
                                PortItem::Range(
                                    u16::try_from(a.max(1)).unwrap_or(u16::MAX),
                                    u16::try_from(b).unwrap_or(u16::MAX),
                                )
                            })
                            .collect(),
                    },
                    p.span,
                ),
                None => Spanned::new(
                    PortList {
                        items: vec![PortItem::Range(1, 65535)],
                    },
                    self.span,
                ),
            };
            if ports.value.items.is_empty() && protos & matching::ICMP == 0 {
                return None;
            }
            (
                (protos & matching::TCP != 0).then(|| ports.clone()),
                (protos & matching::UDP != 0).then(|| ports.clone()),
                protos & matching::ICMP != 0,
            )
        };
        Some(FirewallRule {
            action: self.action,
            name: self.name,
            traffic: Traffic {
                from: endpoints(&m.src),
                to: endpoints(&m.dst),
                tcp,
                udp,
                icmp,
            },
            guard: RuleGuard::Always,
            uncertain,
            span: self.span,
        })
    }
}

/// A rule's verdict.
enum Verdict<'d> {
    Accept,
    Drop,
    Jump(&'d str, Span),
    Goto(&'d str, Span),
    Return,
}

/// The chains, rules and sets of the ruleset.
struct Ruleset<'d> {
    chains: Vec<Chain>,
    /// `{"rule": ...}` objects by (family, table, chain), in file order.
    rules: HashMap<(String, String, String), Vec<&'d JsonNode>>,
    sets: Sets<'d>,
    /// Rule visits left while inlining ([`MAX_VISITS`]).
    visits: std::cell::Cell<usize>,
}

/// A required string member.
fn member<'d>(obj: &'d JsonNode, key: &str) -> Result<&'d str, SourceError> {
    obj.get(key)
        .and_then(JsonNode::as_str)
        .ok_or_else(|| SourceError::at(obj.span, format!("this object needs a string `{key}`")))
}

impl<'d> Ruleset<'d> {
    fn collect(objects: &'d [JsonNode]) -> Result<Self, SourceError> {
        let mut chains = Vec::new();
        let mut rules: HashMap<_, Vec<&'d JsonNode>> = HashMap::new();
        let mut sets = Sets::new();
        for obj in objects {
            if let Some(c) = obj.get("chain") {
                chains.push(Self::chain(obj, c)?);
            } else if let Some(r) = obj.get("rule") {
                let key = (
                    member(r, "family")?.to_owned(),
                    member(r, "table")?.to_owned(),
                    member(r, "chain")?.to_owned(),
                );
                rules.entry(key).or_default().push(obj);
            } else if let Some(s) = obj.get("set").or_else(|| obj.get("map")) {
                let key = (
                    member(s, "family")?.to_owned(),
                    member(s, "table")?.to_owned(),
                    member(s, "name")?.to_owned(),
                );
                sets.insert(key, s);
            }
        }
        Ok(Self {
            chains,
            rules,
            sets,
            visits: std::cell::Cell::new(MAX_VISITS),
        })
    }

    fn chain(obj: &'d JsonNode, c: &'d JsonNode) -> Result<Chain, SourceError> {
        let prio = match c.get("prio") {
            None => 0,
            Some(p) => match (&p.value, p.as_i64()) {
                (_, Some(n)) => n,
                (Json::String(s), _) => named_priority(s).ok_or_else(|| {
                    SourceError::at(p.span, format!("unknown chain priority `{s}`"))
                })?,
                _ => return Err(SourceError::at(p.span, "a chain priority is a number")),
            },
        };
        let policy = match c.get("policy") {
            None => Spanned::new(Action::Allow, obj.span),
            Some(p) => match p.as_str() {
                Some("accept") => Spanned::new(Action::Allow, p.span),
                Some("drop") => Spanned::new(Action::Deny, p.span),
                _ => {
                    return Err(SourceError::at(
                        p.span,
                        "a chain policy is `accept` or `drop`",
                    ));
                }
            },
        };
        let text = |k: &str| c.get(k).and_then(JsonNode::as_str).map(str::to_owned);
        Ok(Chain {
            family: member(c, "family")?.to_owned(),
            table: member(c, "table")?.to_owned(),
            name: member(c, "name")?.to_owned(),
            hook: text("hook"),
            kind: text("type"),
            prio,
            policy,
            span: obj.span,
        })
    }

    fn flatten_base(
        &self,
        chain: &Chain,
        unsupported: &mut Vec<Unsupported>,
    ) -> Result<Vec<Flat>, SourceError> {
        let mut out = Vec::new();
        let mut stack = Vec::new();
        self.flatten(
            chain,
            &chain.name,
            &Match::default(),
            Return::Policy,
            &mut stack,
            &mut out,
            unsupported,
        )?;
        Ok(out)
    }

    /// Appends the rules of `name` (in the base chain's table) to `out`, each narrowed by
    /// `guard`. `ret`: what the end of the chain (or `return`) means.
    #[allow(clippy::too_many_arguments)]
    fn flatten(
        &self,
        base: &Chain,
        name: &str,
        guard: &Match,
        ret: Return,
        stack: &mut Vec<String>,
        out: &mut Vec<Flat>,
        unsupported: &mut Vec<Unsupported>,
    ) -> Result<(), SourceError> {
        let key = (base.family.clone(), base.table.clone(), name.to_owned());
        let scope = Scope {
            family: &base.family,
            table: &base.table,
            sets: &self.sets,
        };
        // Matches after which the rest of this chain is skipped (a conditional `return`,
        // a `goto` inside a jumped-to chain): later rules that overlap them are uncertain.
        let mut skips: Vec<(Match, Span)> = Vec::new();
        stack.push(name.to_owned());
        'rules: for obj in self.rules.get(&key).map_or(&[][..], Vec::as_slice) {
            let left = self.visits.get();
            if left == 0 {
                return Err(SourceError::at(
                    obj.span,
                    format!(
                        "the chains' jumps reach more than {MAX_VISITS} rules: cmflow stops here"
                    ),
                ));
            }
            self.visits.set(left - 1);
            let rule = obj.get("rule").unwrap_or(obj);
            let name = rule
                .get("comment")
                .and_then(|c| Some(Spanned::new(c.as_str()?.to_owned(), c.span)));
            for (own, verdict) in Self::subrules(rule, &scope, unsupported)? {
                let mut m = guard.and(&own);
                if m.is_never() {
                    continue;
                }
                if let Some((_, span)) = skips.iter().find(|(s, _)| !m.and(s).is_never()) {
                    m.uncertain.get_or_insert(*span);
                }
                let flat = |action| Flat {
                    action,
                    m: m.clone(),
                    span: obj.span,
                    name: name.clone(),
                };
                if out.len() >= MAX_RULES {
                    return Err(SourceError::at(
                        obj.span,
                        format!(
                            "the chains' jumps multiply out to more than {MAX_RULES} rules: cmflow stops here"
                        ),
                    ));
                }
                match verdict {
                    Some(Verdict::Accept) => out.push(flat(Action::Allow)),
                    Some(Verdict::Drop) => out.push(flat(Action::Deny)),
                    Some(Verdict::Jump(target, span)) => {
                        self.enter(
                            base,
                            target,
                            span,
                            &m,
                            Return::SkipRest,
                            stack,
                            out,
                            unsupported,
                        )?;
                    }
                    Some(Verdict::Goto(target, span)) => {
                        self.enter(base, target, span, &m, ret, stack, out, unsupported)?;
                    }
                    Some(Verdict::Return) | None => {}
                }
                // After a `goto` (once the target chain ends) or a `return`, this chain
                // ends for the flows the rule matches.
                if matches!(verdict, Some(Verdict::Goto(..) | Verdict::Return))
                    && Self::end_of_chain(
                        base,
                        ret,
                        &m,
                        &own,
                        obj.span,
                        &mut skips,
                        out,
                        unsupported,
                    )
                {
                    break 'rules;
                }
            }
        }
        stack.pop();
        Ok(())
    }

    /// What leaving the chain early means for the flows `m` matches: the base chain's
    /// policy, or skipping the rest of a jumped-to chain. Returns whether the rest of
    /// the chain is unreachable (an unconditional leave).
    #[allow(clippy::too_many_arguments)]
    fn end_of_chain(
        base: &Chain,
        ret: Return,
        m: &Match,
        own: &Match,
        span: Span,
        skips: &mut Vec<(Match, Span)>,
        out: &mut Vec<Flat>,
        unsupported: &mut Vec<Unsupported>,
    ) -> bool {
        let unconditional = own.src.is_none()
            && own.dst.is_none()
            && own.protos.is_none()
            && own.dports.is_none()
            && own.sports.is_none()
            && own.uncertain.is_none();
        match ret {
            Return::Policy => {
                out.push(Flat {
                    action: base.policy.value,
                    m: m.clone(),
                    span,
                    name: Some(Spanned::new(
                        format!("policy of chain {}", base.display()),
                        base.policy.span,
                    )),
                });
            }
            Return::SkipRest if !unconditional => {
                unsupported.push(Unsupported {
                    construct: "a conditional `return` or `goto` in a chain reached by `jump`"
                        .into(),
                    consequence: "the later rules of that chain are indeterminate for the \
                                  flows it matches"
                        .into(),
                    span,
                });
                skips.push((m.clone(), span));
            }
            Return::SkipRest => {}
        }
        unconditional
    }

    #[allow(clippy::too_many_arguments)]
    fn enter(
        &self,
        base: &Chain,
        target: &str,
        span: Span,
        guard: &Match,
        ret: Return,
        stack: &mut Vec<String>,
        out: &mut Vec<Flat>,
        unsupported: &mut Vec<Unsupported>,
    ) -> Result<(), SourceError> {
        if stack.iter().any(|c| c == target) || stack.len() >= MAX_DEPTH {
            return Err(SourceError::at(
                span,
                format!(
                    "`{target}` jumps back into itself (chains {})",
                    stack.join(" -> ")
                ),
            ));
        }
        let exists = self
            .chains
            .iter()
            .any(|c| c.family == base.family && c.table == base.table && c.name == target);
        if !exists {
            return Err(SourceError::at(
                span,
                format!(
                    "chain `{target}` is not in table `{} {}`",
                    base.family, base.table
                ),
            ));
        }
        self.flatten(base, target, guard, ret, stack, out, unsupported)
    }

    /// A rule as (its own match, its verdict) pairs: one, or one per entry of a verdict
    /// map.
    fn subrules(
        rule: &'d JsonNode,
        scope: &Scope<'_, 'd>,
        unsupported: &mut Vec<Unsupported>,
    ) -> Result<Vec<(Match, Option<Verdict<'d>>)>, SourceError> {
        let mut m = Match::default();
        let mut findings = Findings { out: unsupported };
        let mut verdict = None;
        let mut vmap = None;
        let exprs = rule.get("expr").map_or(&[][..], JsonNode::items);
        for stmt in exprs {
            let Json::Object(members) = &stmt.value else {
                return Err(SourceError::at(stmt.span, "a statement is an object"));
            };
            let Some((kind, _, body)) = members.first() else {
                return Err(SourceError::at(stmt.span, "an empty statement"));
            };
            match kind.as_str() {
                "match" => matching::apply(body, scope, &mut m, &mut findings)?,
                "accept" => verdict = Some(Verdict::Accept),
                "drop" | "reject" => verdict = Some(Verdict::Drop),
                "jump" | "goto" => {
                    let target =
                        body.get("target")
                            .and_then(JsonNode::as_str)
                            .ok_or_else(|| {
                                SourceError::at(
                                    body.span,
                                    format!("`{kind}` needs a `target` chain"),
                                )
                            })?;
                    verdict = Some(if kind == "jump" {
                        Verdict::Jump(target, stmt.span)
                    } else {
                        Verdict::Goto(target, stmt.span)
                    });
                }
                "return" => verdict = Some(Verdict::Return),
                "vmap" => vmap = Some(body),
                // `continue`, and statements that count, log, mark or track without
                // deciding.
                "continue" | "counter" | "log" | "mangle" | "notrack" | "set" | "ct helper"
                | "ct timeout" | "ct expectation" | "dup" | "flow" => {}
                "queue" => {
                    // Userspace decides: a drop cmflow cannot be sure of.
                    findings.unsupported(&mut m, "`queue` to userspace".into(), stmt.span);
                    verdict = Some(Verdict::Drop);
                }
                "limit" | "quota" | "meter" | "connlimit" => findings.unsupported(
                    &mut m,
                    format!("`{kind}` (it decides whether the rule matches)"),
                    stmt.span,
                ),
                other => findings.unsupported(&mut m, format!("statement `{other}`"), stmt.span),
            }
        }
        let Some(vmap) = vmap else {
            return Ok(vec![(m, verdict)]);
        };
        // `KEY vmap { V1 : accept, V2 : drop }`: one rule per entry.
        let Some(key) = vmap.get("key") else {
            return Err(SourceError::at(vmap.span, "a `vmap` needs a `key`"));
        };
        let entries = match vmap.get("data") {
            Some(d) if d.get("set").is_some() => d.get("set").map_or(&[][..], JsonNode::items),
            Some(d) => {
                findings.unsupported(
                    &mut m,
                    format!("verdict map {}", matching::short(d)),
                    d.span,
                );
                return Ok(vec![(m, Some(Verdict::Drop))]);
            }
            None => return Err(SourceError::at(vmap.span, "a `vmap` needs `data`")),
        };
        let mut out = Vec::new();
        for entry in entries {
            let [value, target] = entry.items() else {
                return Err(SourceError::at(
                    entry.span,
                    "a verdict map entry is [VALUE, VERDICT]",
                ));
            };
            let synthetic = JsonNode {
                value: Json::Object(vec![
                    ("left".into(), key.span, key.clone()),
                    ("right".into(), value.span, value.clone()),
                ]),
                span: entry.span,
            };
            let mut own = m.clone();
            matching::apply(&synthetic, scope, &mut own, &mut findings)?;
            let v = match &target.value {
                Json::Object(members) => match members.first().map(|(k, _, b)| (k.as_str(), b)) {
                    Some(("accept", _)) => Some(Verdict::Accept),
                    Some(("drop" | "reject", _)) => Some(Verdict::Drop),
                    Some(("return", _)) => Some(Verdict::Return),
                    Some(("continue", _)) => None,
                    Some((k @ ("jump" | "goto"), b)) => {
                        let t = b.get("target").and_then(JsonNode::as_str).ok_or_else(|| {
                            SourceError::at(b.span, format!("`{k}` needs a `target` chain"))
                        })?;
                        Some(if k == "jump" {
                            Verdict::Jump(t, target.span)
                        } else {
                            Verdict::Goto(t, target.span)
                        })
                    }
                    _ => {
                        return Err(SourceError::at(target.span, "expected a verdict"));
                    }
                },
                _ => return Err(SourceError::at(target.span, "expected a verdict")),
            };
            out.push((own, v));
        }
        Ok(out)
    }
}

/// What the end of a chain means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Return {
    /// The base chain's policy decides.
    Policy,
    /// Back in the chain that jumped here: the rest of this chain is skipped.
    SkipRest,
}

/// The standard priority names of the filter chain type (nft(8), "CHAINS").
fn named_priority(s: &str) -> Option<i64> {
    let (name, offset) = match s.split_once(['+', '-']) {
        Some((n, o)) => {
            let o: i64 = o.trim().parse().ok()?;
            (n.trim(), if s.contains('-') { -o } else { o })
        }
        None => (s.trim(), 0),
    };
    let base = match name {
        "raw" => -300,
        "mangle" => -150,
        "dstnat" => -100,
        "filter" => 0,
        "security" => 50,
        "srcnat" => 100,
        _ => return None,
    };
    Some(base + offset)
}

#[cfg(test)]
mod tests;
