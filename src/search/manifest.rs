//! The index's manifest: every source file it was built from, with its modification time, size
//! and content hash, so that a search can tell whether the index is up to date by looking at
//! the files' metadata alone, and a refresh re-indexes only the runbooks that changed.
//!
//! Stored beside the index in a compact binary serde format (postcard), after a line that
//! says what the file is, with the format it was written for; read whole on every search,
//! where it parses several times faster than the JSON of earlier versions. Each entry is a
//! tuple:
//!
//! ```text
//! "runbook-search-manifest\n", then {format: 6, engine: "tantivy-0.27", manifest: {
//!   stamped: ns,
//!   dirs: [("runbooks", mtime-ns, size, 0)],
//!   facts: Some(("runbooks/facts.toml", mtime-ns, size, hash)),
//!   shared: [..], book: [..],
//!   runbooks: [("runbooks/install.toml", mtime-ns, size, hash, "install",
//!               ["runbooks/shared/mfa.toml"])]}}
//! ```
//!
//! A runbook's last two items are its id and the shared files it includes from. The folders'
//! stamps tell, without listing them, that no file was added, removed or renamed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::diagnostics::Diagnostic;
use crate::project::{FACTS_FILE, RUNBOOK_DIR, SHARED_DIR};

use super::chapters;
use super::text::hash;

/// Bumped whenever the schema, the document contents or this file's format change: an index
/// of another format is rebuilt.
pub const FORMAT: u32 = 7;
/// How a manifest begins: the binary data follows.
const MAGIC: &[u8] = b"runbook-search-manifest\n";
/// How manifests began before they were JSON (format 4 and earlier).
const OLD_MAGIC: &str = "runbook-search-index ";
const ENGINE: &str = "tantivy-0.27";
/// A file modified less than this before its stamp was taken may change again without its
/// modification time changing (coarse file system clocks): its content is checked too.
const RACY_NS: i64 = 2_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Nanoseconds since the Unix epoch; 0 when unknown (always checked by content).
    pub mtime: i64,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "EntryRow", into = "EntryRow")]
pub struct Entry {
    /// Relative to the project root, with `/` separators.
    pub path: String,
    pub stamp: Stamp,
    pub hash: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RunbookRow", into = "RunbookRow")]
pub struct RunbookEntry {
    pub file: Entry,
    pub id: String,
    /// The shared files (paths) whose sections or steps it includes.
    pub deps: Vec<String>,
}

/// An entry as stored: path, modification time, size, hash.
type EntryRow = (String, i64, u64, u64);
/// A runbook's entry as stored: its file's, then its id and dependencies.
type RunbookRow = (String, i64, u64, u64, String, Vec<String>);

impl From<EntryRow> for Entry {
    fn from((path, mtime, size, hash): EntryRow) -> Entry {
        Entry {
            path,
            stamp: Stamp { mtime, size },
            hash,
        }
    }
}

impl From<Entry> for EntryRow {
    fn from(e: Entry) -> EntryRow {
        (e.path, e.stamp.mtime, e.stamp.size, e.hash)
    }
}

impl From<RunbookRow> for RunbookEntry {
    fn from((path, mtime, size, hash, id, deps): RunbookRow) -> RunbookEntry {
        RunbookEntry {
            file: Entry::from((path, mtime, size, hash)),
            id,
            deps,
        }
    }
}

impl From<RunbookEntry> for RunbookRow {
    fn from(r: RunbookEntry) -> RunbookRow {
        let (path, mtime, size, hash) = r.file.into();
        (path, mtime, size, hash, r.id, r.deps)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// When the stamps were taken, in nanoseconds since the Unix epoch.
    pub stamped: i64,
    /// The folders, whose modification time changes when a file is added, removed or renamed.
    pub dirs: Vec<Entry>,
    pub facts: Option<Entry>,
    pub shared: Vec<Entry>,
    /// What the help site's chapters were read from (see `chapters::Chapters::sources`).
    pub book: Vec<Entry>,
    pub runbooks: Vec<RunbookEntry>,
}

/// The manifest as stored, with the format it was written for.
#[derive(Serialize, Deserialize)]
struct Stored<M> {
    format: u32,
    engine: String,
    manifest: M,
}

impl Manifest {
    pub fn to_bytes(&self) -> Vec<u8> {
        let stored = Stored {
            format: FORMAT,
            engine: ENGINE.to_string(),
            manifest: self,
        };
        postcard::to_extend(&stored, MAGIC.to_vec()).expect("a manifest serializes")
    }

