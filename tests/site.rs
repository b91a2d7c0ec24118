//! `runbook build` and `runbook serve`, driven through the real binary against fixture books,
//! the project's own help site and a real mdBook book.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{copy_dir, element, normalise, runbook};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/site")
        .join(name)
}

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Builds `root` into a fresh folder; returns the folder (kept alive by the TempDir) and stderr.
fn build(root: &Path) -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("site");
    let out = runbook()
        .arg("-C")
        .arg(root)
        .arg("build")
        .arg("--dest")
        .arg(&dest)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "build failed:\n{stderr}");
    (tmp, dest, stderr)
}

/// Every file under a folder, relative, with its bytes.
/// `runbook build` in `book`, with `args` after it, which must fail with exit status 1;
/// returns its standard error.
fn build_fails(book: &Path, args: &[&OsStr]) -> String {
    let out = runbook()
        .arg("-C")
        .arg(book)
        .arg("build")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    stderr
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// The chapter files a SUMMARY.md lists, in order, drafts left out, read the way mdBook
/// reads them (and not with the code under test): the first link of each list item and of
/// each prefix or suffix line, HTML comments skipped.
fn summary_targets(summary: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_comment = false;
    for line in summary.lines() {
        let mut text = String::new();
        let mut rest = line;
        loop {
            if in_comment {
                match rest.find("-->") {
                    Some(i) => {
                        rest = &rest[i + 3..];
                        in_comment = false;
                    }
                    None => break,
                }
            } else {
                match rest.find("<!--") {
                    Some(i) => {
                        text.push_str(&rest[..i]);
                        rest = &rest[i + 4..];
                        in_comment = true;
                    }
                    None => {
                        text.push_str(rest);
                        break;
                    }
                }
            }
        }
        let item = text.trim_start();
        let item = item
            .strip_prefix("- ")
            .or_else(|| item.strip_prefix("* "))
            .unwrap_or(item)
            .trim_start();
        if !item.starts_with('[') {
            continue;
        }
        let Some(open) = item.find("](") else {
            continue;
        };
        let after = &item[open + 2..];
        let target = match after.strip_prefix('<') {
            Some(angled) => angled.split('>').next().unwrap_or(""),
            None => after.split(')').next().unwrap_or(""),
        };
        if !target.trim().is_empty() {
            out.push(target.trim().replace("%20", " "));
        }
    }
    out
}

/// Where mdBook writes a chapter's page: the file's path with `.html` for its extension,
/// `README` (in any case) as `index`.
fn mdbook_address(target: &str) -> String {
    let mut target = target;
    while let Some(rest) = target.strip_prefix("./") {
        target = rest;
    }
    let (dir, file) = match target.rsplit_once('/') {
        Some((d, f)) => (format!("{d}/"), f),
        None => (String::new(), target),
    };
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    let stem = if stem.eq_ignore_ascii_case("readme") {
        "index"
    } else {
        stem
    };
    format!("{dir}{stem}.html")
}

#[test]
fn the_help_site_builds_with_every_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (_tmp, site, stderr) = build(root);
    assert!(stderr.contains("built 4 chapters"), "{stderr}");
    for page in [
        "index.html",
        "introduction.html",
        "runs.html",
        "authoring.html",
        "checklist.html",
        "print.html",
        "404.html",
        "toc.js",
        "assets/site.css",
        "assets/site.js",
        "assets/checklist.js",
        "assets/checklist-data.js",
        "pagefind/pagefind.js",
        "pagefind/pagefind-entry.json",
        "runbooks/install.html",
        "runbooks/prerequisites.html",
    ] {
        assert!(site.join(page).is_file(), "missing {page}");
    }
    let install = read(site.join("runbooks/install.html"));
    // Steps are anchors at their ids; conditions are badges in words; roles and waits shown;
    // the revision is marked current, and the older one is linked: it has a page of its own.
    insta::assert_snapshot!("install_runbook_content", element(&install, "main"));
    let old = read(site.join("runbooks/install/2019-08-14.html"));
    assert!(old.contains("This is an older revision"));
    insta::assert_snapshot!("install_runbook_2019_08_14_content", element(&old, "main"));
    // The index lists the runbooks; the sidebar lists chapters and runbooks.
    let index = read(site.join("index.html"));
    assert!(index.contains(r#"href="runbooks/install.html""#));
    let toc = read(site.join("toc.js"));
    assert!(toc.contains("authoring.html") && toc.contains("runbooks/install.html"));
    // Relative addresses only, so that the site works under any sub-path.
    for (rel, bytes) in files(&site) {
        if rel.ends_with(".html") && rel != "404.html" {
            let html = String::from_utf8(bytes).unwrap();
            assert!(!html.contains("href=\"/"), "{rel} has a root-absolute link");
            assert!(
                !html.contains("src=\"/"),
                "{rel} has a root-absolute source"
            );
        }
    }
    // The checklist builder gets the resolved project, and the engine to run on it.
    let data = read(site.join("assets/checklist-data.js"));
    let json = data
        .strip_prefix("window.RBK_CHECKLIST = ")
        .and_then(|d| d.strip_suffix(";\n"))
        .expect("the builder's data as a script");
    let data: serde_json::Value = serde_json::from_str(json).unwrap();
    // The project as the engine's `load` reads it: whole, and with every step's Markdown.
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data["load"].as_str().unwrap())
        .unwrap();
    let (project, markdown): (runbook_core::project::Project, Vec<String>) =
        postcard::from_bytes(&bytes).unwrap();
    assert_eq!(
        postcard::to_allocvec(&(&project, &markdown)).unwrap(),
        bytes
    );
    let steps: Vec<_> = project
        .runbooks
        .iter()
        .flat_map(|rb| &rb.revisions)
        .flat_map(|r| r.steps())
        .collect();
    assert_eq!(steps.len(), markdown.len());
    assert!(
        steps
            .iter()
            .zip(&markdown)
            .any(|((_, st), md)| st.body.contains("<p>") && !md.contains("<p>")),
        "step text as HTML, and as Markdown beside it"
    );
    assert!(
        serde_json::to_string(&project)
            .unwrap()
            .contains(r#""Atom":{"fact":"tier""#),
        "conditions as the engine reads them"
    );
    let engine = std::fs::read(site.join("assets/engine.wasm")).unwrap();
    assert!(engine.starts_with(b"\0asm"), "a WebAssembly module");
}

// ---- Real mdBook books, read from ../shared/corpora (kept out of the repository).

/// A book of the corpus, or `None` (with a notice) when the corpus is not here; under
/// `CI=true` a missing corpus fails the test.
fn corpus(name: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora")
        .join(name);
    if dir.join("src/SUMMARY.md").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing: the corpus tests need ../shared/corpora (CI=true)",
            dir.display()
        );
    }
    eprintln!(
        "skipped: {} is not here (with CI=true this fails)",
        dir.display()
    );
    None
}

