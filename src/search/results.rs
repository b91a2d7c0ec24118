//! What a search gives back: its hits, best first, and their text for a terminal. A hit's
//! fields are those of `runbook search --format json` (see the module above).

use serde::Serialize;
use tantivy::TantivyDocument;

use crate::facts::Version;
use crate::runbook::{self, Revision};

use super::schema::{self, Fields};
use super::{text_of, u64_of};

/// A step or chapter section found.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// What the document is: `step` or `chapter`.
    #[serde(rename = "type")]
    pub doc_type: String,
    pub runbook: String,
    pub step: String,
    /// `runbook#step`, or for a chapter section `file#anchor` (the file relative to the
    /// project root).
    pub address: String,
    pub title: String,
    pub title_highlight: Vec<[usize; 2]>,
    /// The runbook's title, or the chapter's.
    pub runbook_title: String,
    /// Empty for a chapter section, as are `runbook` and `kind`.
    pub section: String,
    pub kind: String,
    pub role: Option<RoleRef>,
    pub snippet: String,
    pub highlight: Vec<[usize; 2]>,
    pub score: f64,
    pub conditions: Option<Conditions>,
    pub revision: RevisionInfo,
    pub missing: Vec<String>,
    /// How many hits the search has in all, `--limit` or not (the same in every hit).
    pub total: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleRef {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Conditions {
    /// In the condition language.
    pub expression: String,
    /// In words, with fact names and value labels.
    pub text: String,
    pub facts: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RevisionStatus {
    Current,
    Older,
    Newer,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevisionInfo {
    pub date: Option<String>,
    /// The versions it covers, in words ("2.5 and later").
    pub versions: String,
    pub status: RevisionStatus,
    /// For a revision that is not the current one: "older revision: before 2.5, 2019-02-04".
    pub label: Option<String>,
}

#[derive(Debug, Default)]
pub struct Results {
    pub hits: Vec<Hit>,
    /// How many hits there are in all: more than `hits` when the limit left some out.
    pub total: usize,
    /// The query with its unknown words replaced by the closest words of the index.
    pub suggestion: Option<String>,
    /// No step holds every word: the hits hold most (all but one in three).
    pub relaxed: bool,
}

/// Where a hit's revision stands: the one a checklist would use, or another.
pub(super) fn revision_info(
    doc: &TantivyDocument,
    f: &Fields,
    version: Option<&Version>,
) -> RevisionInfo {
    let index = u64_of(doc, f.revision) as usize;
    let revisions: Vec<Revision> =
        serde_json::from_str(text_of(doc, f.revisions)).unwrap_or_default();
    let Some(revision) = revisions.get(index) else {
        return RevisionInfo {
            date: None,
            versions: String::new(),
            status: RevisionStatus::Current,
            label: None,
        };
    };
    let range = &revision.range;
    let status = match version {
        None if u64_of(doc, f.current) == 1 => RevisionStatus::Current,
        None => RevisionStatus::Older,
        Some(v) => match runbook::revision_index(&revisions, Some(v)) {
            Some(i) if i == index => RevisionStatus::Current,
            _ if range.contains(v) => RevisionStatus::Older,
            _ if range.before.as_ref().is_some_and(|b| b <= v) => RevisionStatus::Older,
            _ => RevisionStatus::Newer,
        },
    };
    let words = match status {
        RevisionStatus::Current => None,
        RevisionStatus::Older => Some("older revision"),
        RevisionStatus::Newer => Some("revision for later versions"),
    };
    RevisionInfo {
        label: words.map(|w| format!("{w}: {range}, {}", revision.name())),
        date: revision.date.clone(),
        versions: range.to_string(),
        status,
    }
}

const BOLD: &str = "\x1b[1m";
const UNBOLD: &str = "\x1b[22m";
const DIM: &str = "\x1b[2m";

fn emphasize(text: &str, ranges: &[[usize; 2]], color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + ranges.len() * 10);
    let mut at = 0;
    for [start, end] in ranges {
        if *start < at
            || *end > text.len()
            || !text.is_char_boundary(*start)
            || !text.is_char_boundary(*end)
        {
            continue;
        }
        out.push_str(&text[at..*start]);
        out.push_str(BOLD);
        out.push_str(&text[*start..*end]);
        out.push_str(UNBOLD);
        at = *end;
    }
    out.push_str(&text[at..]);
    out
}

/// Results as text for a terminal: each hit with its address, title, place, snippet and
/// conditions; matched words in bold when `color`.
pub fn render_text(results: &Results, color: bool) -> String {
    let mut out = String::new();
    if let Some(s) = &results.suggestion {
        out.push_str(&format!("did you mean \"{s}\"?\n"));
    }
    if results.hits.is_empty() {
        out.push_str("no results\n");
        return out;
    }
    if !out.is_empty() {
        out.push('\n');
    }
    if results.relaxed {
        out.push_str("No step has all the words; these have most of them.\n\n");
    }
    let (dim, undim) = if color { (DIM, "\x1b[22m") } else { ("", "") };
    for (i, h) in results.hits.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let revision = h
            .revision
            .label
            .as_ref()
            .map(|l| format!("  ({l})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}. {}\n",
            i + 1,
            emphasize(&h.title, &h.title_highlight, color)
        ));
        let mut place = if h.doc_type == schema::TYPE_CHAPTER {
            format!("{} · chapter", h.runbook_title)
        } else {
            format!("{} › {} · {}", h.runbook_title, h.section, h.kind)
        };
        if let Some(role) = &h.role {
            place.push_str(&format!(" · {}", role.title));
        }
        out.push_str(&format!("   {}{revision}\n", h.address));
        out.push_str(&format!("   {dim}{place}{undim}\n"));
        if !h.snippet.is_empty() {
            out.push_str(&format!(
                "   {}\n",
                emphasize(&h.snippet, &h.highlight, color)
            ));
        }
        if let Some(c) = &h.conditions {
            out.push_str(&format!("   only if {}\n", c.text));
        }
        if !h.missing.is_empty() {
            out.push_str(&format!(
                "   {dim}missing: {}{undim}\n",
                h.missing.join(", ")
            ));
        }
    }
    let more = results.total.saturating_sub(results.hits.len());
    if more > 0 {
        out.push_str(&format!(
            "\n… and {more} more (use --limit {} to see them all)\n",
            results.total
        ));
    }
    out
}
