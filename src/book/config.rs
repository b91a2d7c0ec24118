//! `book.toml`: the help site's configuration, compatible with mdBook where the keys overlap.
//!
//! Keys this tool does not know are warnings, not errors, since real mdBook books carry keys
//! for their own plugins and renderers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span, did_you_mean};
use crate::project;
use crate::toml_file;

pub const BOOK_FILE: &str = "book.toml";

/// The most pages and records in one shard of the site's search index, unless book.toml says
/// otherwise: bounds the memory building one takes; a search fetches a little of every shard.
pub const DEFAULT_SHARD_SIZE: usize = 300;

/// The whole configuration, with defaults filled in.
#[derive(Debug, Clone)]
pub struct BookConfig {
    /// The folder holding `book.toml` (the project root).
    pub root: PathBuf,
    /// The file it was read from, for diagnostics; `None` when there is no `book.toml`.
    pub file: Option<Arc<SourceFile>>,
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub description: Option<String>,
    pub language: String,
    /// The chapters' folder, relative to `root`.
    pub src: PathBuf,
    /// Where the site is written, relative to `root` unless absolute.
    pub build_dir: PathBuf,
    pub extra_watch_dirs: Vec<PathBuf>,
    pub html: HtmlConfig,
    pub runbooks: RunbooksConfig,
}

#[derive(Debug, Clone)]
pub struct HtmlConfig {
    pub additional_css: Vec<String>,
    pub additional_js: Vec<String>,
    pub site_url: Option<String>,
    pub git_repository_url: Option<String>,
    pub edit_url_template: Option<String>,
    /// `[output.html.redirect]`, in the order written.
    pub redirect: Vec<Redirect>,
    /// What a broken internal link in a chapter is (`broken-links`, runbook's own key).
    pub broken_links: LinkPolicy,
    /// `theme`, mdBook's theme folder, with its place: not used here, but checked.
    pub theme: Option<(String, Option<Span>)>,
    /// The keys of `[output.html.search.chapter]` (chapter files or folders in `src`), with
    /// their places.
    pub search_chapters: Vec<(String, Option<Span>)>,
    pub smart_punctuation: bool,
    pub no_section_label: bool,
    pub print: bool,
    pub search: bool,
    pub search_limit: usize,
    /// Pages and records per search index (`[output.html.search] shard-size`, runbook's own).
    pub search_shard_size: usize,
    pub input_404: String,
}

/// One `[output.html.redirect]` entry: `"from" = "to"`.
#[derive(Debug, Clone)]
pub struct Redirect {
    /// The old address, as written (`/old.html`, `./old.html`, `/page.html#part`).
    pub from: String,
    /// Where it leads, as written: relative to the old address, or a URL.
    pub to: String,
    pub from_span: Option<Span>,
    pub to_span: Option<Span>,
}

/// What a broken internal link in a chapter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkPolicy {
    /// The build fails (the default).
    #[default]
    Error,
    /// The build reports it and goes on: for adopting a book whose links are not all right.
    Warn,
}

#[derive(Debug, Clone)]
pub struct RunbooksConfig {
    /// `None`: publish the runbooks when the project has a `runbooks/` folder.
    pub enable: Option<bool>,
    /// The sidebar part title and catalogue heading.
    pub title: String,
    /// The checklist builder page.
    pub checklist: bool,
}