    /// Parses a manifest; the error says why it cannot be used.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
        let another = || "it was built by another version of runbook".to_string();
        let Some(data) = bytes.strip_prefix(MAGIC) else {
            // Versions before this one wrote JSON, and before that lines.
            return Err(
                if bytes.starts_with(b"{") || bytes.starts_with(OLD_MAGIC.as_bytes()) {
                    another()
                } else {
                    "its manifest is unreadable".into()
                },
            );
        };
        // Which version wrote it: the format and engine come first.
        match postcard::take_from_bytes::<(u32, String)>(data) {
            Ok(((format, engine), _)) if format == FORMAT && engine == ENGINE => {}
            Ok(_) => return Err(another()),
            Err(_) => return Err("its manifest is unreadable".into()),
        }
        let mut m = match postcard::take_from_bytes::<Stored<Manifest>>(data) {
            Ok((stored, [])) => stored.manifest,
            Ok(_) => return Err("its manifest is damaged (data after its end)".into()),
            Err(e) => return Err(format!("its manifest is damaged ({e})")),
        };
        if m.facts.is_none() {
            return Err("its manifest is incomplete".into());
        }
        if !m.runbooks.is_sorted_by(|a, b| a.file.path <= b.file.path) {
            m.runbooks.sort_by(|a, b| a.file.path.cmp(&b.file.path));
        }
        Ok(m)
    }

