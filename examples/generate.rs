//! Writes a realistic Configuration Manager model, as KDL 2 files, for benchmarks and
//! load tests of `cmflow`.
//!
//! ```text
//! cargo run --release --example generate -- --scale small|medium|max [--boundary-groups]
//!     [--stress] [--host-firewalls] OUT_DIR
//! ```
//!
//! The model is one hierarchy with its network and firewalls:
//!
//! - a central administration site `CAS` (site server with SMS provider, a software
//!   update point syncing from Microsoft Update, the service connection point, and a
//!   remote SQL Server);
//! - primaries `P01`.. under it, each with a site server (and SMS provider), management
//!   points, software update points syncing from the CAS, a fallback status point, a
//!   reporting services point, a remote SQL Server with a named instance on a static
//!   port, distribution points at its campus, and client groups;
//! - secondaries under each primary, each on one server (site server, management point,
//!   distribution point, SQL Express on a static port) in its own branch, with one
//!   client group;
//! - domain controllers, admin consoles;
//! - zones: `core` (domain controllers), `admin` (consoles), `dc-cas`, then per primary
//!   `dc-pNN` (its datacenter) and `campus-pNN` (clients and distribution points), and
//!   per secondary `br-CODE`; every zone has a subnet, no two overlap, and every server
//!   has an address inside its zone's subnet;
//! - firewalls: `fw-core` joins the internet, `core`, `admin` and the datacenters; one
//!   `fw-pNN` per primary joins its datacenter, campus and branches. Their rules allow
//!   the documented flows with endpoint syntax (`role:`, `zone:`, `host:`, `cidr:`) and
//!   end with `deny`s before the `default="deny"`.
//!
//! `--stress` replaces the firewalls with ones that block most flows (every network
//! firewall `default="deny"` with a few rules, too broad or unused, and one firewall per
//! branch): the tens of thousands of findings of a first run on a real estate.
//! `--host-firewalls` gives every site system, SQL Server and client group a
//! `windows-firewall`.
//!
//! Files: `network.kdl` (zones), `cas.kdl`, `pNN.kdl` (one primary, its secondaries and
//! the client groups of both), `infrastructure.kdl` (SQL Servers, domain controllers,
//! consoles) and `firewalls.kdl`, so that a loader can parse them in parallel. `.kdl`
//! files left in `OUT_DIR` by an earlier run (recognised by the generator's header line)
//! are removed, so a smaller scale does not inherit a larger one's primaries.
//!
//! Output is deterministic: the same arguments give the same bytes. A one-line summary
//! goes to stderr. Bad arguments print the usage and exit with status 2.
//!
//! This file is the command line; the generator itself is `generate/model.rs`, which
//! `benches/flows.rs` includes too.

use std::path::Path;
use std::process::ExitCode;

#[path = "generate/model.rs"]
#[allow(
    dead_code,
    reason = "write_scale and its boundary-group twin serve the tests and benchmarks"
)]
mod model;

const USAGE: &str = "usage: generate --scale small|medium|max [--boundary-groups] [--stress]
                [--host-firewalls] OUT_DIR

Writes a ConfigMgr model (KDL 2 files) into OUT_DIR, creating it; --boundary-groups adds
boundaries.kdl (campus, branch and default site boundary groups); --stress writes
firewalls that deny most flows (default deny, a few broad or unused rules, one firewall
per branch); --host-firewalls gives every site system, SQL Server and client group a
windows-firewall.
  small   CAS + 1 primary + 3 secondaries, about 50 servers
  medium  CAS + 4 primaries with 150 secondaries each, about 1,000 servers
  max     CAS + 25 primaries with 250 secondaries each, about 9,300 servers";

/// Parsed command line.
struct Args {
    scale: &'static str,
    out_dir: String,
    variant: model::Variant,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut scale = None;
    let mut out_dir = None;
    let mut variant = model::Variant::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let value = if arg == "--scale" {
            Some(rest.next().ok_or("--scale needs a value")?.as_str())
        } else {
            arg.strip_prefix("--scale=")
        };
        if let Some(value) = value {
            let found = model::SCALE_NAMES
                .into_iter()
                .find(|name| *name == value)
                .ok_or_else(|| format!("unknown scale `{value}`"))?;
            if scale.replace(found).is_some() {
                return Err("--scale given twice".into());
            }
        } else if arg == "--boundary-groups" {
            variant.boundary_groups = true;
        } else if arg == "--stress" {
            variant.stress = true;
        } else if arg == "--host-firewalls" {
            variant.host_firewalls = true;
        } else if arg.starts_with('-') {
            return Err(format!("unknown option `{arg}`"));
        } else if out_dir.replace(arg.clone()).is_some() {
            return Err("more than one OUT_DIR".into());
        }
    }
    Ok(Args {
        scale: scale.ok_or("missing --scale")?,
        out_dir: out_dir.ok_or("missing OUT_DIR")?,
        variant,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "-h" || arg == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match parse_args(&args) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match model::write_model(args.scale, args.variant, Path::new(&args.out_dir)) {
        Ok(summary) => {
            eprintln!("{summary}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: writing {}: {error}", args.out_dir);
            ExitCode::FAILURE
        }
    }
}
