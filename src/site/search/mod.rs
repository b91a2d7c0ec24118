//! The in-site search index, built with pagefind's Rust API. Chapters are indexed from their
//! pages (headings give sub-results); runbooks and steps are custom records whose facts are
//! pagefind filters, so a search can be narrowed to what applies to one customer.
//!
//! A large book's index comes in shards: each a pagefind index of its own over a run of the
//! pages, in the order they come, ending where the pages' addresses say (so that a page
//! added or removed changes its own shard, not every one after it; see `shards`). The
//! shards are filled and built on two threads while the pages are rendered, so that building
//! one needs the memory of one shard, not of the whole book; the site's script merges them
//! into one search with pagefind's `mergeIndex`.

pub mod cache;
mod shards;

use std::collections::BTreeMap;
use std::path::Path;

use pagefind::api::PagefindIndex;
use pagefind::options::PagefindServiceConfig;
use tokio::runtime::Runtime;

use crate::diagnostics::Diagnostic;

use super::runbooks::SearchRecord;
use crate::html;

pub use shards::{Built, File, Finished, Indexer, Previous, Shards};

/// The folder of the index in the site.
pub const DIR: &str = "pagefind";

/// The file listing the shards after the first, for the site's script to merge.
pub const SHARDS_FILE: &str = "shards.json";

fn fail(what: &str, e: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error(format!("search index: {what}: {e}"))
}

/// What pagefind reads of a page: only its `data-pagefind-body` article matters, so the
/// frame around it (header, scripts) is left out to save parsing it once more; and in
/// `content`, the HTML the page was made with, the tags that do not change what pagefind
/// indexes are left out too (see `strip_plain_inline`).
pub fn page_input(html: &str, content: &str) -> String {
    let lang_end = html
        .find("<html")
        .and_then(|i| html[i..].find('>').map(|j| i + j + 1))
        .unwrap_or(0);
    let article = match (html.find("<article"), html.rfind("</article>")) {
        (Some(start), Some(end)) if start < end => &html[start..end + "</article>".len()],
        _ => return html.to_string(),
    };
    let mut out = String::with_capacity(lang_end + article.len() + 32);
    out.push_str(&html[..lang_end]);
    out.push_str("<body>");
    // A template may change the content on its way into the page: then it is read as it is.
    match article.find(content).filter(|_| !content.is_empty()) {
        Some(at) => {
            out.push_str(&article[..at]);
            strip_plain_inline(content, &mut out);
            out.push_str(&article[at + content.len()..]);
        }
        None => out.push_str(article),
    }
    out.push_str("</body></html>");
    out
}

/// Inline elements whose tags mean nothing to pagefind's parser: it takes their text into
/// the enclosing element as if the tags were not there (no word break, no weight, the same
/// heading for sub-results). Of its inline elements, `br` breaks words, `label` and
/// `script` are left out of the index, and the rest may carry content of their own.
const PLAIN_INLINE: [&str; 21] = [
    "a", "abbr", "acronym", "b", "bdo", "big", "cite", "code", "dfn", "em", "i", "kbd", "q",
    "samp", "small", "span", "strong", "sub", "sup", "tt", "var",
];

/// Elements pagefind leaves out of the index (its `REMOVE_SELECTORS`). Their own text is
/// dropped but that of their children is still credited to their anchor, so the tags of
/// the children must stay.
const LEFT_OUT: [&str; 11] = [
    "head", "style", "script", "noscript", "label", "form", "svg", "footer", "nav", "iframe",
    "template",
];

/// How an open element was copied.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    /// Its tags left out.
    Stripped,
    Kept,
    /// Kept, and left out of the index by pagefind.
    Ignored,
}

