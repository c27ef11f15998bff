//! What a re-check takes over from the previous check of the same workspace (the
//! language server after an edit): each stage's result, when the parts of the model that
//! stage reads are equal.
//!
//! - **Flows** read the hierarchy (sites, servers with their Windows Firewalls, client
//!   groups, consoles, cloud services, user flows, boundary groups, waivers, the catalog
//!   choice) and the zones; with waivers also the firewalls' names and zones (a waiver is
//!   matched on the network's places, which firewalls' zones add to). When only what some
//!   servers' roles, instances, settings or Windows Firewalls say changed, each keeping
//!   its places, only those servers' flows are computed again
//!   (`engine::required_flows_after_server_edit`), and only they are evaluated.
//! - **Verdicts**, once the flows are taken over, read the zones and the firewalls. When
//!   every firewall keeps its name and zones, every route stays the same, and only the
//!   flows an edited rule may decide are evaluated again (`engine::reevaluate`): a
//!   firewall's rules are compared by what they match and do, not where they are written,
//!   so the rules before and after the edited ones keep their decisions.
//! - **Rule findings**: those of the checks of the model alone (`rules::run_model`) when
//!   the flow inputs are equal; every check's when the whole model is equal (an edit of a
//!   comment or a blank line), with the same phases. Either only when no finding's fix
//!   edits a file whose text changed (a fix is computed from the text around its span).
//! - **Rule spaces** (what each firewall rule matches, for the rule-set checks) of the
//!   rules an edit left alike, in the same network.
//!
//! Equality includes spans wherever the result holds spans (the model, the findings), so
//! an edit that moves such a node recomputes whatever reads it; flows, verdicts and rule
//! spaces hold none, and compare values. A stage is taken over only when running it again
//! would give the same result, which the tests check against a cold check. This module
//! decides; `check` runs the stages.

use super::RuleFindings;
use crate::diag::Diagnostic;
use crate::engine::{
    FlowVerdict, Network, Phase, RequiredFlow, Route, RuleSpace, RulesEdit, Verdict, evaluate,
    reevaluate, same_places,
};
use crate::model::{
    Endpoint, Firewall, FirewallRule, Model, PortList, ServerId, Spanned, Traffic, ignoring_spans,
};

/// The parts of a check kept for the next one, besides its flows and verdicts.
#[derive(Debug, Default)]
pub struct Reusable {
    pub(super) phases: Vec<Phase>,
    /// What the checks found over `phases`.
    pub(super) found: RuleFindings,
    /// The spaces of the firewalls' rules, by firewall and rule, where known.
    pub(super) rule_spaces: Vec<Vec<Option<RuleSpace>>>,
    /// What this check took over from the one before.
    pub(super) taken_over: TakenOver,
}

/// What a check took over from the one before (for the tests and the benchmark).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TakenOver {
    pub flows: bool,
    /// How many servers' flows were computed again, the others' taken over (0 when the
    /// flows were taken over or computed whole).
    pub changed_servers: usize,
    /// How many flows were evaluated (all of them when the verdicts were not taken over).
    pub evaluated: usize,
    /// The findings of the checks of the model alone (`rules::run_model`).
    pub model_findings: bool,
    /// Every check's findings.
    pub rule_findings: bool,
}

impl Reusable {
    pub fn taken_over(&self) -> TakenOver {
        self.taken_over
    }
}

/// Whether `a` and `b` require the same flows: their flow inputs say the same, wherever
/// they are written (flows hold no span).
pub(super) fn same_flow_inputs(a: &Model, b: &Model) -> bool {
    ignoring_spans(|| same_flow_inputs_exactly(a, b))
}

/// Whether the flow inputs of `a` and `b` are equal, spans included (what the findings
/// of the checks of the model alone read).
pub(super) fn same_flow_inputs_exactly(a: &Model, b: &Model) -> bool {
    a.servers == b.servers && same_flow_inputs_but_servers(a, b)
}

