//! mdBook's `links` preprocessor: `{{#include file}}` (with a line range or an anchor),
//! `{{#rustdoc_include ...}}`, `{{#playground file attrs}}` and `{{#title ...}}`. An escaped
//! `\{{#...}}` is kept literally; other `{{#...}}` directives are left as they are.
//!
//! The result keeps a map from its offsets back to the files they came from, so that a
//! problem found later (a broken link, say) names the right file and line.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::project;

/// mdBook's limit on nested includes.
const MAX_DEPTH: usize = 10;

/// Text after preprocessing, with where each part came from.
#[derive(Debug, Clone)]
pub struct Expanded {
    pub text: String,
    /// `(offset in text, file, offset in that file)`, sorted by the first.
    pub segments: Vec<(usize, Arc<SourceFile>, usize)>,
    /// From `{{#title ...}}`.
    pub title: Option<String>,
    /// Every file an include named, read or not (whoever caches the result watches these).
    pub includes: Vec<PathBuf>,
}

impl Expanded {
    /// The place in a source file that an offset of the expanded text came from.
    pub fn span(&self, range: std::ops::Range<usize>) -> Option<Span> {
        let i = self
            .segments
            .partition_point(|(start, _, _)| *start <= range.start)
            .checked_sub(1)?;
        let (start, file, src_start) = &self.segments[i];
        let delta = range.start - start;
        let at = (src_start + delta).min(file.text.len());
        let len = range.end.saturating_sub(range.start);
        let end = (at + len).min(file.text.len());
        Some(Span::new(file, at..end))
    }
}

pub fn expand(file: &Arc<SourceFile>, root: &Path, warnings: &mut Diagnostics) -> Expanded {
    let mut out = Expanded {
        text: String::with_capacity(file.text.len()),
        segments: Vec::new(),
        title: None,
        includes: Vec::new(),
    };
    let dir = file
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    expand_into(file, 0..file.text.len(), &dir, root, 0, &mut out, warnings);
    out
}

/// A directive found in the text.
struct Directive<'t> {
    /// Byte range of the whole `{{#...}}`.
    start: usize,
    end: usize,
    name: &'t str,
    args: &'t str,
}

fn expand_into(
    file: &Arc<SourceFile>,
    range: std::ops::Range<usize>,
    dir: &Path,
    root: &Path,
    depth: usize,
    out: &mut Expanded,
    warnings: &mut Diagnostics,
) {
    let text = &file.text[range.clone()];
    let base = range.start;
    let mut copied = 0; // bytes of `text` already handled
    let mut search = 0;
    let copy = |out: &mut Expanded, from: usize, to: usize| {
        if from < to {
            out.segments
                .push((out.text.len(), Arc::clone(file), base + from));
            out.text.push_str(&text[from..to]);
        }
    };
    while let Some(found) = text[search..].find("{{") {
        let at = search + found;
        // An escaped directive: `\{{#...}}` up to the last `}}` on its line stays literally.
        if at > 0 && text.as_bytes()[at - 1] == b'\\' && text[at + 2..].starts_with('#') {
            let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
            if let Some(close) = text[at..line_end].rfind("}}") {
                copy(out, copied, at - 1);
                copy(out, at, at + close + 2);
                copied = at + close + 2;
                search = copied;
                continue;
            }
        }
        let Some(d) = directive(text, at) else {
            search = at + 2;
            continue;
        };
        let known = matches!(
            d.name,
            "include" | "rustdoc_include" | "playground" | "title"
        );
        if !known {
            search = d.end;
            continue;
        }
        copy(out, copied, d.start);
        copied = d.end;
        search = d.end;
        let here = Span::new(file, base + d.start..base + d.end);
        match d.name {
            "title" => {
                out.title = Some(d.args.trim().to_string());
            }
            _ => {
                if depth >= MAX_DEPTH {
                    warnings.push(
                        Diagnostic::warning(format!(
                            "includes are nested more than {MAX_DEPTH} deep; `{{{{#{}}}}}` is not expanded",
                            d.name
                        ))
                        .at(&here),
                    );
                    continue;
                }
                let args = d.args.trim();
                let (target, attrs) = if d.name == "playground" {
                    let mut parts = args.split_whitespace();
                    let t = parts.next().unwrap_or("");
                    (t, parts.collect::<Vec<_>>())
                } else {
                    (args, Vec::new())
                };
                let (path, selector) = match target.split_once(':') {
                    Some((p, s)) => (p, Some(s)),
                    None => (target, None),
                };
                let full = normalize(&dir.join(path));
                if !out.includes.contains(&full) {
                    out.includes.push(full.clone());
                }
                let included = match fs_read(root, &full) {
                    Ok(f) => f,
                    Err(reason) => {
                        warnings.push(
                            Diagnostic::warning(format!(
                                "cannot include `{path}`: {reason}; the directive is left out"
                            ))
                            .at(&here),
                        );
                        continue;
                    }
                };
                let lines = select(&included.text, selector);
                let Some(lines) = lines else {
                    warnings.push(
                        Diagnostic::warning(format!(
                            "no anchor `{}` in `{path}`; nothing is included",
                            selector.unwrap_or("")
                        ))
                        .at(&here),
                    );
                    continue;
                };
                if d.name == "playground" {
                    let mut fence = String::from("```rust");
                    for a in &attrs {
                        fence.push(',');
                        fence.push_str(a);
                    }
                    fence.push('\n');
                    push_generated(out, file, base + d.start, &fence);
                }
                let inc_dir = full.parent().map(Path::to_path_buf).unwrap_or_default();
                let last = lines.len();
                for (i, line) in lines.into_iter().enumerate() {
                    expand_into(&included, line, &inc_dir, root, depth + 1, out, warnings);
                    if i + 1 < last {
                        push_generated(out, file, base + d.start, "\n");
                    }
                }
                if d.name == "playground" {
                    push_generated(out, file, base + d.start, "\n```\n");
                }
            }
        }
    }
    copy(out, copied, text.len());
}

