//! The check of every internal link and anchor, once every page is written: in chapters
//! (errors, or warnings with `broken-links = "warn"`), in step bodies, in redirects and in
//! what the templates wrote. A link is reported once, at the first place found.

use std::collections::HashSet;
use std::path::Path;

use crate::book::config::LinkPolicy;
use crate::diagnostics::{Diagnostic, Diagnostics, Severity, Span};
use crate::html;
use crate::markdown::{self, FoundLink};
use crate::project::Project;

use super::links::SiteIndex;
use super::pages::chapter::{Chapter, Sources};
use super::pages::not_found;
use super::redirects::Check;
use super::runbooks::RunbookPage;

/// Every link of the site, where it is.
pub struct SiteLinks<'a> {
    pub chapters: &'a [Chapter],
    pub sources: &'a Sources,
    pub not_found: &'a not_found::Written,
    pub project: Option<&'a Project>,
    pub runbook_pages: &'a [RunbookPage],
    pub redirects: &'a [Check],
    pub templates: &'a [(String, &'static str, Vec<String>)],
}

pub struct LinkCheck<'a> {
    pub index: &'a SiteIndex,
    /// What a chapter's broken link is.
    pub policy: LinkPolicy,
    pub errors: &'a mut Diagnostics,
    pub warnings: &'a mut Diagnostics,
    /// (page, href) of the links reported already.
    reported: HashSet<(String, String)>,
}

impl<'a> LinkCheck<'a> {
    pub fn new(
        index: &'a SiteIndex,
        policy: LinkPolicy,
        errors: &'a mut Diagnostics,
        warnings: &'a mut Diagnostics,
    ) -> LinkCheck<'a> {
        LinkCheck {
            index,
            policy,
            errors,
            warnings,
            reported: HashSet::new(),
        }
    }

    /// Every link of the site.
    pub fn all(&mut self, links: &SiteLinks) {
        for c in links.chapters {
            let src = links.sources.of(c);
            self.content(&src.address, &c.links, &src.path);
        }
        self.content(
            not_found::PAGE,
            &links.not_found.links,
            &links.not_found.path,
        );
        if let Some(p) = links.project {
            self.steps(p, links.runbook_pages);
        }
        self.redirects(links.redirects);
        self.templates(links.templates);
    }

    /// A chapter's (or the 404 page's) links, found in `path`.
    pub fn content(&mut self, page: &str, links: &[(FoundLink, Option<Span>)], path: &Path) {
        for (link, span) in links {
            if let Err(why) = self.index.check(page, &link.href) {
                self.reported.insert((page.to_string(), link.href.clone()));
                let d = link_error(&why, &link.written, span.as_ref(), path);
                match self.policy {
                    LinkPolicy::Error => self.errors.push(d),
                    LinkPolicy::Warn => self.warnings.push(Diagnostic {
                        severity: Severity::Warning,
                        ..d
                    }),
                }
            }
        }
    }

    /// The links in every step body, on each runbook page, placed in the runbook's file.
    pub fn steps(&mut self, project: &Project, pages: &[RunbookPage]) {
        for page in pages {
            let rb = &project.runbooks[page.source.0];
            let rev = &rb.revisions[page.source.1];
            for (_, step) in rev.steps() {
                for (href, range) in body_links(&step.body) {
                    if let Err(why) = self.index.check(&page.address, &href) {
                        let span = match &step.body_span {
                            Some(b) => {
                                let start = b.range.start + range.start;
                                Span::new(&b.file, start..start + range.len())
                            }
                            None => step.span.clone(),
                        };
                        self.reported.insert((page.address.clone(), href.clone()));
                        self.errors
                            .push(link_error(&why, &href, Some(&span), &rb.file.path));
                    }
                }
            }
        }
    }

    pub fn redirects(&mut self, checks: &[Check]) {
        for c in checks {
            if let Err(why) = self.index.check(&c.address, &c.to) {
                let mut d =
                    Diagnostic::error(format!("redirect to a page the site does not have: {why}"));
                if let Some(s) = &c.span {
                    d = d.at(s);
                }
                self.errors.push(d);
            }
        }
    }

    /// The links templates wrote: page → (template, hrefs).
    pub fn templates(&mut self, links: &[(String, &'static str, Vec<String>)]) {
        for (address, template, hrefs) in links {
            for href in hrefs {
                if self.reported.contains(&(address.clone(), href.clone())) {
                    continue;
                }
                if let Err(why) = self.index.check(address, href) {
                    self.reported.insert((address.clone(), href.clone()));
                    self.errors.push(Diagnostic::error(format!(
                        "broken link on {address}, written by template {template}: {why}"
                    )));
                }
            }
        }
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