/// The servers whose roles, SQL instances or settings an edit from `a` to `b` changed,
/// when it changed nothing else the flows read and every server kept its places
/// ([`same_places`]): `engine::required_flows_after_server_edit` then computes their
/// flows alone. Where things are written is ignored, as in [`same_flow_inputs`].
pub(super) fn changed_servers(a: &Model, b: &Model) -> Option<Vec<ServerId>> {
    ignoring_spans(|| {
        if a.servers.len() != b.servers.len() || !same_flow_inputs_but_servers(a, b) {
            return None;
        }
        let changed: Vec<ServerId> = (0..a.servers.len())
            .filter(|&s| a.servers[s] != b.servers[s])
            .collect();
        changed
            .iter()
            .all(|&s| same_places(&a.servers[s], &b.servers[s]))
            .then_some(changed)
    })
}

fn same_flow_inputs_but_servers(a: &Model, b: &Model) -> bool {
    a.catalog == b.catalog
        && a.zones == b.zones
        && a.sites == b.sites
        && a.clients == b.clients
        && a.consoles == b.consoles
        && a.cloud_services == b.cloud_services
        && a.flows == b.flows
        && a.boundary_groups == b.boundary_groups
        && a.waivers == b.waivers
        && (a.waivers.is_empty() || same_routes(&a.firewalls, &b.firewalls))
}

/// The verdicts of `flows` in `net`, taking over `previous` (the verdicts of the same
/// flows in `before`, a model with the same flow inputs) where the firewalls' edits leave
/// them: see [`reevaluate`]. Returns how many flows were evaluated.
pub(super) fn verdicts(
    net: &Network<'_>,
    flows: &[RequiredFlow],
    before: &Model,
    previous: Vec<FlowVerdict>,
) -> (Vec<FlowVerdict>, usize) {
    let (old, new) = (&before.firewalls, &net.model.firewalls);
    if !same_routes(old, new) || previous.len() != flows.len() {
        return (evaluate(net, flows), flows.len());
    }
    let edits: Vec<RulesEdit> = old
        .iter()
        .zip(new)
        .enumerate()
        .filter_map(|(f, (a, b))| rules_edit(f, a, b))
        .collect();
    reevaluate(net, flows, previous, &edits)
}

/// The verdicts of `flows` (computed again for some servers) in `net`, taking over
/// `previous` (the verdicts of `before`'s flows) for each flow kept from it (`origins`,
/// parallel to `flows`: its index before). The network is the same (every host kept its
/// places); when a firewall changed too, every flow is evaluated. Returns how many flows
/// were evaluated.
pub(super) fn spliced_verdicts(
    net: &Network<'_>,
    flows: &[RequiredFlow],
    before: &Model,
    previous: Vec<FlowVerdict>,
    origins: &[Option<usize>],
) -> (Vec<FlowVerdict>, usize) {
    let (old, new) = (&before.firewalls, &net.model.firewalls);
    let unchanged = same_routes(old, new)
        && old
            .iter()
            .zip(new)
            .enumerate()
            .all(|(f, (a, b))| rules_edit(f, a, b).is_none());
    if !unchanged {
        return (evaluate(net, flows), flows.len());
    }
    // Still sorted by source and destination, as `evaluate` needs.
    let again: Vec<RequiredFlow> = flows
        .iter()
        .zip(origins)
        .filter(|(_, o)| o.is_none())
        .map(|(f, _)| f.clone())
        .collect();
    let evaluated = again.len();
    let mut previous = previous;
    let mut fresh = evaluate(net, &again).into_iter();
    // Each origin is one flow before, taken once; in its place an empty verdict that
    // allocates nothing.
    let mut take = |i: usize| {
        let empty = FlowVerdict {
            verdict: Verdict::NoPath,
            route: Route::NoPath,
            decisions: Vec::new(),
        };
        std::mem::replace(&mut previous[i], empty)
    };
    let verdicts: Option<Vec<FlowVerdict>> = origins
        .iter()
        .map(|o| match o {
            Some(i) => Some(take(*i)),
            None => fresh.next(),
        })
        .collect();
    match verdicts {
        Some(verdicts) => (verdicts, evaluated),
        // Not reached: `again` holds every flow without an origin.
        None => (evaluate(net, flows), flows.len()),
    }
}

