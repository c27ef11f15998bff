//! `format="azure-nsg-json"`.

use super::{NetworkRules, SourceError, SourceInput};

pub fn read(input: &SourceInput<'_>) -> Result<NetworkRules, SourceError> {
    Err(super::not_yet(input, "azure-nsg-json"))
}
