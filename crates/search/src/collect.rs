//! The filtering, sorting, keyset-paginating collector and its cursor.
//!
//! Every match gets a total-order sort key `(primary, tie, id)`:
//! relevance → `(-score, name length, id)`; distance → `(squared chord, id)`. A page is the
//! `limit` smallest keys strictly greater than the cursor's key, so paging is stable: a document
//! can neither appear twice nor be skipped, even when other documents are written between pages
//! (scores are constant per document and query, see `query`). The "open at" filter reads one
//! packed fast field per document inside the collector, before counting, so `total` and the pages
//! agree with the filter.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, ColumnIndex, ColumnValues};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::{Error, Result, geo, hours};

/// Fast fields every index has.
pub(crate) const ID_HI: &str = "id_hi";
pub(crate) const ID_LO: &str = "id_lo";
/// `name length (8 bits) << 56 | id_hi >> 8`: the tie-breakers after the score in one read.
/// Its low 56 bits are the id's top bits, so comparing `(rank, id)` is comparing
/// `(name length, id)`, and the full id (two more reads) is needed only when ranks are equal —
/// which, with UUIDv7 ids, is almost never. That matters for queries matching most documents,
/// where nearly every document ties with the page's worst hit on score alone.
pub(crate) const RANK: &str = "rank";
const ID_BITS_IN_RANK: u64 = (1 << 56) - 1;

pub(crate) fn rank(name_chars: usize, id_hi: u64) -> u64 {
    (name_chars.min(255) as u64) << 56 | id_hi >> 8
}
pub(crate) const GEO: [&str; 3] = ["ux", "uy", "uz"];

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SortKey {
    pub primary: f64,
    pub tie: u64,
    pub id: u128,
}

impl SortKey {
    fn cmp_head(&self, primary: f64, tie: u64) -> Ordering {
        self.primary.total_cmp(&primary).then(self.tie.cmp(&tie))
    }
}

impl Eq for SortKey {}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_head(other.primary, other.tie)
            .then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A collected match.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub key: SortKey,
    pub address: DocAddress,
    pub score: Score,
}

impl PartialEq for Hit {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Hit {}
impl Ord for Hit {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}
impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// How matches are ordered.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Order {
    Relevance,
    /// Unit vector of the origin.
    Distance([f64; 3]),
}

