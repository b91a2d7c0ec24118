//! Checking internal links: every relative link must name a file the site has, and every
//! `#fragment` an id on that page. Links that leave the site are not checked.

use std::collections::{HashMap, HashSet};

use crate::html::attribute_values;
use crate::markdown::{escape, is_external, unescape};

/// What the site contains, for checking links against.
#[derive(Debug, Default)]
pub struct SiteIndex {
    /// Every file written, root-relative with `/` separators.
    pub files: HashSet<String>,
    /// Every id (and `<a name>`) on each generated HTML page.
    pub anchors: HashMap<String, HashSet<String>>,
}

impl SiteIndex {
    pub fn add_page(&mut self, address: &str, html: &str) {
        self.files.insert(address.to_string());
        self.anchors.insert(
            address.to_string(),
            page_anchors(html).into_iter().collect(),
        );
    }

    /// `Ok` when the link resolves; otherwise what is wrong, in words.
    pub fn check(&self, page: &str, href: &str) -> Result<(), String> {
        let href = href.trim();
        if href.is_empty() || is_external(href) {
            return Ok(());
        }
        let (before_fragment, fragment) = match href.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (href, None),
        };
        let path = before_fragment
            .split_once('?')
            .map_or(before_fragment, |(p, _)| p);
        let target = if path.is_empty() {
            page.to_string()
        } else {
            let decoded = percent_decode(path);
            let joined = if let Some(abs) = decoded.strip_prefix('/') {
                abs.to_string()
            } else {
                match resolve(dir_of(page), &decoded) {
                    Resolved::Inside(p) => p,
                    // Above the site's root: a neighbour of the site where it is published
                    // (`../std/...` from a book at `/nomicon/`), not checked.
                    Resolved::Above(_) => return Ok(()),
                }
            };
            if joined.is_empty() || joined.ends_with('/') {
                format!("{joined}index.html")
            } else if self.files.contains(&joined) {
                joined
            } else if self.files.contains(&format!("{joined}/index.html")) {
                format!("{joined}/index.html")
            } else {
                return Err(format!(
                    "`{href}` points to `{joined}`, which the site does not have"
                ));
            }
        };
        if !self.files.contains(&target) {
            return Err(format!(
                "`{href}` points to `{target}`, which the site does not have"
            ));
        }
        if let Some(fragment) = fragment.filter(|f| !f.is_empty())
            && let Some(ids) = self.anchors.get(&target)
        {
            let fragment = percent_decode(fragment);
            if !ids.contains(&fragment) {
                return Err(format!("`{href}`: `{target}` has no anchor `#{fragment}`"));
            }
        }
        Ok(())
    }
}

/// Ids and `<a name>` anchors on a page.
pub fn page_anchors(html: &str) -> Vec<String> {
    attribute_values(html, &["id", "name"])
        .into_iter()
        .map(|(v, _)| unescape(v))
        .collect()
}

/// Links (`href`, `src`) on a page.
pub fn page_links(html: &str) -> Vec<String> {
    attribute_values(html, &["href", "src"])
        .into_iter()
        .map(|(v, _)| unescape(v))
        .collect()
}

pub fn dir_of(page: &str) -> &str {
    page.rfind('/').map_or("", |i| &page[..=i])
}

/// Where a relative path leads from a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Inside the site: root-relative, `.` and `..` resolved (`a/b.html`, `a/`, or `""` for
    /// the root itself).
    Inside(String),
    /// Above the site's root, as a root-relative path that starts with `../`.
    Above(String),
}

