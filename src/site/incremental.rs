//! `runbook serve` keeps what the site was made of, and on a change of chapters (or of files
//! they include) writes only what depends on them, with the writers of a whole build so that
//! the site is the same, byte for byte: the chapters' own pages, the print page, the index
//! page when it shows one of them, and the search shards that hold them. Their links are
//! checked, and so are the links into any anchor they lost. Any other change (SUMMARY.md,
//! book.toml, runbooks, templates, a file added or removed) asks for a whole build.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use minijinja::Value;

use crate::book::config::BookConfig;
use crate::diagnostics::Diagnostics;
use crate::markdown::MdOptions;
use crate::project::{self, Project};

use super::BuildReport;
use super::link_check::{LinkCheck, SiteLinks};
use super::links::SiteIndex;
use super::nav::{Nav, TocItem};
use super::output::Staging;
use super::pages::chapter::{self, Chapter, Sources};
use super::pages::print::Rebased;
use super::pages::{self, PageWriter, not_found};
use super::progress::Progress;
use super::redirects::{self, Check};
use super::runbooks::RunbookPage;
use super::search::{self, Indexer, Previous, Shards};
use super::templates::Templates;
use super::writer::Writer;

/// What a whole build made the site of.
pub struct Parts {
    pub root: PathBuf,
    pub dest: PathBuf,
    pub config: BookConfig,
    pub md: MdOptions,
    pub templates: Templates,
    pub site: Value,
    pub search_filters: Value,
    pub toc: Vec<TocItem>,
    /// The chapters as the print page has them, when it is written.
    pub rebased: Option<Rebased>,
    pub sources: Sources,
    pub chapters: Vec<Chapter>,
    pub project: Option<Project>,
    pub runbook_pages: Vec<RunbookPage>,
    pub redirect_checks: Vec<Check>,
    pub not_found: not_found::Written,
    pub book_title: String,
    pub index: SiteIndex,
    pub template_links: Vec<(String, &'static str, Vec<String>)>,
    pub search: Option<Shards>,
    pub watch: Vec<PathBuf>,
}

/// A built site, kept to be updated.
pub struct Site {
    parts: Parts,
    /// The chapters that read each file (their own, the files they include), by its
    /// absolute path and, where it exists, its canonical one.
    readers: HashMap<PathBuf, BTreeSet<usize>>,
    /// An update failed part way: what is kept no longer matches the site on disk.
    broken: bool,
    /// The search shards of the pages an update wrote, to be rebuilt.
    search_update: Option<Indexer>,
}

/// What an update did.
pub enum Update {
    /// Only pages that depend on the change were written (or the update failed, and the
    /// site is as it was).
    Pages(Result<BuildReport, Diagnostics>),
    /// The change needs a whole build.
    Whole,
}

impl Site {
    pub fn new(parts: Parts) -> Site {
        let mut readers: HashMap<PathBuf, BTreeSet<usize>> = HashMap::new();
        for c in &parts.chapters {
            let own = &parts.sources.of(c).path;
            for file in std::iter::once(own).chain(&c.includes) {
                for key in keys(file) {
                    readers.entry(key).or_default().insert(c.source);
                }
            }
        }
        Site {
            parts,
            readers,
            broken: false,
            search_update: None,
        }
    }

    /// Updates the site for the files changed, when they are chapters or files that
    /// chapters include. The site on disk is unchanged when the update fails (and the next
    /// one is a whole build).
    pub fn update(&mut self, changed: &[PathBuf]) -> Update {
        if self.broken {
            return Update::Whole;
        }
        let src_dir = keys(&self.parts.config.src_dir());
        let mut affected = BTreeSet::new();
        for path in changed {
            // A file of the src folder that is not Markdown is copied into the site too.
            let copied = keys(path)
                .iter()
                .any(|k| src_dir.iter().any(|s| k.starts_with(s)))
                && path.extension().is_none_or(|e| e != "md");
            match keys(path).iter().find_map(|k| self.readers.get(k)) {
                Some(chapters) if path.is_file() && !copied => {
                    affected.extend(chapters.iter().copied());
                }
                _ => return Update::Whole,
            }
        }
        self.broken = true;
        let result = self.rewrite(&affected);
        self.broken = result.is_err();
        Update::Pages(result)
    }

    /// The search shards of the site, when they match what is there.
    pub fn into_search(self) -> Option<Previous> {
        if self.broken || self.search_update.is_some() {
            return None;
        }
        let Parts { search, dest, .. } = self.parts;
        search.map(|s| Previous {
            dir: dest,
            shards: s.built,
        })
    }

    /// Rebuilds the search shards of the pages the last update wrote: done once the pages
    /// are served, since pagefind indexes a shard's every page again (a few hundred
    /// milliseconds), where a page takes a few. Returns the files written.
    pub fn update_search(&mut self) -> Result<usize, Diagnostics> {
        let Some(indexer) = self.search_update.take() else {
            return Ok(0);
        };
        let mut progress = Progress::new(false, 0);
        progress.stage("search index");
        self.broken = true;
        let p = &mut self.parts;
        let finished = pages::search_index::finish(indexer, &mut p.index)?;
        let cache = p.root.join(project::CACHE_DIR);
        search::cache::save(&cache, &p.dest, &p.config.language, &finished.built);
        p.search = finished.kept;
        self.broken = false;
        progress.finish();
        Ok(finished.written.len())
    }

