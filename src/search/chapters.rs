//! The help site's chapters as search documents: every section (the text from one heading to
//! the next) of every chapter listed in `SUMMARY.md`, with the anchor the site gives its
//! heading, read the way `runbook build` reads them (includes expanded, Markdown rendered).

use std::fs;
use std::path::Path;

use crate::book::config::{BOOK_FILE, BookConfig};
use crate::book::{chapter, preprocess, summary};
use crate::diagnostics::Diagnostics;
use crate::markdown::{self, MdOptions};
use crate::project;

use super::manifest::{self, Entry};
use super::text::hash;

/// A folder's entry in the manifest has no content hash: only its stamp is compared.
pub const FOLDER: u64 = 0;

/// One section of a chapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The chapter's file, relative to the project root.
    pub file: String,
    /// The chapter's title.
    pub chapter: String,
    /// The heading's anchor; empty for the text before the first heading.
    pub anchor: String,
    /// The heading's text; the chapter's title for the text before the first heading.
    pub title: String,
    /// The prose, a line per paragraph, list item, table cell...
    pub text: String,
    /// The code blocks, a line per line.
    pub code: String,
}

/// The chapters' sections, and what they were read from: `book.toml`, `SUMMARY.md`, the
/// chapters and the files they include, or, where `book.toml` or `SUMMARY.md` is missing, the
/// folder it would appear in (its stamp changes when it does).
#[derive(Debug, Default)]
pub struct Chapters {
    pub sections: Vec<Section>,
    pub sources: Vec<Entry>,
}

/// Reads the chapters. A book that `runbook build` would refuse (a syntax error in `book.toml`
/// or `SUMMARY.md`, a missing chapter) gives what can be read: search still works, and `build`
/// is where those errors are reported.
pub fn load(root: &Path) -> Chapters {
    let mut out = Chapters::default();
    let mut ignored = Diagnostics::default();
    let book = root.join(BOOK_FILE);
    if !out.source(root, &book) {
        out.absent(root, &book);
    }
    let Ok(config) = BookConfig::load(root, &mut ignored) else {
        return out;
    };
    let src = config.src_dir();
    let summary_path = config.summary_path();
    if !out.source(root, &summary_path) {
        out.absent(root, &summary_path);
        return out;
    }
    let Ok(summary_file) = project::read_inside(root, &summary_path) else {
        return out;
    };
    let Ok(summary) = summary::parse(&summary_file) else {
        return out;
    };
    let md = MdOptions {
        smart_punctuation: config.html.smart_punctuation,
    };
    for link in summary.chapters() {
        let Some(location) = &link.location else {
            continue;
        };
        let path = src.join(preprocess::normalize(Path::new(location)));
        if !out.source(root, &path) {
            out.absent(root, &path);
            continue;
        }
        let Ok(text) = chapter::read(root, &path, &link.name, &mut ignored) else {
            continue;
        };
        for included in &text.expanded.includes {
            if !out.has(root, included) && !out.source(root, included) {
                out.absent(root, included);
            }
        }
        let rendered = markdown::render(&text.expanded.text, md, &|_| None);
        let rel = manifest::rel(root, &path);
        out.sections.extend(split(&rendered, &rel, &text.title));
    }
    out
}

impl Chapters {
    /// Records a file read (through a symbolic link, as the site reads it); `false` if it is
    /// not there.
    fn source(&mut self, root: &Path, path: &Path) -> bool {
        let Ok(meta) = fs::metadata(path) else {
            return false;
        };
        if !meta.is_file() {
            return false;
        }
        let Ok(bytes) = fs::read(path) else {
            return false;
        };
        self.sources.push(Entry {
            path: manifest::rel(root, path),
            stamp: manifest::stamp_of(&meta),
            hash: hash(&bytes),
        });
        true
    }

    /// Records, for a file that is not there, the nearest folder above it that is: its stamp
    /// changes when the file, or a folder on the way to it, appears.
    fn absent(&mut self, root: &Path, path: &Path) {
        let found = path
            .ancestors()
            .skip(1)
            .take_while(|dir| dir.starts_with(root))
            .find_map(|dir| Some((dir, fs::metadata(dir).ok().filter(|m| m.is_dir())?)));
        let Some((dir, meta)) = found else {
            return;
        };
        let rel = manifest::rel(root, dir);
        let rel = if rel.is_empty() { ".".to_string() } else { rel };
        if self.sources.iter().all(|e| e.path != rel) {
            self.sources.push(Entry {
                path: rel,
                stamp: manifest::stamp_of(&meta),
                hash: FOLDER,
            });
        }
    }

    fn has(&self, root: &Path, path: &Path) -> bool {
        let rel = manifest::rel(root, path);
        self.sources.iter().any(|e| e.path == rel)
    }
}

