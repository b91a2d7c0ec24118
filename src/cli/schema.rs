//! `runbook schema`: JSON Schemas of the files a writer edits, made from the same types the
//! loader reads, so that editors (Taplo, VS Code) complete keys and flag mistakes as one types.

use std::path::PathBuf;

use runbook::diagnostics::{Diagnostic, Diagnostics};
use runbook::{atomic, facts, profile, runbook as runbooks};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    /// runbooks/facts.toml
    Facts,
    /// a runbook, runbooks/*.toml
    Runbook,
    /// sections and steps written once, runbooks/shared/*.toml
    Shared,
    /// a customer profile
    Profile,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["kind", "dir"])))]
pub struct SchemaArgs {
    /// The schema to print.
    #[arg(value_enum)]
    kind: Option<Kind>,
    /// Write every schema into this folder instead, as KIND.schema.json.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

fn all() -> Vec<(&'static str, &'static str, schemars::Schema)> {
    let [(_, runbook), (_, shared)] = runbooks::load::schemas();
    vec![
        (
            "facts",
            "runbook facts file (runbooks/facts.toml)",
            facts::schema(),
        ),
        ("runbook", "runbook (runbooks/*.toml)", runbook),
        (
            "shared",
            "runbook shared sections and steps (runbooks/shared/*.toml)",
            shared,
        ),
        ("profile", "runbook customer profile", profile::schema()),
    ]
}

fn text(title: &str, mut schema: schemars::Schema) -> String {
    schema.insert("title".into(), title.into());
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

pub fn schema(args: &SchemaArgs) -> Result<(), Diagnostics> {
    let schemas = all();
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            Diagnostic::error(format!("cannot make {}: {e}", dir.display())).path(dir)
        })?;
        for (name, title, schema) in schemas {
            atomic::write(
                &dir.join(format!("{name}.schema.json")),
                text(title, schema).as_bytes(),
            )?;
        }
        return Ok(());
    }
    let index = args.kind.map_or(0, |k| k as usize);
    let (_, title, schema) = schemas.into_iter().nth(index).expect("one schema per kind");
    super::print(&text(title, schema))
}