/// Resolves a relative path (`../b.md`, `./c/`) from a folder (`a/`, or `""` for the root),
/// resolving `.` and `..` in both; a trailing `/` is kept.
pub fn resolve(dir: &str, rel: &str) -> Resolved {
    let mut parts: Vec<&str> = Vec::new();
    let mut above = 0usize;
    let trailing = rel.ends_with('/') || rel.ends_with("/.") || rel.ends_with("/..");
    for part in dir.split('/').chain(rel.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    above += 1;
                }
            }
            p => parts.push(p),
        }
    }
    let mut out = parts.join("/");
    if trailing && !out.is_empty() {
        out.push('/');
    }
    if above == 0 {
        Resolved::Inside(out)
    } else {
        Resolved::Above(format!("{}{out}", "../".repeat(above)))
    }
}

/// Joins a relative path to a folder (`a/b/`), resolving `.` and `..`; `None` when it climbs
/// above the root.
pub fn join(dir: &str, rel: &str) -> Option<String> {
    match resolve(dir, rel) {
        Resolved::Inside(p) => Some(p),
        Resolved::Above(_) => None,
    }
}

/// The relative address from one page to a root-relative target.
pub fn relative(from_page: &str, to: &str) -> String {
    let from: Vec<&str> = dir_of(from_page)
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count()
        .min(to_parts.len().saturating_sub(1));
    let mut out = "../".repeat(from.len() - common);
    out.push_str(&to_parts[common..].join("/"));
    out
}

/// The way back to the site root from a page: `""`, `"../"`, `"../../"`.
pub fn root_of(page: &str) -> String {
    "../".repeat(page.matches('/').count())
}

