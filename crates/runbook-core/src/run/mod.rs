//! Runs: a team's record of carrying out one customer's checklist over days. A run is a file
//! of JSON lines, appended and never rewritten: the first pins the checklist (facts, customer,
//! each step's address, number, revision and a hash of its text), each later line is an event
//! (a step done, skipped or undone; the run rebased on the current runbooks). Replaying the
//! events in (time, id) order gives the state, and a repeated id counts once, so two copies
//! merged line by line (git's `union` merge) give the same state whatever their order.
//!
//! This module makes, reads and replays records and computes a run's status. It touches no
//! file and reads no clock: the command line and the checklist builder (WebAssembly) pass the
//! time and a fresh id, so both write the same lines from the same code.

mod status;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::body::Fill;
use crate::checklist::{self, Checklist, ChecklistStep, Request};
use crate::diagnostics::{Diagnostic, Diagnostics, did_you_mean};
use crate::facts::FactValues;
use crate::profile::{Customer, Profile};
use crate::project::Project;

pub use status::{Drift, Progress, Report, ReportStep, Status, StatusStep, Timer, report, status};

/// A step as it was when pinned: where it is, and a hash of its text then.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pinned {
    pub address: String,
    pub number: String,
    pub title: String,
    /// The date of the revision it comes from (`None` for an undated one).
    pub revision: Option<String>,
    pub hash: String,
}

/// What one line of a run records.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event {
    Start {
        run: String,
        engine: String,
        commit: Option<String>,
        customer: Customer,
        facts: BTreeMap<String, String>,
        steps: Vec<Pinned>,
    },
    Done {
        step: String,
        hash: String,
        note: Option<String>,
    },
    Skip {
        step: String,
        hash: String,
        note: String,
    },
    Undo {
        step: String,
    },
    Rebase {
        commit: Option<String>,
        steps: Vec<Pinned>,
    },
}

/// One line: a unique id, a UTC time, who, and what.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(try_from = "RawLine")]
pub struct Line {
    pub id: String,
    pub at: String,
    pub by: String,
    #[serde(flatten)]
    pub event: Event,
}

/// A line as read: the fields of every kind of event side by side. Read so rather than with
/// serde's tagged enums, whose buffering would add a fifth to the browser's engine.
#[derive(Deserialize)]
struct RawLine {
    id: String,
    at: String,
    by: String,
    /// Text rather than an enum: one string visitor less in the browser's engine.
    #[serde(rename = "type")]
    kind: String,
    run: Option<String>,
    engine: Option<String>,
    commit: Option<String>,
    customer: Option<Customer>,
    facts: Option<BTreeMap<String, String>>,
    steps: Option<Vec<Pinned>>,
    step: Option<String>,
    hash: Option<String>,
    note: Option<String>,
}

impl TryFrom<RawLine> for Line {
    type Error = String;

    fn try_from(raw: RawLine) -> Result<Line, String> {
        fn need<T>(value: Option<T>, field: &str) -> Result<T, String> {
            value.ok_or_else(|| format!("missing field `{field}`"))
        }
        let event = match raw.kind.as_str() {
            "start" => Event::Start {
                run: need(raw.run, "run")?,
                engine: need(raw.engine, "engine")?,
                commit: raw.commit,
                customer: raw.customer.unwrap_or_default(),
                facts: raw.facts.unwrap_or_default(),
                steps: need(raw.steps, "steps")?,
            },
            "done" => Event::Done {
                step: need(raw.step, "step")?,
                hash: need(raw.hash, "hash")?,
                note: raw.note,
            },
            "skip" => Event::Skip {
                step: need(raw.step, "step")?,
                hash: need(raw.hash, "hash")?,
                note: need(raw.note, "note")?,
            },
            "undo" => Event::Undo {
                step: need(raw.step, "step")?,
            },
            "rebase" => Event::Rebase {
                commit: raw.commit,
                steps: need(raw.steps, "steps")?,
            },
            other => {
                return Err(format!(
                    "unknown type `{other}`, expected one of `start`, `done`, `skip`, `undo`, `rebase`"
                ));
            }
        };
        Ok(Line {
            id: raw.id,
            at: raw.at,
            by: raw.by,
            event,
        })
    }
}

