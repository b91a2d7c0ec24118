// As in the library: a `Diagnostic` travels only on the error path, where its size costs
// nothing worth boxing for.
#![allow(clippy::result_large_err)]

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

mod cli;

// Builds allocate from several threads at once (see Cargo.toml).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use runbook::body::Template;
use runbook::checklist::{self, Request};
use runbook::diagnostics::{Diagnostic, Diagnostics};
use runbook::facts::{Fact, FactKind, Vocabulary};
use runbook::profile::{Customer, Profile};
use runbook::project::{self, Project};
use runbook::render::{self, Format, Terminal};
use runbook::{atomic, catalog};

/// Versioned, conditional runbooks: tailored checklists, offline search, a static help site.
#[derive(Parser)]
#[command(name = "runbook", version, about)]
struct Cli {
    /// Start in this folder instead of the current one: the project is the first of it and its
    /// parents that holds `runbooks/` or `book.toml`.
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
enum CheckFormat {
    Human,
    /// One object: every diagnostic with file, line, column, severity, message and help.
    Json,
    /// `::error file=…,line=…::message` lines, which GitHub Actions shows on the lines.
    Github,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Validate everything; report every problem with file:line:col.
    Check {
        /// How to report: for people, as JSON, or as GitHub Actions annotations.
        #[arg(long, value_enum, default_value = "human")]
        format: CheckFormat,
    },
    /// A new project: facts, a runbook, a shared step, a profile and the help site's book.
    Init(cli::init::InitArgs),
    /// JSON Schemas of the files a writer edits, for editors' completion and checks.
    Schema(cli::schema::SchemaArgs),
    /// A shell's completion script for runbook, on standard output.
    Completions { shell: clap_complete::Shell },
    /// A team's run of one customer's checklist, recorded in runs/NAME.jsonl.
    Run {
        #[command(subcommand)]
        command: cli::run::RunCommand,
    },
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
        /// Show the revision of this date (YYYY-MM-DD) or id instead.
        #[arg(long, value_name = "DATE")]
        revision: Option<String>,
        /// List, per source article, the parts its steps encode and which steps.
        #[arg(long, conflicts_with_all = ["set", "revision"])]
        sources: bool,
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
    /// Ask (on a terminal) for each missing fact that would change this checklist, and for the
    /// customer's name, domain and time zone where it uses them.
    #[arg(long)]
    ask: bool,
}

/// Why a command failed.
enum Failure {
    /// Bad content or input: exit 1.
    Input(Diagnostics),
    /// A command line that cannot work, found after parsing it: exit 2, as clap's own.
    Usage(Diagnostic),
    /// Problems already reported in the form asked for: exit 1.
    Reported,
}

impl From<Diagnostics> for Failure {
    fn from(d: Diagnostics) -> Self {
        Failure::Input(d)
    }
}

impl From<Diagnostic> for Failure {
    fn from(d: Diagnostic) -> Self {
        Failure::Input(d.into())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color_err = use_color(cli.color, std::io::stderr().is_terminal());
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(diags)) => {
            cli::note(&diags.render(color_err));
            let errors = diags.error_count();
            if errors > 1 {
                cli::note(&format!("error: {errors} problems found\n"));
            }
            ExitCode::from(1)
        }
        Err(Failure::Usage(d)) => {
            cli::note(&Diagnostics::from(d).render(color_err));
            ExitCode::from(2)
        }
        Err(Failure::Reported) => ExitCode::from(1),
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

fn stdout_color(cli: &Cli) -> bool {
    use_color(cli.color, std::io::stdout().is_terminal())
}

fn stderr_color(cli: &Cli) -> bool {
    use_color(cli.color, std::io::stderr().is_terminal())
}

fn load(root: &Path) -> Result<Project, Diagnostics> {
    Project::load(root).map(|(project, _warnings)| project)
}

fn run(cli: &Cli) -> Result<(), Failure> {
    let root = &project::find_root(&cli.root);
    match &cli.command {
        Command::Check { format } => check(cli, root, *format),
        Command::Init(args) => Ok(cli::init::init(&cli.root, args)?),
        Command::Schema(args) => Ok(cli::schema::schema(args)?),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "runbook", &mut out);
            cli::print(&String::from_utf8_lossy(&out))?;
            Ok(())
        }
        Command::List { format } => {
            let project = load(root)?;
            let text = match format {
                ListFormat::Text => catalog::list_text(&project),
                ListFormat::Json => json(&catalog::entries(&project))? + "\n",
            };
            Ok(cli::print(&text)?)
        }
        Command::Show {
            runbook,
            set,
            revision,
            sources,
        } => {
            let project = load(root)?;
            if *sources {
                return Ok(cli::print(&catalog::sources_text(&project, runbook)?)?);
            }
            let profile = project::profile(&project.vocab, None, set)?;
            let text = catalog::show_text(&project, runbook, &profile, revision.as_deref())?;
            Ok(cli::print(&text)?)
        }
        Command::Checklist(args) => checklist_command(cli, root, args),
        Command::Search(args) => Ok(cli::search::search(root, stdout_color(cli), args)?),
        Command::Index(args) => Ok(cli::search::index(root, args)?),
        Command::Build(args) => Ok(cli::site::build(root, stderr_color(cli), args)?),
        Command::Serve(args) => Ok(cli::site::serve(root, stderr_color(cli), args)?),
        Command::Run { command } => Ok(cli::run::run(root, command)?),
    }
}

