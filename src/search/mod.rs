//! Offline full-text search over every step of every runbook, on a tantivy index kept in
//! `.runbook/index/` in the project root.
//!
//! The index is built on the first search and refreshed before each search when a source file
//! changed: only the runbooks whose file changed, or that include from a shared file that
//! changed, are indexed again (a change to `facts.toml` rebuilds everything). Whether anything
//! changed is decided from the files' metadata against the index's manifest, without loading
//! the project; a search then answers from the index alone.
//!
//! # JSON output
//!
//! `runbook search --format json` prints an array of hits, best first ([`Hit`]):
//!
//! ```json
//! [
//!   {
//!     "type": "step",
//!     "runbook": "prerequisites",
//!     "step": "partner-center-integration-account",
//!     "address": "prerequisites#partner-center-integration-account",
//!     "title": "Set up a Partner Center integration account with the Admin Agent role, and a native app",
//!     "title_highlight": [[53, 58], [59, 64], [65, 69]],
//!     "runbook_title": "Prerequisites for installing and upgrading",
//!     "section": "Requirements",
//!     "kind": "requirement",
//!     "role": null,
//!     "snippet": "…integration account should be assigned the 'Admin Agent' role in Partner Center. …",
//!     "highlight": [[47, 52], [53, 58], [60, 64]],
//!     "score": 21.973,
//!     "conditions": {
//!       "expression": "tier == \"1-tier\"",
//!       "text": "Partner tier is 1-Tier (Direct Bill)",
//!       "facts": ["tier"]
//!     },
//!     "revision": {
//!       "date": "2020-09-28",
//!       "versions": "2.5 and later",
//!       "status": "current",
//!       "label": null
//!     },
//!     "missing": [],
//!     "total": 14
//!   }
//! ]
//! ```
//!
//! - `highlight` and `title_highlight`: the matched words, as `[start, end)` byte offsets into
//!   `snippet` and `title` (UTF-8).
//! - `conditions`: what must hold for the step to apply (its runbook's, section's and own
//!   conditions), less what the profile decides; `null` when nothing is left.
//! - `revision.status`: `current` (the revision a checklist would use: for the profile's
//!   version, or the newest), `older` (an earlier or superseded revision), or `newer` (a
//!   revision for later versions than the profile's). `label` says it in words for the others,
//!   e.g. `older revision: before 2.5, 2019-02-04`.
//! - `missing`: the query words the step does not contain; only ever non-empty when no step
//!   contains them all (then up to one word in three may be missing).
//! - `role`: who performs the step, `{"id": "global-admin", "title": "Global Administrator"}`,
//!   or `null`.
//! - `score`: relevance, only comparable within one search.
//! - `total`: how many hits the search has in all, as a large enough `--limit` would list
//!   them; the same in every hit.
//! - `snippet`: the sentence of the step's text (as a checklist shows it: filled in with the
//!   profile's values, or placeholders without one) that holds the most of the query, with
//!   its neighbours (see `snippet.rs`).
//!
//! With no hit the array is empty, and "no results" (with a did-you-mean when a close word is
//! in the index) goes to standard error.

mod build;
mod chapters;
mod count;
mod manifest;
mod query;
mod results;
pub mod schema;
mod snippet;
mod store;
mod text;

use std::collections::{HashMap, HashSet};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query};
use tantivy::schema::{Field, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Searcher, TantivyDocument};

use crate::body::Template;
use crate::condition::{self, Expr};
use crate::diagnostics::{Diagnostic, Diagnostics, did_you_mean};
use crate::facts::{FactValues, Value as FactValue, Version, Vocabulary};
use crate::project::{self, FACTS_FILE, RUNBOOK_DIR};
use crate::runbook::{Kind, VERSION_FACT};

use manifest::Status;
use query::{Builder, Part};
use store::{OpenError, Opened, Store};

pub use results::{Conditions, Hit, Results, RevisionInfo, RevisionStatus, RoleRef, render_text};
pub use store::INDEX_DIR;

use results::revision_info;

/// Reports long work and notable events; the command line shows them on standard error.
pub trait Progress {
    /// A new stage of work, with its number of units when known.
    fn stage(&self, _message: &str, _total: Option<u64>) {}
    fn advance(&self, _units: u64) {}
    fn finish(&self) {}
    /// Something the user should know (the index was damaged and is rebuilt, say).
    fn notice(&self, _message: &str) {}
}

