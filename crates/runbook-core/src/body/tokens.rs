//! Step text rendered once to HTML with tokens where values and conditional parts go, filled
//! in for one customer: how the checklist builder (and the site's pages, for a reader whose
//! facts are not known) show step text without rendering Markdown again.
//!
//! Tokens are letters and digits, which Markdown and HTML sanitizing leave intact: `rbkv{i}q`
//! for the `i`-th value, `rbkw{hex}q` where a conditional part begins (its condition, in
//! hexadecimal), `rbkeq` where its `{% else %}` text begins and `rbkzq` where it ends.

use std::borrow::Cow;
use std::ops::Range;

use super::parts::Shown;
use super::{Fill, Values};
use crate::condition::Expr;

pub(super) const ELSE_TOKEN: &str = "rbkeq";
pub(super) const END_TOKEN: &str = "rbkzq";

/// The token that stands for the `i`-th variable.
pub fn token(i: usize) -> String {
    format!("rbkv{i}q")
}

/// The token that begins a conditional part with this condition: the condition resolved, so
/// that the page's engine needs no parser.
pub(super) fn part_token(cond: &Expr) -> String {
    let json = serde_json::to_string(cond).unwrap_or_default();
    let mut out = String::with_capacity(5 + 2 * json.len());
    out.push_str("rbkw");
    for b in json.bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out.push('q');
    out
}

/// A token found in a text.
#[derive(Debug, PartialEq)]
enum Found {
    Value(usize),
    When(Expr),
    Else,
    End,
}

/// Each token in `text`, with its byte range.
fn tokens(text: &str) -> impl Iterator<Item = (Range<usize>, Found)> + '_ {
    text.match_indices("rbk").filter_map(move |(at, _)| {
        let rest = &text[at + 3..];
        let kind = rest.chars().next()?;
        let digits = rest[1..]
            .bytes()
            .take_while(|b| match kind {
                'v' => b.is_ascii_digit(),
                'w' => b.is_ascii_hexdigit() && !b.is_ascii_uppercase(),
                _ => false,
            })
            .count();
        let end = at + 4 + digits;
        if !text[end..].starts_with('q') {
            return None;
        }
        let inner = &text[at + 4..end];
        let found = match kind {
            'v' => Found::Value(inner.parse().ok()?),
            'w' => {
                let bytes: Option<Vec<u8>> = (0..inner.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(inner.get(i..i + 2)?, 16).ok())
                    .collect();
                Found::When(serde_json::from_slice(&bytes?).ok()?)
            }
            'e' if inner.is_empty() => Found::Else,
            'z' if inner.is_empty() => Found::End,
            _ => return None,
        };
        Some((at..end + 1, found))
    })
}

pub struct Tokens {
    values: Values,
}

impl Tokens {
    pub fn new(values: Values) -> Self {
        Tokens { values }
    }

    /// Links whose address is a lookup not decided (`<a href="rbkv3q">`): the link once per
    /// value it may have, each followed by what chooses it.
    fn links<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.values.alternatives.is_empty() || !text.contains("href=\"rbkv") {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        for (range, found) in tokens(text) {
            let Found::Value(i) = found else { continue };
            let Some((name, _)) = self.values.texts.get_index(i) else {
                continue;
            };
            let (Some(alternatives), true) = (
                self.values.alternatives.get(name),
                text[..range.start].ends_with("href=\""),
            ) else {
                continue;
            };
            let (Some(open), Some(close)) = (
                text[done..range.start].rfind("<a ").map(|i| done + i),
                text[range.end..].find("</a>").map(|i| range.end + i + 4),
            ) else {
                continue;
            };
            out.push_str(&text[done..open]);
            let links: Vec<String> = alternatives
                .iter()
                .map(|(value, chosen)| {
                    let mut address = String::new();
                    escape_html(value, &mut address);
                    let mut link = String::new();
                    link.push_str(&text[open..range.start]);
                    link.push_str(&address);
                    link.push_str(&text[range.end..close]);
                    link.push_str(" (");
                    escape_html(chosen, &mut link);
                    link.push(')');
                    link
                })
                .collect();
            out.push_str(&links.join(" or "));
            done = close;
        }
        out.push_str(&text[done..]);
        Cow::Owned(out)
    }