/// Copies serialized HTML to `out` without the tags of `PLAIN_INLINE` elements, so that
/// pagefind indexes the same words, weights and anchors from fewer elements (its parser's
/// cost is per element). A tag stays when it has an `id` or a `data-pagefind-*` attribute,
/// or when the element it is in is one pagefind ignores, or is not in `content` at all (its
/// text would land somewhere this cannot see). Anything else, text, comments and tags cut
/// off included, is copied as it is.
fn strip_plain_inline(content: &str, out: &mut String) {
    let mut open: Vec<(&str, Open)> = Vec::new();
    let mut copied = 0;
    for tag in html::tags(content) {
        out.push_str(&content[copied..tag.range.start]);
        copied = tag.range.end;
        if tag.end {
            // It closes the latest element of its name, and any left open inside it.
            let kept = match open
                .iter()
                .rposition(|(n, _)| n.eq_ignore_ascii_case(tag.name))
            {
                Some(i) => {
                    let (_, how) = open[i];
                    open.truncate(i);
                    how != Open::Stripped
                }
                None => true,
            };
            if kept {
                out.push_str(&content[tag.range]);
            }
            continue;
        }
        let mut meaningful = false;
        let mut ignored = html::is_one_of(&LEFT_OUT, tag.name);
        for a in tag.attributes() {
            let pagefind = a
                .name
                .get(..13)
                .is_some_and(|p| p.eq_ignore_ascii_case("data-pagefind"));
            meaningful |= pagefind || a.name.eq_ignore_ascii_case("id");
            ignored |= a.name.eq_ignore_ascii_case("data-pagefind-ignore");
        }
        let parent = open.iter().rev().find(|(_, how)| *how != Open::Stripped);
        let how = if tag.closed
            && !meaningful
            && html::is_one_of(&PLAIN_INLINE, tag.name)
            && parent.is_some_and(|(_, how)| *how == Open::Kept)
        {
            Open::Stripped
        } else {
            out.push_str(&content[tag.range]);
            if ignored { Open::Ignored } else { Open::Kept }
        };
        if !html::is_one_of(&html::VOID, tag.name) {
            open.push((tag.name, how));
        }
    }
    out.push_str(&content[copied..]);
}

/// One pagefind index.
struct SearchIndex {
    index: PagefindIndex,
    language: String,
}

impl SearchIndex {
    fn new(language: &str) -> Result<SearchIndex, Diagnostic> {
        let config = PagefindServiceConfig::builder()
            .keep_index_url(true)
            .force_language(language.to_string())
            .build();
        let index = PagefindIndex::new(Some(config)).map_err(|e| fail("cannot start", e))?;
        Ok(SearchIndex {
            index,
            language: language.to_string(),
        })
    }

    /// A page of the site; only its `data-pagefind-body` part is indexed.
    fn add_page(&mut self, rt: &Runtime, url: &str, html: String) -> Result<(), Diagnostic> {
        rt.block_on(self.index.add_html_file(None, Some(url.to_string()), html))
            .map(|_| ())
            .map_err(|e| fail(&format!("cannot index {url}"), e))
    }

    fn add_record(&mut self, rt: &Runtime, record: SearchRecord) -> Result<(), Diagnostic> {
        let url = record.url.clone();
        let filters: BTreeMap<String, Vec<String>> = record.filters;
        rt.block_on(self.index.add_custom_record(
            record.url,
            record.content,
            self.language.clone(),
            Some(record.meta),
            Some(filters),
            None,
        ))
        .map(|_| ())
        .map_err(|e| fail(&format!("cannot index {url}"), e))
    }

    fn add(&mut self, rt: &Runtime, entry: Entry) -> Result<(), Diagnostic> {
        match entry {
            Entry::Page(url, html) => self.add_page(rt, &url, html),
            Entry::Record(record) => self.add_record(rt, record),
        }
    }

    /// Builds the index and writes the files the site needs of it as shard `n`; `replace`
    /// writes each file beside its address and renames it over the old one.
    fn write(
        mut self,
        rt: &Runtime,
        n: usize,
        site: &Path,
        replace: bool,
    ) -> Result<Vec<File>, Diagnostic> {
        let files = rt
            .block_on(self.index.get_files())
            .map_err(|e| fail("cannot build", e))?;
        drop(self);
        let base = shard_dir(n);
        let mut out = Vec::new();
        for file in files {
            let rel = file.filename.to_string_lossy().replace('\\', "/");
            if !wanted(n, &rel) {
                continue;
            }
            let address = format!("{base}{rel}");
            if replace {
                super::output::replace_at(site, &address, &file.contents)?;
            } else {
                super::output::write_at(site, &address, &file.contents)?;
            }
            out.push(File::new(address, &file.contents));
        }
        Ok(out)
    }
}

