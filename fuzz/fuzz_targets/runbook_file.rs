//! The runbook loader and validator on arbitrary TOML: never a panic, only diagnostics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runbook_core::diagnostics::{Diagnostics, SourceFile};
use runbook_core::facts::Vocabulary;
use runbook_core::runbook::load::{Library, RawRunbook, Resolver};
use runbook_core::runbook::validate;
use runbook_core::toml_file;

const FACTS: &str = include_str!("../../runbooks/facts.toml");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut diags = Diagnostics::default();
    let facts = SourceFile::new("facts.toml", "facts.toml", FACTS.to_string());
    let vocab = Vocabulary::load(&facts, &mut diags);
    let file = SourceFile::new("fuzz.toml", "fuzz.toml", text.to_string());
    let raw: RawRunbook = match toml_file::parse(&file) {
        Ok(raw) => raw,
        Err(d) => {
            let _ = d.render(false);
            return;
        }
    };
    let library = Library::default();
    let mut resolver = Resolver { vocab: &vocab, library: &library, diags: &mut diags };
    let rb = resolver.runbook(&file, raw);
    validate::validate(std::slice::from_ref(&rb), &vocab, &mut diags);
    let _ = diags.render(false);
});
