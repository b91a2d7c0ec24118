//! The static help site: `runbook build` and `runbook serve`, configured by `book.toml`.
//!
//! Chapters come from Markdown in the book's `src` folder, listed by `SUMMARY.md` in mdBook's
//! format and written at mdBook's addresses (`a/b.md` → `a/b.html`, `README.md` →
//! `index.html`); the runbooks get a page each, with older revisions on pages of their own;
//! the checklist builder evaluates the runbooks' conditions in the browser. Every page comes
//! from a template in `templates/site/`. Every internal link and anchor is checked. The site
//! is written aside and swapped into place.

pub mod config;
pub mod html;
pub mod links;
pub mod markdown;
pub mod output;
pub mod preprocess;
pub mod redirects;
pub mod runbooks;
pub mod search;
pub mod serve;
pub mod summary;
pub mod templates;

use base64::Engine as _;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use minijinja::{Value, context};
use rayon::prelude::*;
use serde::Serialize;

use crate::diagnostics::{Diagnostic, Diagnostics, Severity, SourceFile, Span};
use crate::project::{self, Project};

use config::{BookConfig, LinkPolicy};
use links::SiteIndex;
use markdown::{FoundLink, MdOptions};
use preprocess::Expanded;
use templates::Templates;

/// Files every site has, besides the pages.
const TOC_JS: &str = "toc.js";
const ASSETS_DIR: &str = "assets";
const CHECKLIST_DATA: &str = "assets/checklist-data.js";
/// The engine, compiled to WebAssembly by scripts/engine.sh, for the checklist builder.
const ENGINE: &[u8] = include_bytes!("../../crates/runbook-wasm/engine.wasm");
const ENGINE_WASM: &str = "assets/engine.wasm";
/// The engine in a script, for pages opened from disk.
const ENGINE_INLINE: &str = "assets/engine-inline.js";
const CHECKLIST_PAGE: &str = "checklist.html";
const PRINT_PAGE: &str = "print.html";
const NOT_FOUND_PAGE: &str = "404.html";
const INDEX_PAGE: &str = "index.html";
/// Pages rendered and handed on together: bounds what is held in memory at once.
const BATCH: usize = 256;

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

/// A chapter listed in SUMMARY.md, before rendering.
struct ChapterSource {
    name: String,
    number: Option<Vec<u32>>,
    /// Relative to the book's src, with `/` separators.
    rel: String,
    address: String,
    path: PathBuf,
}

/// A chapter after rendering.
struct Chapter {
    source: usize,
    title: String,
    html: String,
    links: Vec<(FoundLink, Option<Span>)>,
}

#[derive(Serialize, Clone)]
struct NavLink {
    title: String,
    url: String,
}

#[derive(Serialize, Clone)]
struct TocItem {
    kind: &'static str,
    title: String,
    number: Option<String>,
    url: Option<String>,
    children: Vec<TocItem>,
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

/// The progress bar: hidden until the build has taken a second, and only on a terminal.
struct Progress {
    bar: ProgressBar,
    start: Instant,
    enabled: bool,
    shown: bool,
    /// Each stage and when it started; printed with `RUNBOOK_SITE_TIMING=1`.
    stages: Vec<(&'static str, Instant)>,
}

impl Progress {
    fn new(enabled: bool, len: u64) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {msg:<22} [{bar:30}] {pos}/{len} {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress {
            bar,
            start: Instant::now(),
            enabled,
            shown: false,
            stages: Vec::new(),
        }
    }

    fn stage(&mut self, msg: &'static str) {
        if timing() {
            eprintln!("timing: before {msg:<14} peak {} MB", peak_mb());
        }
        self.stages.push((msg, Instant::now()));
        self.bar.set_message(msg);
        self.tick();
    }

    fn inc(&mut self, n: u64) {
        self.bar.inc(n);
        self.tick();
    }

    fn tick(&mut self) {
        if self.enabled && !self.shown && self.start.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
            self.shown = true;
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
        if timing() {
            eprintln!("timing: at the end peak {} MB", peak_mb());
            let end = Instant::now();
            let mut from = self.start;
            let mut name = "setup";
            for (stage, at) in &self.stages {
                eprintln!("timing: {name:<14} {:>8.3} s", (*at - from).as_secs_f64());
                from = *at;
                name = stage;
            }
            eprintln!("timing: {name:<14} {:>8.3} s", (end - from).as_secs_f64());
        }
    }
}

fn timing() -> bool {
    std::env::var_os("RUNBOOK_SITE_TIMING").is_some_and(|v| v == "1")
}

/// The process's peak resident memory so far, in MB (Linux; 0 elsewhere).
fn peak_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

/// Everything written so far, and what the link check needs of it.
struct Writer {
    /// Declared first, so that it is dropped first: an abandoned build waits for the
    /// indexing threads, which write into the staging folder, before that folder goes.
    search: Option<search::Indexer>,
    staging: output::Staging,
    index: SiteIndex,
    /// Links each page has that its templates wrote (content links are checked on their own,
    /// with their source places): page → (template, hrefs).
    template_links: Vec<(String, &'static str, Vec<String>)>,
    files: usize,
    pages: usize,
    bytes: u64,
}

impl Writer {
    fn file(&mut self, address: &str, contents: &[u8]) -> Result<(), Diagnostic> {
        self.staging.write(address, contents)?;
        self.index.files.insert(address.to_string());
        self.files += 1;
        self.pages += usize::from(address.ends_with(".html"));
        self.bytes += contents.len() as u64;
        Ok(())
    }

