//! Flow instantiation (placeholder until the catalog lands).

use crate::model::{Model, Protocol};

use super::Phase;

/// One end of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlowEndpoint {
    Server(usize),
    Clients(usize),
    Console(usize),
    Cloud(usize),
    Internet,
}

/// Why a flow is required: one catalog row or user `flow`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowService {
    pub service: String,
    pub source_role: String,
    pub destination_role: String,
    pub reference: String,
}

/// A flow the model requires: one per source, destination, protocol and ports.
#[derive(Clone, Debug)]
pub struct RequiredFlow {
    pub source: FlowEndpoint,
    pub destination: FlowEndpoint,
    pub protocol: Protocol,
    pub ports: (u16, u16),
    pub phase: Phase,
    pub services: Vec<FlowService>,
}

pub fn required_flows(_model: &Model, _phases: &[Phase]) -> Vec<RequiredFlow> {
    Vec::new()
}
