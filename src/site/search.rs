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
    pub fn files(mut self) -> Result<Vec<(PathBuf, Vec<u8>)>, Diagnostic> {
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
