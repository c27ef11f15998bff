//! `cmflow flows`: every required flow, filtered by endpoints and phases.

use std::io::{IsTerminal, Write};

use miette::{IntoDiagnostic, miette};

use super::{ModelArgs, Outcome, known_codes, terminal_width};
use crate::engine::{FlowEndpoint, RequiredFlow, required_flows};
use crate::load::{Inputs, load};
use crate::model::{Endpoint, Model};
use crate::report::flows::{FlowsFormat, rows, write};
use crate::report::{HumanOptions, write_human, write_short};

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
    let loaded = load(
        &Inputs {
            paths: args.model.paths.clone(),
            stdin: None,
        },
        &known_codes(),
    )?;
    let model = loaded.model;
    let mut input_errors = loaded.diagnostics;
    input_errors.sort_by_key(|d| {
        (
            model.sources.get(d.primary.span.source).name.clone(),
            d.primary.span.start,
        )
    });
    let flows: Vec<RequiredFlow> = required_flows(&model, &args.model.phases())
        .into_iter()
        .filter(|f| {
            from.as_ref()
                .is_none_or(|e| matches_any(&model, f.source, e))
        })
        .filter(|f| {
            to.as_ref()
                .is_none_or(|e| matches_any(&model, f.destination, e))
        })
        .collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write(&mut out, args.format, &rows(&model, &flows)).or_else(super::ignore_broken_pipe)?;
    out.flush().or_else(super::ignore_broken_pipe)?;
    if input_errors.is_empty() {
        return Ok(Outcome::Clean);
    }
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    if std::io::stderr().is_terminal() {
        let opts = HumanOptions {
            color: std::env::var_os("NO_COLOR").is_none(),
            width: terminal_width(),
        };
        write_human(&mut err, &model.sources, &input_errors, opts).into_diagnostic()?;
    } else {
        write_short(&mut err, &model.sources, &input_errors).into_diagnostic()?;
    }
    Ok(Outcome::Findings)
}

/// Whether a flow endpoint matches any endpoint of a filter.
pub fn matches_any(model: &Model, e: FlowEndpoint, filter: &[Endpoint]) -> bool {
    filter.iter().any(|f| matches(model, e, f))
}

fn matches(model: &Model, e: FlowEndpoint, f: &Endpoint) -> bool {
    let server = match e {
        FlowEndpoint::Server(s) => Some(&model.servers[s]),
        _ => None,
    };
    match f {
        Endpoint::Any => true,
        Endpoint::Zone(z) => e.zone(model) == z,
        Endpoint::Host(h) => e.name(model).eq_ignore_ascii_case(h),
        Endpoint::Site(code) => {
            server.is_some_and(|s| s.site.is_some_and(|i| model.sites[i].code.value == *code))
        }
        Endpoint::Role { role, site } => server.is_some_and(|s| {
            let in_site = site
                .as_ref()
                .is_none_or(|c| s.site.is_some_and(|i| model.sites[i].code.value == *c));
            in_site && (s.has_role(role) || (role == "sql-server" && !s.sql_instances.is_empty()))
        }),
        Endpoint::Clients(g) => {
            matches!(e, FlowEndpoint::Clients(i) if model.clients[i].name.value == *g)
        }
        Endpoint::Cidr(net) => match e {
            FlowEndpoint::Server(s) if model.servers[s].address.is_some() => {
                model.servers[s].address.is_some_and(|a| net.contains(&a))
            }
            _ => model.zone(e.zone(model)).is_some_and(|z| {
                !z.subnets.is_empty() && z.subnets.iter().all(|s| net.contains(&s.value))
            }),
        },
    }
}
