//! `cmflow import FORMAT FILE [--out DIR]`: a firewall `source` file written as KDL
//! (`crate::import::firewall`), on stdout or as `DIR/<stem>.kdl`, or ConfigMgr's
//! inventory as model files (`crate::import::configmgr`); files are written like
//! `export` writes them: through a temporary file, never through a symbolic link.
//! Diagnostics and warnings go to stderr.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::ValueEnum;
use miette::miette;

use super::Outcome;
use super::export::Folder;
use crate::diag::Severity;
use crate::escape::terminal;
use crate::export::Output as _;
use crate::import::configmgr;
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
    let bytes = crate::load::firewall_sources::read_capped(&args.file)
        .map_err(|e| miette!("cannot read {shown}: {e}"))?;
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
        None => io::stdout().lock().write_all(kdl.as_bytes()),
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

/// `import configmgr FILE.json`: the inventory JSON of scripts/Export-CmflowInventory.ps1
/// as model files (`crate::import::configmgr`). Without `--out`, the files go to stdout
/// as one stream, each after a `// ==> NAME <==` line (the stream is itself one loadable
/// KDL file). Exit 1 when the content cannot be imported (nothing written), 2 when the
/// file cannot be read or the folder written, 0 otherwise, with warnings on stderr.
fn import_configmgr(args: &ImportArgs) -> miette::Result<Outcome> {
    let shown = crate::load::display_path(&args.file);
    let bytes = std::fs::read(&args.file)
        .map_err(|e| miette!("cannot read {}: {e}", terminal::line(&shown)))?;
    let Ok(text) = String::from_utf8(bytes) else {
        eprintln!(
            "{:?}",
            miette!(
                "{}: not UTF-8 text: an inventory is JSON",
                terminal::line(&shown)
            )
        );
        return Ok(Outcome::Findings);
    };
    // PowerShell 5.1's `Out-File -Encoding utf8` writes a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let imported = match configmgr::import(&shown, text) {
        Ok(i) => i,
        Err(e) => {
            // Unwrapped, so that the message (file, JSON path, what was expected) stays
            // on one line for whoever greps the output.
            let mut rendered = String::new();
            let written = miette::GraphicalReportHandler::new()
                .with_width(super::terminal_width())
                .with_wrap_lines(false)
                .render_report(&mut rendered, &e);
            if written.is_err() {
                rendered = e.to_string();
            }
            eprintln!("{rendered}");
            return Ok(Outcome::Findings);
        }
    };
    match &args.out {
        None => {
            let mut out = io::BufWriter::new(io::stdout().lock());
            let written = imported.files.iter().enumerate().try_for_each(|(i, f)| {
                if i > 0 {
                    writeln!(out)?;
                }
                writeln!(out, "// ==> {} <==", f.name)?;
                out.write_all(f.text.as_bytes())
            });
            written
                .and_then(|()| out.flush())
                .or_else(super::ignore_broken_pipe)?;
        }
        Some(dir) => {
            let mut folder = Folder::plain(dir.clone())?;
            let written = imported.files.iter().try_for_each(|f| {
                let mut w = folder.create(&f.name)?;
                w.write_all(f.text.as_bytes())?;
                w.flush()
            });
            written
                .and_then(|()| folder.commit())
                .map_err(|e| miette!("cannot write the import: {e}"))?;
        }
    }
    for w in &imported.warnings {
        eprintln!("warning: {}", terminal::line(w));
    }
    Ok(Outcome::Clean)
}
