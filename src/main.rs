//! The `cmflow` binary: parses arguments, runs, maps the outcome to exit code 0/1/2.

use std::process::ExitCode;

/// jemalloc, as ruff ships: the parse, the flows and the diagnostics of a large model
/// are millions of small allocations, and the C library's allocator spent a fifth more
/// CPU time on them (`docs/decisions.md`, "The allocator"). Only on x86-64 outside
/// Windows: jemalloc is built for one page size, and some ARM kernels use larger pages.
#[cfg(all(target_arch = "x86_64", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    match cmflow::cli::run() {
        Ok(outcome) => outcome.into(),
        Err(report) => {
            eprintln!("{}", cmflow::cli::fatal_message(&report));
            ExitCode::from(2)
        }
    }
}
