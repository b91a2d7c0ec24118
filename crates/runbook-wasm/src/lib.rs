//! The engine as the checklist builder calls it, from WebAssembly: the site ships the resolved
//! project (step text already rendered to HTML, with tokens where values go); the page loads it
//! once and asks for a checklist on every change of its form. It also carries a run: the
//! record's lines are made, read and replayed by the engine's run model, the same code as
//! `runbook run`, on the step text as Markdown (which the site ships too), so a run started
//! here pins the hashes the command line computes. JSON in, JSON out, through this module's
//! memory: no bindings generator, so the page's loader is a few lines. The project alone comes
//! in postcard (a compact binary serde format): a JSON reader of its types would be a fifth of
//! the engine.

// A `Diagnostic` travels only on the error path, where its size costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

use std::cell::RefCell;
use std::collections::BTreeMap;

use runbook_core::body::{Template, Tokens, Values};
use runbook_core::checklist::{self, Checklist, Request};
use runbook_core::diagnostics::{Diagnostic, Diagnostics};
use runbook_core::profile::{Customer, Profile};
use runbook_core::project::Project;
use runbook_core::run::{self, Act, Event, Line, Record, StepState};
use serde::{Deserialize, Serialize};

/// What the page asks: the form's answers as typed, and the customer fields.
#[derive(Deserialize)]
pub struct Ask {
    /// Fact id → the text in its field (empty fields left out).
    pub facts: BTreeMap<String, String>,
    #[serde(default)]
    pub customer: Customer,
}

/// What the page gets: the checklist, or why there is none.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    Checklist(Box<Checklist>),
    /// Answers that are not values of their fact: fact id → message.
    Invalid(BTreeMap<String, String>),
    /// Why no checklist can be made for these answers.
    Errors(Vec<String>),
}

/// The profile an answered form gives, or the answers that are not values of their fact.
fn profile(project: &Project, ask: Ask) -> Result<Profile, BTreeMap<String, String>> {
    let mut profile = Profile {
        customer: ask.customer,
        ..Profile::default()
    };
    let mut invalid = BTreeMap::new();
    for (id, text) in &ask.facts {
        if let Err(d) = profile.set(&format!("{id}={text}"), &project.vocab) {
            invalid.insert(id.clone(), message(&d.message, d.help.as_deref()));
        }
    }
    if invalid.is_empty() {
        Ok(profile)
    } else {
        Err(invalid)
    }
}

/// The checklist for an answered form, as `runbook checklist --format json` gives it, with step
/// text as HTML.
pub fn answer(project: &Project, ask: Ask) -> Answer {
    let vocab = &project.vocab;
    let profile = match profile(project, ask) {
        Ok(p) => p,
        Err(invalid) => return Answer::Invalid(invalid),
    };
    let fill = Tokens::new(Values::new(vocab, &profile.customer, &profile.facts));
    let req = Request {
        profile: &profile,
        only: &[],
        explain: false,
    };
    match checklist::build(project, &req, &fill) {
        Ok(c) => Answer::Checklist(Box::new(c)),
        Err(diags) => Answer::Errors(messages(&diags)),
    }
}

/// The project as loaded: step text as HTML to show, and as Markdown to pin.
pub struct Loaded {
    pub html: Project,
    pub markdown: Project,
}

/// What the page sends to `load` (postcard, as the site writes it): the project with HTML step
/// text, and each step's Markdown source in the same order (a pair rather than a struct: less
/// code).
pub type Load = (Project, Vec<String>);

impl Loaded {
    /// From `load` twice over (read twice rather than cloned: a smaller engine).
    pub fn new(load: Load, again: Load) -> Result<Loaded, String> {
        let (mut markdown, texts) = again;
        let mut texts = texts.into_iter();
        for rb in &mut markdown.runbooks {
            for r in &mut rb.revisions {
                for s in &mut r.sections {
                    for st in &mut s.steps {
                        st.body = texts
                            .next()
                            .ok_or("the site's project data has fewer Markdown texts than steps")?;
                    }
                }
            }
        }
        Ok(Loaded {
            html: load.0,
            markdown,
        })
    }

