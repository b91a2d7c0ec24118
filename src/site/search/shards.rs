//! The index's shards: which pages and records go in which, the threads that build them, and
//! what is known of each built shard so that a later build (or `serve`'s update) can reuse
//! it or rebuild it alone.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::diagnostics::Diagnostic;
use crate::site::runbooks::SearchRecord;

use super::{DIR, Entry, SHARDS_FILE, SearchIndex, fail};

/// A book with fewer pages and records than this has one shard, unless its shards are to be
/// smaller still.
const SPLIT_FROM: usize = 200;

/// The threads that fill and build shards, taking them in turn; so at most this many
/// shards are in memory at once.
const WORKERS: usize = 2;

/// Items waiting for a worker: bounds what the renderer runs ahead.
const QUEUE: usize = 256;

/// Whether a shard of at most `max` ends with the page or record at `url`, its `count`th.
/// Where a shard ends depends on the addresses, not on how many came before, so that a page
/// added or removed changes its own shard (rarely the next), and an edit only its own: a
/// shard ends after half of `max` at an address whose hash says so (one in a quarter of
/// `max`), or at `max`.
fn ends_shard(url: &str, count: usize, max: usize) -> bool {
    if count >= max {
        return true;
    }
    let hash = Sha256::digest(url.as_bytes());
    let n = u64::from_le_bytes(hash[..8].try_into().unwrap_or_default());
    count >= max / 2 && n.is_multiple_of((max as u64 / 4).max(1))
}

/// A file the index wrote: its address in the site, size, and the hex SHA-256 of its bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct File {
    pub address: String,
    pub size: u64,
    pub sha256: String,
}

