//! The engine as the checklist builder calls it, from WebAssembly: the site ships the resolved
//! project (step text already rendered to HTML, with tokens where values go); the page loads it
//! once and asks for a checklist on every change of its form. JSON in, JSON out, through this
//! module's memory: no bindings generator, so the page's loader is a few lines.

use std::cell::RefCell;
use std::collections::BTreeMap;

use runbook_core::body::{Tokens, Values};
use runbook_core::checklist::{self, Checklist, Request};
use runbook_core::diagnostics::Diagnostics;
use runbook_core::profile::{Customer, Profile};
use runbook_core::project::Project;
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

/// The checklist for an answered form, as `runbook checklist --format json` gives it, with step
/// text as HTML.
pub fn answer(project: &Project, ask: Ask) -> Answer {
    let vocab = &project.vocab;
    let mut profile = Profile {
        customer: ask.customer,
        ..Profile::default()
    };
    let mut invalid = BTreeMap::new();
    for (id, text) in &ask.facts {
        if let Err(d) = profile.set(&format!("{id}={text}"), vocab) {
            invalid.insert(id.clone(), message(&d.message, d.help.as_deref()));
        }
    }
    if !invalid.is_empty() {
        return Answer::Invalid(invalid);
    }
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
// The module's interface: the page copies UTF-8 JSON into memory from `alloc`, calls `load`
// once with the project and `checklist` per change, and reads the answer at `output`.

thread_local! {
    static PROJECT: RefCell<Option<Project>> = const { RefCell::new(None) };
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

/// Loads the project (JSON of `Project`); the reply is `{}` or `{"errors": [...]}`.
///
/// # Safety
/// As `input`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn load(ptr: *mut u8, len: usize) -> usize {
    // SAFETY: passed on from the caller.
    let bytes = unsafe { input(ptr, len) };
    match serde_json::from_slice::<Project>(&bytes) {
        Ok(project) => {
            PROJECT.with(|p| *p.borrow_mut() = Some(project));
            reply(Ok("{}".into()))
        }
        Err(e) => reply(serde_json::to_string(&Answer::Errors(vec![format!(
            "the site's project data is not readable: {e}"
        )]))),
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
            Some(project) => answer(project, ask),
            None => Answer::Errors(vec!["no project loaded".into()]),
        }),
        Err(e) => Answer::Errors(vec![format!("not a question the engine reads: {e}")]),
    };
    reply(serde_json::to_string(&answer))
}

/// Where the last reply is.
#[unsafe(no_mangle)]
pub extern "C" fn output() -> *const u8 {
    OUTPUT.with(|o| o.borrow().as_ptr())
}
