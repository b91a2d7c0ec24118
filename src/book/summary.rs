//! `SUMMARY.md` in mdBook's format: an optional title, prefix chapters (links in paragraphs),
//! numbered chapters in nested lists, optionally under `# Part titles`, separators (`---`),
//! draft chapters (`[Title]()`), then suffix chapters.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use pulldown_cmark::{Event, HeadingLevel, OffsetIter, Parser, Tag, TagEnd};

use crate::diagnostics::{Diagnostic, SourceFile, Span};

#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub title: Option<String>,
    pub prefix: Vec<Item>,
    pub numbered: Vec<Item>,
    pub suffix: Vec<Item>,
}

#[derive(Debug, Clone)]
pub enum Item {
    Chapter(Link),
    Separator,
    PartTitle(String),
}

#[derive(Debug, Clone)]
pub struct Link {
    pub name: String,
    /// The file, relative to the book's `src`; `None` for a draft chapter.
    pub location: Option<String>,
    /// Section number (`[2, 1]` is 2.1.); `None` for prefix and suffix chapters.
    pub number: Option<Vec<u32>>,
    pub nested: Vec<Item>,
    /// Where the link is written in `SUMMARY.md`.
    pub span: Span,
}

impl Summary {
    /// Every chapter in reading order (prefix, numbered depth-first, suffix).
    pub fn chapters(&self) -> Vec<&Link> {
        fn walk<'a>(items: &'a [Item], out: &mut Vec<&'a Link>) {
            for item in items {
                if let Item::Chapter(link) = item {
                    out.push(link);
                    walk(&link.nested, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.prefix, &mut out);
        walk(&self.numbered, &mut out);
        walk(&self.suffix, &mut out);
        out
    }
}

struct SummaryParser<'a> {
    file: &'a Arc<SourceFile>,
    stream: OffsetIter<'a, pulldown_cmark::DefaultBrokenLinkCallback>,
    back: Option<(Event<'a>, Range<usize>)>,
    offset: usize,
    range: Range<usize>,
}

pub fn parse(file: &Arc<SourceFile>) -> Result<Summary, Diagnostic> {
    let mut p = SummaryParser {
        file,
        stream: Parser::new(&file.text).into_offset_iter(),
        back: None,
        offset: 0,
        range: 0..0,
    };
    let title = p.title();
    let prefix = p.affix(true)?;
    let numbered = p.parts()?;
    let suffix = p.affix(false)?;
    let summary = Summary {
        title,
        prefix,
        numbered,
        suffix,
    };
    let mut seen: HashMap<&str, &Link> = HashMap::new();
    for link in summary.chapters() {
        if let Some(loc) = &link.location
            && let Some(first) = seen.insert(normalize(loc), link)
        {
            return Err(
                Diagnostic::error(format!("`{loc}` is listed twice in SUMMARY.md"))
                    .at(&link.span)
                    .note(format!("first listed at {}", first.span.location()))
                    .help("each file can be one chapter only"),
            );
        }
    }
    Ok(summary)
}

fn normalize(loc: &str) -> &str {
    loc.strip_prefix("./").unwrap_or(loc)
}

impl<'a> SummaryParser<'a> {
    fn next(&mut self) -> Option<Event<'a>> {
        if let Some((ev, range)) = self.back.take() {
            self.offset = range.start;
            self.range = range;
            return Some(ev);
        }
        let (ev, range) = self.stream.next()?;
        self.offset = range.start;
        self.range = range;
        Some(ev)
    }

    fn push_back(&mut self, ev: Event<'a>) {
        self.back = Some((ev, self.range.clone()));
    }

    fn error(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(message).at(&Span::new(self.file, self.offset..self.offset))
    }

    /// Events up to the end tag, as plain text (styling dropped).
    fn text_until(&mut self, end: TagEnd) -> String {
        let mut out = String::new();
        while let Some(ev) = self.next() {
            match ev {
                Event::End(e) if e == end => break,
                Event::Text(t) | Event::Code(t) => out.push_str(&t),
                Event::SoftBreak | Event::HardBreak => out.push(' '),
                _ => {}
            }
        }
        out.trim().to_string()
    }

    fn title(&mut self) -> Option<String> {
        loop {
            match self.next()? {
                Event::Start(Tag::Heading {
                    level: HeadingLevel::H1,
                    ..
                }) => return Some(self.text_until(TagEnd::Heading(HeadingLevel::H1))),
                Event::Html(_)
                | Event::InlineHtml(_)
                | Event::Start(Tag::HtmlBlock)
                | Event::End(TagEnd::HtmlBlock) => {}
                ev => {
                    self.push_back(ev);
                    return None;
                }
            }
        }
    }

    fn link(&mut self, dest: &str, range: Range<usize>) -> Link {
        let location = dest.replace("%20", " ");
        let name = self.text_until(TagEnd::Link);
        Link {
            name,
            location: (!location.is_empty()).then_some(location),
            number: None,
            nested: Vec::new(),
            span: Span::new(self.file, range),
        }
    }

    fn affix(&mut self, prefix: bool) -> Result<Vec<Item>, Diagnostic> {
        let mut items = Vec::new();
        loop {
            match self.next() {
                Some(
                    ev @ (Event::Start(Tag::List(_))
                    | Event::Start(Tag::Heading {
                        level: HeadingLevel::H1,
                        ..
                    })),
                ) => {
                    if prefix {
                        self.push_back(ev);
                        break;
                    }
                    return Err(self
                        .error("suffix chapters cannot be followed by a list or a part title")
                        .help("numbered chapters (list items) come before the suffix chapters"));
                }
                Some(Event::Start(Tag::Link { dest_url, .. })) => {
                    let range = self.range.clone();
                    let link = self.link(&dest_url, range);
                    items.push(Item::Chapter(link));
                }
                Some(Event::Rule) => items.push(Item::Separator),
                Some(_) => {}
                None => break,
            }
        }
        Ok(items)
    }

    fn parts(&mut self) -> Result<Vec<Item>, Diagnostic> {
        let mut parts = Vec::new();
        let mut root_items = 0u32;
        loop {
            let title = match self.next() {
                Some(ev @ Event::Start(Tag::Paragraph)) => {
                    self.push_back(ev);
                    break;
                }
                Some(Event::Start(Tag::Heading {
                    level: HeadingLevel::H1,
                    ..
                })) => Some(self.text_until(TagEnd::Heading(HeadingLevel::H1))),
                Some(ev) => {
                    self.push_back(ev);
                    None
                }
                None => break,
            };
            let chapters = self.numbered(&mut root_items)?;
            if let Some(t) = title {
                parts.push(Item::PartTitle(t));
            }
            parts.extend(chapters);
        }
        Ok(parts)
    }

    fn numbered(&mut self, root_items: &mut u32) -> Result<Vec<Item>, Diagnostic> {
        let mut items = Vec::new();
        let mut first = true;
        loop {
            match self.next() {
                Some(ev @ Event::Start(Tag::Paragraph)) => {
                    if !first {
                        self.push_back(ev);
                        break;
                    }
                }
                Some(
                    ev @ Event::Start(Tag::Heading {
                        level: HeadingLevel::H1,
                        ..
                    }),
                ) => {
                    self.push_back(ev);
                    break;
                }
                Some(Event::Start(Tag::List(_))) => {
                    let mut bunch = self.nested(&[])?;
                    renumber(&mut bunch, *root_items);
                    *root_items += bunch
                        .iter()
                        .filter(|i| matches!(i, Item::Chapter(_)))
                        .count() as u32;
                    items.extend(bunch);
                }
                Some(Event::Start(other)) => {
                    // Skip the contents of anything else (a level-2 heading, say).
                    let end = other.to_end();
                    while let Some(ev) = self.next() {
                        if ev == Event::End(end) {
                            break;
                        }
                    }
                }
                Some(Event::Rule) => items.push(Item::Separator),
                Some(_) => {}
                None => break,
            }
            first = false;
        }
        Ok(items)
    }

    /// A list's items, the `Start(List)` already read.
    fn nested(&mut self, parent: &[u32]) -> Result<Vec<Item>, Diagnostic> {
        let mut items: Vec<Item> = Vec::new();
        loop {
            match self.next() {
                Some(Event::Start(Tag::Item)) => {
                    let count = items
                        .iter()
                        .filter(|i| matches!(i, Item::Chapter(_)))
                        .count();
                    let item = self.item(parent, count)?;
                    items.push(item);
                }
                Some(Event::Start(Tag::List(_))) => {
                    let Some(Item::Chapter(last)) = items
                        .iter_mut()
                        .rev()
                        .find(|i| matches!(i, Item::Chapter(_)))
                    else {
                        continue;
                    };
                    let number = last.number.clone().unwrap_or_default();
                    let sub = self.nested(&number)?;
                    if let Some(Item::Chapter(last)) = items
                        .iter_mut()
                        .rev()
                        .find(|i| matches!(i, Item::Chapter(_)))
                    {
                        last.nested = sub;
                    }
                }
                Some(Event::End(TagEnd::List(_))) | None => break,
                Some(_) => {}
            }
        }
        Ok(items)
    }

    fn item(&mut self, parent: &[u32], existing: usize) -> Result<Item, Diagnostic> {
        loop {
            match self.next() {
                Some(Event::Start(Tag::Paragraph)) => continue,
                Some(Event::Start(Tag::Link { dest_url, .. })) => {
                    let range = self.range.clone();
                    let mut link = self.link(&dest_url, range);
                    let mut number = parent.to_vec();
                    number.push(existing as u32 + 1);
                    link.number = Some(number);
                    return Ok(Item::Chapter(link));
                }
                _ => {
                    return Err(self
                        .error("a chapter list item must be a link: `- [Title](file.md)`")
                        .help("a draft chapter has an empty target: `- [Title]()`"));
                }
            }
        }
    }
}

/// Adds `by` to the top-level number of every chapter, so numbering continues across parts
/// and separators.
fn renumber(items: &mut [Item], by: u32) {
    for item in items {
        if let Item::Chapter(link) = item {
            if let Some(first) = link.number.as_mut().and_then(|n| n.first_mut()) {
                *first += by;
            }
            renumber(&mut link.nested, by);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn any_text_gives_a_summary_or_a_diagnostic(
            text in crate::arbitrary::text(&[
                "# Summary\n", "\n", "- ", "* ", "  ", "    ", "1. ", "[", "]", "(", ")",
                "[Intro](intro.md)", "[Draft]()", "---\n", "# Part\n", "a%20b.md", "`", "<",
            ])
        ) {
            let file = SourceFile::new("SUMMARY.md", "SUMMARY.md", text);
            match parse(&file) {
                Ok(summary) => {
                    let _ = summary.chapters();
                }
                Err(d) => {
                    let _ = d.render(false);
                }
            }
        }
    }

    fn p(text: &str) -> Summary {
        let f = SourceFile::new("SUMMARY.md", "SUMMARY.md", text.into());
        parse(&f).unwrap_or_else(|e| panic!("{e}"))
    }

    fn names(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Chapter(l) => format!(
                    "{}{}{}",
                    l.number
                        .as_ref()
                        .map(|n| n.iter().map(|x| format!("{x}.")).collect::<String>() + " ")
                        .unwrap_or_default(),
                    l.name,
                    if l.nested.is_empty() {
                        String::new()
                    } else {
                        format!(" {:?}", names(&l.nested))
                    }
                ),
                Item::Separator => "---".into(),
                Item::PartTitle(t) => format!("# {t}"),
            })
            .collect()
    }

