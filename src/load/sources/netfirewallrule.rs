//! `format="netfirewallrule-json"`.

use super::{HostRules, SourceError, SourceInput};

pub fn read(input: &SourceInput<'_>) -> Result<HostRules, SourceError> {
    Err(super::not_yet(input, "netfirewallrule-json"))
}