    /// The checklist a run of `profile` pins, as `runbook run` builds it.
    fn pinned(&self, profile: &Profile) -> Result<Checklist, Diagnostics> {
        let vocab = &self.markdown.vocab;
        let fill = Template::markdown(vocab, &profile.customer, &profile.facts);
        run::checklist(&self.markdown, profile, &fill)
    }
}

/// What the page asks about a run: `op` says what, and which of the other fields it needs.
/// `at` (a UTC time, as `Date.toISOString` writes it) and `id` (a random UUID) come from the
/// page, which has the clock and the random numbers. One struct for every question keeps the
/// engine small.
#[derive(Deserialize)]
pub struct RunAsk {
    /// `start` (the first line of a run of the checklist the form gives), `done`, `skip` or
    /// `undo` (the line that records it on `step` in the run `record`), or `replay` (the run
    /// `record` replayed). Text rather than an enum: less code.
    pub op: String,
    /// The run's text (`done`, `skip`, `undo`, `replay`).
    #[serde(default)]
    pub record: String,
    /// The run's name and the form's answers (`start`).
    #[serde(default)]
    pub run: String,
    pub ask: Option<Ask>,
    /// The step's address, and its note or skip reason (`done`, `skip`, `undo`).
    #[serde(default)]
    pub step: String,
    pub note: Option<String>,
    #[serde(default)]
    pub by: String,
    #[serde(default)]
    pub at: String,
    #[serde(default)]
    pub id: String,
}