    /// Conditional parts decided: each text kept, dropped, or marked with its condition; the
    /// list items and paragraphs a dropped part leaves empty go too.
    fn parts<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if !text.contains("rbkw") {
            return Cow::Borrowed(text);
        }
        let found: Vec<(Range<usize>, Found)> = tokens(text)
            .filter(|(_, f)| !matches!(f, Found::Value(_)))
            .collect();
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        let mut dropped = false;
        let mut i = 0;
        while i < found.len() {
            let (open, Found::When(cond)) = &found[i] else {
                i += 1;
                continue;
            };
            let other = found.get(i + 1).filter(|(_, f)| *f == Found::Else);
            let end_at = i + 1 + usize::from(other.is_some());
            let Some((end, Found::End)) = found.get(end_at) else {
                i += 1;
                continue;
            };
            out.push_str(&text[done..open.start]);
            // Each text is set off from its tokens by a space on either side.
            let then_end = other.map_or(end.start, |(e, _)| e.start);
            let mut pieces = vec![(trim_one(&text[open.end..then_end]), false)];
            if let Some((e, _)) = other {
                pieces.push((trim_one(&text[e.end..end.start]), true));
            }
            let (then, otherwise) = self.values.shown(cond);
            let mut body = String::new();
            for ((piece, is_else), shown) in pieces.into_iter().zip([then, otherwise]) {
                let mark = match shown {
                    Shown::Drop => {
                        dropped = true;
                        continue;
                    }
                    Shown::Keep => None,
                    Shown::Mark(words) => Some(words),
                };
                if is_else && !body.is_empty() {
                    body.push(' ');
                }
                if let Some(words) = mark {
                    body.push_str("<em class=\"when\">(only if ");
                    escape_html(&words, &mut body);
                    body.push_str(")</em> ");
                }
                body.push_str(piece);
            }
            out.push_str(&body);
            done = end.end;
            i = end_at + 1;
        }
        out.push_str(&text[done..]);
        if dropped {
            out = without_empty(&out);
        }
        Cow::Owned(out)
    }
}

/// A text between tokens without the space set off before it and the one after it (Markdown
/// may have taken either already).
fn trim_one(text: &str) -> &str {
    let text = text.strip_prefix(' ').unwrap_or(text);
    text.strip_suffix(' ').unwrap_or(text)
}

/// The HTML without the list items and paragraphs left with nothing in them.
fn without_empty(html: &str) -> String {
    let mut out = html.to_string();
    for (open, close) in [("<li>", "</li>"), ("<p>", "</p>")] {
        let mut at = 0;
        while let Some(i) = out[at..].find(open).map(|i| at + i) {
            let inner = &out[i + open.len()..];
            let blank = inner.len() - inner.trim_start().len();
            if inner[blank..].starts_with(close) {
                let mut end = i + open.len() + blank + close.len();
                if out[end..].starts_with('\n') {
                    end += 1;
                }
                out.replace_range(i..end, "");
                at = i;
            } else {
                at = i + open.len();
            }
        }
    }
    out
}

impl Fill for Tokens {
    fn values(&self) -> &Values {
        &self.values
    }

    fn fill(&self, text: &str) -> String {
        let text = self.links(text);
        let text = self.parts(&text);
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        for (range, found) in tokens(&text) {
            let Found::Value(i) = found else { continue };
            let Some((_, value)) = self.values.texts.get_index(i) else {
                continue;
            };
            out.push_str(&text[done..range.start]);
            escape_html(value, &mut out);
            done = range.end;
        }
        out.push_str(&text[done..]);
        out
    }

    fn variables(&self, text: &str) -> Vec<String> {
        tokens(text)
            .filter_map(|(_, f)| match f {
                Found::Value(i) => self.values.texts.get_index(i).map(|(n, _)| n.clone()),
                _ => None,
            })
            .collect()
    }

    fn conditions(&self, text: &str) -> Vec<Expr> {
        tokens(text)
            .filter_map(|(_, f)| match f {
                Found::When(cond) => Some(cond),
                _ => None,
            })
            .collect()
    }
}

/// Text made safe in HTML, text and attribute values alike.
pub fn escape_html(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    fn values() -> Values {
        let mut texts = IndexMap::new();
        for i in 0..13 {
            texts.insert(format!("v{i}"), format!("<{i}>"));
        }
        Values {
            texts,
            unknown_lookups: IndexMap::new(),
            alternatives: IndexMap::new(),
            facts: Default::default(),
            vocab: Default::default(),
        }
    }

    #[test]
    fn tokens_are_filled_escaped_and_never_inside_longer_ones() {
        let t = Tokens::new(values());
        assert_eq!(t.fill("a rbkv1q b rbkv12q c"), "a &lt;1&gt; b &lt;12&gt; c");
        assert_eq!(t.fill("rbkv99q rbkvq rbkv1"), "rbkv99q rbkvq rbkv1");
        assert_eq!(t.variables("rbkv12q rbkv0q"), ["v12", "v0"]);
    }

    #[test]
    fn a_condition_survives_as_a_token() {
        let cond = Expr::Not(Box::new(Expr::Const(true)));
        let token = part_token(&cond);
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric()));
        let text = format!("a {token} b {ELSE_TOKEN} c {END_TOKEN}");
        let t = Tokens::new(values());
        assert_eq!(t.conditions(&text), [cond]);
    }

    #[test]
    fn empty_items_and_paragraphs_go() {
        assert_eq!(
            without_empty("<ul>\n<li>a</li>\n<li> </li>\n</ul>\n<p></p>\n<p>b</p>"),
            "<ul>\n<li>a</li>\n</ul>\n<p>b</p>"
        );
    }
}
