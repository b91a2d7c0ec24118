//! How many hits a search has in all, beyond those shown: the matching documents that the
//! profile does not rule out, a step's copies in several revisions once. Counted from fast
//! fields, without reading a document or scoring one.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// The fast fields it reads (see [`super::schema`]).
const COPY: &str = "copy";
const CONDITION: &str = "condition";

/// Counts hits; `keeps` says whether a step with a condition may apply to the profile (none:
/// every step may).
pub struct Total<'a> {
    pub keeps: Option<&'a (dyn Fn(&str) -> bool + Sync)>,
}

pub struct SegmentTotal {
    copy: Column<u64>,
    /// The ordinal of each document's condition, and whether each ordinal's condition may
    /// apply (a document without a condition may).
    conditions: Option<(Column<u64>, Vec<bool>)>,
    count: usize,
}

impl Collector for Total<'_> {
    type Fruit = usize;
    type Child = SegmentTotal;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        let fast = reader.fast_fields();
        let copy = fast.u64(COPY)?;
        let conditions = match self.keeps {
            Some(keeps) => match fast.str(CONDITION)? {
                Some(column) => {
                    let mut text = String::new();
                    let mut kept = Vec::new();
                    for ord in 0..column.dictionary().num_terms() as u64 {
                        column.ord_to_str(ord, &mut text)?;
                        kept.push(keeps(&text));
                    }
                    Some((column.into_parts().1, kept))
                }
                None => None,
            },
            None => None,
        };
        Ok(SegmentTotal {
            copy,
            conditions,
            count: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, counts: Vec<usize>) -> tantivy::Result<usize> {
        Ok(counts.into_iter().sum())
    }
}

impl SegmentCollector for SegmentTotal {
    type Fruit = usize;

    fn collect(&mut self, doc: DocId, _: Score) {
        if self.copy.first(doc) == Some(1) {
            return;
        }
        if let Some((ords, kept)) = &self.conditions
            && let Some(ord) = ords.first(doc)
            && !kept.get(ord as usize).copied().unwrap_or(true)
        {
            return;
        }
        self.count += 1;
    }

    fn harvest(self) -> usize {
        self.count
    }
}
