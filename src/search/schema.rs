//! The index schema: one document per step of every revision, and one per section of every
//! chapter of the help site.
//!
//! Every document says what it is in `type`. A chapter section fills the fields that apply to
//! it: `runbook_title` is the chapter's title, `section_id` its file, `step` the heading's
//! anchor, `title` and `body` the heading and its text (its code blocks in `code`); the
//! step-only fields stay empty.

use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

/// tantivy's English tokenizer: words, lowercased, Snowball-stemmed.
pub const STEMMED: &str = "en_stem";
/// tantivy's default tokenizer: words, lowercased, not stemmed. Used for the dictionary of
/// words as written, which typo tolerance, prefixes and "did you mean" search.
pub const WORDS: &str = "default";

/// What a document is.
pub const TYPE_STEP: &str = "step";
pub const TYPE_CHAPTER: &str = "chapter";

#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// `step` or `chapter`.
    pub doc_type: Field,
    pub runbook: Field,
    pub runbook_title: Field,
    pub section_id: Field,
    pub section: Field,
    pub step: Field,
    pub title: Field,
    /// The step's text as a checklist without a profile shows it (facts, lookups and customer
    /// fields filled in), with the Markdown stripped, then its wait and expiry notes; a
    /// chapter section's prose.
    pub body: Field,
    /// A chapter section's code blocks, which count less than its prose.
    pub code: Field,
    /// A step's body as written (Markdown, with its `{{ ... }}`), when it has any, to fill in
    /// with a profile's values.
    pub source: Field,
    /// A step's wait and expiry notes as the end of `body` has them.
    pub notes: Field,
    /// Every word of the titles and body as written (not stemmed), for the dictionary only.
    pub words: Field,
    pub kind: Field,
    pub role: Field,
    pub role_title: Field,
    /// The facts the step's condition mentions, one term each.
    pub facts: Field,
    /// The whole condition (runbook, section and step), in the condition language; also a
    /// fast field, to count hits without reading their documents.
    pub condition: Field,
    /// The revision's place among its runbook's revisions.
    pub revision: Field,
    /// All the runbook's revisions, one a line: `since \t before \t date`.
    pub revisions: Field,
    /// 1 when the revision is the runbook's current one (the one for the newest versions).
    pub current: Field,
    /// A hash of what is shown, to fold the copies a shared step leaves in several revisions.
    pub digest: Field,
    /// 1 for such a copy: the same step, searched and shown the same, as in an earlier
    /// revision of its runbook (a fast field, for counting hits).
    pub copy: Field,
}

const NAMES: [&str; 22] = [
    "type",
    "runbook",
    "runbook_title",
    "section_id",
    "section",
    "step",
    "title",
    "body",
    "code",
    "source",
    "notes",
    "words",
    "kind",
    "role",
    "role_title",
    "facts",
    "condition",
    "revision",
    "revisions",
    "current",
    "digest",
    "copy",
];

pub fn schema() -> Schema {
    let stemmed = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(STEMMED)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(WORDS)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let mut b = Schema::builder();
    for name in NAMES {
        match name {
            "type" | "runbook" | "step" | "kind" | "role" => {
                b.add_text_field(name, STRING | STORED);
            }
            "facts" => {
                b.add_text_field(name, STRING);
            }
            "runbook_title" | "section" | "title" | "body" | "code" => {
                b.add_text_field(name, stemmed.clone());
            }
            "condition" => {
                b.add_text_field(name, STORED | FAST);
            }
            "copy" => {
                b.add_u64_field(name, FAST);
            }
            "words" => {
                b.add_text_field(name, words.clone());
            }
            "revision" | "current" | "digest" => {
                b.add_u64_field(name, STORED);
            }
            _ => {
                b.add_text_field(name, STORED);
            }
        }
    }
    b.build()
}

impl Fields {
    /// The fields of an index's schema; `None` when the schema is not this one.
    pub fn of(schema: &Schema) -> Option<Fields> {
        let f = |name: &str| schema.get_field(name).ok();
        let fields = Fields {
            doc_type: f("type")?,
            runbook: f("runbook")?,
            runbook_title: f("runbook_title")?,
            section_id: f("section_id")?,
            section: f("section")?,
            step: f("step")?,
            title: f("title")?,
            body: f("body")?,
            code: f("code")?,
            source: f("source")?,
            notes: f("notes")?,
            words: f("words")?,
            kind: f("kind")?,
            role: f("role")?,
            role_title: f("role_title")?,
            facts: f("facts")?,
            condition: f("condition")?,
            revision: f("revision")?,
            revisions: f("revisions")?,
            current: f("current")?,
            digest: f("digest")?,
            copy: f("copy")?,
        };
        (schema.fields().count() == NAMES.len()).then_some(fields)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn schema_has_every_field() {
        assert!(super::Fields::of(&super::schema()).is_some());
    }
}
