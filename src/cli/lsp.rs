//! `cmflow lsp`: runs the language server on standard input and output.

use super::Outcome;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The editor starts it and talks JSON-RPC on its standard input and output;
the model is every .kdl file under the editor's workspace folders (docs/editors.md).

Examples:
  cmflow lsp                                 what the editor runs
  cmflow lsp --phase all                     diagnostics for the install phases too
  Neovim:  vim.lsp.start({ name = 'cmflow', cmd = { 'cmflow', 'lsp' }, root_dir = vim.fn.getcwd() })
  VS Code: the extension in editors/vscode runs `cmflow lsp`"
)]
pub struct LspArgs {
    #[command(flatten)]
    phase: super::PhaseArgs,
}

pub fn run(args: &LspArgs) -> miette::Result<Outcome> {
    match crate::lsp::server::run_stdio(args.phase.phases()) {
        // The protocol: exit code 0 after `shutdown` then `exit`, 1 on `exit` alone.
        Ok(true) => Ok(Outcome::Clean),
        Ok(false) => Ok(Outcome::Findings),
        Err(e) => Err(miette::miette!("the language server stopped: {e}")),
    }
}
