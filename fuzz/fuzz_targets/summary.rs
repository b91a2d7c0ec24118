//! The SUMMARY.md parser on arbitrary text: never a panic, only a summary or a diagnostic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runbook::diagnostics::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file = SourceFile::new("SUMMARY.md", "SUMMARY.md", text.to_string());
    match runbook::site::summary::parse(&file) {
        Ok(summary) => {
            let _ = summary.chapters();
        }
        Err(d) => {
            let _ = d.render(false);
        }
    }
});