    fn racy(&self, e: &Entry) -> bool {
        e.stamp.mtime == 0 || e.stamp.mtime > self.stamped.saturating_sub(RACY_NS)
    }
}

/// The source files of a project as they are now.
#[derive(Debug, Default)]
pub struct Scan {
    /// When the scan started, in nanoseconds since the Unix epoch.
    pub started: i64,
    pub dirs: Vec<(String, Stamp)>,
    pub facts: Option<(String, Stamp)>,
    pub shared: Vec<(String, Stamp)>,
    pub runbooks: Vec<(String, Stamp)>,
}

pub fn now_ns() -> i64 {
    ns(SystemTime::now())
}

/// Nanoseconds since the Unix epoch (saturating: in 1678 and 2262).
fn ns(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

pub fn stamp_of(meta: &fs::Metadata) -> Stamp {
    let mtime = meta.modified().map_or(0, ns);
    Stamp {
        mtime,
        size: meta.len(),
    }
}

/// A path relative to the root, with `/` separators, as the manifest keeps it.
pub fn rel(root: &Path, path: &Path) -> String {
    let p = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = p
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// Lists the source files the way `Project::load` finds them: `runbooks/facts.toml`, the
/// `.toml` files directly in `runbooks/shared/`, and every other `.toml` file under
/// `runbooks/` (symbolic links not followed). Only metadata is read, on the calling thread.
/// With the manifest of the index, when none of the folders changed since its stamps were
/// taken (so no file was added, removed or renamed), the files are the manifest's, and the
/// folders are not listed.
pub fn scan(root: &Path, known: Option<&Manifest>) -> Result<Scan, Diagnostic> {
    let started = now_ns();
    let dir = root.join(RUNBOOK_DIR);
    if !dir.is_dir() {
        return Err(
            Diagnostic::error(format!("no `{RUNBOOK_DIR}` folder in {}", root.display()))
                .path(root)
                .help("run runbook in a project root, or point at one with -C DIR"),
        );
    }
    let unlisted = known
        .and_then(|m| unchanged_files(root, m))
        .and_then(|(dirs, found)| Some((dirs, stat_all(root, &found).ok()?, found)));
    let (mut dirs, stamps, found) = match unlisted {
        Some(unlisted) => unlisted,
        None => {
            let mut found = Vec::new();
            let mut dirs = Vec::new();
            let meta = fs::metadata(&dir).map_err(|e| {
                Diagnostic::error(format!("cannot read {}: {e}", dir.display())).path(&dir)
            })?;
            dirs.push((RUNBOOK_DIR.to_string(), stamp_of(&meta)));
            list(&dir, &format!("{RUNBOOK_DIR}/"), &mut found, &mut dirs)?;
            (dirs, stat_all(root, &found)?, found)
        }
    };
    let facts_path = format!("{RUNBOOK_DIR}/{FACTS_FILE}");
    let shared_prefix = format!("{RUNBOOK_DIR}/{SHARED_DIR}/");
    dirs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut scan = Scan {
        started,
        dirs,
        ..Scan::default()
    };
    for ((path, _), stamp) in found.into_iter().zip(stamps) {
        if path == facts_path {
            scan.facts = Some((path, stamp));
        } else if path
            .strip_prefix(&shared_prefix)
            .is_some_and(|name| !name.contains('/'))
        {
            scan.shared.push((path, stamp));
        } else {
            scan.runbooks.push((path, stamp));
        }
    }
    scan.shared.sort_by(|a, b| a.0.cmp(&b.0));
    scan.runbooks.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(scan)
}

/// A file found, with its folder's entry when it was listed.
type Found = (String, Option<fs::DirEntry>);
/// A folder or file, and its stamp.
type Stamped = (String, Stamp);

/// The folders and source files of the manifest, if every folder has the stamp recorded and
/// had not been modified just before it was taken.
fn unchanged_files(root: &Path, m: &Manifest) -> Option<(Vec<Stamped>, Vec<Found>)> {
    if !m.dirs.iter().any(|d| d.path == RUNBOOK_DIR) {
        return None;
    }
    let mut dirs = Vec::with_capacity(m.dirs.len());
    for d in &m.dirs {
        let now = stamp_of(&fs::metadata(root.join(&d.path)).ok()?);
        if now != d.stamp || m.racy(d) {
            return None;
        }
        dirs.push((d.path.clone(), now));
    }
    let files = m.facts.iter().chain(&m.shared);
    let files = files.chain(m.runbooks.iter().map(|r| &r.file));
    Some((dirs, files.map(|e| (e.path.clone(), None)).collect()))
}

fn list(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<Found>,
    dirs: &mut Vec<(String, Stamp)>,
) -> Result<(), Diagnostic> {
    let fail = |e: std::io::Error| {
        Diagnostic::error(format!("cannot read {}: {e}", dir.display())).path(dir)
    };
    for entry in fs::read_dir(dir).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let kind = entry.file_type().map_err(fail)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() {
            let meta = entry.metadata().map_err(fail)?;
            dirs.push((format!("{prefix}{name}"), stamp_of(&meta)));
            list(&entry.path(), &format!("{prefix}{name}/"), out, dirs)?;
        } else if kind.is_file() && name.ends_with(".toml") && name.len() > ".toml".len() {
            out.push((format!("{prefix}{name}"), Some(entry)));
        }
    }
    Ok(())
}

/// The stamps of the files found (looked up relative to their folder when it was listed),
/// symbolic links not followed. One look-up after another, with one path buffer for them all.
fn stat_all(root: &Path, found: &[Found]) -> Result<Vec<Stamp>, Diagnostic> {
    let mut buf = PathBuf::new();
    found
        .iter()
        .map(|(path, entry)| {
            let meta = match entry {
                Some(entry) => entry.metadata(),
                None => {
                    buf.as_mut_os_string().clear();
                    buf.push(root);
                    buf.push(path);
                    fs::symlink_metadata(&buf)
                }
            };
            meta.map(|m| stamp_of(&m)).map_err(|e| {
                Diagnostic::error(format!("cannot read {path}: {e}")).path(root.join(path))
            })
        })
        .collect()
}

/// What changed since the index was built.
#[derive(Debug, Default)]
pub struct Changes {
    /// Runbook files to read and index again (added, changed, or including a changed shared
    /// file), relative paths.
    pub reindex: BTreeSet<String>,
    /// Runbook files that are gone.
    pub removed: BTreeSet<String>,
    /// Whether the shared files changed at all (then they are all read again).
    pub shared: bool,
    /// Whether anything the chapters were read from changed (then they all are read again).
    pub chapters: bool,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.reindex.is_empty() && self.removed.is_empty() && !self.shared && !self.chapters
    }
}

#[derive(Debug)]
pub enum Status {
    /// Up to date. `restamped` is a manifest with fresher stamps worth saving (files touched
    /// without a change, or no longer recently modified), when there is one.
    Fresh {
        restamped: Option<Manifest>,
    },
    Stale(Changes),
    /// Everything must be indexed again (the facts changed).
    Rebuild,
}

enum Slot {
    Dirs,
    Facts,
    Shared(usize),
    Book(usize),
    Runbook(usize),
}

/// Compares the files as they are with the manifest, reading a file only when its metadata
/// changed or it was modified just before the index was stamped.
pub fn check(root: &Path, m: &Manifest, scan: &Scan) -> Status {
    // Entries whose content was found unchanged, to stamp afresh.
    let mut touched: Vec<(Slot, Stamp)> = Vec::new();
    // Whether a file's content is what the entry says, reading it only if needed.
    let same = |e: &Entry, now: Stamp| -> (bool, bool) {
        if now == e.stamp && !m.racy(e) {
            return (true, false);
        }
        match fs::read(root.join(&e.path)) {
            Ok(bytes) => (hash(&bytes) == e.hash, true),
            Err(_) => (false, true),
        }
    };
    let racy_after =
        |e: &Entry| e.stamp.mtime == 0 || e.stamp.mtime > scan.started.saturating_sub(RACY_NS);

    let Some((facts_path, facts_now)) = &scan.facts else {
        return Status::Rebuild;
    };
    let Some(facts) = &m.facts else {
        return Status::Rebuild;
    };
    if &facts.path != facts_path {
        return Status::Rebuild;
    }
    match same(facts, *facts_now) {
        (false, _) => return Status::Rebuild,
        (true, read) => {
            if read && (facts.stamp != *facts_now || !racy_after(facts)) {
                touched.push((Slot::Facts, *facts_now));
            }
        }
    }

    // Folders only tell whether to list them: a new stamp is just worth saving.
    let dirs_moved = scan.dirs.len() != m.dirs.len()
        || scan
            .dirs
            .iter()
            .zip(&m.dirs)
            .any(|((p, s), d)| *p != d.path || *s != d.stamp)
        || m.dirs.iter().any(|d| m.racy(d) && !racy_after(d));
    if dirs_moved {
        touched.push((Slot::Dirs, Stamp { mtime: 0, size: 0 }));
    }

    let mut changes = Changes::default();
    let mut changed_shared: HashSet<&str> = HashSet::new();
    let known: HashMap<&str, usize> = m
        .shared
        .iter()
        .enumerate()
        .map(|(i, e)| (e.path.as_str(), i))
        .collect();
    let now_shared: HashSet<&str> = scan.shared.iter().map(|(p, _)| p.as_str()).collect();
    for (path, now) in &scan.shared {
        match known.get(path.as_str()) {
            None => changes.shared = true,
            Some(&i) => match same(&m.shared[i], *now) {
                (false, _) => {
                    changes.shared = true;
                    changed_shared.insert(path);
                }
                (true, read) => {
                    if read && (m.shared[i].stamp != *now || !racy_after(&m.shared[i])) {
                        touched.push((Slot::Shared(i), *now));
                    }
                }
            },
        }
    }
    for e in &m.shared {
        if !now_shared.contains(e.path.as_str()) {
            changes.shared = true;
            changed_shared.insert(&e.path);
        }
    }

    for (i, e) in m.book.iter().enumerate() {
        // Through symbolic links, as the site reads them.
        let now = fs::metadata(root.join(&e.path)).map(|m| stamp_of(&m));
        match now {
            // A folder has no content to compare: recently modified, it may hide a change.
            Ok(now) if e.hash == chapters::FOLDER => {
                if now != e.stamp || m.racy(e) {
                    changes.chapters = true;
                }
            }
            Ok(now) => match same(e, now) {
                (false, _) => changes.chapters = true,
                (true, read) => {
                    if read && (e.stamp != now || !racy_after(e)) {
                        touched.push((Slot::Book(i), now));
                    }
                }
            },
            Err(_) => changes.chapters = true,
        }
    }

    // Both lists are sorted by path, and the same when no file was added or removed.
    let find = |at: usize, path: &str| {
        if m.runbooks.get(at).is_some_and(|r| r.file.path == path) {
            return Some(at);
        }
        m.runbooks
            .binary_search_by(|r| r.file.path.as_str().cmp(path))
            .ok()
    };
    for (at, (path, now)) in scan.runbooks.iter().enumerate() {
        match find(at, path) {
            None => {
                changes.reindex.insert(path.clone());
            }
            Some(i) => {
                let r = &m.runbooks[i];
                if !changed_shared.is_empty()
                    && r.deps.iter().any(|d| changed_shared.contains(d.as_str()))
                {
                    changes.reindex.insert(path.clone());
                    continue;
                }
                match same(&r.file, *now) {
                    (false, _) => {
                        changes.reindex.insert(path.clone());
                    }
                    (true, read) => {
                        if read && (r.file.stamp != *now || !racy_after(&r.file)) {
                            touched.push((Slot::Runbook(i), *now));
                        }
                    }
                }
            }
        }
    }
    if scan.runbooks.len() != m.runbooks.len() || !changes.reindex.is_empty() {
        for r in &m.runbooks {
            let path = r.file.path.as_str();
            if scan
                .runbooks
                .binary_search_by(|(p, _)| p.as_str().cmp(path))
                .is_err()
            {
                changes.removed.insert(r.file.path.clone());
            }
        }
    }
    if changes.is_empty() {
        let restamped = (!touched.is_empty()).then(|| {
            let mut r = m.clone();
            r.stamped = scan.started;
            for (slot, stamp) in touched {
                match slot {
                    Slot::Dirs => {
                        r.dirs = scan
                            .dirs
                            .iter()
                            .map(|(path, stamp)| Entry {
                                path: path.clone(),
                                stamp: *stamp,
                                hash: 0,
                            })
                            .collect();
                    }
                    Slot::Facts => {
                        if let Some(f) = &mut r.facts {
                            f.stamp = stamp;
                        }
                    }
                    Slot::Shared(i) => r.shared[i].stamp = stamp,
                    Slot::Book(i) => r.book[i].stamp = stamp,
                    Slot::Runbook(i) => r.runbooks[i].file.stamp = stamp,
                }
            }
            r
        });
        Status::Fresh { restamped }
    } else {
        Status::Stale(changes)
    }
}

/// The values of `key = "..."` (or `'...'`) assignments in TOML text, wherever they stand
/// (tables, inline tables). It may find more than the TOML parser would (text inside a
/// multi-line string), never less: used to over-approximate what a file includes or defines.
pub fn assigned<'t>(text: &'t str, key: &str) -> Vec<&'t str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find(key) {
        let start = from + i;
        from = start + key.len();
        // The key must stand alone: not part of a longer word.
        let before = start
            .checked_sub(1)
            .map(|j| bytes[j])
            .filter(|b| *b != b'"' && *b != b'\'');
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            continue;
        }
        let mut j = from;
        if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
            j += 1;
        }
        while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
            j += 1;
        }
        if j >= bytes.len() || bytes[j] != b'=' {
            continue;
        }
        j += 1;
        while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
            j += 1;
        }
        let Some(&quote) = bytes.get(j) else { break };
        if quote != b'"' && quote != b'\'' {
            continue;
        }
        let value_start = j + 1;
        if let Some(len) = text[value_start..].find(quote as char) {
            out.push(&text[value_start..value_start + len]);
        }
    }
    out
}

