//! Markdown step text as written, filled in: `{{ fact }}`, `{{ lookup }}`,
//! `{{ customer.name }}`, and conditional parts decided.

use std::borrow::Cow;

use super::parts::{self, Part, Shown};
use super::tokens::{ELSE_TOKEN, END_TOKEN, part_token};
use super::{Fill, Values};
use crate::condition::Expr;
use crate::facts::{FactValues, Vocabulary};
use crate::profile::Customer;

pub struct Template {
    values: Values,
    /// Markdown to be rendered, where a `<` in a value would start an HTML tag: values and
    /// marks go in escaped.
    escaped: bool,
    /// Conditional parts left as tokens, for `Tokens` to decide once the facts are known
    /// (the site renders step text once for every reader of the checklist builder).
    tokenize: bool,
}

impl Template {
    /// Step text for these facts and customer, to be read as it is (in a terminal).
    pub fn new(vocab: &Vocabulary, customer: &Customer, facts: &FactValues) -> Self {
        Self::with(Values::new(vocab, customer, facts), false, false)
    }

    /// Step text for the facts given, no default assumed (a runbook shown for some facts;
    /// search without a profile): every value and conditional text the facts given leave open
    /// shown with what chooses it.
    pub fn as_given(vocab: &Vocabulary, customer: &Customer, facts: &FactValues) -> Self {
        Self::with(Values::as_given(vocab, customer, facts), false, false)
    }

    /// Step text for these facts and customer, to be rendered as Markdown ("Contoso <Ltd>"
    /// would otherwise lose its "<Ltd>"): values go in escaped. What a run pins, in the
    /// command line and in the checklist builder alike.
    pub fn markdown(vocab: &Vocabulary, customer: &Customer, facts: &FactValues) -> Self {
        let mut values = Values::new(vocab, customer, facts);
        for text in values.texts.values_mut() {
            *text = escape(text).into_owned();
        }
        for alternatives in values.alternatives.values_mut() {
            for (value, chosen) in alternatives {
                *value = escape(value).into_owned();
                *chosen = escape(chosen).into_owned();
            }
        }
        Self::with(values, true, false)
    }

    /// Step text with these values (tokens, in the site) and its conditional parts as tokens
    /// (`Tokens` decides them).
    pub fn tokenizing(values: Values) -> Self {
        Self::with(values, false, true)
    }

    fn with(values: Values, escaped: bool, tokenize: bool) -> Self {
        Template {
            values,
            escaped,
            tokenize,
        }
    }

    /// Each `{{ variable }}` replaced by its value. `runbook check` refuses anything else in
    /// `{{ }}`, so this is the whole of a template's work; `{{-` and `-}}` take the white
    /// space before and after.
    fn substitute(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 32);
        let mut done = 0;
        while let Some(open) = text[done..].find("{{").map(|i| done + i) {
            let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
                break;
            };
            let inner = &text[open + 2..close];
            let (trim_before, inner) = match inner.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, inner),
            };
            let (trim_after, inner) = match inner.strip_suffix('-') {
                Some(rest) => (true, rest),
                None => (false, inner),
            };
            let before = &text[done..open];
            out.push_str(if trim_before {
                before.trim_end()
            } else {
                before
            });
            if let Some(value) = self.values.texts.get(inner.trim()) {
                out.push_str(value);
            }
            done = close + 2;
            if trim_after {
                done = text.len() - text[done..].trim_start().len();
            }
        }
        out.push_str(&text[done..]);
        out
    }

    /// `[label]({{ lookup }})` for a lookup not decided: the link once per value it may
    /// have, each followed by what chooses it, so that every link still goes somewhere.
    fn links<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.values.alternatives.is_empty() || !text.contains("]({{") {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        for (at, _) in text.match_indices("]({{") {
            if at < done {
                continue;
            }
            let name_at = at + 4;
            let Some(close) = text[name_at..].find("}}").map(|i| name_at + i) else {
                break;
            };
            let rest = text[close + 2..].trim_start_matches(' ');
            let (Some(alternatives), true) = (
                self.values.alternatives.get(text[name_at..close].trim()),
                rest.starts_with(')'),
            ) else {
                continue;
            };
            let end = text.len() - rest.len() + 1;
            let Some(open) = label_start(&text[done..at]).map(|i| done + i) else {
                continue;
            };
            let label = &text[open + 1..at];
            out.push_str(&text[done..open]);
            let links: Vec<String> = alternatives
                .iter()
                .map(|(value, chosen)| format!("[{label}]({value}) ({chosen})"))
                .collect();
            out.push_str(&links.join(" or "));
            done = end;
        }
        out.push_str(&text[done..]);
        Cow::Owned(out)
    }

    /// The conditional parts decided for these facts, or left as tokens.
    fn parts<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Ok(found) = parts::parse(text) else {
            return Cow::Borrowed(text);
        };
        if found.is_empty() {
            return Cow::Borrowed(text);
        }
        let condition = |written: &str| self.values.condition(written);
        if self.tokenize {
            return Cow::Owned(tokenized(text, &found, condition));
        }
        let mark = |words: &str| format!("*(only if {})* ", self.escape(words));
        Cow::Owned(parts::resolve(
            text,
            &found,
            |written| self.values.shown(&condition(written)),
            mark,
        ))
    }

    fn escape<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.escaped {
            escape(text)
        } else {
            Cow::Borrowed(text)
        }
    }
}

