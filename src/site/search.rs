//! The in-site search index, built with pagefind's Rust API. Chapters are indexed from their
//! pages (headings give sub-results); runbooks and steps are custom records whose facts are
//! pagefind filters, so a search can be narrowed to what applies to one customer.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pagefind::api::PagefindIndex;
use pagefind::options::PagefindServiceConfig;

use crate::diagnostics::Diagnostic;

use super::runbooks::SearchRecord;

/// The folder of the index in the site.
pub const DIR: &str = "pagefind";

pub struct SearchIndex {
    index: PagefindIndex,
    runtime: tokio::runtime::Runtime,
    language: String,
}

fn fail(what: &str, e: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error(format!("search index: {what}: {e}"))
}

impl SearchIndex {
    pub fn new(language: &str) -> Result<SearchIndex, Diagnostic> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail("cannot start", e))?;
        let config = PagefindServiceConfig::builder()
            .keep_index_url(true)
            .force_language(language.to_string())
            .build();
        let index = PagefindIndex::new(Some(config)).map_err(|e| fail("cannot start", e))?;
        Ok(SearchIndex {
            index,
            runtime,
            language: language.to_string(),
        })
    }

    /// A page of the site; only its `data-pagefind-body` part is indexed.
    pub fn add_page(&mut self, url: &str, html: String) -> Result<(), Diagnostic> {
        let index = &mut self.index;
        self.runtime
            .block_on(index.add_html_file(None, Some(url.to_string()), html))
            .map(|_| ())
            .map_err(|e| fail(&format!("cannot index {url}"), e))
    }

    pub fn add_record(&mut self, record: SearchRecord) -> Result<(), Diagnostic> {
        let url = record.url.clone();
        let filters: BTreeMap<String, Vec<String>> = record.filters;
        let index = &mut self.index;
        self.runtime
            .block_on(index.add_custom_record(
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

    /// The index's files, relative to its folder.
    pub fn files(mut self) -> Result<Files, Diagnostic> {
        let index = &mut self.index;
        let files = self
            .runtime
            .block_on(index.get_files())
            .map_err(|e| fail("cannot build", e))?;
        let mut out: Vec<(PathBuf, Vec<u8>)> = files
            .into_iter()
            .filter(|f| !f.filename.starts_with("playground"))
            .map(|f| (f.filename, f.contents))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

/// The index's files, relative to its folder, with their contents.
pub type Files = Vec<(PathBuf, Vec<u8>)>;

enum Item {
    Page(String, String),
    Record(SearchRecord),
}

/// The index built on a thread of its own, so that pagefind reads pages while the next ones
/// are rendered. The index itself is built only when `finish` is called: by then the caller
/// has let go of what it no longer needs, since building needs memory of its own.
pub struct Indexer {
    tx: Option<std::sync::mpsc::SyncSender<Item>>,
    go: Option<std::sync::mpsc::Sender<()>>,
    handle: Option<std::thread::JoinHandle<Result<Files, Diagnostic>>>,
}

impl Indexer {
    pub fn start(language: &str) -> Result<Indexer, Diagnostic> {
        let mut index = SearchIndex::new(language)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Item>(64);
        let (go, go_rx) = std::sync::mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("search-index".into())
            .spawn(move || {
                let mut first_error = None;
                for item in rx {
                    if first_error.is_some() {
                        continue; // drain, so that the sender never blocks
                    }
                    let r = match item {
                        Item::Page(url, html) => index.add_page(&url, html),
                        Item::Record(r) => index.add_record(r),
                    };
                    if let Err(e) = r {
                        first_error = Some(e);
                    }
                }
                if let Some(e) = first_error {
                    return Err(e);
                }
                // Built only when asked (or never, when the build failed before).
                if go_rx.recv().is_err() {
                    return Ok(Vec::new());
                }
                index.files()
            })
            .map_err(|e| fail("cannot start", e))?;
        Ok(Indexer {
            tx: Some(tx),
            go: Some(go),
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

    pub fn add_page(&self, url: &str, html: String) -> Result<(), Diagnostic> {
        self.send(Item::Page(url.to_string(), html))
    }

    pub fn add_record(&self, record: SearchRecord) -> Result<(), Diagnostic> {
        self.send(Item::Record(record))
    }

    /// Builds the index and returns its files, relative to its folder.
    pub fn finish(mut self) -> Result<Files, Diagnostic> {
        drop(self.tx.take());
        if let Some(go) = self.go.take() {
            let _ = go.send(());
        }
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(fail("failed", "the indexing thread stopped")),
            None => Ok(Vec::new()),
        }
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        // Abandoned (the build failed): let the thread end without building.
        drop(self.tx.take());
        drop(self.go.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
