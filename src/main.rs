use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod cli;

// Builds allocate from several threads at once (see Cargo.toml).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use runbook::checklist::{self, Request};
use runbook::diagnostics::{Diagnostic, Diagnostics};
use runbook::facts::{FactKind, Vocabulary};
use runbook::profile::Profile;
use runbook::project::Project;
use runbook::render::{self, Format, Terminal};
use runbook::{atomic, catalog};

/// Versioned, conditional runbooks: tailored checklists, offline search, a static help site.
#[derive(Parser)]
#[command(name = "runbook", version, about)]
struct Cli {
    /// Project root (the folder holding `runbooks/`).
    #[arg(short = 'C', global = true, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// When to use colour.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Validate everything; report every problem with file:line:col.
    Check,
    /// Runbooks, their revisions and version ranges, step counts.
    List {
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// One runbook in the terminal.
    Show {
        /// The runbook id.
        runbook: String,
        /// Set a fact: fact=value (repeatable).
        #[arg(long = "set", value_name = "FACT=VALUE")]
        set: Vec<String>,
        /// Show the revision of this date (YYYY-MM-DD) instead.
        #[arg(long, value_name = "DATE")]
        revision: Option<String>,
    },
    /// A checklist tailored to one customer.
    Checklist(ChecklistArgs),
    /// Full-text search over every step, offline.
    Search(cli::search::SearchArgs),
    /// (Re)build the search index; search also refreshes it when stale.
    Index(cli::search::IndexArgs),
    /// Build the static help site from book.toml.
    Build(cli::site::BuildArgs),
    /// Serve the built site on 127.0.0.1, rebuilt on change.
    Serve(cli::site::ServeArgs),
}

#[derive(clap::Args)]
struct ChecklistArgs {
    /// Customer profile (TOML).
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// Set or override a fact: fact=value (repeatable).
    #[arg(long = "set", value_name = "FACT=VALUE")]
    set: Vec<String>,
    /// Only these runbooks (repeatable).
    #[arg(long = "runbook", value_name = "ID")]
    runbooks: Vec<String>,
    /// Output format; by default from the -o file's extension, else md.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write to this file (atomically) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// A template that replaces the built-in one for the format.
    #[arg(long, value_name = "FILE")]
    template: Option<PathBuf>,
    /// Say why each step is included, and list the excluded ones with the reason.
    #[arg(long)]
    explain: bool,
    /// Refuse to run while a fact this checklist depends on is not given.
    #[arg(long)]
    strict: bool,
    /// On a terminal, ask for each missing fact that would change this checklist.
    #[arg(long)]
    ask: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color_err = use_color(cli.color, std::io::stderr().is_terminal());
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(diags) => {
            eprint!("{}", diags.render(color_err));
            let errors = diags.error_count();
            if errors > 1 {
                eprintln!("error: {errors} problems found");
            }
            ExitCode::from(1)
        }
    }
}

fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn stdout_color(cli: &Cli) -> bool {
    use_color(cli.color, std::io::stdout().is_terminal())
}

fn stderr_color(cli: &Cli) -> bool {
    use_color(cli.color, std::io::stderr().is_terminal())
}

fn load(root: &Path) -> Result<Project, Diagnostics> {
    Project::load(root).map(|(project, _warnings)| project)
}

