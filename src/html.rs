//! A small HTML tokenizer: the tags of a page and their attributes, read as a browser reads
//! them for the HTML the site deals in (sanitized output, the site's templates, the raw HTML
//! people put in Markdown). Text, comments and the contents of raw-text elements (`<script>`,
//! `<style>`, …) are passed over.

use std::ops::Range;

/// Elements whose contents are text, not markup, up to their end tag. Not `<noscript>`:
/// what it holds is markup for a reader without scripts, and its links are links.
const RAW_TEXT: [&str; 7] = [
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed",
];

/// Elements that have no end tag.
pub const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track",
];

/// Whether `name` is one of `names` (tag names are not case-sensitive).
pub fn is_one_of(names: &[&str], name: &str) -> bool {
    names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// A start or end tag.
pub struct Tag<'h> {
    pub name: &'h str,
    pub end: bool,
    /// From its `<` to just after its `>`.
    pub range: Range<usize>,
    /// It ends with `>`, rather than with the end of the HTML.
    pub closed: bool,
    html: &'h str,
    attributes_at: usize,
}

impl<'h> Tag<'h> {
    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'h>> + use<'h> {
        let html = self.html;
        let mut at = self.attributes_at;
        std::iter::from_fn(move || match step(html, at) {
            Step::Attribute(a, next) => {
                at = next;
                Some(a)
            }
            Step::End { .. } => None,
        })
    }
}

pub struct Attribute<'h> {
    pub name: &'h str,
    /// The value (entities not decoded) and where it starts in the HTML.
    pub value: Option<(&'h str, usize)>,
}

/// The tags in some HTML, in order.
pub fn tags(html: &str) -> impl Iterator<Item = Tag<'_>> {
    let b = html.as_bytes();
    let n = b.len();
    let mut i = 0;
    std::iter::from_fn(move || {
        loop {
            let at = i + html.get(i..)?.find('<')?;
            if html[at..].starts_with("<!--") {
                i = html[at + 4..].find("-->").map_or(n, |e| at + 4 + e + 3);
                continue;
            }
            let end = b.get(at + 1) == Some(&b'/');
            let name_start = at + 1 + usize::from(end);
            let name_len = b[name_start..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
                .count();
            if name_len == 0 || !b[name_start].is_ascii_alphabetic() {
                i = at + 1;
                continue;
            }
            let name = &html[name_start..name_start + name_len];
            let attributes_at = name_start + name_len;
            let mut j = attributes_at;
            let (tag_end, closed) = loop {
                match step(html, j) {
                    Step::Attribute(_, next) => j = next,
                    Step::End { at, closed } => break (at, closed),
                }
            };
            i = tag_end;
            if !end && is_one_of(&RAW_TEXT, name) {
                i = end_tag(html, tag_end, name).unwrap_or(n);
            }
            return Some(Tag {
                name,
                end,
                range: at..tag_end,
                closed,
                html,
                attributes_at,
            });
        }
    })
}

enum Step<'h> {
    /// An attribute, and where reading goes on.
    Attribute(Attribute<'h>, usize),
    /// The tag ends before `at`.
    End { at: usize, closed: bool },
}

/// Reads on from `j`, inside a tag after its name.
fn step(html: &str, mut j: usize) -> Step<'_> {
    let b = html.as_bytes();
    let n = b.len();
    let skip_space = |mut k: usize| {
        while k < n && b[k].is_ascii_whitespace() {
            k += 1;
        }
        k
    };
    loop {
        while j < n && (b[j].is_ascii_whitespace() || b[j] == b'/') {
            j += 1;
        }
        if j >= n {
            return Step::End {
                at: n,
                closed: false,
            };
        }
        if b[j] == b'>' {
            return Step::End {
                at: j + 1,
                closed: true,
            };
        }
        let name_start = j;
        while j < n && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/') {
            j += 1;
        }
        let name = &html[name_start..j];
        let k = skip_space(j);
        if k < n && b[k] == b'=' {
            let k = skip_space(k + 1);
            let (value, at, next) = match b.get(k) {
                Some(&q @ (b'"' | b'\'')) => match html[k + 1..].find(q as char) {
                    Some(close) => (&html[k + 1..k + 1 + close], k + 1, k + 2 + close),
                    None => (&html[k + 1..], k + 1, n),
                },
                _ => {
                    let len = html[k..]
                        .find(|c: char| c.is_ascii_whitespace() || c == '>')
                        .unwrap_or(n - k);
                    (&html[k..k + len], k, k + len)
                }
            };
            return Step::Attribute(
                Attribute {
                    name,
                    value: Some((value, at)),
                },
                next,
            );
        }
        if j == name_start {
            // A stray `=` or `/`.
            j += 1;
            continue;
        }
        return Step::Attribute(Attribute { name, value: None }, k);
    }
}

