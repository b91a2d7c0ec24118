//! Navigation: the sidebar's table of contents (chapters as SUMMARY.md lists them, then the
//! runbooks and the checklist builder) and the reading order for previous/next links.

use std::collections::HashMap;

use serde::Serialize;

use crate::book::chapter::{self, ChapterFile};
use crate::book::config::BookConfig;
use crate::book::summary::{Item, Summary};
use crate::project::Project;

use super::pages::checklist;
use super::runbooks;

#[derive(Serialize, Clone)]
pub struct NavLink {
    title: String,
    url: String,
}

#[derive(Serialize, Clone)]
pub struct TocItem {
    kind: &'static str,
    title: String,
    number: Option<String>,
    url: Option<String>,
    children: Vec<TocItem>,
}

/// `1.2.` for a section number.
pub fn section_label(n: &[u32]) -> String {
    n.iter().map(|x| format!("{x}.")).collect()
}

pub fn toc_items(
    summary: &Summary,
    sources: &[ChapterFile],
    config: &BookConfig,
    project: Option<&Project>,
    checklist: bool,
) -> Vec<TocItem> {
    let by_loc: HashMap<String, &ChapterFile> =
        sources.iter().map(|s| (s.rel.clone(), s)).collect();
    fn walk(items: &[Item], by_loc: &HashMap<String, &ChapterFile>, labels: bool) -> Vec<TocItem> {
        items
            .iter()
            .map(|item| match item {
                Item::Chapter(link) => {
                    let url = link
                        .location
                        .as_ref()
                        .and_then(|l| by_loc.get(&chapter::rel_path(l)).map(|s| s.address.clone()));
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
                Item::Separator => TocItem {
                    kind: "separator",
                    title: String::new(),
                    number: None,
                    url: None,
                    children: Vec::new(),
                },
                Item::PartTitle(t) => TocItem {
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
                title: checklist::TITLE.into(),
                number: None,
                url: Some(checklist::PAGE.into()),
                children: Vec::new(),
            });
        }
    }
    out
}

/// The reading order: every page the table of contents links to, once, in its order.
pub struct Nav {
    order: Vec<NavLink>,
    position: HashMap<String, usize>,
}

impl Nav {
    pub fn new(toc: &[TocItem]) -> Nav {
        let mut order = Vec::new();
        flatten_order(toc, &mut order);
        let position = order
            .iter()
            .enumerate()
            .map(|(i, l)| (l.url.clone(), i))
            .collect();
        Nav { order, position }
    }

    /// The previous and next pages of the page at `address`; for a page out of the reading
    /// order, none and the first.
    pub fn around(&self, address: &str) -> (Option<NavLink>, Option<NavLink>) {
        match self.position.get(address) {
            Some(&i) => (
                i.checked_sub(1).map(|j| self.order[j].clone()),
                self.order.get(i + 1).cloned(),
            ),
            None => (None, self.order.first().cloned()),
        }
    }
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