/// Cuts a rendered chapter at its headings.
fn split(rendered: &markdown::Rendered, file: &str, chapter: &str) -> Vec<Section> {
    let html = &rendered.html;
    // Each heading, where its tag starts and where its text ends, in order.
    let mut cuts: Vec<(&markdown::Heading, usize, usize)> = Vec::new();
    let mut from = 0;
    for h in &rendered.headings {
        let tag = format!("<h{} id=\"{}\"", h.level, markdown::escape(&h.id));
        let Some(at) = html[from..].find(&tag).map(|i| from + i) else {
            continue;
        };
        let close = format!("</h{}>", h.level);
        let end = html[at..]
            .find(&close)
            .map_or(html.len(), |i| at + i + close.len());
        cuts.push((h, at, end));
        from = end;
    }
    let section = |anchor: &str, title: &str, html: &str| {
        let (text, code) = prose_and_code(&without_inline_tags(html));
        Section {
            file: file.to_string(),
            chapter: chapter.to_string(),
            anchor: anchor.to_string(),
            title: tidy(title),
            text,
            code,
        }
    };
    let mut out = Vec::new();
    let lead = section(
        "",
        chapter,
        &html[..cuts.first().map_or(html.len(), |c| c.1)],
    );
    if !lead.text.is_empty() || !lead.code.is_empty() {
        out.push(lead);
    }
    for (i, (h, _, end)) in cuts.iter().enumerate() {
        let next = cuts.get(i + 1).map_or(html.len(), |c| c.1);
        out.push(section(&h.id, &h.text, &html[*end..next]));
    }
    out
}

/// Tags that end a line of prose.
const BLOCKS: [&str; 30] = [
    "p",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "div",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "dl",
    "dt",
    "dd",
    "br",
    "hr",
    "section",
    "details",
    "summary",
    "figure",
    "figcaption",
    "aside",
    "pre",
];

/// A tag's name, lowercased (`<p class="x">` and `</p>` are both `p`).
fn tag_name(tag: &str) -> String {
    tag.trim_start_matches('<')
        .trim_start_matches('/')
        .split(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The visible text of a section's HTML (its inline tags already removed): the prose, a line
/// per block, and apart, the text of the code blocks, a line per line of code.
fn prose_and_code(html: &str) -> (String, String) {
    let mut prose: Vec<String> = Vec::new();
    let mut code: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut in_pre = false;
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        line.push_str(&rest[..start]);
        let tag = &rest[start..];
        let Some(end) = tag.find('>') else {
            line.push_str(tag);
            rest = "";
            break;
        };
        let name = tag_name(&tag[..=end]);
        if name == "pre" {
            // Either side of a code block, what came before it ends.
            if in_pre {
                end_line(&mut line, &mut code, true);
            } else {
                end_line(&mut line, &mut prose, false);
            }
            in_pre = !tag.starts_with("</");
        } else if !in_pre && BLOCKS.contains(&name.as_str()) {
            end_line(&mut line, &mut prose, false);
        }
        rest = &tag[end + 1..];
    }
    line.push_str(rest);
    if in_pre {
        end_line(&mut line, &mut code, true);
    } else {
        end_line(&mut line, &mut prose, false);
    }
    (prose.join("\n"), code.join("\n"))
}

/// Ends a line of prose, or a piece of a code block (its lines), if it has any text.
fn end_line(line: &mut String, into: &mut Vec<String>, code: bool) {
    let pieces: Vec<String> = if code {
        line.lines().map(markdown::plain_text).collect()
    } else {
        vec![markdown::plain_text(line)]
    };
    into.extend(pieces.into_iter().filter(|p| !p.is_empty()));
    line.clear();
}

/// The HTML without its inline tags (code, emphasis, links), which `plain_text` would turn
/// into spaces inside a sentence ("the `id` key" would read "the id  key").
fn without_inline_tags(html: &str) -> String {
    const INLINE: [&str; 10] = [
        "a", "code", "em", "strong", "del", "sup", "sub", "span", "kbd", "mark",
    ];
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tag = &rest[start..];
        let Some(end) = tag.find('>') else {
            out.push_str(tag);
            return out;
        };
        let name = tag[1..end]
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if !INLINE.contains(&name) {
            out.push_str(&tag[..=end]);
        }
        rest = &tag[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Runs of white space as one space.
fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sections(markdown: &str) -> Vec<(String, String, String)> {
        let rendered = markdown::render(markdown, MdOptions::default(), &|_| None);
        split(&rendered, "guide/a.md", "A chapter")
            .into_iter()
            .map(|s| (s.anchor, s.title, s.text))
            .collect()
    }

    #[test]
    fn code_blocks_are_apart_from_the_prose() {
        let rendered = markdown::render(
            "# Facts\n\nA fact has a type.\nIts values are labelled.\n\n```toml\n[facts.tier]\ntype = \"enum\"\n\n  values = { a = \"A &amp; B\" }\n```\n\nThen the **lookups**, after the code.\n\n    indented = true\n",
            MdOptions::default(),
            &|_| None,
        );
        let got = split(&rendered, "guide/a.md", "A chapter");
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].text,
            "A fact has a type. Its values are labelled.\nThen the lookups, after the code."
        );
        assert_eq!(
            got[0].code,
            "[facts.tier]\ntype = \"enum\"\nvalues = { a = \"A &amp; B\" }\nindented = true"
        );
    }

    #[test]
    fn chapters_are_cut_at_every_heading_with_the_sites_anchors() {
        let got = sections(
            "Lead text.\n\n# First *one*\n\nBody with `code`.\n\n## Sub\n\n- a\n- b\n\n# First one\n\nAgain.\n",
        );
        assert_eq!(
            got,
            vec![
                ("".into(), "A chapter".into(), "Lead text.".into()),
                (
                    "first-one".into(),
                    "First one".into(),
                    "Body with code.".into()
                ),
                ("sub".into(), "Sub".into(), "a\nb".into()),
                ("first-one-1".into(), "First one".into(), "Again.".into()),
            ]
        );
    }

    #[test]
    fn a_chapter_without_lead_text_starts_at_its_first_heading() {
        let got = sections("# Only\n\nText &amp; more.");
        assert_eq!(
            got,
            vec![("only".into(), "Only".into(), "Text & more.".into())]
        );
    }
}