/// Collects the page after `after`, of at most `k` hits, and counts all matches (the pruning
/// executor in `topk` drives the per-segment part directly and stops counting at a bound).
pub(crate) struct PageCollector {
    pub order: Order,
    /// (packed hours column, minute).
    pub open_at: Option<(&'static str, u16)>,
    pub after: Option<SortKey>,
    pub k: usize,
}

pub(crate) struct PageFruit {
    pub hits: Vec<Hit>,
    pub total: usize,
}

type U64Col = Arc<dyn ColumnValues<u64>>;
type F64Col = Arc<dyn ColumnValues<f64>>;

pub(crate) struct PageSegment {
    segment: SegmentOrdinal,
    order: Order,
    id: [U64Col; 2],
    rank: U64Col,
    geo: Option<[F64Col; 3]>,
    open_at: Option<(U64Col, u16)>,
    after: Option<SortKey>,
    k: usize,
    heap: BinaryHeap<Hit>,
    total: usize,
}

// Every document has exactly one value in our fast fields, so the column index is `Full`
// (row id = doc id) and values can be read without the optional-index indirection.

fn u64_col(reader: &SegmentReader, name: &str) -> tantivy::Result<U64Col> {
    let column: Column<u64> = reader.fast_fields().u64(name)?;
    Ok(match column.index {
        ColumnIndex::Full => column.values,
        _ => column.first_or_default_col(0),
    })
}

fn f64_col(reader: &SegmentReader, name: &str) -> tantivy::Result<F64Col> {
    let column: Column<f64> = reader.fast_fields().f64(name)?;
    Ok(match column.index {
        ColumnIndex::Full => column.values,
        _ => column.first_or_default_col(0.0),
    })
}

/// The length of the longest prefix of the segment whose `rank` values never decrease.
pub(crate) fn sorted_prefix(reader: &SegmentReader) -> DocId {
    let max = reader.max_doc();
    let Ok(rank) = u64_col(reader, RANK) else {
        return 0;
    };
    let mut previous = 0;
    for doc in 0..max {
        let r = rank.get_val(doc);
        if r < previous {
            return doc;
        }
        previous = r;
    }
    max
}

impl Collector for PageCollector {
    type Fruit = PageFruit;
    type Child = PageSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<PageSegment> {
        let geo = match self.order {
            Order::Relevance => None,
            Order::Distance(_) => Some([
                f64_col(reader, GEO[0])?,
                f64_col(reader, GEO[1])?,
                f64_col(reader, GEO[2])?,
            ]),
        };
        let open_at = match self.open_at {
            Some((column, minute)) => Some((u64_col(reader, column)?, minute)),
            None => None,
        };
        Ok(PageSegment {
            segment,
            order: self.order,
            id: [u64_col(reader, ID_HI)?, u64_col(reader, ID_LO)?],
            rank: u64_col(reader, RANK)?,
            geo,
            open_at,
            after: self.after,
            k: self.k,
            heap: BinaryHeap::with_capacity(self.k.min(1024) + 1),
            total: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        matches!(self.order, Order::Relevance)
    }

    fn merge_fruits(&self, fruits: Vec<PageFruit>) -> tantivy::Result<PageFruit> {
        let total = fruits.iter().map(|f| f.total).sum();
        let mut hits: Vec<Hit> = fruits.into_iter().flat_map(|f| f.hits).collect();
        hits.sort_unstable();
        hits.truncate(self.k);
        Ok(PageFruit { hits, total })
    }
}

/// Squared chord from the origin; documents without a position sort after every real distance.
pub(crate) const NO_POSITION: f64 = 8.0;

impl PageSegment {
    /// The key a document must beat to enter this segment's page, once the page is full.
    pub(crate) fn worst(&self) -> Option<SortKey> {
        if self.k > 0 && self.heap.len() >= self.k {
            self.heap.peek().map(|worst| worst.key)
        } else {
            None
        }
    }

    /// The document's rank (the tie-breaker after the score).
    pub(crate) fn rank(&self, doc: DocId) -> u64 {
        self.rank.get_val(doc)
    }

    /// Offers a match; false when the "open at" filter rejects it (then it is no match at all).
    pub(crate) fn offer(&mut self, doc: DocId, score: Score) -> bool {
        if let Some((column, minute)) = &self.open_at
            && !hours::is_open(column.get_val(doc), *minute)
        {
            return false;
        }
        self.total += 1;
        if self.k > 0 {
            self.keep(doc, score);
        }
        true
    }

    fn keep(&mut self, doc: DocId, score: Score) {
        let (primary, tie) = match (&self.order, &self.geo) {
            (Order::Distance(origin), Some(geo)) => {
                let v = [
                    geo[0].get_val(doc),
                    geo[1].get_val(doc),
                    geo[2].get_val(doc),
                ];
                let primary = if v == [0.0; 3] {
                    NO_POSITION
                } else {
                    geo::chord2(*origin, v)
                };
                (primary, self.rank.get_val(doc) & ID_BITS_IN_RANK)
            }
            _ => (-f64::from(score), self.rank.get_val(doc)),
        };
        // Cheap rejections before reading the full id.
        if let Some(after) = &self.after
            && after.cmp_head(primary, tie) == Ordering::Greater
        {
            return;
        }
        if self.heap.len() >= self.k
            && let Some(worst) = self.heap.peek()
            && worst.key.cmp_head(primary, tie) == Ordering::Less
        {
            return;
        }
        let id = u128::from(self.id[0].get_val(doc)) << 64 | u128::from(self.id[1].get_val(doc));
        let key = SortKey { primary, tie, id };
        if self.after.is_some_and(|after| key <= after) {
            return;
        }
        let hit = Hit {
            key,
            address: DocAddress::new(self.segment, doc),
            score,
        };
        if self.heap.len() < self.k {
            self.heap.push(hit);
        } else if let Some(mut worst) = self.heap.peek_mut()
            && hit < *worst
        {
            *worst = hit;
        }
    }
}

impl SegmentCollector for PageSegment {
    type Fruit = PageFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.offer(doc, score);
    }

    fn harvest(self) -> PageFruit {
        PageFruit {
            hits: self.heap.into_vec(),
            total: self.total,
        }
    }
}

/// Cursor: version, query fingerprint, last key — hex encoded. Opaque to clients.
const CURSOR_VERSION: u8 = 1;

pub(crate) fn encode_cursor(fingerprint: u64, key: &SortKey) -> String {
    let mut bytes = Vec::with_capacity(41);
    bytes.push(CURSOR_VERSION);
    bytes.extend_from_slice(&fingerprint.to_be_bytes());
    bytes.extend_from_slice(&key.primary.to_bits().to_be_bytes());
    bytes.extend_from_slice(&key.tie.to_be_bytes());
    bytes.extend_from_slice(&key.id.to_be_bytes());
    hex::encode(bytes)
}

pub(crate) fn decode_cursor(cursor: &str, fingerprint: u64) -> Result<SortKey> {
    let bad = || Error::InvalidCursor;
    if cursor.len() != 82 || !cursor.is_ascii() {
        return Err(bad());
    }
    let bytes = (0..41)
        .map(|i| u8::from_str_radix(&cursor[2 * i..2 * i + 2], 16).map_err(|_| bad()))
        .collect::<Result<Vec<u8>>>()?;
    let u64_at = |at: usize| u64::from_be_bytes(bytes[at..at + 8].try_into().unwrap_or_default());
    if bytes[0] != CURSOR_VERSION || u64_at(1) != fingerprint {
        return Err(bad());
    }
    let primary = f64::from_bits(u64_at(9));
    if primary.is_nan() {
        return Err(bad());
    }
    Ok(SortKey {
        primary,
        tie: u64_at(17),
        id: u128::from(u64_at(25)) << 64 | u128::from(u64_at(33)),
    })
}

/// FNV-1a over the parts of a query that define its result order (not limit or cursor), so a
/// cursor cannot be replayed against a different query.
pub(crate) struct Fingerprint(u64);

impl Fingerprint {
    pub(crate) fn new(kind: &str) -> Self {
        let mut f = Fingerprint(0xcbf2_9ce4_8422_2325);
        f.add(kind.as_bytes());
        f
    }

