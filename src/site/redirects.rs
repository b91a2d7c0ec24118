//! `[output.html.redirect]`, read as mdBook reads it.
//!
//! Each key is an old address, relative to the site's root (a leading `/` and `./` mean
//! nothing more); each value is written, as it is, into the page left at that address, so a
//! browser reads it relative to that page: `"./vec-alloc.html" = "./vec/vec-alloc.html"`
//! leads from `vec-alloc.html` to `vec/vec-alloc.html`. A key with a `#fragment` redirects
//! one part of a page: of a redirect page of its own, or of a page the site has (mdBook maps
//! it in that page).

use std::collections::BTreeMap;

use indexmap::IndexMap;

use super::links::{Resolved, resolve};
use crate::book::config::Redirect;
use crate::diagnostics::{Diagnostic, Diagnostics, Span};

/// One entry, with the page it is about.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub redirect: &'a Redirect,
    /// The old page, root-relative and resolved (`vec-alloc.html`, `old/index.html`).
    pub address: String,
    /// `Some("#part")` for a redirect of one part of the page.
    pub fragment: Option<String>,
}

/// A redirect page to write.
#[derive(Debug, Clone)]
pub struct Page {
    pub address: String,
    /// As written in `book.toml`.
    pub to: String,
    /// `#part` → where that part went, as written.
    pub fragments: BTreeMap<String, String>,
}

/// A target to check, relative to the page it is written on.
#[derive(Debug, Clone)]
pub struct Check {
    pub address: String,
    pub to: String,
    pub span: Option<Span>,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub pages: Vec<Page>,
    pub checks: Vec<Check>,
}

fn at(d: Diagnostic, span: Option<&Span>) -> Diagnostic {
    match span {
        Some(s) => d.at(s),
        None => d,
    }
}

/// The entries with their pages resolved. A key that would put a page outside the site is an
/// error, and the entry is left out.
pub fn entries<'a>(redirects: &'a [Redirect], errors: &mut Diagnostics) -> Vec<Entry<'a>> {
    let mut out = Vec::with_capacity(redirects.len());
    for r in redirects {
        let (path, fragment) = match r.from.rsplit_once('#') {
            Some((p, f)) => (p, Some(format!("#{f}"))),
            None => (r.from.as_str(), None),
        };
        let address = match resolve("", path.trim_start_matches('/')) {
            Resolved::Inside(p) if p.is_empty() || p.ends_with('/') => format!("{p}index.html"),
            Resolved::Inside(p) => p,
            Resolved::Above(_) => {
                errors.push(at(
                    Diagnostic::error(format!(
                        "redirect from `{}` would be written outside the site",
                        r.from
                    ))
                    .help("a redirect's old address is relative to the site's root"),
                    r.from_span.as_ref(),
                ));
                continue;
            }
        };
        out.push(Entry {
            redirect: r,
            address,
            fragment,
        });
    }
    out
}

