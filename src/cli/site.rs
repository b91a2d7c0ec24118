//! `runbook build` and `runbook serve`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use runbook::diagnostics::Diagnostics;
use runbook::site::serve::{Event, ServeOptions};
use runbook::site::{self, BuildOptions, BuildReport};

#[derive(clap::Args)]
pub struct BuildArgs {
    /// Where to write the site (default: `[build] build-dir` of book.toml, else `book`).
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0: any free port; the address is printed).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Where to write the site (default: `[build] build-dir` of book.toml, else `book`).
    #[arg(long, value_name = "DIR")]
    pub dest: Option<PathBuf>,
    /// Serve without rebuilding on change.
    #[arg(long)]
    pub no_watch: bool,
}

fn summary(r: &BuildReport) -> String {
    let size = if r.bytes >= 1 << 20 {
        format!("{:.1} MB", r.bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{} KB", r.bytes.div_ceil(1024))
    };
    if r.partial {
        return format!(
            "updated {} into {}: {} pages, {} files, {size}",
            if r.chapters == 1 {
                "1 chapter".to_string()
            } else {
                format!("{} chapters", r.chapters)
            },
            r.dest.display(),
            r.pages,
            r.files
        );
    }
    format!(
        "built {} and {} into {}: {}, {}, {size}",
        super::plural(r.chapters, "chapter"),
        super::plural(r.runbooks, "runbook"),
        r.dest.display(),
        super::plural(r.pages, "page"),
        super::plural(r.files, "file")
    )
}

pub fn build(root: &Path, color: bool, args: &BuildArgs) -> Result<(), Diagnostics> {
    let report = site::build(
        root,
        &BuildOptions {
            dest: args.dest.clone(),
            progress: std::io::stderr().is_terminal(),
        },
    )?;
    eprint!("{}", report.warnings.render(color));
    eprintln!("{}", summary(&report));
    Ok(())
}

pub fn serve(root: &Path, color: bool, args: &ServeArgs) -> Result<(), Diagnostics> {
    let opts = ServeOptions {
        port: args.port,
        build: BuildOptions {
            dest: args.dest.clone(),
            progress: std::io::stderr().is_terminal(),
        },
        watch: !args.no_watch,
    };
    site::serve::serve(root, &opts, &|event| match event {
        Event::Listening(addr, dest) => {
            // The server goes on serving when the output's reader has gone.
            let _ = super::print(&format!(
                "Serving {} at http://{addr}/ (Ctrl-C to stop)\n",
                dest.display()
            ));
        }
        Event::Rebuilding(paths) => {
            let first = paths
                .first()
                .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
                .unwrap_or_default();
            let more = if paths.len() > 1 {
                format!(" and {} more", paths.len() - 1)
            } else {
                String::new()
            };
            eprintln!("changed: {first}{more}; rebuilding");
        }
        Event::Built(Ok(report)) => {
            eprint!("{}", report.warnings.render(color));
            eprintln!("{}", summary(report));
        }
        Event::Built(Err(diags)) => {
            eprint!("{}", diags.render(color));
            eprintln!("the build failed; still serving the previous site");
        }
        Event::WatchFailed(why) => eprintln!("cannot watch for changes: {why}"),
    })
}
