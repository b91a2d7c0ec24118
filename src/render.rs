//! Rendering checklists through minijinja templates. The built-in templates live in
//! `templates/`; a project's own `templates/<name>` or `--template FILE` replaces them.

use std::path::{Path, PathBuf};

use minijinja::{Environment, Error, ErrorKind, Value};
use pulldown_cmark::{Options, Parser, html};
use serde::Serialize;

use crate::checklist::Checklist;
use crate::diagnostics::{Diagnostic, SourceFile, Span};
use crate::project;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Md,
    Html,
    Txt,
    Json,
}

impl Format {
    /// The template's file name, for the template formats.
    pub fn template_name(self) -> Option<&'static str> {
        match self {
            Format::Md => Some("checklist.md.j2"),
            Format::Html => Some("checklist.html.j2"),
            Format::Txt => Some("checklist.txt.j2"),
            Format::Json => None,
        }
    }
}

const BUILT_IN: [(&str, &str); 5] = [
    (
        "checklist.md.j2",
        include_str!("../templates/checklist.md.j2"),
    ),
    (
        "checklist.html.j2",
        include_str!("../templates/checklist.html.j2"),
    ),
    (
        "checklist.txt.j2",
        include_str!("../templates/checklist.txt.j2"),
    ),
    (
        "run-report.md.j2",
        include_str!("../templates/run-report.md.j2"),
    ),
    (
        "run-report.html.j2",
        include_str!("../templates/run-report.html.j2"),
    ),
];

/// How terminal output should look.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    pub width: usize,
    pub color: bool,
}

/// Renders a checklist in a format, with an optional template file replacing the built-in.
pub fn checklist(
    checklist: &Checklist,
    format: Format,
    root: &Path,
    template: Option<&Path>,
    terminal: Terminal,
) -> Result<String, Diagnostic> {
    match format.template_name() {
        Some(name) => render(name, "checklist", checklist, root, template, terminal),
        None => json(checklist),
    }
}

/// Pretty JSON with a final newline.
pub fn json<T: Serialize>(value: &T) -> Result<String, Diagnostic> {
    let mut json = serde_json::to_string_pretty(value)
        .map_err(|e| Diagnostic::error(format!("cannot write JSON: {e}")))?;
    json.push('\n');
    Ok(json)
}

/// Renders `value`, as the variable `var`, through the template `name`: the project's own
/// `templates/<name>`, or `template` when given, else the built-in one.
pub fn render<T: Serialize>(
    name: &str,
    var: &str,
    value: &T,
    root: &Path,
    template: Option<&Path>,
    terminal: Terminal,
) -> Result<String, Diagnostic> {
    let (file, source) = template_source(name, root, template)?;
    let mut env = environment(terminal);
    // Registered under the format's name, so escaping follows the output format whatever
    // the user's file is called.
    let shown = file
        .as_ref()
        .map_or_else(|| format!("templates/{name}"), |p| p.display().to_string());
    let source_file = SourceFile::new(shown, file.clone().unwrap_or_default(), source.clone());
    env.add_template_owned(name.to_string(), source)
        .map_err(|e| template_error(&source_file, &e))?;
    let tmpl = env
        .get_template(name)
        .map_err(|e| template_error(&source_file, &e))?;
    let ctx: std::collections::BTreeMap<&str, Value> =
        [(var, Value::from(minijinja::value::Serde(value)))].into();
    let mut out = tmpl
        .render(ctx)
        .map_err(|e| template_error(&source_file, &e))?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(collapse_blank_lines(&out))
}

fn template_source(
    name: &str,
    root: &Path,
    template: Option<&Path>,
) -> Result<(Option<PathBuf>, String), Diagnostic> {
    let candidate = match template {
        Some(t) => Some(t.to_path_buf()),
        None => Some(root.join("templates").join(name)).filter(|p| p.is_file()),
    };
    match candidate {
        Some(path) => {
            let file = project::read(root, &path)?;
            Ok((Some(path), file.text.clone()))
        }
        None => Ok((
            None,
            BUILT_IN
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| s.to_string())
                .unwrap_or_default(),
        )),
    }
}

/// A minijinja error as a diagnostic at its place in the template.
pub fn template_error(file: &std::sync::Arc<SourceFile>, e: &Error) -> Diagnostic {
    let mut d = Diagnostic::error(format!(
        "template error: {}",
        e.detail().unwrap_or(&e.kind().to_string())
    ));
    match (e.range(), e.line()) {
        (Some(range), _) => d = d.at(&Span::new(file, range)),
        (None, Some(line)) => {
            let start = file
                .text
                .split_inclusive('\n')
                .take(line.saturating_sub(1))
                .map(str::len)
                .sum();
            d = d.at(&Span::new(file, start..start));
        }
        _ => d = d.path(&file.path),
    }
    d
}

/// Templates are written for readability; runs of blank lines they leave are folded to one.
fn collapse_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
            out.push('\n');
        } else {
            blank = 0;
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out.trim_start_matches('\n').to_string()
}