/// Whether two models with the same flow inputs have the same network: routes and the
/// network's places read the firewalls' names and zones, not where they are written.
fn same_routes(old: &[Firewall], new: &[Firewall]) -> bool {
    old.len() == new.len()
        && old.iter().zip(new).all(|(a, b)| {
            a.name.value == b.name.value
                && a.zones.len() == b.zones.len()
                && a.zones
                    .iter()
                    .zip(&b.zones)
                    .all(|(x, y)| x.value == y.value)
        })
}

/// The spaces of `model`'s rules known from `before`'s (`spaces`, by firewall and rule),
/// given that every host kept its places (the flow inputs are the same, or only servers'
/// settings changed) and so the network is the same once the firewalls keep their names
/// and zones: a rule's space reads the network and
/// the rule's traffic, so a rule keeps the space of the rule it was before the edit (the
/// rules before and after the replaced ones, as in [`rules_edit`]) when their traffic is
/// alike.
pub(super) fn rule_spaces(
    before: &Model,
    model: &Model,
    mut spaces: Vec<Vec<Option<RuleSpace>>>,
) -> Vec<Vec<Option<RuleSpace>>> {
    let (old, new) = (&before.firewalls, &model.firewalls);
    if !same_routes(old, new) || spaces.len() != old.len() {
        return Vec::new();
    }
    old.iter()
        .zip(new)
        .zip(&mut spaces)
        .map(|((a, b), known)| {
            let (a, b) = (&a.rules, &b.rules);
            let mut out: Vec<Option<RuleSpace>> = vec![None; b.len()];
            if known.len() != a.len() {
                return out;
            }
            let (prefix, suffix) = alike_ends(a, b, |x, y| traffic_alike(&x.traffic, &y.traffic));
            for i in 0..prefix {
                out[i] = known[i].take();
            }
            for k in 1..=suffix {
                out[b.len() - k] = known[a.len() - k].take();
            }
            out
        })
        .collect()
}

/// What an edit did to a firewall's rules: the shortest run of rules replaced, between
/// the rules before and after it that decide alike; `None` when every rule and the
/// default decide as before (the firewall may have moved in its file).
fn rules_edit(firewall: usize, before: &Firewall, after: &Firewall) -> Option<RulesEdit> {
    let (a, b) = (&before.rules, &after.rules);
    let (prefix, suffix) = alike_ends(a, b, decide_alike);
    let edit = RulesEdit {
        firewall,
        old: prefix..a.len() - suffix,
        new: prefix..b.len() - suffix,
        default_changed: before.default != after.default,
    };
    (!edit.old.is_empty() || !edit.new.is_empty() || edit.default_changed).then_some(edit)
}

/// How many rules at the start and, after those, at the end of `a` and `b` are alike:
/// an edit replaced the rules between them.
fn alike_ends(
    a: &[FirewallRule],
    b: &[FirewallRule],
    alike: impl Fn(&FirewallRule, &FirewallRule) -> bool,
) -> (usize, usize) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| alike(x, y)).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| alike(x, y))
        .count();
    (prefix, suffix)
}

/// Whether two network firewall rules match and decide the same flows, wherever they are
/// written and whatever their names.
fn decide_alike(a: &FirewallRule, b: &FirewallRule) -> bool {
    a.action == b.action
        && a.guard == b.guard
        && a.uncertain.is_some() == b.uncertain.is_some()
        && traffic_alike(&a.traffic, &b.traffic)
}