/// The shared files each runbook depends on: those defining an id it includes, directly or
/// through other shared sections and steps.
pub struct SharedIndex {
    /// id → files defining it.
    defined: HashMap<String, Vec<String>>,
    /// file → ids its sections and steps include.
    includes: HashMap<String, Vec<String>>,
}

impl SharedIndex {
    /// From the shared files' texts, by relative path.
    pub fn new(files: &BTreeMap<String, String>) -> SharedIndex {
        let mut defined: HashMap<String, Vec<String>> = HashMap::new();
        let mut includes = HashMap::new();
        for (path, text) in files {
            for id in assigned(text, "id") {
                defined
                    .entry(id.to_string())
                    .or_default()
                    .push(path.clone());
            }
            includes.insert(
                path.clone(),
                assigned(text, "include")
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
            );
        }
        SharedIndex { defined, includes }
    }

    pub fn deps(&self, runbook_text: &str) -> Vec<String> {
        let mut files = BTreeSet::new();
        let mut todo: Vec<String> = assigned(runbook_text, "include")
            .into_iter()
            .map(str::to_string)
            .collect();
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(id) = todo.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            for file in self.defined.get(&id).into_iter().flatten() {
                if files.insert(file.clone()) {
                    todo.extend(self.includes.get(file).into_iter().flatten().cloned());
                }
            }
        }
        files.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips() {
        let m = Manifest {
            stamped: 1_700_000_000_123_456_789,
            dirs: vec![Entry {
                path: "runbooks".into(),
                stamp: Stamp {
                    mtime: 5,
                    size: 4096,
                },
                hash: 0,
            }],
            facts: Some(Entry {
                path: "runbooks/facts.toml".into(),
                stamp: Stamp {
                    mtime: 1_699_999_999_987_654_321,
                    size: 9,
                },
                hash: 0xabc,
            }),
            shared: vec![Entry {
                path: "runbooks/shared/a|b%.toml".into(),
                stamp: Stamp { mtime: -1, size: 0 },
                hash: u64::MAX,
            }],
            book: vec![Entry {
                path: ".".into(),
                stamp: Stamp { mtime: 3, size: 4 },
                hash: 0,
            }],
            runbooks: vec![RunbookEntry {
                file: Entry {
                    path: "runbooks/x\ty.toml".into(),
                    stamp: Stamp { mtime: 1, size: 2 },
                    hash: 3,
                },
                id: "x".into(),
                deps: vec!["runbooks/shared/a|b%.toml".into()],
            }],
        };
        let bytes = m.to_bytes();
        assert_eq!(Manifest::parse(&bytes).unwrap(), m);
        let why = |bytes: &[u8]| Manifest::parse(bytes).unwrap_err();
        assert!(why(b"garbage").contains("unreadable"));
        assert!(why(MAGIC).contains("unreadable"));
        let stored = |format: u32, engine: &str| {
            let stored = Stored {
                format,
                engine: engine.to_string(),
                manifest: &m,
            };
            postcard::to_extend(&stored, MAGIC.to_vec()).unwrap()
        };
        assert_eq!(stored(FORMAT, ENGINE), bytes);
        assert!(why(&stored(FORMAT, "tantivy-0.1")).contains("another version"));
        assert!(why(&stored(FORMAT - 1, ENGINE)).contains("another version"));
        // The JSON of format 5, and the line format of earlier versions.
        let json = r#"{"format":5,"engine":"tantivy-0.27","manifest":{"stamped":0}}"#;
        assert!(why(json.as_bytes()).contains("another version"));
        assert!(
            why(b"runbook-search-index 4 tantivy-0.27\nstamped 0\n").contains("another version")
        );
        // Cut short, or with data after its end.
        assert!(why(&bytes[..bytes.len() - 2]).contains("damaged"));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(why(&longer).contains("damaged"));
        let no_facts = Manifest {
            facts: None,
            ..m.clone()
        };
        assert!(why(&no_facts.to_bytes()).contains("incomplete"));
    }

