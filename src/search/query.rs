//! From what the user typed to a tantivy query.
//!
//! - Words must all match (in the step's title, section, runbook title or body), stemmed:
//!   `licences` finds `licence`. Common English words (`the`, `which`, `how`) are left out.
//! - `"a phrase"` matches those words in that order.
//! - `consen*` matches words starting with `consen`.
//! - A word of 4 letters or more also matches words one edit away (two for 8 letters or more),
//!   ranked below exact matches.
//! - Titles count more than sections and runbook titles, which count more than bodies; the
//!   code blocks of a chapter count least.

use std::collections::{BTreeMap, HashMap};

use tantivy::query::{
    BooleanQuery, BoostQuery, EnableScoring, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Index, Searcher, Term};

use super::schema::Fields;

/// Words left out of a query unless it has nothing else: Lucene's English stop words, and
/// the words a question is made of.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they",
    "this", "to", "was", "will", "with", "which", "what", "who", "whom", "where", "when", "why",
    "how", "do", "does", "did", "i", "me", "my", "we", "our", "you", "your", "can", "should",
    "would", "could", "am", "been", "has", "have", "had", "about", "from",
];

/// How much a match counts, by field.
const TITLE_BOOST: f32 = 3.0;
const SECTION_BOOST: f32 = 1.3;
const RUNBOOK_BOOST: f32 = 0.8;
const BODY_BOOST: f32 = 1.0;
/// A chapter's code blocks (the guide's TOML examples are full of fact names): findable, but
/// below prose that says the same words.
const CODE_BOOST: f32 = 0.2;
/// How much a near match counts, by number of edits, and a prefix match.
const EDIT_BOOST: [f32; 3] = [1.0, 0.4, 0.25];
const PREFIX_BOOST: f32 = 0.8;
const MAX_VARIANTS: usize = 8;
const MAX_PREFIX_TERMS: usize = 32;

/// One part of a query as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Word(String),
    Prefix(String),
    Phrase(Vec<String>),
}

impl Part {
    pub fn display(&self) -> String {
        match self {
            Part::Word(w) => w.clone(),
            Part::Prefix(p) => format!("{p}*"),
            Part::Phrase(ws) => format!("\"{}\"", ws.join(" ")),
        }
    }
}

/// Splits a query into words, prefixes and phrases, lowercased and cut into words the way the
/// index cuts text (`1-tier` becomes the phrase `"1 tier"`).
pub fn parse(query: &str, words: &mut TextAnalyzer) -> Vec<Part> {
    let mut raw: Vec<(bool, String)> = Vec::new();
    let mut rest = query;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            let inner = &rest[1..];
            let end = inner.find('"').unwrap_or(inner.len());
            raw.push((true, inner[..end].to_string()));
            rest = inner.get(end + 1..).unwrap_or("");
        } else if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            raw.push((false, rest[..end].to_string()));
            rest = &rest[end..];
        }
    }
    let mut parts = Vec::new();
    for (quoted, text) in raw {
        let tokens = tokens(words, &text);
        match tokens.len() {
            0 => {}
            1 if !quoted && text.ends_with('*') => {
                parts.push(Part::Prefix(tokens.into_iter().next().unwrap_or_default()))
            }
            1 if !quoted => parts.push(Part::Word(tokens.into_iter().next().unwrap_or_default())),
            _ => parts.push(Part::Phrase(tokens)),
        }
    }
    let kept: Vec<Part> = parts
        .iter()
        .filter(|p| !matches!(p, Part::Word(w) if STOP_WORDS.contains(&w.as_str())))
        .cloned()
        .collect();
    if kept.is_empty() { parts } else { kept }
}

fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push(t.text.clone());
    }
    out
}

/// A part of the query, ready to run.
pub struct Group {
    pub part: Part,
    pub query: Box<dyn Query>,
    /// Whether the index holds the part at all (exactly or nearly): when not, a suggestion.
    pub known: bool,
    /// The stems that match it, each with how much it counts (1 for the word itself, less
    /// for a near word or a prefix's); all of them, in that order, for a phrase.
    pub stems: Vec<(String, f32)>,
}

impl Group {
    /// Whether the words of a phrase must all be there (rather than any one stem).
    pub fn needs_all(&self) -> bool {
        matches!(self.part, Part::Phrase(_)) && self.stems.len() > 1
    }
}

pub struct Builder<'a> {
    pub searcher: &'a Searcher,
    pub fields: Fields,
    stemmer: TextAnalyzer,
}

fn term_query(field: Field, text: &str, boost: f32) -> Box<dyn Query> {
    let q = TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    );
    if boost == 1.0 {
        Box::new(q)
    } else {
        Box::new(BoostQuery::new(Box::new(q), boost))
    }
}

/// The end of the range of terms starting with `prefix`.
fn prefix_end(prefix: &str) -> Option<Vec<u8>> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