/// An environment as every template here is written for, the checklist's and the site's: a
/// block tag's line leaves nothing behind, an undefined variable is an error, and a template
/// whose name says it is HTML is auto-escaped.
pub fn base_environment() -> Environment<'static> {
    let mut env = Environment::new();
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html.j2") || name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env
}

/// The checklist's environment, with the filters its templates may use.
fn environment(terminal: Terminal) -> Environment<'static> {
    let mut env = base_environment();
    env.add_filter("markdown", |text: &str| {
        Value::from_safe_string(markdown_html(text))
    });
    // What a customer typed, in Markdown: "Contoso <Ltd>" stays text.
    env.add_filter("md_escape", |text: &str| {
        crate::body::escape_markdown(text).into_owned()
    });
    env.add_filter("capitalize_first", |text: &str| {
        let mut chars = text.chars();
        chars
            .next()
            .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
    });
    let width = terminal.width.max(20);
    env.add_filter("wrap", move |text: &str, indent: usize| {
        wrap(text, width, indent)
    });
    let color = terminal.color;
    env.add_filter(
        "style",
        move |text: &str, name: &str| -> Result<String, Error> {
            if !color {
                return Ok(text.to_string());
            }
            let code = match name {
                "title" => "1;4",
                "heading" => "1",
                "step" => "1",
                "dim" => "2",
                "condition" => "33",
                "wait" => "36",
                other => {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("unknown style `{other}`"),
                    ));
                }
            };
            Ok(format!("\x1b[{code}m{text}\x1b[0m"))
        },
    );
    env
}

/// Markdown to HTML, with any raw HTML in it sanitized.
pub fn markdown_html(text: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut out = String::new();
    html::push_html(&mut out, Parser::new_ext(text, options));
    ammonia::clean(&out)
}

/// Fills Markdown text to the width: paragraphs are reflowed, each list item or quote line
/// starts a block whose continuation lines hang under its text, and `**` markers are dropped.
fn wrap(text: &str, width: usize, indent: usize) -> String {
    let text = text.replace("**", "");
    // (indent, hang, words) per block; an empty block stands for a blank line.
    let mut blocks: Vec<(usize, usize, String)> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let marker = list_marker(trimmed);
        if trimmed.is_empty() {
            blocks.push((0, 0, String::new()));
            open = false;
        } else if marker > 0 || trimmed.starts_with('|') || !open {
            blocks.push((
                indent + line.len() - trimmed.len(),
                marker,
                trimmed.to_string(),
            ));
            open = true;
        } else if let Some(last) = blocks.last_mut() {
            last.2.push(' ');
            last.2.push_str(trimmed);
        }
    }
    blocks
        .iter()
        .map(|(indent, hang, text)| {
            if text.is_empty() {
                return String::new();
            }
            let first = " ".repeat(*indent);
            let rest = " ".repeat(indent + hang);
            let opts = textwrap::Options::new(width.max(indent + hang + 20))
                .initial_indent(&first)
                .subsequent_indent(&rest);
            textwrap::fill(text, &opts)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The width of a list or quote marker at the start of a line (`- `, `12. `, `> `), or 0.
fn list_marker(line: &str) -> usize {
    if ["- ", "* ", "+ ", "> "].iter().any(|m| line.starts_with(m)) {
        return 2;
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let rest = &line[digits..];
    if digits > 0 && (rest.starts_with(". ") || rest.starts_with(") ")) {
        digits + 2
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn markdown_html_never_panics_nor_lets_a_script_through(
            text in crate::arbitrary::text(&[
                "<script>", "</script>", "<SCRIPT src=x>", "<scr", "ipt>", "<", ">", "<!--",
                "-->", "`", "```\n", "\n", "    ", "*", "[a](javascript:alert(1))", "![i](x)",
                "<img src=x onerror=alert(1)>", "<a href=\"", "\">", "&lt;", "&#60;", "|a|\n|-|\n",
            ])
        ) {
            let html = markdown_html(&text);
            proptest::prop_assert!(!html.to_ascii_lowercase().contains("<script"), "{}", html);
        }
    }

    #[test]
    fn markdown_is_sanitized() {
        let html = markdown_html(
            "Hello <script>alert(1)</script> **bold** <a href=\"javascript:x\">x</a>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
    }

    #[test]
    fn blank_runs_fold() {
        assert_eq!(collapse_blank_lines("\n\na\n\n\n\nb  \n"), "a\n\nb\n");
    }

    #[test]
    fn wraps_with_indent() {
        assert_eq!(
            wrap(
                "one two three four five six\nseven eight nine ten eleven",
                24,
                2
            ),
            "  one two three four\n  five six seven eight\n  nine ten eleven"
        );
        assert_eq!(
            wrap(
                "- **first** item that goes on and on\n  and on\n- second",
                24,
                0
            ),
            "- first item that goes\n  on and on and on\n- second"
        );
    }
}
