//! The condition parser and evaluator on arbitrary text: never a panic; whatever parses
//! prints back to a condition that parses and means the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runbook_core::condition::{self, Tri};
use runbook_core::diagnostics::{Diagnostics, SourceFile};
use runbook_core::facts::{FactValues, Vocabulary};

const FACTS: &str = include_str!("../../runbooks/facts.toml");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file = SourceFile::new("facts.toml", "facts.toml", FACTS.to_string());
    let vocab = Vocabulary::load(&file, &mut Diagnostics::default());
    let Ok(expr) = condition::parse(text, &vocab) else { return };
    let printed = expr.to_string();
    let again = condition::parse(&printed, &vocab).expect("a printed condition parses");
    let mut facts = FactValues::new();
    for (id, fact) in &vocab.facts {
        if let Some(v) = fact.domain().and_then(|d| d.into_iter().next()) {
            facts.insert(id.clone(), v);
        }
    }
    assert_eq!(expr.eval(&facts), again.eval(&facts));
    let _ = expr.eval(&FactValues::new()) == Tri::Unknown;
    let _ = expr.describe(&vocab);
    let _ = expr.satisfiable(&vocab, "version", &Default::default());
});
