//! `cmflow init [DIR]`: writes a commented starter model that passes `check`.

use std::path::PathBuf;

use miette::{IntoDiagnostic, miette};

use super::Outcome;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Folder to write the starter model into (created when missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
}

/// The starter model: a stand-alone primary site, kept valid by a test.
pub const STARTER: &str = include_str!("starter.kdl");

/// The file `init` writes.
pub const STARTER_FILE: &str = "cmflow.kdl";

pub fn run(args: &InitArgs) -> miette::Result<Outcome> {
    std::fs::create_dir_all(&args.dir).into_diagnostic()?;
    let path = args.dir.join(STARTER_FILE);
    if path.exists() {
        return Err(miette!(
            help = "remove it or choose another folder",
            "{} already exists",
            path.display()
        ));
    }
    std::fs::write(&path, STARTER).into_diagnostic()?;
    println!(
        "wrote {}\nnext: cmflow check {}",
        path.display(),
        args.dir.display()
    );
    Ok(Outcome::Clean)
}