/// Where shard `n` lives in the site: the first at the index folder itself (with pagefind's
/// script and WebAssembly), the others in numbered folders inside it.
fn shard_dir(n: usize) -> String {
    if n == 0 {
        format!("{DIR}/")
    } else {
        format!("{DIR}/{n}/")
    }
}

/// Of pagefind's files, those the site uses: its bundled user interfaces are left out (the
/// site has its own search box, and runs pagefind without its worker), and the shards after
/// the first need only their own data, since they are merged into the first one's search.
fn wanted(shard: usize, rel: &str) -> bool {
    const UNUSED: [&str; 6] = [
        "pagefind-ui.",
        "pagefind-modular-ui.",
        "pagefind-component-ui.",
        "pagefind-highlight.",
        "pagefind-worker.",
        "playground/",
    ];
    if UNUSED.iter().any(|p| rel.starts_with(p)) {
        return false;
    }
    shard == 0
        || rel == "pagefind-entry.json"
        || rel.ends_with(".pf_meta")
        || rel.starts_with("index/")
        || rel.starts_with("fragment/")
        || rel.starts_with("filter/")
}

/// What a shard indexes: a page (its address, what pagefind reads of it) or a record.
#[derive(Clone, PartialEq)]
enum Entry {
    Page(String, String),
    Record(SearchRecord),
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_search_input_of_any_content_is_no_longer_than_its_page(
            text in crate::arbitrary::text(&[
                "<", ">", "</", "<a href=x>", "</a>", "<em>", "</em>", "<code>", "<pre>",
                "<script>", "</script>", "<!--", "-->", "<br>", "<p>", "</article>", "\"",
            ])
        ) {
            let page = format!("<html lang=\"en\"><body><article>{text}</article></body></html>");
            let input = page_input(&page, &text);
            proptest::prop_assert!(input.len() <= page.len() + "<body></body></html>".len());
        }
    }

    fn stripped(html: &str) -> String {
        let mut out = String::new();
        strip_plain_inline(html, &mut out);
        out
    }

    #[test]
    fn plain_inline_tags_go_and_the_rest_stays() {
        assert_eq!(
            stripped(
                r#"<p>Use <code>x</code> with <a href="a.html#b">the <em>b</em> part</a>.</p>"#
            ),
            "<p>Use x with the b part.</p>"
        );
        // An id or a pagefind attribute keeps the tag, and so its end tag.
        assert_eq!(
            stripped(
                r#"<p><span id="s">a</span> <strong data-pagefind-weight="3">b</strong> <i>c</i></p>"#
            ),
            r#"<p><span id="s">a</span> <strong data-pagefind-weight="3">b</strong> c</p>"#
        );
        assert_eq!(
            stripped(r#"<p><a href="x"><a id="in">a</a> b</a></p>"#),
            r#"<p><a id="in">a</a> b</p>"#
        );
        // Word breaks, images, and what pagefind leaves out stay as they are.
        assert_eq!(
            stripped(r#"a<br>b<img src="p.png" alt="x > y"><label>l</label>"#),
            r#"a<br>b<img src="p.png" alt="x > y"><label>l</label>"#
        );
        // A `>` inside a quoted value does not end the tag.
        assert_eq!(
            stripped(r#"<p><a title='1 > 0' href="x">t</a></p>"#),
            "<p>t</p>"
        );
        // Inside what pagefind ignores, or outside anything here, the tags stay.
        for kept in [
            r#"<nav id="toc"><a href="a">A</a> <em>B</em></nav>"#,
            r#"<div data-pagefind-ignore><p>x</p><em>y</em></div>"#,
            "<em>at the top</em>",
            "<footer><p>Made by <strong>me</strong></p></footer>",
        ] {
            let expected = kept.replace("<p>Made by <strong>me</strong></p>", "<p>Made by me</p>");
            assert_eq!(stripped(kept), expected);
        }
        // Raw text, comments, stray end tags and what is not a tag are copied.
        assert_eq!(
            stripped("<script>if (a<b) { x = '<a>'; }</script><!-- <em> --></em> 1 < 2 <"),
            "<script>if (a<b) { x = '<a>'; }</script><!-- <em> --></em> 1 < 2 <"
        );
        assert_eq!(stripped(r#"<p><a href="x>t</a>"#), r#"<p><a href="x>t</a>"#);
    }

    /// The files pagefind makes of these pages, by name.
    fn index_of(pages: &[(&str, String)]) -> BTreeMap<String, Vec<u8>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut index = SearchIndex::new("en").unwrap();
        for (url, html) in pages {
            index.add_page(&rt, url, html.clone()).unwrap();
        }
        let files = rt.block_on(index.index.get_files()).unwrap();
        files
            .into_iter()
            .map(|f| (f.filename.to_string_lossy().into_owned(), f.contents))
            .collect()
    }

    #[test]
    fn pagefind_indexes_a_page_without_plain_inline_tags_the_same() {
        let content = concat!(
            r#"<h1 id="top"><a class="header" href="top">The <code>runbook</code> tool</a></h1>"#,
            r#"<p>Give the <strong>Admin Agent</strong> role to <a href="x.html"><em>the</em> "#,
            r#"account</a>.<br>Then <kbd>Ctrl</kbd>+<kbd>C</kbd>, <span class="k">wait</span>.</p>"#,
            r#"<h2 id="next"><a class="header" href="next">Next <i class="fa"></i>steps</a></h2>"#,
            r#"<ul><li><a href="y.html" id="keep">kept</a> and <sup>1</sup><sub>2</sub></li></ul>"#,
            r#"<div data-pagefind-ignore><p>not <b>indexed</b></p></div>"#,
            r#"<p><span data-pagefind-meta="extra:yes">meta</span> <small>fine print</small></p>"#,
            r#"<nav id="toc"><a href="\#alpha">Alpha</a> · <a href="\#beta">Beta</a></nav>"#,
            r#"<p>x</p><footer id="f">Made by <strong>me</strong></footer>"#,
            r#"<label id="l">A <em>label</em></label><form><p>In a <b>form</b></p></form>"#,
            r#"<div id="d" data-pagefind-ignore><em>not</em> <i>indexed</i></div>"#,
            r#"<blockquote id="q"><p><em>Quoted</em> text</p></blockquote>"#,
            r#"<pre><code class="language-toml">[output.html]
key = "value" # &lt;em&gt;</code></pre>"#,
        );
        let page = format!(
            concat!(
                r#"<!DOCTYPE html><html lang="en"><head><title>T</title></head><body>"#,
                r#"<nav>menu</nav><article data-pagefind-body>"#,
                r#"<span hidden data-pagefind-meta="title:T"></span>{}</article></body></html>"#
            ),
            content
        );
        let input = page_input(&page, content);
        assert!(
            !input.contains("<strong>Admin") && !input.contains("<nav>menu"),
            "{input}"
        );
        let stripped = index_of(&[("a.html", input)]);
        let whole = index_of(&[("a.html", page)]);
        assert!(stripped.keys().any(|k| k.starts_with("fragment/")));
        assert_eq!(
            stripped.keys().collect::<Vec<_>>(),
            whole.keys().collect::<Vec<_>>()
        );
        assert!(stripped == whole, "the index differs");
    }

    #[test]
    fn content_the_template_changed_is_read_as_it_is() {
        let page = r#"<html lang="en"><body><article><p>A <em>B</em></p></article></body></html>"#;
        assert_eq!(
            page_input(page, "<p>a <em>b</em></p>"),
            r#"<html lang="en"><body><article><p>A <em>B</em></p></article></body></html>"#
        );
        assert_eq!(
            page_input(page, "<p>A <em>B</em></p>"),
            r#"<html lang="en"><body><article><p>A B</p></article></body></html>"#
        );
    }

    #[test]
    fn later_shards_keep_only_their_data() {
        assert!(wanted(0, "pagefind.js"));
        assert!(wanted(0, "wasm.en.pagefind"));
        assert!(!wanted(0, "pagefind-ui.js"));
        assert!(!wanted(1, "pagefind.js"));
        assert!(!wanted(1, "wasm.en.pagefind"));
        assert!(wanted(1, "pagefind-entry.json"));
        assert!(wanted(1, "pagefind.en_0123456789.pf_meta"));
        assert!(wanted(1, "index/en_0123456.pf_index"));
        assert!(wanted(1, "fragment/en_0123456.pf_fragment"));
        assert!(wanted(1, "filter/en_0123456.pf_filter"));
    }
}
