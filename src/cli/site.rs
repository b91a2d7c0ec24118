//! `runbook build` and `runbook serve`.

use std::path::Path;

use runbook::diagnostics::{Diagnostic, Diagnostics};

#[derive(clap::Args)]
pub struct BuildArgs {
    /// Where to write the site (default: `[build] build-dir` of book.toml, else `book`).
    #[arg(long, value_name = "DIR")]
    pub dest: Option<std::path::PathBuf>,
}

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
}

pub fn build(_root: &Path, _color: bool, _args: &BuildArgs) -> Result<(), Diagnostics> {
    Err(Diagnostic::error("build is not built yet").into())
}

pub fn serve(_root: &Path, _color: bool, _args: &ServeArgs) -> Result<(), Diagnostics> {
    Err(Diagnostic::error("serve is not built yet").into())
}