    #[test]
    fn full_format() {
        let s = p(
            "# Summary\n\n[Intro](README.md)\n\n---\n\n# Guide\n\n- [A](a.md)\n    - [A1](a/1.md)\n    - [Draft]()\n- [B](b.md)\n\n---\n\n# Reference\n\n- [C](c.md)\n\n[Outro](outro.md)\n",
        );
        assert_eq!(s.title.as_deref(), Some("Summary"));
        assert_eq!(names(&s.prefix), vec!["Intro", "---"]);
        assert_eq!(
            names(&s.numbered),
            vec![
                "# Guide",
                "1. A [\"1.1. A1\", \"1.2. Draft\"]",
                "2. B",
                "---",
                "# Reference",
                "3. C"
            ]
        );
        assert_eq!(names(&s.suffix), vec!["Outro"]);
        let chapters: Vec<_> = s.chapters().iter().map(|l| l.name.clone()).collect();
        assert_eq!(
            chapters,
            vec!["Intro", "A", "A1", "Draft", "B", "C", "Outro"]
        );
        assert!(s.chapters()[3].location.is_none());
    }

    #[test]
    fn errors_point_at_the_line() {
        let f = SourceFile::new("SUMMARY.md", "SUMMARY.md", "- [A](a.md)\n- Plain\n".into());
        let e = parse(&f).unwrap_err();
        assert!(
            e.render(false).contains("SUMMARY.md:2:"),
            "{}",
            e.render(false)
        );
        let f = SourceFile::new(
            "SUMMARY.md",
            "SUMMARY.md",
            "- [A](a.md)\n\n[S](s.md)\n\n- [B](b.md)\n".into(),
        );
        assert!(parse(&f).unwrap_err().message.contains("suffix chapters"));
        let f = SourceFile::new(
            "SUMMARY.md",
            "SUMMARY.md",
            "- [A](a.md)\n- [B](./a.md)\n".into(),
        );
        assert!(parse(&f).unwrap_err().message.contains("listed twice"));
    }

    #[test]
    fn spaces_in_links() {
        let s = p("- [A](my%20file.md)\n");
        assert_eq!(s.chapters()[0].location.as_deref(), Some("my file.md"));
    }
}
