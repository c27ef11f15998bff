//! The engine: instantiates the catalog over a model into [`RequiredFlow`]s.
//!
//! It reads the model and the catalog; it reports nothing itself (rules turn its results
//! into diagnostics) and prints nothing.

pub mod boundary;
mod evaluate;
mod flows;
mod hierarchy;
pub mod intent;
pub mod intervals;
mod network;
mod space;
pub mod waive;

pub use evaluate::{
    DecidedBy, Decision, Filter, FlowVerdict, Outcome, RulesEdit, Verdict, describe, evaluate,
    host_firewall, network_profile, reevaluate, rpc_range, rule_name, rule_ports,
};
pub use flows::{
    FlowEndpoint, FlowPorts, FlowService, MAX_FLOWS, Origin, RequiredFlow, TooManyFlows, pair_runs,
    required_flows, required_flows_after_server_edit, required_flows_bounded, required_flows_with,
    same_places,
};
pub use hierarchy::Hierarchy;
pub use network::{Network, Place, Route, Tri, ZoneId};
pub use space::{Region, RuleSpace, SpaceBuilder, covered_by, first_match, restrict};

/// When a flow is needed (`cli.md` § Phases).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Operation,
    Install,
    ClientInstall,
}

impl Phase {
    pub const ALL: [Phase; 3] = [Phase::Operation, Phase::Install, Phase::ClientInstall];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Operation => "operation",
            Phase::Install => "install",
            Phase::ClientInstall => "client-install",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Loads one model text for the engine's tests; fails on any load diagnostic.
#[cfg(test)]
pub(crate) fn test_model(kdl: &str) -> crate::model::Model {
    let loaded = crate::load::load_texts(
        vec![("m.kdl".into(), kdl.as_bytes().to_vec(), false)],
        crate::rules::SPEC_CODES,
    );
    assert!(
        loaded.diagnostics.is_empty(),
        "unexpected load diagnostics: {:#?}",
        loaded.diagnostics
    );
    loaded.model
}
