//! `cmflow import`: other tools' data turned into KDL model files. Each format reads its
//! input, maps it onto the language and returns formatted KDL texts with the warnings met
//! on the way; reading and writing files is `cli::import`'s job.

pub mod configmgr;
