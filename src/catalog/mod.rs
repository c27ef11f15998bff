//! The built-in port catalog (`policies/*.kdl`).