impl<'a> Builder<'a> {
    pub fn new(index: &Index, searcher: &'a Searcher, fields: Fields) -> tantivy::Result<Self> {
        Ok(Builder {
            searcher,
            fields,
            stemmer: index.tokenizer_for_field(fields.body)?,
        })
    }

    fn stem(&mut self, word: &str) -> String {
        tokens(&mut self.stemmer, word)
            .into_iter()
            .next()
            .unwrap_or_else(|| word.to_string())
    }

    /// A stem searched in every text field.
    fn stem_query(&self, stem: &str, boost: f32) -> Vec<Box<dyn Query>> {
        let f = &self.fields;
        vec![
            term_query(f.title, stem, TITLE_BOOST * boost),
            term_query(f.section, stem, SECTION_BOOST * boost),
            term_query(f.runbook_title, stem, RUNBOOK_BOOST * boost),
            term_query(f.body, stem, BODY_BOOST * boost),
            term_query(f.code, stem, CODE_BOOST * boost),
        ]
    }

    fn stem_known(&self, stem: &str) -> bool {
        let f = &self.fields;
        [f.title, f.section, f.runbook_title, f.body, f.code]
            .iter()
            .any(|&field| {
                self.searcher
                    .doc_freq(&Term::from_field_text(field, stem))
                    .is_ok_and(|n| n > 0)
            })
    }

    /// Words as written (in the `words` dictionary) that the automaton of a fuzzy query
    /// accepts, with how many documents hold each.
    pub fn dictionary_matches(&self, word: &str, distance: u8) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        let query = FuzzyTermQuery::new(
            Term::from_field_text(self.fields.words, word),
            distance,
            true,
        );
        let Ok(automaton) = query.automaton() else {
            return out;
        };
        for reader in self.searcher.segment_readers() {
            let Ok(inverted) = reader.inverted_index(self.fields.words) else {
                continue;
            };
            let Ok(mut stream) = inverted.terms().search(&automaton).into_stream() else {
                continue;
            };
            while stream.advance() {
                if let Ok(term) = std::str::from_utf8(stream.key()) {
                    *out.entry(term.to_string()).or_insert(0) += u64::from(stream.value().doc_freq);
                }
            }
        }
        out
    }

    fn prefix_matches(&self, prefix: &str) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for reader in self.searcher.segment_readers() {
            let Ok(inverted) = reader.inverted_index(self.fields.words) else {
                continue;
            };
            let mut range = inverted.terms().range().ge(prefix.as_bytes());
            if let Some(end) = prefix_end(prefix) {
                range = range.lt(end);
            }
            let Ok(mut stream) = range.into_stream() else {
                continue;
            };
            while stream.advance() {
                if let Ok(term) = std::str::from_utf8(stream.key()) {
                    *out.entry(term.to_string()).or_insert(0) += u64::from(stream.value().doc_freq);
                }
            }
        }
        out
    }

    pub fn group(&mut self, part: &Part) -> Group {
        let f = self.fields;
        match part {
            Part::Word(word) => {
                let stem = self.stem(word);
                let mut known = self.stem_known(&stem);
                let mut clauses = self.stem_query(&stem, 1.0);
                let mut matched = vec![(stem.clone(), 1.0)];
                let len = word.chars().count();
                let distance = match len {
                    0..=3 => 0,
                    4..=7 => 1,
                    _ => 2,
                };
                if distance > 0 {
                    // Near words, closest and most common first, one query per stem.
                    let mut near: Vec<(usize, u64, String)> = self
                        .dictionary_matches(word, distance)
                        .into_iter()
                        .filter(|(t, _)| t != word)
                        .map(|(t, n)| (strsim::osa_distance(word, &t), n, t))
                        .collect();
                    near.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
                    let mut stems: HashMap<String, usize> = HashMap::new();
                    stems.insert(stem.clone(), 0);
                    for (d, _, t) in near {
                        if stems.len() > MAX_VARIANTS {
                            break;
                        }
                        let s = self.stem(&t);
                        if stems.contains_key(&s) {
                            continue;
                        }
                        stems.insert(s.clone(), d);
                        clauses.extend(self.stem_query(&s, EDIT_BOOST[d.min(2)]));
                        matched.push((s, EDIT_BOOST[d.min(2)]));
                        known = true;
                    }
                }
                Group {
                    part: part.clone(),
                    query: Box::new(BooleanQuery::union(clauses)),
                    known,
                    stems: matched,
                }
            }
            Part::Prefix(prefix) => {
                let mut terms: Vec<(u64, String)> = self
                    .prefix_matches(prefix)
                    .into_iter()
                    .map(|(t, n)| (n, t))
                    .collect();
                terms.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                let mut stems: Vec<String> = Vec::new();
                for (_, t) in terms {
                    if stems.len() >= MAX_PREFIX_TERMS {
                        break;
                    }
                    let s = self.stem(&t);
                    if !stems.contains(&s) {
                        stems.push(s);
                    }
                }
                let known = !stems.is_empty();
                let clauses: Vec<Box<dyn Query>> = stems
                    .iter()
                    .flat_map(|s| self.stem_query(s, PREFIX_BOOST))
                    .collect();
                Group {
                    part: part.clone(),
                    query: Box::new(BooleanQuery::union(clauses)),
                    known,
                    stems: stems.into_iter().map(|s| (s, PREFIX_BOOST)).collect(),
                }
            }
            Part::Phrase(words) => {
                let stems: Vec<String> = words.iter().map(|w| self.stem(w)).collect();
                if stems.len() == 1 {
                    let known = self.stem_known(&stems[0]);
                    return Group {
                        part: part.clone(),
                        query: Box::new(BooleanQuery::union(self.stem_query(&stems[0], 1.0))),
                        known,
                        stems: vec![(stems[0].clone(), 1.0)],
                    };
                }
                let phrase = |field: Field, boost: f32| -> Box<dyn Query> {
                    let terms = stems
                        .iter()
                        .map(|s| Term::from_field_text(field, s))
                        .collect();
                    Box::new(BoostQuery::new(Box::new(PhraseQuery::new(terms)), boost))
                };
                let known = stems.iter().all(|s| self.stem_known(s));
                Group {
                    part: part.clone(),
                    query: Box::new(BooleanQuery::union(vec![
                        phrase(f.title, TITLE_BOOST),
                        phrase(f.section, SECTION_BOOST),
                        phrase(f.runbook_title, RUNBOOK_BOOST),
                        phrase(f.body, BODY_BOOST),
                        phrase(f.code, CODE_BOOST),
                    ])),
                    known,
                    stems: stems.into_iter().map(|s| (s, 1.0)).collect(),
                }
            }
        }
    }

    /// The closest word of the index to an unknown one, if there is one close enough.
    pub fn suggest(&self, word: &str) -> Option<String> {
        let most = match word.chars().count() {
            0..=2 => return None,
            3..=5 => 1,
            _ => 2,
        };
        let mut best: Option<(usize, u64, String)> = None;
        for distance in 1..=most {
            for (t, n) in self.dictionary_matches(word, distance) {
                if t == word {
                    continue;
                }
                let d = strsim::osa_distance(word, &t);
                let better = match &best {
                    None => true,
                    Some((bd, bn, bt)) => {
                        (d, std::cmp::Reverse(n), &t) < (*bd, std::cmp::Reverse(*bn), bt)
                    }
                };
                if better {
                    best = Some((d, n, t));
                }
            }
            if best.is_some() {
                break;
            }
        }
        best.map(|(_, _, t)| t)
    }
}