    pub(crate) fn add(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes.iter().chain(&[0xff]) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    pub(crate) fn add_opt(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.add(b"s").add(v.as_bytes()),
            None => self.add(b"n"),
        }
    }

    pub(crate) fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_other_queries_and_garbage() {
        let key = SortKey {
            primary: -120.125,
            tie: 7,
            id: 0x0123_4567_89ab_cdef_0011_2233_4455_6677,
        };
        let c = encode_cursor(42, &key);
        assert_eq!(decode_cursor(&c, 42).unwrap(), key);
        assert!(decode_cursor(&c, 43).is_err());
        assert!(decode_cursor("zz", 42).is_err());
        assert!(decode_cursor(&"g".repeat(82), 42).is_err());
        assert!(decode_cursor(&"가".repeat(41), 42).is_err());
    }

    #[test]
    fn sort_key_orders_by_primary_then_tie_then_id() {
        let k = |primary, tie, id| SortKey { primary, tie, id };
        let mut keys = [k(1.0, 0, 2), k(-5.0, 9, 1), k(1.0, 0, 1), k(-5.0, 3, 8)];
        keys.sort();
        assert_eq!(
            keys,
            [k(-5.0, 3, 8), k(-5.0, 9, 1), k(1.0, 0, 1), k(1.0, 0, 2)]
        );
    }
}
