//! Runs: a team's record of carrying out one customer's checklist over days. A run is a file
//! of JSON lines, appended and never rewritten: the first pins the checklist (facts, customer,
//! each step's address, number, revision and a hash of its text), each later line is an event
//! (a step done, skipped or undone; the run rebased on the current runbooks). Replaying the
//! events in (time, id) order gives the state, and a repeated id counts once, so two copies
//! merged line by line (git's `union` merge) give the same state whatever their order.
//!
//! This module reads and replays records and computes a run's status; it touches no file.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::checklist::{Checklist, ChecklistStep};
use crate::diagnostics::{Diagnostic, did_you_mean};
use crate::profile::Customer;

/// Where a project keeps its runs, one `NAME.jsonl` each.
pub const RUN_DIR: &str = "runs";
/// The line `runbook run start` puts in `.gitattributes`, so that git merges runs by lines.
pub const GIT_ATTRIBUTES: &str = "runs/*.jsonl merge=union";

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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
pub struct Line {
    pub id: String,
    pub at: String,
    pub by: String,
    #[serde(flatten)]
    pub event: Event,
}

impl Line {
    pub fn new(by: &str, now: OffsetDateTime, event: Event) -> Line {
        Line {
            id: uuid::Uuid::new_v4().simple().to_string(),
            at: timestamp(now),
            by: by.to_string(),
            event,
        }
    }

