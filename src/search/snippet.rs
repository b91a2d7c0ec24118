//! A hit's snippet: the sentence of its text that best matches the query, with the sentences
//! around it as far as they fit.
//!
//! The text is cut into sentences (prose) or lines (code), and each is scored by the query's
//! parts it holds, its words stemmed as the index stems them: a part counts 1 for the word
//! itself, less for a near word or a prefix's; a phrase counts when all its words are there.
//! The best sentence (the first of equals) is shown with the one before, then the one after,
//! and so on while the snippet stays within its length, and the start of the next one if
//! there is room left; a sentence longer than that is cut around its matches.

use std::ops::Range;

use tantivy::tokenizer::TextAnalyzer;

use super::query::Group;
use super::text;

/// At most this many characters, besides the ellipses around a snippet cut from its text.
pub const BUDGET: usize = 220;
/// How much of a long sentence is shown before its first match, at most, in characters.
const LEAD_IN: usize = 40;
/// The least room worth filling with the start of the sentence after, in characters.
const MIN_PART: usize = 40;

/// A text to take a snippet from: prose is cut into sentences, code into lines.
pub struct Source<'a> {
    pub text: &'a str,
    pub code: bool,
}

/// A word of the text, where it is and how much it counts for each part of the query.
struct Token {
    at: Range<usize>,
    stem: String,
    /// The weight of its match with each group (0 for none).
    weights: Vec<f32>,
}

/// A source cut into words and sentences.
struct Cut<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    units: Vec<Range<usize>>,
}

impl Token {
    fn matches(&self) -> bool {
        self.weights.iter().any(|w| *w > 0.0)
    }
}

/// The snippet for a query and its highlights (byte ranges into it), from the first source
/// that has the best sentence; the start of the first non-empty source when none matches.
pub fn make(
    sources: &[Source],
    groups: &[Group],
    analyzer: &mut TextAnalyzer,
    budget: usize,
) -> (String, Vec<Range<usize>>) {
    let mut cut: Vec<Cut> = Vec::new();
    // (score, matching words, source, unit) of the best unit so far.
    let mut best: Option<(f32, usize, usize, usize)> = None;
    for (si, source) in sources.iter().enumerate() {
        let tokens = tokens(source.text, groups, analyzer);
        let units = units(source.text, !source.code);
        for (ui, unit) in units.iter().enumerate() {
            let inside = within(&tokens, unit);
            let score = score(inside, groups);
            let count = inside.iter().filter(|t| t.matches()).count();
            let better = match best {
                None => score > 0.0,
                Some((s, c, _, _)) => score > s || (score == s && count > c),
            };
            if better {
                best = Some((score, count, si, ui));
            }
        }
        cut.push(Cut {
            text: source.text,
            tokens,
            units,
        });
    }
    let Some((_, _, si, ui)) = best else {
        let text = sources
            .iter()
            .map(|s| s.text.trim())
            .find(|t| !t.is_empty())
            .unwrap_or("");
        let (lead, cut) = text::lead(text, budget);
        return text::tidy(&lead, &[], false, cut);
    };
    let Cut {
        text,
        tokens,
        units,
    } = &cut[si];
    let span = expand(text, tokens, units, ui, groups, budget);
    let highlights: Vec<Range<usize>> = within(tokens, &span)
        .iter()
        .filter(|t| t.matches())
        .map(|t| t.at.start - span.start..t.at.end - span.start)
        .collect();
    text::tidy(
        &text[span.clone()],
        &highlights,
        !text[..span.start].trim().is_empty(),
        !text[span.end..].trim().is_empty(),
    )
}

/// The words of a text, stemmed, with their matches.
fn tokens(text: &str, groups: &[Group], analyzer: &mut TextAnalyzer) -> Vec<Token> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        let weights = groups
            .iter()
            .map(|g| {
                g.stems
                    .iter()
                    .filter(|(s, _)| *s == t.text)
                    .map(|(_, w)| *w)
                    .fold(0.0, f32::max)
            })
            .collect();
        out.push(Token {
            at: t.offset_from..t.offset_to,
            stem: t.text.clone(),
            weights,
        });
    }
    out
}

