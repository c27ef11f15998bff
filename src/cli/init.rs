//! `cmflow init [DIR]`: writes a commented starter model that passes `check`.

use std::path::PathBuf;

use miette::{IntoDiagnostic, miette};

use super::Outcome;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cmflow init my-site && cmflow check my-site")]
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
    let shown =
        |p: &std::path::Path| crate::escape::terminal::line(&p.display().to_string()).into_owned();
    // A starter beside an existing model would be merged into it on the next check.
    if args.dir.is_dir()
        && let Ok(files) = crate::load::discover(std::slice::from_ref(&args.dir))
        && !files.is_empty()
    {
        return Err(miette!(
            help = format!(
                "check it with `cmflow check {}`, or give an empty folder: `cmflow init new-model`",
                shown(&args.dir)
            ),
            "{} already holds a model ({})",
            shown(&args.dir),
            crate::diag::count(files.len(), ".kdl file")
        ));
    }
    std::fs::create_dir_all(&args.dir).into_diagnostic()?;
    let path = args.dir.join(STARTER_FILE);
    // Created, never overwritten, and never through a link.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| miette!("cannot write {}: {e}", shown(&path)))?;
    std::io::Write::write_all(&mut file, STARTER.as_bytes())
        .map_err(|e| miette!("cannot write {}: {e}", shown(&path)))?;
    println!(
        "wrote {}\nnext: cmflow check {}",
        path.display(),
        args.dir.display()
    );
    Ok(Outcome::Clean)
}
