//! The files beside the pages: the sidebar (`toc.js`), the site's scripts and styles, the
//! files beside the chapters (images and the like), and the book's additional CSS and JS.

use std::path::{Path, PathBuf};

use minijinja::context;

use crate::book::config::BookConfig;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::site::links;
use crate::site::nav::TocItem;

use super::{PageWriter, index, ser};

pub const TOC_JS: &str = "toc.js";
pub const DIR: &str = "assets";

/// The sidebar, one file so that pages do not repeat it, and the built-in (or replaced)
/// scripts and styles; `checklist.js` only for a site with the checklist builder.
pub fn write_built_in(
    cx: &mut PageWriter,
    toc: &[TocItem],
    checklist: bool,
) -> Result<(), Diagnostic> {
    let toc_html = cx.render(
        "toc.html.j2",
        context! { site => cx.site.clone(), items => ser(&toc) },
    )?;
    // The sidebar's links are root-relative: check them as if on the index page.
    cx.out.template_links.push((
        index::PAGE.to_string(),
        "toc.html.j2",
        links::page_links(&toc_html),
    ));
    let toc_js = cx.render("toc.js.j2", context! { toc => toc_html })?;
    cx.out.file(TOC_JS, toc_js.as_bytes())?;
    for (name, contents) in &cx.templates.assets {
        if name == "checklist.js" && !checklist {
            continue;
        }
        cx.out.file(&format!("{DIR}/{name}"), contents)?;
    }
    Ok(())
}

/// The files beside the chapters, and `additional-css` and `additional-js`; one that cannot
/// be read of the latter is an error in `errors`.
pub fn write_book_files(
    cx: &mut PageWriter,
    root: &Path,
    config: &BookConfig,
    dest: &Path,
    errors: &mut Diagnostics,
) -> Result<(), Diagnostic> {
    copy_static(&config.src_dir(), dest, cx)?;
    for (key, list) in [
        ("additional-css", &config.html.additional_css),
        ("additional-js", &config.html.additional_js),
    ] {
        for rel in list {
            let path = root.join(rel);
            match std::fs::read(&path) {
                Ok(bytes) => cx.out.file(&rel.replace('\\', "/"), &bytes)?,
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
    Ok(())
}

/// Copies every file in the src folder but the Markdown, hidden files and the site itself
/// (when it is written inside); a generated page wins over a file at its address.
fn copy_static(src_dir: &Path, dest: &Path, cx: &mut PageWriter) -> Result<(), Diagnostic> {
    if !src_dir.is_dir() {
        return Ok(());
    }
    let dest_canon = std::fs::canonicalize(dest).ok();
    let staging = cx.out.staging.path().map(Path::to_path_buf);
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
        if cx.out.index.files.contains(&rel) {
            continue; // a generated page wins
        }
        let bytes = std::fs::read(&path).map_err(|e| {
            Diagnostic::error(format!("cannot read {}: {e}", path.display())).path(&path)
        })?;
        cx.out.file(&rel, &bytes)?;
    }
    Ok(())
}