/// With `RUNBOOK_TRACE` set, prints how long each part of a search took, for profiling.
fn trace(what: &str) {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    if let Some(start) =
        START.get_or_init(|| std::env::var_os("RUNBOOK_TRACE").map(|_| Instant::now()))
    {
        eprintln!(
            "trace: {:>8.3} ms  {what}",
            start.elapsed().as_secs_f64() * 1000.0
        );
    }
}

/// Reports nothing.
pub struct Quiet;
impl Progress for Quiet {}

/// What to search for.
#[derive(Debug, Default)]
pub struct Request<'a> {
    pub query: &'a str,
    /// Only steps of these runbooks (ids); all when empty.
    pub runbooks: &'a [String],
    /// Only steps of these kinds; all when empty.
    pub kinds: &'a [String],
    /// Only steps that may apply to this customer: a profile file...
    pub profile: Option<&'a Path>,
    /// ...and `fact=value` settings over it.
    pub set: &'a [String],
    pub limit: usize,
}

/// What `index` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    UpToDate,
    /// Re-indexed this many runbook files (changed, added or removed), and the chapters if
    /// they changed.
    Refreshed {
        runbooks: usize,
        chapters: bool,
    },
    Rebuilt,
}

#[derive(Debug)]
pub struct IndexSummary {
    pub outcome: Outcome,
    pub runbooks: usize,
    /// Documents of steps (one per step of each revision).
    pub steps: u64,
    pub chapter_sections: u64,
}

/// Brings the index up to date (from scratch with `force`), building it if there is none.
pub fn index(
    root: &Path,
    force: bool,
    progress: &dyn Progress,
) -> Result<IndexSummary, Diagnostics> {
    let store = Store::new(root);
    let (opened, outcome) = if force {
        let _lock = store.lock()?;
        refresh_locked(&store, true, progress)?
    } else {
        fresh(&store, progress)?
    };
    let searcher = opened.reader.searcher();
    // A count, not the term's document frequency, which still counts deleted documents.
    let chapters = tantivy::query::TermQuery::new(
        tantivy::Term::from_field_text(opened.fields.doc_type, schema::TYPE_CHAPTER),
        tantivy::schema::IndexRecordOption::Basic,
    );
    let chapter_sections = searcher
        .search(&chapters, &tantivy::collector::Count)
        .map_err(|e| {
            Diagnostic::error(format!("cannot read the search index: {e}")).path(store.dir.clone())
        })? as u64;
    Ok(IndexSummary {
        outcome,
        runbooks: opened.manifest.runbooks.len(),
        steps: searcher.num_docs() - chapter_sections,
        chapter_sections,
    })
}

/// Searches the project's steps, refreshing the index first if a source changed.
pub fn search(root: &Path, req: &Request, progress: &dyn Progress) -> Result<Results, Diagnostics> {
    trace("search");
    let store = Store::new(root);
    let ctx = Context::new(root, req)?;
    trace("context");
    let (opened, _) = fresh(&store, progress)?;
    trace("index fresh");
    match attempt(&opened, req, &ctx) {
        Ok(results) => Ok(results),
        Err(Failure::Input(d)) => Err(d),
        Err(Failure::Damaged(why)) => {
            // The files opened but do not read back: rebuild and try once more.
            drop(opened);
            progress.notice(&format!(
                "the search index is damaged ({why}); rebuilding it"
            ));
            let _lock = store.lock()?;
            let (opened, _) = refresh_locked(&store, true, progress)?;
            match attempt(&opened, req, &ctx) {
                Ok(results) => Ok(results),
                Err(Failure::Input(d)) => Err(d),
                Err(Failure::Damaged(why)) => Err(Diagnostic::error(format!(
                    "the search index is still unusable after a rebuild: {why}"
                ))
                .path(store.dir.clone())
                .into()),
            }
        }
    }
}