impl Default for BookConfig {
    fn default() -> Self {
        BookConfig {
            root: PathBuf::new(),
            file: None,
            title: None,
            authors: Vec::new(),
            description: None,
            language: "en".into(),
            src: PathBuf::from("src"),
            build_dir: PathBuf::from("book"),
            extra_watch_dirs: Vec::new(),
            html: HtmlConfig {
                additional_css: Vec::new(),
                additional_js: Vec::new(),
                site_url: None,
                git_repository_url: None,
                edit_url_template: None,
                redirect: Vec::new(),
                broken_links: LinkPolicy::Error,
                theme: None,
                search_chapters: Vec::new(),
                smart_punctuation: true,
                no_section_label: false,
                print: true,
                search: true,
                search_limit: 30,
                search_shard_size: DEFAULT_SHARD_SIZE,
                input_404: "404.md".into(),
            },
            runbooks: RunbooksConfig {
                enable: None,
                title: "Runbooks".into(),
                checklist: true,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------
// The shape as written. Every key is optional; unknown keys are found separately, so that
// they warn instead of failing.

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Raw {
    #[serde(default)]
    book: RawBook,
    #[serde(default)]
    build: RawBuild,
    #[serde(default)]
    output: RawOutput,
    #[serde(default)]
    runbooks: RawRunbooks,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct RawBook {
    title: Option<String>,
    authors: Option<Vec<String>>,
    description: Option<String>,
    language: Option<String>,
    src: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct RawBuild {
    build_dir: Option<String>,
    extra_watch_dirs: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
struct RawOutput {
    html: Option<RawHtml>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct RawHtml {
    additional_css: Option<Vec<String>>,
    additional_js: Option<Vec<String>>,
    site_url: Option<String>,
    git_repository_url: Option<String>,
    edit_url_template: Option<String>,
    redirect: Option<IndexMap<String, Spanned<String>>>,
    broken_links: Option<LinkPolicy>,
    theme: Option<Spanned<String>>,
    smart_punctuation: Option<bool>,
    curly_quotes: Option<bool>,
    no_section_label: Option<bool>,
    input_404: Option<String>,
    print: Option<RawPrint>,
    search: Option<RawSearch>,
}

#[derive(Deserialize, Default)]
struct RawPrint {
    enable: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct RawSearch {
    enable: Option<bool>,
    limit_results: Option<u32>,
    shard_size: Option<u32>,
}

#[derive(Deserialize, Default)]
struct RawRunbooks {
    enable: Option<bool>,
    title: Option<String>,
    checklist: Option<bool>,
}

/// Known keys, as a tree: a table's known keys, or `Any` for a table whose contents belong to
/// someone else (mdBook's own options we accept and do not use).
enum Schema {
    Leaf,
    Any,
    Table(&'static [(&'static str, Schema)]),
}

const BOOK_KEYS: &[(&str, Schema)] = &[
    ("title", Schema::Leaf),
    ("authors", Schema::Leaf),
    ("description", Schema::Leaf),
    ("language", Schema::Leaf),
    ("src", Schema::Leaf),
    ("multilingual", Schema::Leaf),
    ("text-direction", Schema::Leaf),
];

const BUILD_KEYS: &[(&str, Schema)] = &[
    ("build-dir", Schema::Leaf),
    ("create-missing", Schema::Leaf),
    ("use-default-preprocessors", Schema::Leaf),
    ("extra-watch-dirs", Schema::Leaf),
];

const SEARCH_KEYS: &[(&str, Schema)] = &[
    ("enable", Schema::Leaf),
    ("limit-results", Schema::Leaf),
    // mdBook's elasticlunr tuning: accepted, not used by the pagefind index.
    ("teaser-word-count", Schema::Leaf),
    ("use-boolean-and", Schema::Leaf),
    ("boost-title", Schema::Leaf),
    ("boost-hierarchy", Schema::Leaf),
    ("boost-paragraph", Schema::Leaf),
    ("expand", Schema::Leaf),
    ("heading-split-level", Schema::Leaf),
    ("copy-js", Schema::Leaf),
    ("shard-size", Schema::Leaf),
    ("chapter", Schema::Any),
];

const HTML_KEYS: &[(&str, Schema)] = &[
    ("additional-css", Schema::Leaf),
    ("additional-js", Schema::Leaf),
    ("site-url", Schema::Leaf),
    ("git-repository-url", Schema::Leaf),
    ("edit-url-template", Schema::Leaf),
    ("redirect", Schema::Any),
    // runbook's own: `"warn"` makes broken links in chapters warnings.
    ("broken-links", Schema::Leaf),
    ("smart-punctuation", Schema::Leaf),
    ("curly-quotes", Schema::Leaf),
    ("no-section-label", Schema::Leaf),
    ("input-404", Schema::Leaf),
    (
        "print",
        Schema::Table(&[("enable", Schema::Leaf), ("page-break", Schema::Leaf)]),
    ),
    ("search", Schema::Table(SEARCH_KEYS)),
    // mdBook's theme and rendering options: accepted, without effect here.
    ("theme", Schema::Leaf),
    ("default-theme", Schema::Leaf),
    ("preferred-dark-theme", Schema::Leaf),
    ("mathjax-support", Schema::Leaf),
    ("copy-fonts", Schema::Leaf),
    ("git-repository-icon", Schema::Leaf),
    ("cname", Schema::Leaf),
    ("live-reload-endpoint", Schema::Leaf),
    ("hash-files", Schema::Leaf),
    ("sidebar-header-nav", Schema::Leaf),
    ("definition-lists", Schema::Leaf),
    ("admonitions", Schema::Leaf),
    ("fold", Schema::Any),
    ("playground", Schema::Any),
    // mdBook's old name for `playground`, still read by mdBook.
    ("playpen", Schema::Any),
    ("code", Schema::Any),
];

const RUNBOOKS_KEYS: &[(&str, Schema)] = &[
    ("enable", Schema::Leaf),
    ("title", Schema::Leaf),
    ("checklist", Schema::Leaf),
];

/// Preprocessors mdBook runs by default; their effect is built in here.
const BUILT_IN_PREPROCESSORS: [&str; 2] = ["links", "index"];

impl BookConfig {
    /// Reads `book.toml` in `root`, or the defaults when there is none. Warnings (unknown
    /// keys) go to `warnings`; errors fail.
    pub fn load(root: &Path, warnings: &mut Diagnostics) -> Result<BookConfig, Diagnostics> {
        let mut config = BookConfig {
            root: root.to_path_buf(),
            ..BookConfig::default()
        };
        let path = root.join(BOOK_FILE);
        if !path.is_file() {
            return Ok(config);
        }
        let file = project::read(root, &path)?;
        let raw: Raw = toml_file::parse(&file)?;
        // (A syntax error was reported by the typed parse.)
        let parsed = DeTable::parse(&file.text).ok();
        if let Some(table) = &parsed {
            unknown_keys(&file, table.get_ref(), warnings);
        }
        // The places of the keys of a table whose keys are data (redirects, chapters).
        let key_places = |path: &[&str]| -> Vec<(String, Span)> {
            let Some(table) = &parsed else {
                return Vec::new();
            };
            let mut current = table.get_ref();
            for part in path {
                let found = current.iter().find(|(k, _)| k.get_ref().as_ref() == *part);
                match found.map(|(_, v)| v.get_ref()) {
                    Some(DeValue::Table(t)) => current = t,
                    _ => return Vec::new(),
                }
            }
            current
                .iter()
                .map(|(k, _)| (k.get_ref().to_string(), Span::new(&file, k.span())))
                .collect()
        };
        let b = raw.book;
        config.title = b.title.filter(|t| !t.trim().is_empty());
        config.authors = b.authors.unwrap_or_default();
        config.description = b.description.filter(|t| !t.trim().is_empty());
        if let Some(lang) = b.language.filter(|l| !l.trim().is_empty()) {
            config.language = lang;
        }
        if let Some(src) = b.src {
            config.src = PathBuf::from(src);
        }
        if let Some(dir) = raw.build.build_dir {
            config.build_dir = PathBuf::from(dir);
        }
        config.extra_watch_dirs = raw
            .build
            .extra_watch_dirs
            .unwrap_or_default()
            .into_iter()
            .map(PathBuf::from)
            .collect();
        if let Some(h) = raw.output.html {
            let html = &mut config.html;
            html.additional_css = h.additional_css.unwrap_or_default();
            html.additional_js = h.additional_js.unwrap_or_default();
            html.site_url = h.site_url.filter(|s| !s.is_empty());
            html.git_repository_url = h.git_repository_url.filter(|s| !s.is_empty());
            html.edit_url_template = h.edit_url_template.filter(|s| !s.is_empty());
            let from_places = key_places(&["output", "html", "redirect"]);
            html.redirect = h
                .redirect
                .unwrap_or_default()
                .into_iter()
                .map(|(from, to)| Redirect {
                    from_span: from_places
                        .iter()
                        .find(|(k, _)| *k == from)
                        .map(|(_, s)| s.clone()),
                    to_span: Some(toml_file::span_of(&file, &to)),
                    from,
                    to: to.into_inner(),
                })
                .collect();
            html.broken_links = h.broken_links.unwrap_or_default();
            html.theme = h.theme.map(|t| {
                let span = toml_file::span_of(&file, &t);
                (t.into_inner(), Some(span))
            });
            html.search_chapters = key_places(&["output", "html", "search", "chapter"])
                .into_iter()
                .map(|(k, s)| (k, Some(s)))
                .collect();
            if let Some(v) = h.smart_punctuation.or(h.curly_quotes) {
                html.smart_punctuation = v;
            }
            html.no_section_label = h.no_section_label.unwrap_or(false);
            if let Some(p) = h.input_404.filter(|p| !p.is_empty()) {
                html.input_404 = p;
            }
            html.print = h.print.and_then(|p| p.enable).unwrap_or(true);
            if let Some(s) = h.search {
                html.search = s.enable.unwrap_or(true);
                if let Some(limit) = s.limit_results {
                    html.search_limit = limit.max(1) as usize;
                }
                if let Some(size) = s.shard_size {
                    html.search_shard_size = size.max(1) as usize;
                }
            }
        }
        let r = raw.runbooks;
        config.runbooks.enable = r.enable;
        if let Some(t) = r.title.filter(|t| !t.trim().is_empty()) {
            config.runbooks.title = t;
        }
        config.runbooks.checklist = r.checklist.unwrap_or(true);
        if let Some((theme, span)) = &config.html.theme
            && !root.join(theme).is_dir()
        {
            // mdBook refuses to build then; here the theme is not used, so it only warns.
            let mut d = Diagnostic::warning(format!("theme folder `{theme}` does not exist"))
                .help("mdBook refuses a book whose theme folder is missing; runbook build uses templates/site/ instead of mdBook themes");
            if let Some(span) = span {
                d = d.at(span);
            }
            warnings.push(d);
        }
        config.file = Some(file);
        Ok(config)
    }

    /// The chapters' folder.
    pub fn src_dir(&self) -> PathBuf {
        self.root.join(&self.src)
    }

    /// The list of chapters, in mdBook's format.
    pub fn summary_path(&self) -> PathBuf {
        self.src_dir().join("SUMMARY.md")
    }

    /// Where the site goes, unless `--dest` says otherwise.
    pub fn build_dir(&self) -> PathBuf {
        self.root.join(&self.build_dir)
    }

    /// The place of a key in `book.toml`, for diagnostics about its value.
    pub fn key_span(&self, table: &str, key: &str) -> Option<Span> {
        let file = self.file.as_ref()?;
        let parsed = DeTable::parse(&file.text).ok()?;
        let mut current = parsed.get_ref();
        for part in table.split('.').filter(|p| !p.is_empty()) {
            let (_, v) = current.iter().find(|(k, _)| k.get_ref().as_ref() == part)?;
            current = match v.get_ref() {
                DeValue::Table(t) => t,
                _ => return None,
            };
        }
        let (_, v) = current.iter().find(|(k, _)| k.get_ref().as_ref() == key)?;
        Some(Span::new(file, v.span()))
    }
}

fn unknown_keys(file: &Arc<SourceFile>, doc: &DeTable<'_>, warnings: &mut Diagnostics) {
    for (key, value) in doc.iter() {
        let name = key.get_ref().as_ref();
        let span = Span::new(file, key.span());
        match name {
            "book" => check_table(file, value.get_ref(), BOOK_KEYS, "book", warnings),
            "build" => check_table(file, value.get_ref(), BUILD_KEYS, "build", warnings),
            "runbooks" => check_table(file, value.get_ref(), RUNBOOKS_KEYS, "runbooks", warnings),
            "rust" => {}
            "preprocessor" => {
                if let DeValue::Table(t) = value.get_ref() {
                    for (pre, _) in t.iter() {
                        let pre_name = pre.get_ref().as_ref();
                        if !BUILT_IN_PREPROCESSORS.contains(&pre_name) {
                            warnings.push(
                                Diagnostic::warning(format!(
                                    "preprocessor `{pre_name}` is not run by runbook build"
                                ))
                                .at(&Span::new(file, pre.span()))
                                .help("its directives are left in the text as they are"),
                            );
                        }
                    }
                }
            }
            "output" => {
                if let DeValue::Table(t) = value.get_ref() {
                    for (out, v) in t.iter() {
                        let out_name = out.get_ref().as_ref();
                        if out_name == "html" {
                            check_table(file, v.get_ref(), HTML_KEYS, "output.html", warnings);
                        } else {
                            warnings.push(
                                Diagnostic::warning(format!(
                                    "renderer `{out_name}` is not run by runbook build"
                                ))
                                .at(&Span::new(file, out.span()))
                                .help("runbook build writes the HTML site only"),
                            );
                        }
                    }
                }
            }
            other => {
                let known = [
                    "book",
                    "build",
                    "output",
                    "preprocessor",
                    "rust",
                    "runbooks",
                ];
                warnings.push(unknown(other, "", &known, span));
            }
        }
    }
}

fn check_table(
    file: &Arc<SourceFile>,
    value: &DeValue<'_>,
    schema: &[(&str, Schema)],
    path: &str,
    warnings: &mut Diagnostics,
) {
    let DeValue::Table(table) = value else {
        return; // a type error, reported by the typed parse
    };
    for (key, v) in table.iter() {
        let name = key.get_ref().as_ref();
        match schema.iter().find(|(k, _)| *k == name) {
            Some((_, Schema::Table(inner))) => check_table(
                file,
                v.get_ref(),
                inner,
                &format!("{path}.{name}"),
                warnings,
            ),
            Some(_) => {}
            None => {
                let known: Vec<&str> = schema.iter().map(|(k, _)| *k).collect();
                warnings.push(unknown(name, path, &known, Span::new(file, key.span())));
            }
        }
    }
}

fn unknown(name: &str, table: &str, known: &[&str], span: Span) -> Diagnostic {
    let place = if table.is_empty() {
        String::new()
    } else {
        format!(" in [{table}]")
    };
    let mut d =
        Diagnostic::warning(format!("unknown key `{name}`{place}; it is ignored")).at(&span);
    if let Some(close) = did_you_mean(name, known.iter().copied()) {
        d = d.help(format!("did you mean `{close}`?"));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> (Result<BookConfig, Diagnostics>, Diagnostics) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(BOOK_FILE), text).unwrap();
        let mut warnings = Diagnostics::default();
        let c = BookConfig::load(dir.path(), &mut warnings);
        (c, warnings)
    }

    #[test]
    fn reads_mdbook_keys_and_warns_on_unknown_ones() {
        let (c, w) = load(
            r#"
[book]
title = "T"
src = "guide"
colour = "red"
[build]
build-dir = "out"
[output.html]
additional-css = ["x.css"]
site-url = "/docs/"
[output.html.search]
limit-results = 5
use-boolean-and = true
[output.html.redirect]
"/old.html" = "new.html"
[output.linkcheck]
follow = true
[preprocessor.mermaid]
command = "mdbook-mermaid"
"#,
        );
        let c = c.unwrap();
        assert_eq!(c.title.as_deref(), Some("T"));
        assert_eq!(c.src, PathBuf::from("guide"));
        assert_eq!(c.build_dir, PathBuf::from("out"));
        assert_eq!(c.html.additional_css, vec!["x.css".to_string()]);
        assert_eq!(c.html.search_limit, 5);
        assert_eq!(c.html.redirect[0].from, "/old.html");
        assert_eq!(c.html.redirect[0].to, "new.html");
        let from = c.html.redirect[0].from_span.as_ref().unwrap();
        assert_eq!(from.location(), format!("{BOOK_FILE}:15:1"));
        assert_eq!(c.html.broken_links, LinkPolicy::Error);
        let messages: Vec<String> = w.items.iter().map(|d| d.message.clone()).collect();
        assert_eq!(
            messages,
            vec![
                "unknown key `colour` in [book]; it is ignored",
                "renderer `linkcheck` is not run by runbook build",
                "preprocessor `mermaid` is not run by runbook build",
            ]
        );
        assert!(!w.has_errors());
    }

    #[test]
    fn wrong_types_are_errors_with_a_place() {
        let (c, _) = load("[book]\ntitle = 3\n");
        let err = c.unwrap_err();
        assert!(err.to_string().contains("book.toml:2:"), "{err}");
    }

    #[test]
    fn missing_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let c = BookConfig::load(dir.path(), &mut Diagnostics::default()).unwrap();
        assert_eq!(c.src, PathBuf::from("src"));
        assert_eq!(c.build_dir, PathBuf::from("book"));
    }
}
