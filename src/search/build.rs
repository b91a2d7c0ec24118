//! Building the index: every step of every revision becomes a document. A full build loads and
//! validates the whole project; a refresh reads only the runbooks that changed (with the facts
//! and shared files they need) and replaces their documents.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::Path;

use tantivy::{Index, IndexWriter, TantivyDocument, Term};

use crate::body::{Fill, Template};
use crate::diagnostics::{Diagnostic, Diagnostics, did_you_mean};
use crate::facts::{FactValues, Vocabulary};
use crate::profile::Customer;
use crate::project::{self, FACTS_FILE, Project, RUNBOOK_DIR};
use crate::runbook::load::{Library, RawRunbook, RawShared, Resolver};
use crate::runbook::{Revision, Runbook, Step, validate};
use crate::toml_file;

use super::Progress;
use super::chapters::{self, Chapters};
use super::manifest::{self, Changes, Entry, Manifest, RunbookEntry, Scan, SharedIndex, Stamp};
use super::schema::{self, Fields, TYPE_CHAPTER, TYPE_STEP};
use super::store::{OpenError, Opened, Store};
use super::text::{hash, markdown_text};

/// Memory for tantivy's indexing threads during a full build, per thread.
const BUILD_BUDGET_PER_THREAD: usize = 48_000_000;
/// Memory for a refresh (one thread).
const REFRESH_BUDGET: usize = 24_000_000;

fn tantivy_error(e: tantivy::TantivyError) -> Diagnostic {
    Diagnostic::error(format!("cannot write the search index: {e}"))
}

/// The documents of one runbook: one per step of each revision. Returns how many. `env` fills
/// in the steps' text as a checklist without a profile does.
pub fn add_runbook(
    writer: &IndexWriter,
    f: &Fields,
    rb: &Runbook,
    vocab: &Vocabulary,
    env: &Template,
) -> Result<u64, Diagnostic> {
    let current = rb.revision_index(None);
    // The revisions without their steps, for results to say which one a version uses, as
    // a checklist would (`runbook::revision_index`).
    let outlines: Vec<Revision> = rb
        .revisions
        .iter()
        .map(|r| Revision {
            sections: Vec::new(),
            sources: Vec::new(),
            ..r.clone()
        })
        .collect();
    let revisions = serde_json::to_string(&outlines).unwrap_or_default();
    // Each step's digests in the revisions indexed so far.
    let mut seen: HashSet<(&str, u64)> = HashSet::new();
    let mut count = 0;
    for (ri, rev) in rb.revisions.iter().enumerate() {
        let is_current = current == Some(ri);
        for section in &rev.sections {
            for step in &section.steps {
                let condition = rb.condition_of(section, step);
                let notes = timed_notes(step);
                let body = join_text(step_text(env, &step.body), &notes);
                let mut doc = TantivyDocument::new();
                doc.add_text(f.doc_type, TYPE_STEP);
                doc.add_text(f.runbook, &rb.id);
                doc.add_text(f.runbook_title, &rb.title);
                doc.add_text(f.section_id, &section.id);
                doc.add_text(f.section, &section.title);
                doc.add_text(f.step, &step.id);
                doc.add_text(f.title, &step.title);
                doc.add_text(f.body, &body);
                if has_template(&step.body) {
                    doc.add_text(f.source, &step.body);
                    doc.add_text(f.notes, &notes);
                }
                for text in [&step.title, &section.title, &rb.title, &body] {
                    doc.add_text(f.words, text);
                }
                doc.add_text(f.kind, step.kind.name());
                if let Some(role) = &step.role {
                    doc.add_text(f.role, role);
                    let title = vocab.roles.get(role).map_or(role, |r| &r.title);
                    doc.add_text(f.role_title, title);
                }
                for fact in condition.facts() {
                    doc.add_text(f.facts, &fact);
                }
                if !condition.is_true() {
                    doc.add_text(f.condition, condition.to_source());
                }
                doc.add_u64(f.revision, ri as u64);
                doc.add_text(f.revisions, &revisions);
                doc.add_u64(f.current, u64::from(is_current));
                // Everything searched or shown: copies with the same digest are one hit.
                let shown = format!(
                    "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
                    step.title,
                    section.title,
                    body,
                    step.body,
                    condition,
                    step.role.as_deref().unwrap_or("")
                );
                let digest = hash(shown.as_bytes());
                doc.add_u64(f.digest, digest);
                doc.add_u64(f.copy, u64::from(!seen.insert((&step.id, digest))));
                writer.add_document(doc).map_err(tantivy_error)?;
                count += 1;
            }
        }
    }
    Ok(count)
}

