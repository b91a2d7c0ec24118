//! The static help site: `runbook build` and `runbook serve`, configured by `book.toml`.
//!
//! Chapters come from Markdown in the book's `src` folder, listed by `SUMMARY.md` in mdBook's
//! format and written at mdBook's addresses (`a/b.md` → `a/b.html`, `README.md` →
//! `index.html`); the runbooks get a page each, with older revisions on pages of their own;
//! the checklist builder evaluates the runbooks' conditions in the browser. Every page comes
//! from a template in `templates/site/`, written by its kind's writer in [`pages`]. Every
//! internal link and anchor is checked. The site is written aside and swapped into place.

mod incremental;
mod link_check;
pub mod links;
mod nav;
pub mod output;
mod pages;
mod progress;
pub mod redirects;
pub mod runbooks;
pub mod search;
pub mod serve;
pub mod templates;
mod writer;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::book::chapter;
use crate::book::config::{self, BookConfig};
use crate::book::{preprocess, summary};
use crate::diagnostics::{Diagnostic, Diagnostics};
// `markdown` as well: the runbook pages' module reaches it as `super::markdown`.
use crate::markdown::{self, MdOptions};
use crate::project::{self, Project};

pub use incremental::{Site, Update};
use link_check::{LinkCheck, SiteLinks};
use nav::Nav;
use pages::chapter::Sources;
use pages::{PageWriter, ser};
use progress::Progress;
use templates::Templates;
use writer::Writer;

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Where to write the site; `[build] build-dir` of book.toml by default.
    pub dest: Option<PathBuf>,
    /// Show a progress bar (on a terminal) when the build takes more than a second.
    pub progress: bool,
}

#[derive(Debug)]
pub struct BuildReport {
    pub dest: PathBuf,
    pub warnings: Diagnostics,
    pub chapters: usize,
    pub runbooks: usize,
    pub pages: usize,
    pub files: usize,
    pub bytes: u64,
    /// What a rebuild depends on: for `serve` to watch.
    pub watch: Vec<PathBuf>,
    /// Only the pages that depend on a change were written (`chapters` counts those changed).
    pub partial: bool,
}

/// The folders and files a build reads, for `serve` to watch, without building.
pub fn watch_list(root: &Path) -> Vec<PathBuf> {
    let mut warnings = Diagnostics::default();
    let mut out = vec![root.join(config::BOOK_FILE)];
    match BookConfig::load(root, &mut warnings) {
        Ok(c) => {
            out.push(c.src_dir());
            out.extend(c.extra_watch_dirs.iter().map(|d| root.join(d)));
            out.extend(c.html.additional_css.iter().map(|d| root.join(d)));
            out.extend(c.html.additional_js.iter().map(|d| root.join(d)));
        }
        Err(_) => out.push(root.join("src")),
    }
    out.push(root.join(project::RUNBOOK_DIR));
    out.push(root.join("templates"));
    out
}

#[derive(Serialize)]
struct FilterFact {
    id: String,
    name: String,
    values: Vec<(String, String)>,
}

#[derive(Serialize)]
struct SiteContext {
    title: String,
    description: Option<String>,
    language: String,
    authors: Vec<String>,
    git_repository_url: Option<String>,
    search: bool,
    search_limit: usize,
    search_facts: Vec<FilterFact>,
    print: bool,
    checklist: bool,
    has_runbooks: bool,
    runbooks_title: String,
    additional_css: Vec<String>,
    additional_js: Vec<String>,
}

pub fn build(root: &Path, opts: &BuildOptions) -> Result<BuildReport, Diagnostics> {
    make(root, opts, Mode::Build).map(|(report, _)| report)
}

/// Builds the site and keeps what it was made of, for `serve` to update it on a change.
/// `previous`: what was kept of the site being replaced; the search shards that have not
/// changed are taken from it.
pub fn build_kept(
    root: &Path,
    opts: &BuildOptions,
    previous: Option<Site>,
) -> Result<(BuildReport, Site), Diagnostics> {
    let previous = previous.and_then(Site::into_search);
    let (report, site) = make(root, opts, Mode::Keep(previous))?;
    match site {
        Some(site) => Ok((report, *site)),
        None => Err(Diagnostic::error("the site was not kept").into()),
    }
}

