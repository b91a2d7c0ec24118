//! `runbook`: versioned, conditional installation procedures turned into tailored checklists,
//! offline search and a static help site.

// A `Diagnostic` carries its span, label, notes and help by value. It travels only on the
// error path, where its size costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

#[cfg(test)]
mod arbitrary;
pub mod atomic;
pub mod book;
pub mod catalog;
pub mod html;
pub mod markdown;
pub mod project;
pub mod render;
pub mod search;
pub mod site;

// The engine, from the core crate, under the names the rest of the tool uses.
pub use runbook_core::{
    body, checklist, condition, diagnostics, duration, facts, profile, run, runbook, toml_file,
};
