//! `cmflow lsp`: a language server over stdio.
//!
//! The server ([`server`]) owns the protocol: the open documents, positions in the
//! client's encoding ([`position`]), incremental re-checking, and publishing diagnostics
//! ([`convert`]); [`transport`] frames the JSON-RPC messages. What an editor asks about
//! the model (hover, definition, references, completion) is answered by [`analysis`] over
//! byte offsets, without any protocol type, so it is tested like the rest of the pipeline.

pub mod analysis;
pub mod convert;
pub mod position;
pub mod server;
pub mod transport;
