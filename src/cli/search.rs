//! `runbook search` and `runbook index`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use runbook::diagnostics::{Diagnostic, Diagnostics};
use runbook::search::{self, Outcome, Progress, Request};

#[derive(Clone, Copy, ValueEnum)]
pub enum SearchFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct SearchArgs {
    /// What to look for: words (all must match), "a phrase", a prefix*.
    #[arg(required = true, value_name = "QUERY")]
    pub query: Vec<String>,
    /// Only steps that may apply to this customer profile (TOML).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Set or override a fact: fact=value (repeatable).
    #[arg(long = "set", value_name = "FACT=VALUE")]
    pub set: Vec<String>,
    /// Only steps of this runbook (repeatable).
    #[arg(long = "runbook", value_name = "ID")]
    pub runbooks: Vec<String>,
    /// Only steps of this kind: requirement, action, check, note, warning (repeatable).
    #[arg(long = "kind", value_name = "KIND")]
    pub kinds: Vec<String>,
    /// At most this many hits.
    #[arg(long, default_value_t = 10, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: SearchFormat,
}

#[derive(clap::Args)]
pub struct IndexArgs {
    /// Rebuild from scratch.
    #[arg(long)]
    pub force: bool,
}

/// A progress bar on standard error, shown only on a terminal and only once the work has
/// taken more than a second.
struct Bar {
    bar: ProgressBar,
    /// Set when the work is over; guards showing the bar against finishing it.
    done: Arc<Mutex<bool>>,
}

impl Bar {
    fn new() -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let done = Arc::new(Mutex::new(false));
        if std::io::stderr().is_terminal() {
            let (bar, done) = (bar.clone(), Arc::clone(&done));
            std::thread::spawn(move || {
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs(1) {
                    std::thread::sleep(Duration::from_millis(50));
                    if done.lock().map_or(true, |d| *d) {
                        return;
                    }
                }
                if let Ok(done) = done.lock()
                    && !*done
                {
                    bar.set_draw_target(ProgressDrawTarget::stderr());
                    bar.enable_steady_tick(Duration::from_millis(120));
                }
            });
        }
        Bar { bar, done }
    }
}

impl Progress for Bar {
    fn stage(&self, message: &str, total: Option<u64>) {
        let template = match total {
            Some(_) => "{spinner} {msg} [{bar:30}] {pos}/{len} runbooks ({eta})",
            None => "{spinner} {msg}...",
        };
        self.bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        self.bar.set_length(total.unwrap_or(0));
        self.bar.set_position(0);
        self.bar.set_message(message.to_string());
    }

    fn advance(&self, units: u64) {
        self.bar.inc(units);
    }

    fn finish(&self) {
        if let Ok(mut done) = self.done.lock() {
            *done = true;
        }
        self.bar.finish_and_clear();
    }

    fn notice(&self, message: &str) {
        self.bar.suspend(|| eprintln!("warning: {message}"));
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, Diagnostics> {
    serde_json::to_string_pretty(value)
        .map_err(|e| Diagnostic::error(format!("cannot write JSON: {e}")).into())
}

pub fn search(root: &Path, color: bool, args: &SearchArgs) -> Result<(), Diagnostics> {
    let query = args.query.join(" ");
    let bar = Bar::new();
    let results = search::search(
        root,
        &Request {
            query: &query,
            runbooks: &args.runbooks,
            kinds: &args.kinds,
            profile: args.profile.as_deref(),
            set: &args.set,
            limit: args.limit as usize,
        },
        &bar,
    )?;
    bar.finish();
    let text = match args.format {
        SearchFormat::Text => search::render_text(&results, color),
        SearchFormat::Json => {
            if results.hits.is_empty() {
                eprintln!("no results");
            }
            if let Some(s) = &results.suggestion {
                eprintln!("did you mean \"{s}\"?");
            }
            json(&results.hits)? + "\n"
        }
    };
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(())
}

pub fn index(root: &Path, args: &IndexArgs) -> Result<(), Diagnostics> {
    let bar = Bar::new();
    let result = search::index(root, args.force, &bar);
    bar.finish();
    super::print(&format!("{}\n", describe(&result?)))
}

/// What `index` did, in one line.
fn describe(summary: &search::IndexSummary) -> String {
    let what = match summary.outcome {
        Outcome::UpToDate => "search index is up to date".to_string(),
        Outcome::Refreshed { runbooks, chapters } => {
            let mut what = Vec::new();
            match runbooks {
                0 => {}
                1 => what.push("1 runbook file".to_string()),
                n => what.push(format!("{n} runbook files")),
            }
            if chapters {
                what.push("the chapters".to_string());
            }
            if what.is_empty() {
                "search index refreshed (shared files changed)".to_string()
            } else {
                format!("search index refreshed ({} changed)", what.join(" and "))
            }
        }
        Outcome::Rebuilt => "search index built".to_string(),
    };
    format!(
        "{what}: {} runbooks, {} steps, {} chapter sections",
        summary.runbooks, summary.steps, summary.chapter_sections
    )
}
