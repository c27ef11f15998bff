//! `cmflow export`: firewall rules that allow exactly the required flows.
//!
//! Single-document targets (`windows-firewall`, `csv`) go to stdout unless `--out DIR`
//! is given; multi-file targets (`aerleon`, `kdl`) go to `--out DIR`, by default
//! `./cmflow-export`. The folder may hold no file of the model.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use miette::miette;

use super::loaded::{load_model, report_input_errors};
use super::{ModelArgs, Outcome};
use crate::engine::intent::{carried, exported_flows};
use crate::engine::{Network, evaluate, required_flows};
use crate::export::{ExportInput, Output, Target, export};
use crate::model::Model;

/// The folder multi-file targets write to without `--out`.
const DEFAULT_OUT: &str = "cmflow-export";

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// What to write.
    #[arg(long, value_enum)]
    target: Target,
    /// Folder to write into, created if needed (default: stdout for windows-firewall and
    /// csv, ./cmflow-export for aerleon and kdl).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Standard output: the single document of a target.
struct Stdout;

impl Output for Stdout {
    fn create(&mut self, _path: &str) -> io::Result<Box<dyn Write + '_>> {
        Ok(Box::new(io::BufWriter::new(io::stdout().lock())))
    }
}

/// A folder that holds no file of the model.
struct Folder {
    root: PathBuf,
}

impl Folder {
    /// Creates the folder; refuses one that holds a file of the model, so an export
    /// never overwrites the model nor (with the kdl target's `.ignore`) hides it.
    fn new(root: PathBuf, model: &Model) -> miette::Result<Self> {
        std::fs::create_dir_all(&root)
            .map_err(|e| miette!("cannot create {}: {e}", root.display()))?;
        let canonical = root
            .canonicalize()
            .map_err(|e| miette!("cannot open {}: {e}", root.display()))?;
        let inside = model
            .sources
            .iter()
            .map(|(_, f)| f)
            .filter(|f| !f.builtin)
            .find(|f| {
                Path::new(&f.name)
                    .canonicalize()
                    .is_ok_and(|p| p.starts_with(&canonical))
            });
        if let Some(file) = inside {
            return Err(miette!(
                "--out {} holds {}, a file of the model: choose a folder outside the model",
                root.display(),
                file.name
            ));
        }
        Ok(Self { root })
    }
}

impl Output for Folder {
    fn create(&mut self, path: &str) -> io::Result<Box<dyn Write + '_>> {
        let full = self.root.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        Ok(Box::new(io::BufWriter::new(std::fs::File::create(&full)?)))
    }
}

pub fn run(args: &ExportArgs) -> miette::Result<Outcome> {
    let loaded = load_model(&args.model)?;
    let model = &loaded.model;
    let phases = args.model.phases();
    let net = Network::new(model);
    // Exports keep the model's intent: waived and forbidden flows are not opened, and the
    // deny rules and forbids that stop none of the opened flows are written too.
    let flows = exported_flows(&net, &required_flows(model, &phases));
    let verdicts = evaluate(&net, &flows);
    let carried = carried(&net, &flows, &verdicts);
    let input = ExportInput {
        model,
        flows: &flows,
        verdicts: &verdicts,
        phases: &phases,
        carried: &carried,
    };
    let result = match (&args.out, args.target.is_multi_file()) {
        (None, false) => export(args.target, &input, &mut Stdout),
        (out, _) => {
            let root = out.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_OUT));
            export(args.target, &input, &mut Folder::new(root, model)?)
        }
    };
    result.or_else(super::ignore_broken_pipe)?;
    // The process ends next: skip freeing the flows one by one.
    std::mem::forget((flows, verdicts));
    report_input_errors(&loaded)
}
