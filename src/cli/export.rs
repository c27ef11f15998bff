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
use crate::engine::{Network, evaluate};
use crate::escape::terminal;
use crate::export::{
    ExportInput, ExportOptions, Output, Target, aerleon, export, windows_firewall,
};
use crate::model::Model;

/// The folder multi-file targets write to without `--out`.
const DEFAULT_OUT: &str = "cmflow-export";

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cmflow export examples/contoso --target windows-firewall --out fw/
  cmflow export examples/contoso --target windows-firewall --only site:P01 \\
      --policy-store 'contoso.com\\CM servers' > cm-servers-gpo.ps1
  cmflow export examples/contoso --target aerleon --phase all --out acl/
  cmflow export examples/contoso --target csv > change-request.csv
  cmflow export examples/contoso --target csv --all --out cr/")]
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
    /// csv: also the rules of flows that cross no network firewall (same zone).
    #[arg(long)]
    all: bool,
    /// windows-firewall: the policy store the rules go to: `localhost` (the computer's
    /// local GPO), `PersistentStore`, or a domain GPO as `domain.tld\GPO name`.
    #[arg(long, value_name = "STORE")]
    policy_store: Option<String>,
    /// windows-firewall: only the sections of these hosts (`host:FQDN`, `clients:NAME`,
    /// `site:CODE`, comma-separated).
    #[arg(long, value_name = "HOSTS")]
    only: Option<String>,
}

/// A usage error (exit 2) about `--flag`.
fn usage(flag: &str, e: windows_firewall::UsageError) -> miette::Report {
    let message = terminal::line(&e.message).into_owned();
    match e.help {
        Some(help) => miette!(
            code = "cmflow::usage",
            help = terminal::line(&help).into_owned(),
            "--{flag}: {message}"
        ),
        None => miette!(code = "cmflow::usage", "--{flag}: {message}"),
    }
}

/// Standard output: the single document of a target.
struct Stdout;

impl Output for Stdout {
    fn create(&mut self, _path: &str) -> io::Result<Box<dyn Write + '_>> {
        Ok(Box::new(io::BufWriter::new(io::stdout().lock())))
    }
}

/// A folder that holds no file of the model, written so that nothing outside it changes:
/// no symbolic link inside it is followed (a committed link in `./cmflow-export` must not
/// redirect an export to another file), and each file is written to a new temporary file
/// (created exclusively) and renamed over its target only when the whole export has
/// been written, so a hard-linked file is replaced rather than rewritten and a failed
/// export leaves the previous one in place.
pub(super) struct Folder {
    root: PathBuf,
    /// (temporary file, target) of every file written, renamed by [`Folder::commit`].
    pending: Vec<(PathBuf, PathBuf)>,
}

/// An error that names the path it is about.
fn at_path(path: &Path, e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl Folder {
    /// Creates the folder; refuses one that holds a file of the model, so an export
    /// never overwrites the model nor (with the kdl target's `.ignore`) hides it, and one
    /// that is a symbolic link.
    fn new(root: PathBuf, model: &Model) -> miette::Result<Self> {
        let folder = Self::plain(root)?;
        let root = folder.root.clone();
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
                crate::escape::terminal::line(&root.display().to_string()),
                crate::escape::terminal::line(&file.name)
            ));
        }
        Ok(folder)
    }

    /// Creates the folder (refusing a symbolic link), with no model to keep out of it
    /// (`cmflow import`).
    pub(super) fn plain(root: PathBuf) -> miette::Result<Self> {
        if std::fs::symlink_metadata(&root).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(miette!(
                "--out {} is a symbolic link: give the folder it points to, or another folder",
                crate::escape::terminal::line(&root.display().to_string())
            ));
        }
        std::fs::create_dir_all(&root)
            .map_err(|e| miette!("cannot create {}: {e}", root.display()))?;
        Ok(Self {
            root,
            pending: Vec::new(),
        })
    }

    /// The folder `relative` (made of plain names) below the root, created as needed;
    /// refuses to pass through a symbolic link or a file.
    fn folder(&self, relative: &Path) -> io::Result<PathBuf> {
        let mut dir = self.root.clone();
        for part in relative.components() {
            let std::path::Component::Normal(name) = part else {
                return Err(io::Error::other(format!(
                    "{}: not a plain path below the output folder",
                    relative.display()
                )));
            };
            dir.push(name);
            match std::fs::symlink_metadata(&dir) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(io::Error::other(format!(
                        "{} is a symbolic link: cmflow does not write through links",
                        dir.display()
                    )));
                }
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(io::Error::other(format!(
                        "{} is not a folder",
                        dir.display()
                    )));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    std::fs::create_dir(&dir).map_err(|e| at_path(&dir, &e))?;
                }
                Err(e) => return Err(at_path(&dir, &e)),
            }
        }
        Ok(dir)
    }

    /// Renames every written file over its target: the export appears whole.
    pub(super) fn commit(mut self) -> io::Result<()> {
        for (temp, target) in std::mem::take(&mut self.pending) {
            if std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
                let _ = std::fs::remove_file(&temp);
                return Err(io::Error::other(format!(
                    "{} is a folder",
                    target.display()
                )));
            }
            // A rename replaces a link or a hard-linked name; it never writes through it.
            std::fs::rename(&temp, &target).map_err(|e| at_path(&target, &e))?;
        }
        Ok(())
    }
}