/// Whether a step's body has anything to fill in.
pub fn has_template(body: &str) -> bool {
    body.contains("{{") || body.contains("{%")
}

/// A step's body as a checklist shows it (filled in by `env`), without its Markdown.
pub fn step_text(env: &Template, body: &str) -> String {
    markdown_text(&env.fill(body))
}

/// A step's wait and expiry, worded as the checklist words them ("Expires after 15 min. The
/// link is valid for only 15 minutes."), one a line.
fn timed_notes(step: &Step) -> String {
    let mut lines = Vec::new();
    if let Some(w) = &step.wait {
        lines.push(format!("Wait {}. {}", w.time, w.note));
    }
    if let Some(x) = &step.expires {
        lines.push(format!("Expires after {}. {}", x.time, x.note));
    }
    lines.join("\n")
}

/// Two texts, one after the other on their own lines.
pub fn join_text(mut text: String, more: &str) -> String {
    if !more.is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(more);
    }
    text
}

/// The documents of the chapters' sections. Returns how many.
fn add_chapters(writer: &IndexWriter, f: &Fields, chapters: &Chapters) -> Result<u64, Diagnostic> {
    // A chapter listed twice in SUMMARY.md: its sections are one hit each.
    let mut seen: HashSet<(&str, &str, u64)> = HashSet::new();
    for section in &chapters.sections {
        let mut doc = TantivyDocument::new();
        doc.add_text(f.doc_type, TYPE_CHAPTER);
        doc.add_text(f.runbook_title, &section.chapter);
        doc.add_text(f.section_id, &section.file);
        doc.add_text(f.step, &section.anchor);
        doc.add_text(f.title, &section.title);
        doc.add_text(f.body, &section.text);
        doc.add_text(f.code, &section.code);
        for text in [
            &section.title,
            &section.chapter,
            &section.text,
            &section.code,
        ] {
            doc.add_text(f.words, text);
        }
        doc.add_u64(f.revision, 0);
        doc.add_u64(f.current, 1);
        let shown = format!(
            "{}\u{0}{}\u{0}{}",
            section.title, section.text, section.code
        );
        let digest = hash(shown.as_bytes());
        doc.add_u64(f.digest, digest);
        let copy = !seen.insert((&section.file, &section.anchor, digest));
        doc.add_u64(f.copy, u64::from(copy));
        writer.add_document(doc).map_err(tantivy_error)?;
    }
    Ok(chapters.sections.len() as u64)
}

/// Fills in step text for every customer: facts and customer fields as placeholders
/// ("[customer domain]"), lookups with all their values, every conditional text.
pub fn unfilled(vocab: &Vocabulary) -> Template {
    Template::as_given(vocab, &Customer::default(), &FactValues::new())
}

/// Reads a file for its manifest entry: the stamp taken before reading, the hash of what was
/// read.
fn read_entry(root: &Path, path: &str, stamp: Stamp) -> Result<(Entry, String), Diagnostic> {
    let full = root.join(path);
    let bytes = fs::read(&full)
        .map_err(|e| Diagnostic::error(format!("cannot read {path}: {e}")).path(&full))?;
    let entry = Entry {
        path: path.to_string(),
        stamp,
        hash: hash(&bytes),
    };
    Ok((entry, String::from_utf8_lossy(&bytes).into_owned()))
}