/// What `runbook check` asks of the help site, given the project it has loaded (if there is
/// one): everything a build checks (book.toml, SUMMARY.md, the chapters and their includes,
/// the templates, every internal link and anchor) but the search index, which is not made.
/// Nothing is written. The report's warnings are the site's, not those of the project given.
pub fn check(root: &Path, project: Option<Project>) -> Result<BuildReport, Diagnostics> {
    let opts = BuildOptions {
        dest: None,
        progress: false,
    };
    make(root, &opts, Mode::Check(project.map(Box::new))).map(|(report, _)| report)
}

enum Mode {
    Build,
    /// A build whose parts are kept, with the search shards of the site it replaces.
    Keep(Option<search::Previous>),
    /// A check, with the project if it is loaded already.
    Check(Option<Box<Project>>),
}

fn make(
    root: &Path,
    opts: &BuildOptions,
    mode: Mode,
) -> Result<(BuildReport, Option<Box<Site>>), Diagnostics> {
    let mut warnings = Diagnostics::default();
    let config = BookConfig::load(root, &mut warnings)?;

    let keep = matches!(mode, Mode::Keep(_));
    let (publish, loaded, previous) = match mode {
        Mode::Build => (true, None, None),
        Mode::Keep(previous) => (true, None, previous),
        Mode::Check(project) => (false, project, None),
    };
    let has_project = match config.runbooks.enable {
        Some(enable) => enable,
        None => root.join(project::RUNBOOK_DIR).is_dir(),
    };
    let project = match (has_project, loaded) {
        (false, _) => None,
        (true, Some(p)) => Some(*p),
        (true, None) => {
            let (p, w) = Project::load(root)?;
            warnings.extend(w);
            Some(p)
        }
    };
    let templates = Templates::load(root)?;
    let src_dir = config.src_dir();
    let dest = match &opts.dest {
        Some(d) => d.clone(),
        None => config.build_dir(),
    };
    let mut protected = vec![root.join(config::BOOK_FILE), src_dir.clone()];
    protected.push(root.join(project::RUNBOOK_DIR));
    protected.push(root.join(templates::DIR));
    output::check_dest(&dest, &protected)?;

    // ---- SUMMARY.md and the chapters it lists.
    let summary_path = config.summary_path();
    let summary = if summary_path.is_file() {
        let file = project::read(root, &summary_path)?;
        summary::parse(&file)?
    } else if project.is_some() && config.file.is_none() {
        summary::Summary::default()
    } else {
        return Err(Diagnostic::error(format!(
            "no SUMMARY.md in {}",
            config.src.display()
        ))
        .path(&summary_path)
        .help("list the chapters in SUMMARY.md (mdBook's format), or set `[book] src` in book.toml")
        .into());
    };
    let has_runbooks = project.is_some();
    let checklist = has_runbooks && config.runbooks.checklist;
    // The addresses of the site's own pages and files.
    let reserved = |address: &str| {
        address == pages::not_found::PAGE
            || address == pages::assets::TOC_JS
            || (config.html.print && address == pages::print::PAGE)
            || (checklist && address == pages::checklist::PAGE)
            || address.starts_with(&format!("{}/", pages::assets::DIR))
            || address.starts_with(&format!("{}/", search::DIR))
            || (has_runbooks && address.starts_with(&format!("{}/", runbooks::DIR)))
    };
    let sources = Sources::new(chapter::list(&summary, &config, &reserved)?);
    // Redirects' old addresses, resolved now: a chapter maps its own redirected parts.
    let mut redirect_errors = Diagnostics::default();
    let redirect_entries = redirects::entries(&config.html.redirect, &mut redirect_errors);
    search_chapter_keys(&config, &sources, &mut warnings);

    let mut progress = Progress::new(
        opts.progress,
        (sources.files.len() + project.as_ref().map_or(0, |p| p.runbooks.len()) + 3) as u64,
    );

    progress.stage("chapters");
    let md = MdOptions {
        smart_punctuation: config.html.smart_punctuation,
    };
    let chapters = pages::chapter::render_all(root, &sources, md, &mut warnings)?;
    progress.inc(0);

    // ---- What every page shares.
    let vars = project.as_ref().map(|p| runbooks::Variables::new(&p.vocab));
    let filter_facts: Vec<FilterFact> = project
        .as_ref()
        .map(|p| {
            runbooks::filter_facts(&p.vocab)
                .into_iter()
                .map(|f| FilterFact {
                    id: f.id.clone(),
                    name: f.name.clone(),
                    values: f
                        .domain()
                        .unwrap_or_default()
                        .iter()
                        .map(|v| (crate::facts::Fact::key_of(v), f.describe_value(v)))
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    let chapter_filters: Vec<String> = project
        .as_ref()
        .map(|p| {
            runbooks::all_filters(&p.vocab)
                .into_iter()
                .flat_map(|(k, vs)| vs.into_iter().map(move |v| format!("{k}:{v}")))
                .collect()
        })
        .unwrap_or_default();
    let book_title = config
        .title
        .clone()
        .or_else(|| summary.title.clone().filter(|t| t != "Summary"))
        .unwrap_or_else(|| "Help".to_string());
    let site = SiteContext {
        title: book_title.clone(),
        description: config.description.clone(),
        language: config.language.clone(),
        authors: config.authors.clone(),
        git_repository_url: config.html.git_repository_url.clone(),
        search: config.html.search,
        search_limit: config.html.search_limit,
        search_facts: filter_facts,
        print: config.html.print,
        checklist,
        has_runbooks,
        runbooks_title: config.runbooks.title.clone(),
        additional_css: config.html.additional_css.clone(),
        additional_js: config.html.additional_js.clone(),
    };

    let rb_pages = match (&project, &vars) {
        (Some(p), Some(v)) => runbooks::pages(p, v),
        _ => Vec::new(),
    };
    let toc = nav::toc_items(
        &summary,
        &sources.files,
        &config,
        project.as_ref(),
        checklist,
    );

    // The runbooks' and steps' search records, made now so that the index knows how
    // many pages and records it will have.
    let records = match (&project, &vars) {
        (Some(p), Some(v)) if config.html.search && publish => runbooks::search_records(p, v),
        _ => Vec::new(),
    };
    let cache = root.join(project::CACHE_DIR);
    // The shards of the site being replaced, to take those that have not changed.
    let previous = match previous {
        Some(p) => Some(p),
        None if publish && config.html.search => {
            search::cache::load(&cache, &dest, &config.language)
        }
        None => None,
    };
    let staging = if publish {
        output::Staging::new(&dest, &cache)?
    } else {
        output::Staging::dry(&dest)
    };
    let indexer = match staging.path() {
        Some(dir) if config.html.search => Some(search::Indexer::start(
            &config.language,
            dir,
            chapters.len() + records.len(),
            config.html.search_shard_size,
            keep,
            previous,
        )?),
        _ => None,
    };
    let mut cx = PageWriter {
        templates: &templates,
        site: ser(&site),
        search_filters: ser(&chapter_filters),
        nav: Nav::new(&toc),
        out: Writer::new(staging, indexer),
    };

    pages::assets::write_built_in(&mut cx, &toc, checklist)?;
    progress.stage("pages");
    pages::chapter::write(
        &mut cx,
        &chapters,
        &sources,
        config.html.edit_url_template.as_deref(),
        &redirect_entries,
        &mut progress,
    )?;
    pages::runbook::write(&mut cx, &rb_pages, records, &mut progress)?;
    if let (Some(p), Some(v)) = (&project, &vars)
        && checklist
    {
        pages::checklist::write(&mut cx, p, v)?;
    }
    pages::index::write(
        &mut cx,
        project.as_ref(),
        &chapters,
        &sources,
        &toc,
        &book_title,
    )?;
    let not_found = pages::not_found::write(&mut cx, root, &config, &sources, md, &mut warnings)?;
    let mut rebased = None;
    if config.html.print {
        progress.stage("print page");
        // Kept for `serve`, which writes the page again on every edit.
        let kept = keep.then(|| pages::print::Rebased::all(&chapters, &sources));
        pages::print::write(
            &mut cx,
            &chapters,
            &sources,
            &rb_pages,
            &book_title,
            kept.as_ref(),
        )?;
        rebased = kept;
    }
    let mut errors = redirect_errors;
    let redirect_checks = pages::redirect::write(
        &mut cx,
        &redirect_entries,
        &sources,
        &mut errors,
        &mut warnings,
    )?;
    pages::assets::write_book_files(&mut cx, root, &config, &dest, &mut errors)?;

    progress.stage("links");
    let mut check = LinkCheck::new(
        &cx.out.index,
        config.html.broken_links,
        &mut errors,
        &mut warnings,
    );
    check.all(&SiteLinks {
        chapters: &chapters,
        sources: &sources,
        not_found: &not_found,
        project: project.as_ref(),
        runbook_pages: &rb_pages,
        redirects: &redirect_checks,
        templates: &cx.out.template_links,
    });
    if errors.has_errors() {
        progress.finish();
        return Err(errors.sorted());
    }

    // The search index is built once everything else is let go of (unless kept).
    let chapter_count = chapters.len();
    let runbook_count = project.as_ref().map_or(0, |p| p.runbooks.len());
    let parts = keep.then_some((chapters, rb_pages, project, not_found, redirect_checks));
    let PageWriter {
        site: site_value,
        search_filters,
        mut out,
        ..
    } = cx;
    let finished = pages::search_index::write(&mut out, &mut progress)?;

    let (pages, files, bytes) = (out.pages, out.files, out.bytes);
    out.staging.commit()?;
    let shards = finished.and_then(|f| {
        search::cache::save(&cache, &dest, &config.language, &f.built);
        f.kept
    });
    progress.finish();
    let mut watch = watch_list(root);
    watch.extend(templates.files.iter().cloned());
    let report = BuildReport {
        dest: dest.clone(),
        warnings: warnings.sorted(),
        chapters: chapter_count,
        runbooks: runbook_count,
        pages,
        files,
        bytes,
        watch,
        partial: false,
    };
    let site = parts.map(
        |(chapters, runbook_pages, project, not_found, redirect_checks)| {
            Box::new(Site::new(incremental::Parts {
                root: root.to_path_buf(),
                dest,
                config,
                md,
                templates,
                site: site_value,
                search_filters,
                toc,
                rebased,
                sources,
                chapters,
                project,
                runbook_pages,
                redirect_checks,
                not_found,
                book_title,
                index: out.index,
                template_links: out.template_links,
                search: shards,
                watch: report.watch.clone(),
            }))
        },
    );
    Ok((report, site))
}

/// Warns of `[output.html.search.chapter]` keys that name no chapter file or folder, which
/// mdBook refuses.
fn search_chapter_keys(config: &BookConfig, sources: &Sources, warnings: &mut Diagnostics) {
    for (key, span) in &config.html.search_chapters {
        let wanted = preprocess::normalize(Path::new(key));
        if sources
            .files
            .iter()
            .any(|s| Path::new(&s.rel).starts_with(&wanted))
        {
            continue;
        }
        let mut d = Diagnostic::warning(format!(
            "search settings for `{key}`, which is no chapter file or folder of the book"
        ))
        .help(format!(
            "a key of [output.html.search.chapter] is a chapter's file or folder in {}; mdBook refuses the book with this one",
            config.src.display()
        ));
        if let Some(span) = span {
            d = d.at(span);
        }
        warnings.push(d);
    }
}
