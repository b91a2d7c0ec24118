//! Markdown to sanitized HTML on arbitrary text: never a panic, never a script.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let html = runbook::render::markdown_html(text);
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
});