/// The fragment redirects for a page the site has (a chapter): `#part` → where it went.
pub fn fragment_map(entries: &[Entry<'_>], address: &str) -> BTreeMap<String, String> {
    entries
        .iter()
        .filter(|e| e.address == address)
        .filter_map(|e| Some((e.fragment.clone()?, e.redirect.to.clone())))
        .collect()
}

/// What to write and what to check, given what the site has: `is_chapter` for a chapter's
/// address, `is_page` for any file the site writes besides the redirects.
pub fn plan(
    entries: &[Entry<'_>],
    is_chapter: impl Fn(&str) -> bool,
    is_page: impl Fn(&str) -> bool,
    errors: &mut Diagnostics,
    warnings: &mut Diagnostics,
) -> Plan {
    let mut by_page: IndexMap<&str, Vec<&Entry<'_>>> = IndexMap::new();
    for e in entries {
        by_page.entry(e.address.as_str()).or_default().push(e);
    }
    let mut plan = Plan::default();
    for (address, group) in by_page {
        let mut own: Option<&Entry<'_>> = None;
        let mut refused = false;
        for e in group.iter().filter(|e| e.fragment.is_none()) {
            let r = e.redirect;
            if let Some(first) = own {
                errors.push(at(
                    Diagnostic::error(format!(
                        "redirect from `{}` is for `{address}`, like the redirect from `{}`",
                        r.from, first.redirect.from
                    )),
                    r.from_span.as_ref(),
                ));
                refused = true;
                continue;
            }
            own = Some(e);
            if is_chapter(address) {
                errors.push(at(
                    Diagnostic::error(format!(
                        "redirect from `{}` is for `{address}`, which is a chapter of the book",
                        r.from
                    ))
                    .help("remove the redirect or the chapter (mdBook refuses this too)"),
                    r.from_span.as_ref(),
                ));
                refused = true;
            } else if is_page(address) {
                warnings.push(at(
                    Diagnostic::warning(format!(
                        "redirect from `{}` is left out: the site has its own `{address}`",
                        r.from
                    )),
                    r.from_span.as_ref(),
                ));
                refused = true;
            }
        }
        if refused {
            continue;
        }
        let fragments: Vec<&Entry<'_>> = group
            .iter()
            .copied()
            .filter(|e| e.fragment.is_some())
            .collect();
        match own {
            Some(e) => {
                plan.pages.push(Page {
                    address: address.to_string(),
                    to: e.redirect.to.clone(),
                    fragments: fragments
                        .iter()
                        .filter_map(|f| Some((f.fragment.clone()?, f.redirect.to.clone())))
                        .collect(),
                });
                plan.checks.push(check(e));
            }
            // Parts of a page the site has: mapped on that page.
            None if is_page(address) => {}
            None => {
                for f in &fragments {
                    let page = f.redirect.from.rsplit_once('#').map_or("", |(p, _)| p);
                    warnings.push(at(
                        Diagnostic::warning(format!(
                            "redirect from `{}` is for a part of `{address}`, which has no redirect of its own and is not a page of the site; it is left out",
                            f.redirect.from
                        ))
                        .help(format!(
                            "add a redirect for `{page}` itself, without `#` (mdBook refuses the book without one)"
                        )),
                        f.redirect.from_span.as_ref(),
                    ));
                }
                continue;
            }
        }
        plan.checks.extend(fragments.into_iter().map(check));
    }
    plan
}

fn check(e: &Entry<'_>) -> Check {
    Check {
        address: e.address.clone(),
        to: e.redirect.to.clone(),
        span: e.redirect.to_span.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(from: &str, to: &str) -> Redirect {
        Redirect {
            from: from.into(),
            to: to.into(),
            from_span: None,
            to_span: None,
        }
    }

    #[test]
    fn keys_are_resolved_from_the_root() {
        let list = [
            r("./vec-alloc.html", "./vec/vec-alloc.html"),
            r("/old/", "../new.html"),
            r("/a/./b/../c.html#x", "d.html"),
            r("../out.html", "x.html"),
        ];
        let mut errors = Diagnostics::default();
        let e = entries(&list, &mut errors);
        let got: Vec<(&str, Option<&str>)> = e
            .iter()
            .map(|e| (e.address.as_str(), e.fragment.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("vec-alloc.html", None),
                ("old/index.html", None),
                ("a/c.html", Some("#x")),
            ]
        );
        assert_eq!(
            errors.items[0].message,
            "redirect from `../out.html` would be written outside the site"
        );
    }

    #[test]
    fn pages_fragments_and_what_is_refused() {
        let list = [
            r("/old.html", "new.html"),
            r("/old.html#a", "other.html#b"),
            r("/ch.html#gone", "new.html"),
            r("/ch.html", "new.html"),
            r("/orphan.html#x", "new.html"),
            r("/print.html", "new.html"),
        ];
        let mut errors = Diagnostics::default();
        let mut warnings = Diagnostics::default();
        let e = entries(&list, &mut errors);
        let p = plan(
            &e,
            |a| a == "ch.html",
            |a| a == "ch.html" || a == "print.html",
            &mut errors,
            &mut warnings,
        );
        assert_eq!(p.pages.len(), 1);
        assert_eq!(p.pages[0].address, "old.html");
        assert_eq!(p.pages[0].to, "new.html");
        assert_eq!(
            p.pages[0].fragments,
            BTreeMap::from([("#a".to_string(), "other.html#b".to_string())])
        );
        let messages: Vec<&str> = errors.items.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            ["redirect from `/ch.html` is for `ch.html`, which is a chapter of the book"]
        );
        let messages: Vec<&str> = warnings.items.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "redirect from `/orphan.html#x` is for a part of `orphan.html`, which has no redirect of its own and is not a page of the site; it is left out",
                "redirect from `/print.html` is left out: the site has its own `print.html`",
            ]
        );
        assert_eq!(fragment_map(&e, "ch.html").len(), 1);
    }

    #[test]
    fn two_redirects_for_one_page_are_an_error() {
        let list = [r("/old.html", "new.html"), r("./old.html", "again.html")];
        let mut errors = Diagnostics::default();
        let e = entries(&list, &mut errors);
        let p = plan(
            &e,
            |_| false,
            |_| false,
            &mut errors,
            &mut Diagnostics::default(),
        );
        assert!(p.pages.is_empty());
        assert_eq!(
            errors.items[0].message,
            "redirect from `./old.html` is for `old.html`, like the redirect from `/old.html`"
        );
    }
}
