//! The in-site search index, built with pagefind's Rust API. Chapters are indexed from their
//! pages (headings give sub-results); runbooks and steps are custom records whose facts are
//! pagefind filters, so a search can be narrowed to what applies to one customer.
//!
//! A large book's index comes in shards: each a pagefind index of its own over a run of the
//! pages, in the order they come, ending where the pages' addresses say (so that a page
//! added or removed changes its own shard, not every one after it). The shards are filled and built on two threads while
//! the pages are rendered, so that building one needs the memory of one shard, not of the
//! whole book; the site's script merges them into one search with pagefind's `mergeIndex`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use pagefind::api::PagefindIndex;
use pagefind::options::PagefindServiceConfig;
use tokio::runtime::Runtime;

use crate::diagnostics::Diagnostic;

use super::runbooks::SearchRecord;
use crate::html;

/// The folder of the index in the site.
pub const DIR: &str = "pagefind";

/// The file listing the shards after the first, for the site's script to merge.
pub const SHARDS_FILE: &str = "shards.json";

/// A book with fewer pages and records than this has one shard, unless its shards are to be
/// smaller still.
const SPLIT_FROM: usize = 200;

/// The threads that fill and build shards, taking them in turn; so at most this many
/// shards are in memory at once.
const WORKERS: usize = 2;

/// Items waiting for a worker: bounds what the renderer runs ahead.
const QUEUE: usize = 256;

fn fail(what: &str, e: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error(format!("search index: {what}: {e}"))
}

/// What pagefind reads of a page: only its `data-pagefind-body` article matters, so the
/// frame around it (header, scripts) is left out to save parsing it once more; and in
/// `content`, the HTML the page was made with, the tags that do not change what pagefind
/// indexes are left out too (see `strip_plain_inline`).
pub fn page_input(html: &str, content: &str) -> String {
    let lang_end = html
        .find("<html")
        .and_then(|i| html[i..].find('>').map(|j| i + j + 1))
        .unwrap_or(0);
    let article = match (html.find("<article"), html.rfind("</article>")) {
        (Some(start), Some(end)) if start < end => &html[start..end + "</article>".len()],
        _ => return html.to_string(),
    };
    let mut out = String::with_capacity(lang_end + article.len() + 32);
    out.push_str(&html[..lang_end]);
    out.push_str("<body>");
    // A template may change the content on its way into the page: then it is read as it is.
    match article.find(content).filter(|_| !content.is_empty()) {
        Some(at) => {
            out.push_str(&article[..at]);
            strip_plain_inline(content, &mut out);
            out.push_str(&article[at + content.len()..]);
        }
        None => out.push_str(article),
    }
    out.push_str("</body></html>");
    out
}

/// Inline elements whose tags mean nothing to pagefind's parser: it takes their text into
/// the enclosing element as if the tags were not there (no word break, no weight, the same
/// heading for sub-results). Of its inline elements, `br` breaks words, `label` and
/// `script` are left out of the index, and the rest may carry content of their own.
const PLAIN_INLINE: [&str; 21] = [
    "a", "abbr", "acronym", "b", "bdo", "big", "cite", "code", "dfn", "em", "i", "kbd", "q",
    "samp", "small", "span", "strong", "sub", "sup", "tt", "var",
];

/// Elements pagefind leaves out of the index (its `REMOVE_SELECTORS`). Their own text is
/// dropped but that of their children is still credited to their anchor, so the tags of
/// the children must stay.
const LEFT_OUT: [&str; 11] = [
    "head", "style", "script", "noscript", "label", "form", "svg", "footer", "nav", "iframe",
    "template",
];

/// How an open element was copied.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    /// Its tags left out.
    Stripped,
    Kept,
    /// Kept, and left out of the index by pagefind.
    Ignored,
}

