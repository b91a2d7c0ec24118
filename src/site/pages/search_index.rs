//! The search index: its pages and records were handed to the indexing threads as they were
//! written; it is finished last, once everything else is let go of.

use crate::diagnostics::Diagnostic;
use crate::site::links::SiteIndex;
use crate::site::progress::Progress;
use crate::site::search::{Finished, Indexer};
use crate::site::writer::Writer;

/// Finishes the index, if the site has one.
pub fn write(out: &mut Writer, progress: &mut Progress) -> Result<Option<Finished>, Diagnostic> {
    let mut finished = None;
    if let Some(s) = out.search.take() {
        progress.stage("search index");
        let f = finish(s, &mut out.index)?;
        // Written by the indexing threads: counted here.
        out.files += f.written.len();
        out.bytes += f.written.iter().map(|w| w.size).sum::<u64>();
        finished = Some(f);
    }
    progress.inc(1);
    Ok(finished)
}

/// Finishes `indexer`, and records in `index` the files it wrote and removed.
pub fn finish(indexer: Indexer, index: &mut SiteIndex) -> Result<Finished, Diagnostic> {
    let finished = indexer.finish()?;
    for file in &finished.written {
        index.files.insert(file.address.clone());
    }
    for address in &finished.removed {
        index.files.remove(address);
    }
    Ok(finished)
}
