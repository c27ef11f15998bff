//! `cmflow import`: other formats written as the model's own KDL, for those who prefer
//! to keep KDL.
//!
//! [`firewall`] turns a firewall `source` file (every format of `format=`) into a
//! `firewall` or `windows-firewall` node through the same readers the loader uses, so an
//! imported file and the `source=` it replaces give the same verdicts. This module
//! returns text and diagnostics; it writes no file (that is `cli::import`).

pub mod firewall;
