//! The 404 page: the book's `404.md` if it has one (mdBook's `input-404`), at the root.

use std::path::{Path, PathBuf};

use minijinja::context;

use crate::book::config::BookConfig;
use crate::book::preprocess;
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::markdown::{self, FoundLink, MdOptions};
use crate::project;

use super::PageWriter;
use super::chapter::Sources;

pub const PAGE: &str = "404.html";

/// The page's content links, for the link check, and the file they are in.
pub struct Written {
    pub links: Vec<(FoundLink, Option<Span>)>,
    pub path: PathBuf,
}

pub fn write(
    cx: &mut PageWriter,
    root: &Path,
    config: &BookConfig,
    sources: &Sources,
    md: MdOptions,
    warnings: &mut Diagnostics,
) -> Result<Written, Diagnostic> {
    let path = config.src_dir().join(&config.html.input_404);
    let mut links: Vec<(FoundLink, Option<Span>)> = Vec::new();
    let content = if path.is_file() {
        let file = project::read(root, &path)?;
        let expanded = preprocess::expand(&file, root, warnings);
        let rewrite = |d: &str| sources.rewrite_link(d, "", PAGE);
        let r = markdown::render(&expanded.text, md, &rewrite);
        links = r
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
    // Its links are relative to the site's root URL wherever it is served.
    let nf_root = config
        .html
        .site_url
        .clone()
        .map(|u| if u.ends_with('/') { u } else { format!("{u}/") })
        .unwrap_or_else(|| "/".to_string());
    let ctx = context! {
        ..context! { root => nf_root },
        ..cx.context(PAGE, "Page not found"),
        ..context! { content => content }
    };
    let html = cx.render("404.html.j2", ctx)?;
    // Its content links are checked as content, by the caller.
    cx.out.staging.write(PAGE, html.as_bytes())?;
    cx.out.written(PAGE, html.len() as u64);
    Ok(Written { links, path })
}
