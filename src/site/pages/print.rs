//! The print page: every chapter, then every runbook at its current revision, on one page.

use std::collections::HashMap;

use minijinja::context;
use rayon::prelude::*;
use serde::Serialize;

use crate::diagnostics::Diagnostic;
use crate::site::links;
use crate::site::nav::section_label;
use crate::site::runbooks::RunbookPage;

use super::chapter::{Chapter, Sources};
use super::{PageWriter, ser};

pub const PAGE: &str = "print.html";

/// Each chapter's HTML as the print page has it (links to chapters made links into the
/// page), kept by `serve` so that an edit makes only the changed chapters' again.
pub struct Rebased(Vec<String>);

impl Rebased {
    pub fn all(chapters: &[Chapter], sources: &Sources) -> Rebased {
        let in_page = in_page(chapters, sources);
        Rebased(
            (0..chapters.len())
                .into_par_iter()
                .map(|n| rebase(chapters, sources, &in_page, n))
                .collect(),
        )
    }

    /// Makes chapter `n`'s again, after its HTML changed.
    pub fn update(&mut self, chapters: &[Chapter], sources: &Sources, n: usize) {
        self.0[n] = rebase(chapters, sources, &in_page(chapters, sources), n);
    }
}

/// Each chapter's place on the page, by its address.
fn in_page(chapters: &[Chapter], sources: &Sources) -> HashMap<String, usize> {
    chapters
        .iter()
        .enumerate()
        .map(|(n, c)| (sources.of(c).address.clone(), n))
        .collect()
}

fn rebase(
    chapters: &[Chapter],
    sources: &Sources,
    in_page: &HashMap<String, usize>,
    n: usize,
) -> String {
    let c = &chapters[n];
    links::rebase(&c.html, &sources.of(c).address, Some(n), in_page)
}

/// Writes the page; `rebased`: the chapters' HTML for it, when kept (else made as the page
/// is written).
pub fn write(
    cx: &mut PageWriter,
    chapters: &[Chapter],
    sources: &Sources,
    runbooks: &[RunbookPage],
    book_title: &str,
    rebased: Option<&Rebased>,
) -> Result<(), Diagnostic> {
    let in_page = match rebased {
        Some(_) => HashMap::new(),
        None => in_page(chapters, sources),
    };
    #[derive(Serialize)]
    struct PrintChapter<'a> {
        id: String,
        title: &'a str,
        number: Option<String>,
        html: String,
    }
    // The template gets a marker in place of each chapter's HTML, and the page is
    // written with the chapters put in as it goes: the book is never in memory twice.
    let marker = PrintMarker::new();
    let printed: Vec<PrintChapter> = chapters
        .iter()
        .enumerate()
        .map(|(n, c)| PrintChapter {
            id: format!("c{n}"),
            title: &c.title,
            number: sources.of(c).number.as_ref().map(|n| section_label(n)),
            html: marker.of(n),
        })
        .collect();
    let printed_runbooks: Vec<&RunbookPage> =
        runbooks.iter().filter(|p| p.revision.current).collect();
    let ctx = context! {
        ..cx.context(PAGE, book_title),
        ..context! {
            chapters => ser(&printed),
            runbooks => ser(&printed_runbooks),
        }
    };
    let frame = cx.render("print.html.j2", ctx)?;
    drop(printed);
    let chapter_html = |n: usize| match rebased {
        Some(r) => r.0[n].clone(),
        None => rebase(chapters, sources, &in_page, n),
    };
    let bytes = cx
        .out
        .staging
        .write_with(PAGE, |out| marker.fill(&frame, chapter_html, out))?;
    // Derived from pages checked on their own: recorded, not checked again.
    cx.out.written(PAGE, bytes);
    Ok(())
}

/// Stands for a chapter's HTML in the print page's template output, so that the page can be
/// written chapter by chapter. Its random part keeps any page content from passing for one.
struct PrintMarker {
    prefix: String,
}

impl PrintMarker {
    fn new() -> PrintMarker {
        use std::hash::BuildHasher;
        let nonce = std::collections::hash_map::RandomState::new().hash_one(0u8);
        PrintMarker {
            prefix: format!("<!--rbk-print-{nonce:016x}-"),
        }
    }

    fn of(&self, n: usize) -> String {
        format!("{}{n}-->", self.prefix)
    }

    /// Writes `frame` with each marker replaced by `html(n)`, made in parallel a few at a
    /// time, in whatever order (and however often) the template put them. Returns the bytes
    /// written.
    fn fill(
        &self,
        frame: &str,
        html: impl Fn(usize) -> String + Sync,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<u64> {
        // (start, end, chapter) of each marker, in order.
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(i) = frame[from..].find(&self.prefix) {
            let start = from + i;
            let digits = start + self.prefix.len();
            let len = frame[digits..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            let n = frame[digits..digits + len].parse::<usize>().ok();
            match n {
                Some(n) if frame[digits + len..].starts_with("-->") => {
                    found.push((start, digits + len + 3, n));
                    from = digits + len + 3;
                }
                _ => from = digits,
            }
        }
        let mut written = 0u64;
        let mut at = 0;
        for group in found.chunks(32) {
            let parts: Vec<String> = group.par_iter().map(|&(_, _, n)| html(n)).collect();
            for (&(start, end, _), part) in group.iter().zip(parts) {
                out.write_all(&frame.as_bytes()[at..start])?;
                out.write_all(part.as_bytes())?;
                written += (start - at + part.len()) as u64;
                at = end;
            }
        }
        out.write_all(&frame.as_bytes()[at..])?;
        written += (frame.len() - at) as u64;
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn print_markers_are_filled_in_any_order_and_only_when_whole() {
        let m = PrintMarker::new();
        let frame = format!(
            "<a>{}</a><b>{}{}</b>{}9<!--rbk-print-x-1-->{}",
            m.of(1),
            m.of(0),
            m.of(1),
            m.prefix,
            m.of(2)
        );
        let mut out = Vec::new();
        let n = m
            .fill(&frame, |n| format!("[{n}]"), &mut out)
            .expect("written");
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out,
            format!(
                "<a>[1]</a><b>[0][1]</b>{}9<!--rbk-print-x-1-->[2]",
                m.prefix
            )
        );
        assert_eq!(n, out.len() as u64);
    }
}