/// Text that comes from no file: mapped to the directive that made it.
fn push_generated(out: &mut Expanded, file: &Arc<SourceFile>, at: usize, text: &str) {
    out.segments.push((out.text.len(), Arc::clone(file), at));
    out.text.push_str(text);
}

/// `{{ #name args }}` at `at`, as mdBook's pattern reads it.
fn directive(text: &str, at: usize) -> Option<Directive<'_>> {
    let bytes = text.as_bytes();
    let mut i = at + 2;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    if bytes.get(i) != Some(&b'#') {
        return None;
    }
    i += 1;
    let name_start = i;
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    if i == name_start {
        return None;
    }
    let name = &text[name_start..i];
    let ws = i;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    if i == ws {
        return None;
    }
    let args_start = i;
    while i < bytes.len() && bytes[i] != b'}' {
        i += 1;
    }
    if i == args_start || !text[i..].starts_with("}}") {
        return None;
    }
    Some(Directive {
        start: at,
        end: i + 2,
        name,
        args: &text[args_start..i],
    })
}

/// The byte ranges of the lines a selector picks: `2`, `2:`, `:10`, `2:10`, or an anchor
/// name. `None` when an anchor is not found.
fn select(text: &str, selector: Option<&str>) -> Option<Vec<std::ops::Range<usize>>> {
    let mut lines = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches('\n').trim_end_matches('\r');
        lines.push(start..start + content.len());
        start += line.len();
    }
    let Some(sel) = selector.map(str::trim).filter(|s| !s.is_empty()) else {
        return Some(lines);
    };
    let number = |s: &str| -> Option<Option<usize>> {
        if s.is_empty() {
            Some(None)
        } else {
            s.parse::<usize>().ok().map(Some)
        }
    };
    let range = match sel.split_once(':') {
        Some((a, b)) => match (number(a), number(b)) {
            (Some(a), Some(b)) => Some((a.unwrap_or(1), b)),
            _ => None,
        },
        None => sel.parse::<usize>().ok().map(|n| (n, Some(n))),
    };
    if let Some((from, to)) = range {
        let from = from.max(1) - 1;
        let to = to.unwrap_or(lines.len()).min(lines.len());
        return Some(if from >= to {
            Vec::new()
        } else {
            lines[from..to].to_vec()
        });
    }
    // An anchor: the lines between `ANCHOR: name` and `ANCHOR_END: name`, without any other
    // anchor markers.
    let mut out = Vec::new();
    let mut inside = false;
    let mut found = false;
    for r in lines {
        let line = &text[r.clone()];
        if let Some(name) = marker(line, "ANCHOR_END:") {
            if inside && name == sel {
                return Some(out);
            }
            continue;
        }
        if let Some(name) = marker(line, "ANCHOR:") {
            if name == sel {
                inside = true;
                found = true;
            }
            continue;
        }
        if inside {
            out.push(r);
        }
    }
    found.then_some(out)
}

