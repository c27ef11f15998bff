//! `cmflow lsp`: a language server over stdio.
//!
//! The server (`server`) owns the protocol: documents, positions in UTF-16, incremental
//! re-checking and publishing diagnostics. What an editor asks about the model (hover,
//! definition, references, completion) is answered by [`analysis`] over byte offsets,
//! without any protocol type, so it is tested like the rest of the pipeline.

pub mod analysis;
