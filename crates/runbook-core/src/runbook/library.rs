//! The shared sections and steps of a project (`runbooks/shared/`), by id, as written: the
//! resolver expands them where they are included.

use std::collections::HashMap;
use std::sync::Arc;

use toml::Spanned;

use super::load::{RawSection, RawStep};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::toml_file::span_of;

/// The shared sections and steps of a project, by id, each with its file.
#[derive(Default)]
pub struct Library {
    pub(super) sections: HashMap<String, (Arc<SourceFile>, Spanned<RawSection>)>,
    pub(super) steps: HashMap<String, (Arc<SourceFile>, Spanned<RawStep>)>,
}

/// The raw forms of what can be shared: each has an optional id.
pub(super) trait Shared {
    const WHAT: &'static str;
    fn id(&self) -> Option<&Spanned<String>>;
}

/// Adds shared items by id: a duplicate id, or none, is an error.
pub(super) fn add_shared<R: Shared>(
    to: &mut HashMap<String, (Arc<SourceFile>, Spanned<R>)>,
    file: &Arc<SourceFile>,
    items: Vec<Spanned<R>>,
    diags: &mut Diagnostics,
) {
    for item in items {
        let Some(id) = item.get_ref().id() else {
            diags.push(
                Diagnostic::error(format!("a {} needs an `id`", R::WHAT)).at(&span_of(file, &item)),
            );
            continue;
        };
        let key = id.get_ref().clone();
        if let Some((other, prev)) = to.get(&key) {
            diags.push(duplicate(
                R::WHAT,
                &key,
                &span_of(file, id),
                other,
                prev.get_ref().id(),
            ));
        } else {
            to.insert(key, (Arc::clone(file), item));
        }
    }
}

fn duplicate(
    what: &str,
    id: &str,
    here: &Span,
    other: &Arc<SourceFile>,
    prev: Option<&Spanned<String>>,
) -> Diagnostic {
    let mut d = Diagnostic::error(format!("duplicate {what} id `{id}`"))
        .at(here)
        .label("defined again here");
    if let Some(prev) = prev {
        d = d.note(format!(
            "first defined at {}",
            span_of(other, prev).location()
        ));
    }
    d
}