    /// Sets a file's or folder's modification time.
    fn set_mtime(path: &Path, t: SystemTime) {
        fs::File::open(path).unwrap().set_modified(t).unwrap();
    }

    #[test]
    fn a_scan_lists_the_folders_only_when_one_changed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let runbooks = root.join(RUNBOOK_DIR);
        fs::create_dir_all(runbooks.join(SHARED_DIR)).unwrap();
        let then = SystemTime::now() - std::time::Duration::from_secs(10);
        for name in [FACTS_FILE, "a.toml", "shared/s.toml", "notes.txt"] {
            fs::write(runbooks.join(name), "x = 1\n").unwrap();
            set_mtime(&runbooks.join(name), then);
        }
        set_mtime(&runbooks.join(SHARED_DIR), then);
        set_mtime(&runbooks, then);
        let paths = |s: &Scan| -> Vec<String> { s.runbooks.iter().map(|r| r.0.clone()).collect() };
        // A manifest of a scan, with a file the listing does not find: it shows where the
        // files came from.
        let manifest = |stamped: i64| {
            let listed = scan(root, None).unwrap();
            let entry = |(path, stamp): &(String, Stamp)| Entry {
                path: path.clone(),
                stamp: *stamp,
                hash: 0,
            };
            let notes = "runbooks/notes.txt".to_string();
            let notes = (
                notes.clone(),
                stamp_of(&fs::metadata(root.join(&notes)).unwrap()),
            );
            let runbook = |f| RunbookEntry {
                file: entry(f),
                id: String::new(),
                deps: Vec::new(),
            };
            let m = Manifest {
                stamped,
                dirs: listed.dirs.iter().map(entry).collect(),
                facts: listed.facts.as_ref().map(entry),
                shared: listed.shared.iter().map(entry).collect(),
                book: Vec::new(),
                runbooks: listed
                    .runbooks
                    .iter()
                    .chain([&notes])
                    .map(runbook)
                    .collect(),
            };
            (listed, m)
        };
        let (listed, m) = manifest(now_ns());
        assert_eq!(paths(&listed), vec!["runbooks/a.toml"]);

