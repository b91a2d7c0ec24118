//! The chapters `SUMMARY.md` lists: where each one's file is, the address mdBook writes it
//! at, and its text, includes expanded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::project;

use super::config::BookConfig;
use super::preprocess::{self, Expanded};
use super::summary::Summary;

/// A chapter listed in SUMMARY.md whose file is there.
pub struct ChapterFile {
    /// Its name in SUMMARY.md.
    pub name: String,
    pub number: Option<Vec<u32>>,
    /// Relative to the book's src, with `/` separators.
    pub rel: String,
    /// Where the site writes it.
    pub address: String,
    pub path: PathBuf,
}

/// A chapter's text, includes expanded, and its title: the `{{#title}}` it sets, else its name
/// in SUMMARY.md.
pub struct Text {
    pub title: String,
    pub expanded: Expanded,
}

/// A chapter's location as SUMMARY.md writes it, relative to the book's src with `/`
/// separators (`./a/../b.md` → `b.md`).
pub fn rel_path(location: &str) -> String {
    preprocess::normalize(Path::new(location))
        .to_string_lossy()
        .replace('\\', "/")
}

/// mdBook's address for a chapter file: `a/b.md` → `a/b.html`, `README.md` → `index.html`.
pub fn address_of(rel: &str) -> String {
    let (dir, file) = match rel.rfind('/') {
        Some(i) => (&rel[..=i], &rel[i + 1..]),
        None => ("", rel),
    };
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    if stem.eq_ignore_ascii_case("readme") {
        format!("{dir}index.html")
    } else {
        format!("{dir}{stem}.html")
    }
}

/// The chapters SUMMARY.md lists with a file (drafts have none), in its order. Every chapter
/// outside the src folder, missing, at an address `reserved` says is taken, or at another
/// chapter's address is an error.
pub fn list(
    summary: &Summary,
    config: &BookConfig,
    reserved: &dyn Fn(&str) -> bool,
) -> Result<Vec<ChapterFile>, Diagnostics> {
    let src_dir = config.src_dir();
    let mut errors = Diagnostics::default();
    let mut out: Vec<ChapterFile> = Vec::new();
    let mut addresses: HashMap<String, Span> = HashMap::new();
    for link in summary.chapters() {
        let Some(location) = &link.location else {
            continue;
        };
        let rel = rel_path(location);
        if rel.starts_with("..") || Path::new(&rel).is_absolute() {
            errors.push(
                Diagnostic::error(format!(
                    "chapter `{location}` is outside the book's src folder ({})",
                    config.src.display()
                ))
                .at(&link.span),
            );
            continue;
        }
        let path = src_dir.join(&rel);
        if !path.is_file() {
            errors.push(
                Diagnostic::error(format!(
                    "chapter file `{location}` not found in {}",
                    config.src.display()
                ))
                .at(&link.span)
                .help(
                    "create the file, or make the chapter a draft with an empty link: `[Title]()`",
                ),
            );
            continue;
        }
        let address = address_of(&rel);
        if reserved(&address) {
            errors.push(
                Diagnostic::error(format!(
                    "chapter `{location}` would be written at `{address}`, which the site uses for its own pages"
                ))
                .at(&link.span)
                .help("rename the chapter file"),
            );
            continue;
        }
        if let Some(first) = addresses.get(&address) {
            errors.push(
                Diagnostic::error(format!(
                    "chapter `{location}` would be written at `{address}`, like the chapter at {}",
                    first.location()
                ))
                .at(&link.span),
            );
            continue;
        }
        addresses.insert(address.clone(), link.span.clone());
        out.push(ChapterFile {
            name: link.name.clone(),
            number: link.number.clone(),
            rel,
            address,
            path,
        });
    }
    if errors.has_errors() {
        return Err(errors);
    }
    Ok(out)
}

/// Reads the chapter at `path` (named `name` in SUMMARY.md) and expands its includes.
pub fn read(
    root: &Path,
    path: &Path,
    name: &str,
    warnings: &mut Diagnostics,
) -> Result<Text, Diagnostic> {
    let file = project::read_inside(root, path)?;
    let expanded = preprocess::expand(&file, root, warnings);
    Ok(Text {
        title: expanded.title.clone().unwrap_or_else(|| name.to_string()),
        expanded,
    })
}
