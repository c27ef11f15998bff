//! `cmflow flows`: every required flow, filtered by endpoints and phases.

use std::io::Write;

use miette::miette;

use super::loaded::{load_model, report_input_errors};
use super::{ModelArgs, Outcome};
use crate::engine::{FlowEndpoint, Network, Place, RequiredFlow, Tri, evaluate};
use crate::model::Endpoint;
use crate::report::flows::{FlowsFormat, write};

#[derive(Debug, clap::Args)]
pub struct FlowsArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: FlowsFormat,
    /// Only flows from these endpoints (e.g. `zone:hq,role:management-point@P01`).
    #[arg(long, value_name = "ENDPOINTS")]
    from: Option<String>,
    /// Only flows to these endpoints.
    #[arg(long, value_name = "ENDPOINTS")]
    to: Option<String>,
}

fn parse_filter(s: Option<&String>, flag: &str) -> miette::Result<Option<Vec<Endpoint>>> {
    let Some(s) = s else { return Ok(None) };
    Endpoint::parse_list(s)
        .map(|l| Some(l.into_iter().map(|(e, _, _)| e).collect()))
        .map_err(|e| miette!("--{flag}: {}", e.message))
}

pub fn run(args: &FlowsArgs) -> miette::Result<Outcome> {
    let from = parse_filter(args.from.as_ref(), "from")?;
    let to = parse_filter(args.to.as_ref(), "to")?;
    let loaded = load_model(&args.model)?;
    let model = &loaded.model;
    let net = Network::new(model);
    let named = |filter: &Option<Vec<Endpoint>>, e: FlowEndpoint| {
        filter.as_ref().is_none_or(|list| {
            list.iter()
                .any(|f| net.matches(f, Place::Host(e)) == Tri::Yes)
        })
    };
    let flows: Vec<RequiredFlow> = super::loaded::required_flows(model, &args.model.phases())?
        .into_iter()
        .filter(|f| named(&from, f.source) && named(&to, f.destination))
        .collect();
    let verdicts = evaluate(&net, &flows);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write(&mut out, args.format, model, &flows, &verdicts).or_else(super::ignore_broken_pipe)?;
    out.flush().or_else(super::ignore_broken_pipe)?;
    // The process ends next: skip freeing millions of flows one by one.
    drop(out);
    std::mem::forget((flows, verdicts));
    report_input_errors(&loaded)
}