/// Whether two traffic matches name the same endpoints and ports, wherever written.
fn traffic_alike(x: &Traffic, y: &Traffic) -> bool {
    let values = |x: &[Spanned<Endpoint>], y: &[Spanned<Endpoint>]| {
        x.len() == y.len() && x.iter().zip(y).all(|(x, y)| x.value == y.value)
    };
    let ports = |x: &Option<Spanned<PortList>>, y: &Option<Spanned<PortList>>| {
        x.as_ref().map(|p| &p.value) == y.as_ref().map(|p| &p.value)
    };
    values(&x.from, &y.from)
        && values(&x.to, &y.to)
        && ports(&x.tcp, &y.tcp)
        && ports(&x.udp, &y.udp)
        && x.icmp == y.icmp
}

/// Whether the rule findings of `before` (checked over `reusable.phases`) are those of
/// `model` over `phases`, given that the two have exactly the same flow inputs
/// ([`same_flow_inputs_exactly`]).
pub(super) fn same_rule_findings(
    before: &Model,
    reusable: &Reusable,
    model: &Model,
    phases: &[Phase],
) -> bool {
    let found = &reusable.found;
    reusable.phases == phases
        && before.firewalls == model.firewalls
        && before.policies == model.policies
        && before.severity_overrides == model.severity_overrides
        && before.suppressions == model.suppressions
        && same_model_findings(before, reusable, model)
        && fixes_hold(
            before,
            model,
            found.over_flows.iter().chain(&found.every_phase),
        )
}

/// Whether the findings of the checks of the model alone in `before` are those of
/// `model`, given that the two have exactly the same flow inputs
/// ([`same_flow_inputs_exactly`]): those read the hierarchy, the catalog choice and
/// which files did not parse.
pub(super) fn same_model_findings(before: &Model, reusable: &Reusable, model: &Model) -> bool {
    before.unparsed == model.unparsed
        && before.unparsed_words == model.unparsed_words
        && before.sources.len() == model.sources.len()
        && before
            .sources
            .iter()
            .zip(model.sources.iter())
            .all(|((_, a), (_, b))| a.name == b.name)
        && fixes_hold(before, model, &reusable.found.model)
}

/// Whether no fix of `findings` edits a file whose text changed (a fix is computed from
/// the text around its span).
fn fixes_hold<'d>(
    before: &Model,
    model: &Model,
    findings: impl IntoIterator<Item = &'d Diagnostic>,
) -> bool {
    findings
        .into_iter()
        .filter_map(|d| d.fix.as_ref())
        .all(|fix| {
            let id = fix.span.source;
            before.sources.get(id).text == model.sources.get(id).text
        })
}

#[cfg(test)]
mod tests {
    use super::TakenOver;
    use crate::check::{Checked, Timings, check_loaded, recheck_loaded};
    use crate::engine::{Phase, required_flows};
    use crate::load::{InputText, ParseCache, load_cached};
    use crate::rules::SPEC_CODES;

    const FILES: [&str; 7] = [
        "boundaries.kdl",
        "clients.kdl",
        "firewalls.kdl",
        "infrastructure.kdl",
        "network.kdl",
        "policies.kdl",
        "sites.kdl",
    ];