/// Where the label of the link whose `](` ends `text` begins: its `[`.
fn label_start(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices().rev() {
        match c {
            ']' => depth += 1,
            '[' if depth == 0 => return Some(i),
            '[' => depth -= 1,
            '\n' if text[..i].ends_with('\n') => return None,
            _ => {}
        }
    }
    None
}

/// Each part's texts with tokens where its tags were: the open token before its text, the
/// `else` token before the other, the end token after the last, each set off by a space so
/// that Markdown reads the words around it as written (`Tokens` takes the spaces back).
fn tokenized(text: &str, found: &[Part], condition: impl Fn(&str) -> Expr) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut done = 0;
    for p in found {
        out.push_str(&text[done..p.whole.start]);
        done = p.whole.end;
        out.push_str(&text[p.prefix.clone()]);
        let when = part_token(&condition(&text[p.cond.clone()]));
        let mut pieces = vec![(when + " ", &text[p.then.clone()])];
        if let Some(other) = &p.otherwise {
            pieces.push((format!(" {ELSE_TOKEN} "), &text[other.clone()]));
        }
        let last = pieces.len() - 1;
        for (i, (token, piece)) in pieces.into_iter().enumerate() {
            let at = parts::content_start(piece);
            out.push_str(&piece[..at]);
            out.push_str(&token);
            let piece = &piece[at..];
            match (i == last, piece.strip_suffix('\n')) {
                (true, Some(line)) => {
                    out.push_str(line);
                    out.push_str(&format!(" {END_TOKEN}\n"));
                }
                (true, None) => {
                    out.push_str(piece);
                    out.push_str(&format!(" {END_TOKEN}"));
                }
                (false, _) => out.push_str(piece),
            }
        }
        out.push_str(&text[p.suffix.clone()]);
    }
    out.push_str(&text[done..]);
    out
}

/// The text with its conditional tags taken out and every text kept: what a template reads
/// for its variables.
pub(super) fn without_parts(text: &str) -> Cow<'_, str> {
    match parts::parse(text) {
        Ok(found) if !found.is_empty() => Cow::Owned(parts::resolve(
            text,
            &found,
            |_| (Shown::Keep, Shown::Keep),
            |_| String::new(),
        )),
        _ => Cow::Borrowed(text),
    }
}

/// Text made safe in Markdown: a `<` no longer starts a tag, an `&` an entity (a `>` needs
/// nothing).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<']) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            _ => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

impl Fill for Template {
    fn values(&self) -> &Values {
        &self.values
    }

    fn fill(&self, text: &str) -> String {
        if !text.contains("{{") && !text.contains("{%") {
            return text.to_string();
        }
        let linked = if self.tokenize {
            Cow::Borrowed(text)
        } else {
            self.links(text)
        };
        let decided = self.parts(&linked);
        self.substitute(&decided)
    }

    fn variables(&self, text: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut at = 0;
        while let Some(open) = text[at..].find("{{").map(|i| at + i) {
            let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
                break;
            };
            let name = text[open + 2..close].trim_matches(|c: char| c == '-' || c.is_whitespace());
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
            at = close + 2;
        }
        names
    }

    fn conditions(&self, text: &str) -> Vec<Expr> {
        parts::parse(text)
            .unwrap_or_default()
            .iter()
            .map(|p| self.values.condition(&text[p.cond.clone()]))
            .collect()
    }
}
