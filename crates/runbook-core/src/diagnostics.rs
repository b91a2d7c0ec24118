//! Diagnostics that point at the source: every error and warning the tool reports carries the
//! file and byte span it is about, and is rendered with the offending line underlined.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// One loaded source text. Shared so that diagnostics can outlive the loader.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as shown to the user (relative to the project root where possible).
    pub name: String,
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>, text: String) -> Arc<Self> {
        Arc::new(SourceFile {
            name: name.into(),
            path: path.into(),
            text,
        })
    }

    /// A pseudo-file for input that came from the command line.
    pub fn command_line(text: String) -> Arc<Self> {
        Self::new("<command line>", "", text)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A place in a source file.
#[derive(Debug, Clone)]
pub struct Span {
    pub file: Arc<SourceFile>,
    pub range: Range<usize>,
}

/// No place: what a span is in a project that came without its sources (the site ships the
/// resolved project to the browser, where nothing is reported against the files).
impl Default for Span {
    fn default() -> Self {
        Span {
            file: SourceFile::new("", "", String::new()),
            range: 0..0,
        }
    }
}

impl Span {
    pub fn new(file: &Arc<SourceFile>, range: Range<usize>) -> Self {
        Span {
            file: Arc::clone(file),
            range,
        }
    }

    /// `path:line:col` of the start of the span.
    pub fn location(&self) -> String {
        let (line, col) = self.file.line_col(self.range.start);
        format!("{}:{}:{}", self.file.name, line, col)
    }

    /// The text the span covers.
    pub fn text(&self) -> &str {
        self.file.text.get(self.range.clone()).unwrap_or("")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub span: Option<Span>,
    /// Shown under the underlined source.
    pub label: String,
    pub notes: Vec<String>,
    pub help: Option<String>,
    /// A file the diagnostic is about when there is no precise span (a missing file, say).
    pub path: Option<PathBuf>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span: None,
            label: String::new(),
            notes: Vec::new(),
            help: None,
            path: None,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Self::error(message)
        }
    }

    pub fn at(mut self, span: &Span) -> Self {
        self.span = Some(span.clone());
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic like rustc and cargo do: title, `--> file:line:col`, the
    /// source line with the span underlined, then notes and help.
    pub fn render(&self, color: bool) -> String {
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let mut group = Group::with_title(level.primary_title(self.message.as_str()));
        if let Some(span) = &self.span {
            let (line, _) = span.file.line_col(span.range.start);
            // Show the whole lines the span touches, so long files stay cheap to render.
            let text = &span.file.text;
            let start = floor_char_boundary(text, span.range.start.min(text.len()));
            let end = floor_char_boundary(text, span.range.end.min(text.len())).max(start);
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
            let excerpt = &text[line_start..line_end];
            let mut local = (start - line_start)..(end - line_start);
            if local.is_empty() {
                // An empty span still needs one visible caret.
                let next = excerpt[local.start..]
                    .chars()
                    .next()
                    .map_or(0, char::len_utf8);
                local.end = local.start + next;
            }
            let annotation = AnnotationKind::Primary
                .span(local)
                .label((!self.label.is_empty()).then_some(self.label.as_str()));
            group = group.element(
                Snippet::source(excerpt)
                    .line_start(line)
                    .path(span.file.name.as_str())
                    .annotation(annotation),
            );
        } else if let Some(path) = &self.path {
            group = group.element(annotate_snippets::Origin::path(path.display().to_string()));
        }
        for note in &self.notes {
            group = group.element(Level::NOTE.message(note.as_str()));
        }
        if let Some(help) = &self.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        renderer.render(&[group])
    }
}

/// A diagnostic as tools read it (`runbook check --format json`): where, how bad, what.
#[derive(Debug, serde::Serialize)]
pub struct Record<'a> {
    /// The file, as shown to the user; `None` for a problem that is about no file.
    pub file: Option<String>,
    /// 1-based line and column (in characters) of the start and the end of the span.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    pub severity: &'static str,
    pub message: &'a str,
    pub label: Option<&'a str>,
    pub notes: &'a [String],
    pub help: Option<&'a str>,
}

