//! Chapter pages: every chapter's Markdown rendered (in parallel), then its page written.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use minijinja::context;
use rayon::prelude::*;

use crate::book::chapter::{self, ChapterFile};
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::markdown::{self, FoundLink, MdOptions};
use crate::site::links;
use crate::site::nav::section_label;
use crate::site::progress::Progress;
use crate::site::redirects::{self, Entry};
use crate::site::writer::WrittenPage;

use super::{PageWriter, index, ser};

/// Pages rendered and handed on together: bounds what is held in memory at once.
const BATCH: usize = 256;

/// A chapter after rendering.
pub struct Chapter {
    /// Its file, by index in the book's chapter files.
    pub source: usize,
    pub title: String,
    pub html: String,
    pub links: Vec<(FoundLink, Option<Span>)>,
    /// The files its includes named, read or not: it changes with them.
    pub includes: Vec<PathBuf>,
}

/// The book's chapter files, and each one's index by its path in the src folder.
pub struct Sources {
    pub files: Vec<ChapterFile>,
    pub by_rel: HashMap<String, usize>,
}

impl Sources {
    pub fn new(files: Vec<ChapterFile>) -> Sources {
        let by_rel = files
            .iter()
            .enumerate()
            .map(|(i, c)| (c.rel.clone(), i))
            .collect();
        Sources { files, by_rel }
    }

    pub fn of(&self, c: &Chapter) -> &ChapterFile {
        &self.files[c.source]
    }

    /// Where a content link on `page` (in `chapter_dir`) should point: a chapter's address
    /// (relative to this page) for a link to its Markdown file, mdBook's `.md` → `.html` for
    /// any other Markdown file, else the link as written.
    pub fn rewrite_link(&self, written: &str, chapter_dir: &str, page: &str) -> Option<String> {
        let split = written.find(['#', '?']).unwrap_or(written.len());
        let (path, rest) = written.split_at(split);
        if path.is_empty() || path.starts_with('/') {
            return None;
        }
        let decoded = links::percent_decode(path);
        // A link above the book's root (a neighbour of the site where it is published) is not
        // a chapter: written as mdBook writes it, `.md` made `.html`.
        if let links::Resolved::Inside(resolved) = links::resolve(chapter_dir, &decoded)
            && let Some(&i) = self.by_rel.get(&resolved)
        {
            let target = &self.files[i].address;
            let rel = links::relative(page, target);
            return Some(format!("{}{rest}", rel.replace(' ', "%20")));
        }
        path.strip_suffix(".md")
            .map(|stem| format!("{stem}.html{rest}"))
    }
}

/// Renders every chapter, in parallel; diagnostics in SUMMARY order.
pub fn render_all(
    root: &Path,
    sources: &Sources,
    md: MdOptions,
    warnings: &mut Diagnostics,
) -> Result<Vec<Chapter>, Diagnostics> {
    let results: Vec<(Result<Chapter, Diagnostic>, Diagnostics)> = (0..sources.files.len())
        .into_par_iter()
        .map(|i| {
            let mut w = Diagnostics::default();
            let r = render(root, sources, i, md, &mut w);
            (r, w)
        })
        .collect();
    let mut errors = Diagnostics::default();
    let mut chapters = Vec::with_capacity(results.len());
    for (r, w) in results {
        warnings.extend(w);
        match r {
            Ok(c) => chapters.push(c),
            Err(d) => errors.push(d),
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    Ok(chapters)
}

/// Renders the chapter of `sources` at `index`.
pub fn render(
    root: &Path,
    sources: &Sources,
    index: usize,
    md: MdOptions,
    warnings: &mut Diagnostics,
) -> Result<Chapter, Diagnostic> {
    let c = &sources.files[index];
    let text = chapter::read(root, &c.path, &c.name, warnings)?;
    let dir = links::dir_of(&c.rel);
    let rewrite = |d: &str| sources.rewrite_link(d, dir, &c.address);
    let rendered = markdown::render(&text.expanded.text, md, &rewrite);
    let links = rendered
        .links
        .into_iter()
        .map(|l| {
            let span = text.expanded.span(l.range.clone());
            (l, span)
        })
        .collect();
    Ok(Chapter {
        source: index,
        title: text.title,
        html: rendered.html,
        links,
        includes: text.expanded.includes,
    })
}

/// Writes each chapter's page but the one at `index.html` (the index page shows it), in
/// batches: rendered and written in parallel, indexed in order.
pub fn write<C: Borrow<Chapter> + Sync>(
    cx: &mut PageWriter,
    chapters: &[C],
    sources: &Sources,
    edit_url_template: Option<&str>,
    redirects: &[Entry],
    progress: &mut Progress,
) -> Result<(), Diagnostic> {
    let indexed = cx.out.search.is_some();
    for batch in chapters.chunks(BATCH) {
        let shared = &*cx;
        let rendered: Vec<Result<Option<WrittenPage>, Diagnostic>> = batch
            .par_iter()
            .map(|c| {
                let c: &Chapter = c.borrow();
                let src = sources.of(c);
                if src.address == index::PAGE {
                    return Ok(None);
                }
                let edit_url = edit_url_template.map(|t| t.replace("{path}", &src.rel));
                let ctx = context! {
                    ..shared.context(&src.address, &c.title),
                    ..context! {
                        content => c.html.as_str(),
                        edit_url => edit_url,
                        number => src.number.as_ref().map(|n| section_label(n)),
                        search_filters => shared.search_filters.clone(),
                        source => src.rel.as_str(),
                        fragment_map => ser(&redirects::fragment_map(redirects, &src.address)),
                    }
                };
                let html = shared.render("chapter.html.j2", ctx)?;
                let content: Vec<String> = c.links.iter().map(|(l, _)| l.href.clone()).collect();
                WrittenPage::write(
                    &shared.out.staging,
                    src.address.clone(),
                    &html,
                    "chapter.html.j2",
                    &content,
                    indexed.then_some(c.html.as_str()),
                )
                .map(Some)
            })
            .collect();
        for r in rendered {
            if let Some(page) = r? {
                cx.out.add(page)?;
            }
            progress.inc(1);
        }
    }
    Ok(())
}