/// `runbook check`: the runbooks, and the help site where there is one; every problem of both
/// in one run.
fn check(cli: &Cli, root: &Path, format: CheckFormat) -> Result<(), Failure> {
    let has_site = root.join(runbook::book::config::BOOK_FILE).is_file();
    // A plain book (a site without runbooks) has only its site to check.
    let runbooks = root.join(runbook::project::RUNBOOK_DIR).is_dir() || !has_site;
    let mut checked = Vec::new();
    let mut found = Diagnostics::default();
    let mut loaded = true;
    let project = if runbooks {
        match Project::load(root) {
            Ok((project, warnings)) => {
                found.extend(warnings);
                let steps: usize = project
                    .runbooks
                    .iter()
                    .flat_map(|r| &r.revisions)
                    .map(|r| r.steps().count())
                    .sum();
                let revisions = project.runbooks.iter().map(|r| r.revisions.len()).sum();
                checked.push(format!(
                    "{}, {}, {}",
                    cli::plural(project.runbooks.len(), "runbook"),
                    cli::plural(revisions, "revision"),
                    cli::plural(steps, "step")
                ));
                Some(project)
            }
            Err(diags) => {
                found.extend(diags);
                loaded = false;
                None
            }
        }
    } else {
        None
    };
    // A project that publishes a help site has its site checked too: its links and chapters
    // fail the build, so they fail the check. (Not over runbooks that did not load: it would
    // only repeat their errors.)
    if has_site && loaded {
        match runbook::site::check(root, project) {
            Ok(report) => {
                found.extend(report.warnings);
                checked.push(format!(
                    "the help site ({}, {})",
                    cli::plural(report.chapters, "chapter"),
                    cli::plural(report.pages, "page")
                ));
            }
            Err(diags) => found.extend(diags),
        }
    }
    match format {
        CheckFormat::Human => {
            if found.has_errors() {
                return Err(Failure::Input(found));
            }
            cli::note(&found.render(use_color(cli.color, std::io::stderr().is_terminal())));
            let warned = match found.warning_count() {
                0 => String::new(),
                1 => ", 1 warning".to_string(),
                n => format!(", {n} warnings"),
            };
            cli::print(&format!(
                "checked {}: no errors{warned}\n",
                checked.join(" and ")
            ))?;
        }
        CheckFormat::Json => {
            #[derive(serde::Serialize)]
            struct Report<'a> {
                errors: usize,
                warnings: usize,
                diagnostics: Vec<runbook::diagnostics::Record<'a>>,
            }
            let report = Report {
                errors: found.error_count(),
                warnings: found.warning_count(),
                diagnostics: found.items.iter().map(Diagnostic::record).collect(),
            };
            cli::print(&(json(&report)? + "\n"))?;
        }
        CheckFormat::Github => {
            let lines: String = found.items.iter().map(|d| d.github() + "\n").collect();
            cli::print(&lines)?;
        }
    }
    if found.has_errors() {
        return Err(Failure::Reported);
    }
    Ok(())
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, Diagnostics> {
    serde_json::to_string_pretty(value)
        .map_err(|e| Diagnostic::error(format!("cannot write JSON: {e}")).into())
}

