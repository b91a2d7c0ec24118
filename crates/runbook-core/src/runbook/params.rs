//! Parameters of an include: the values an include site gives (`with = { role = "…" }`) for
//! the `{{ param.NAME }}` its shared section or step writes.

use std::sync::Arc;

use indexmap::IndexMap;
use toml::Spanned;

use super::Step;
use super::load::Resolver;
use crate::diagnostics::{Diagnostic, SourceFile, did_you_mean};
use crate::toml_file::span_of;

/// The values an include site gives its shared section or step (`with = { role = "…" }`),
/// filled in where the shared text writes `{{ param.role }}`, and which were used.
pub(super) struct Params<'a> {
    given: Option<&'a Spanned<IndexMap<String, String>>>,
    /// Parameters the included text uses, with whether the site gave them.
    used: Vec<(String, bool)>,
}

impl<'a> Params<'a> {
    pub(super) fn new(given: Option<&'a Spanned<IndexMap<String, String>>>) -> Self {
        Params {
            given,
            used: Vec::new(),
        }
    }

    /// The error for `with` where nothing is included.
    pub(super) fn without_include(
        file: &Arc<SourceFile>,
        with: &Spanned<IndexMap<String, String>>,
        what: &str,
    ) -> Diagnostic {
        Diagnostic::error(format!(
            "`with` gives values to an included {what}, and this one includes none"
        ))
        .at(&span_of(file, with))
        .help(format!(
            "write include = \"<shared {what} id>\" beside it, or remove it"
        ))
    }

    /// `text` with each `{{ param.NAME }}` replaced by its value (left as written where the
    /// site gives none: reported by `report`).
    pub(super) fn fill(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let Some(len) = rest[start..].find("}}").map(|e| e + 2) else {
                break;
            };
            let inner = rest[start + 2..start + len - 2].trim();
            out.push_str(&rest[..start]);
            match inner.strip_prefix("param.") {
                Some(name) => {
                    let value = self.given.and_then(|g| g.get_ref().get(name));
                    if !self.used.iter().any(|(n, _)| n == name) {
                        self.used.push((name.to_string(), value.is_some()));
                    }
                    out.push_str(value.map_or(&rest[start..start + len], String::as_str));
                }
                None => out.push_str(&rest[start..start + len]),
            }
            rest = &rest[start + len..];
        }
        out.push_str(rest);
        out
    }

    pub(super) fn fill_step(&mut self, step: &mut Step) {
        step.title = self.fill(&step.title);
        let body = self.fill(&step.body);
        if body != step.body {
            // The text no longer maps one to one onto the file: point at the step instead.
            step.body_span = None;
            step.body = body;
        }
    }

    /// A parameter the text uses and the site does not give, or one the site gives and the
    /// text does not use, is an error at the include site.
    pub(super) fn report(
        &self,
        r: &mut Resolver,
        file: &Arc<SourceFile>,
        include: &Spanned<String>,
        what: &str,
    ) {
        let target = include.get_ref();
        for (name, given) in &self.used {
            if !given {
                r.diags.push(
                    Diagnostic::error(format!(
                        "the shared {what} `{target}` needs a value for `param.{name}`"
                    ))
                    .at(&span_of(file, include))
                    .help(format!("give it here: with = {{ {name} = \"…\" }}")),
                );
            }
        }
        let Some(given) = self.given else { return };
        for name in given.get_ref().keys() {
            if self.used.iter().any(|(n, _)| n == name) {
                continue;
            }
            let used: Vec<&str> = self.used.iter().map(|(n, _)| n.as_str()).collect();
            let mut d = Diagnostic::error(format!(
                "the shared {what} `{target}` has no `{{{{ param.{name} }}}}`"
            ))
            .at(&span_of(file, given))
            .label("given here");
            d = match did_you_mean(name, used.iter().copied()) {
                Some(close) => d.help(format!("did you mean \"{close}\"?")),
                None if used.is_empty() => d.help("its text takes no parameters"),
                None => d.help(format!("its parameters: {}", used.join(", "))),
            };
            r.diags.push(d);
        }
    }
}