/// Whether a document matches a query, checked on its own (for the words a hit lacks).
pub fn matches(searcher: &Searcher, query: &dyn Query, addr: DocAddress) -> bool {
    let Ok(weight) = query.weight(EnableScoring::disabled_from_searcher(searcher)) else {
        return false;
    };
    let reader = searcher.segment_reader(addr.segment_ord);
    let Ok(mut scorer) = weight.scorer(reader, 1.0) else {
        return false;
    };
    if scorer.doc() > addr.doc_id {
        return false;
    }
    scorer.seek(addr.doc_id) == addr.doc_id
}

/// All groups required, or all but `missing` of them.
pub fn combine(groups: &[Group], missing: usize) -> Box<dyn Query> {
    if missing == 0 {
        Box::new(BooleanQuery::new(
            groups
                .iter()
                .map(|g| (Occur::Must, g.query.box_clone()))
                .collect(),
        ))
    } else {
        Box::new(BooleanQuery::with_minimum_required_clauses(
            groups
                .iter()
                .map(|g| (Occur::Should, g.query.box_clone()))
                .collect(),
            groups.len().saturating_sub(missing).max(1),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer};

    fn analyzer() -> TextAnalyzer {
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .build()
    }

    #[test]
    fn parses_words_phrases_and_prefixes() {
        let parts = parse(
            "Which account needs the \"Admin Agent\" role? consen* 1-tier",
            &mut analyzer(),
        );
        assert_eq!(
            parts,
            vec![
                Part::Word("account".into()),
                Part::Word("needs".into()),
                Part::Phrase(vec!["admin".into(), "agent".into()]),
                Part::Word("role".into()),
                Part::Prefix("consen".into()),
                Part::Phrase(vec!["1".into(), "tier".into()]),
            ]
        );
        assert_eq!(
            parse("the", &mut analyzer()),
            vec![Part::Word("the".into())]
        );
        assert_eq!(parse("\"unclosed phrase", &mut analyzer()).len(), 1);
        assert!(parse("?!", &mut analyzer()).is_empty());
    }
}
