//! `cmflow import FORMAT FILE [--out DIR]`: a firewall `source` file written as KDL
//! (`crate::import`), on stdout or as `DIR/<stem>.kdl` (written like `export` writes:
//! through a temporary file, never through a symbolic link). Diagnostics go to stderr.

use std::io::Write as _;
use std::path::PathBuf;

use clap::ValueEnum;
use miette::miette;

use super::Outcome;
use super::export::Folder;
use crate::diag::Severity;
use crate::export::Output as _;
use crate::load::sources::SourceFormat;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// What the file holds.
    #[arg(value_enum)]
    format: ImportFormat,
    /// The file to convert.
    file: PathBuf,
    /// Folder to write `<stem>.kdl` into, created if needed (default: stdout).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The zone whose subnet an Azure NSG guards (`azure-nsg-json`; default: a
    /// placeholder to replace).
    #[arg(long, value_name = "ZONE")]
    attached: Option<String>,
}

/// The formats `import` reads: every firewall `format=`, and ConfigMgr's inventory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ImportFormat {
    Aerleon,
    NftablesJson,
    IptablesSave,
    AzureNsgJson,
    NetfirewallruleJson,
    GpoRegistry,
    /// The inventory JSON of the project's ConfigMgr script (`scripts/`).
    Configmgr,
}

impl ImportFormat {
    fn source_format(self) -> Option<SourceFormat> {
        Some(match self {
            ImportFormat::Aerleon => SourceFormat::Aerleon,
            ImportFormat::NftablesJson => SourceFormat::NftablesJson,
            ImportFormat::IptablesSave => SourceFormat::IptablesSave,
            ImportFormat::AzureNsgJson => SourceFormat::AzureNsgJson,
            ImportFormat::NetfirewallruleJson => SourceFormat::NetFirewallRuleJson,
            ImportFormat::GpoRegistry => SourceFormat::GpoRegistry,
            ImportFormat::Configmgr => return None,
        })
    }
}

pub fn run(args: &ImportArgs) -> miette::Result<Outcome> {
    let Some(format) = args.format.source_format() else {
        return import_configmgr(args);
    };
    let shown = crate::escape::terminal::line(&args.file.display().to_string()).into_owned();
    let bytes = std::fs::read(&args.file).map_err(|e| miette!("cannot read {shown}: {e}"))?;
    let imported =
        crate::import::firewall::import(format, &args.file, &bytes, args.attached.as_deref());
    crate::report::write_to_stderr(
        &imported.sources,
        &imported.diagnostics,
        super::terminal_width(),
    )
    .or_else(super::ignore_broken_pipe)?;
    let Some(kdl) = imported.kdl else {
        return Ok(Outcome::Findings);
    };
    let written = match &args.out {
        None => std::io::stdout().lock().write_all(kdl.as_bytes()),
        Some(dir) => {
            let mut folder = Folder::plain(dir.clone())?;
            let file = format!("{}.kdl", imported.stem);
            folder
                .create(&file)
                .and_then(|mut w| {
                    w.write_all(kdl.as_bytes())?;
                    w.flush()
                })
                .and_then(|()| folder.commit())
        }
    };
    written.or_else(super::ignore_broken_pipe)?;
    let errors = imported
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error);
    Ok(if errors {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

/// `import configmgr FILE.json`: built on another branch (`crate::import::configmgr`).
fn import_configmgr(_args: &ImportArgs) -> miette::Result<Outcome> {
    Err(miette!(
        "`cmflow import configmgr` is not built in this branch"
    ))
}
