//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::fs;
use std::path::Path;

use assert_cmd::Command;

/// The steps of `runbook checklist --format json`, in order.
pub fn steps(list: &serde_json::Value) -> Vec<&serde_json::Value> {
    list["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["sections"].as_array().unwrap())
        .flat_map(|s| s["steps"].as_array().unwrap())
        .collect()
}

/// The real binary, run from the repository root, never in colour.
pub fn runbook() -> Command {
    let mut cmd = Command::cargo_bin("runbook").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("--color")
        .arg("never");
    cmd
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the shipped project (runbooks, example profiles and the help site's chapters)
/// in a temp dir, where it may be edited and indexed.
pub fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["runbooks", "examples", "guide"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    fs::copy(root.join("book.toml"), dir.path().join("book.toml")).unwrap();
    dir
}

/// The part of an HTML page from its first `<TAG` to the `</TAG>` that closes it (the first
/// one after it: for `main` or `article`, which do not nest), for a snapshot of a page's content
/// without its head, sidebar and asset addresses.
pub fn element<'a>(html: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let start = html
        .find(&open)
        .unwrap_or_else(|| panic!("no {open} in\n{html}"));
    let end = html[start..]
        .find(&close)
        .unwrap_or_else(|| panic!("no {close} in\n{html}"))
        + start
        + close.len();
    &html[start..end]
}

/// `text` with what changes between runs and machines put as a placeholder, for a snapshot:
/// each of `dirs` (temporary folders, as given and as the system resolves them) as `[TEMP]`,
/// timestamps such as `2026-01-02T03:04:05.678Z` as `[TIME]`, times of day such as
/// `08:15 UTC` as `[HH:MM] UTC`, and this version of the tool (after `runbook `) as
/// `[VERSION]`. Dates and ids of the content stay as they are.
pub fn normalise(text: &str, dirs: &[&Path]) -> String {
    let mut text = text.to_string();
    for dir in dirs {
        let mut forms = vec![dir.display().to_string()];
        if let Ok(real) = dir.canonicalize() {
            forms.push(real.display().to_string());
        }
        // The longer first, so that a resolved path is not left half replaced.
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        for form in forms {
            text = text.replace(&form, "[TEMP]");
        }
    }
    text = text.replace(
        concat!("runbook ", env!("CARGO_PKG_VERSION")),
        "runbook [VERSION]",
    );
    replace_clock_times(&replace_timestamps(&text))
}

/// `HH:MM UTC` as `[HH:MM] UTC`.
fn replace_clock_times(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(" UTC") {
        let before = &rest[..at];
        let b = before.as_bytes();
        let n = b.len();
        if n >= 5
            && b[n - 5..n - 3].iter().all(u8::is_ascii_digit)
            && b[n - 3] == b':'
            && b[n - 2..].iter().all(u8::is_ascii_digit)
        {
            out.push_str(&before[..n - 5]);
            out.push_str("[HH:MM]");
        } else {
            out.push_str(before);
        }
        out.push_str(" UTC");
        rest = &rest[at + 4..];
    }
    out.push_str(rest);
    out
}

/// RFC 3339 timestamps (`YYYY-MM-DDTHH:MM:SS`, optional fraction, `Z` or an offset) as `[TIME]`.
fn replace_timestamps(text: &str) -> String {
    fn digits(b: &[u8], n: usize) -> bool {
        b.len() >= n && b[..n].iter().all(u8::is_ascii_digit)
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let s = &b[i..];
        let stamp = digits(s, 4)
            && s.get(4) == Some(&b'-')
            && digits(&s[5..], 2)
            && s.get(7) == Some(&b'-')
            && digits(&s[8..], 2)
            && s.get(10) == Some(&b'T')
            && digits(&s[11..], 2)
            && s.get(13) == Some(&b':')
            && digits(&s[14..], 2)
            && s.get(16) == Some(&b':')
            && digits(&s[17..], 2);
        if !stamp {
            i += 1;
            continue;
        }
        let mut end = i + 19;
        if b.get(end) == Some(&b'.') {
            end += 1;
            while b.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
        }
        if b.get(end) == Some(&b'Z') {
            end += 1;
        } else if matches!(b.get(end), Some(b'+' | b'-'))
            && digits(&b[end + 1..], 2)
            && b.get(end + 3) == Some(&b':')
            && digits(&b[end + 4..], 2)
        {
            end += 6;
        }
        out.push_str(&text[copied..i]);
        out.push_str("[TIME]");
        i = end;
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}