/// Copies serialized HTML to `out` without the tags of `PLAIN_INLINE` elements, so that
/// pagefind indexes the same words, weights and anchors from fewer elements (its parser's
/// cost is per element). A tag stays when it has an `id` or a `data-pagefind-*` attribute,
/// or when the element it is in is one pagefind ignores, or is not in `content` at all (its
/// text would land somewhere this cannot see). Anything else, text, comments and tags cut
/// off included, is copied as it is.
fn strip_plain_inline(content: &str, out: &mut String) {
    let mut open: Vec<(&str, Open)> = Vec::new();
    let mut copied = 0;
    for tag in html::tags(content) {
        out.push_str(&content[copied..tag.range.start]);
        copied = tag.range.end;
        if tag.end {
            // It closes the latest element of its name, and any left open inside it.
            let kept = match open
                .iter()
                .rposition(|(n, _)| n.eq_ignore_ascii_case(tag.name))
            {
                Some(i) => {
                    let (_, how) = open[i];
                    open.truncate(i);
                    how != Open::Stripped
                }
                None => true,
            };
            if kept {
                out.push_str(&content[tag.range]);
            }
            continue;
        }
        let mut meaningful = false;
        let mut ignored = html::is_one_of(&LEFT_OUT, tag.name);
        for a in tag.attributes() {
            let pagefind = a
                .name
                .get(..13)
                .is_some_and(|p| p.eq_ignore_ascii_case("data-pagefind"));
            meaningful |= pagefind || a.name.eq_ignore_ascii_case("id");
            ignored |= a.name.eq_ignore_ascii_case("data-pagefind-ignore");
        }
        let parent = open.iter().rev().find(|(_, how)| *how != Open::Stripped);
        let how = if tag.closed
            && !meaningful
            && html::is_one_of(&PLAIN_INLINE, tag.name)
            && parent.is_some_and(|(_, how)| *how == Open::Kept)
        {
            Open::Stripped
        } else {
            out.push_str(&content[tag.range]);
            if ignored { Open::Ignored } else { Open::Kept }
        };
        if !html::is_one_of(&html::VOID, tag.name) {
            open.push((tag.name, how));
        }
    }
    out.push_str(&content[copied..]);
}

/// One pagefind index.
struct SearchIndex {
    index: PagefindIndex,
    language: String,
}

impl SearchIndex {
    fn new(language: &str) -> Result<SearchIndex, Diagnostic> {
        let config = PagefindServiceConfig::builder()
            .keep_index_url(true)
            .force_language(language.to_string())
            .build();
        let index = PagefindIndex::new(Some(config)).map_err(|e| fail("cannot start", e))?;
        Ok(SearchIndex {
            index,
            language: language.to_string(),
        })
    }

    /// A page of the site; only its `data-pagefind-body` part is indexed.
    fn add_page(&mut self, rt: &Runtime, url: &str, html: String) -> Result<(), Diagnostic> {
        rt.block_on(self.index.add_html_file(None, Some(url.to_string()), html))
            .map(|_| ())
            .map_err(|e| fail(&format!("cannot index {url}"), e))
    }

    fn add_record(&mut self, rt: &Runtime, record: SearchRecord) -> Result<(), Diagnostic> {
        let url = record.url.clone();
        let filters: BTreeMap<String, Vec<String>> = record.filters;
        rt.block_on(self.index.add_custom_record(
            record.url,
            record.content,
            self.language.clone(),
            Some(record.meta),
            Some(filters),
            None,
        ))
        .map(|_| ())
        .map_err(|e| fail(&format!("cannot index {url}"), e))
    }

    fn add(&mut self, rt: &Runtime, entry: Entry) -> Result<(), Diagnostic> {
        match entry {
            Entry::Page(url, html) => self.add_page(rt, &url, html),
            Entry::Record(record) => self.add_record(rt, record),
        }
    }