fn marker<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    let at = line.find(tag)?;
    let rest = line[at + tag.len()..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Reads an included file, which must be inside the project: an absolute path, a `..` too
/// many or a symbolic link cannot pull in a file from elsewhere on the machine.
fn fs_read(root: &Path, path: &Path) -> Result<Arc<SourceFile>, String> {
    if !path.is_file() {
        return Err("no such file".into());
    }
    project::read_inside(root, path).map_err(|d| d.message)
}

/// `a/b/../c` → `a/c`, without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            // A `..` goes back over a folder name, never over another `..`.
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(files: &[(&str, &str)], main: &str) -> (Expanded, Diagnostics) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let path = dir.path().join("ch.md");
        std::fs::write(&path, main).unwrap();
        let file = project::read(dir.path(), &path).unwrap();
        let mut w = Diagnostics::default();
        let e = expand(&file, dir.path(), &mut w);
        (e, w)
    }

    #[test]
    fn includes_ranges_and_anchors() {
        let code =
            "a\nb\n// ANCHOR: x\nc\n// ANCHOR: y\nd\n// ANCHOR_END: y\n// ANCHOR_END: x\ne\n";
        let (e, w) = run(
            &[("code.rs", code)],
            "{{#include code.rs:2}}|{{#include code.rs:2:4}}|{{#include code.rs::2}}|{{#include code.rs:9:}}|{{#include code.rs:x}}",
        );
        assert!(w.items.is_empty(), "{w}");
        assert_eq!(e.text, "b|b\n// ANCHOR: x\nc|a\nb|e|c\nd");
    }

    #[test]
    fn escapes_titles_and_missing_files() {
        let (e, w) = run(
            &[
                ("sub/inc.md", "inner {{#include deeper.md}}"),
                ("sub/deeper.md", "deep\n"),
            ],
            "\\{{#include x.md}} {{#include y.md}}\n{{#title T}}{{#include sub/inc.md}} {{#include nope.rs}} {{#toc}} {{#other x}}",
        );
        // An escaped directive keeps the rest of its line as written, as in mdBook.
        assert_eq!(
            e.text,
            "{{#include x.md}} {{#include y.md}}\ninner deep  {{#toc}} {{#other x}}"
        );
        assert_eq!(e.title.as_deref(), Some("T"));
        assert_eq!(w.items.len(), 1);
        assert!(w.items[0].message.contains("cannot include `nope.rs`"));
    }

    #[test]
    fn maps_offsets_back_to_the_included_file() {
        let (e, _) = run(
            &[("inc.md", "one\ntwo [x](y.md)\n")],
            "intro\n{{#include inc.md}}\n",
        );
        let at = e.text.find("[x]").unwrap();
        let span = e.span(at..at + 3).unwrap();
        assert_eq!(span.location(), "inc.md:2:5");
        let span = e.span(0..1).unwrap();
        assert_eq!(span.location(), "ch.md:1:1");
    }

    #[test]
    fn playground_wraps_in_a_code_block() {
        let (e, _) = run(
            &[("ex.rs", "fn main() {}\n")],
            "{{#playground ex.rs editable}}",
        );
        assert_eq!(e.text, "```rust,editable\nfn main() {}\n```\n");
    }

    #[test]
    fn normalize_keeps_every_step_above_the_start() {
        assert_eq!(normalize(Path::new("a/b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("./a/./b")), PathBuf::from("a/b"));
        assert_eq!(
            normalize(Path::new("../../x.md")),
            PathBuf::from("../../x.md")
        );
        assert_eq!(
            normalize(Path::new("a/../../x.md")),
            PathBuf::from("../x.md")
        );
    }
}
