//! The site's templates and static assets: built in from `templates/site/`, each replaced by
//! the project's own `templates/site/<name>` where it has one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::{Environment, Error, Value};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::diagnostics::{Diagnostic, SourceFile};
use crate::project;

pub const DIR: &str = "templates/site";

/// What `urlencode_component` escapes: all but RFC 3986's unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

macro_rules! built_in {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/site/", $name)))),*]
    };
}

/// Every template, by name.
const TEMPLATES: &[(&str, &str)] = built_in!(
    "layout.html.j2",
    "macros.html.j2",
    "chapter.html.j2",
    "index.html.j2",
    "runbook.html.j2",
    "checklist.html.j2",
    "print.html.j2",
    "404.html.j2",
    "redirect.html.j2",
    "toc.html.j2",
    "toc.js.j2",
);

/// Static files copied to `assets/` as they are.
const ASSETS: &[(&str, &str)] = built_in!("site.css", "site.js", "checklist.js");

pub struct Templates {
    env: Environment<'static>,
    /// Template name → the file it came from, for error messages.
    sources: Vec<(String, Arc<SourceFile>)>,
    /// Asset name → contents.
    pub assets: Vec<(String, Vec<u8>)>,
    /// The project files that replaced built-in ones, for watching.
    pub files: Vec<PathBuf>,
}

impl Templates {
    pub fn load(root: &Path) -> Result<Templates, Diagnostic> {
        let mut env = crate::render::base_environment();
        // HTML escaping as everywhere else in the site (`&`, `<`, `>`, `"`, `'`): minijinja's
        // own also escapes `/`, which makes every address harder to read.
        env.set_formatter(|out, state, value| {
            if matches!(state.auto_escape(), minijinja::AutoEscape::Html)
                && !value.is_safe()
                && let Some(s) = value.as_str()
            {
                return out
                    .write_str(&crate::markdown::escape(s))
                    .map_err(|e| Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()));
            }
            minijinja::escape_formatter(out, state, value)
        });
        env.add_filter("urlencode_component", |s: &str| -> String {
            utf8_percent_encode(s, COMPONENT).to_string()
        });
        let dir = root.join(DIR);
        let mut sources = Vec::new();
        let mut files = Vec::new();
        for (name, built_in) in TEMPLATES {
            let path = dir.join(name);
            let file = if path.is_file() {
                files.push(path.clone());
                project::read(root, &path)?
            } else {
                SourceFile::new(format!("{DIR}/{name} (built in)"), "", built_in.to_string())
            };
            env.add_template_owned(name.to_string(), file.text.clone())
                .map_err(|e| crate::render::template_error(&file, &e))?;
            sources.push((name.to_string(), file));
        }
        let mut assets = Vec::new();
        for (name, built_in) in ASSETS {
            let path = dir.join(name);
            let contents = if path.is_file() {
                files.push(path.clone());
                std::fs::read(&path).map_err(|e| {
                    Diagnostic::error(format!("cannot read {}: {e}", path.display())).path(&path)
                })?
            } else {
                built_in.as_bytes().to_vec()
            };
            assets.push((name.to_string(), contents));
        }
        Ok(Templates {
            env,
            sources,
            assets,
            files,
        })
    }

    pub fn render(&self, name: &str, ctx: Value) -> Result<String, Diagnostic> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| self.error(name, &e))?;
        tmpl.render(ctx).map_err(|e| self.error(name, &e))
    }

    fn error(&self, name: &str, e: &Error) -> Diagnostic {
        // The error may be in an included or extended template.
        let at = e.name().unwrap_or(name);
        match self.sources.iter().find(|(n, _)| n == at) {
            Some((_, file)) => crate::render::template_error(file, e),
            None => Diagnostic::error(format!("template error in {at}: {e}")),
        }
    }
}