fn run(cli: &Cli) -> Result<(), Diagnostics> {
    let root = &cli.root;
    match &cli.command {
        Command::Check => {
            let color = use_color(cli.color, std::io::stderr().is_terminal());
            let has_site = root.join(runbook::site::config::BOOK_FILE).is_file();
            // A plain book (a site without runbooks) has only its site to check.
            let runbooks = root.join(runbook::project::RUNBOOK_DIR).is_dir() || !has_site;
            let mut checked = Vec::new();
            let mut warned = 0;
            let project = if runbooks {
                let (project, warnings) = Project::load(root)?;
                eprint!("{}", warnings.render(color));
                warned += warnings.warning_count();
                let steps: usize = project
                    .runbooks
                    .iter()
                    .flat_map(|r| &r.revisions)
                    .map(|r| r.steps().count())
                    .sum();
                let revisions = project.runbooks.iter().map(|r| r.revisions.len()).sum();
                checked.push(format!(
                    "{}, {}, {}",
                    plural(project.runbooks.len(), "runbook"),
                    plural(revisions, "revision"),
                    plural(steps, "step")
                ));
                Some(project)
            } else {
                None
            };
            // A project that publishes a help site has its site checked too: its links
            // and chapters fail the build, so they fail the check.
            if has_site {
                let report = runbook::site::check(root, project)?;
                eprint!("{}", report.warnings.render(color));
                warned += report.warnings.warning_count();
                checked.push(format!(
                    "the help site ({}, {})",
                    plural(report.chapters, "chapter"),
                    plural(report.pages, "page")
                ));
            }
            let warned = match warned {
                0 => String::new(),
                1 => ", 1 warning".to_string(),
                n => format!(", {n} warnings"),
            };
            println!("checked {}: no errors{warned}", checked.join(" and "));
            Ok(())
        }
        Command::List { format } => {
            let project = load(root)?;
            match format {
                ListFormat::Text => print!("{}", catalog::list_text(&project)),
                ListFormat::Json => println!("{}", json(&catalog::entries(&project))?),
            }
            Ok(())
        }
        Command::Show {
            runbook,
            set,
            revision,
        } => {
            let project = load(root)?;
            let profile = Profile::resolve(&project.vocab, None, set)?;
            print!(
                "{}",
                catalog::show_text(&project, runbook, &profile.facts, revision.as_deref())?
            );
            Ok(())
        }
        Command::Checklist(args) => checklist_command(cli, args),
        Command::Search(args) => cli::search::search(root, stdout_color(cli), args),
        Command::Index(args) => cli::search::index(root, stderr_color(cli), args),
        Command::Build(args) => cli::site::build(root, stderr_color(cli), args),
        Command::Serve(args) => cli::site::serve(root, stderr_color(cli), args),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, Diagnostics> {
    serde_json::to_string_pretty(value)
        .map_err(|e| Diagnostic::error(format!("cannot write JSON: {e}")).into())
}

fn checklist_command(cli: &Cli, args: &ChecklistArgs) -> Result<(), Diagnostics> {
    let project = load(&cli.root)?;
    let mut profile = Profile::resolve(&project.vocab, args.profile.as_deref(), &args.set)?;
    let format = args
        .format
        .unwrap_or_else(|| format_from_extension(args.output.as_deref()));
    let request = |profile: &Profile| -> Result<checklist::Checklist, Diagnostics> {
        checklist::build(
            &project,
            &Request {
                profile,
                only: &args.runbooks,
                explain: args.explain,
            },
        )
    };
    let mut list = request(&profile)?;
    if args.ask && std::io::stdin().is_terminal() {
        let answered = ask(&project, &mut profile, &mut list, &request)?;
        if answered {
            offer_save(&project.vocab, &profile)?;
        }
    }
    if args.strict {
        let missing = checklist::open_facts(&list, &project.vocab);
        if !missing.is_empty() {
            let mut d = Diagnostic::error(format!(
                "--strict: {} fact{} this checklist depends on {} not given",
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                if missing.len() == 1 { "is" } else { "are" }
            ));
            for fact in missing {
                d = d.note(format!(
                    "{}: {}{}",
                    fact.id,
                    fact.question,
                    allowed(&fact.kind)
                ));
            }
            return Err(d
                .help("give them in the profile or with --set fact=value")
                .into());
        }
    }
    let terminal = Terminal {
        width: terminal_size::terminal_size()
            .map_or(100, |(w, _)| usize::from(w.0))
            .min(120),
        color: args.output.is_none() && use_color(cli.color, std::io::stdout().is_terminal()),
    };
    let text = render::checklist(&list, format, &cli.root, args.template.as_deref(), terminal)?;
    match &args.output {
        Some(path) => atomic::write(path, text.as_bytes())?,
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = out.write_all(text.as_bytes());
        }
    }
    Ok(())
}

fn allowed(kind: &FactKind) -> String {
    match kind {
        FactKind::Enum(values) => format!(
            " ({})",
            values.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        FactKind::Bool => " (true, false)".into(),
        FactKind::Version => " (a version, like 3.6)".into(),
        FactKind::Str => String::new(),
    }
}

fn format_from_extension(output: Option<&Path>) -> Format {
    match output.and_then(|p| p.extension()).and_then(|e| e.to_str()) {
        Some("html" | "htm") => Format::Html,
        Some("json") => Format::Json,
        Some("txt") => Format::Txt,
        _ => Format::Md,
    }
}

/// Asks for each missing fact that would change the checklist, until none is left; answers
/// can reveal further questions. Returns whether anything was answered.
fn ask(
    project: &Project,
    profile: &mut Profile,
    list: &mut checklist::Checklist,
    request: &dyn Fn(&Profile) -> Result<checklist::Checklist, Diagnostics>,
) -> Result<bool, Diagnostics> {
    let mut answered = false;
    let mut skipped: Vec<String> = Vec::new();
    let stdin = std::io::stdin();
    loop {
        let missing: Vec<_> = checklist::open_facts(list, &project.vocab)
            .into_iter()
            .filter(|f| !skipped.contains(&f.id))
            .collect();
        let Some(fact) = missing.first() else {
            return Ok(answered);
        };
        loop {
            eprint!("{}{} [Enter to skip]: ", fact.question, allowed(&fact.kind));
            let mut line = String::new();
            if stdin.lock().read_line(&mut line).unwrap_or(0) == 0 {
                return Ok(answered);
            }
            let line = line.trim();
            if line.is_empty() {
                skipped.push(fact.id.clone());
                break;
            }
            match fact.parse_value(line) {
                Ok(v) => {
                    profile.facts.insert(fact.id.clone(), v);
                    answered = true;
                    *list = request(profile)?;
                    break;
                }
                Err(e) => eprintln!(
                    "{}{}",
                    e.message,
                    e.help.map(|h| format!(" ({h})")).unwrap_or_default()
                ),
            }
        }
    }
}

fn offer_save(vocab: &Vocabulary, profile: &Profile) -> Result<(), Diagnostics> {
    eprint!("Save these answers as a profile? File name [Enter to skip]: ");
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
        return Ok(());
    }
    let text = runbook::profile::to_toml(profile, vocab);
    atomic::write(Path::new(line.trim()), text.as_bytes())?;
    eprintln!("Saved {}", line.trim());
    Ok(())
}
