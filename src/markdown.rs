//! Chapters' Markdown to HTML, as mdBook renders it where it matters for links: heading ids
//! from the heading text (`## Build options` → `build-options`, repeats numbered `-1`, `-2`),
//! links to `.md` files rewritten to the chapters' `.html` addresses, raw HTML sanitized.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, html};

use crate::html::attribute_values;

/// A link found in the text, with where it is written.
#[derive(Debug, Clone)]
pub struct FoundLink {
    /// The address as the HTML has it (after rewriting `.md` links).
    pub href: String,
    /// As written in the Markdown.
    pub written: String,
    /// Byte range in the Markdown text.
    pub range: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// Sanitized HTML.
    pub html: String,
    pub links: Vec<FoundLink>,
    pub headings: Vec<Heading>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct MdOptions {
    pub smart_punctuation: bool,
}

fn options(o: MdOptions) -> Options {
    let mut opts = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_DEFINITION_LIST
        | Options::ENABLE_GFM;
    if o.smart_punctuation {
        opts |= Options::ENABLE_SMART_PUNCTUATION;
    }
    opts
}

/// The sanitizer for content: ammonia's defaults, plus what Markdown itself produces (ids
/// and classes, task-list checkboxes, table alignment) and `<a name>` anchors.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.add_tags(["input"])
        .add_generic_attributes(["id", "class"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("a", ["name"])
        .add_tag_attributes("th", ["style"])
        .add_tag_attributes("td", ["style"])
        .filter_style_properties(["text-align"].into_iter().collect())
        .link_rel(None);
    b
});

pub fn sanitize(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// mdBook's id for a heading text: alphanumerics, `_` and `-` kept (ASCII lowercased),
/// whitespace to `-`, everything else dropped.
pub fn normalize_id(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// Unique ids within a page, numbered as mdBook numbers them.
#[derive(Default)]
pub struct IdCounter(HashMap<String, usize>);

impl IdCounter {
    pub fn unique(&mut self, id: String) -> String {
        let count = self.0.entry(id.clone()).or_insert(0);
        let out = if *count == 0 {
            id
        } else {
            format!("{id}-{count}")
        };
        *count += 1;
        out
    }
}

/// A heading being read: level, explicit id, classes, and its events so far.
type PendingHeading<'a> = (u8, Option<String>, Vec<String>, Vec<Event<'a>>);

/// Renders Markdown. `rewrite` maps a link target as written to the address to write (it
/// gets only relative targets, never `#fragment`-only or external ones).
pub fn render(text: &str, o: MdOptions, rewrite: &dyn Fn(&str) -> Option<String>) -> Rendered {
    let mut out = Rendered::default();
    let mut ids = IdCounter::default();
    let mut events: Vec<Event<'_>> = Vec::new();
    // A heading's events are held until its end, when its text (and so its id) is known.
    let mut heading: Option<PendingHeading<'_>> = None;
    // Markdown alone makes HTML as safe as the sanitizer's but for the links' targets: raw
    // HTML, or a target with a scheme that is not plainly safe, sends the page through it.
    let mut needs_sanitizer = false;
    for (ev, range) in Parser::new_ext(text, options(o)).into_offset_iter() {
        let ev = match ev {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest = link_target(&dest_url, link_type, &range, &mut out.links, rewrite);
                needs_sanitizer |= !plainly_safe_url(&dest);
                Event::Start(Tag::Link {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                })
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest = link_target(&dest_url, link_type, &range, &mut out.links, rewrite);
                needs_sanitizer |= !plainly_safe_url(&dest);
                Event::Start(Tag::Image {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                })
            }
            Event::Html(ref h) | Event::InlineHtml(ref h) => {
                needs_sanitizer = true;
                raw_html_links(h, range.start, &mut out.links);
                ev
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let lang = info.split([',', ' ', '\t']).next().unwrap_or("").trim();
                let open = if lang.is_empty() {
                    "<pre><code>".to_string()
                } else {
                    format!("<pre><code class=\"language-{}\">", escape(lang))
                };
                Event::Html(open.into())
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)) => {
                Event::Html("<pre><code>".into())
            }
            Event::End(TagEnd::CodeBlock) => Event::Html("</code></pre>\n".into()),
            ev => ev,
        };
        match ev {
            Event::Start(Tag::Heading {
                level, id, classes, ..
            }) => {
                heading = Some((
                    level as u8,
                    id.map(|i| i.to_string()),
                    classes.iter().map(|c| c.to_string()).collect(),
                    Vec::new(),
                ));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, explicit, classes, inner)) = heading.take() {
                    let mut plain = String::new();
                    for e in &inner {
                        match e {
                            Event::Text(t) | Event::Code(t) => plain.push_str(t),
                            Event::SoftBreak | Event::HardBreak => plain.push(' '),
                            _ => {}
                        }
                    }
                    let id = match explicit {
                        Some(id) => ids.unique(id),
                        None => {
                            let base = normalize_id(&plain);
                            ids.unique(if base.is_empty() {
                                "section".into()
                            } else {
                                base
                            })
                        }
                    };
                    let class = if classes.is_empty() {
                        String::new()
                    } else {
                        format!(" class=\"{}\"", escape(&classes.join(" ")))
                    };
                    events.push(Event::Html(
                        format!(
                            "<h{level} id=\"{}\"{class}><a class=\"header\" href=\"#{}\">",
                            escape(&id),
                            escape(&id)
                        )
                        .into(),
                    ));
                    events.extend(inner);
                    events.push(Event::Html(format!("</a></h{level}>\n").into()));
                    out.headings.push(Heading {
                        level,
                        id,
                        text: plain.trim().to_string(),
                    });
                }
            }
            ev => match heading.as_mut() {
                Some((_, _, _, inner)) => inner.push(ev),
                None => events.push(ev),
            },
        }
    }
    let mut raw = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut raw, events.into_iter());
    out.html = if needs_sanitizer { sanitize(&raw) } else { raw };
    out
}

