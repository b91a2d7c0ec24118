//! `runbook`: versioned, conditional installation procedures turned into tailored checklists,
//! offline search and a static help site.

pub mod atomic;
pub mod catalog;
pub mod checklist;
pub mod condition;
pub mod diagnostics;
pub mod duration;
pub mod facts;
pub mod profile;
pub mod project;
pub mod render;
pub mod runbook;
pub mod toml_file;
