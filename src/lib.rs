//! `runbook`: versioned, conditional installation procedures turned into tailored checklists,
//! offline search and a static help site.

pub mod condition;
pub mod diagnostics;
pub mod duration;
pub mod facts;
pub mod project;
pub mod runbook;
pub mod toml_file;
