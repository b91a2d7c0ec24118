//! Redirect pages (`[output.html.redirect]`), as mdBook writes them.

use std::collections::HashSet;

use minijinja::context;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::site::redirects::{self, Check, Entry};

use super::chapter::Sources;
use super::{PageWriter, ser};

/// Writes a page for each redirect, once every other page is written (a redirect may not
/// replace one); returns the redirects' targets, for the link check.
pub fn write(
    cx: &mut PageWriter,
    entries: &[Entry],
    sources: &Sources,
    errors: &mut Diagnostics,
    warnings: &mut Diagnostics,
) -> Result<Vec<Check>, Diagnostic> {
    let chapter_addresses: HashSet<&str> =
        sources.files.iter().map(|s| s.address.as_str()).collect();
    let plan = redirects::plan(
        entries,
        |a| chapter_addresses.contains(a),
        |a| cx.out.index.files.contains(a),
        errors,
        warnings,
    );
    for page in &plan.pages {
        let ctx = context! {
            ..cx.context(&page.address, "Redirecting"),
            ..context! {
                target => page.to.as_str(),
                fragment_map => ser(&page.fragments),
            }
        };
        let html = cx.render("redirect.html.j2", ctx)?;
        cx.out.file(&page.address, html.as_bytes())?;
    }
    Ok(plan.checks)
}
