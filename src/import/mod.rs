//! `cmflow import`: other formats written as the model's own KDL.
//!
//! [`firewall`] turns a firewall `source` file (every format of `format=`) into a
//! `firewall` or `windows-firewall` node through the same readers the loader uses, so an
//! imported file and the `source=` it replaces give the same verdicts. [`configmgr`]
//! maps the inventory JSON of ConfigMgr's WMI classes onto sites, site systems and
//! boundary groups. This module returns texts, diagnostics and warnings; it writes no
//! file (that is `cli::import`).

pub mod configmgr;
pub mod firewall;
