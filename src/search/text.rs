//! Text helpers: Markdown to plain text, content hashes, snippets tidied for display.

use std::hash::{Hash, Hasher};
use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, TagEnd};

/// The words of a Markdown text, without its markup: paragraphs and list items end with a
/// line break, inline code and link text are kept, link targets and raw HTML are dropped.
pub fn markdown_text(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(md, options) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableCell
                | TagEnd::TableRow
                | TagEnd::BlockQuote(_),
            ) if !out.ends_with('\n') && !out.is_empty() => out.push('\n'),
            _ => {}
        }
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

/// A 64-bit hash of some bytes, stable for a given build of the tool. Only ever compared with
/// hashes this tool wrote: a different algorithm after an upgrade just means one re-index.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// A snippet with its whitespace runs folded to single spaces, its highlight ranges moved to
/// match, and an ellipsis where it was cut from a longer text.
pub fn tidy(
    fragment: &str,
    highlights: &[Range<usize>],
    cut_before: bool,
    cut_after: bool,
) -> (String, Vec<Range<usize>>) {
    let mut out = String::with_capacity(fragment.len() + 8);
    // Position in `out` of each byte offset of `fragment`.
    let mut map = vec![0usize; fragment.len() + 1];
    if cut_before {
        out.push('…');
    }
    let mut in_space = false;
    for (i, c) in fragment.char_indices() {
        for slot in &mut map[i..i + c.len_utf8()] {
            *slot = out.len();
        }
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    map[fragment.len()] = out.len();
    if cut_after {
        out.push('…');
    }
    let ranges = highlights
        .iter()
        .filter(|r| r.end <= fragment.len() && r.start < r.end)
        .map(|r| map[r.start]..map[r.end])
        .collect();
    (out, ranges)
}

/// The start of a text, cut at a word boundary, for a hit whose body does not hold the words
/// searched for.
pub fn lead(text: &str, max_chars: usize) -> (String, bool) {
    let mut end = text.len();
    for (count, (i, _)) in text.char_indices().enumerate() {
        if count == max_chars {
            end = text[..i].rfind(char::is_whitespace).unwrap_or(i);
            break;
        }
    }
    (text[..end].trim_end().to_string(), end < text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_stripped() {
        let text = markdown_text(
            "In **Settings > Security**, click [Promote](https://x.example/p).\n\n- one `code`\n- two\n\n<https://docs.example/a>",
        );
        assert_eq!(
            text,
            "In Settings > Security, click Promote.\none code\ntwo\nhttps://docs.example/a"
        );
    }

    #[test]
    fn tidy_folds_spaces_and_moves_ranges() {
        let (s, r) = tidy("a  b\nc", &[(3..4), (5..6)], true, false);
        assert_eq!(s, "…a b c");
        assert_eq!(&s[r[0].clone()], "b");
        assert_eq!(&s[r[1].clone()], "c");
    }

    #[test]
    fn lead_cuts_at_a_word() {
        assert_eq!(lead("one two three", 9), ("one two".to_string(), true));
        assert_eq!(lead("short", 9), ("short".to_string(), false));
    }
}