/// Each `warning:` or `error:` line of a build's output, with the place on the line after it.
fn diagnostics(stderr: &str) -> Vec<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("warning:") || line.starts_with("error:") {
            let place = lines
                .get(i + 1)
                .and_then(|l| l.trim_start().strip_prefix("--> "))
                .unwrap_or("");
            out.push(format!("{line} @ {place}"));
        }
    }
    out
}

/// Every relative `href` and `src` of every HTML page of a site (but the 404 page, whose
/// links start from the site's address), resolved as a browser would: the file must be
/// there, and a `#fragment` on an HTML page must be an id or name on it. Links above the
/// site's root leave it and are not followed. Returns how many links were followed.
fn follow_every_link(site: &Path) -> usize {
    use std::collections::HashMap;
    let pages: HashMap<String, String> = files(site)
        .into_iter()
        .filter(|(rel, _)| rel.ends_with(".html"))
        .map(|(rel, bytes)| (rel, String::from_utf8_lossy(&bytes).into_owned()))
        .collect();
    // Code shows HTML as text, quotes and all: its "attributes" are not links.
    let outside_code = |html: &str| -> String {
        let mut out = String::with_capacity(html.len());
        let mut rest = html;
        while let Some(i) = rest.find("<code") {
            out.push_str(&rest[..i]);
            rest = rest[i..]
                .split_once("</code>")
                .map_or("", |(_, after)| after);
        }
        out.push_str(rest);
        out
    };
    let values = |html: &str, attr: &str| -> Vec<String> {
        let needle = format!(" {attr}=\"");
        let mut out = Vec::new();
        let html = outside_code(html);
        let mut rest = html.as_str();
        while let Some(i) = rest.find(&needle) {
            let after = &rest[i + needle.len()..];
            let end = after.find('"').unwrap_or(after.len());
            out.push(after[..end].replace("&amp;", "&"));
            rest = &after[end..];
        }
        out
    };
    let has_anchor = |html: &str, id: &str| {
        html.contains(&format!(" id=\"{id}\"")) || html.contains(&format!(" name=\"{id}\""))
    };
    let mut followed = 0;
    let mut broken = Vec::new();
    for (page, html) in &pages {
        if page == "404.html" {
            continue;
        }
        for link in values(html, "href").into_iter().chain(values(html, "src")) {
            let scheme = link
                .split_once(':')
                .is_some_and(|(s, _)| !s.is_empty() && !s.contains(['/', '#', '?']));
            if link.is_empty() || scheme || link.starts_with("//") {
                continue;
            }
            let (path, fragment) = match link.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (link.as_str(), None),
            };
            let path = path.split('?').next().unwrap_or("");
            let mut parts: Vec<String> = page.split('/').map(String::from).collect();
            parts.pop();
            let mut above = false;
            if !path.is_empty() {
                for part in path.split('/') {
                    match part {
                        "" | "." => {}
                        ".." => above |= parts.pop().is_none(),
                        p => parts.push(p.replace("%20", " ")),
                    }
                }
            }
            if above {
                continue;
            }
            let mut target = if path.is_empty() {
                page.clone()
            } else {
                parts.join("/")
            };
            if path.ends_with('/') || target.is_empty() || site.join(&target).is_dir() {
                target = format!("{}/index.html", target.trim_end_matches('/'))
                    .trim_start_matches('/')
                    .to_string();
            }
            followed += 1;
            if !site.join(&target).is_file() {
                broken.push(format!("{page}: {link} → {target} is not there"));
                continue;
            }
            if let (Some(f), Some(html)) = (fragment.filter(|f| !f.is_empty()), pages.get(&target))
                && !has_anchor(html, &f.replace("%20", " "))
            {
                broken.push(format!("{page}: {link} → {target} has no #{f}"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    followed
}

/// Builds a book of the corpus from a copy (the build keeps its lock in the book's folder,
/// and ../shared is never written), and checks what mdBook would give: a page for every
/// chapter of SUMMARY.md at mdBook's address, `index.html` made from the first chapter,
/// every internal link resolving, and exactly the warnings expected.
fn a_corpus_book_builds_as_mdbook_builds_it(name: &str, expected: &[&str]) {
    let Some(shared) = corpus(name) else {
        return;
    };
    let copy = tempfile::tempdir().unwrap();
    let book = copy.path().join(name);
    copy_dir(&shared, &book);
    let (_tmp, site, stderr) = build(&book);
    assert_eq!(diagnostics(&stderr), expected, "{stderr}");

    let summary = read(book.join("src/SUMMARY.md"));
    let targets = summary_targets(&summary);
    assert!(targets.len() > 25, "{targets:?}");
    let report = format!("built {} chapters and 0 runbooks", targets.len());
    assert!(stderr.contains(&report), "{stderr}");
    let toc = read(site.join("toc.js"));
    let mut last = 0;
    for target in &targets {
        let address = mdbook_address(target);
        assert!(
            site.join(&address).is_file(),
            "{target} → {address} missing"
        );
        // In SUMMARY order in the sidebar.
        let needle = format!("href=\\\"{address}\\\"");
        let at = toc
            .find(&needle)
            .unwrap_or_else(|| panic!("{address} not in the sidebar"));
        assert!(at >= last, "{address} out of order");
        last = at;
    }
    // As mdBook does, index.html is the first chapter (its own page when it is README.md or
    // index.md at the top).
    let title = |page: &str| {
        let html = read(site.join(page));
        let start = html.find("<title>").expect("a title") + 7;
        let end = html[start..].find("</title>").expect("a title") + start;
        html[start..end].to_string()
    };
    assert_eq!(title("index.html"), title(&mdbook_address(&targets[0])));
    let followed = follow_every_link(&site);
    assert!(
        followed > 10 * targets.len(),
        "only {followed} links followed"
    );
}

#[test]
fn the_mdbook_user_guide_builds_as_mdbook_builds_it() {
    a_corpus_book_builds_as_mdbook_builds_it(
        "mdbook-guide",
        // Its code files are left out of the corpus: includes of them warn, as in mdBook.
        &[
            "warning: cannot include `../../../examples/nop-preprocessor.rs`: no such file; the directive is left out @ src/for_developers/preprocessors.md:42:1",
            "warning: cannot include `../../../examples/remove-emphasis/mdbook-remove-emphasis/src/main.rs`: no such file; the directive is left out @ src/for_developers/preprocessors.md:69:1",
            "warning: cannot include `example.rs`: no such file; the directive is left out @ src/format/mdbook.md:295:1",
        ],
    );
}

#[test]
fn the_embedded_rust_book_builds_as_mdbook_builds_it() {
    a_corpus_book_builds_as_mdbook_builds_it("embedded-book", &[]);
}

#[test]
fn rust_by_example_builds_as_mdbook_builds_it() {
    a_corpus_book_builds_as_mdbook_builds_it(
        "rust-by-example",
        &["warning: preprocessor `gettext` is not run by runbook build @ book.toml:30:15"],
    );
}

#[test]
fn the_mdbook_user_guides_own_pages() {
    let Some(shared) = corpus("mdbook-guide") else {
        return;
    };
    let copy = tempfile::tempdir().unwrap();
    let guide = copy.path().join("mdbook-guide");
    copy_dir(&shared, &guide);
    let (_tmp, site, _) = build(&guide);
    let toc = read(site.join("toc.js"));
    // README.md is the start page, and the draft chapter has no page.
    assert!(read(site.join("index.html")).contains("Introduction"));
    assert!(toc.contains("Draft chapter") && toc.contains("rbk-toc-draft"));
    // A chapter's content, with mdBook's heading ids.
    let summary_page = read(site.join("format/summary.html"));
    assert!(summary_page.contains(r#"id="structure""#), "heading ids");
}

#[test]
fn mdbook_summary_format_includes_and_addresses() {
    let (_tmp, site, stderr) = build(&fixture("plain"));
    // Unknown keys and plugins warn, not fail: `colour-scheme` in [output.html], the
    // `mermaid` preprocessor, the `linkcheck` renderer, and a missing include at
    // src/guide/one.md:19:1.
    insta::assert_snapshot!(
        "plain_build_warnings",
        without_waiting(without_summary(&stderr))
    );
    // README.md is index.html; the nested, spaced and suffix chapters are at their addresses.
    for page in [
        "index.html",
        "foreword.html",
        "guide/one.html",
        "guide/nested.html",
        "guide/two words.html",
        "three.html",
        "afterword.html",
        "img/pic.svg",
        "old/page.html",
        "print.html",
    ] {
        assert!(site.join(page).is_file(), "missing {page}");
    }
    let toc = read(site.join("toc.js"));
    for (i, label) in [
        "Start here",
        "Foreword",
        "1.",
        "1.1.",
        "1.2.",
        "2.",
        "3.",
        "Afterword",
    ]
    .iter()
    .enumerate()
    {
        assert!(toc.contains(label), "{i}: {label} not in the sidebar");
    }
    assert!(toc.contains("rbk-toc-part") && toc.contains("The guide") && toc.contains("Reference"));
    assert!(toc.contains("rbk-toc-separator"));
    assert!(toc.contains("Not written yet") && toc.contains("rbk-toc-draft"));
    let one = read(site.join("guide/one.html"));
    // The chapter's content: links to .md files point at the chapters' pages
    // (`two%20words.html`, `nested.html#nested-heading`); repeated headings are numbered as
    // mdBook numbers them (`a-second-heading-1`); includes by line range and by anchor, and an
    // escaped directive stays as written; raw HTML is kept, sanitized.
    insta::assert_snapshot!("plain_guide_one_content", element(&one, "main"));
    assert!(!one.contains("ANCHOR"));
    assert!(!one.contains("<script>alert") && !one.contains("onclick"));
    // The edit link and the repository link.
    assert!(one.contains(r#"href="https://example.org/repo/edit/main/src/guide/one.md""#));
    // {{#title}} sets the page title.
    assert!(
        read(site.join("foreword.html"))
            .contains("<title>A better title · A plain mdBook book</title>")
    );
    // The redirect.
    assert!(read(site.join("old/page.html")).contains(r#"url=../guide/one.html"#));
    // The print page has every chapter, with links made in-page.
    let print = read(site.join("print.html"));
    for title in [
        "Welcome",
        "Foreword",
        "Chapter one",
        "Nested",
        "Two",
        "Three",
        "Afterword",
    ] {
        assert!(print.contains(title), "print page lacks {title}");
    }
    assert!(
        print.contains(r##"href="#c2-a-second-heading-1""##),
        "in-page links"
    );
}

// ---- What mdBook builds: links out of the site's root, redirects, settings it refuses.

/// A copy of a fixture book in a temp dir, with `extra` appended to its book.toml.
fn fixture_copy(name: &str, extra: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let book = tmp.path().join(name);
    copy_dir(&fixture(name), &book);
    let toml = read(book.join("book.toml")) + extra;
    fs::write(book.join("book.toml"), toml).unwrap();
    (tmp, book)
}

/// A build's diagnostics, without the last line (which names the temp folder built into).
fn without_summary(stderr: &str) -> &str {
    match stderr.rfind("built ") {
        Some(i) => &stderr[..i],
        None => stderr,
    }
}

/// A build's diagnostics without the notice that it waited for another build of the same book:
/// the tests build the fixture books where they are, at the same time, in any order.
fn without_waiting(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|line| !line.starts_with("waiting for another build of "))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[test]
fn a_book_published_beside_others_links_out_of_its_root_and_redirects_as_mdbook_does() {
    let (_tmp, site, stderr) = build(&fixture("published"));
    assert_eq!(without_summary(&stderr), "", "no warnings: {stderr}");
    // Links above the root lead to the neighbours, written as mdBook writes them (`.md` as
    // `.html`), from every page they are on.
    let intro = read(site.join("intro.html"));
    assert!(
        intro.contains(r#"href="../std/mem/fn.transmute.html""#),
        "{intro}"
    );
    assert!(intro.contains(r#"href="../reference/types.html#pointers""#));
    let vec = read(site.join("vec/vec.html"));
    assert!(
        vec.contains(r#"href="../../std/boxed/struct.Box.html""#),
        "{vec}"
    );
    // The first chapter is also index.html, and every chapter is on the print page: at the
    // root, the same links lead to the same places.
    let index = read(site.join("index.html"));
    assert!(index.contains(r#"href="../std/mem/fn.transmute.html""#));
    let print = read(site.join("print.html"));
    assert!(
        print.contains(r#"href="../std/boxed/struct.Box.html""#),
        "{print}"
    );
    // Redirect pages at their old addresses, `./` and `/` meaning the root, each pointing
    // where book.toml says, relative to itself.
    for (page, to) in [
        ("vec-alloc.html", "./vec/vec-alloc.html"),
        ("old/intro.html", "../intro.html"),
        ("std.html", "../std/index.html"),
        ("elsewhere.html", "https://example.org/std/"),
    ] {
        let html = read(site.join(page));
        assert!(html.contains(&format!("url={to}\"")), "{page}: {html}");
    }
    // A redirected part of a page is no file of its own.
    let names: Vec<String> = files(&site).into_iter().map(|(n, _)| n).collect();
    assert!(!names.iter().any(|n| n.contains('#')), "{names:?}");
}

#[test]
fn a_redirect_that_leads_nowhere_or_replaces_a_chapter_is_an_error_in_book_toml() {
    let (_tmp, book) = fixture_copy(
        "published",
        concat!(
            "\"/gone.html\" = \"./vec/no-such-page.html\"\n",
            "\"/vec/old.html\" = \"vec-alloc.html#no-such-part\"\n",
            "\"/intro.html\" = \"vec/vec.html\"\n",
            "\"../above.html\" = \"intro.html\"\n",
        ),
    );
    let stderr = build_fails(&book, &[]);
    insta::assert_snapshot!(stderr);
}

#[test]
fn what_mdbook_refuses_in_book_toml_is_a_warning_with_its_line() {
    let (_tmp, book) = fixture_copy(
        "published",
        concat!(
            "\"/moved.html#part\" = \"intro.html\"\n",
            "\n[output.html.search.chapter]\n",
            "\"vec\" = { enable = false }\n",
            "\"intro.md\" = { enable = true }\n",
            "\"appendix\" = { enable = false }\n",
        ),
    );
    let toml = read(book.join("book.toml")).replace(
        "site-url = \"/nomicon/\"\n",
        "site-url = \"/nomicon/\"\ntheme = \"my-theme\"\n",
    );
    fs::write(book.join("book.toml"), toml).unwrap();
    let (_t, site, stderr) = build(&book);
    insta::assert_snapshot!(without_summary(&stderr));
    assert!(!site.join("moved.html").exists());
    // With the theme folder there, that warning goes.
    fs::create_dir_all(book.join("my-theme")).unwrap();
    let (_t, _, stderr) = build(&book);
    assert!(!stderr.contains("theme folder"), "{stderr}");
}

#[test]
fn broken_links_in_an_adopted_book_can_be_warnings() {
    let (_tmp, book) = fixture_copy("broken", "\n[output.html]\nbroken-links = \"warn\"\n");
    let (_t, site, stderr) = build(&book);
    insta::assert_snapshot!(without_summary(&stderr));
    assert!(site.join("a.html").is_file());
    // `runbook check` reads them the same way.
    let out = runbook()
        .arg("-C")
        .arg(&book)
        .arg("check")
        .output()
        .unwrap();
    let check = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{check}");
    assert!(
        check.contains("warning: broken link `missing.html` points to `missing.html`"),
        "{check}"
    );
    // The default, and `"error"`, fail the build; another value is an error in book.toml.
    for (value, expected) in [
        ("error", "error: broken link `missing.html`"),
        (
            "ignore",
            "error: unknown variant `ignore`, expected `error` or `warn`\n --> book.toml:5:16",
        ),
    ] {
        let toml = format!(
            "[book]\ntitle = \"Broken links\"\n\n[output.html]\nbroken-links = \"{value}\"\n"
        );
        fs::write(book.join("book.toml"), toml).unwrap();
        let stderr = build_fails(&book, &[]);
        assert!(stderr.contains(expected), "{value}: {stderr}");
    }
}

#[test]
fn builds_are_deterministic() {
    let (_a, first, _) = build(&fixture("plain"));
    let (_b, second, _) = build(&fixture("plain"));
    assert_eq!(files(&first), files(&second));
}

#[test]
fn a_search_index_in_shards_has_every_page_once() {
    // The plain book with shards of two pages, as a large book gets them.
    let tmp = tempfile::tempdir().unwrap();
    let book = tmp.path().join("book");
    copy_dir(&fixture("plain"), &book);
    let toml = read(book.join("book.toml")).replace(
        "[output.html.search]\n",
        "[output.html.search]\nshard-size = 2\n",
    );
    fs::write(book.join("book.toml"), toml).unwrap();
    let (_a, site, stderr) = build(&book);
    assert!(!stderr.contains("shard-size"), "a known key: {stderr}");
    let shards: serde_json::Value =
        serde_json::from_str(&read(site.join("pagefind/shards.json"))).unwrap();
    let shards: Vec<&str> = shards["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(shards.len() >= 3, "{shards:?}");
    // The first shard has pagefind's script and WebAssembly; the others only their data.
    assert!(site.join("pagefind/pagefind.js").is_file());
    assert!(site.join("pagefind/wasm.en.pagefind").is_file());
    let mut pages = 0;
    for dir in std::iter::once("").chain(shards.iter().copied()) {
        let folder = site.join("pagefind").join(dir);
        let entry: serde_json::Value =
            serde_json::from_str(&read(folder.join("pagefind-entry.json"))).unwrap();
        let count = entry["languages"]["en"]["page_count"].as_u64().unwrap();
        assert!((1..=2).contains(&count), "{dir}: {count} pages");
        pages += count;
        if !dir.is_empty() {
            assert!(!folder.join("pagefind.js").exists(), "{dir}");
            assert!(!folder.join("wasm.en.pagefind").exists(), "{dir}");
            assert!(folder.join("index").is_dir() && folder.join("fragment").is_dir());
        }
    }
    // Every chapter (the first also at index.html, indexed once), no other page.
    let chapters = summary_targets(&read(book.join("src/SUMMARY.md"))).len() as u64;
    assert_eq!(pages, chapters);
    // Still deterministic.
    let (_b, again, _) = build(&book);
    assert_eq!(files(&site), files(&again));
}

#[test]
fn a_broken_link_fails_the_build_naming_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("site");
    let out = runbook()
        .arg("-C")
        .arg(fixture("broken"))
        .arg("build")
        .arg("--dest")
        .arg(&dest)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The missing page at src/a.md:5 and the missing anchor at src/a.md:6.
    insta::assert_snapshot!(normalise(&stderr, &[tmp.path()]));
    assert!(
        !stderr.contains("example.com"),
        "external links are not checked: {stderr}"
    );
    assert!(!dest.exists(), "no partial site");
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "nothing left behind"
    );
}

#[test]
fn a_failed_build_leaves_the_previous_site() {
    let tmp = tempfile::tempdir().unwrap();
    let book = tmp.path().join("book-src");
    copy_dir(&fixture("plain"), &book);
    let dest = tmp.path().join("site");
    let ok = runbook()
        .arg("-C")
        .arg(&book)
        .args(["build", "--dest"])
        .arg(&dest)
        .output()
        .unwrap();
    assert!(ok.status.success());
    let before = files(&dest);
    fs::write(
        book.join("src/three.md"),
        "# Three\n\n[broken](nowhere.md)\n",
    )
    .unwrap();
    build_fails(&book, &["--dest".as_ref(), dest.as_os_str()]);
    assert_eq!(files(&dest), before);
    let left: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn bad_input_is_an_error_with_a_place() {
    let tmp = tempfile::tempdir().unwrap();
    let book = tmp.path().join("b");
    fs::create_dir_all(book.join("src")).unwrap();
    fs::write(book.join("book.toml"), "[book]\ntitle = 3\n").unwrap();
    fs::write(book.join("src/SUMMARY.md"), "- [A](a.md)\n").unwrap();
    // A title of the wrong type, at book.toml:2.
    let stderr = build_fails(&book, &[]);
    insta::assert_snapshot!("wrong_type_in_book_toml", normalise(&stderr, &[tmp.path()]));

    // A chapter file that is not there, at src/SUMMARY.md:1.
    fs::write(book.join("book.toml"), "[book]\ntitle = \"T\"\n").unwrap();
    let stderr = build_fails(&book, &[]);
    insta::assert_snapshot!("missing_chapter_file", normalise(&stderr, &[tmp.path()]));

    // A list item that is not a link, at src/SUMMARY.md:2.
    fs::write(book.join("src/SUMMARY.md"), "- [A](a.md)\n- Not a link\n").unwrap();
    fs::write(book.join("src/a.md"), "# A\n").unwrap();
    let stderr = build_fails(&book, &[]);
    insta::assert_snapshot!("summary_item_not_a_link", normalise(&stderr, &[tmp.path()]));

    // The project itself is never the destination.
    fs::write(book.join("src/SUMMARY.md"), "- [A](a.md)\n").unwrap();
    let stderr = build_fails(&book, &["--dest".as_ref(), book.as_os_str()]);
    insta::assert_snapshot!(
        "the_project_as_destination",
        normalise(&stderr, &[tmp.path()])
    );
    assert!(book.join("src/a.md").is_file());
}

#[test]
fn the_projects_templates_replace_the_built_in_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let book = tmp.path().join("b");
    copy_dir(&fixture("plain"), &book);
    fs::create_dir_all(book.join("templates/site")).unwrap();
    fs::write(
        book.join("templates/site/chapter.html.j2"),
        "{% extends \"layout.html.j2\" %}{% block content %}<div class=\"mine\">{{ title }}</div>{{ content|safe }}{% endblock %}",
    )
    .unwrap();
    let (_t, site, _) = build(&book);
    assert!(read(site.join("three.html")).contains(r#"<div class="mine">Three</div>"#));

    // A template error names the template and its line.
    fs::write(
        book.join("templates/site/chapter.html.j2"),
        "{% extends \"layout.html.j2\" %}\n{% block content %}\n{{ title | nosuchfilter }}\n{% endblock %}",
    )
    .unwrap();
    let stderr = build_fails(&book, &[]);
    assert!(
        stderr.contains("templates/site/chapter.html.j2:3:"),
        "{stderr}"
    );
    insta::assert_snapshot!(normalise(&stderr, &[tmp.path()]));
}

#[test]
fn content_is_escaped_or_sanitized() {
    let tmp = tempfile::tempdir().unwrap();
    let book = tmp.path().join("b");
    fs::create_dir_all(book.join("src")).unwrap();
    fs::write(
        book.join("book.toml"),
        "[book]\ntitle = \"<b>Bold</b> & co\"\n",
    )
    .unwrap();
    fs::write(book.join("src/SUMMARY.md"), "- [<i>x</i> chapter](a.md)\n").unwrap();
    fs::write(
        book.join("src/a.md"),
        "# A\n\n<img src=\"https://e.org/x.png\" onerror=alert(1)> <a href=\"javascript:alert(1)\">j</a> <iframe src=\"https://e.org\"></iframe>\n",
    )
    .unwrap();
    let (_t, site, _) = build(&book);
    let a = read(site.join("a.html"));
    assert!(a.contains("&lt;b&gt;Bold&lt;/b&gt; &amp; co"), "{a}");
    assert!(
        !a.contains("onerror") && !a.contains("javascript:") && !a.contains("<iframe"),
        "{a}"
    );
    // The chapter's content as kept: the image without its handler, the link without its
    // address, no frame.
    insta::assert_snapshot!(element(&a, "main"));
}

// ---- serve

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(root: &Path, dest: &Path, watch: bool) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_runbook"));
    cmd.arg("--color")
        .arg("never")
        .arg("-C")
        .arg(root)
        .args(["serve", "--port", "0", "--dest"])
        .arg(dest)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if !watch {
        cmd.arg("--no-watch");
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { child, url }
}

/// A plain HTTP/1.1 GET: status and body.
fn get(url: &str, path: &str) -> (u16, String) {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

#[test]
fn serve_serves_the_site_on_loopback() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("site");
    let server = serve(&fixture("plain"), &dest, false);
    assert!(server.url.starts_with("http://127.0.0.1:"));
    let (status, body) = get(&server.url, "/");
    assert_eq!(status, 200);
    assert!(body.contains("Welcome"));
    let (status, body) = get(&server.url, "/guide/two%20words.html");
    assert_eq!(status, 200, "{body}");
    let (status, _) = get(&server.url, "/old");
    assert_eq!(status, 404, "a folder without an index");
    let (status, body) = get(&server.url, "/no/such/page");
    assert_eq!(status, 404);
    assert!(body.contains("Page not found"));
    let (status, _) = get(&server.url, "/../../etc/passwd");
    assert_eq!(status, 404);
}

#[test]
fn serve_rebuilds_on_change() {
    let tmp = tempfile::tempdir().unwrap();
    let book = tmp.path().join("b");
    copy_dir(&fixture("plain"), &book);
    let dest = tmp.path().join("site");
    let server = serve(&book, &dest, true);
    let (_, body) = get(&server.url, "/three.html");
    assert!(body.contains("<h1 id=\"three\">"));
    fs::write(book.join("src/three.md"), "# Three, edited\n").unwrap();
    let start = Instant::now();
    loop {
        let (_, body) = get(&server.url, "/three.html");
        if body.contains("Three, edited") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "not rebuilt");
        std::thread::sleep(Duration::from_millis(200));
    }
}