impl File {
    pub fn new(address: String, bytes: &[u8]) -> File {
        File {
            address,
            size: bytes.len() as u64,
            sha256: hex(&Sha256::digest(bytes)),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A built shard as a later build can reuse it: the digest of what it indexed (the same
/// entries in the same order give the same files), and the files it wrote.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Built {
    pub digest: String,
    pub files: Vec<File>,
}

/// The digest of a shard's entries.
fn digest<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> String {
    let mut h = Sha256::new();
    for entry in entries {
        entry.feed(&mut h);
    }
    hex(&h.finalize())
}

impl Entry {
    fn url(&self) -> &str {
        match self {
            Entry::Page(url, _) => url,
            Entry::Record(r) => &r.url,
        }
    }

    /// Feeds everything the index takes of the entry to `h`, each part length-prefixed.
    fn feed(&self, h: &mut Sha256) {
        let mut part = |s: &str| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        match self {
            Entry::Page(url, html) => {
                part("page");
                part(url);
                part(html);
            }
            Entry::Record(r) => {
                part("record");
                part(&r.url);
                part(&r.title);
                part(&r.content);
                for (k, v) in &r.meta {
                    part(k);
                    part(v);
                }
                part("");
                for (k, vs) in &r.filters {
                    part(k);
                    vs.iter().for_each(|v| part(v));
                    part("");
                }
            }
        }
    }
}

/// The shards of a site that is being replaced, and its folder, for a build to take the
/// shards that have not changed from.
pub struct Previous {
    pub dir: PathBuf,
    pub shards: Vec<Built>,
}

/// Links (or copies) a built shard's files from the site in `from` into the site in `to`,
/// if they are there as written.
fn take(from: &Path, to: &Path, shard: &Built) -> std::io::Result<()> {
    for file in &shard.files {
        let (old, new) = (from.join(&file.address), to.join(&file.address));
        let bytes = std::fs::read(&old)?;
        if File::new(file.address.clone(), &bytes) != *file {
            return Err(std::io::Error::other("changed since"));
        }
        if let Some(parent) = new.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if std::fs::hard_link(&old, &new).is_err() {
            std::fs::write(&new, &bytes)?;
        }
    }
    Ok(())
}

enum Item {
    /// The items that follow are the next shard's.
    Start,
    Add(Entry),
    /// Shard `n` has everything: build it and write its files.
    Build(usize),
}

/// The files each shard wrote, by shard.
type WrittenBy = Vec<(usize, Vec<File>)>;

struct Worker {
    tx: Option<SyncSender<Item>>,
    handle: Option<JoinHandle<Result<WrittenBy, Diagnostic>>>,
}

impl Worker {
    fn start(n: usize, language: &str, site: &Path) -> Result<Worker, Diagnostic> {
        let (tx, rx) = sync_channel::<Item>(QUEUE);
        let language = language.to_string();
        let site = site.to_path_buf();
        let handle = std::thread::Builder::new()
            .name(format!("search-index-{n}"))
            .spawn(move || work(rx, &language, &site))
            .map_err(|e| fail("cannot start", e))?;
        Ok(Worker {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    fn send(&self, item: Item) -> Result<(), Diagnostic> {
        match &self.tx {
            Some(tx) => tx
                .send(item)
                .map_err(|_| fail("stopped", "the indexing thread ended")),
            None => Ok(()),
        }
    }

    /// Waits for the shards sent so far; a shard not told to build is dropped unbuilt.
    fn join(&mut self) -> Result<WrittenBy, Diagnostic> {
        drop(self.tx.take());
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(fail("failed", "the indexing thread stopped")),
            None => Ok(Vec::new()),
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Diagnostic> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail("cannot start", e))
}

/// A worker's loop: fills its shards in turn, builds each when told, and stops at its first
/// error (draining what is sent, so that the sender never waits on it).
fn work(rx: Receiver<Item>, language: &str, site: &Path) -> Result<WrittenBy, Diagnostic> {
    let rt = runtime()?;
    let mut written = Vec::new();
    let mut current: Option<SearchIndex> = None;
    let mut first_error: Option<Diagnostic> = None;
    for item in rx {
        if first_error.is_some() {
            continue;
        }
        let r = match item {
            Item::Start => SearchIndex::new(language).map(|i| current = Some(i)),
            Item::Add(entry) => match current.as_mut() {
                Some(index) => index.add(&rt, entry),
                None => Ok(()),
            },
            Item::Build(n) => match current.take() {
                Some(index) => index
                    .write(&rt, n, site, false)
                    .map(|w| written.push((n, w))),
                None => Ok(()),
            },
        };
        if let Err(e) = r {
            first_error = Some(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(written),
    }
}

/// The search index being written: a whole one, or a kept one whose changed shards are
/// rebuilt.
pub enum Indexer {
    Whole(Box<Whole>),
    Patch(Patch),
}

/// What finishing an index did.
pub struct Finished {
    /// The files written (or taken from the previous site), sorted by address.
    pub written: Vec<File>,
    /// The files of the old index that are gone.
    pub removed: Vec<String>,
    /// Every shard, as a later build can reuse it.
    pub built: Vec<Built>,
    /// The shards' entries, when asked to keep them.
    pub kept: Option<Shards>,
}

impl Indexer {
    /// A whole index of `total` pages and records, in shards of at most `max_shard` (one
    /// below `SPLIT_FROM`), whose files go into `site` (the staging folder). `keep`: keep the
    /// shards' entries, for rebuilding one alone later. `previous`: the shards of the site
    /// being replaced; a shard with the same entries as the one at its place there is taken
    /// from there instead of being built again.
    pub fn start(
        language: &str,
        site: &Path,
        total: usize,
        max_shard: usize,
        keep: bool,
        previous: Option<Previous>,
    ) -> Result<Indexer, Diagnostic> {
        let workers = (0..WORKERS)
            .map(|n| Worker::start(n, language, site))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Indexer::Whole(Box::new(Whole {
            site: site.to_path_buf(),
            max_shard: if total < SPLIT_FROM && max_shard >= total {
                usize::MAX
            } else {
                max_shard.max(1)
            },
            workers,
            shards: 0,
            in_last: 0,
            open: false,
            digest: Sha256::new(),
            pending: Vec::new(),
            digests: Vec::new(),
            kept: keep.then(|| Shards::new(language)),
            previous,
            reused: Vec::new(),
        })))
    }

    /// Updates the index `shards` kept, in the site at `site`: the shards whose entries
    /// change are rebuilt.
    pub fn patch(site: &Path, shards: Shards) -> Indexer {
        Indexer::Patch(Patch {
            site: site.to_path_buf(),
            shards,
            dirty: BTreeSet::new(),
        })
    }

    pub fn add_page(&mut self, url: &str, html: String) -> Result<(), Diagnostic> {
        let entry = Entry::Page(url.to_string(), html);
        match self {
            Indexer::Whole(w) => w.send(entry),
            Indexer::Patch(p) => p.replace(entry),
        }
    }

    pub fn add_record(&mut self, record: SearchRecord) -> Result<(), Diagnostic> {
        let entry = Entry::Record(record);
        match self {
            Indexer::Whole(w) => w.send(entry),
            Indexer::Patch(p) => p.replace(entry),
        }
    }

    pub fn finish(self) -> Result<Finished, Diagnostic> {
        match self {
            Indexer::Whole(w) => w.finish(),
            Indexer::Patch(p) => p.finish(),
        }
    }
}

/// Each shard's entries, in order, and what it built: what rebuilding one shard alone needs.
pub struct Shards {
    language: String,
    entries: Vec<Vec<Entry>>,
    pub built: Vec<Built>,
    /// Where each page's entry is: shard, position.
    pages: HashMap<String, (usize, usize)>,
}

impl Shards {
    fn new(language: &str) -> Shards {
        Shards {
            language: language.to_string(),
            entries: Vec::new(),
            built: Vec::new(),
            pages: HashMap::new(),
        }
    }

    fn push(&mut self, shard: usize, entry: &Entry) {
        if self.entries.len() <= shard {
            self.entries.resize_with(shard + 1, Vec::new);
        }
        if let Entry::Page(url, _) = entry {
            self.pages
                .insert(url.clone(), (shard, self.entries[shard].len()));
        }
        self.entries[shard].push(entry.clone());
    }
}

/// A kept index being updated: an entry replaced marks its shard for rebuilding.
pub struct Patch {
    site: PathBuf,
    shards: Shards,
    dirty: BTreeSet<usize>,
}

impl Patch {
    fn replace(&mut self, entry: Entry) -> Result<(), Diagnostic> {
        let Entry::Page(url, _) = &entry else {
            return Err(fail("cannot update", "a record changed"));
        };
        let Some(&(shard, at)) = self.shards.pages.get(url) else {
            return Err(fail("cannot update", format!("{url} is a new page")));
        };
        let old = &mut self.shards.entries[shard][at];
        if *old != entry {
            *old = entry;
            self.dirty.insert(shard);
        }
        Ok(())
    }

    /// Rebuilds the shards whose entries changed, in parallel, each from its entries in the
    /// order a whole build gives them, so that it writes the same files.
    fn finish(mut self) -> Result<Finished, Diagnostic> {
        use rayon::prelude::*;
        let shards = &self.shards;
        let site = &self.site;
        let rebuilt: Vec<(usize, Vec<File>)> = self
            .dirty
            .par_iter()
            .map(|&n| {
                let rt = runtime()?;
                let mut index = SearchIndex::new(&shards.language)?;
                for entry in &shards.entries[n] {
                    index.add(&rt, entry.clone())?;
                }
                Ok((n, index.write(&rt, n, site, true)?))
            })
            .collect::<Result<_, Diagnostic>>()?;
        let mut written = Vec::new();
        let mut removed = Vec::new();
        for (n, files) in rebuilt {
            let built = &mut self.shards.built[n];
            for old in &built.files {
                if !files.iter().any(|f| f.address == old.address) {
                    let _ = std::fs::remove_file(self.site.join(&old.address));
                    removed.push(old.address.clone());
                }
            }
            *built = Built {
                digest: digest(&self.shards.entries[n]),
                files: files.clone(),
            };
            written.extend(files);
        }
        written.sort_by(|a, b| a.address.cmp(&b.address));
        Ok(Finished {
            written,
            removed,
            built: self.shards.built.clone(),
            kept: Some(self.shards),
        })
    }
}

/// A whole index: pages and records go to shards of at most `max_shard` in the order they
/// come (see `ends_shard`), the shards to the workers in turn.
pub struct Whole {
    site: PathBuf,
    max_shard: usize,
    workers: Vec<Worker>,
    /// Shards started, how many items the last one has, and whether it takes more.
    shards: usize,
    in_last: usize,
    open: bool,
    /// The digest of the last shard's entries so far; the digests of those before.
    digest: Sha256,
    digests: Vec<String>,
    /// With a previous site: the last shard's entries, sent once it is whole unless reused.
    pending: Vec<Entry>,
    kept: Option<Shards>,
    previous: Option<Previous>,
    /// The shards taken from the previous site: their files.
    reused: WrittenBy,
}

impl Whole {
    fn worker(&self, shard: usize) -> &Worker {
        &self.workers[shard % self.workers.len()]
    }

    fn send(&mut self, entry: Entry) -> Result<(), Diagnostic> {
        if !self.open {
            self.shards += 1;
            self.in_last = 0;
            self.open = true;
            if self.previous.is_none() {
                self.worker(self.shards - 1).send(Item::Start)?;
            }
        }
        let shard = self.shards - 1;
        self.in_last += 1;
        self.open = !ends_shard(entry.url(), self.in_last, self.max_shard);
        entry.feed(&mut self.digest);
        if let Some(kept) = &mut self.kept {
            kept.push(shard, &entry);
        }
        if self.previous.is_some() {
            self.pending.push(entry);
        } else {
            self.worker(shard).send(Item::Add(entry))?;
        }
        if !self.open {
            self.close(shard)?;
        }
        Ok(())
    }

    /// Shard `n` has all its entries: built, or taken from the previous site when it had the
    /// same there.
    fn close(&mut self, n: usize) -> Result<(), Diagnostic> {
        let digest = hex(&std::mem::take(&mut self.digest).finalize());
        self.digests.push(digest.clone());
        let Some(previous) = &self.previous else {
            return self.worker(n).send(Item::Build(n));
        };
        let pending = std::mem::take(&mut self.pending);
        if let Some(old) = previous.shards.get(n).filter(|b| b.digest == digest)
            && take(&previous.dir, &self.site, old).is_ok()
        {
            self.reused.push((n, old.files.clone()));
            return Ok(());
        }
        let worker = self.worker(n);
        worker.send(Item::Start)?;
        for entry in pending {
            worker.send(Item::Add(entry))?;
        }
        worker.send(Item::Build(n))
    }

    /// Builds what is left, waits for every shard, and writes the list of shards.
    fn finish(mut self) -> Result<Finished, Diagnostic> {
        if self.shards == 0 {
            // Nothing to index: an empty index all the same, so that a search finds nothing
            // instead of failing.
            self.shards = 1;
            self.open = true;
            if self.previous.is_none() {
                self.worker(0).send(Item::Start)?;
            }
        }
        if self.open {
            self.close(self.shards - 1)?;
        }
        let mut built = vec![Built::default(); self.shards];
        for (b, digest) in built.iter_mut().zip(&self.digests) {
            b.digest.clone_from(digest);
        }
        let reused = std::mem::take(&mut self.reused);
        let joined: Vec<Result<WrittenBy, Diagnostic>> =
            self.workers.iter_mut().map(Worker::join).collect();
        let mut written = Vec::new();
        for result in std::iter::once(Ok(reused)).chain(joined) {
            for (n, files) in result? {
                written.extend(files.iter().cloned());
                built[n].files = files;
            }
        }
        let others: Vec<String> = (1..self.shards).map(|n| format!("{n}/")).collect();
        let manifest = serde_json::json!({ "shards": others }).to_string() + "\n";
        let address = format!("{DIR}/{SHARDS_FILE}");
        crate::site::output::write_at(&self.site, &address, manifest.as_bytes())?;
        written.push(File::new(address, manifest.as_bytes()));
        written.sort_by(|a, b| a.address.cmp(&b.address));
        let kept = self.kept.take().map(|mut k| {
            k.built.clone_from(&built);
            k
        });
        Ok(Finished {
            written,
            removed: Vec::new(),
            built,
            kept,
        })
    }
}

impl Drop for Whole {
    fn drop(&mut self) {
        // Abandoned (the build failed): the workers end without building what they have,
        // before the staging folder they write into is removed.
        for w in &mut self.workers {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shards pages go to, as lists of their addresses.
    fn shards_of(urls: &[String], max: usize) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        let mut open = false;
        for url in urls {
            if !open {
                out.push(Vec::new());
            }
            let shard = out.last_mut().unwrap();
            shard.push(url.clone());
            open = !ends_shard(url, shard.len(), max);
        }
        out
    }

    #[test]
    fn a_page_added_or_removed_changes_its_own_shard_only() {
        let urls: Vec<String> = (0..3000).map(|n| format!("c{n}/page.html")).collect();
        let before = shards_of(&urls, 300);
        assert!(
            before.iter().all(|s| s.len() <= 300),
            "at most the size asked"
        );
        assert!((11..=20).contains(&before.len()), "{} shards", before.len());
        let mut changed_most = 0;
        for at in (0..3000).step_by(97) {
            let mut added = urls.clone();
            added.insert(at, "new.html".to_string());
            let mut removed = urls.clone();
            removed.remove(at);
            for after in [shards_of(&added, 300), shards_of(&removed, 300)] {
                let changed = after.iter().filter(|s| !before.contains(s)).count();
                changed_most = changed_most.max(changed);
            }
        }
        assert!(changed_most <= 2, "{changed_most} shards changed");
        // Shards of one page when asked for.
        assert!(shards_of(&urls[..5], 1).iter().all(|s| s.len() == 1));
    }

    #[test]
    fn the_digest_of_entries_tells_every_part_apart() {
        let page = |u: &str, h: &str| Entry::Page(u.into(), h.into());
        let a = digest(&[page("a.html", "x")]);
        assert_eq!(a, digest(&[page("a.html", "x")]));
        assert_ne!(a, digest(&[page("a.html", "y")]));
        assert_ne!(a, digest(&[page("a.htmlx", "")]));
        assert_ne!(
            digest(&[page("a", "b"), page("c", "d")]),
            digest(&[page("c", "d"), page("a", "b")])
        );
    }
}