/// The index, up to date. Only takes the writer's lock when something must be written.
fn fresh(store: &Store, progress: &dyn Progress) -> Result<(Opened, Outcome), Diagnostics> {
    for attempt in 0..3 {
        match store.open() {
            Ok(opened) => {
                trace("opened");
                let scan = manifest::scan(&store.root, Some(&opened.manifest))?;
                trace("scanned");
                let status = manifest::check(&store.root, &opened.manifest, &scan);
                trace("checked");
                match status {
                    Status::Fresh { restamped } => {
                        if let Some(m) = restamped
                            && let Some(_lock) = store.try_lock()
                        {
                            restamp(store, &opened, m);
                        }
                        return Ok((opened, Outcome::UpToDate));
                    }
                    Status::Stale(_) | Status::Rebuild => break,
                }
            }
            Err(OpenError::Missing) => break,
            // Perhaps a rebuild replaced the generation while it was being opened.
            Err(OpenError::Damaged(_)) if attempt < 2 => {
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            Err(OpenError::Damaged(_)) => break,
        }
    }
    let _lock = store.lock()?;
    refresh_locked(store, false, progress)
}

/// Saves fresher stamps, unless the manifest changed meanwhile. The caller holds the lock.
fn restamp(store: &Store, opened: &Opened, m: manifest::Manifest) {
    let path = opened.generation.join(store::MANIFEST);
    let unchanged = std::fs::read(&path).is_ok_and(|now| now == opened.text);
    if unchanged {
        let _ = store.write_manifest(&opened.generation, &m);
    }
}

/// Brings the index up to date, or rebuilds it (`force`). The caller holds the lock, so the
/// state read here cannot change under it.
fn refresh_locked(
    store: &Store,
    force: bool,
    progress: &dyn Progress,
) -> Result<(Opened, Outcome), Diagnostics> {
    match store.open() {
        Ok(opened) if !force => {
            let m = opened.manifest.clone();
            let scan = manifest::scan(&store.root, Some(&m))?;
            match manifest::check(&store.root, &m, &scan) {
                Status::Fresh { restamped } => {
                    if let Some(m) = restamped {
                        store.write_manifest(&opened.generation, &m)?;
                    }
                    Ok((opened, Outcome::UpToDate))
                }
                Status::Stale(changes) => {
                    let total = m.runbooks.len();
                    let count = changes.reindex.len() + changes.removed.len();
                    if count > 8 && count > total / 2 {
                        drop(opened);
                        Ok((build::full(store, progress)?, Outcome::Rebuilt))
                    } else {
                        let opened =
                            build::incremental(store, opened, &m, &scan, &changes, progress)?;
                        let outcome = Outcome::Refreshed {
                            runbooks: count,
                            chapters: changes.chapters,
                        };
                        Ok((opened, outcome))
                    }
                }
                Status::Rebuild => {
                    drop(opened);
                    Ok((build::full(store, progress)?, Outcome::Rebuilt))
                }
            }
        }
        Ok(opened) => {
            drop(opened);
            Ok((build::full(store, progress)?, Outcome::Rebuilt))
        }
        Err(OpenError::Missing) => Ok((build::full(store, progress)?, Outcome::Rebuilt)),
        Err(OpenError::Damaged(why)) => {
            progress.notice(&format!(
                "the search index is unusable ({why}); rebuilding it"
            ));
            Ok((build::full(store, progress)?, Outcome::Rebuilt))
        }
    }
}

enum Failure {
    /// Bad input (an unknown runbook, say).
    Input(Diagnostics),
    /// The index failed to read.
    Damaged(String),
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

impl From<tantivy::TantivyError> for Failure {
    fn from(e: tantivy::TantivyError) -> Self {
        Failure::Damaged(e.to_string())
    }
}

/// A search, with a panic inside tantivy (possible on damaged files) taken as damage.
fn attempt(opened: &Opened, req: &Request, ctx: &Context) -> Result<Results, Failure> {
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(AssertUnwindSafe(|| run(opened, req, ctx)));
    panic::set_hook(hook);
    match result {
        Ok(r) => r,
        Err(p) => {
            let what = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a read failed".into());
            Err(Failure::Damaged(what))
        }
    }
}

/// What a search needs besides the index: the vocabulary (read only when needed) and the
/// customer's facts.
struct Context {
    vocab: Option<Vocabulary>,
    facts: Option<FactValues>,
    /// Fills in step text with the profile's values, when there is a profile.
    env: Option<Template>,
}

impl Context {
    fn new(root: &Path, req: &Request) -> Result<Context, Diagnostics> {
        let mut ctx = Context {
            vocab: None,
            facts: None,
            env: None,
        };
        if req.profile.is_some() || !req.set.is_empty() {
            let vocab = load_vocab(root)?;
            let profile = crate::project::profile(&vocab, req.profile, req.set)?;
            ctx.env = Some(Template::new(&vocab, &profile.customer, &profile.facts));
            // A fact the profile leaves out takes its default, as in a checklist.
            ctx.facts = Some(vocab.with_defaults(&profile.facts).0);
            ctx.vocab = Some(vocab);
        } else {
            // Conditions are described with the fact names; without a readable facts file
            // the index could not have been built, so this does not fail in practice.
            ctx.vocab = load_vocab(root).ok();
        }
        Ok(ctx)
    }

    /// What a step's condition (as indexed) leaves open for the profile: `Const(false)` when
    /// the step cannot apply. `parsed` keeps the conditions already parsed.
    fn residual(&self, condition: &str, parsed: &mut HashMap<String, Option<Expr>>) -> Expr {
        let expr = if condition.is_empty() {
            Expr::Const(true)
        } else {
            let cached = parsed.entry(condition.to_string()).or_insert_with(|| {
                self.vocab
                    .as_ref()
                    .and_then(|v| condition::parse(condition, v).ok())
            });
            match cached {
                Some(e) => e.clone(),
                // A condition the facts no longer resolve: the index is about to be
                // refreshed; keep the step rather than hide it.
                None => Expr::Const(true),
            }
        };
        match &self.facts {
            Some(facts) => expr.residual(facts),
            None => expr,
        }
    }

    fn version(&self) -> Option<&Version> {
        match self.facts.as_ref()?.get(VERSION_FACT)? {
            FactValue::Version(v) => Some(v),
            _ => None,
        }
    }
}

fn load_vocab(root: &Path) -> Result<Vocabulary, Diagnostics> {
    let file = project::read(root, &root.join(RUNBOOK_DIR).join(FACTS_FILE))?;
    let mut diags = Diagnostics::default();
    let vocab = Vocabulary::load(&file, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(vocab)
}

fn text_of(doc: &TantivyDocument, field: Field) -> &str {
    doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("")
}

fn u64_of(doc: &TantivyDocument, field: Field) -> u64 {
    doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0)
}

/// A hit before its snippet is made.
struct Candidate {
    addr: DocAddress,
    doc: TantivyDocument,
    score: f32,
    residual: Expr,
    revision: RevisionInfo,
}

/// Checks the filters against what the index holds.
fn check_filters(opened: &Opened, req: &Request) -> Result<(), Failure> {
    let mut diags = Diagnostics::default();
    let ids: Vec<&str> = if req.runbooks.is_empty() {
        Vec::new()
    } else {
        let m = &opened.manifest;
        m.runbooks.iter().map(|r| r.id.as_str()).collect()
    };
    for id in req.runbooks {
        if !ids.contains(&id.as_str()) {
            let mut d = Diagnostic::error(format!("no runbook `{id}`"));
            d = match did_you_mean(id, ids.iter().copied()) {
                Some(close) => d.help(format!("did you mean \"{close}\"?")),
                None => d.help(format!("runbooks: {}", ids.join(", "))),
            };
            diags.push(d);
        }
    }
    let kinds: Vec<&str> = Kind::ALL.iter().map(|(n, _)| *n).collect();
    for kind in req.kinds {
        if !kinds.contains(&kind.as_str()) {
            let mut d = Diagnostic::error(format!("unknown step kind `{kind}`"));
            d = match did_you_mean(kind, kinds.iter().copied()) {
                Some(close) => d.help(format!("did you mean \"{close}\"?")),
                None => d.help(format!("kinds: {}", kinds.join(", "))),
            };
            diags.push(d);
        }
    }
    if diags.has_errors() {
        Err(Failure::Input(diags))
    } else {
        Ok(())
    }
}

fn filter(field: Field, values: &[String]) -> Option<(Occur, Box<dyn Query>)> {
    if values.is_empty() {
        return None;
    }
    let terms: Vec<Box<dyn Query>> = values
        .iter()
        .map(|v| {
            Box::new(tantivy::query::TermQuery::new(
                tantivy::Term::from_field_text(field, v),
                tantivy::schema::IndexRecordOption::Basic,
            )) as Box<dyn Query>
        })
        .collect();
    Some((
        Occur::Must,
        Box::new(ConstScoreQuery::new(
            Box::new(BooleanQuery::union(terms)),
            0.0,
        )),
    ))
}

fn run(opened: &Opened, req: &Request, ctx: &Context) -> Result<Results, Failure> {
    check_filters(opened, req)?;
    let f = opened.fields;
    let searcher = opened.reader.searcher();
    let mut words = opened.index.tokenizer_for_field(f.words)?;
    let parts = query::parse(req.query, &mut words);
    if parts.is_empty() {
        return Err(
            Diagnostic::error(format!("nothing to search for in `{}`", req.query))
                .help("give one or more words, a \"phrase\" or a prefix*")
                .into(),
        );
    }
    let mut builder = Builder::new(&opened.index, &searcher, f)?;
    let groups: Vec<query::Group> = parts.iter().map(|p| builder.group(p)).collect();
    trace("query built");
    let filters: Vec<(Occur, Box<dyn Query>)> =
        [filter(f.runbook, req.runbooks), filter(f.kind, req.kinds)]
            .into_iter()
            .flatten()
            .collect();

    let limit = req.limit.max(1);
    let mut results = Results::default();
    // When no step has every word, allow one in three to be missing (at least one).
    let most_missing = match groups.len() {
        0 | 1 => 0,
        n => ((n + 1) / 3).max(1),
    };
    for missing in 0..=most_missing {
        let mut clauses = vec![(Occur::Must, query::combine(&groups, missing))];
        clauses.extend(filters.iter().map(|(o, q)| (*o, q.box_clone())));
        let full: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
        let kept = collect(&searcher, &*full, opened, ctx, limit)?;
        trace("collected");
        if kept.is_empty() {
            continue;
        }
        // Fewer than the limit: `collect` saw every match.
        results.total = if kept.len() < limit {
            kept.len()
        } else {
            total(&searcher, &*full, ctx)?.max(kept.len())
        };
        trace("counted");
        results.relaxed = missing > 0;
        results.hits = hits(&searcher, &*full, opened, ctx, kept, &groups, missing > 0)?;
        for h in &mut results.hits {
            h.total = results.total;
        }
        trace("hits");
        break;
    }

    // Words the index does not hold, with the closest it does.
    let mut replaced = false;
    let suggestion: Vec<String> = groups
        .iter()
        .map(|g| match &g.part {
            Part::Word(w) if !g.known => match builder.suggest(w) {
                Some(s) => {
                    replaced = true;
                    s
                }
                None => w.clone(),
            },
            p => p.display(),
        })
        .collect();
    if replaced {
        results.suggestion = Some(suggestion.join(" "));
    }
    Ok(results)
}

/// How many hits a query has in all, as `collect` would keep them with no limit.
fn total(searcher: &Searcher, query: &dyn Query, ctx: &Context) -> Result<usize, Failure> {
    let keeps = |c: &str| ctx.residual(c, &mut HashMap::new()) != Expr::Const(false);
    let keeps: &(dyn Fn(&str) -> bool + Sync) = &keeps;
    let counter = count::Total {
        keeps: ctx.facts.is_some().then_some(keeps),
    };
    Ok(searcher.search(query, &counter)?)
}

/// The best candidates for a query, filtered by the profile, each step's copies folded, best
/// first; asks tantivy for more when filtering left too few.
fn collect(
    searcher: &Searcher,
    query: &dyn Query,
    opened: &Opened,
    ctx: &Context,
    limit: usize,
) -> Result<Vec<Candidate>, Failure> {
    let f = opened.fields;
    let mut want = (limit * 3).max(30);
    let mut parsed: HashMap<String, Option<Expr>> = HashMap::new();
    loop {
        // No count of all matches: it would keep tantivy from skipping the hopeless ones.
        let top = searcher.search(query, &TopDocs::with_limit(want).order_by_score())?;
        let mut kept: Vec<Candidate> = Vec::new();
        for (score, addr) in &top {
            let doc: TantivyDocument = searcher.doc(*addr)?;
            let residual = ctx.residual(text_of(&doc, f.condition), &mut parsed);
            if residual == Expr::Const(false) {
                continue;
            }
            let revision = revision_info(&doc, &f, ctx.version());
            // Steps are what a search is for: an older revision's, or a chapter's section,
            // only outranks the current one's when clearly more relevant.
            let factor = if revision.status != RevisionStatus::Current
                || text_of(&doc, f.doc_type) == schema::TYPE_CHAPTER
            {
                0.5
            } else {
                1.0
            };
            kept.push(Candidate {
                addr: *addr,
                score: score * factor,
                doc,
                residual,
                revision,
            });
        }
        kept.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| address(&a.doc, &f).cmp(&address(&b.doc, &f)))
                .then_with(|| u64_of(&a.doc, f.revision).cmp(&u64_of(&b.doc, f.revision)))
        });
        // A shared step appears in several revisions as the same text: show it once.
        let mut seen = HashSet::new();
        kept.retain(|c| seen.insert((address(&c.doc, &f), u64_of(&c.doc, f.digest))));
        if kept.len() >= limit || top.len() < want {
            kept.truncate(limit);
            return Ok(kept);
        }
        want *= 4;
    }
}

