//! The search index: its pages and records were handed to the indexing threads as they were
//! written; it is finished last, once everything else is let go of.

use crate::diagnostics::Diagnostic;
use crate::site::links::SiteIndex;
use crate::site::progress::Progress;
use crate::site::search::{Indexer, Shards};
use crate::site::writer::Writer;

/// Finishes the index; returns its shards when they were to be kept.
pub fn write(out: &mut Writer, progress: &mut Progress) -> Result<Option<Shards>, Diagnostic> {
    let mut kept = None;
    if let Some(s) = out.search.take() {
        progress.stage("search index");
        let (shards, files, bytes) = finish(s, &mut out.index)?;
        out.files += files;
        out.bytes += bytes;
        kept = shards;
    }
    progress.inc(1);
    Ok(kept)
}

/// Finishes `indexer`, and records its files in `index`. Returns the shards when they were
/// to be kept, and the files and bytes written.
pub fn finish(
    indexer: Indexer,
    index: &mut SiteIndex,
) -> Result<(Option<Shards>, usize, u64), Diagnostic> {
    let finished = indexer.finish()?;
    // Written by the indexing threads: counted here.
    let (files, bytes) = (
        finished.written.len(),
        finished.written.iter().map(|w| w.1).sum(),
    );
    for (address, _) in finished.written {
        index.files.insert(address);
    }
    for address in &finished.removed {
        index.files.remove(address);
    }
    Ok((finished.kept, files, bytes))
}