/// A run as the page shows it.
#[derive(Serialize)]
pub struct RunView {
    pub run: String,
    pub facts: BTreeMap<String, String>,
    pub customer: Customer,
    pub steps: Vec<StepState>,
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunAnswer {
    /// A line to append to the record (its text, with the newline).
    Line(String),
    Run(RunView),
    Invalid(BTreeMap<String, String>),
    Errors(Vec<String>),
}

/// The record a page keeps is named by its run in messages.
const RECORD: &str = "the run";

pub fn run_answer(loaded: &Loaded, ask: RunAsk) -> RunAnswer {
    let one = |d: Diagnostic| RunAnswer::Errors(vec![message(&d.message, d.help.as_deref())]);
    let line = |id: String, at: String, by: &str, event: Event| {
        RunAnswer::Line(Line::new(id, at, by, event).to_jsonl())
    };
    match ask.op.as_str() {
        "start" => {
            let Some(form) = ask.ask else {
                return RunAnswer::Errors(vec!["a run starts from the form's answers".into()]);
            };
            let profile = match profile(&loaded.markdown, form) {
                Ok(p) => p,
                Err(invalid) => return RunAnswer::Invalid(invalid),
            };
            let list = match loaded.pinned(&profile) {
                Ok(l) => l,
                Err(diags) => return RunAnswer::Errors(messages(&diags)),
            };
            match run::start(&loaded.markdown, &list, &ask.run, &profile, None) {
                Ok(event) => line(ask.id, ask.at, &ask.by, event),
                Err(d) => one(d),
            }
        }
        "done" | "skip" | "undo" => {
            let (profile, record) = match read(loaded, &ask.record) {
                Ok(read) => read,
                Err(d) => return one(d),
            };
            let now = match loaded.pinned(&profile) {
                Ok(l) => l,
                Err(diags) => return RunAnswer::Errors(messages(&diags)),
            };
            let Event::Start { run, .. } = &record.start().event else {
                unreachable!("Record::parse checks the first line")
            };
            let act = match ask.op.as_str() {
                "done" => Act::Done { note: ask.note },
                "skip" => Act::Skip {
                    note: ask.note.unwrap_or_default(),
                },
                _ => Act::Undo,
            };
            match record.replay().act(run, &ask.step, &act, &now) {
                Ok(event) => line(ask.id, ask.at, &ask.by, event),
                Err(d) => one(d),
            }
        }
        "replay" => match read(loaded, &ask.record) {
            Ok((_, record)) => {
                let steps = record.replay().steps;
                // Moved out of the first line rather than copied: less code.
                match record.lines.into_iter().next().map(|l| l.event) {
                    Some(Event::Start {
                        run,
                        customer,
                        facts,
                        ..
                    }) => RunAnswer::Run(RunView {
                        run,
                        facts,
                        customer,
                        steps,
                    }),
                    _ => unreachable!("Record::parse checks the first line"),
                }
            }
            Err(d) => one(d),
        },
        other => RunAnswer::Errors(vec![format!("`{other}` is not a question about a run")]),
    }
}

/// A run's record, and its profile read against the project.
fn read(loaded: &Loaded, text: &str) -> Result<(Profile, Record), Diagnostic> {
    let record = Record::parse(RECORD, text)?;
    Ok((record.profile(&loaded.markdown, RECORD)?, record))
}

fn message(text: &str, help: Option<&str>) -> String {
    match help {
        Some(h) => format!("{text} ({h})"),
        None => text.to_string(),
    }
}

fn messages(diags: &Diagnostics) -> Vec<String> {
    diags
        .items
        .iter()
        .map(|d| message(&d.message, d.help.as_deref()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// The module's interface: the page copies its input into memory from `alloc`, calls `load`
// once with the project and `checklist` per change, and reads the answer (JSON) at `output`.

thread_local! {
    static PROJECT: RefCell<Option<Loaded>> = const { RefCell::new(None) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Room for `len` bytes of input, which the next call takes back.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut buf = Vec::<u8>::with_capacity(len);
    let ptr = buf.as_mut_ptr();
    std::mem::forget(buf);
    ptr
}

/// Takes back input memory from `alloc`.
///
/// # Safety
/// `ptr` and `len` are one `alloc` call's result and argument, and the page wrote `len` bytes.
unsafe fn input(ptr: *mut u8, len: usize) -> Vec<u8> {
    // SAFETY: as the caller promises, `alloc(len)` made this buffer and `len` bytes are set.
    unsafe { Vec::from_raw_parts(ptr, len, len) }
}

fn reply(json: Result<String, serde_json::Error>) -> usize {
    let bytes = json
        .unwrap_or_else(|e| format!("{{\"errors\":[\"{e}\"]}}"))
        .into_bytes();
    let len = bytes.len();
    OUTPUT.with(|o| *o.borrow_mut() = bytes);
    len
}

/// Loads the project (postcard of `Load`); the reply is `{}` or `{"errors": [...]}`.
///
/// # Safety
/// As `input`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn load(ptr: *mut u8, len: usize) -> usize {
    // SAFETY: passed on from the caller.
    let bytes = unsafe { input(ptr, len) };
    let read = || {
        postcard::from_bytes::<Load>(&bytes)
            .map_err(|e| format!("the site's project data is not readable: {e}"))
    };
    let loaded = read().and_then(|a| Loaded::new(a, read()?));
    match loaded {
        Ok(loaded) => {
            PROJECT.with(|p| *p.borrow_mut() = Some(loaded));
            reply(Ok("{}".into()))
        }
        Err(e) => reply(serde_json::to_string(&Answer::Errors(vec![e]))),
    }
}

/// The answer for an `Ask` (JSON); the reply's length is returned, its bytes are at `output`.
///
/// # Safety
/// As `input`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn checklist(ptr: *mut u8, len: usize) -> usize {
    // SAFETY: passed on from the caller.
    let bytes = unsafe { input(ptr, len) };
    let answer = match serde_json::from_slice::<Ask>(&bytes) {
        Ok(ask) => PROJECT.with(|p| match &*p.borrow() {
            Some(loaded) => answer(&loaded.html, ask),
            None => Answer::Errors(vec!["no project loaded".into()]),
        }),
        Err(e) => Answer::Errors(vec![format!("not a question the engine reads: {e}")]),
    };
    reply(serde_json::to_string(&answer))
}

/// The answer for a `RunAsk` (JSON), as `checklist`'s.
///
/// # Safety
/// As `input`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn run(ptr: *mut u8, len: usize) -> usize {
    // SAFETY: passed on from the caller.
    let bytes = unsafe { input(ptr, len) };
    let answer = match serde_json::from_slice::<RunAsk>(&bytes) {
        Ok(ask) => PROJECT.with(|p| match &*p.borrow() {
            Some(loaded) => run_answer(loaded, ask),
            None => RunAnswer::Errors(vec!["no project loaded".into()]),
        }),
        Err(e) => RunAnswer::Errors(vec![format!("not a question the engine reads: {e}")]),
    };
    reply(serde_json::to_string(&answer))
}

/// Where the last reply is.
#[unsafe(no_mangle)]
pub extern "C" fn output() -> *const u8 {
    OUTPUT.with(|o| o.borrow().as_ptr())
}
