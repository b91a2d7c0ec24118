//! `runbook search` and `runbook index`.

use std::path::Path;

use runbook::diagnostics::{Diagnostic, Diagnostics};

#[derive(clap::Args)]
pub struct SearchArgs {
    /// What to look for.
    pub query: String,
}

#[derive(clap::Args)]
pub struct IndexArgs {
    /// Rebuild from scratch.
    #[arg(long)]
    pub force: bool,
}

pub fn search(_root: &Path, _color: bool, _args: &SearchArgs) -> Result<(), Diagnostics> {
    Err(Diagnostic::error("search is not built yet").into())
}

pub fn index(_root: &Path, _color: bool, _args: &IndexArgs) -> Result<(), Diagnostics> {
    Err(Diagnostic::error("index is not built yet").into())
}
