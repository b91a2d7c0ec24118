//! Runbook pages: one per runbook revision, and the runbooks' and steps' search records.

use minijinja::context;

use crate::diagnostics::Diagnostic;
use crate::site::links;
use crate::site::progress::Progress;
use crate::site::runbooks::{RunbookPage, SearchRecord};

use super::{PageWriter, ser};

pub fn write(
    cx: &mut PageWriter,
    pages: &[RunbookPage],
    records: Vec<SearchRecord>,
    progress: &mut Progress,
) -> Result<(), Diagnostic> {
    for page in pages {
        let title = if page.revision.current {
            page.runbook.title.clone()
        } else {
            format!("{} ({})", page.runbook.title, page.revision.label)
        };
        let ctx = context! {
            ..cx.context(&page.address, &title),
            ..context! {
                runbook => ser(&page.runbook),
                revision => ser(&page.revision),
            }
        };
        let html = cx.render("runbook.html.j2", ctx)?;
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
        cx.out
            .page(&page.address, html, "runbook.html.j2", &content, None)?;
        if page.revision.current {
            progress.inc(1);
        }
    }
    if let Some(s) = &mut cx.out.search {
        for record in records {
            s.add_record(record)?;
        }
    }
    Ok(())
}