    /// Builds the index and writes the files the site needs of it as shard `n`; `replace`
    /// writes each file beside its address and renames it over the old one.
    fn write(
        mut self,
        rt: &Runtime,
        n: usize,
        site: &Path,
        replace: bool,
    ) -> Result<Written, Diagnostic> {
        let files = rt
            .block_on(self.index.get_files())
            .map_err(|e| fail("cannot build", e))?;
        drop(self);
        let base = shard_dir(n);
        let mut out = Vec::new();
        for file in files {
            let rel = file.filename.to_string_lossy().replace('\\', "/");
            if !wanted(n, &rel) {
                continue;
            }
            let address = format!("{base}{rel}");
            if replace {
                super::output::replace_at(site, &address, &file.contents)?;
            } else {
                super::output::write_at(site, &address, &file.contents)?;
            }
            out.push((address, file.contents.len() as u64));
        }
        Ok(out)
    }
}

/// Links (or copies) `files` of the site in `from` into the site in `to`.
fn take_files(from: &Path, to: &Path, files: &[String]) -> std::io::Result<Written> {
    let mut out = Vec::with_capacity(files.len());
    for address in files {
        let (old, new) = (from.join(address), to.join(address));
        if let Some(parent) = new.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if std::fs::hard_link(&old, &new).is_err() {
            std::fs::copy(&old, &new)?;
        }
        out.push((address.clone(), std::fs::metadata(&new)?.len()));
    }
    Ok(out)
}

/// Where shard `n` lives in the site: the first at the index folder itself (with pagefind's
/// script and WebAssembly), the others in numbered folders inside it.
fn shard_dir(n: usize) -> String {
    if n == 0 {
        format!("{DIR}/")
    } else {
        format!("{DIR}/{n}/")
    }
}

/// Of pagefind's files, those the site uses: its bundled user interfaces are left out (the
/// site has its own search box, and runs pagefind without its worker), and the shards after
/// the first need only their own data, since they are merged into the first one's search.
fn wanted(shard: usize, rel: &str) -> bool {
    const UNUSED: [&str; 6] = [
        "pagefind-ui.",
        "pagefind-modular-ui.",
        "pagefind-component-ui.",
        "pagefind-highlight.",
        "pagefind-worker.",
        "playground/",
    ];
    if UNUSED.iter().any(|p| rel.starts_with(p)) {
        return false;
    }
    shard == 0
        || rel == "pagefind-entry.json"
        || rel.ends_with(".pf_meta")
        || rel.starts_with("index/")
        || rel.starts_with("fragment/")
        || rel.starts_with("filter/")
}

/// Whether a shard of at most `max` ends with the page or record at `url`, its `count`th.
/// Where a shard ends depends on the addresses, not on how many came before, so that a page
/// added or removed changes its own shard (rarely the next), and an edit only its own: a
/// shard ends after half of `max` at an address whose hash says so (one in a quarter of
/// `max`), or at `max`.
fn ends_shard(url: &str, count: usize, max: usize) -> bool {
    use sha2::Digest;
    if count >= max {
        return true;
    }
    let hash = sha2::Sha256::digest(url.as_bytes());
    let n = u64::from_le_bytes(hash[..8].try_into().unwrap_or_default());
    count >= max / 2 && n.is_multiple_of((max as u64 / 4).max(1))
}

/// What a shard indexes: a page (its address, what pagefind reads of it) or a record.
#[derive(Clone, PartialEq)]
enum Entry {
    Page(String, String),
    Record(SearchRecord),
}

impl Entry {
    fn url(&self) -> &str {
        match self {
            Entry::Page(url, _) => url,
            Entry::Record(r) => &r.url,
        }
    }
}

enum Item {
    /// The items that follow are the next shard's.
    Start,
    Add(Entry),
    /// Shard `n` has everything: build it and write its files.
    Build(usize),
}

/// The files the shards wrote: addresses in the site, sizes.
type Written = Vec<(String, u64)>;

/// The files each shard wrote, by shard.
type WrittenBy = Vec<(usize, Written)>;

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

/// A worker's loop: fills its shards in turn, builds each when told, and stops at its first
/// error (draining what is sent, so that the sender never waits on it).
fn work(rx: Receiver<Item>, language: &str, site: &Path) -> Result<WrittenBy, Diagnostic> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail("cannot start", e))?;
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
    Whole(Whole),
    Patch(Patch),
}