/// Whether a link or image target can be written as it is: relative, or with a scheme that
/// cannot run anything. Browsers ignore tabs and line breaks in a URL, so those (and other
/// control characters) are taken out before looking; anything else goes to the sanitizer.
fn plainly_safe_url(dest: &str) -> bool {
    const SAFE: [&str; 5] = ["http", "https", "mailto", "ftp", "tel"];
    let cleaned: String = dest
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .collect();
    let Some(colon) = cleaned.find(':') else {
        return true;
    };
    let scheme = &cleaned[..colon];
    scheme.contains(['/', '?', '#']) || SAFE.iter().any(|s| scheme.eq_ignore_ascii_case(s))
}

fn link_target<'a>(
    dest: &CowStr<'a>,
    link_type: LinkType,
    range: &Range<usize>,
    links: &mut Vec<FoundLink>,
    rewrite: &dyn Fn(&str) -> Option<String>,
) -> CowStr<'a> {
    if matches!(link_type, LinkType::Email) {
        return dest.clone();
    }
    let written = dest.to_string();
    let href = if is_external(&written) || written.starts_with('#') || written.is_empty() {
        written.clone()
    } else {
        rewrite(&written).unwrap_or_else(|| written.clone())
    };
    links.push(FoundLink {
        href: href.clone(),
        written,
        range: range.clone(),
    });
    href.into()
}

/// `href="..."` and `src="..."` in a piece of raw HTML, for checking.
fn raw_html_links(html: &str, base: usize, links: &mut Vec<FoundLink>) {
    for (value, at) in attribute_values(html, &["href", "src"]) {
        let value = unescape(value);
        links.push(FoundLink {
            href: value.clone(),
            written: value,
            range: base + at..base + at,
        });
    }
}

/// Whether a link leaves the site: a scheme (`https:`, `mailto:`) or `//host`.
pub fn is_external(href: &str) -> bool {
    if href.starts_with("//") {
        return true;
    }
    let scheme_end = href.find(':');
    let path_start = href.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        (Some(c), p) if p.is_none_or(|p| c < p) => {
            let scheme = &href[..c];
            !scheme.is_empty()
                && scheme.starts_with(|ch: char| ch.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '+' | '-' | '.'))
        }
        _ => false,
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    crate::body::escape_html(s, &mut out);
    out
}

