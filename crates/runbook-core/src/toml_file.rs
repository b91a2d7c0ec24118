//! Reading TOML files into typed structures, with errors that point at the source.

use std::ops::Range;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use toml::Spanned;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};

/// Deserializes a whole file; a syntax or shape error becomes one diagnostic at its place.
pub fn parse<T: DeserializeOwned>(file: &Arc<SourceFile>) -> Result<T, Diagnostic> {
    toml::from_str(&file.text).map_err(|e| diagnostic(file, &e))
}

fn diagnostic(file: &Arc<SourceFile>, e: &toml::de::Error) -> Diagnostic {
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
}

/// Deserializes a file of named entries (`[facts.tier]`, `[roles.admin]`) where one entry
/// that does not fit must not lose the others: each such entry is reported and left out.
/// Returns what is left, with the entries left out as (table, name), where a top-level key
/// that does not fit is ("", key); `None` after a syntax error.
pub fn parse_salvaging<T: DeserializeOwned>(
    file: &Arc<SourceFile>,
    diags: &mut Diagnostics,
) -> Option<(T, Vec<(String, String)>)> {
    let whole = match parse::<T>(file) {
        Ok(t) => return Some((t, Vec::new())),
        Err(d) => d,
    };
    let Ok(mut doc) = toml::de::DeTable::parse(&file.text) else {
        diags.push(whole);
        return None;
    };
    let mut left_out = Vec::new();
    loop {
        let e = match T::deserialize(toml::de::Deserializer::from(doc.clone())) {
            Ok(t) => return Some((t, left_out)),
            Err(e) => e,
        };
        let d = diagnostic(file, &e);
        // The same problem again: it was not the entry's.
        if diags
            .items
            .last()
            .is_some_and(|last| last.render(false) == d.render(false))
        {
            return None;
        }
        diags.push(d);
        let (table, name) = e.span().and_then(|at| entry_at(doc.get_ref(), at.start))?;
        if table.is_empty() {
            *doc.get_mut() = std::mem::take(doc.get_mut())
                .into_iter()
                .filter(|(k, _)| k.get_ref() != &name)
                .collect();
        }
        for (key, value) in doc.get_mut().iter_mut() {
            if let toml::de::DeValue::Table(entries) = value.get_mut()
                && key.get_ref().as_ref() == table
            {
                *entries = std::mem::take(entries)
                    .into_iter()
                    .filter(|(k, _)| k.get_ref() != &name)
                    .collect();
            }
        }
        left_out.push((table, name));
    }
}

/// The entry of a top-level table whose text holds the byte `at`, as (table, name): the last
/// one that starts before it (a `[table.name]` header starts at its bracket); ("", key) for
/// a top-level key itself.
fn entry_at(doc: &toml::de::DeTable, at: usize) -> Option<(String, String)> {
    if let Some(key) = doc.keys().find(|k| k.span().start == at) {
        return Some((String::new(), key.get_ref().to_string()));
    }
    let mut entries: Vec<(usize, (String, String))> = Vec::new();
    for (table, value) in doc.iter() {
        if let toml::de::DeValue::Table(items) = value.get_ref() {
            entries.extend(items.iter().map(|(name, value)| {
                let start = name.span().start.min(value.span().start);
                let entry = (table.get_ref().to_string(), name.get_ref().to_string());
                (start, entry)
            }));
        }
    }
    entries
        .into_iter()
        .filter(|(start, _)| *start <= at)
        .max_by_key(|(start, _)| *start)
        .map(|(_, entry)| entry)
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

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        #[allow(dead_code)]
        name: String,
    }

    #[derive(Deserialize)]
    struct Entries {
        facts: indexmap::IndexMap<String, Entry>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        facts: indexmap::IndexMap<String, Entry>,
    }

    #[test]
    fn an_entry_that_does_not_fit_leaves_the_others() {
        let text = "[facts.a]\nname = \"A\"\n\n[facts.b]\nnmae = \"B\"\n\n[facts.c]\n\n[facts.d]\nname = \"D\"\n";
        let f = SourceFile::new("x.toml", "x.toml", text.into());
        let mut diags = Diagnostics::default();
        let (kept, left_out) = parse_salvaging::<Entries>(&f, &mut diags).unwrap();
        assert_eq!(kept.facts.keys().collect::<Vec<_>>(), ["a", "d"]);
        let names: Vec<&str> = left_out.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, ["b", "c"]);
        assert_eq!(diags.error_count(), 2, "{diags}");
        // A top-level key that does not fit is left out as well.
        let f = SourceFile::new(
            "x.toml",
            "x.toml",
            "[fact.a]\nname = \"A\"\n\n[facts.b]\nname = \"B\"\n".into(),
        );
        let (kept, left_out) = parse_salvaging::<Strict>(&f, &mut Diagnostics::default()).unwrap();
        assert_eq!(kept.facts.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(left_out, [(String::new(), "fact".to_string())]);
        // A syntax error leaves nothing to salvage.
        let f = SourceFile::new("x.toml", "x.toml", "[facts.a\n".into());
        assert!(parse_salvaging::<Entries>(&f, &mut Diagnostics::default()).is_none());
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
