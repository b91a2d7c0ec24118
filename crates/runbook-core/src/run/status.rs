//! A run's status against the runbooks now: progress, drift, timers, and the audit report.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use time::OffsetDateTime;

use super::{Event, Mark, Record, StepState, parse_time, pin, step_hash, timestamp};
use crate::checklist::{Checklist, ChecklistStep};
use crate::profile::Customer;

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
    /// Its number in the run (`None` for a step the run has not pinned: the runbooks' number
    /// for it could be one a pinned step has).
    pub number: Option<String>,
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
            number: Some(s.pinned.number.clone()),
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
            number: None,
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
    // Steps that can be recorded: pinned, open, and still applying.
    let next = steps
        .iter()
        .filter(|s| s.state == Mark::Open && s.drift != Some(Drift::Removed))
        .filter_map(|s| s.number.clone())
        .take(NEXT)
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
