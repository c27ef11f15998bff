//! The `cmflow` binary: parses arguments, runs, maps the outcome to exit code 0/1/2.

use std::process::ExitCode;

fn main() -> ExitCode {
    match cmflow::cli::run() {
        Ok(outcome) => outcome.into(),
        Err(report) => {
            eprintln!("{}", cmflow::cli::fatal_message(&report));
            ExitCode::from(2)
        }
    }
}