/// The tokens inside a range of the text (tokens are in text order).
fn within<'t>(tokens: &'t [Token], range: &Range<usize>) -> &'t [Token] {
    let start = tokens.partition_point(|t| t.at.start < range.start);
    let end = tokens.partition_point(|t| t.at.end <= range.end);
    &tokens[start..end.max(start)]
}

/// How well some words match the query: for each group, its best match among them (a phrase
/// only when all its words are there).
fn score(tokens: &[Token], groups: &[Group]) -> f32 {
    groups
        .iter()
        .enumerate()
        .map(|(gi, g)| {
            if g.needs_all() {
                let all = g
                    .stems
                    .iter()
                    .all(|(s, _)| tokens.iter().any(|t| t.stem == *s));
                if all { 1.0 } else { 0.0 }
            } else {
                tokens.iter().map(|t| t.weights[gi]).fold(0.0, f32::max)
            }
        })
        .sum()
}

/// A text's sentences (or lines only, for code), as trimmed byte ranges, none empty. A
/// sentence ends at a line break, or at `.`, `!` or `?` (and any closing quote or bracket)
/// followed by a space and by something other than a lowercase letter ("e.g. this" goes on).
fn units(text: &str, prose: bool) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut push = |range: Range<usize>| {
        let piece = &text[range.clone()];
        let start = range.start + (piece.len() - piece.trim_start().len());
        let end = range.start + piece.trim_end().len();
        if start < end {
            out.push(start..end);
        }
    };
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        let mut from = line_start;
        if prose {
            let chars: Vec<(usize, char)> = line.char_indices().collect();
            let mut i = 0;
            while i < chars.len() {
                if matches!(chars[i].1, '.' | '!' | '?') {
                    let mut j = i + 1;
                    while j < chars.len()
                        && matches!(chars[j].1, '"' | '\'' | ')' | ']' | '”' | '’')
                    {
                        j += 1;
                    }
                    let spaced = j < chars.len() && chars[j].1.is_whitespace();
                    let next = chars[j..].iter().find(|(_, c)| !c.is_whitespace());
                    if spaced && next.is_some_and(|(_, c)| !c.is_lowercase()) {
                        let end = line_start + chars[j].0;
                        push(from..end);
                        from = end;
                    }
                    i = j;
                } else {
                    i += 1;
                }
            }
        }
        push(from..line_end);
        line_start = line_end;
    }
    out
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// The range shown for a unit: with its neighbours, before then after, while they fit; or,
/// for a unit too long for the budget, the part of it around its best matches.
fn expand(
    text: &str,
    tokens: &[Token],
    units: &[Range<usize>],
    at: usize,
    groups: &[Group],
    budget: usize,
) -> Range<usize> {
    let unit = units[at].clone();
    if chars(&text[unit.clone()]) > budget {
        return window(text, within(tokens, &unit), &unit, groups, budget);
    }
    let (mut first, mut last) = (at, at);
    let fits = |a: usize, b: usize| chars(&text[units[a].start..units[b].end]) <= budget;
    loop {
        let before = first > 0 && fits(first - 1, last);
        if before {
            first -= 1;
        }
        let after = last + 1 < units.len() && fits(first, last + 1);
        if after {
            last += 1;
        }
        if !before && !after {
            break;
        }
    }
    let start = units[first].start;
    let mut end = units[last].end;
    // Room left: the start of the next sentence.
    if let Some(next) = units.get(last + 1) {
        let room = budget.saturating_sub(chars(&text[start..next.start]));
        if room >= MIN_PART {
            let cut = word_end(text, next.start, room, next.end);
            if chars(&text[next.start..cut]) >= MIN_PART / 2 {
                end = cut;
            }
        }
    }
    start..end
}

/// The part of a long unit, at most `budget` characters cut at spaces, that holds the most of
/// the query, starting a little before its first match.
fn window(
    text: &str,
    tokens: &[Token],
    unit: &Range<usize>,
    groups: &[Group],
    budget: usize,
) -> Range<usize> {
    let mut best: Option<(f32, Range<usize>)> = None;
    for t in tokens.iter().filter(|t| t.matches()) {
        let start = word_start(
            text,
            unit.start,
            back(text, t.at.start, LEAD_IN, unit.start),
        );
        let end = word_end(text, start, budget, unit.end);
        let range = start..end;
        let score = score(within(tokens, &range), groups);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, range));
        }
    }
    best.map_or_else(
        || unit.start..word_end(text, unit.start, budget, unit.end),
        |(_, r)| r,
    )
}

