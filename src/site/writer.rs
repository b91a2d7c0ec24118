//! Where the site's files go: the staging folder, the search index, and what the link check
//! needs to know of every file written.

use std::collections::HashSet;

use crate::diagnostics::Diagnostic;

use super::links::{self, SiteIndex};
use super::output::Staging;
use super::search::{self, Indexer};

/// Everything written so far, and what the link check needs of it.
pub struct Writer {
    /// Declared first, so that it is dropped first: an abandoned build waits for the
    /// indexing threads, which write into the staging folder, before that folder goes.
    pub search: Option<Indexer>,
    pub staging: Staging,
    pub index: SiteIndex,
    /// Links each page has that its templates wrote (content links are checked on their own,
    /// with their source places): page → (template, hrefs).
    pub template_links: Vec<(String, &'static str, Vec<String>)>,
    pub files: usize,
    pub pages: usize,
    pub bytes: u64,
}

impl Writer {
    pub fn new(staging: Staging, search: Option<Indexer>) -> Writer {
        Writer {
            search,
            staging,
            index: SiteIndex::default(),
            template_links: Vec::new(),
            files: 0,
            pages: 0,
            bytes: 0,
        }
    }

    pub fn file(&mut self, address: &str, contents: &[u8]) -> Result<(), Diagnostic> {
        self.staging.write(address, contents)?;
        self.index.files.insert(address.to_string());
        self.files += 1;
        self.pages += usize::from(address.ends_with(".html"));
        self.bytes += contents.len() as u64;
        Ok(())
    }

    /// A generated page: its anchors are recorded, its template links kept for checking,
    /// and it goes into the search index when `search` gives its content.
    pub fn page(
        &mut self,
        address: &str,
        html: String,
        template: &'static str,
        content_links: &[String],
        search: Option<&str>,
    ) -> Result<(), Diagnostic> {
        let page = WrittenPage::write(
            &self.staging,
            address.to_string(),
            &html,
            template,
            content_links,
            search.filter(|_| self.search.is_some()),
        )?;
        self.add(page)
    }

    /// A page written already (on another thread), in the order pages are added.
    pub fn add(&mut self, page: WrittenPage) -> Result<(), Diagnostic> {
        self.files += 1;
        self.pages += 1;
        self.bytes += page.bytes;
        self.index.files.insert(page.address.clone());
        self.index
            .anchors
            .insert(page.address.clone(), page.anchors.into_iter().collect());
        if let (Some(input), Some(s)) = (page.search_input, &mut self.search) {
            s.add_page(&page.address, input)?;
        }
        self.template_links
            .push((page.address, page.template, page.own_links));
        Ok(())
    }

    /// A page written straight into the staging folder, whose links are checked elsewhere
    /// (or not at all): counted, and known to exist.
    pub fn written(&mut self, address: &str, bytes: u64) {
        self.index.files.insert(address.to_string());
        self.files += 1;
        self.pages += 1;
        self.bytes += bytes;
    }
}

/// A generated page once written: what the link check and the search index need of it,
/// worked out where it was rendered (in parallel, for chapters).
pub struct WrittenPage {
    address: String,
    bytes: u64,
    anchors: Vec<String>,
    template: &'static str,
    /// Links its template wrote (not its content's), sorted.
    own_links: Vec<String>,
    search_input: Option<String>,
}

impl WrittenPage {
    /// `search`: for a page the search index reads, the content HTML the page was made
    /// with.
    pub fn write(
        staging: &Staging,
        address: String,
        html: &str,
        template: &'static str,
        content_links: &[String],
        search: Option<&str>,
    ) -> Result<WrittenPage, Diagnostic> {
        staging.write(&address, html.as_bytes())?;
        let content: HashSet<&str> = content_links.iter().map(String::as_str).collect();
        let mut own_links: Vec<String> = links::page_links(html)
            .into_iter()
            .filter(|h| !content.contains(h.as_str()))
            .collect();
        own_links.sort();
        own_links.dedup();
        Ok(WrittenPage {
            address,
            bytes: html.len() as u64,
            anchors: links::page_anchors(html),
            template,
            own_links,
            search_input: search.map(|content| search::page_input(html, content)),
        })
    }
}