fn shared_entries(
    root: &Path,
    scan: &Scan,
) -> Result<(Vec<Entry>, BTreeMap<String, String>), Diagnostic> {
    let mut entries = Vec::new();
    let mut texts = BTreeMap::new();
    for (path, stamp) in &scan.shared {
        let (entry, text) = read_entry(root, path, *stamp)?;
        entries.push(entry);
        texts.insert(path.clone(), text);
    }
    Ok((entries, texts))
}

fn dirs(scan: &Scan) -> Vec<Entry> {
    scan.dirs
        .iter()
        .map(|(path, stamp)| Entry {
            path: path.clone(),
            stamp: *stamp,
            hash: 0,
        })
        .collect()
}

/// A runbook's manifest entry: its stamp from the scan, the hash of the text it was read with.
fn runbook_entry(
    root: &Path,
    rb: &Runbook,
    stamps: &HashMap<&str, Stamp>,
    deps: &SharedIndex,
) -> RunbookEntry {
    let path = manifest::rel(root, &rb.file.path);
    // A file that appeared after the scan has no stamp: 0 makes it checked by content.
    let stamp = stamps.get(path.as_str()).copied().unwrap_or(Stamp {
        mtime: 0,
        size: rb.file.text.len() as u64,
    });
    RunbookEntry {
        file: Entry {
            path,
            stamp,
            hash: hash(rb.file.text.as_bytes()),
        },
        id: rb.id.clone(),
        deps: deps.deps(&rb.file.text),
    }
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
}

/// Builds a new generation from scratch and makes it current. The caller holds the lock.
pub fn full(store: &Store, progress: &dyn Progress) -> Result<Opened, Diagnostics> {
    let root = &store.root;
    // Stamps first, then contents: a file changed while this runs looks changed next time.
    let scan = manifest::scan(root, None)?;
    let (facts_path, facts_stamp) = scan.facts.clone().ok_or_else(|| {
        Diagnostic::error(format!("no {RUNBOOK_DIR}/{FACTS_FILE}"))
            .path(root.join(RUNBOOK_DIR).join(FACTS_FILE))
    })?;
    let (facts, _) = read_entry(root, &facts_path, facts_stamp)?;
    let (shared, shared_texts) = shared_entries(root, &scan)?;
    progress.stage("Reading runbooks", None);
    let (project, _warnings) = Project::load(root)?;
    let chapters = chapters::load(root);

    let generation = store.new_generation()?;
    let built = (|| -> Result<Vec<RunbookEntry>, Diagnostics> {
        let index = Index::create_in_dir(&generation, schema::schema()).map_err(tantivy_error)?;
        let fields = Fields::of(&index.schema()).ok_or_else(|| Diagnostic::error("bad schema"))?;
        let threads = threads();
        let mut writer: IndexWriter = index
            .writer_with_num_threads(threads, threads * BUILD_BUDGET_PER_THREAD)
            .map_err(tantivy_error)?;
        let stamps: HashMap<&str, Stamp> = scan
            .runbooks
            .iter()
            .map(|(p, s)| (p.as_str(), *s))
            .collect();
        let deps = SharedIndex::new(&shared_texts);
        let mut entries = Vec::with_capacity(project.runbooks.len());
        progress.stage("Indexing", Some(project.runbooks.len() as u64));
        let vocab = &project.vocab;
        let env = unfilled(vocab);
        for rb in &project.runbooks {
            entries.push(runbook_entry(root, rb, &stamps, &deps));
            add_runbook(&writer, &fields, rb, vocab, &env)?;
            progress.advance(1);
        }
        add_chapters(&writer, &fields, &chapters)?;
        progress.stage("Writing the index", None);
        writer.commit().map_err(tantivy_error)?;
        writer.wait_merging_threads().map_err(tantivy_error)?;
        entries.sort_by(|a, b| a.file.path.cmp(&b.file.path));
        Ok(entries)
    })();
    let runbooks = match built {
        Ok(r) => r,
        Err(e) => {
            let _ = fs::remove_dir_all(&generation);
            return Err(e);
        }
    };
    let manifest = Manifest {
        stamped: scan.started,
        dirs: dirs(&scan),
        facts: Some(facts),
        shared,
        book: chapters.sources,
        runbooks,
    };
    store.write_manifest(&generation, &manifest)?;
    store.publish(&generation)?;
    store.clean(&generation);
    progress.finish();
    store
        .open()
        .map_err(|e| match e {
            OpenError::Missing => Diagnostic::error("the search index vanished while it was built"),
            OpenError::Damaged(why) => {
                Diagnostic::error(format!("the search index just built is unusable: {why}"))
            }
        })
        .map_err(Diagnostics::from)
}

