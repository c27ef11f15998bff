//! What a re-check takes over from the previous check of the same workspace (the
//! language server after an edit): each stage's result, when the parts of the model that
//! stage reads are equal.
//!
//! - **Flows** read the hierarchy (sites, servers with their Windows Firewalls, client
//!   groups, consoles, cloud services, user flows, boundary groups, waivers, the catalog
//!   choice) and the zones; with waivers also the firewalls (a waiver is matched on the
//!   network's places).
//! - **Verdicts**, once the flows are taken over, read the zones and the firewalls. When
//!   every firewall keeps its name and zones, every route stays the same, and only the
//!   flows crossing a firewall that changed are evaluated again: a decision is one
//!   firewall's, by the index of its rule.
//! - **Rule findings** read the whole model. They are taken over when it is equal (an edit
//!   of a comment or a blank line), the phases are the same, and no finding's fix edits a
//!   file whose text changed (a fix is computed from the text around its span).
//!
//! Equality includes spans, so an edit that moves a node recomputes whatever reads that
//! node: a stage is taken over only when running it again would give the same result,
//! which the tests check against a cold check. This module decides; `check` runs the
//! stages.

use crate::diag::Diagnostic;
use crate::engine::{FlowVerdict, Network, Phase, RequiredFlow, evaluate};
use crate::model::Model;

/// The parts of a check kept for the next one, besides its flows and verdicts.
#[derive(Debug, Default)]
pub struct Reusable {
    pub(super) phases: Vec<Phase>,
    /// What the checks found over `phases`, before severities and suppressions.
    pub(super) rule_findings: Vec<Diagnostic>,
    /// The same over every phase (judging suppressions); empty when not needed.
    pub(super) every_phase: Vec<Diagnostic>,
    /// What this check took over from the one before.
    pub(super) taken_over: TakenOver,
}

/// What a check took over from the one before (for the tests and the benchmark).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TakenOver {
    pub flows: bool,
    /// How many flows were evaluated (all of them when the verdicts were not taken over).
    pub evaluated: usize,
    pub rule_findings: bool,
}

impl Reusable {
    pub fn taken_over(&self) -> TakenOver {
        self.taken_over
    }
}

/// Whether `a` and `b` require the same flows.
pub(super) fn same_flow_inputs(a: &Model, b: &Model) -> bool {
    a.catalog == b.catalog
        && a.zones == b.zones
        && a.sites == b.sites
        && a.servers == b.servers
        && a.clients == b.clients
        && a.consoles == b.consoles
        && a.cloud_services == b.cloud_services
        && a.flows == b.flows
        && a.boundary_groups == b.boundary_groups
        && a.waivers == b.waivers
        && (a.waivers.is_empty() || a.firewalls == b.firewalls)
}

/// The verdicts of `flows` in `net`, taking over `previous` (the verdicts of the same
/// flows in `before`, a model with the same flow inputs) for the flows whose firewalls
/// are unchanged. Returns how many flows were evaluated.
pub(super) fn verdicts(
    net: &Network<'_>,
    flows: &[RequiredFlow],
    before: &Model,
    mut previous: Vec<FlowVerdict>,
) -> (Vec<FlowVerdict>, usize) {
    let (old, new) = (&before.firewalls, &net.model.firewalls);
    let same_routes = old.len() == new.len()
        && old
            .iter()
            .zip(new)
            .all(|(a, b)| a.name == b.name && a.zones == b.zones);
    if !same_routes || previous.len() != flows.len() {
        return (evaluate(net, flows), flows.len());
    }
    let changed: Vec<bool> = old.iter().zip(new).map(|(a, b)| a != b).collect();
    // Flows stay sorted: `evaluate` walks them by source and destination.
    let again: Vec<usize> = previous
        .iter()
        .enumerate()
        .filter(|(_, v)| v.firewalls().iter().any(|&f| changed[f]))
        .map(|(i, _)| i)
        .collect();
    if again.is_empty() {
        return (previous, 0);
    }
    if again.len() * 2 > flows.len() {
        // Most flows cross the changed firewalls (the core one): evaluating them all
        // costs less than copying most of them out first.
        return (evaluate(net, flows), flows.len());
    }
    let subset: Vec<RequiredFlow> = again.iter().map(|&i| flows[i].clone()).collect();
    for (i, verdict) in again.iter().zip(evaluate(net, &subset)) {
        previous[*i] = verdict;
    }
    (previous, again.len())
}

/// Whether the rule findings of `before` (checked over `reusable.phases`) are those of
/// `model` over `phases`, given that the two have the same flow inputs
/// ([`same_flow_inputs`]).
pub(super) fn same_rule_findings(
    before: &Model,
    reusable: &Reusable,
    model: &Model,
    phases: &[Phase],
) -> bool {
    reusable.phases == phases
        && before.firewalls == model.firewalls
        && before.policies == model.policies
        && before.severity_overrides == model.severity_overrides
        && before.suppressions == model.suppressions
        && before.unparsed == model.unparsed
        && before.unparsed_words == model.unparsed_words
        && before.sources.len() == model.sources.len()
        && before
            .sources
            .iter()
            .zip(model.sources.iter())
            .all(|((_, a), (_, b))| a.name == b.name)
        && reusable
            .rule_findings
            .iter()
            .chain(&reusable.every_phase)
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
        assert!(!expected.diagnostics.is_empty(), "the example has findings");
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
        let after = edit(&base, "sites.kdl", "// Central", "// CENTRAL");
        assert_eq!(
            recheck(&base, &after, OPERATION),
            TakenOver {
                flows: true,
                evaluated: 0,
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
                evaluated: 0,
                rule_findings: true
            }
        );
    }

    #[test]
    fn a_firewall_rule_edit_evaluates_the_flows_crossing_that_firewall() {
        let base = contoso(false);
        let after = edit(&base, "firewalls.kdl", "tcp=\"3268\"\n", "tcp=\"3269\"\n");
        let taken = recheck(&base, &after, OPERATION);
        assert!(taken.flows && !taken.rule_findings, "{taken:?}");
        assert!(
            taken.evaluated > 0 && taken.evaluated < flow_count(&after),
            "{taken:?}"
        );
    }

    #[test]
    fn a_firewall_edit_computes_the_flows_again_when_the_model_waives_some() {
        let base = contoso(true);
        let after = edit(&base, "firewalls.kdl", "tcp=\"3268\"\n", "tcp=\"3269\"\n");
        let taken = recheck(&base, &after, OPERATION);
        assert_eq!(taken.evaluated, flow_count(&after), "{taken:?}");
        assert!(!taken.flows && !taken.rule_findings, "{taken:?}");
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
            edit(&base, "network.kdl", "zone ", "// a comment\nzone "),
            edit(&base, "sites.kdl", "// The", "//\n// The"),
        ] {
            let taken = recheck(&base, &after, OPERATION);
            assert!(!taken.flows && !taken.rule_findings, "{taken:?}");
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
        assert!(taken.flows && !taken.rule_findings, "{taken:?}");
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
                evaluated: 0,
                rule_findings: false
            }
        );
    }
}