    fn rewrite(&mut self, affected: &BTreeSet<usize>) -> Result<BuildReport, Diagnostics> {
        let p = &mut self.parts;
        let mut progress = Progress::new(false, 0);
        progress.stage("chapters");
        let mut warnings = Diagnostics::default();
        let mut errors = Diagnostics::default();
        let mut rendered = Vec::new();
        for &i in affected {
            match chapter::render(&p.root, &p.sources, i, p.md, &mut warnings) {
                Ok(c) => rendered.push(c),
                Err(d) => errors.push(d),
            }
        }
        if errors.has_errors() {
            return Err(errors.sorted());
        }
        // A chapter whose includes changed reads other files now.
        for c in &rendered {
            for file in &c.includes {
                for key in keys(file) {
                    self.readers.entry(key).or_default().insert(c.source);
                }
            }
        }

        let staging = Staging::in_place(&p.dest, &p.root.join(project::CACHE_DIR))?;
        let indexer = p.search.take().map(|s| Indexer::patch(&p.dest, s));
        let mut out = Writer::new(staging, indexer);
        out.index = std::mem::take(&mut p.index);
        let mut cx = PageWriter {
            templates: &p.templates,
            site: p.site.clone(),
            search_filters: p.search_filters.clone(),
            nav: Nav::new(&p.toc),
            out,
        };
        let addresses: Vec<&str> = rendered
            .iter()
            .map(|c| p.sources.of(c).address.as_str())
            .collect();
        let before: Vec<HashSet<String>> = addresses
            .iter()
            .map(|a| cx.out.index.anchors.get(*a).cloned().unwrap_or_default())
            .collect();
        let mut redirect_errors = Diagnostics::default();
        let redirect_entries = redirects::entries(&p.config.html.redirect, &mut redirect_errors);
        progress.stage("pages");
        let result = chapter::write(
            &mut cx,
            &rendered,
            &p.sources,
            p.config.html.edit_url_template.as_deref(),
            &redirect_entries,
            &mut progress,
        );
        for c in rendered {
            let i = c.source;
            p.chapters[i] = c;
        }
        result?;
        // The index page shows the chapter at its address, or (without runbooks) the first.
        if affected.iter().any(|&i| {
            p.sources.files[i].address == pages::index::PAGE || (p.project.is_none() && i == 0)
        }) {
            pages::index::write(
                &mut cx,
                p.project.as_ref(),
                &p.chapters,
                &p.sources,
                &p.toc,
                &p.book_title,
            )?;
        }
        // The pages' own links; every link again when one of them lost an anchor.
        progress.stage("links");
        let out = &mut cx.out;
        let lost = addresses.iter().zip(&before).any(|(a, old)| {
            let now = out.index.anchors.get(*a);
            old.iter().any(|id| now.is_none_or(|n| !n.contains(id)))
        });
        let written: HashSet<&str> = out.template_links.iter().map(|t| t.0.as_str()).collect();
        p.template_links
            .retain(|(address, _, _)| !written.contains(address.as_str()));
        let new_links = std::mem::take(&mut out.template_links);
        p.template_links.extend(new_links.iter().cloned());
        let mut check = LinkCheck::new(
            &out.index,
            p.config.html.broken_links,
            &mut errors,
            &mut warnings,
        );
        if lost {
            check.all(&SiteLinks {
                chapters: &p.chapters,
                sources: &p.sources,
                not_found: &p.not_found,
                project: p.project.as_ref(),
                runbook_pages: &p.runbook_pages,
                redirects: &p.redirect_checks,
                templates: &p.template_links,
            });
        } else {
            for &i in affected {
                let c = &p.chapters[i];
                let src = p.sources.of(c);
                check.content(&src.address, &c.links, &src.path);
            }
            check.templates(&new_links);
        }
        if errors.has_errors() {
            return Err(errors.sorted());
        }

        // The pages are served at once; the print page follows, and their search shards
        // next (see `update_search`).
        progress.stage("commit");
        out.staging.publish()?;
        if let Some(rebased) = &mut p.rebased {
            progress.stage("print page");
            for &i in affected {
                rebased.update(&p.chapters, &p.sources, i);
            }
            pages::print::write(
                &mut cx,
                &p.chapters,
                &p.sources,
                &p.runbook_pages,
                &p.book_title,
                Some(rebased),
            )?;
        }
        let mut out = cx.out;
        self.search_update = out.search.take();
        let (pages, files, bytes) = (out.pages, out.files, out.bytes);
        p.index = std::mem::take(&mut out.index);
        out.staging.commit()?;
        progress.finish();
        Ok(BuildReport {
            dest: p.dest.clone(),
            warnings: warnings.sorted(),
            chapters: affected.len(),
            runbooks: 0,
            pages,
            files,
            bytes,
            watch: p.watch.clone(),
            partial: true,
        })
    }
}

/// The keys a file is known by: its absolute path and, where it exists, its canonical one.
fn keys(path: &Path) -> Vec<PathBuf> {
    let mut out = Vec::with_capacity(2);
    if let Ok(a) = std::path::absolute(path) {
        out.push(a);
    }
    if let Ok(c) = std::fs::canonicalize(path)
        && !out.contains(&c)
    {
        out.push(c);
    }
    out
}