/// Removes the files of `dir` that an earlier export wrote (one of their first two lines
/// holds `marker`) and this one did not.
fn prune(dir: &Path, written: &[PathBuf], marker: &str) -> io::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !is_file || written.contains(&path) {
            continue;
        }
        let ours = std::fs::read_to_string(&path)
            .is_ok_and(|t| t.lines().take(2).any(|l| l.contains(marker)));
        if ours {
            std::fs::remove_file(&path).map_err(|e| at_path(&path, &e))?;
        }
    }
    Ok(())
}

impl Folder {
    /// [`Folder::commit`], then (Aerleon) [`prune`] of the policies of firewalls that
    /// are gone.
    fn commit_and_prune(self, target: Target) -> io::Result<()> {
        let root = self.root.clone();
        let written: Vec<PathBuf> = self.pending.iter().map(|(_, t)| t.clone()).collect();
        self.commit()?;
        if target == Target::Aerleon {
            prune(&root.join(aerleon::POLICY_DIR), &written, aerleon::MARKER)?;
        }
        Ok(())
    }
}

impl Drop for Folder {
    /// A failed export leaves no temporary file behind.
    fn drop(&mut self) {
        for (temp, _) in &self.pending {
            let _ = std::fs::remove_file(temp);
        }
    }
}

impl Output for Folder {
    fn create(&mut self, path: &str) -> io::Result<Box<dyn Write + '_>> {
        let relative = Path::new(path);
        let (Some(parent), Some(name)) = (relative.parent(), relative.file_name()) else {
            return Err(io::Error::other(format!("{path}: not a file name")));
        };
        let dir = self.folder(parent)?;
        let target = dir.join(name);
        let mut n = 0u32;
        let (temp, file) = loop {
            let temp = dir.join(format!(
                ".{}.cmflow-{}-{n}.tmp",
                name.to_string_lossy(),
                std::process::id()
            ));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
            {
                Ok(file) => break (temp, file),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 100 => n += 1,
                Err(e) => return Err(at_path(&temp, &e)),
            }
        };
        self.pending.push((temp, target));
        Ok(Box::new(io::BufWriter::new(file)))
    }
}

pub fn run(args: &ExportArgs) -> miette::Result<Outcome> {
    if args.all && args.target != Target::Csv {
        return Err(miette!(
            code = "cmflow::usage",
            help = "drop --all: the other targets write no rule of a network firewall a flow does not cross",
            "--all applies to --target csv only"
        ));
    }
    if args.target != Target::WindowsFirewall {
        for (flag, given) in [
            ("policy-store", args.policy_store.is_some()),
            ("only", args.only.is_some()),
        ] {
            if given {
                return Err(miette!(
                    code = "cmflow::usage",
                    help = "drop it, or export --target windows-firewall",
                    "--{flag} applies to --target windows-firewall only"
                ));
            }
        }
    }
    let policy_store = args
        .policy_store
        .as_deref()
        .map(windows_firewall::PolicyStore::parse)
        .transpose()
        .map_err(|e| usage("policy-store", e))?;
    let loaded = load_model(&args.model)?;
    let only = args
        .only
        .as_deref()
        .map(|spec| windows_firewall::only_hosts(&loaded.model, spec))
        .transpose()
        .map_err(|e| usage("only", e))?;
    let options = ExportOptions {
        all: args.all,
        policy_store,
        only,
    };
    let model = &loaded.model;
    let phases = args.model.phases();
    let flows = super::loaded::required_flows(model, &phases)?;
    let net = Network::new(model);
    // Exports keep the model's intent: waived and forbidden flows are not opened, and the
    // deny rules and forbids that stop none of the opened flows are written too.
    let flows = exported_flows(&net, &flows);
    let verdicts = evaluate(&net, &flows);
    let carried = carried(&net, &flows, &verdicts);
    let input = ExportInput {
        model,
        flows: &flows,
        verdicts: &verdicts,
        phases: &phases,
        carried: &carried,
        options: &options,
    };
    let result = match (&args.out, args.target.is_multi_file()) {
        (None, false) => export(args.target, &input, &mut Stdout),
        (out, _) => {
            let root = out.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_OUT));
            let mut folder = Folder::new(root, model)?;
            export(args.target, &input, &mut folder)
                .and_then(|()| folder.commit_and_prune(args.target))
        }
    };
    result.or_else(super::ignore_broken_pipe)?;
    // The process ends next: skip freeing the flows one by one.
    std::mem::forget((flows, verdicts));
    report_input_errors(&loaded)
}
