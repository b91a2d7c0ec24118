//! Text for property tests of the parsers of Markdown and HTML: fragments of their syntax
//! (the ones given) and arbitrary characters, strung together, so that most cases reach
//! past the first character the parser would reject.

use proptest::prelude::*;

/// Up to 40 pieces, each one of `fragments` or up to 8 arbitrary characters.
pub fn text(fragments: &'static [&'static str]) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        proptest::sample::select(fragments).prop_map(str::to_string),
        "\\PC{0,8}",
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}
