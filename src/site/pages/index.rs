//! The index page: the runbook catalogue, and the chapter at `index.html` (a README.md) or,
//! in a book without runbooks, a copy of the first chapter as mdBook does.

use std::collections::HashMap;

use minijinja::context;

use crate::diagnostics::Diagnostic;
use crate::project::Project;
use crate::site::links;
use crate::site::nav::TocItem;
use crate::site::runbooks::{self, RunbookView};

use super::chapter::{Chapter, Sources};
use super::{PageWriter, ser};

pub const PAGE: &str = "index.html";

pub fn write(
    cx: &mut PageWriter,
    project: Option<&Project>,
    chapters: &[Chapter],
    sources: &Sources,
    toc: &[TocItem],
    book_title: &str,
) -> Result<(), Diagnostic> {
    let catalogue: Vec<RunbookView> = project
        .map(|p| {
            p.runbooks
                .iter()
                .map(|rb| runbooks::runbook_view(p, rb))
                .collect()
        })
        .unwrap_or_default();
    let index_chapter = chapters.iter().position(|c| sources.of(c).address == PAGE);
    let intro = match index_chapter {
        Some(i) => Some(&chapters[i]),
        None if project.is_none() => chapters.first(),
        None => None,
    };
    let (intro_html, intro_title, intro_links) = match intro {
        Some(c) => {
            let src = sources.of(c);
            let html = if src.address == PAGE {
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
        ..cx.context(PAGE, intro_title.as_deref().unwrap_or(book_title)),
        ..context! {
            content => intro_html.as_deref(),
            indexed => index_chapter.is_some(),
            runbooks => ser(&catalogue),
            chapters => ser(&toc),
            search_filters => cx.search_filters.clone(),
        }
    };
    let html = cx.render("index.html.j2", ctx)?;
    cx.out.page(
        PAGE,
        html,
        "index.html.j2",
        &intro_links,
        index_chapter.map(|_| intro_html.as_deref().unwrap_or_default()),
    )
}
