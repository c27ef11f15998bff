//! `format="aerleon"`: an Aerleon policy (YAML `.yaml` or the classic `.pol`) with its
//! `def/` networks and services.

use super::{ExtraFiles, NetworkRules, SourceError, SourceInput};

pub fn read(
    input: &SourceInput<'_>,
    _extra: &mut dyn ExtraFiles,
) -> Result<NetworkRules, SourceError> {
    Err(super::not_yet(input, "aerleon"))
}
