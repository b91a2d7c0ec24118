//! The book, as mdBook defines it and without any output: `book.toml` ([`config`]), the
//! chapters `SUMMARY.md` lists ([`summary`], [`chapter`]) and their text once mdBook's `links`
//! preprocessor has expanded their includes ([`preprocess`]). The help site renders it; the
//! search index reads it.

pub mod chapter;
pub mod config;
pub mod preprocess;
pub mod summary;