    /// The line as written: one JSON object and a newline.
    pub fn to_jsonl(&self) -> String {
        let mut text = serde_json::to_string(self).expect("a run line serializes");
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

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// The hash a step is pinned with: of its title and filled-in text, as a checklist shows them.
pub fn step_hash(step: &ChecklistStep) -> String {
    let digest = Sha256::digest(format!("{}\n{}", step.title, step.body).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The steps of a checklist, pinned.
pub fn pin(list: &Checklist) -> Vec<Pinned> {
    list.runbooks
        .iter()
        .flat_map(|rb| {
            rb.sections.iter().flat_map(move |s| {
                s.steps.iter().map(move |st| Pinned {
                    address: st.address.clone(),
                    number: st.number.clone(),
                    title: st.title.clone(),
                    revision: rb.revision.date.clone(),
                    hash: step_hash(st),
                })
            })
        })
        .collect()
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
            match serde_json::from_str::<Line>(raw) {
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
        let mut seen = HashSet::new();
        seen.insert(self.start().id.as_str());
        let mut events: Vec<&Line> = self.lines[1..]
            .iter()
            .filter(|l| !matches!(l.event, Event::Start { .. }))
            .collect();
        events.sort_by(|a, b| (&a.at, &a.id).cmp(&(&b.at, &b.id)));
        events.retain(|l| seen.insert(l.id.as_str()));
        events
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

#[derive(Debug, Clone)]
pub struct StepState {
    pub pinned: Pinned,
    pub mark: Mark,
    pub by: Option<String>,
    pub at: Option<String>,
    pub note: Option<String>,
    /// The hash of the text it was done on.
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
        let old: HashMap<&str, &StepState> = self
            .steps
            .iter()
            .map(|s| (s.pinned.address.as_str(), s))
            .collect();
        let steps = steps
            .iter()
            .map(|p| match old.get(p.address.as_str()) {
                Some(s) if s.pinned.hash == p.hash => StepState {
                    pinned: p.clone(),
                    ..(*s).clone()
                },
                _ => StepState::open(p),
            })
            .collect();
        self.steps = steps;
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

/// How a pinned step differs from the runbooks now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Drift {
    /// Its text changed since it was pinned.
    Changed,
    /// It no longer applies.
    Removed,
    /// It applies now and was not pinned.
    New,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub run: String,
    pub facts: BTreeMap<String, String>,
    pub customer: Customer,
    pub commit: Option<String>,
    pub progress: Progress,
    pub steps: Vec<StatusStep>,
    pub timers: Vec<Timer>,
    /// The first open steps, in order.
    pub next: Vec<String>,
    /// A last line cut short that was skipped, by its line number.
    pub cut_short: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct Progress {
    pub done: usize,
    pub skipped: usize,
    pub open: usize,
    pub total: usize,
}

#[derive(Debug, Serialize)]
pub struct StatusStep {
    pub number: String,
    pub address: String,
    pub title: String,
    pub revision: Option<String>,
    pub state: Mark,
    pub by: Option<String>,
    pub at: Option<String>,
    pub note: Option<String>,
    pub drift: Option<Drift>,
}

/// A wait a done step started, or the time before something it produced expires.
#[derive(Debug, Serialize)]
pub struct Timer {
    pub step: String,
    pub address: String,
    pub kind: &'static str,
    pub started: String,
    /// When the wait ends at the earliest, or when it expires.
    pub from: String,
    /// When the wait ends at the latest (the same as `from` for an expiry).
    pub until: String,
    /// Whether `until` has passed.
    pub over: bool,
    pub text: String,
}

/// How many open steps `next` lists.
const NEXT: usize = 3;

/// The run's status against the checklist the runbooks give now for its facts.
pub fn status(name: &str, record: &Record, now_list: &Checklist, now: OffsetDateTime) -> Status {
    let state = record.replay();
    let current = now_list.steps_by_address();
    let pinned: HashSet<&str> = state
        .steps
        .iter()
        .map(|s| s.pinned.address.as_str())
        .collect();
    let mut steps: Vec<StatusStep> = state
        .steps
        .iter()
        .map(|s| StatusStep {
            number: s.pinned.number.clone(),
            address: s.pinned.address.clone(),
            title: s.pinned.title.clone(),
            revision: s.pinned.revision.clone(),
            state: s.mark,
            by: s.by.clone(),
            at: s.at.clone(),
            note: s.note.clone(),
            drift: match current.get(s.pinned.address.as_str()) {
                None => Some(Drift::Removed),
                Some(c) if step_hash(c) != s.pinned.hash => Some(Drift::Changed),
                Some(_) => None,
            },
        })
        .collect();
    for new in pin(now_list)
        .into_iter()
        .filter(|p| !pinned.contains(p.address.as_str()))
    {
        steps.push(StatusStep {
            number: new.number,
            address: new.address,
            title: new.title,
            revision: new.revision,
            state: Mark::Open,
            by: None,
            at: None,
            note: None,
            drift: Some(Drift::New),
        });
    }
    let count = |m: Mark| steps.iter().filter(|s| s.state == m).count();
    let progress = Progress {
        done: count(Mark::Done),
        skipped: count(Mark::Skipped),
        open: count(Mark::Open),
        total: steps.len(),
    };
    let timers = state
        .steps
        .iter()
        .filter(|s| s.mark == Mark::Done)
        .filter_map(|s| {
            Some((
                s,
                current.get(s.pinned.address.as_str())?,
                parse_time(s.at.as_deref()?)?,
            ))
        })
        .flat_map(|(s, c, at)| timers(s, c, at, now))
        .collect();
    let next = steps
        .iter()
        .filter(|s| s.state == Mark::Open && s.drift != Some(Drift::Removed))
        .take(NEXT)
        .map(|s| s.number.clone())
        .collect();
    Status {
        run: name.to_string(),
        facts: record.facts().clone(),
        customer: record.customer().clone(),
        commit: state.commit,
        progress,
        steps,
        timers,
        next,
        cut_short: record.cut_short,
    }
}

fn clock(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!("{:02}:{:02} UTC", at.hour(), at.minute())
}

fn timers(
    s: &StepState,
    step: &ChecklistStep,
    at: OffsetDateTime,
    now: OffsetDateTime,
) -> Vec<Timer> {
    let minutes = |m: u64| time::Duration::minutes(i64::try_from(m).unwrap_or(i64::MAX / 60_000));
    let mut out = Vec::new();
    if let Some(w) = &step.wait {
        let (from, until) = (
            at + minutes(w.time.min_minutes),
            at + minutes(w.time.max_minutes),
        );
        let over = now >= until;
        let window = if from == until {
            clock(from)
        } else {
            format!("{}–{}", clock(from), clock(until))
        };
        out.push(Timer {
            step: s.pinned.number.clone(),
            address: s.pinned.address.clone(),
            kind: "wait",
            started: timestamp(at),
            from: timestamp(from),
            until: timestamp(until),
            over,
            text: format!(
                "{}: done at {}, continue after {window}{}",
                s.pinned.title,
                clock(at),
                if over { " (over)" } else { "" }
            ),
        });
    }
    if let Some(x) = &step.expires {
        let until = at + minutes(x.time.max_minutes);
        let over = now >= until;
        out.push(Timer {
            step: s.pinned.number.clone(),
            address: s.pinned.address.clone(),
            kind: "expires",
            started: timestamp(at),
            from: timestamp(until),
            until: timestamp(until),
            over,
            text: format!(
                "{}: done at {}, {} {}",
                s.pinned.title,
                clock(at),
                if over { "expired at" } else { "expires" },
                clock(until)
            ),
        });
    }
    out
}

/// The audit record of a run: every step with its state, who, when and notes, and its text
/// as the runbooks give it now.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub status: &'a Status,
    pub engine: String,
    pub started_at: String,
    pub started_by: String,
    pub steps: Vec<ReportStep<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ReportStep<'a> {
    #[serde(flatten)]
    pub step: &'a StatusStep,
    /// Who performs it, and its text now (`None` for a step the runbooks no longer list).
    pub role: Option<String>,
    pub body: Option<String>,
}

pub fn report<'a>(record: &Record, status: &'a Status, now_list: &'a Checklist) -> Report<'a> {
    let current = now_list.steps_by_address();
    let Event::Start { engine, .. } = &record.start().event else {
        unreachable!("Record::parse checks the first line")
    };
    Report {
        status,
        engine: engine.clone(),
        started_at: record.start().at.clone(),
        started_by: record.start().by.clone(),
        steps: status
            .steps
            .iter()
            .map(|s| {
                let now = current.get(s.address.as_str());
                ReportStep {
                    step: s,
                    role: now.and_then(|c| c.role.as_ref()).map(|r| r.title.clone()),
                    body: now.map(|c| c.body.clone()).filter(|b| !b.is_empty()),
                }
            })
            .collect(),
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
