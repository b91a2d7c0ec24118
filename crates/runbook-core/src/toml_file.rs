//! Reading TOML files into typed structures, with errors that point at the source.

use std::ops::Range;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use toml::Spanned;

use crate::diagnostics::{Diagnostic, SourceFile, Span};

/// Deserializes a whole file; a syntax or shape error becomes one diagnostic at its place.
pub fn parse<T: DeserializeOwned>(file: &Arc<SourceFile>) -> Result<T, Diagnostic> {
    toml::from_str(&file.text).map_err(|e| {
        let mut d = Diagnostic::error(first_line(e.message()));
        if let Some(range) = e.span() {
            d = d.at(&Span::new(file, range));
        } else {
            d = d.path(&file.path);
        }
        for extra in e.message().lines().skip(1).filter(|l| !l.trim().is_empty()) {
            d = d.note(extra.trim());
        }
        d
    })
}

/// serde speaks of fields; a TOML file has keys.
fn first_line(message: &str) -> String {
    message
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing key")
        .replace("expected one of", "expected one of the keys")
}

/// The span of a string's contents, without its quotes, when the contents appear verbatim in
/// the source (no escapes); offsets inside the string then map one to one onto the file.
pub fn string_contents(file: &SourceFile, value: &Spanned<String>) -> Option<Range<usize>> {
    let range = value.span();
    let raw = file.text.get(range.clone())?;
    let (open, close) = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        (3, 3)
    } else if raw.starts_with('"') || raw.starts_with('\'') {
        (1, 1)
    } else {
        return None;
    };
    if raw.len() < open + close {
        return None;
    }
    let mut start = range.start + open;
    let end = range.end - close;
    // A newline right after the opening of a multi-line string is not part of the value.
    if open == 3 {
        if file.text[start..].starts_with("\r\n") {
            start += 2;
        } else if file.text[start..].starts_with('\n') {
            start += 1;
        }
    }
    (file.text.get(start..end)? == value.get_ref().as_str()).then_some(start..end)
}

/// A span for a spanned value of any type.
pub fn span_of<T>(file: &Arc<SourceFile>, value: &Spanned<T>) -> Span {
    Span::new(file, value.span())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Doc {
        when: Spanned<String>,
    }

    #[test]
    fn maps_string_contents() {
        let f = SourceFile::new("x", "x", "when = 'tier == \"a\"'".into());
        let doc: Doc = parse(&f).unwrap();
        let r = string_contents(&f, &doc.when).unwrap();
        assert_eq!(&f.text[r], "tier == \"a\"");
    }

    #[test]
    fn escaped_strings_do_not_map() {
        let f = SourceFile::new("x", "x", "when = \"tier == \\\"a\\\"\"".into());
        let doc: Doc = parse(&f).unwrap();
        assert!(string_contents(&f, &doc.when).is_none());
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let f = SourceFile::new("x.toml", "x.toml", "a = 1\nb = \n".into());
        let err = parse::<toml::Table>(&f).unwrap_err();
        assert!(
            err.render(false).contains("x.toml:2:"),
            "{}",
            err.render(false)
        );
    }
}
