//! cmflow: a policy-as-code linter for Configuration Manager (SCCM/MECM) network flows
//! and firewalls.
//!
//! The modules are the pipeline, and data flows one way:
//! [`load`] (KDL files to a [`model::Model`] with spans) → [`model`] → [`catalog`] (the
//! built-in port catalog) → [`engine`] (required flows) → [`rules`] (the checks) →
//! [`report`] (one renderer per output format), [`export`] (firewall rules for the
//! required flows) and [`graph`] (pictures) → [`cli`]. [`check`] runs the stages from a
//! loaded model to its diagnostics for `cmflow check` and the language server ([`lsp`]).

pub mod catalog;
pub mod check;
pub mod cli;
pub mod diag;
pub mod engine;
pub mod escape;
pub mod export;
pub mod format;
pub mod graph;
pub mod import;
pub mod load;
pub mod lsp;
pub mod model;
pub mod report;
pub mod rules;
