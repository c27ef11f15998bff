//! `cmflow graph`: draws the hierarchy, the network or the flows, on stdout.

use std::io::Write;

use super::loaded::{load_model, report_input_errors};
use super::{ModelArgs, Outcome};
use crate::engine::{Network, evaluate};
use crate::graph::{self, GraphFormat, GraphView};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cmflow graph examples/contoso --view network | dot -Tsvg > network.svg
  cmflow graph examples/contoso --view hierarchy --format mermaid")]
pub struct GraphArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "dot")]
    format: GraphFormat,
    /// What to draw.
    #[arg(long, value_enum, default_value = "hierarchy")]
    view: GraphView,
}

pub fn run(args: &GraphArgs) -> miette::Result<Outcome> {
    let loaded = load_model(&args.model)?;
    let model = &loaded.model;
    let net = Network::new(model);
    let picture = match args.view {
        GraphView::Hierarchy => graph::hierarchy::build(model),
        GraphView::Network => graph::network::build(&net),
        GraphView::Flows => {
            let flows = super::loaded::required_flows(model, &args.model.phases())?;
            let verdicts = evaluate(&net, &flows);
            let picture = graph::flows::build(&net, &flows, &verdicts);
            // The process ends next: skip freeing the flows one by one.
            std::mem::forget((flows, verdicts));
            picture
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    graph::write(&mut out, args.format, &picture).or_else(super::ignore_broken_pipe)?;
    out.flush().or_else(super::ignore_broken_pipe)?;
    drop(out);
    report_input_errors(&loaded)
}
