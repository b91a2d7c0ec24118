//! The checklist builder: the resolved project and the engine (WebAssembly) that the page runs
//! on it, and the page.

use base64::Engine as _;
use minijinja::context;

use crate::diagnostics::Diagnostic;
use crate::project::Project;

use super::{PageWriter, ser};
use crate::site::runbooks::{self, Variables};

pub const PAGE: &str = "checklist.html";
pub const TITLE: &str = "Checklist builder";
const DATA: &str = "assets/checklist-data.js";
/// The engine, compiled to WebAssembly by scripts/engine.sh.
const ENGINE: &[u8] = include_bytes!("../../../crates/runbook-wasm/engine.wasm");
const ENGINE_WASM: &str = "assets/engine.wasm";
/// The engine in a script, for pages opened from disk (which cannot fetch a file).
const ENGINE_INLINE: &str = "assets/engine-inline.js";

pub fn write(cx: &mut PageWriter, project: &Project, vars: &Variables) -> Result<(), Diagnostic> {
    let data = runbooks::checklist_data(project, vars);
    let js = format!(
        "window.RBK_CHECKLIST = {};\n",
        serde_json::to_string(&data).unwrap_or_else(|_| "null".into())
    );
    cx.out.file(DATA, js.as_bytes())?;
    cx.out.file(ENGINE_WASM, ENGINE)?;
    let inline = format!(
        "window.RBK_ENGINE = \"{}\";\n",
        base64::engine::general_purpose::STANDARD.encode(ENGINE)
    );
    cx.out.file(ENGINE_INLINE, inline.as_bytes())?;
    let ctx = context! {
        ..cx.context(PAGE, TITLE),
        ..context! {
            data_url => DATA,
            facts => ser(&data.facts),
            versions => ser(&data.versions),
        }
    };
    let html = cx.render("checklist.html.j2", ctx)?;
    cx.out.page(PAGE, html, "checklist.html.j2", &[], None)
}
