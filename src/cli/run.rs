//! `runbook run`: a team's run of one customer's checklist, kept in `runs/NAME.jsonl` and
//! shared through git. The record's model is `runbook::run`; this module reads and appends the
//! files, asks git who and which commit, and prints.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use time::OffsetDateTime;

use runbook::body::Template;
use runbook::checklist::{self, Checklist, Request};
use runbook::diagnostics::{Diagnostic, Diagnostics, did_you_mean};
use runbook::profile::Profile;
use runbook::project::Project;
use runbook::render::{self, Terminal};
use runbook::run::{self, Event, GIT_ATTRIBUTES, Line, Mark, RUN_DIR, Record};
use runbook::{atomic, facts::FactValues};

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
            run.record_under_lock(|state| {
                let mut lines = Vec::new();
                let mut seen = Vec::new();
                for wanted in steps {
                    let step = state.find(wanted)?;
                    if step.mark == Mark::Done || seen.contains(&step.pinned.address) {
                        return Err(already(name, step));
                    }
                    seen.push(step.pinned.address.clone());
                    lines.push(Line::new(
                        &by,
                        now,
                        Event::Done {
                            step: step.pinned.address.clone(),
                            hash: run.hash_now(&step.pinned),
                            note: note.clone(),
                        },
                    ));
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
            if note.trim().is_empty() {
                return Err(Diagnostic::error("a skipped step needs a reason")
                    .help("say why with --note \"...\"")
                    .into());
            }
            let run = Opened::open(root, &project, name)?;
            let by = who(root, by.as_deref());
            let number = run.record_under_lock(|state| {
                let step = state.find(step)?;
                if step.mark != Mark::Open {
                    return Err(already(name, step));
                }
                Ok(vec![Line::new(
                    &by,
                    now,
                    Event::Skip {
                        step: step.pinned.address.clone(),
                        hash: run.hash_now(&step.pinned),
                        note: note.clone(),
                    },
                )])
            })?;
            super::print(&format!("{name}: skipped {}\n", number.join(", ")))
        }
        RunCommand::Undo { name, step, by } => {
            let run = Opened::open(root, &project, name)?;
            let by = who(root, by.as_deref());
            let number = run.record_under_lock(|state| {
                let step = state.find(step)?;
                if step.mark == Mark::Open {
                    return Err(Diagnostic::error(format!(
                        "step {} ({}) is open: there is nothing to undo",
                        step.pinned.number, step.pinned.address
                    )));
                }
                Ok(vec![Line::new(
                    &by,
                    now,
                    Event::Undo {
                        step: step.pinned.address.clone(),
                    },
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
                Ok(vec![Line::new(
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

fn already(run: &str, step: &run::StepState) -> Diagnostic {
    let what = match step.mark {
        Mark::Done => "done",
        Mark::Skipped => "skipped",
        Mark::Open => "listed twice",
    };
    let mut d = Diagnostic::error(format!(
        "step {} ({}) is already {what}",
        step.pinned.number, step.pinned.address
    ));
    if let (Some(by), Some(at)) = (&step.by, &step.at) {
        d = d.note(format!("by {by} at {at}"));
    }
    d.help(format!(
        "`runbook run undo {run} {}` takes it back",
        step.pinned.number
    ))
}

fn run_path(root: &Path, name: &str) -> PathBuf {
    root.join(RUN_DIR).join(format!("{name}.jsonl"))
}

fn check_name(name: &str) -> Result<(), Diagnostic> {
    let ok = !name.is_empty()
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Diagnostic::error(format!("`{name}` is not a run name"))
            .help("use letters, digits, dots, dashes and underscores, like contoso-2026"))
    }
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
    let req = Request {
        profile,
        only: &[],
        explain: false,
    };
    checklist::build(project, &req, &fill)
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
    check_name(name)?;
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
    let missing = checklist::open_facts(&list, &project.vocab);
    if !missing.is_empty() {
        let mut d = Diagnostic::error(format!(
            "a run pins one checklist, and {} fact{} it depends on {} not given",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            if missing.len() == 1 { "is" } else { "are" }
        ));
        for fact in missing {
            d = d.note(format!("{}: {}", fact.id, fact.question));
        }
        return Err(d
            .help("give them in the profile or with --set fact=value")
            .into());
    }
    let facts = profile
        .facts
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    let steps = run::pin(&list);
    let total = steps.len();
    let line = Line::new(
        &who(root, by),
        now,
        Event::Start {
            run: name.to_string(),
            engine: env!("CARGO_PKG_VERSION").to_string(),
            commit: git(root, &["rev-parse", "HEAD"]),
            customer: profile.customer.clone(),
            facts,
            steps,
        },
    );
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
        check_name(name)?;
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
        let profile = profile_of(project, &record, &shown)?;
        let now = build(project, &profile)?;
        Ok(Opened {
            path,
            shown: shown.display().to_string(),
            record,
            now,
        })
    }

    /// The hash of a step's text as the runbooks give it now, else as pinned.
    fn hash_now(&self, pinned: &run::Pinned) -> String {
        self.now
            .steps_by_address()
            .get(pinned.address.as_str())
            .map_or_else(|| pinned.hash.clone(), |s| run::step_hash(s))
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

/// The run's facts and customer, read against this project's facts: a run from another
/// project names facts or runbooks this one does not have.
fn profile_of(project: &Project, record: &Record, shown: &Path) -> Result<Profile, Diagnostic> {
    let different = |why: String| {
        Diagnostic::error(format!(
            "{} belongs to a different project: {why}",
            shown.display()
        ))
        .help("a run is carried on in the project it was started in")
    };
    let mut facts = FactValues::new();
    for (id, text) in record.facts() {
        let fact = project
            .vocab
            .facts
            .get(id)
            .ok_or_else(|| different(format!("its fact `{id}` is not declared here")))?;
        let value = fact
            .parse_value(text)
            .map_err(|e| different(format!("its fact `{id}`: {}", e.message)))?;
        facts.insert(id.clone(), value);
    }
    let Event::Start { steps, .. } = &record.start().event else {
        unreachable!("Record::parse checks the first line")
    };
    let known = steps.iter().any(|p| {
        let runbook = p.address.split('#').next().unwrap_or_default();
        project.runbooks.iter().any(|r| r.id == runbook)
    });
    if !steps.is_empty() && !known {
        return Err(different("none of its runbooks is here".to_string()));
    }
    Ok(Profile {
        customer: record.customer().clone(),
        facts,
    })
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
            let _ = writeln!(out, "  {} {} — {why}", st.number, st.title);
        }
    }
    if !s.next.is_empty() {
        let _ = writeln!(out, "\nNext");
        for n in &s.next {
            if let Some(st) = s.steps.iter().find(|st| st.number == *n) {
                let _ = writeln!(out, "  {} {}  [{}]", st.number, st.title, st.address);
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
        let _ = write!(out, "  {mark} {} {}", st.number, st.title);
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