/// Where the end tag of raw-text element `name` starts, from `from` on.
fn end_tag(html: &str, mut from: usize, name: &str) -> Option<usize> {
    let b = html.as_bytes();
    while let Some(i) = html[from..].find("</") {
        let at = from + i;
        let after = at + 2 + name.len();
        if html
            .get(at + 2..after)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
            && b.get(after)
                .is_none_or(|c| c.is_ascii_whitespace() || matches!(c, b'>' | b'/'))
        {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

/// Values of the named attributes of start tags, with their offsets.
pub fn attribute_values<'h>(html: &'h str, names: &[&str]) -> Vec<(&'h str, usize)> {
    let mut out = Vec::new();
    for tag in tags(html).filter(|t| !t.end) {
        for a in tag.attributes() {
            if let Some(value) = a.value
                && names.iter().any(|want| want.eq_ignore_ascii_case(a.name))
            {
                out.push(value);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn tags_come_in_order_within_the_text_with_their_values_where_said(
            text in crate::arbitrary::text(&[
                "<", ">", "</", "/>", "<a", "<p class=x>", " href=\"", "\"", "'", "=", " ",
                "<!--", "-->", "<script>", "</script>", "<style>", "</style>", "<textarea>",
                "<!DOCTYPE html>", "<?x?>", "é", "\n",
            ])
        ) {
            let mut end = 0;
            for tag in tags(&text) {
                proptest::prop_assert!(end <= tag.range.start && tag.range.start < tag.range.end);
                proptest::prop_assert!(tag.range.end <= text.len());
                end = tag.range.end;
                for a in tag.attributes() {
                    if let Some((value, at)) = a.value {
                        proptest::prop_assert_eq!(&text[at..at + value.len()], value);
                    }
                }
            }
        }
    }

    #[test]
    fn tags_and_attributes_as_a_browser_reads_them() {
        let html = concat!(
            r#"<p class=x id='a b'>t</p><!-- <a href="no"> --><img src="p.png" alt="1 > 0">"#,
            r#"<script>if (a<b) { s = '<a href="no">'; }</script><a href=u.html>a</a>"#,
            r#"<noscript><a href="n.html">n</a></noscript>"#
        );
        let seen: Vec<(String, bool)> = tags(html)
            .map(|t| (html[t.range.clone()].to_string(), t.end))
            .collect();
        assert_eq!(
            seen,
            [
                (r#"<p class=x id='a b'>"#.to_string(), false),
                ("</p>".to_string(), true),
                (r#"<img src="p.png" alt="1 > 0">"#.to_string(), false),
                ("<script>".to_string(), false),
                ("</script>".to_string(), true),
                ("<a href=u.html>".to_string(), false),
                ("</a>".to_string(), true),
                ("<noscript>".to_string(), false),
                (r#"<a href="n.html">"#.to_string(), false),
                ("</a>".to_string(), true),
                ("</noscript>".to_string(), true),
            ]
        );
        let values: Vec<&str> = attribute_values(html, &["id", "src", "href"])
            .into_iter()
            .map(|(v, at)| {
                assert_eq!(&html[at..at + v.len()], v);
                v
            })
            .collect();
        assert_eq!(values, ["a b", "p.png", "u.html", "n.html"]);
    }

    #[test]
    fn a_tag_cut_off_is_not_closed() {
        let t: Vec<Tag> = tags(r#"a <b>c</b> 1 < 2 <a href="x>t"#).collect();
        assert_eq!(t.len(), 3);
        assert!(t[0].closed && t[1].closed && t[1].end);
        assert!(!t[2].closed);
        assert_eq!(t[2].attributes().next().unwrap().value.unwrap().0, "x>t");
    }
}
