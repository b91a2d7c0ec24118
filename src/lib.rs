//! `runbook`: versioned, conditional installation procedures turned into tailored checklists,
//! offline search and a static help site.

// A `Diagnostic` carries its span, label, notes and help by value. It travels only on the
// error path, where its size costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

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
pub mod run;
pub mod runbook;
pub mod search;
pub mod site;
pub mod toml_file;