/// What finishing an index did.
pub struct Finished {
    /// The files written (addresses in the site, sizes), sorted.
    pub written: Written,
    /// The files of the old index that are gone.
    pub removed: Vec<String>,
    /// The shards' entries and files, when asked to keep them.
    pub kept: Option<Shards>,
}

impl Indexer {
    /// A whole index of `total` pages and records, in shards of at most `max_shard` (one
    /// below `SPLIT_FROM`), whose files go into `site` (the staging folder). `keep`: keep the
    /// shards' entries, for rebuilding one alone later. `previous`: the shards of the site
    /// being replaced, and its folder; a shard with the same entries as one of those is
    /// taken from there instead of being built again.
    pub fn start(
        language: &str,
        site: &Path,
        total: usize,
        max_shard: usize,
        keep: bool,
        previous: Option<(Shards, PathBuf)>,
    ) -> Result<Indexer, Diagnostic> {
        let workers = (0..WORKERS)
            .map(|n| Worker::start(n, language, site))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Indexer::Whole(Whole {
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
            kept: (keep || previous.is_some()).then(|| Shards::new(language)),
            previous,
            reused: Vec::new(),
        }))
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

/// Each shard's entries, in order, and the files it wrote: what rebuilding one shard alone
/// needs.
pub struct Shards {
    language: String,
    entries: Vec<Vec<Entry>>,
    files: Vec<Vec<String>>,
    /// Where each page's entry is: shard, position.
    pages: HashMap<String, (usize, usize)>,
}

impl Shards {
    fn new(language: &str) -> Shards {
        Shards {
            language: language.to_string(),
            entries: Vec::new(),
            files: Vec::new(),
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
        let rebuilt: Vec<(usize, Written)> = self
            .dirty
            .par_iter()
            .map(|&n| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| fail("cannot start", e))?;
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
            let now: Vec<String> = files.iter().map(|(a, _)| a.clone()).collect();
            for old in &self.shards.files[n] {
                if !now.contains(old) {
                    let _ = std::fs::remove_file(self.site.join(old));
                    removed.push(old.clone());
                }
            }
            self.shards.files[n] = now;
            written.extend(files);
        }
        written.sort();
        Ok(Finished {
            written,
            removed,
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
    kept: Option<Shards>,
    previous: Option<(Shards, PathBuf)>,
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
        if let Some(kept) = &mut self.kept {
            kept.push(shard, &entry);
        }
        // With a previous site, a shard is sent once it is whole, unless it is reused.
        if self.previous.is_none() {
            self.worker(shard).send(Item::Add(entry))?;
        }
        if !self.open {
            self.close(shard)?;
        }
        Ok(())
    }

    /// Shard `n` has all its entries: built, or taken from the previous site when it had the
    /// same.
    fn close(&mut self, n: usize) -> Result<(), Diagnostic> {
        let (Some((previous, dir)), Some(kept)) = (&self.previous, &self.kept) else {
            return self.worker(n).send(Item::Build(n));
        };
        let entries = kept.entries.get(n).map_or(&[][..], Vec::as_slice);
        if previous.entries.get(n).map(Vec::as_slice) == Some(entries)
            && let Some(files) = previous.files.get(n)
            && let Ok(written) = take_files(dir, &self.site, files)
        {
            self.reused.push((n, written));
            return Ok(());
        }
        let worker = self.worker(n);
        worker.send(Item::Start)?;
        for entry in entries {
            worker.send(Item::Add(entry.clone()))?;
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
        let mut written = Vec::new();
        let mut first_error = None;
        let mut kept = self.kept.take();
        let reused = std::mem::take(&mut self.reused);
        let built: Vec<Result<WrittenBy, Diagnostic>> =
            self.workers.iter_mut().map(Worker::join).collect();
        for result in std::iter::once(Ok(reused)).chain(built) {
            match result {
                Ok(by_shard) => {
                    for (n, files) in by_shard {
                        if let Some(kept) = &mut kept {
                            if kept.files.len() <= n {
                                kept.files.resize_with(n + 1, Vec::new);
                            }
                            kept.files[n] = files.iter().map(|(a, _)| a.clone()).collect();
                        }
                        written.extend(files);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let others: Vec<String> = (1..self.shards).map(|n| format!("{n}/")).collect();
        let manifest = serde_json::json!({ "shards": others }).to_string() + "\n";
        let address = format!("{DIR}/{SHARDS_FILE}");
        super::output::write_at(&self.site, &address, manifest.as_bytes())?;
        written.push((address, manifest.len() as u64));
        written.sort();
        Ok(Finished {
            written,
            removed: Vec::new(),
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

    proptest::proptest! {
        #[test]
        fn the_search_input_of_any_content_is_no_longer_than_its_page(
            text in crate::arbitrary::text(&[
                "<", ">", "</", "<a href=x>", "</a>", "<em>", "</em>", "<code>", "<pre>",
                "<script>", "</script>", "<!--", "-->", "<br>", "<p>", "</article>", "\"",
            ])
        ) {
            let page = format!("<html lang=\"en\"><body><article>{text}</article></body></html>");
            let input = page_input(&page, &text);
            proptest::prop_assert!(input.len() <= page.len() + "<body></body></html>".len());
        }
    }

    fn stripped(html: &str) -> String {
        let mut out = String::new();
        strip_plain_inline(html, &mut out);
        out
    }

    #[test]
    fn plain_inline_tags_go_and_the_rest_stays() {
        assert_eq!(
            stripped(
                r#"<p>Use <code>x</code> with <a href="a.html#b">the <em>b</em> part</a>.</p>"#
            ),
            "<p>Use x with the b part.</p>"
        );
        // An id or a pagefind attribute keeps the tag, and so its end tag.
        assert_eq!(
            stripped(
                r#"<p><span id="s">a</span> <strong data-pagefind-weight="3">b</strong> <i>c</i></p>"#
            ),
            r#"<p><span id="s">a</span> <strong data-pagefind-weight="3">b</strong> c</p>"#
        );
        assert_eq!(
            stripped(r#"<p><a href="x"><a id="in">a</a> b</a></p>"#),
            r#"<p><a id="in">a</a> b</p>"#
        );
        // Word breaks, images, and what pagefind leaves out stay as they are.
        assert_eq!(
            stripped(r#"a<br>b<img src="p.png" alt="x > y"><label>l</label>"#),
            r#"a<br>b<img src="p.png" alt="x > y"><label>l</label>"#
        );
        // A `>` inside a quoted value does not end the tag.
        assert_eq!(
            stripped(r#"<p><a title='1 > 0' href="x">t</a></p>"#),
            "<p>t</p>"
        );
        // Inside what pagefind ignores, or outside anything here, the tags stay.
        for kept in [
            r#"<nav id="toc"><a href="a">A</a> <em>B</em></nav>"#,
            r#"<div data-pagefind-ignore><p>x</p><em>y</em></div>"#,
            "<em>at the top</em>",
            "<footer><p>Made by <strong>me</strong></p></footer>",
        ] {
            let expected = kept.replace("<p>Made by <strong>me</strong></p>", "<p>Made by me</p>");
            assert_eq!(stripped(kept), expected);
        }
        // Raw text, comments, stray end tags and what is not a tag are copied.
        assert_eq!(
            stripped("<script>if (a<b) { x = '<a>'; }</script><!-- <em> --></em> 1 < 2 <"),
            "<script>if (a<b) { x = '<a>'; }</script><!-- <em> --></em> 1 < 2 <"
        );
        assert_eq!(stripped(r#"<p><a href="x>t</a>"#), r#"<p><a href="x>t</a>"#);
    }

    /// The files pagefind makes of these pages, by name.
    fn index_of(pages: &[(&str, String)]) -> BTreeMap<String, Vec<u8>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut index = SearchIndex::new("en").unwrap();
        for (url, html) in pages {
            index.add_page(&rt, url, html.clone()).unwrap();
        }
        let files = rt.block_on(index.index.get_files()).unwrap();
        files
            .into_iter()
            .map(|f| (f.filename.to_string_lossy().into_owned(), f.contents))
            .collect()
    }

    #[test]
    fn pagefind_indexes_a_page_without_plain_inline_tags_the_same() {
        let content = concat!(
            r#"<h1 id="top"><a class="header" href="top">The <code>runbook</code> tool</a></h1>"#,
            r#"<p>Give the <strong>Admin Agent</strong> role to <a href="x.html"><em>the</em> "#,
            r#"account</a>.<br>Then <kbd>Ctrl</kbd>+<kbd>C</kbd>, <span class="k">wait</span>.</p>"#,
            r#"<h2 id="next"><a class="header" href="next">Next <i class="fa"></i>steps</a></h2>"#,
            r#"<ul><li><a href="y.html" id="keep">kept</a> and <sup>1</sup><sub>2</sub></li></ul>"#,
            r#"<div data-pagefind-ignore><p>not <b>indexed</b></p></div>"#,
            r#"<p><span data-pagefind-meta="extra:yes">meta</span> <small>fine print</small></p>"#,
            r#"<nav id="toc"><a href="\#alpha">Alpha</a> · <a href="\#beta">Beta</a></nav>"#,
            r#"<p>x</p><footer id="f">Made by <strong>me</strong></footer>"#,
            r#"<label id="l">A <em>label</em></label><form><p>In a <b>form</b></p></form>"#,
            r#"<div id="d" data-pagefind-ignore><em>not</em> <i>indexed</i></div>"#,
            r#"<blockquote id="q"><p><em>Quoted</em> text</p></blockquote>"#,
            r#"<pre><code class="language-toml">[output.html]
key = "value" # &lt;em&gt;</code></pre>"#,
        );
        let page = format!(
            concat!(
                r#"<!DOCTYPE html><html lang="en"><head><title>T</title></head><body>"#,
                r#"<nav>menu</nav><article data-pagefind-body>"#,
                r#"<span hidden data-pagefind-meta="title:T"></span>{}</article></body></html>"#
            ),
            content
        );
        let input = page_input(&page, content);
        assert!(
            !input.contains("<strong>Admin") && !input.contains("<nav>menu"),
            "{input}"
        );
        let stripped = index_of(&[("a.html", input)]);
        let whole = index_of(&[("a.html", page)]);
        assert!(stripped.keys().any(|k| k.starts_with("fragment/")));
        assert_eq!(
            stripped.keys().collect::<Vec<_>>(),
            whole.keys().collect::<Vec<_>>()
        );
        assert!(stripped == whole, "the index differs");
    }

    #[test]
    fn content_the_template_changed_is_read_as_it_is() {
        let page = r#"<html lang="en"><body><article><p>A <em>B</em></p></article></body></html>"#;
        assert_eq!(
            page_input(page, "<p>a <em>b</em></p>"),
            r#"<html lang="en"><body><article><p>A <em>B</em></p></article></body></html>"#
        );
        assert_eq!(
            page_input(page, "<p>A <em>B</em></p>"),
            r#"<html lang="en"><body><article><p>A B</p></article></body></html>"#
        );
    }

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
    fn later_shards_keep_only_their_data() {
        assert!(wanted(0, "pagefind.js"));
        assert!(wanted(0, "wasm.en.pagefind"));
        assert!(!wanted(0, "pagefind-ui.js"));
        assert!(!wanted(1, "pagefind.js"));
        assert!(!wanted(1, "wasm.en.pagefind"));
        assert!(wanted(1, "pagefind-entry.json"));
        assert!(wanted(1, "pagefind.en_0123456789.pf_meta"));
        assert!(wanted(1, "index/en_0123456.pf_index"));
        assert!(wanted(1, "fragment/en_0123456.pf_fragment"));
        assert!(wanted(1, "filter/en_0123456.pf_filter"));
    }
}