fn checklist_command(cli: &Cli, root: &Path, args: &ChecklistArgs) -> Result<(), Failure> {
    if args.ask && !std::io::stdin().is_terminal() {
        return Err(Failure::Usage(
            Diagnostic::error("--ask needs a terminal on standard input to ask its questions")
                .help(
                    "give the facts with --profile FILE or --set fact=value; --strict names \
                     the ones this checklist still needs",
                ),
        ));
    }
    let format = match args.format {
        Some(format) => format,
        None => format_from_extension(args.output.as_deref()).map_err(Failure::Usage)?,
    };
    let project = load(root)?;
    let mut profile = project::profile(&project.vocab, args.profile.as_deref(), &args.set)?;
    let request = |profile: &Profile| -> Result<checklist::Checklist, Diagnostics> {
        let (vocab, customer, facts) = (&project.vocab, &profile.customer, &profile.facts);
        // Text output shows step text as written; the others carry it as Markdown.
        let fill = match format {
            Format::Txt => Template::new(vocab, customer, facts),
            _ => Template::markdown(vocab, customer, facts),
        };
        let req = Request {
            profile,
            only: &args.runbooks,
            explain: args.explain,
        };
        checklist::build(&project, &req, &fill)
    };
    let mut list = request(&profile)?;
    if args.ask {
        let facts = ask(&project, &mut profile, &mut list, &request)?;
        let customer = ask_customer(&mut profile, &mut list, &request)?;
        if facts || customer {
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
                d = d.note(format!("{}: {}{}", fact.id, fact.question, allowed(fact)));
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
    let text = render::checklist(&list, format, root, args.template.as_deref(), terminal)?;
    match &args.output {
        Some(path) => atomic::write(path, text.as_bytes())?,
        None => cli::print(&text)?,
    }
    Ok(())
}

/// The values a fact takes, for a question or a note: " (1-tier, 2-tier)".
fn allowed(fact: &Fact) -> String {
    if let (FactKind::Version, Some(minimum)) = (&fact.kind, &fact.minimum) {
        return format!(" (a version, {minimum} or later)");
    }
    match &fact.kind {
        FactKind::Enum(values) => format!(
            " ({})",
            values.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        FactKind::Bool => " (true, false)".into(),
        FactKind::Version => " (a version, like 3.6)".into(),
        FactKind::Str => String::new(),
    }
}

/// The format an `-o` file's name asks for: Markdown for a name without an extension, an
/// error for an extension that is none of the formats (a `.docx` is not written as Markdown).
fn format_from_extension(output: Option<&Path>) -> Result<Format, Diagnostic> {
    let Some(path) = output else {
        return Ok(Format::Md);
    };
    match path.extension().map(|e| e.to_string_lossy().to_lowercase()) {
        None => Ok(Format::Md),
        Some(ext) => match ext.as_str() {
            "md" | "markdown" => Ok(Format::Md),
            "html" | "htm" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            "txt" => Ok(Format::Txt),
            _ => Err(Diagnostic::error(format!(
                "-o {}: no checklist format is written as `.{ext}`",
                path.display()
            ))
            .help(
                "the formats are md, html, txt and json: name the file .md, .html, .txt or \
                 .json, or choose the format with --format",
            )),
        },
    }
}

/// Reads one answer from the terminal; `None` at the end of the input.
fn prompt(question: &str) -> Option<String> {
    cli::note(question);
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim().to_string()),
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
    loop {
        let missing: Vec<_> = checklist::open_facts(list, &project.vocab)
            .into_iter()
            .filter(|f| !skipped.contains(&f.id))
            .collect();
        let Some(fact) = missing.first() else {
            return Ok(answered);
        };
        loop {
            let question = format!("{}{} [Enter to skip]: ", fact.question, allowed(fact));
            let Some(line) = prompt(&question) else {
                return Ok(answered);
            };
            if line.is_empty() {
                skipped.push(fact.id.clone());
                break;
            }
            let parsed = fact
                .parse_value(&line)
                .and_then(|v| fact.check_supported(&v).map(|()| v));
            match parsed {
                Ok(v) => {
                    profile.facts.insert(fact.id.clone(), v);
                    answered = true;
                    *list = request(profile)?;
                    break;
                }
                Err(e) => cli::note(&format!(
                    "{}{}\n",
                    e.message,
                    e.help.map(|h| format!(" ({h})")).unwrap_or_default()
                )),
            }
        }
    }
}

/// Asks for the customer's name (every checklist's title names the customer) and for the
/// domain and time zone when a step of this checklist uses them, where the profile does not
/// give them. Returns whether anything was answered.
fn ask_customer(
    profile: &mut Profile,
    list: &mut checklist::Checklist,
    request: &dyn Fn(&Profile) -> Result<checklist::Checklist, Diagnostics>,
) -> Result<bool, Diagnostics> {
    let used = customer_fields_used(profile, request)?;
    let mut answered = false;
    for (field, question) in Customer::FIELDS {
        let missing = profile.customer.field(field).is_some_and(Option::is_none);
        if !missing || (field != "name" && !used.contains(&field)) {
            continue;
        }
        let Some(line) = prompt(&format!("{question} [Enter to skip]: ")) else {
            break;
        };
        if let (false, Some(slot)) = (line.is_empty(), profile.customer.field_mut(field)) {
            *slot = Some(line);
            answered = true;
        }
    }
    if answered {
        *list = request(profile)?;
    }
    Ok(answered)
}

/// The customer fields that the steps of this checklist use: those whose value shows up in
/// its runbooks when each missing one is given a marker.
fn customer_fields_used(
    profile: &Profile,
    request: &dyn Fn(&Profile) -> Result<checklist::Checklist, Diagnostics>,
) -> Result<Vec<&'static str>, Diagnostics> {
    let marker = |field: &str| format!("runbook-ask-marker-customer-{field}");
    let mut probe = profile.clone();
    for (field, _) in Customer::FIELDS {
        if let Some(slot @ None) = probe.customer.field_mut(field) {
            *slot = Some(marker(field));
        }
    }
    let list = request(&probe)?;
    let text = json(&list.runbooks)?;
    Ok(Customer::FIELDS
        .iter()
        .map(|(field, _)| *field)
        .filter(|field| text.contains(&marker(field)))
        .collect())
}

fn offer_save(vocab: &Vocabulary, profile: &Profile) -> Result<(), Diagnostics> {
    let Some(name) = prompt("Save these answers as a profile? File name [Enter to skip]: ") else {
        return Ok(());
    };
    if name.is_empty() {
        return Ok(());
    }
    let text = runbook::profile::to_toml(profile, vocab);
    atomic::write(Path::new(&name), text.as_bytes())?;
    cli::note(&format!("Saved {name}\n"));
    Ok(())
}
