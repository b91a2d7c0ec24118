//! The site's pages and files, a writer per kind, in the order a build writes them.

pub mod assets;
pub mod chapter;
pub mod checklist;
pub mod index;
pub mod not_found;
pub mod print;
pub mod redirect;
pub mod runbook;
pub mod search_index;

use minijinja::{Value, context};
use serde::Serialize;

use crate::diagnostics::Diagnostic;

use super::links;
use super::nav::Nav;
use super::templates::Templates;
use super::writer::Writer;

/// What every page writer shares: the templates, what every page shows, the reading order,
/// and where the files go.
pub struct PageWriter<'a> {
    pub templates: &'a Templates,
    /// The book's settings and filters, `site` in every template.
    pub site: Value,
    /// The facts' values a search can filter chapters by.
    pub search_filters: Value,
    pub nav: Nav,
    pub out: Writer,
}

impl PageWriter<'_> {
    /// The context every page template gets, for the page at `address`.
    pub fn context(&self, address: &str, title: &str) -> Value {
        let (prev, next) = self.nav.around(address);
        context! {
            site => self.site.clone(),
            root => links::root_of(address),
            path => address,
            title => title,
            prev => ser(&prev),
            next => ser(&next),
        }
    }

    pub fn render(&self, template: &str, ctx: Value) -> Result<String, Diagnostic> {
        self.templates.render(template, ctx)
    }
}

/// A serializable value for a template context.
pub fn ser<T: Serialize>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}