impl Line {
    /// `id` is unique (a random UUID), `at` a `timestamp`.
    pub fn new(id: String, at: String, by: &str, event: Event) -> Line {
        Line {
            id,
            at,
            by: by.to_string(),
            event,
        }
    }

    /// The line as written: one JSON object and a newline.
    pub fn to_jsonl(&self) -> String {
        // Strings, maps and lists only: serializing cannot fail.
        let mut text = serde_json::to_string(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// A UTC time as runs write it: fixed width, so that text order is time order.
pub fn timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

pub(crate) fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// The hash a step is pinned with: of its title and filled-in text, as a checklist shows them.
pub fn step_hash(step: &ChecklistStep) -> String {
    let digest = Sha256::digest(format!("{}\n{}", step.title, step.body).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The steps of a checklist, pinned.
pub fn pin(list: &Checklist) -> Vec<Pinned> {
    let mut pinned = Vec::new();
    for rb in &list.runbooks {
        for section in &rb.sections {
            for st in &section.steps {
                pinned.push(Pinned {
                    address: st.address.clone(),
                    number: st.number.clone(),
                    title: st.title.clone(),
                    revision: rb.revision.date.clone(),
                    hash: step_hash(st),
                });
            }
        }
    }
    pinned
}

/// The engine's version, as a run's first line records it.
pub const ENGINE: &str = env!("CARGO_PKG_VERSION");

/// A run's name is its file's name: letters, digits, dots, dashes and underscores.
pub fn check_name(name: &str) -> Result<(), Diagnostic> {
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

/// The checklist a run pins and is compared with: step text as Markdown, filled in by `fill`
/// (the command line's template, or the builder's tokens: the same text either way).
pub fn checklist(
    project: &Project,
    profile: &Profile,
    fill: &dyn Fill,
) -> Result<Checklist, Diagnostics> {
    let req = Request {
        profile,
        only: &[],
        explain: false,
    };
    checklist::build(project, &req, fill)
}

/// The first line's event: the checklist `list` pinned for `profile`, which must give every
/// fact the checklist depends on.
pub fn start(
    project: &Project,
    list: &Checklist,
    name: &str,
    profile: &Profile,
    commit: Option<String>,
) -> Result<Event, Diagnostic> {
    check_name(name)?;
    let missing = checklist::open_facts(list, &project.vocab);
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
        return Err(d.help("give them in the profile or with --set fact=value"));
    }
    // Inserted one by one: collecting would bring a sort into the browser's engine.
    let mut facts = BTreeMap::new();
    for (k, v) in &profile.facts {
        facts.insert(k.clone(), v.to_string());
    }
    Ok(Event::Start {
        run: name.to_string(),
        engine: ENGINE.to_string(),
        commit,
        customer: profile.customer.clone(),
        facts,
        steps: pin(list),
    })
}

/// The hash of a step's text as the runbooks give it now (`now`), else as pinned.
pub fn hash_now(now: &Checklist, pinned: &Pinned) -> String {
    // One step looked up: plain loops, which keep a hash table and iterator adapters out of
    // the browser's engine.
    for rb in &now.runbooks {
        for section in &rb.sections {
            for step in &section.steps {
                if step.address == pinned.address {
                    return step_hash(step);
                }
            }
        }
    }
    pinned.hash.clone()
}

/// What a person records on one step.
#[derive(Debug, Clone)]
pub enum Act {
    Done { note: Option<String> },
    Skip { note: String },
    Undo,
}

/// Why a step cannot be marked again.
pub fn already(run: &str, step: &StepState) -> Diagnostic {
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

/// A run's lines as read, with what was skipped on the way.
#[derive(Debug)]
pub struct Record {
    pub lines: Vec<Line>,
    /// A last line cut short (by a crash while writing), reported and skipped.
    pub cut_short: Option<usize>,
}

impl Record {
    /// Reads a run's text. `file` names it in messages. A last line without its newline
    /// that does not parse was cut short and is skipped; any other bad line is an error with
    /// its line number.
    pub fn parse(file: &str, text: &str) -> Result<Record, Diagnostic> {
        let mut lines = Vec::new();
        let mut cut_short = None;
        let count = text.lines().count();
        for (i, raw) in text.lines().enumerate() {
            let number = i + 1;
            if raw.trim().is_empty() {
                continue;
            }
            // From bytes, as the browser's engine reads everything else: one reader, less code.
            match serde_json::from_slice::<Line>(raw.as_bytes()) {
                Ok(line) => lines.push(line),
                Err(_) if number == count && !text.ends_with('\n') => cut_short = Some(number),
                Err(e) => {
                    return Err(Diagnostic::error(format!(
                        "{file}:{number}: not a line of a run record: {e}"
                    ))
                    .help("a run file is written by `runbook run`; restore the line from git"));
                }
            }
        }
        match lines.first().map(|l| &l.event) {
            Some(Event::Start { .. }) => {}
            _ => {
                return Err(Diagnostic::error(format!(
                    "{file}:1: a run record starts with the line `runbook run start` writes"
                )));
            }
        }
        Ok(Record { lines, cut_short })
    }

    /// The run's facts and customer, read against `project`'s facts: a run from another
    /// project names facts or runbooks this one does not have. `file` names it in messages.
    pub fn profile(&self, project: &Project, file: &str) -> Result<Profile, Diagnostic> {
        let different = |why: String| {
            Diagnostic::error(format!("{file} belongs to a different project: {why}"))
                .help("a run is carried on in the project it was started in")
        };
        let mut facts = FactValues::new();
        for (id, text) in self.facts() {
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
        let Event::Start { steps, .. } = &self.start().event else {
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
            customer: self.customer().clone(),
            facts,
        })
    }

    pub fn start(&self) -> &Line {
        &self.lines[0]
    }

    pub fn facts(&self) -> &BTreeMap<String, String> {
        match &self.start().event {
            Event::Start { facts, .. } => facts,
            _ => unreachable!("Record::parse checks the first line"),
        }
    }

    pub fn customer(&self) -> &Customer {
        match &self.start().event {
            Event::Start { customer, .. } => customer,
            _ => unreachable!("Record::parse checks the first line"),
        }
    }

    /// The events after the start, in (time, id) order, each id once.
    fn events(&self) -> Vec<&Line> {
        let mut seen = BTreeSet::new();
        seen.insert(self.start().id.as_str());
        // Ordered by a map rather than a sort: the browser's engine has maps already.
        let mut ordered = BTreeMap::new();
        for l in &self.lines[1..] {
            if !matches!(l.event, Event::Start { .. }) {
                ordered.entry((l.at.as_str(), l.id.as_str())).or_insert(l);
            }
        }
        ordered
            .into_values()
            .filter(|l| seen.insert(l.id.as_str()))
            .collect()
    }

    /// The state the events give.
    pub fn replay(&self) -> State {
        let Event::Start { steps, commit, .. } = &self.start().event else {
            unreachable!("Record::parse checks the first line")
        };
        let mut state = State {
            steps: steps.iter().map(StepState::open).collect(),
            commit: commit.clone(),
            rebased: None,
        };
        for line in self.events() {
            match &line.event {
                Event::Done { step, hash, note } => {
                    state.set(step, Mark::Done, line, note.clone(), hash);
                }
                Event::Skip { step, hash, note } => {
                    state.set(step, Mark::Skipped, line, Some(note.clone()), hash);
                }
                Event::Undo { step } => {
                    if let Some(s) = state.steps.iter_mut().find(|s| s.pinned.address == *step) {
                        *s = StepState::open(&s.pinned);
                    }
                }
                Event::Rebase { commit, steps } => {
                    state.rebase(steps);
                    state.commit.clone_from(commit);
                    state.rebased = Some(line.at.clone());
                }
                Event::Start { .. } => {}
            }
        }
        state
    }
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    Open,
    Done,
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepState {
    pub pinned: Pinned,
    pub mark: Mark,
    pub by: Option<String>,
    pub at: Option<String>,
    pub note: Option<String>,
    /// The hash of the text it was done on.
    #[serde(skip)]
    pub done_on: Option<String>,
}

impl StepState {
    fn open(pinned: &Pinned) -> StepState {
        StepState {
            pinned: pinned.clone(),
            mark: Mark::Open,
            by: None,
            at: None,
            note: None,
            done_on: None,
        }
    }
}

/// A run's steps as the record leaves them, in checklist order.
#[derive(Debug, Clone)]
pub struct State {
    pub steps: Vec<StepState>,
    pub commit: Option<String>,
    /// When the run was last rebased on the runbooks.
    pub rebased: Option<String>,
}

impl State {
    fn set(&mut self, step: &str, mark: Mark, line: &Line, note: Option<String>, hash: &str) {
        if let Some(s) = self.steps.iter_mut().find(|s| s.pinned.address == step) {
            s.mark = mark;
            s.by = Some(line.by.clone());
            s.at = Some(line.at.clone());
            s.note = note;
            s.done_on = Some(hash.to_string());
        }
    }

    /// Adopts newly pinned steps: a step whose text is unchanged keeps its state; a changed
    /// one is open again; a step no longer listed is dropped.
    fn rebase(&mut self, steps: &[Pinned]) {
        // A scan per step (a checklist has tens of steps): a map would bring a sort into the
        // browser's engine.
        let steps = steps
            .iter()
            .map(
                |p| match self.steps.iter().find(|s| s.pinned.address == p.address) {
                    Some(s) if s.pinned.hash == p.hash => StepState {
                        pinned: p.clone(),
                        ..s.clone()
                    },
                    _ => StepState::open(p),
                },
            )
            .collect();
        self.steps = steps;
    }

    /// The event that records `act` on the step `name` of the run `run`, with the hash of its
    /// text `now`; or why it cannot be recorded.
    pub fn act(
        &self,
        run: &str,
        name: &str,
        act: &Act,
        now: &Checklist,
    ) -> Result<Event, Diagnostic> {
        let step = self.find(name)?;
        let address = step.pinned.address.clone();
        let hash = || hash_now(now, &step.pinned);
        match act {
            Act::Done { .. } if step.mark == Mark::Done => Err(already(run, step)),
            Act::Done { note } => Ok(Event::Done {
                step: address,
                hash: hash(),
                note: note.clone().filter(|n| !n.trim().is_empty()),
            }),
            Act::Skip { note } if note.trim().is_empty() => {
                Err(Diagnostic::error("a skipped step needs a reason")
                    .help("say why with --note \"...\""))
            }
            Act::Skip { .. } if step.mark != Mark::Open => Err(already(run, step)),
            Act::Skip { note } => Ok(Event::Skip {
                step: address,
                hash: hash(),
                note: note.clone(),
            }),
            Act::Undo if step.mark == Mark::Open => Err(Diagnostic::error(format!(
                "step {} ({}) is open: there is nothing to undo",
                step.pinned.number, step.pinned.address
            ))),
            Act::Undo => Ok(Event::Undo { step: address }),
        }
    }

    /// A step named by its number (`2.1.3`) or address (`install#get-consent`).
    pub fn find(&self, name: &str) -> Result<&StepState, Diagnostic> {
        self.steps
            .iter()
            .find(|s| s.pinned.number == name || s.pinned.address == name)
            .ok_or_else(|| {
                let mut d = Diagnostic::error(format!("the run has no step `{name}`"));
                let known = self
                    .steps
                    .iter()
                    .flat_map(|s| [s.pinned.address.as_str(), s.pinned.number.as_str()]);
                d = match did_you_mean(name, known) {
                    Some(close) => d.help(format!("did you mean `{close}`?")),
                    None => d.help(
                        "name a step by its number (2.1.3) or its address (runbook#step), as `runbook run status` lists them",
                    ),
                };
                d
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinned(address: &str, hash: &str) -> Pinned {
        Pinned {
            address: address.into(),
            number: "1.1.1".into(),
            title: "T".into(),
            revision: None,
            hash: hash.into(),
        }
    }

    fn start(steps: Vec<Pinned>) -> Line {
        Line {
            id: "s".into(),
            at: "2026-01-01T10:00:00.000Z".into(),
            by: "a".into(),
            event: Event::Start {
                run: "r".into(),
                engine: "0".into(),
                commit: None,
                customer: Customer::default(),
                facts: BTreeMap::new(),
                steps,
            },
        }
    }

    fn line(id: &str, at: &str, event: Event) -> Line {
        Line {
            id: id.into(),
            at: format!("2026-01-01T{at}:00.000Z"),
            by: "b".into(),
            event,
        }
    }

    fn text(lines: &[Line]) -> String {
        lines.iter().map(Line::to_jsonl).collect()
    }

    #[test]
    fn replay_orders_by_time_and_counts_an_id_once() {
        let done = line(
            "e1",
            "10:05",
            Event::Done {
                step: "a#x".into(),
                hash: "h".into(),
                note: None,
            },
        );
        let undo = line("e2", "10:06", Event::Undo { step: "a#x".into() });
        // Merged out of order, with a line repeated (both branches had it).
        let t = text(&[start(vec![pinned("a#x", "h")]), undo, done.clone(), done]);
        let state = Record::parse("r.jsonl", &t).unwrap().replay();
        assert_eq!(state.steps[0].mark, Mark::Open);
    }

    #[test]
    fn a_last_line_cut_short_is_skipped_and_any_other_bad_line_is_an_error() {
        let mut t = text(&[start(vec![pinned("a#x", "h")])]);
        t.push_str("{\"id\":\"e1\",\"at\":\"2026");
        let r = Record::parse("r.jsonl", &t).unwrap();
        assert_eq!(r.cut_short, Some(2));
        t.push('\n');
        let e = Record::parse("r.jsonl", &t).unwrap_err();
        assert!(
            e.message
                .starts_with("r.jsonl:2: not a line of a run record"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_line_of_an_unknown_type_or_without_its_fields_is_an_error_with_its_line() {
        let start = text(&[start(vec![pinned("a#x", "h")])]);
        for (line, said) in [
            (
                r#"{"id":"e","at":"t","by":"b","type":"redo","step":"a#x"}"#,
                "unknown type `redo`",
            ),
            (
                r#"{"id":"e","at":"t","by":"b","type":"done","step":"a#x"}"#,
                "missing field `hash`",
            ),
        ] {
            let e = Record::parse("r.jsonl", &format!("{start}{line}\n")).unwrap_err();
            assert!(e.message.starts_with("r.jsonl:2: "), "{}", e.message);
            assert!(e.message.contains(said), "{}", e.message);
        }
    }

    #[test]
    fn rebase_keeps_unchanged_done_steps_and_reopens_changed_ones() {
        let done = |id: &str, step: &str| {
            line(
                id,
                "10:05",
                Event::Done {
                    step: step.into(),
                    hash: "h".into(),
                    note: None,
                },
            )
        };
        let rebase = line(
            "e9",
            "11:00",
            Event::Rebase {
                commit: None,
                steps: vec![pinned("a#x", "h"), pinned("a#y", "h2")],
            },
        );
        let t = text(&[
            start(vec![pinned("a#x", "h"), pinned("a#y", "h")]),
            done("e1", "a#x"),
            done("e2", "a#y"),
            rebase,
        ]);
        let state = Record::parse("r.jsonl", &t).unwrap().replay();
        assert_eq!(state.steps[0].mark, Mark::Done);
        assert_eq!(state.steps[1].mark, Mark::Open);
    }

    #[test]
    fn timestamps_sort_as_times() {
        let a = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let b = a + time::Duration::milliseconds(5);
        assert!(timestamp(a) < timestamp(b));
        assert_eq!(parse_time(&timestamp(a)), Some(a));
    }
}
