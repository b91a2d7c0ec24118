//! The `runbook` engine: facts and conditions, runbooks and their revisions, profiles, and the
//! checklist for one customer. No file system: a project is made from sources in memory, so
//! that the same engine runs in the command line and, compiled to WebAssembly, in the browser.

// A `Diagnostic` carries its span, label, notes and help by value. It travels only on the
// error path, where its size costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

pub mod body;
pub mod checklist;
pub mod condition;
pub mod diagnostics;
pub mod duration;
pub mod facts;
pub mod profile;
pub mod project;
pub mod run;
pub mod runbook;
pub mod toml_file;