/// Decodes the character references that HTML writers put in attribute values and text:
/// numeric ones (`&#x2f;`, `&#39;`) and the common named ones.
pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..].find(';').map(|e| e + 1).filter(|&e| e <= 12);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
            } else if let Some(dec) = name.strip_prefix('#') {
                dec.parse::<u32>().ok().and_then(char::from_u32)
            } else {
                match name {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    "nbsp" => Some('\u{a0}'),
                    _ => None,
                }
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Visible text of sanitized HTML, tags dropped and entities decoded, for titles and search.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = unescape(&out);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> Rendered {
        render(text, MdOptions::default(), &|d| {
            Some(d.replace(".md", ".html"))
        })
    }

    #[test]
    fn heading_ids_as_mdbook() {
        let out = r(
            "# Build options\n\n## `rust.edition` & more\n\n# Build options\n\n## Héllo Wörld {#custom}\n",
        );
        let ids: Vec<_> = out.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "build-options",
                "rustedition--more",
                "build-options-1",
                "custom"
            ]
        );
        assert!(
            out.html
                .contains("<h1 id=\"build-options\"><a class=\"header\" href=\"#build-options\">Build options</a></h1>"),
            "{}",
            out.html
        );
    }

    #[test]
    fn links_are_rewritten_and_found() {
        let out = r(
            "See [a](a.md#x), [b](https://x.org/b.md), [c](#here) and <a href=\"raw.md\">raw</a>.\n\n![img](pic.png)",
        );
        let hrefs: Vec<_> = out.links.iter().map(|l| l.href.as_str()).collect();
        assert_eq!(
            hrefs,
            vec![
                "a.html#x",
                "https://x.org/b.md",
                "#here",
                "raw.md",
                "pic.png"
            ]
        );
        assert!(out.html.contains("href=\"a.html#x\""), "{}", out.html);
        assert_eq!(out.links[0].range.start, 4);
    }

    #[test]
    fn raw_html_is_sanitized_but_markdown_features_stay() {
        let out = r(
            "<script>alert(1)</script><div class=\"warning\" onclick=\"x()\">w</div>\n\n- [x] done\n\n| a |\n|:-:|\n| b |\n\n```rust,editable\nfn main() {}\n```\n",
        );
        assert!(!out.html.contains("<script"), "{}", out.html);
        assert!(!out.html.contains("onclick"), "{}", out.html);
        assert!(out.html.contains("class=\"warning\""), "{}", out.html);
        assert!(out.html.contains("type=\"checkbox\""), "{}", out.html);
        assert!(out.html.contains("text-align:center"), "{}", out.html);
        assert!(out.html.contains("class=\"language-rust\""), "{}", out.html);
    }

    #[test]
    fn markdown_without_raw_html_skips_the_sanitizer_unless_a_target_is_unsafe() {
        for md in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](javascript&#58;alert(1))",
            "<javascript:alert(1)>",
            "![x](data:image/svg+xml,<svg/onload=alert(1)>)",
            "[x]: vbscript:msgbox\n\n[x]",
        ] {
            let out = r(md);
            let lower = out.html.to_ascii_lowercase();
            assert!(
                !lower.contains("=\"javascript:")
                    && !lower.contains("=\"vbscript:")
                    && !lower.contains("=\"data:"),
                "{md}: {}",
                out.html
            );
        }
        // A tab is percent-encoded: no scheme any more, a harmless relative address.
        let out = r("[x](java&#9;script:alert(1))");
        assert!(out.html.contains("href=\"java%09script:"), "{}", out.html);
        assert!(plainly_safe_url("a/b.html#c:d"));
        assert!(plainly_safe_url("https://example.org/a"));
        assert!(plainly_safe_url("MAILTO:x@y"));
        assert!(plainly_safe_url("/a:b"));
        assert!(!plainly_safe_url("a:b"));
        assert!(!plainly_safe_url(" javascript:x"));
        assert!(!plainly_safe_url("java\nscript:x"));
        // Plain Markdown is escaped as it is.
        let out = r("# T\n\nA \\<b> &amp; \"q\" [l](https://x.org/?a=1&b=\"2\")\n");
        assert!(
            out.html
                .contains("href=\"https://x.org/?a=1&amp;b=%222%22\""),
            "{}",
            out.html
        );
        assert!(out.html.contains("A &lt;b&gt; &amp; "), "{}", out.html);
    }

    #[test]
    fn external_links() {
        assert!(is_external("https://a.b/c"));
        assert!(is_external("mailto:x@y"));
        assert!(is_external("//cdn/x.js"));
        assert!(!is_external("a/b.md"));
        assert!(!is_external("a/b:c.md"));
        assert!(!is_external("#x:y"));
    }

    #[test]
    fn scans_attributes() {
        let v = attribute_values(
            "<a href=\"x.html#a\" class='c'><img  src=y.png>&lt;a href=\"text.html\"&gt;<!-- <a href=\"c.html\"> --><script>var a = '<a href=\"s.html\">';</script><p id=p>",
            &["href", "src", "id"],
        );
        assert_eq!(
            v.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            vec!["x.html#a", "y.png", "p"]
        );
        assert_eq!(plain_text("<p>a &amp; <b>b</b></p>"), "a & b");
        assert_eq!(
            unescape("a&#x2f;b&#39;c&amp;d&unknown;&"),
            "a/b'c&d&unknown;&"
        );
    }
}
