//! The search index: its pages and records were handed to the indexing threads as they were
//! written; it is finished last, once everything else is let go of.

use crate::diagnostics::Diagnostic;
use crate::site::progress::Progress;
use crate::site::search::Shards;
use crate::site::writer::Writer;

/// Finishes the index; returns its shards when they were to be kept.
pub fn write(out: &mut Writer, progress: &mut Progress) -> Result<Option<Shards>, Diagnostic> {
    let mut kept = None;
    if let Some(s) = out.search.take() {
        progress.stage("search index");
        let finished = s.finish()?;
        // Written by the indexing threads: counted here.
        for (address, size) in finished.written {
            out.index.files.insert(address);
            out.files += 1;
            out.bytes += size;
        }
        for address in &finished.removed {
            out.index.files.remove(address);
        }
        kept = finished.kept;
    }
    progress.inc(1);
    Ok(kept)
}