    /// The Contoso example, its waiver left out unless `waiver`.
    fn contoso(waiver: bool) -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/contoso");
        FILES
            .iter()
            .map(|name| {
                let mut text = std::fs::read_to_string(dir.join(name)).expect("the example");
                if !waiver {
                    text = text.replace("\nwaive ", "\n// waive ");
                }
                (name.to_string(), text)
            })
            .collect()
    }

    fn inputs(files: &[(String, String)]) -> Vec<InputText> {
        files
            .iter()
            .map(|(name, text)| InputText {
                name: name.clone(),
                bytes: text.clone().into_bytes(),
                builtin: false,
                path: None,
            })
            .collect()
    }

    fn edit(files: &[(String, String)], file: &str, from: &str, to: &str) -> Vec<(String, String)> {
        let mut files = files.to_vec();
        let (_, text) = files.iter_mut().find(|(n, _)| n == file).expect("the file");
        assert!(text.contains(from), "{from:?} is in {file}");
        *text = text.replacen(from, to, 1);
        files
    }

    fn cold(files: &[(String, String)], phases: &[Phase]) -> Checked {
        let loaded = load_cached(inputs(files), SPEC_CODES, &mut ParseCache::default());
        check_loaded(loaded, phases, &Timings::off(), |m| {
            Ok::<_, ()>(required_flows(m, &Phase::ALL))
        })
        .expect("no limit")
    }

    /// Checks `before`, then `after` taking over from that check; asserts the result is
    /// a cold check's of `after` and returns what was taken over.
    fn recheck(
        before: &[(String, String)],
        after: &[(String, String)],
        phases: (&[Phase], &[Phase]),
    ) -> TakenOver {
        let mut cache = ParseCache::default();
        let check = |files, previous, phases, cache: &mut ParseCache| {
            let loaded = load_cached(inputs(files), SPEC_CODES, cache);
            recheck_loaded(loaded, previous, phases, &Timings::off(), |m| {
                Ok::<_, ()>(required_flows(m, &Phase::ALL))
            })
            .expect("no limit")
        };
        let mut first = check(before, None, phases.0, &mut cache);
        let second = check(after, Some(&mut first), phases.1, &mut cache);
        let expected = cold(after, phases.1);
        assert_eq!(
            format!("{:?}", second.flows),
            format!("{:?}", expected.flows)
        );
        assert_eq!(
            format!("{:?}", second.verdicts),
            format!("{:?}", expected.verdicts)
        );
        assert_eq!(second.diagnostics, expected.diagnostics);
        assert_eq!(second.in_phases, expected.in_phases);
        second.reusable.expect("kept").taken_over()
    }

    const OPERATION: (&[Phase], &[Phase]) = (&[Phase::Operation], &[Phase::Operation]);

    fn flow_count(files: &[(String, String)]) -> usize {
        cold(files, &[Phase::Operation]).flows.len()
    }

    #[test]
    fn a_comment_takes_over_every_stage() {
        // Nothing moves: the same text length before every node.
        let base = contoso(false);
        assert!(
            !cold(&base, &[Phase::Operation]).diagnostics.is_empty(),
            "the example without its waiver has findings to compare"
        );
        let after = edit(&base, "sites.kdl", "// Central", "// CENTRAL");
        assert_eq!(
            recheck(&base, &after, OPERATION),
            TakenOver {
                flows: true,
                changed_servers: 0,
                evaluated: 0,
                model_findings: true,
                rule_findings: true
            }
        );
        // At the end of a file.
        let mut after = base.clone();
        after[2].1.push_str("// a comment\n");
        let taken = recheck(&base, &after, OPERATION);
        assert_eq!(
            taken,
            TakenOver {
                flows: true,
                changed_servers: 0,
                evaluated: 0,
                model_findings: true,
                rule_findings: true
            }
        );
    }

    #[test]
    fn a_firewall_rule_edit_evaluates_the_flows_crossing_that_firewall() {
        let base = contoso(false);
        let after = edit(&base, "firewalls.kdl", "tcp=\"3268\"\n", "tcp=\"3269\"\n");
        let taken = recheck(&base, &after, OPERATION);
        assert!(
            taken.flows && taken.model_findings && !taken.rule_findings,
            "{taken:?}"
        );
        assert!(
            taken.evaluated > 0 && taken.evaluated < flow_count(&after),
            "{taken:?}"
        );
    }

    #[test]
    fn with_waivers_only_a_firewalls_zones_compute_the_flows_again() {
        let base = contoso(true);
        let after = edit(&base, "firewalls.kdl", "tcp=\"3268\"\n", "tcp=\"3269\"\n");
        let taken = recheck(&base, &after, OPERATION);
        assert!(taken.flows && !taken.rule_findings, "{taken:?}");
        assert!(taken.evaluated < flow_count(&after), "{taken:?}");
        let zones = edit(&base, "firewalls.kdl", "\"branch-munich\"\n", "\n");
        let taken = recheck(&base, &zones, OPERATION);
        assert!(!taken.flows && !taken.rule_findings, "{taken:?}");
    }

    /// The rules of fw-core, each line of its block that holds one replaced by `edit`.
    fn edit_core_rules(
        files: &[(String, String)],
        edit: impl FnOnce(&mut Vec<String>),
    ) -> Vec<(String, String)> {
        let mut files = files.to_vec();
        let text = &mut files[2].1;
        let start = text.find("firewall \"fw-core\"").expect("fw-core");
        let end = start + text[start..].find("\n}\n").expect("its end");
        let mut rules: Vec<String> = text[start..end]
            .lines()
            .filter(|l| l.starts_with("    allow ") || l.starts_with("    deny "))
            .map(str::to_owned)
            .collect();
        edit(&mut rules);
        let head = "firewall \"fw-core\" default=\"deny\" {\n    zones \"datacenter\" \"hq\" \"amsterdam\" \"branch-chicago\" \"branch-dallas\" \"branch-munich\"\n";
        let block = format!("{head}{}", rules.join("\n"));
        text.replace_range(start..end, &block);
        files
    }

    #[test]
    fn a_rule_added_or_removed_evaluates_only_the_flows_it_may_decide() {
        let base = contoso(false);
        let flows = flow_count(&base);
        // The block rewritten without its comments: every rule moves, none changes.
        let moved = edit_core_rules(&base, |_| {});
        let taken = recheck(&base, &moved, OPERATION);
        assert_eq!(taken.evaluated, 0, "{taken:?}");
        for after in [
            // A rule inserted first, and one deleted: the rules after it are renumbered.
            edit_core_rules(&moved, |r| {
                r.insert(
                    0,
                    "    allow \"web\" from=\"clients:HQ desktops\" to=\"any\" tcp=\"8080\"".into(),
                );
            }),
            edit_core_rules(&moved, |r| {
                r.remove(4);
            }),
            // A rule that now denies what it allowed.
            edit_core_rules(&moved, |r| r[1] = r[1].replacen("allow", "deny", 1)),
        ] {
            let taken = recheck(&moved, &after, OPERATION);
            assert!(taken.flows && !taken.rule_findings, "{taken:?}");
            assert!(taken.evaluated < flows, "{taken:?}");
        }
        // The default decides every flow no rule allows.
        let allow = edit(
            &moved,
            "firewalls.kdl",
            "\"fw-core\" default=\"deny\"",
            "\"fw-core\" default=\"allow\"",
        );
        assert!(recheck(&moved, &allow, OPERATION).evaluated > 0);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Whatever rules an edit inserts, removes, copies or turns around, with or
        /// without a waiver in the model, the re-check gives a cold check's flows,
        /// verdicts and diagnostics (`recheck` asserts it).
        #[test]
        fn any_rule_edit_gives_a_cold_checks_result(
            steps in proptest::collection::vec((0..4_u8, 0..64_usize, 0..64_usize), 1..4),
            waiver: bool,
        ) {
            let base = edit_core_rules(&contoso(waiver), |_| {});
            let after = edit_core_rules(&base, |rules| {
                for (op, i, j) in steps {
                    let (i, j) = (i % rules.len(), j % rules.len());
                    match op {
                        0 => {
                            let rule = rules.remove(i);
                            if rules.is_empty() {
                                rules.push(rule);
                            }
                        }
                        1 => {
                            let rule = rules[i].clone();
                            rules.insert(j, rule);
                        }
                        2 => {
                            let rule = &mut rules[i];
                            *rule = if rule.contains("    allow ") {
                                rule.replacen("    allow ", "    deny ", 1)
                            } else {
                                rule.replacen("    deny ", "    allow ", 1)
                            };
                        }
                        _ => rules.insert(
                            j,
                            "    allow \"broad\" from=\"any\" to=\"role:site-server\" tcp=\"445,rpc\" udp=\"135\"".into(),
                        ),
                    }
                }
            });
            recheck(&base, &after, OPERATION);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Comments and blank lines anywhere, with or without an edit of a value the flows
        /// read: the re-check gives a cold check's flows, verdicts and diagnostics.
        #[test]
        fn moved_nodes_give_a_cold_checks_result(
            lines in proptest::collection::vec((0..FILES.len(), 0..400_usize, proptest::bool::ANY), 1..5),
            value in 0..3_usize,
        ) {
            let base = contoso(false);
            let mut after = base.clone();
            for (file, line, blank) in lines {
                let text = &mut after[file].1;
                let at = text
                    .match_indices('\n')
                    .nth(line % text.lines().count().max(1))
                    .map_or(text.len(), |(i, _)| i + 1);
                text.insert_str(at, if blank { "\n" } else { "// moved\n" });
            }
            let after = match value {
                0 => after,
                1 => edit(&after, "sites.kdl", "wsus-https=8531", "wsus-https=8533"),
                _ => edit(&after, "firewalls.kdl", "tcp=\"3268\"\n", "tcp=\"3269\"\n"),
            };
            let taken = recheck(&base, &after, OPERATION);
            proptest::prop_assert_eq!(taken.flows, value != 1);
        }
    }

    /// Edits of what a server's roles, SQL instances, settings or Windows Firewall say,
    /// none of a software update point: (file, from, to).
    const SERVER_EDITS: [(&str, &str, &str); 9] = [
        (
            "sites.kdl",
            "distribution-point pxe=#true",
            "distribution-point pxe=#false",
        ),
        (
            "sites.kdl",
            "cmg-connection-point site-server-initiates=#true",
            "cmg-connection-point site-server-initiates=#false",
        ),
        (
            "sites.kdl",
            "management-point http=#true https=#true",
            "management-point http=#true",
        ),
        (
            "sites.kdl",
            "sql-instance \"SQLEXPRESS\" port=1433",
            "sql-instance \"SQLEXPRESS\" port=14330",
        ),
        (
            "sites.kdl",
            "distribution-point http=#true https=#true\n",
            "distribution-point http=#true https=#true pxe=#true multicast=#true\n",
        ),
        (
            "sites.kdl",
            "tcp=\"80,443\" from=\"clients:HQ desktops\"",
            "tcp=\"443\" from=\"clients:HQ desktops\"",
        ),
        (
            "sites.kdl",
            "server \"cm-p02.contoso.com\" zone=\"datacenter\"",
            "server \"cm-p02.contoso.com\" network-profile=\"private\" zone=\"datacenter\"",
        ),
        // A site database, which its site's systems reach by the site's `database`.
        (
            "infrastructure.kdl",
            "sql-instance \"CM_P01\" port=14332",
            "sql-instance \"CM_P01\" port=14339",
        ),
        (
            "infrastructure.kdl",
            "domain-controller global-catalog=#true\n}\n\nserver \"dc02",
            "domain-controller global-catalog=#false\n}\n\nserver \"dc02",
        ),
    ];

    #[test]
    fn a_server_edit_computes_that_servers_flows_alone() {
        let base = contoso(false);
        let flows = flow_count(&base);
        for (file, from, to) in SERVER_EDITS {
            let after = edit(&base, file, from, to);
            let taken = recheck(&base, &after, OPERATION);
            assert!(
                !taken.flows && taken.changed_servers == 1,
                "{from}: {taken:?}"
            );
            assert!(taken.evaluated < flows, "{from}: {taken:?}");
        }
        // A software update point names its site's WSUS database for other flows.
        let sup = edit(&base, "sites.kdl", "wsus-https=8531", "wsus-https=8533");
        assert_eq!(recheck(&base, &sup, OPERATION).changed_servers, 0);
        // A role added changes the hierarchy's indexes.
        let role = edit(&base, "sites.kdl", "        sms-provider\n", "\n");
        assert_eq!(recheck(&base, &role, OPERATION).changed_servers, 0);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Any few server edits, with or without nodes moved, a rule of the core firewall
        /// changed and a waiver in the model: the re-check gives a cold check's flows,
        /// verdicts and diagnostics.
        #[test]
        fn server_edits_give_a_cold_checks_result(
            picks in proptest::collection::vec(0..SERVER_EDITS.len(), 1..4),
            moved: bool,
            rule: bool,
            waiver: bool,
        ) {
            let base = contoso(waiver);
            let mut after = base.clone();
            for pick in picks {
                let (file, from, to) = SERVER_EDITS[pick];
                if after.iter().any(|(name, text)| name == file && text.contains(from)) {
                    after = edit(&after, file, from, to);
                }
            }
            if moved {
                after = edit(&after, "sites.kdl", "// The", "//\n// The");
            }
            if rule {
                after = edit(&after, "firewalls.kdl", "tcp=\"3268\"\n", "tcp=\"3269\"\n");
            }
            let taken = recheck(&base, &after, OPERATION);
            proptest::prop_assert_eq!(taken.changed_servers > 0, !waiver);
        }
    }

    #[test]
    fn moving_a_firewall_or_its_zones_evaluates_every_flow() {
        let base = contoso(false);
        for after in [
            edit(&base, "firewalls.kdl", "\"branch-munich\"\n", "\n"),
            edit(
                &base,
                "firewalls.kdl",
                "firewall \"fw-edge\"",
                "firewall \"fw-dmz\"",
            ),
        ] {
            let taken = recheck(&base, &after, OPERATION);
            assert!(taken.flows, "{taken:?}");
            assert_eq!(taken.evaluated, flow_count(&after), "{taken:?}");
        }
    }

    #[test]
    fn a_hierarchy_edit_computes_every_stage_again() {
        let base = contoso(false);
        for after in [
            edit(&base, "sites.kdl", "        sms-provider\n", "\n"),
            edit(&base, "sites.kdl", "wsus-https=8531", "wsus-https=8533"),
        ] {
            let taken = recheck(&base, &after, OPERATION);
            assert!(
                !taken.flows && !taken.model_findings && !taken.rule_findings,
                "{taken:?}"
            );
        }
    }

    #[test]
    fn an_edit_that_moves_nodes_takes_over_the_flows_and_verdicts_not_the_findings() {
        let base = contoso(false);
        for after in [
            edit(&base, "network.kdl", "zone ", "// a comment\nzone "),
            edit(&base, "sites.kdl", "// The", "//\n// The"),
            edit(&base, "clients.kdl", "\n", "\n\n"),
        ] {
            let taken = recheck(&base, &after, OPERATION);
            assert_eq!(
                taken,
                TakenOver {
                    flows: true,
                    changed_servers: 0,
                    evaluated: 0,
                    model_findings: false,
                    rule_findings: false
                }
            );
        }
    }

    #[test]
    fn an_edit_in_the_file_of_a_fix_runs_the_checks_again() {
        // `wsus/https-port` has a fix (a fix may read the text around its span).
        let base = edit(
            &contoso(false),
            "sites.kdl",
            "wsus-https=8531",
            "wsus-https=8533",
        );
        let mut after = base.clone();
        after[6].1.push_str("// a comment\n");
        let taken = recheck(&base, &after, OPERATION);
        assert!(
            taken.flows && !taken.model_findings && !taken.rule_findings,
            "{taken:?}"
        );
        let mut elsewhere = base.clone();
        elsewhere[2].1.push_str("// a comment\n");
        assert!(recheck(&base, &elsewhere, OPERATION).rule_findings);
    }

    #[test]
    fn suppressions_and_phases_run_the_checks_again() {
        let base = contoso(false);
        let suppressed = edit(
            &base,
            "firewalls.kdl",
            "firewall \"fw-core\" default=\"deny\" {\n",
            "firewall \"fw-core\" default=\"deny\" {\n    suppress \"firewall/overly-broad\" reason=\"test\"\n",
        );
        let taken = recheck(&base, &suppressed, OPERATION);
        assert!(!taken.rule_findings, "{taken:?}");
        let taken = recheck(&base, &base, (&[Phase::Operation], &Phase::ALL));
        assert_eq!(
            taken,
            TakenOver {
                flows: true,
                changed_servers: 0,
                evaluated: 0,
                model_findings: true,
                rule_findings: false
            }
        );
    }
}
