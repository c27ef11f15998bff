//! JSON with byte spans, for the JSON formats (`nftables-json`, `azure-nsg-json`,
//! `netfirewallrule-json`): a thin layer over `jsonc-parser`'s AST.
