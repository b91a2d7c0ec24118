//! The search index: its pages and records were handed to the indexing threads as they were
//! written; it is finished last, once everything else is let go of.

use crate::diagnostics::Diagnostic;
use crate::site::progress::Progress;
use crate::site::writer::Writer;

pub fn write(out: &mut Writer, progress: &mut Progress) -> Result<(), Diagnostic> {
    if let Some(s) = out.search.take() {
        progress.stage("search index");
        // Written by the indexing threads: counted here.
        for (address, size) in s.finish()? {
            out.index.files.insert(address);
            out.files += 1;
            out.bytes += size;
        }
    }
    progress.inc(1);
    Ok(())
}
