//! The site's HTML tokenizer, and the search input made with it, on arbitrary text: never a
//! panic, tags in order and within the text, attribute values where they are said to be.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runbook::site::{html, search};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut end = 0;
    for tag in html::tags(text) {
        assert!(end <= tag.range.start && tag.range.start < tag.range.end);
        assert!(tag.range.end <= text.len());
        end = tag.range.end;
        for a in tag.attributes() {
            if let Some((value, at)) = a.value {
                assert_eq!(&text[at..at + value.len()], value);
            }
        }
    }
    let page = format!("<html lang=\"en\"><body><article>{text}</article></body></html>");
    let input = search::page_input(&page, text);
    assert!(input.len() <= page.len() + "<body></body></html>".len());
});
