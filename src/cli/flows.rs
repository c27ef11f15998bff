//! `cmflow flows`: every required flow, filtered by endpoints, verdicts, firewalls,
//! services and phases. A filter naming something the model does not have is an error
//! with a "did you mean", never an empty list.

use std::io::Write;

use miette::miette;

use super::loaded::{load_model, report_input_errors};
use super::{ModelArgs, Outcome};
use crate::diag::did_you_mean;
use crate::engine::{FlowEndpoint, Network, Place, RequiredFlow, Tri, Verdict, evaluate};
use crate::escape::terminal;
use crate::model::{Endpoint, Model, SourceId, Span, Spanned};
use crate::report::flows::{Column, FlowsFormat, TableLayout, write};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cmflow flows examples/contoso
  cmflow flows examples/contoso --verdict blocked,no-path
  cmflow flows examples/contoso --from clients:\"HQ desktops\" --to role:management-point
  cmflow flows examples/contoso --firewall fw-core --service HTTPS --format csv
  cmflow flows examples/contoso --columns source,destination,ports,verdict,decided-by")]
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
    /// Only flows with these verdicts.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "VERDICTS")]
    verdict: Vec<VerdictArg>,
    /// Only flows that cross these network firewalls (comma-separated names).
    #[arg(long, value_delimiter = ',', value_name = "FIREWALLS")]
    firewall: Vec<String>,
    /// Only these services (comma-separated, as the SERVICE column shows them; any case).
    #[arg(long, value_delimiter = ',', value_name = "SERVICES")]
    service: Vec<String>,
    /// The columns of `table` and `markdown` (comma-separated; default: source,
    /// destination, protocol, ports, service, verdict for `table`, every one for
    /// `markdown`).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "COLUMNS")]
    columns: Vec<Column>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum VerdictArg {
    Allowed,
    Blocked,
    NoPath,
    Indeterminate,
    Waived,
}

impl VerdictArg {
    fn verdict(self) -> Verdict {
        match self {
            VerdictArg::Allowed => Verdict::Allowed,
            VerdictArg::Blocked => Verdict::Blocked,
            VerdictArg::NoPath => Verdict::NoPath,
            VerdictArg::Indeterminate => Verdict::Indeterminate,
            VerdictArg::Waived => Verdict::Waived,
        }
    }
}

/// The endpoints of `--from`/`--to`, each checked against the model.
fn endpoint_filter(
    model: &Model,
    s: Option<&String>,
    flag: &str,
) -> miette::Result<Option<Vec<Endpoint>>> {
    let Some(s) = s else { return Ok(None) };
    let list = Endpoint::parse_list(s).map_err(|e| miette!("--{flag}: {}", e.message))?;
    let mut endpoints = Vec::new();
    for (e, _, _) in list {
        let spanned = Spanned::new(e, Span::new(SourceId(0), 0, 0));
        if let Some(problem) = crate::load::endpoint_problems(model, &spanned).first() {
            return Err(unknown_name(
                flag,
                &problem.message,
                problem.help.as_deref(),
            ));
        }
        endpoints.push(spanned.value);
    }
    Ok(Some(endpoints))
}

fn unknown_name(flag: &str, message: &str, help: Option<&str>) -> miette::Report {
    let message = terminal::line(message).into_owned();
    match help {
        Some(help) => miette!(
            code = "cmflow::usage",
            help = terminal::line(help).into_owned(),
            "--{flag}: {message}"
        ),
        None => miette!(code = "cmflow::usage", "--{flag}: {message}"),
    }
}

/// `name` exactly (ignoring case) among `known`, or an error with the closest one.
fn known<'a>(
    flag: &str,
    what: &str,
    name: &str,
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> miette::Result<&'a str> {
    if let Some(found) = known
        .clone()
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(name))
    {
        return Ok(found);
    }
    let help = did_you_mean(name, known).map(|m| format!("did you mean `{m}`?"));
    Err(unknown_name(
        flag,
        &format!("the model has no {what} `{name}`"),
        help.as_deref(),
    ))
}

pub fn run(args: &FlowsArgs) -> miette::Result<Outcome> {
    let timings = crate::check::Timings::from_env();
    let loaded = load_model(&args.model)?;
    timings.lap("load");
    let model = &loaded.model;
    let from = endpoint_filter(model, args.from.as_ref(), "from")?;
    let to = endpoint_filter(model, args.to.as_ref(), "to")?;
    let firewalls = args
        .firewall
        .iter()
        .map(|name| {
            let found = known(
                "firewall",
                "network firewall",
                name,
                model.firewalls.iter().map(|f| f.name.value.as_str()),
            )?;
            Ok(model
                .firewalls
                .iter()
                .position(|f| f.name.value == found)
                .unwrap_or_default())
        })
        .collect::<miette::Result<Vec<usize>>>()?;
    let net = Network::new(model);
    let named = |filter: &Option<Vec<Endpoint>>, e: FlowEndpoint| {
        filter.as_ref().is_none_or(|list| {
            list.iter()
                .any(|f| net.matches(f, Place::Host(e)) == Tri::Yes)
        })
    };
    let mut flows: Vec<RequiredFlow> = super::loaded::required_flows(model, &args.model.phases())?
        .into_iter()
        .filter(|f| named(&from, f.source) && named(&to, f.destination))
        .collect();
    if !args.service.is_empty() {
        let mut all: Vec<&str> = flows
            .iter()
            .flat_map(|f| f.services.iter().map(|s| s.service(model)))
            .collect();
        all.sort_unstable();
        all.dedup();
        let wanted = args
            .service
            .iter()
            .map(|s| {
                known(
                    "service",
                    "required flow of service",
                    s,
                    all.iter().copied(),
                )
            })
            .collect::<miette::Result<Vec<&str>>>()?;
        let wanted: Vec<String> = wanted.into_iter().map(str::to_owned).collect();
        for f in &mut flows {
            f.services
                .retain(|s| wanted.iter().any(|w| w == s.service(model)));
        }
        flows.retain(|f| !f.services.is_empty());
    }
    timings.lap("flows");
    let verdicts = evaluate(&net, &flows);
    timings.lap("evaluate");
    let (flows, verdicts) = if args.verdict.is_empty() && firewalls.is_empty() {
        (flows, verdicts)
    } else {
        let wanted: Vec<Verdict> = args.verdict.iter().map(|v| v.verdict()).collect();
        flows
            .into_iter()
            .zip(verdicts)
            .filter(|(_, v)| wanted.is_empty() || wanted.contains(&v.verdict))
            .filter(|(_, v)| {
                firewalls.is_empty() || v.firewalls().iter().any(|f| firewalls.contains(f))
            })
            .unzip()
    };
    let stdout = std::io::stdout();
    // Flow lists run to hundreds of megabytes: few, large writes.
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let layout = TableLayout {
        columns: (!args.columns.is_empty()).then(|| args.columns.clone()),
        width: super::terminal_width(),
    };
    write(&mut out, args.format, &layout, model, &flows, &verdicts)
        .or_else(super::ignore_broken_pipe)?;
    out.flush().or_else(super::ignore_broken_pipe)?;
    timings.lap("report");
    // The process ends next: skip freeing millions of flows, and the model, one by one.
    drop(out);
    std::mem::forget((flows, verdicts));
    let outcome = report_input_errors(&loaded);
    std::mem::forget(loaded);
    outcome
}
