//! The checklist builder: the runbooks' data for the browser to filter, and its page.

use minijinja::context;

use crate::diagnostics::Diagnostic;
use crate::project::Project;

use super::{PageWriter, ser};
use crate::site::runbooks::{self, Variables};

pub const PAGE: &str = "checklist.html";
pub const TITLE: &str = "Checklist builder";
const DATA: &str = "assets/checklist-data.js";

pub fn write(cx: &mut PageWriter, project: &Project, vars: &Variables) -> Result<(), Diagnostic> {
    let data = runbooks::checklist_data(project, vars);
    let js = format!(
        "window.RBK_CHECKLIST = {};\n",
        serde_json::to_string(&data).unwrap_or_else(|_| "null".into())
    );
    cx.out.file(DATA, js.as_bytes())?;
    let ctx = context! {
        ..cx.context(PAGE, TITLE),
        ..context! {
            data_url => DATA,
            facts => ser(&data["facts"]),
            versions => ser(&data["versions"]),
        }
    };
    let html = cx.render("checklist.html.j2", ctx)?;
    cx.out.page(PAGE, html, "checklist.html.j2", &[], None)
}