/// The byte offset `n` characters before `at`, not before `floor`.
fn back(text: &str, at: usize, n: usize, floor: usize) -> usize {
    text[floor..at]
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or(floor, |(i, _)| floor + i)
}

/// `at` moved forward to the start of a word, unless that is the first word of the range.
fn word_start(text: &str, floor: usize, at: usize) -> usize {
    if at == floor {
        return at;
    }
    match text[at..].find(char::is_whitespace) {
        Some(i) => {
            let rest = &text[at + i..];
            at + i + (rest.len() - rest.trim_start().len())
        }
        None => at,
    }
}

/// Where `budget` characters from `start` end, cut back to the last space, not after `end`.
fn word_end(text: &str, start: usize, budget: usize, end: usize) -> usize {
    let Some((i, _)) = text[start..end].char_indices().nth(budget) else {
        return end;
    };
    let cut = start + i;
    match text[start..cut].rfind(char::is_whitespace) {
        Some(j) if j > 0 => start + j,
        _ => cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::Part;
    use tantivy::query::AllQuery;
    use tantivy::tokenizer::{LowerCaser, SimpleTokenizer, Stemmer};

    fn analyzer() -> TextAnalyzer {
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(Stemmer::default())
            .build()
    }

    fn group(stems: &[&str]) -> Group {
        Group {
            part: if stems.len() > 1 {
                Part::Phrase(stems.iter().map(|s| s.to_string()).collect())
            } else {
                Part::Word(stems[0].to_string())
            },
            query: Box::new(AllQuery),
            known: true,
            stems: stems.iter().map(|s| (s.to_string(), 1.0)).collect(),
        }
    }

    fn snippet(text: &str, words: &[&str], budget: usize) -> (String, Vec<String>) {
        let groups: Vec<Group> = words.iter().map(|w| group(&[w])).collect();
        let (s, h) = make(
            &[Source { text, code: false }],
            &groups,
            &mut analyzer(),
            budget,
        );
        let words = h.iter().map(|r| s[r.clone()].to_string()).collect();
        (s, words)
    }

    #[test]
    fn sentences_end_at_stops_and_lines() {
        let text = "First one. Second, e.g. this one? \"Third.\" Fourth v2.5 here\nFifth";
        let got: Vec<&str> = units(text, true).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            got,
            vec![
                "First one.",
                "Second, e.g. this one?",
                "\"Third.\"",
                "Fourth v2.5 here",
                "Fifth"
            ]
        );
        let got: Vec<&str> = units(text, false).into_iter().map(|r| &text[r]).collect();
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn the_best_sentence_is_shown_with_its_neighbours() {
        let text = "Copy the link presented; the link icon copies it. If the link expires, \
                    restart the process. Some more text that is not needed here at all. \
                    Expires after 15 min. The link is valid for only 15 minutes.";
        let (s, words) = snippet(text, &["link", "valid"], 90);
        assert_eq!(
            s,
            "…Expires after 15 min. The link is valid for only 15 minutes."
        );
        assert_eq!(words, vec!["link", "valid"]);
        // With room for everything, everything.
        let (s, _) = snippet(text, &["link", "valid"], 500);
        assert_eq!(s, text);
    }

    #[test]
    fn words_match_by_stem_and_a_long_sentence_is_cut_around_them() {
        let long = format!(
            "{} the licences are assigned here {}",
            "word ".repeat(40),
            "more ".repeat(40)
        );
        let (s, words) = snippet(&long, &["licenc", "assign"], 60);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.chars().count() <= 62, "{s}");
        assert_eq!(words, vec!["licences", "assigned"]);
    }

    #[test]
    fn no_match_gives_the_start() {
        let (s, words) = snippet("One two three. Four.", &["zebra"], 9);
        assert_eq!(s, "One two…");
        assert!(words.is_empty());
    }

    #[test]
    fn a_phrase_counts_when_all_its_words_are_there() {
        let text = "The agent signs in. The admin agent role is assigned.";
        let groups = vec![group(&["admin", "agent"])];
        let (s, _) = make(
            &[Source { text, code: false }],
            &groups,
            &mut analyzer(),
            40,
        );
        assert_eq!(s, "…The admin agent role is assigned.");
    }
}
