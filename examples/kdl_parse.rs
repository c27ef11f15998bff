//! The yardstick of cmflow's speed: how long the `kdl` crate alone takes to parse the
//! `.kdl` files of a model, one after the other, as `kdl::KdlDocument::parse` (the
//! parser cmflow's loader calls, with the same crate features).
//!
//! ```text
//! cargo run --release --example kdl_parse -- PATH...
//! ```
//!
//! Every `.kdl` file under each PATH (a file or a folder, walked recursively, in sorted
//! order) is read first; then the parses are timed, sequentially on one thread. Prints
//! the number of files and bytes and the parse time in seconds on stdout. A file that
//! does not parse is an error (exit status 1): the yardstick is a model that loads.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

fn kdl_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for entry in entries {
            kdl_files(&entry, out)?;
        }
    } else if path.extension().is_some_and(|ext| ext == "kdl") {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn main() -> ExitCode {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() || paths.iter().any(|p| p == "-h" || p == "--help") {
        eprintln!("usage: kdl_parse PATH...");
        return ExitCode::from(2);
    }
    let mut files = Vec::new();
    for path in &paths {
        if let Err(error) = kdl_files(Path::new(path), &mut files) {
            eprintln!("error: {path}: {error}");
            return ExitCode::FAILURE;
        }
    }
    let mut texts = Vec::with_capacity(files.len());
    for file in &files {
        match std::fs::read_to_string(file) {
            Ok(text) => texts.push(text),
            Err(error) => {
                eprintln!("error: {}: {error}", file.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    // The documents are kept until the clock stops: freeing them is not parsing (and
    // cmflow does not free its model either).
    let mut documents = Vec::with_capacity(texts.len());
    let start = Instant::now();
    for (file, text) in files.iter().zip(&texts) {
        match kdl::KdlDocument::parse(text) {
            Ok(document) => documents.push(document),
            Err(error) => {
                eprintln!("error: {}: {error}", file.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    drop(documents);
    println!(
        "kdl parse: {} files, {bytes} bytes, {seconds:.3} s",
        files.len()
    );
    ExitCode::SUCCESS
}
