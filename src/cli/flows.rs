//! `cmflow flows`.

use super::{ModelArgs, Outcome};

#[derive(Debug, clap::Args)]
pub struct FlowsArgs {
    #[command(flatten)]
    model: ModelArgs,
}

pub fn run(_args: &FlowsArgs) -> miette::Result<Outcome> {
    Ok(Outcome::Clean)
}