/// Loads the runbooks of some files, with the facts and every shared file, and checks them as
/// `runbook check` would, except for what involves the other runbooks: their ids and `after`
/// are checked against the manifest's.
fn load_some(
    root: &Path,
    scan: &Scan,
    paths: &[&str],
    others: &HashMap<&str, &str>,
) -> Result<(Vocabulary, Vec<Runbook>), Diagnostics> {
    let mut diags = Diagnostics::default();
    let dir = root.join(RUNBOOK_DIR);
    let facts = project::read(root, &dir.join(FACTS_FILE))?;
    let vocab = Vocabulary::load(&facts, &mut diags);
    let mut library = Library::default();
    for (path, _) in &scan.shared {
        let file = project::read(root, &root.join(path))?;
        match toml_file::parse::<RawShared>(&file) {
            Ok(raw) => library.add(&file, raw, &mut diags),
            Err(d) => diags.push(d),
        }
    }
    let mut raws = Vec::new();
    for path in paths {
        let file = project::read(root, &root.join(path))?;
        match toml_file::parse::<RawRunbook>(&file) {
            Ok(raw) => raws.push((file, raw)),
            Err(d) => diags.push(d),
        }
    }
    let mut resolver = Resolver {
        vocab: &vocab,
        library: &library,
        diags: &mut diags,
    };
    let runbooks: Vec<Runbook> = raws
        .into_iter()
        .map(|(file, raw)| resolver.runbook(&file, raw))
        .collect();
    // `after` may name runbooks that are not loaded here: check those against the manifest.
    let here: HashSet<&str> = runbooks.iter().map(|r| r.id.as_str()).collect();
    let mut known: Vec<&str> = others.values().copied().collect();
    known.extend(here.iter().copied());
    let mut local = runbooks.clone();
    for rb in &mut local {
        rb.after.retain(|(a, _)| here.contains(a.as_str()));
    }
    for rb in &runbooks {
        for (after, span) in &rb.after {
            if !known.contains(&after.as_str()) {
                let mut d =
                    Diagnostic::error(format!("`after` names unknown runbook `{after}`")).at(span);
                if let Some(close) = did_you_mean(after, known.iter().copied()) {
                    d = d.help(format!("did you mean \"{close}\"?"));
                }
                diags.push(d);
            }
        }
        if let Some(other) = others
            .iter()
            .find(|(_, id)| **id == rb.id)
            .map(|(path, _)| *path)
        {
            diags.push(
                Diagnostic::error(format!("duplicate runbook id `{}`", rb.id))
                    .at(&rb.id_span)
                    .label("defined again here")
                    .note(format!("also defined in {other}")),
            );
        }
    }
    validate::validate(&local, &vocab, &mut diags);
    if diags.has_errors() {
        return Err(diags.sorted());
    }
    Ok((vocab, runbooks))
}

