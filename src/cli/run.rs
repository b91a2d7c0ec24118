//! `runbook run`: a team's run of one customer's checklist, kept in `runs/NAME.jsonl` and
//! shared through git. The record's model is `runbook::run` (the engine's, which the checklist
//! builder runs too); this module reads and appends the files, asks git who and which commit,
//! reads the clock, and prints.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use time::OffsetDateTime;

use runbook::atomic;
use runbook::body::Template;
use runbook::checklist::Checklist;
use runbook::diagnostics::{Diagnostic, Diagnostics, did_you_mean};
use runbook::profile::Profile;
use runbook::project::Project;
use runbook::render::{self, Terminal};
use runbook::run::{self, Act, Event, Line, Mark, Record};

/// Where a project keeps its runs, one `NAME.jsonl` each.
const RUN_DIR: &str = "runs";
/// The line `runbook run start` puts in `.gitattributes`, so that git merges runs by lines.
const GIT_ATTRIBUTES: &str = "runs/*.jsonl merge=union";

#[derive(Subcommand)]
pub enum RunCommand {
    /// Pin a checklist for one customer.
    Start {
        name: String,
        /// Customer profile (TOML).
        #[arg(long, value_name = "FILE")]
        profile: Option<PathBuf>,
        /// Set or override a fact: fact=value (repeatable).
        #[arg(long = "set", value_name = "FACT=VALUE")]
        set: Vec<String>,
        /// Who starts it (default: git's user.name, else the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Record steps as done, by number (2.1.3) or address (install#get-consent).
    Done {
        name: String,
        #[arg(required = true, value_name = "STEP")]
        steps: Vec<String>,
        #[arg(long)]
        by: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Record a step as skipped, with the reason.
    Skip {
        name: String,
        step: String,
        #[arg(long, required = true)]
        note: String,
        #[arg(long)]
        by: Option<String>,
    },
    /// Take back a step's done or skipped.
    Undo {
        name: String,
        step: String,
        #[arg(long)]
        by: Option<String>,
    },
    /// Progress, next steps, timers, and what changed in the runbooks since the start.
    Status {
        name: String,
        #[arg(long, value_enum, default_value = "text")]
        format: TextOrJson,
    },
    /// Every run, with its progress.
    List {
        #[arg(long, value_enum, default_value = "text")]
        format: TextOrJson,
    },
    /// The checklist with who did what, when, and notes.
    Report {
        name: String,
        /// Output format; by default from the -o file's extension, else md.
        #[arg(long, value_enum)]
        format: Option<ReportFormat>,
        /// Write to this file (atomically) instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Adopt the current runbooks: unchanged done steps stay done, changed ones reopen.
    Rebase {
        name: String,
        #[arg(long)]
        by: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    Md,
    Html,
    Json,
}

pub fn run(root: &Path, command: &RunCommand) -> Result<(), Diagnostics> {
    let (project, _warnings) = Project::load(root)?;
    let now = OffsetDateTime::now_utc();
    match command {
        RunCommand::Start {
            name,
            profile,
            set,
            by,
        } => start(
            root,
            &project,
            name,
            profile.as_deref(),
            set,
            by.as_deref(),
            now,
        ),
        RunCommand::Done {
            name,
            steps,
            by,
            note,
        } => {
            let run = Opened::open(root, &project, name)?;
            let by = who(root, by.as_deref());
            let act = Act::Done { note: note.clone() };
            run.record_under_lock(|state| {
                let mut lines = Vec::new();
                let mut seen = Vec::new();
                for wanted in steps {
                    let step = state.find(wanted)?;
                    if seen.contains(&step.pinned.address) {
                        return Err(run::already(name, step));
                    }
                    seen.push(step.pinned.address.clone());
                    lines.push(line(&by, now, state.act(name, wanted, &act, &run.now)?));
                }
                Ok(lines)
            })?;
            let numbers: Vec<&str> = steps.iter().map(String::as_str).collect();
            super::print(&format!("{name}: done {}\n", numbers.join(", ")))
        }
        RunCommand::Skip {
            name,
            step,
            note,
            by,
        } => {
            let run = Opened::open(root, &project, name)?;
            let by = who(root, by.as_deref());
            let act = Act::Skip { note: note.clone() };
            let number = run.record_under_lock(|state| {
                Ok(vec![line(&by, now, state.act(name, step, &act, &run.now)?)])
            })?;
            super::print(&format!("{name}: skipped {}\n", number.join(", ")))
        }
        RunCommand::Undo { name, step, by } => {
            let run = Opened::open(root, &project, name)?;
            let by = who(root, by.as_deref());
            let number = run.record_under_lock(|state| {
                Ok(vec![line(
                    &by,
                    now,
                    state.act(name, step, &Act::Undo, &run.now)?,
                )])
            })?;
            super::print(&format!(
                "{name}: step {} is open again\n",
                number.join(", ")
            ))
        }
        RunCommand::Status { name, format } => {
            let run = Opened::open(root, &project, name)?;
            let status = run::status(name, &run.record, &run.now, now);
            match format {
                TextOrJson::Json => super::print(&render::json(&status)?),
                TextOrJson::Text => super::print(&status_text(&status)),
            }
        }
        RunCommand::List { format } => list(root, &project, *format, now),
        RunCommand::Report {
            name,
            format,
            output,
        } => {
            let format = match (format, output) {
                (Some(f), _) => *f,
                (None, Some(path)) => match path.extension().and_then(|e| e.to_str()) {
                    Some("html" | "htm") => ReportFormat::Html,
                    Some("json") => ReportFormat::Json,
                    _ => ReportFormat::Md,
                },
                (None, None) => ReportFormat::Md,
            };
            let run = Opened::open(root, &project, name)?;
            let status = run::status(name, &run.record, &run.now, now);
            let report = run::report(&run.record, &status, &run.now);
            let terminal = Terminal {
                width: 100,
                color: false,
            };
            let text = match format {
                ReportFormat::Json => render::json(&report)?,
                ReportFormat::Md => {
                    render::render("run-report.md.j2", "report", &report, root, None, terminal)?
                }
                ReportFormat::Html => render::render(
                    "run-report.html.j2",
                    "report",
                    &report,
                    root,
                    None,
                    terminal,
                )?,
            };
            match output {
                Some(path) => Ok(atomic::write(path, text.as_bytes())?),
                None => super::print(&text),
            }
        }
        RunCommand::Rebase { name, by } => {
            let run = Opened::open(root, &project, name)?;
            let before = run::status(name, &run.record, &run.now, now);
            let by = who(root, by.as_deref());
            let commit = git(root, &["rev-parse", "HEAD"]);
            run.record_under_lock(|_| {
                Ok(vec![line(
                    &by,
                    now,
                    Event::Rebase {
                        commit: commit.clone(),
                        steps: run::pin(&run.now),
                    },
                )])
            })?;
            let count = |d: run::Drift| before.steps.iter().filter(|s| s.drift == Some(d)).count();
            let reopened = before
                .steps
                .iter()
                .filter(|s| s.drift == Some(run::Drift::Changed) && s.state != Mark::Open)
                .count();
            super::print(&format!(
                "{name}: rebased on the current runbooks: {} changed ({reopened} of them reopened), {} no longer apply, {} new\n",
                count(run::Drift::Changed),
                count(run::Drift::Removed),
                count(run::Drift::New),
            ))
        }
    }
}

/// A line recorded now by `by`, with a fresh id.
fn line(by: &str, now: OffsetDateTime, event: Event) -> Line {
    Line::new(
        uuid::Uuid::new_v4().simple().to_string(),
        run::timestamp(now),
        by,
        event,
    )
}

fn run_path(root: &Path, name: &str) -> PathBuf {
    root.join(RUN_DIR).join(format!("{name}.jsonl"))
}

/// Who records: `--by`, else git's `user.name`, else the login name.
fn who(root: &Path, by: Option<&str>) -> String {
    by.map(str::to_string)
        .or_else(|| git(root, &["config", "user.name"]))
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .unwrap_or_else(|| "unknown".to_string())
}

/// A git answer, or `None` outside a repository or without git.
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn build(project: &Project, profile: &Profile) -> Result<Checklist, Diagnostics> {
    // The pinned text is Markdown, as the report renders it.
    let fill = Template::markdown(&project.vocab, &profile.customer, &profile.facts);
    run::checklist(project, profile, &fill)
}

fn start(
    root: &Path,
    project: &Project,
    name: &str,
    profile: Option<&Path>,
    set: &[String],
    by: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), Diagnostics> {
    run::check_name(name)?;
    let path = run_path(root, name);
    if path.exists() {
        return Err(
            Diagnostic::error(format!("there is a run `{name}` already"))
                .path(&path)
                .help("choose another name, or carry on with `runbook run status`")
                .into(),
        );
    }
    let profile = crate::project::profile(&project.vocab, profile, set)?;
    let list = build(project, &profile)?;
    let commit = git(root, &["rev-parse", "HEAD"]);
    let event = run::start(project, &list, name, &profile, commit)?;
    let total = list.totals.steps;
    let line = line(&who(root, by), now, event);
    let dir = root.join(RUN_DIR);
    std::fs::create_dir_all(&dir)
        .map_err(|e| Diagnostic::error(format!("cannot make {}: {e}", dir.display())).path(&dir))?;
    let attributes = root.join(".gitattributes");
    let current = std::fs::read_to_string(&attributes).unwrap_or_default();
    let mut said = String::new();
    if !current.lines().any(|l| l.trim() == GIT_ATTRIBUTES) {
        let mut text = current.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(GIT_ATTRIBUTES);
        text.push('\n');
        atomic::write(&attributes, text.as_bytes())?;
        said = format!(
            "added `{GIT_ATTRIBUTES}` to .gitattributes: git merges runs recorded on two branches line by line\n"
        );
    }
    atomic::write(&path, line.to_jsonl().as_bytes())?;
    super::note(&said);
    super::print(&format!(
        "started run {name}: {total} steps, recorded in {}\n",
        Path::new(RUN_DIR).join(format!("{name}.jsonl")).display()
    ))
}

/// A run's record, read, with the checklist the current runbooks give for its facts.
struct Opened {
    path: PathBuf,
    /// The path as messages name it.
    shown: String,
    record: Record,
    now: Checklist,
}

impl Opened {
    fn open(root: &Path, project: &Project, name: &str) -> Result<Opened, Diagnostics> {
        run::check_name(name)?;
        let path = run_path(root, name);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let names = run_names(root);
                let mut d = Diagnostic::error(format!("there is no run `{name}`"));
                d = match did_you_mean(name, names.iter().map(String::as_str)) {
                    Some(close) => d.help(format!("did you mean `{close}`?")),
                    None if names.is_empty() => {
                        d.help("start one with `runbook run start NAME --profile FILE`")
                    }
                    None => d.help(format!("the runs are: {}", names.join(", "))),
                };
                return Err(d.into());
            }
            Err(e) => {
                return Err(
                    Diagnostic::error(format!("cannot read {}: {e}", path.display()))
                        .path(&path)
                        .into(),
                );
            }
        };
        let shown = Path::new(RUN_DIR).join(format!("{name}.jsonl"));
        let record = Record::parse(&shown.display().to_string(), &text)?;
        if let Some(line) = record.cut_short {
            super::note(&format!(
                "warning: {}:{line}: the last line was cut short (a write interrupted); it is left out\n",
                shown.display()
            ));
        }
        let profile = record.profile(project, &shown.display().to_string())?;
        let now = build(project, &profile)?;
        Ok(Opened {
            path,
            shown: shown.display().to_string(),
            record,
            now,
        })
    }

    /// Records the lines `make` gives for the record as it is under the file's lock (read
    /// anew, so that a step another process recorded a moment ago counts), with one write and
    /// an fsync: two processes recording at once lose nothing and record nothing twice.
    /// Returns the numbers of the steps recorded.
    fn record_under_lock(
        &self,
        make: impl FnOnce(&run::State) -> Result<Vec<Line>, Diagnostic>,
    ) -> Result<Vec<String>, Diagnostic> {
        let fail = |e: std::io::Error| {
            Diagnostic::error(format!("cannot write {}: {e}", self.path.display())).path(&self.path)
        };
        let mut file = std::fs::File::options()
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(fail)?;
        file.lock().map_err(fail)?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(fail)?;
        let state = Record::parse(&self.shown, &text)?.replay();
        let lines = make(&state)?;
        let numbers = lines
            .iter()
            .filter_map(|l| match &l.event {
                Event::Done { step, .. } | Event::Skip { step, .. } | Event::Undo { step } => {
                    state.find(step).ok().map(|s| s.pinned.number.clone())
                }
                _ => None,
            })
            .collect();
        // After a last line cut short, the next line starts on a line of its own.
        let mut out = String::new();
        if !text.is_empty() && !text.ends_with('\n') {
            out.push('\n');
        }
        out.extend(lines.iter().map(Line::to_jsonl));
        file.write_all(out.as_bytes()).map_err(fail)?;
        file.sync_data().map_err(fail)?;
        Ok(numbers)
    }
}

fn run_names(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join(RUN_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".jsonl").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

fn list(
    root: &Path,
    project: &Project,
    format: TextOrJson,
    now: OffsetDateTime,
) -> Result<(), Diagnostics> {
    let mut all = Vec::new();
    for name in run_names(root) {
        let run = Opened::open(root, project, &name)?;
        all.push(run::status(&name, &run.record, &run.now, now));
    }
    match format {
        TextOrJson::Json => super::print(&render::json(&all)?),
        TextOrJson::Text => {
            let mut out = String::new();
            if all.is_empty() {
                out.push_str(
                    "no runs yet: start one with `runbook run start NAME --profile FILE`\n",
                );
            }
            for s in &all {
                let p = &s.progress;
                let _ = writeln!(
                    out,
                    "{:<24} {:<28} {} of {} done, {} skipped{}",
                    s.run,
                    s.customer.name.as_deref().unwrap_or("-"),
                    p.done,
                    p.total,
                    p.skipped,
                    if s.steps.iter().any(|st| st.drift.is_some()) {
                        " · the runbooks changed since it started"
                    } else {
                        ""
                    }
                );
            }
            super::print(&out)
        }
    }
}

fn status_text(s: &run::Status) -> String {
    let mut out = String::new();
    let customer = s
        .customer
        .name
        .as_deref()
        .map(|n| format!(" for {n}"))
        .unwrap_or_default();
    let facts: Vec<String> = s.facts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let _ = writeln!(out, "Run {}{customer} ({})", s.run, facts.join(", "));
    let p = &s.progress;
    let _ = writeln!(
        out,
        "Progress: {} done, {} skipped, {} open, of {}",
        p.done, p.skipped, p.open, p.total
    );
    if !s.timers.is_empty() {
        let _ = writeln!(out, "\nTimers");
        for t in &s.timers {
            let _ = writeln!(out, "  {} {}", t.step, t.text);
        }
    }
    let drifted: Vec<&run::StatusStep> = s.steps.iter().filter(|st| st.drift.is_some()).collect();
    if !drifted.is_empty() {
        let _ = writeln!(
            out,
            "\nThe runbooks changed since the run started (`runbook run rebase {}` adopts them)",
            s.run
        );
        for st in drifted {
            let why = match st.drift {
                Some(run::Drift::Changed) if st.state != Mark::Open => {
                    "its text changed since it was done: re-check it"
                }
                Some(run::Drift::Changed) => "its text changed",
                Some(run::Drift::Removed) => "no longer applies",
                _ => "applies now, and was not in the checklist",
            };
            let _ = writeln!(out, "  {} {} — {why}", number(st), st.title);
        }
    }
    if !s.next.is_empty() {
        let _ = writeln!(out, "\nNext");
        for n in &s.next {
            if let Some(st) = s.steps.iter().find(|st| st.number.as_ref() == Some(n)) {
                let _ = writeln!(out, "  {} {}  [{}]", n, st.title, st.address);
            }
        }
    }
    let _ = writeln!(out, "\nSteps");
    for st in &s.steps {
        let mark = match st.state {
            Mark::Done => "[x]",
            Mark::Skipped => "[-]",
            Mark::Open => "[ ]",
        };
        let _ = write!(out, "  {mark} {} {}", number(st), st.title);
        if let (Some(by), Some(at)) = (&st.by, &st.at) {
            let _ = write!(out, " — {by}, {at}");
        }
        if let Some(note) = &st.note {
            let _ = write!(out, " — {note}");
        }
        out.push('\n');
    }
    out
}

/// A step's number in the run, or that it is new since the run started.
fn number(st: &run::StatusStep) -> &str {
    st.number.as_deref().unwrap_or("(new)")
}