/// `runbook#step` for a step; `file#anchor` for a chapter section (`file` for its lead text).
fn address(doc: &TantivyDocument, f: &schema::Fields) -> String {
    let (place, anchor) = if text_of(doc, f.doc_type) == schema::TYPE_CHAPTER {
        (text_of(doc, f.section_id), text_of(doc, f.step))
    } else {
        (text_of(doc, f.runbook), text_of(doc, f.step))
    };
    if anchor.is_empty() {
        place.to_string()
    } else {
        format!("{place}#{anchor}")
    }
}

fn ranges(r: &[std::ops::Range<usize>]) -> Vec<[usize; 2]> {
    r.iter().map(|r| [r.start, r.end]).collect()
}

fn hits(
    searcher: &Searcher,
    query: &dyn Query,
    opened: &Opened,
    ctx: &Context,
    kept: Vec<Candidate>,
    groups: &[query::Group],
    relaxed: bool,
) -> Result<Vec<Hit>, Failure> {
    let f = opened.fields;
    let mut stemmer: TextAnalyzer = opened.index.tokenizer_for_field(f.body)?;
    let mut title_snippets = SnippetGenerator::create(searcher, query, f.title)?;
    title_snippets.set_max_num_chars(10_000);
    let mut out = Vec::new();
    for c in kept {
        let doc = &c.doc;
        // A step's text filled in with the profile's values, if it has any to fill in.
        let source = text_of(doc, f.source);
        let filled = match &ctx.env {
            Some(env) if !source.is_empty() => Some(build::join_text(
                build::step_text(env, source),
                text_of(doc, f.notes),
            )),
            _ => None,
        };
        let body = filled.as_deref().unwrap_or(text_of(doc, f.body));
        let sources = [
            snippet::Source {
                text: body,
                code: false,
            },
            snippet::Source {
                text: text_of(doc, f.code),
                code: true,
            },
        ];
        let (snippet, highlight) = snippet::make(&sources, groups, &mut stemmer, snippet::BUDGET);
        let title = text_of(doc, f.title).to_string();
        let t = title_snippets.snippet(&title);
        let offset = t.fragment_range().start;
        let title_highlight: Vec<[usize; 2]> = t
            .highlighted()
            .iter()
            .map(|r| [r.start + offset, r.end + offset])
            .collect();
        let conditions = (!c.residual.is_true()).then(|| Conditions {
            expression: c.residual.to_source(),
            text: match &ctx.vocab {
                Some(v) => c.residual.describe(v),
                None => c.residual.to_source(),
            },
            facts: c.residual.facts().into_iter().collect(),
        });
        let role = text_of(doc, f.role);
        let missing = if relaxed {
            groups
                .iter()
                .filter(|g| !query::matches(searcher, &*g.query, c.addr))
                .map(|g| g.part.display())
                .collect()
        } else {
            Vec::new()
        };
        out.push(Hit {
            doc_type: text_of(doc, f.doc_type).to_string(),
            runbook: text_of(doc, f.runbook).to_string(),
            step: text_of(doc, f.step).to_string(),
            address: address(doc, &f),
            title,
            title_highlight,
            runbook_title: text_of(doc, f.runbook_title).to_string(),
            section: text_of(doc, f.section).to_string(),
            kind: text_of(doc, f.kind).to_string(),
            role: (!role.is_empty()).then(|| RoleRef {
                id: role.to_string(),
                title: text_of(doc, f.role_title).to_string(),
            }),
            snippet,
            highlight: ranges(&highlight),
            score: (f64::from(c.score) * 1000.0).round() / 1000.0,
            conditions,
            revision: c.revision,
            missing,
            total: 0,
        });
    }
    Ok(out)
}