impl Diagnostic {
    pub fn record(&self) -> Record<'_> {
        let (file, start, end) = match &self.span {
            Some(span) => (
                Some(span.file.name.clone()),
                Some(span.file.line_col(span.range.start)),
                Some(span.file.line_col(span.range.end)),
            ),
            None => (
                self.path.as_ref().map(|p| p.display().to_string()),
                None,
                None,
            ),
        };
        Record {
            file,
            line: start.map(|s| s.0),
            column: start.map(|s| s.1),
            end_line: end.map(|e| e.0),
            end_column: end.map(|e| e.1),
            severity: if self.is_error() { "error" } else { "warning" },
            message: &self.message,
            label: Some(self.label.as_str()).filter(|l| !l.is_empty()),
            notes: &self.notes,
            help: self.help.as_deref(),
        }
    }

    /// A workflow command that GitHub Actions shows as an annotation on the line:
    /// `::error file=F,line=L,col=C,endLine=…,endColumn=…::message`.
    pub fn github(&self) -> String {
        let r = self.record();
        let mut props = Vec::new();
        if let Some(file) = &r.file {
            props.push(format!("file={}", github_escape(file, true)));
        }
        for (key, value) in [
            ("line", r.line),
            ("col", r.column),
            ("endLine", r.end_line),
            ("endColumn", r.end_column),
        ] {
            if let Some(v) = value {
                props.push(format!("{key}={v}"));
            }
        }
        let mut message = self.message.clone();
        for extra in r
            .label
            .into_iter()
            .chain(r.notes.iter().map(String::as_str))
        {
            message.push('\n');
            message.push_str(extra);
        }
        if let Some(help) = r.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let props = if props.is_empty() {
            String::new()
        } else {
            format!(" {}", props.join(","))
        };
        format!(
            "::{}{props}::{}",
            r.severity,
            github_escape(&message, false)
        )
    }
}

/// The escaping GitHub's workflow commands read: `%`, line breaks, and in a property `:` and
/// `,` too.
fn github_escape(text: &str, property: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            _ => out.push(c),
        }
    }
    out
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// Everything one run found wrong, in the order found.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// Sorted by file and position so that output is the same from run to run.
    pub fn sorted(mut self) -> Self {
        self.items.sort_by_key(sort_key);
        // A problem in a shared file is found once per place that includes it.
        self.items.dedup_by(|a, b| sort_key(a) == sort_key(b));
        self
    }

    pub fn render(&self, color: bool) -> String {
        let mut out = String::new();
        for d in &self.items {
            out.push_str(&d.render(color));
            out.push_str("\n\n");
        }
        out
    }
}

fn sort_key(d: &Diagnostic) -> (String, usize, String) {
    match &d.span {
        Some(span) => (span.file.name.clone(), span.range.start, d.message.clone()),
        None => (
            d.path
                .as_deref()
                .map(Path::display)
                .map(|p| p.to_string())
                .unwrap_or_default(),
            0,
            d.message.clone(),
        ),
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics { items: vec![d] }
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render(false).trim_end())
    }
}

impl std::error::Error for Diagnostics {}

/// The closest candidate to a misspelt name, for "did you mean" help. A candidate that differs
/// only in case (`EU` for `eu`) is the closest of all, however short.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    // ASCII case only: Unicode case tables would add 8 KB gzipped to the builder's engine; a
    // value differing from what was typed only in non-ASCII case is still suggested when close.
    if let Some(same) = candidates.iter().find(|c| c.eq_ignore_ascii_case(word)) {
        return Some(same);
    }
    candidates
        .into_iter()
        .map(|c| (strsim::normalized_damerau_levenshtein(word, c), c))
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let f = SourceFile::new("a.toml", "a.toml", "x = 1\né = \"y\"\n".into());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(6), (2, 1));
        // 'é' is two bytes but one column.
        assert_eq!(f.line_col(9), (2, 3));
    }

    #[test]
    fn records_and_annotations_name_the_place() {
        let f = SourceFile::new("a,b:c.toml", "a.toml", "x = 1\nwhen = 'teir'\n".into());
        let d = Diagnostic::error("unknown fact `teir`")
            .at(&Span::new(&f, 13..17))
            .label("not a declared fact")
            .help("did you mean \"tier\"? 100%");
        let r = d.record();
        assert_eq!(
            (r.line, r.column, r.end_line, r.end_column),
            (Some(2), Some(8), Some(2), Some(12))
        );
        assert_eq!(
            d.github(),
            "::error file=a%2Cb%3Ac.toml,line=2,col=8,endLine=2,endColumn=12::unknown fact \
             `teir`%0Anot a declared fact%0Ahelp: did you mean \"tier\"? 100%25"
        );
        let w = Diagnostic::warning("no file");
        assert_eq!(w.github(), "::warning::no file");
        assert_eq!(w.record().file, None);
    }

    #[test]
    fn renders_location_and_underline() {
        let f = SourceFile::new(
            "r.toml",
            "r.toml",
            "a = 1\nwhen = 'tier == \"1tier\"'\n".into(),
        );
        let d = Diagnostic::error("unknown value")
            .at(&Span::new(&f, 22..29))
            .label("not a tier")
            .help("did you mean \"1-tier\"?");
        let text = d.render(false);
        assert!(text.contains("--> r.toml:2:17"), "{text}");
        assert!(text.contains("^^^^^^^ not a tier"), "{text}");
        assert!(text.contains("help: did you mean \"1-tier\"?"), "{text}");
    }

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(did_you_mean("1tier", ["1-tier", "2-tier"]), Some("1-tier"));
        assert_eq!(did_you_mean("region", ["tier", "mode"]), None);
        assert_eq!(did_you_mean("EU", ["us", "eu"]), Some("eu"));
        assert_eq!(did_you_mean("Region", ["tier", "region"]), Some("region"));
    }
}
