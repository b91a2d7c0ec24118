//! `runbook init [DIR]`: a new project that `check`, `checklist` and `build` accept as it is,
//! as `mdbook init` makes a book: facts, one runbook, one shared step, a profile, the help
//! site's `book.toml` and its chapters.

use std::path::{Path, PathBuf};

use runbook::atomic;
use runbook::diagnostics::{Diagnostic, Diagnostics};

#[derive(clap::Args)]
pub struct InitArgs {
    /// The folder to make the project in (made if missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The project's title; by default the folder's name.
    #[arg(long)]
    title: Option<String>,
}

macro_rules! skeleton {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/init/", $name)))),*]
    };
}

/// Each file of a new project, as a template (`{{ title }}`, `{{ today }}`).
const FILES: &[(&str, &str)] = skeleton!(
    "book.toml",
    "guide/SUMMARY.md",
    "guide/introduction.md",
    "runbooks/facts.toml",
    "runbooks/install.toml",
    "runbooks/shared/sign-in.toml",
    "examples/customer.toml",
);

/// Makes the project in `args.dir`, relative to `base` (the folder given with -C).
pub fn init(base: &Path, args: &InitArgs) -> Result<(), Diagnostics> {
    let dir = &base.join(&args.dir);
    // Nothing of a project already there is overwritten, and nothing is written when any is.
    let taken: Vec<String> = FILES
        .iter()
        .map(|(name, _)| Path::new(name))
        .chain([Path::new("runbooks")])
        .filter(|p| dir.join(p).exists())
        .map(|p| p.display().to_string())
        .collect();
    if !taken.is_empty() {
        return Err(Diagnostic::error(format!(
            "{} already has {}: runbook init makes a new project",
            dir.display(),
            taken.join(", ")
        ))
        .path(dir)
        .help("run it in an empty folder, or name a new one: runbook init NEW-FOLDER")
        .into());
    }
    let title = args.title.clone().unwrap_or_else(|| {
        let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        absolute.file_name().map_or_else(
            || "Runbooks".to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    });
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let env = minijinja::Environment::new();
    let context = minijinja::context! { title => title, today => today };
    let mut written = Vec::new();
    for (name, template) in FILES {
        let text = env.render_str(template, &context).map_err(|e| {
            Diagnostic::error(format!(
                "the built-in template of {name} does not render: {e}"
            ))
        })?;
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                Diagnostic::error(format!("cannot make {}: {e}", parent.display())).path(parent)
            })?;
        }
        atomic::write(&path, text.as_bytes())?;
        written.push(*name);
    }
    super::note(&format!(
        "made a runbook project in {}: {}\n\nNext, in that folder:\n  runbook check\n  \
         runbook checklist --profile examples/customer.toml\n  runbook serve\n",
        dir.display(),
        written.join(", ")
    ));
    Ok(())
}