    /// A generated page: its anchors are recorded, its template links kept for checking,
    /// and it goes into the search index when `indexed`.
    fn page(
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
    fn add(&mut self, page: WrittenPage) -> Result<(), Diagnostic> {
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
}

/// A generated page once written: what the link check and the search index need of it,
/// worked out where it was rendered (in parallel, for chapters).
struct WrittenPage {
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
    fn write(
        staging: &output::Staging,
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

pub fn build(root: &Path, opts: &BuildOptions) -> Result<BuildReport, Diagnostics> {
    make(root, opts, Mode::Build)
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
    make(root, &opts, Mode::Check(project.map(Box::new)))
}

enum Mode {
    Build,
    /// A check, with the project if it is loaded already.
    Check(Option<Box<Project>>),
}

fn make(root: &Path, opts: &BuildOptions, mode: Mode) -> Result<BuildReport, Diagnostics> {
    let mut warnings = Diagnostics::default();
    let config = BookConfig::load(root, &mut warnings)?;

    let (publish, loaded) = match mode {
        Mode::Build => (true, None),
        Mode::Check(project) => (false, project),
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
    let summary_path = src_dir.join("SUMMARY.md");
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
    let sources = chapter_sources(&summary, &config, &src_dir, has_runbooks, checklist)?;
    let by_rel: HashMap<String, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, c)| (c.rel.clone(), i))
        .collect();
    // Redirects' old addresses, resolved now: a chapter maps its own redirected parts.
    let mut redirect_errors = Diagnostics::default();
    let redirect_entries = redirects::entries(&config.html.redirect, &mut redirect_errors);
    search_chapter_keys(&config, &sources, &mut warnings);

    let mut progress = Progress::new(
        opts.progress,
        (sources.len() + project.as_ref().map_or(0, |p| p.runbooks.len()) + 3) as u64,
    );

    // ---- Render every chapter's Markdown, in parallel; diagnostics in SUMMARY order.
    progress.stage("chapters");
    let md = MdOptions {
        smart_punctuation: config.html.smart_punctuation,
    };
    let results: Vec<(Result<Chapter, Diagnostic>, Diagnostics)> = sources
        .par_iter()
        .enumerate()
        .map(|(i, c)| {
            let mut w = Diagnostics::default();
            let r = render_chapter(root, &sources, &by_rel, i, c, md, &mut w);
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
    let site = ser(&site);

    let rb_pages = match (&project, &vars) {
        (Some(p), Some(v)) => runbooks::pages(p, v),
        _ => Vec::new(),
    };

    // ---- Navigation: the sidebar (one file, toc.js, so pages do not repeat it) and the
    // reading order for previous/next links.
    let toc = toc_items(&summary, &sources, &config, project.as_ref(), checklist);
    let mut order: Vec<NavLink> = Vec::new();
    flatten_order(&toc, &mut order);
    let position: HashMap<String, usize> = order
        .iter()
        .enumerate()
        .map(|(i, l)| (l.url.clone(), i))
        .collect();
    let nav = |address: &str| -> (Option<NavLink>, Option<NavLink>) {
        match position.get(address) {
            Some(&i) => (
                i.checked_sub(1).map(|j| order[j].clone()),
                order.get(i + 1).cloned(),
            ),
            None => (None, order.first().cloned()),
        }
    };

    // The runbooks' and steps' search records, made now so that the index knows how
    // many pages and records it will have.
    let records = match (&project, &vars) {
        (Some(p), Some(v)) if config.html.search && publish => runbooks::search_records(p, v),
        _ => Vec::new(),
    };
    let staging = if publish {
        output::Staging::new(&dest, &root.join(project::CACHE_DIR))?
    } else {
        output::Staging::dry(&dest)
    };
    let mut writer = Writer {
        search: match staging.path() {
            Some(dir) if config.html.search => Some(search::Indexer::start(
                &config.language,
                dir,
                chapters.len() + records.len(),
                config.html.search_shard_size,
            )?),
            _ => None,
        },
        staging,
        index: SiteIndex::default(),
        template_links: Vec::new(),
        files: 0,
        pages: 0,
        bytes: 0,
    };

    let toc_html = templates.render(
        "toc.html.j2",
        context! { site => site.clone(), items => ser(&toc) },
    )?;
    // The sidebar's links are root-relative: check them as if on the index page.
    writer.template_links.push((
        INDEX_PAGE.to_string(),
        "toc.html.j2",
        links::page_links(&toc_html),
    ));
    let toc_js = templates.render("toc.js.j2", context! { toc => toc_html })?;
    writer.file(TOC_JS, toc_js.as_bytes())?;
    for (name, contents) in &templates.assets {
        if name == "checklist.js" && !checklist {
            continue;
        }
        writer.file(&format!("{ASSETS_DIR}/{name}"), contents)?;
    }

    let page_ctx = |address: &str, title: &str| {
        let (prev, next) = nav(address);
        context! {
            site => site.clone(),
            root => links::root_of(address),
            path => address,
            title => title,
            prev => ser(&prev),
            next => ser(&next),
        }
    };

    // ---- Chapter pages, in batches: rendered and written in parallel, indexed in order.
    progress.stage("pages");
    let edit_template = config.html.edit_url_template.clone();
    let index_chapter = chapters
        .iter()
        .position(|c| sources[c.source].address == INDEX_PAGE);
    let indexed = writer.search.is_some();
    for batch in chapters.chunks(BATCH) {
        let staging = &writer.staging;
        let rendered: Vec<Result<Option<WrittenPage>, Diagnostic>> = batch
            .par_iter()
            .map(|c| {
                let src = &sources[c.source];
                if src.address == INDEX_PAGE {
                    return Ok(None);
                }
                let edit_url = edit_template
                    .as_ref()
                    .map(|t| t.replace("{path}", &src.rel));
                let ctx = context! {
                    ..page_ctx(&src.address, &c.title),
                    ..context! {
                        content => c.html.as_str(),
                        edit_url => edit_url,
                        number => src.number.as_ref().map(|n| section_label(n)),
                        search_filters => ser(&chapter_filters),
                        source => src.rel.as_str(),
                        fragment_map => ser(&redirects::fragment_map(&redirect_entries, &src.address)),
                    }
                };
                let html = templates.render("chapter.html.j2", ctx)?;
                let content: Vec<String> = c.links.iter().map(|(l, _)| l.href.clone()).collect();
                WrittenPage::write(
                    staging,
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
                writer.add(page)?;
            }
            progress.inc(1);
        }
    }

    // ---- Runbook pages.
    for page in &rb_pages {
        let title = if page.revision.current {
            page.runbook.title.clone()
        } else {
            format!("{} ({})", page.runbook.title, page.revision.label)
        };
        let ctx = context! {
            ..page_ctx(&page.address, &title),
            ..context! {
                runbook => ser(&page.runbook),
                revision => ser(&page.revision),
            }
        };
        let html = templates.render("runbook.html.j2", ctx)?;
        let content: Vec<String> = page
            .revision
            .sections
            .iter()
            .flat_map(|s| {
                s.steps
                    .iter()
                    .map(|st| st.body.as_str())
                    .chain(s.intro.as_deref())
            })
            .flat_map(links::page_links)
            .collect();
        writer.page(&page.address, html, "runbook.html.j2", &content, None)?;
        if page.revision.current {
            progress.inc(1);
        }
    }
    if let (Some(p), Some(v)) = (&project, &vars) {
        if let Some(s) = &mut writer.search {
            for record in records {
                s.add_record(record)?;
            }
        }
        if checklist {
            let data = runbooks::checklist_data(p, v);
            let js = format!(
                "window.RBK_CHECKLIST = {};\n",
                serde_json::to_string(&data).unwrap_or_else(|_| "null".into())
            );
            writer.file(CHECKLIST_DATA, js.as_bytes())?;
            writer.file(ENGINE_WASM, ENGINE)?;
            // Pages opened from disk cannot fetch a file: the engine again, as a script.
            let inline = format!(
                "window.RBK_ENGINE = \"{}\";\n",
                base64::engine::general_purpose::STANDARD.encode(ENGINE)
            );
            writer.file(ENGINE_INLINE, inline.as_bytes())?;
            let ctx = context! {
                ..page_ctx(CHECKLIST_PAGE, "Checklist builder"),
                ..context! {
                    data_url => CHECKLIST_DATA,
                    facts => ser(&data.facts),
                    versions => ser(&data.versions),
                }
            };
            let html = templates.render("checklist.html.j2", ctx)?;
            writer.page(CHECKLIST_PAGE, html, "checklist.html.j2", &[], None)?;
        }
    }

    // ---- The index page: the runbook catalogue, and the chapter at `index.html` (a
    // README.md) or, in a book without runbooks, a copy of the first chapter as mdBook does.
    let catalogue: Vec<runbooks::RunbookView> = project
        .as_ref()
        .map(|p| {
            p.runbooks
                .iter()
                .map(|rb| runbooks::runbook_view(p, rb))
                .collect()
        })
        .unwrap_or_default();
    let intro = match index_chapter {
        Some(i) => Some(&chapters[i]),
        None if !has_runbooks => chapters.first(),
        None => None,
    };
    let (intro_html, intro_title, intro_links) = match intro {
        Some(c) => {
            let src = &sources[c.source];
            let html = if src.address == INDEX_PAGE {
                c.html.clone()
            } else {
                links::rebase(&c.html, &src.address, None, &HashMap::new())
            };
            let content = links::page_links(&html);
            (Some(html), Some(c.title.clone()), content)
        }
        None => (None, None, Vec::new()),
    };
    let ctx = context! {
        ..page_ctx(INDEX_PAGE, intro_title.as_deref().unwrap_or(&book_title)),
        ..context! {
            content => intro_html.as_deref(),
            indexed => index_chapter.is_some(),
            runbooks => ser(&catalogue),
            chapters => ser(&toc),
            search_filters => ser(&chapter_filters),
        }
    };
    let html = templates.render("index.html.j2", ctx)?;
    writer.page(
        INDEX_PAGE,
        html,
        "index.html.j2",
        &intro_links,
        index_chapter.map(|_| intro_html.as_deref().unwrap_or_default()),
    )?;

    // ---- 404: src/404.md if there is one (mdBook's `input-404`), at the root.
    let nf_path = src_dir.join(&config.html.input_404);
    let mut nf_links: Vec<(FoundLink, Option<Span>)> = Vec::new();
    let nf_content = if nf_path.is_file() {
        let file = project::read(root, &nf_path)?;
        let expanded = preprocess::expand(&file, root, &mut warnings);
        let rewrite = |d: &str| rewrite_link(d, "", NOT_FOUND_PAGE, &sources, &by_rel);
        let r = markdown::render(&expanded.text, md, &rewrite);
        nf_links = r
            .links
            .into_iter()
            .map(|l| {
                let span = expanded.span(l.range.clone());
                (l, span)
            })
            .collect();
        Some(r.html)
    } else {
        None
    };
    let nf_root = config
        .html
        .site_url
        .clone()
        .map(|u| if u.ends_with('/') { u } else { format!("{u}/") })
        .unwrap_or_else(|| "/".to_string());
    let ctx = context! {
        ..context! { root => nf_root },
        ..page_ctx(NOT_FOUND_PAGE, "Page not found"),
        ..context! { content => nf_content }
    };
    let html = templates.render("404.html.j2", ctx)?;
    // Its links are relative to the site's root URL: checked as content below.
    writer.staging.write(NOT_FOUND_PAGE, html.as_bytes())?;
    writer.index.files.insert(NOT_FOUND_PAGE.to_string());
    writer.files += 1;
    writer.pages += 1;
    writer.bytes += html.len() as u64;

    // ---- The print page: every chapter, then every runbook at its current revision.
    if config.html.print {
        progress.stage("print page");
        let in_page: HashMap<String, usize> = chapters
            .iter()
            .enumerate()
            .map(|(n, c)| (sources[c.source].address.clone(), n))
            .collect();
        #[derive(Serialize)]
        struct PrintChapter<'a> {
            id: String,
            title: &'a str,
            number: Option<String>,
            html: String,
        }
        // The template gets a marker in place of each chapter's HTML, and the page is
        // written with the chapters put in as it goes: the book is never in memory twice.
        let marker = PrintMarker::new();
        let printed: Vec<PrintChapter> = chapters
            .iter()
            .enumerate()
            .map(|(n, c)| PrintChapter {
                id: format!("c{n}"),
                title: &c.title,
                number: sources[c.source].number.as_ref().map(|n| section_label(n)),
                html: marker.of(n),
            })
            .collect();
        let printed_runbooks: Vec<&runbooks::RunbookPage> =
            rb_pages.iter().filter(|p| p.revision.current).collect();
        let ctx = context! {
            ..page_ctx(PRINT_PAGE, &book_title),
            ..context! {
                chapters => ser(&printed),
                runbooks => ser(&printed_runbooks),
            }
        };
        let frame = templates.render("print.html.j2", ctx)?;
        drop(printed);
        let chapter_html = |n: usize| {
            let c = &chapters[n];
            links::rebase(&c.html, &sources[c.source].address, Some(n), &in_page)
        };
        let bytes = writer
            .staging
            .write_with(PRINT_PAGE, |out| marker.fill(&frame, chapter_html, out))?;
        // Derived from pages checked on their own: recorded, not checked again.
        writer.index.files.insert(PRINT_PAGE.to_string());
        writer.files += 1;
        writer.pages += 1;
        writer.bytes += bytes;
    }

    // ---- Redirects (`[output.html.redirect]`), as mdBook writes them.
    errors.extend(redirect_errors);
    let chapter_addresses: HashSet<&str> = sources.iter().map(|s| s.address.as_str()).collect();
    let redirect_plan = redirects::plan(
        &redirect_entries,
        |a| chapter_addresses.contains(a),
        |a| writer.index.files.contains(a),
        &mut errors,
        &mut warnings,
    );
    for page in &redirect_plan.pages {
        let ctx = context! {
            ..page_ctx(&page.address, "Redirecting"),
            ..context! {
                target => page.to.as_str(),
                fragment_map => ser(&page.fragments),
            }
        };
        let html = templates.render("redirect.html.j2", ctx)?;
        writer.file(&page.address, html.as_bytes())?;
    }

    // ---- Files beside the chapters (images and the like), and additional CSS and JS.
    copy_static(root, &src_dir, &dest, &mut writer)?;
    for (key, list) in [
        ("additional-css", &config.html.additional_css),
        ("additional-js", &config.html.additional_js),
    ] {
        for rel in list {
            let path = root.join(rel);
            match std::fs::read(&path) {
                Ok(bytes) => writer.file(&rel.replace('\\', "/"), &bytes)?,
                Err(e) => {
                    let mut d = Diagnostic::error(format!("cannot read `{rel}` ({key}): {e}"));
                    d = match config.key_span("output.html", key) {
                        Some(span) => d.at(&span),
                        None => d.path(&path),
                    };
                    errors.push(d);
                }
            }
        }
    }

    // ---- Every internal link and anchor.
    progress.stage("links");
    let index = &writer.index;
    let mut reported: HashSet<(String, String)> = HashSet::new();
    // A chapter's broken links are errors, or warnings with `broken-links = "warn"`.
    let policy = config.html.broken_links;
    let mut chapter_link = |d: Diagnostic| match policy {
        LinkPolicy::Error => errors.push(d),
        LinkPolicy::Warn => warnings.push(Diagnostic {
            severity: Severity::Warning,
            ..d
        }),
    };
    for c in &chapters {
        let src = &sources[c.source];
        for (link, span) in &c.links {
            if let Err(why) = index.check(&src.address, &link.href) {
                reported.insert((src.address.clone(), link.href.clone()));
                chapter_link(link_error(&why, &link.written, span.as_ref(), &src.path));
            }
        }
    }
    for (link, span) in &nf_links {
        if let Err(why) = index.check(NOT_FOUND_PAGE, &link.href) {
            chapter_link(link_error(&why, &link.written, span.as_ref(), &nf_path));
        }
    }
    if let Some(p) = &project {
        for page in rb_pages.iter() {
            let rb = &p.runbooks[page.source.0];
            let rev = &rb.revisions[page.source.1];
            for (section, step) in rev.steps() {
                for (href, range) in body_links(&step.body) {
                    if let Err(why) = index.check(&page.address, &href) {
                        let span = match &step.body_span {
                            Some(b) => {
                                let start = b.range.start + range.start;
                                Span::new(&b.file, start..start + range.len())
                            }
                            None => step.span.clone(),
                        };
                        reported.insert((page.address.clone(), href.clone()));
                        errors.push(link_error(&why, &href, Some(&span), &rb.file.path));
                    }
                }
                let _ = section;
            }
        }
    }
    for c in &redirect_plan.checks {
        if let Err(why) = index.check(&c.address, &c.to) {
            let mut d =
                Diagnostic::error(format!("redirect to a page the site does not have: {why}"));
            if let Some(s) = &c.span {
                d = d.at(s);
            }
            errors.push(d);
        }
    }
    for (address, template, hrefs) in &writer.template_links {
        for href in hrefs {
            if reported.contains(&(address.clone(), href.clone())) {
                continue;
            }
            if let Err(why) = index.check(address, href) {
                reported.insert((address.clone(), href.clone()));
                errors.push(Diagnostic::error(format!(
                    "broken link on {address}, written by template {template}: {why}"
                )));
            }
        }
    }
    if errors.has_errors() {
        progress.finish();
        return Err(errors.sorted());
    }

    // ---- The search index, built once everything else is let go of.
    let chapter_count = chapters.len();
    let runbook_count = project.as_ref().map_or(0, |p| p.runbooks.len());
    drop(chapters);
    drop(rb_pages);
    drop(project);
    if let Some(s) = writer.search.take() {
        progress.stage("search index");
        // Written by the indexing threads: counted here.
        for (address, size) in s.finish()? {
            writer.index.files.insert(address);
            writer.files += 1;
            writer.bytes += size;
        }
    }
    progress.inc(1);

    let pages = writer.pages;
    let files = writer.files;
    let bytes = writer.bytes;
    writer.staging.commit()?;
    progress.finish();
    let mut watch = watch_list(root);
    watch.extend(templates.files.iter().cloned());
    Ok(BuildReport {
        dest,
        warnings: warnings.sorted(),
        chapters: chapter_count,
        runbooks: runbook_count,
        pages,
        files,
        bytes,
        watch,
    })
}

/// Stands for a chapter's HTML in the print page's template output, so that the page can be
/// written chapter by chapter. Its random part keeps any page content from passing for one.
struct PrintMarker {
    prefix: String,
}

impl PrintMarker {
    fn new() -> PrintMarker {
        use std::hash::BuildHasher;
        let nonce = std::collections::hash_map::RandomState::new().hash_one(0u8);
        PrintMarker {
            prefix: format!("<!--rbk-print-{nonce:016x}-"),
        }
    }

    fn of(&self, n: usize) -> String {
        format!("{}{n}-->", self.prefix)
    }

    /// Writes `frame` with each marker replaced by `html(n)`, made in parallel a few at a
    /// time, in whatever order (and however often) the template put them. Returns the bytes
    /// written.
    fn fill(
        &self,
        frame: &str,
        html: impl Fn(usize) -> String + Sync,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<u64> {
        // (start, end, chapter) of each marker, in order.
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(i) = frame[from..].find(&self.prefix) {
            let start = from + i;
            let digits = start + self.prefix.len();
            let len = frame[digits..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            let n = frame[digits..digits + len].parse::<usize>().ok();
            match n {
                Some(n) if frame[digits + len..].starts_with("-->") => {
                    found.push((start, digits + len + 3, n));
                    from = digits + len + 3;
                }
                _ => from = digits,
            }
        }
        let mut written = 0u64;
        let mut at = 0;
        for group in found.chunks(32) {
            let parts: Vec<String> = group.par_iter().map(|&(_, _, n)| html(n)).collect();
            for (&(start, end, _), part) in group.iter().zip(parts) {
                out.write_all(&frame.as_bytes()[at..start])?;
                out.write_all(part.as_bytes())?;
                written += (start - at + part.len()) as u64;
                at = end;
            }
        }
        out.write_all(&frame.as_bytes()[at..])?;
        written += (frame.len() - at) as u64;
        Ok(written)
    }
}

fn link_error(why: &str, written: &str, span: Option<&Span>, path: &Path) -> Diagnostic {
    let d = Diagnostic::error(format!("broken link {why}"));
    let d = match span {
        Some(s) => d.at(s).label("this link"),
        None => d.path(path),
    };
    if written.ends_with(".md") || written.contains(".md#") {
        d.help("a link to a Markdown file must name a chapter listed in SUMMARY.md")
    } else {
        d
    }
}

/// Warns of `[output.html.search.chapter]` keys that name no chapter file or folder, which
/// mdBook refuses.
fn search_chapter_keys(config: &BookConfig, sources: &[ChapterSource], warnings: &mut Diagnostics) {
    for (key, span) in &config.html.search_chapters {
        let wanted = preprocess::normalize(Path::new(key));
        if sources
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

/// `1.2.` for a section number.
fn section_label(n: &[u32]) -> String {
    n.iter().map(|x| format!("{x}.")).collect()
}

/// mdBook's address for a chapter file: `a/b.md` → `a/b.html`, `README.md` → `index.html`.
pub fn address_of(rel: &str) -> String {
    let (dir, file) = match rel.rfind('/') {
        Some(i) => (&rel[..=i], &rel[i + 1..]),
        None => ("", rel),
    };
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    if stem.eq_ignore_ascii_case("readme") {
        format!("{dir}index.html")
    } else {
        format!("{dir}{stem}.html")
    }
}

fn chapter_sources(
    summary: &summary::Summary,
    config: &BookConfig,
    src_dir: &Path,
    has_runbooks: bool,
    checklist: bool,
) -> Result<Vec<ChapterSource>, Diagnostics> {
    let mut errors = Diagnostics::default();
    let mut out: Vec<ChapterSource> = Vec::new();
    let mut addresses: HashMap<String, Span> = HashMap::new();
    for link in summary.chapters() {
        let Some(location) = &link.location else {
            continue;
        };
        let rel = preprocess::normalize(Path::new(location))
            .to_string_lossy()
            .replace('\\', "/");
        if rel.starts_with("..") || Path::new(&rel).is_absolute() {
            errors.push(
                Diagnostic::error(format!(
                    "chapter `{location}` is outside the book's src folder ({})",
                    config.src.display()
                ))
                .at(&link.span),
            );
            continue;
        }
        let path = src_dir.join(&rel);
        if !path.is_file() {
            errors.push(
                Diagnostic::error(format!(
                    "chapter file `{location}` not found in {}",
                    config.src.display()
                ))
                .at(&link.span)
                .help(
                    "create the file, or make the chapter a draft with an empty link: `[Title]()`",
                ),
            );
            continue;
        }
        let address = address_of(&rel);
        let reserved = address == NOT_FOUND_PAGE
            || address == TOC_JS
            || (config.html.print && address == PRINT_PAGE)
            || (checklist && address == CHECKLIST_PAGE)
            || address.starts_with(&format!("{ASSETS_DIR}/"))
            || address.starts_with(&format!("{}/", search::DIR))
            || (has_runbooks && address.starts_with(&format!("{}/", runbooks::DIR)));
        if reserved {
            errors.push(
                Diagnostic::error(format!(
                    "chapter `{location}` would be written at `{address}`, which the site uses for its own pages"
                ))
                .at(&link.span)
                .help("rename the chapter file"),
            );
            continue;
        }
        if let Some(first) = addresses.get(&address) {
            errors.push(
                Diagnostic::error(format!(
                    "chapter `{location}` would be written at `{address}`, like the chapter at {}",
                    first.location()
                ))
                .at(&link.span),
            );
            continue;
        }
        addresses.insert(address.clone(), link.span.clone());
        out.push(ChapterSource {
            name: link.name.clone(),
            number: link.number.clone(),
            rel,
            address,
            path,
        });
    }
    if errors.has_errors() {
        return Err(errors);
    }
    Ok(out)
}

/// Where a chapter link should point: a chapter's address (relative to this page) for a
/// link to its Markdown file, mdBook's `.md` → `.html` for any other Markdown file, else the
/// link as written.
fn rewrite_link(
    written: &str,
    chapter_dir: &str,
    page: &str,
    sources: &[ChapterSource],
    by_rel: &HashMap<String, usize>,
) -> Option<String> {
    let split = written.find(['#', '?']).unwrap_or(written.len());
    let (path, rest) = written.split_at(split);
    if path.is_empty() || path.starts_with('/') {
        return None;
    }
    let decoded = links::percent_decode(path);
    // A link above the book's root (a neighbour of the site where it is published) is not
    // a chapter: written as mdBook writes it, `.md` made `.html`.
    if let links::Resolved::Inside(resolved) = links::resolve(chapter_dir, &decoded)
        && let Some(&i) = by_rel.get(&resolved)
    {
        let target = &sources[i].address;
        let rel = links::relative(page, target);
        return Some(format!("{}{rest}", rel.replace(' ', "%20")));
    }
    path.strip_suffix(".md")
        .map(|stem| format!("{stem}.html{rest}"))
}

fn render_chapter(
    root: &Path,
    sources: &[ChapterSource],
    by_rel: &HashMap<String, usize>,
    index: usize,
    c: &ChapterSource,
    md: MdOptions,
    warnings: &mut Diagnostics,
) -> Result<Chapter, Diagnostic> {
    let file: Arc<SourceFile> = project::read_inside(root, &c.path)?;
    let expanded: Expanded = preprocess::expand(&file, root, warnings);
    let dir = links::dir_of(&c.rel);
    let rewrite = |d: &str| rewrite_link(d, dir, &c.address, sources, by_rel);
    let rendered = markdown::render(&expanded.text, md, &rewrite);
    let links = rendered
        .links
        .into_iter()
        .map(|l| {
            let span = expanded.span(l.range.clone());
            (l, span)
        })
        .collect();
    Ok(Chapter {
        source: index,
        title: expanded.title.clone().unwrap_or_else(|| c.name.clone()),
        html: rendered.html,
        links,
    })
}

/// Links in a step body, with their byte ranges in it.
fn body_links(body: &str) -> Vec<(String, std::ops::Range<usize>)> {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let mut out = Vec::new();
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for (ev, range) in Parser::new_ext(body, opts).into_offset_iter() {
        match ev {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. })
                if !dest_url.contains("{{") =>
            {
                out.push((dest_url.to_string(), range));
            }
            Event::Html(h) | Event::InlineHtml(h) => {
                for (v, at) in html::attribute_values(&h, &["href", "src"]) {
                    out.push((
                        markdown::unescape(v),
                        range.start + at..range.start + at + v.len(),
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

fn toc_items(
    summary: &summary::Summary,
    sources: &[ChapterSource],
    config: &BookConfig,
    project: Option<&Project>,
    checklist: bool,
) -> Vec<TocItem> {
    let address: HashMap<&str, &str> = sources
        .iter()
        .map(|s| (s.name.as_str(), s.address.as_str()))
        .collect();
    let _ = address;
    let by_loc: HashMap<String, &ChapterSource> =
        sources.iter().map(|s| (s.rel.clone(), s)).collect();
    fn walk(
        items: &[summary::Item],
        by_loc: &HashMap<String, &ChapterSource>,
        labels: bool,
    ) -> Vec<TocItem> {
        items
            .iter()
            .map(|item| match item {
                summary::Item::Chapter(link) => {
                    let url = link.location.as_ref().and_then(|l| {
                        let rel = preprocess::normalize(Path::new(l))
                            .to_string_lossy()
                            .replace('\\', "/");
                        by_loc.get(&rel).map(|s| s.address.clone())
                    });
                    TocItem {
                        kind: if url.is_some() { "chapter" } else { "draft" },
                        title: link.name.clone(),
                        number: link
                            .number
                            .as_ref()
                            .filter(|_| labels)
                            .map(|n| section_label(n)),
                        url,
                        children: walk(&link.nested, by_loc, labels),
                    }
                }
                summary::Item::Separator => TocItem {
                    kind: "separator",
                    title: String::new(),
                    number: None,
                    url: None,
                    children: Vec::new(),
                },
                summary::Item::PartTitle(t) => TocItem {
                    kind: "part",
                    title: t.clone(),
                    number: None,
                    url: None,
                    children: Vec::new(),
                },
            })
            .collect()
    }
    let labels = !config.html.no_section_label;
    let mut out = walk(&summary.prefix, &by_loc, labels);
    out.extend(walk(&summary.numbered, &by_loc, labels));
    out.extend(walk(&summary.suffix, &by_loc, labels));
    if let Some(p) = project {
        out.push(TocItem {
            kind: "part",
            title: config.runbooks.title.clone(),
            number: None,
            url: None,
            children: Vec::new(),
        });
        for rb in &p.runbooks {
            out.push(TocItem {
                kind: "runbook",
                title: rb.title.clone(),
                number: None,
                url: Some(runbooks::runbook_url(&rb.id)),
                children: Vec::new(),
            });
        }
        if checklist {
            out.push(TocItem {
                kind: "checklist",
                title: "Checklist builder".into(),
                number: None,
                url: Some(CHECKLIST_PAGE.into()),
                children: Vec::new(),
            });
        }
    }
    out
}

fn flatten_order(items: &[TocItem], out: &mut Vec<NavLink>) {
    for item in items {
        if let Some(url) = &item.url
            && !out.iter().any(|l| &l.url == url)
        {
            out.push(NavLink {
                title: item.title.clone(),
                url: url.clone(),
            });
        }
        flatten_order(&item.children, out);
    }
}

fn copy_static(
    root: &Path,
    src_dir: &Path,
    dest: &Path,
    writer: &mut Writer,
) -> Result<(), Diagnostic> {
    if !src_dir.is_dir() {
        return Ok(());
    }
    let dest_canon = std::fs::canonicalize(dest).ok();
    let staging = writer.staging.path().map(Path::to_path_buf);
    let mut entries: Vec<PathBuf> = Vec::new();
    let walker = walkdir::WalkDir::new(src_dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let p = e.path();
            let hidden = e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.');
            let is_dest = dest_canon
                .as_ref()
                .is_some_and(|d| std::fs::canonicalize(p).ok().as_ref() == Some(d));
            !hidden && !is_dest && staging.as_ref().is_none_or(|s| !p.starts_with(s))
        });
    for entry in walker {
        let entry = entry.map_err(|e| {
            Diagnostic::error(format!("cannot read {}: {e}", src_dir.display())).path(src_dir)
        })?;
        if entry.file_type().is_file() && entry.path().extension().is_none_or(|e| e != "md") {
            entries.push(entry.path().to_path_buf());
        }
    }
    for path in entries {
        let rel = path
            .strip_prefix(src_dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        if writer.index.files.contains(&rel) {
            continue; // a generated page wins
        }
        let bytes = std::fs::read(&path).map_err(|e| {
            Diagnostic::error(format!("cannot read {}: {e}", path.display())).path(&path)
        })?;
        writer.file(&rel, &bytes)?;
    }
    let _ = root;
    Ok(())
}

/// A serializable value for a template context.
fn ser<T: Serialize>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn print_markers_are_filled_in_any_order_and_only_when_whole() {
        let m = PrintMarker::new();
        let frame = format!(
            "<a>{}</a><b>{}{}</b>{}9<!--rbk-print-x-1-->{}",
            m.of(1),
            m.of(0),
            m.of(1),
            m.prefix,
            m.of(2)
        );
        let mut out = Vec::new();
        let n = m
            .fill(&frame, |n| format!("[{n}]"), &mut out)
            .expect("written");
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out,
            format!(
                "<a>[1]</a><b>[0][1]</b>{}9<!--rbk-print-x-1-->[2]",
                m.prefix
            )
        );
        assert_eq!(n, out.len() as u64);
    }
}