/// `%XX` sequences decoded; anything that is not one is kept as it is, and bytes that are not
/// UTF-8 become U+FFFD.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Rewrites a content fragment written for the page at `page` so that it reads right at the
/// site root. With `section = Some(n)`, ids get the prefix `c{n}-` and links to pages listed
/// in `in_page` (address → section number) become in-page links: the print page.
pub fn rebase(
    html: &str,
    page: &str,
    section: Option<usize>,
    in_page: &HashMap<String, usize>,
) -> String {
    let dir = dir_of(page);
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    let mut last = 0;
    for (value, at) in attribute_values(html, &["href", "src", "id", "name"]) {
        // The attribute's name is what precedes `="` before the value.
        let head = &html[..at];
        let name_end = head
            .trim_end_matches(['"', '\''])
            .trim_end_matches('=')
            .trim_end();
        let name = name_end
            .rsplit(|c: char| c.is_ascii_whitespace())
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let v = unescape(value);
        let new = match name.as_str() {
            "id" | "name" => section.map(|n| format!("c{n}-{v}")),
            _ if v.is_empty() || is_external(&v) || v.starts_with('/') => None,
            _ => {
                let (path, fragment) = match v.split_once('#') {
                    Some((p, f)) => (p, Some(f)),
                    None => (v.as_str(), None),
                };
                let target = if path.is_empty() {
                    Resolved::Inside(page.to_string())
                } else {
                    resolve(dir, path)
                };
                match target {
                    // Out of the site: the same place, seen from the root.
                    Resolved::Above(up) => Some(match fragment {
                        Some(f) => format!("{up}#{f}"),
                        None => up,
                    }),
                    Resolved::Inside(target) => match (section, in_page.get(&target)) {
                        (Some(_), Some(n)) if name == "href" => Some(match fragment {
                            Some(f) if !f.is_empty() => format!("#c{n}-{f}"),
                            _ => format!("#c{n}"),
                        }),
                        _ => Some(match fragment {
                            Some(f) => format!("{target}#{f}"),
                            None => target,
                        }),
                    },
                }
            }
        };
        if let Some(new) = new {
            out.push_str(&html[last..at]);
            out.push_str(&escape(&new));
            last = at + value.len();
        }
    }
    out.push_str(&html[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> SiteIndex {
        let mut s = SiteIndex::default();
        s.add_page("index.html", "<h1 id=\"top\">x</h1>");
        s.add_page("a/b.html", "<h2 id=\"sec\">x</h2><a name=\"old\"></a>");
        s.add_page("a/index.html", "");
        s.files.insert("img/p.png".into());
        s
    }

    #[test]
    fn resolves_relative_links_and_anchors() {
        let s = index();
        assert!(s.check("a/b.html", "../index.html#top").is_ok());
        assert!(s.check("a/b.html", "#sec").is_ok());
        assert!(s.check("a/b.html", "b.html#old").is_ok());
        assert!(s.check("a/b.html", "./").is_ok());
        assert!(s.check("index.html", "a").is_ok());
        assert!(s.check("index.html", "img/p.png").is_ok());
        assert!(s.check("index.html", "https://example.com/x").is_ok());
        assert!(
            s.check("a/b.html", "#nope")
                .unwrap_err()
                .contains("no anchor `#nope`")
        );
        assert!(
            s.check("index.html", "c.html")
                .unwrap_err()
                .contains("does not have")
        );
        // Above the site's root: out of the site, not checked.
        assert!(
            s.check("index.html", "../std/mem/fn.transmute.html")
                .is_ok()
        );
        assert!(s.check("a/b.html", "../../x.html#y").is_ok());
        assert!(
            s.check("a/b.html", "../nope.html")
                .unwrap_err()
                .contains("`nope.html`, which the site does not have")
        );
    }

    #[test]
    fn resolves_dots_in_the_folder_and_the_path() {
        assert_eq!(
            resolve("./", "./vec/a.html"),
            Resolved::Inside("vec/a.html".into())
        );
        assert_eq!(resolve("a/./b/", "../c/"), Resolved::Inside("a/c/".into()));
        assert_eq!(resolve("", "."), Resolved::Inside(String::new()));
        assert_eq!(
            resolve("", "../std/x.html"),
            Resolved::Above("../std/x.html".into())
        );
        assert_eq!(
            resolve("a/", "../../../x/../y"),
            Resolved::Above("../../y".into())
        );
        assert_eq!(join("a/", "../../x"), None);
    }

    #[test]
    fn relative_addresses() {
        assert_eq!(relative("a/b/c.html", "a/d.html"), "../d.html");
        assert_eq!(relative("index.html", "a/d.html"), "a/d.html");
        assert_eq!(relative("a/x.html", "a/y.html"), "y.html");
        assert_eq!(relative("a/x.html", "b.html"), "../b.html");
        assert_eq!(root_of("a/b/c.html"), "../../");
        assert_eq!(join("a/", "../b.md").as_deref(), Some("b.md"));
        assert_eq!(percent_decode("my%20file.md"), "my file.md");
    }

    #[test]
    fn rebases_for_the_root_and_the_print_page() {
        let html = "<h2 id=\"x\"><a href=\"#x\">x</a></h2><a href=\"../c.html#y\">c</a><img src=\"p.png\"><a href=\"https://e.org\">e</a>";
        let none = HashMap::new();
        assert_eq!(
            rebase(html, "a/b.html", None, &none),
            "<h2 id=\"x\"><a href=\"a/b.html#x\">x</a></h2><a href=\"c.html#y\">c</a><img src=\"a/p.png\"><a href=\"https://e.org\">e</a>"
        );
        let map: HashMap<String, usize> =
            [("a/b.html".to_string(), 1), ("c.html".to_string(), 2)].into();
        assert_eq!(
            rebase(html, "a/b.html", Some(1), &map),
            "<h2 id=\"c1-x\"><a href=\"#c1-x\">x</a></h2><a href=\"#c2-y\">c</a><img src=\"a/p.png\"><a href=\"https://e.org\">e</a>"
        );
    }

    #[test]
    fn a_link_above_the_root_keeps_its_place_when_rebased() {
        let html = "<a href=\"../../std/x.html#f\">s</a><a href=\"../../up.md\">u</a>";
        assert_eq!(
            rebase(html, "a/b.html", None, &HashMap::new()),
            "<a href=\"../std/x.html#f\">s</a><a href=\"../up.md\">u</a>"
        );
    }
}