        // No folder changed: the manifest's files, the folders not listed.
        let known = scan(root, Some(&m)).unwrap();
        assert_eq!(paths(&known), vec!["runbooks/a.toml", "runbooks/notes.txt"]);
        assert_eq!(known.dirs, listed.dirs);
        assert_eq!(known.facts, listed.facts);
        assert_eq!(known.shared, listed.shared);
        // A file changed in place is seen by its stamp.
        set_mtime(&runbooks.join("a.toml"), SystemTime::now());
        assert_ne!(scan(root, Some(&m)).unwrap().runbooks[0], known.runbooks[0]);
        // A file added changes its folder: listed.
        fs::write(runbooks.join("b.toml"), "x = 1\n").unwrap();
        let after = vec!["runbooks/a.toml", "runbooks/b.toml"];
        assert_eq!(paths(&scan(root, Some(&m)).unwrap()), after);
        // A folder modified just before the stamps were taken is not trusted.
        set_mtime(&runbooks, then);
        let (_, m) = manifest(ns(then) + 1);
        assert_eq!(paths(&scan(root, Some(&m)).unwrap()), after);
        let (_, m) = manifest(now_ns());
        assert_eq!(paths(&scan(root, Some(&m)).unwrap()).len(), 3);
    }

    #[test]
    fn finds_assignments() {
        let text = "[[step]]\ninclude = \"a\"\nx = { include='b' }\nnot_include = \"c\"\n\"include\" = \"d\"\nid=\"e\"";
        assert_eq!(assigned(text, "include"), vec!["a", "b", "d"]);
        assert_eq!(assigned(text, "id"), vec!["e"]);
    }

    #[test]
    fn dependencies_follow_shared_includes() {
        let mut files = BTreeMap::new();
        files.insert(
            "s/a.toml".to_string(),
            "[[section]]\nid = \"sec\"\n[[section.step]]\ninclude = \"st\"\n".to_string(),
        );
        files.insert(
            "s/b.toml".to_string(),
            "[[step]]\nid = \"st\"\n".to_string(),
        );
        files.insert(
            "s/c.toml".to_string(),
            "[[step]]\nid = \"other\"\n".to_string(),
        );
        let idx = SharedIndex::new(&files);
        assert_eq!(
            idx.deps("[[revision.section]]\ninclude = \"sec\""),
            vec!["s/a.toml", "s/b.toml"]
        );
        assert!(idx.deps("id = \"x\"").is_empty());
    }
}