/// Re-indexes the runbooks that changed, in the current generation. The caller holds the lock.
pub fn incremental(
    store: &Store,
    opened: Opened,
    old: &Manifest,
    scan: &Scan,
    changes: &Changes,
    progress: &dyn Progress,
) -> Result<Opened, Diagnostics> {
    let root = &store.root;
    let gone: HashSet<&str> = changes
        .reindex
        .iter()
        .chain(&changes.removed)
        .map(String::as_str)
        .collect();
    let others: HashMap<&str, &str> = old
        .runbooks
        .iter()
        .filter(|r| !gone.contains(r.file.path.as_str()))
        .map(|r| (r.file.path.as_str(), r.id.as_str()))
        .collect();
    let stamps: HashMap<&str, Stamp> = scan
        .runbooks
        .iter()
        .map(|(p, s)| (p.as_str(), *s))
        .collect();
    let paths: Vec<&str> = changes.reindex.iter().map(String::as_str).collect();
    // Contents are hashed as read now; stamps come from the scan, taken before.
    let (shared, shared_texts) = shared_entries(root, scan)?;
    progress.stage("Reading changed runbooks", None);
    let (vocab, runbooks) = load_some(root, scan, &paths, &others)?;

    let fields = opened.fields;
    let mut writer: IndexWriter = opened
        .index
        .writer_with_num_threads(1, REFRESH_BUDGET)
        .map_err(tantivy_error)?;
    for r in &old.runbooks {
        if gone.contains(r.file.path.as_str()) {
            writer.delete_term(Term::from_field_text(fields.runbook, &r.id));
        }
    }
    let deps = SharedIndex::new(&shared_texts);
    let mut entries: Vec<RunbookEntry> = old
        .runbooks
        .iter()
        .filter(|r| !gone.contains(r.file.path.as_str()))
        .cloned()
        .collect();
    let book = if changes.chapters {
        let chapters = chapters::load(root);
        writer.delete_term(Term::from_field_text(fields.doc_type, TYPE_CHAPTER));
        add_chapters(&writer, &fields, &chapters)?;
        chapters.sources
    } else {
        old.book.clone()
    };
    progress.stage("Indexing", Some(runbooks.len() as u64));
    let env = unfilled(&vocab);
    for rb in &runbooks {
        writer.delete_term(Term::from_field_text(fields.runbook, &rb.id));
        entries.push(runbook_entry(root, rb, &stamps, &deps));
        add_runbook(&writer, &fields, rb, &vocab, &env)?;
        progress.advance(1);
    }
    writer.commit().map_err(tantivy_error)?;
    writer.wait_merging_threads().map_err(tantivy_error)?;
    entries.sort_by(|a, b| a.file.path.cmp(&b.file.path));
    let manifest = Manifest {
        stamped: scan.started,
        dirs: dirs(scan),
        facts: old.facts.clone(),
        shared,
        book,
        runbooks: entries,
    };
    store.write_manifest(&opened.generation, &manifest)?;
    progress.finish();
    let generation = opened.generation.clone();
    drop(opened);
    store
        .open()
        .map_err(|e| {
            Diagnostic::error(format!(
                "the search index in {} is unusable after a refresh: {e:?}",
                generation.display()
            ))
        })
        .map_err(Diagnostics::from)
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::{Diagnostics, SourceFile};
    use crate::facts::Vocabulary;

    #[test]
    fn step_text_is_filled_in_as_a_checklist_without_a_profile_fills_it() {
        let text = r#"
[facts.region]
type = "enum"
name = "Data centre"
question = "q"
description = "d"
values = { us = "US Data Center", eu = "EU Data Center" }
[lookups.app_id]
fact = "region"
description = "d"
values = { us = "e4b1", eu = "5e56" }
"#;
        let file = SourceFile::new("facts.toml", "facts.toml", text.into());
        let vocab = Vocabulary::load(&file, &mut Diagnostics::default());
        let env = super::unfilled(&vocab);
        assert_eq!(
            super::step_text(
                &env,
                "Enter `{{ app_id }}` in **{{ region }}** as `w365serv@{{ customer.domain }}`."
            ),
            "Enter e4b1 (US Data Center) or 5e56 (EU Data Center) in [Data centre] as \
             w365serv@[customer domain]."
        );
        assert_eq!(super::step_text(&env, "no {{ end"), "no {{ end");
    }
}
