//! Running a search: validation of sort/limit/cursor, the collector, and page assembly.

use tantivy::Searcher;
use tantivy::query::Query;

use crate::collect::{Fingerprint, Hit, NO_POSITION, Order, PageCollector, SortKey};
use crate::engine::Engine;
use crate::model::{Page, Sort};
use crate::{Error, MAX_LIMIT, Result, collect, geo};

pub(crate) struct Plan {
    order: Order,
    open_at: Option<(&'static str, u16)>,
    limit: usize,
    after: Option<SortKey>,
    fingerprint: u64,
}

impl Plan {
    /// Validates the sort and cursor; `fp` must already hold the query's text and filters.
    pub(crate) fn new(
        fp: &mut Fingerprint,
        sort: Sort,
        open_at: Option<(&'static str, u16)>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Plan> {
        let order = match sort {
            Sort::Relevance => {
                fp.add(b"relevance");
                Order::Relevance
            }
            Sort::Distance { lat, lon } => {
                let origin = geo::unit_vector(lat, lon).ok_or(Error::InvalidCoordinates)?;
                fp.add(b"distance")
                    .add(&lat.to_bits().to_be_bytes())
                    .add(&lon.to_bits().to_be_bytes());
                Order::Distance(origin)
            }
        };
        let fingerprint = fp.finish();
        let after = cursor
            .map(|c| collect::decode_cursor(c, fingerprint))
            .transpose()?;
        Ok(Plan {
            order,
            open_at,
            limit: limit.min(MAX_LIMIT),
            after,
            fingerprint,
        })
    }
}

/// Collects one page of `query` and turns its hits into `T` with `make(searcher, hit,
/// distance_m)`.
pub(crate) fn run<F, T>(
    engine: &Engine<F>,
    query: &dyn Query,
    plan: Plan,
    mut make: impl FnMut(&Searcher, &Hit, Option<f64>) -> Result<T>,
) -> Result<Page<T>> {
    let searcher = engine.searcher();
    let limit = plan.limit;
    let collector = PageCollector {
        order: plan.order,
        open_at: plan.open_at,
        after: plan.after,
        // one more than the page, to know whether there is a next page
        k: if limit == 0 { 0 } else { limit + 1 },
    };
    let fruit = searcher.search(query, &collector)?;
    let mut hits = fruit.hits;
    let next_cursor = if hits.len() > limit {
        hits.truncate(limit);
        hits.last()
            .map(|last| collect::encode_cursor(plan.fingerprint, &last.key))
    } else {
        None
    };
    let items = hits
        .iter()
        .map(|hit| {
            let distance_m = match plan.order {
                Order::Distance(_) if hit.key.primary < NO_POSITION => {
                    Some(geo::metres(hit.key.primary))
                }
                _ => None,
            };
            make(&searcher, hit, distance_m)
        })
        .collect::<Result<Vec<T>>>()?;
    Ok(Page {
        items,
        next_cursor,
        total: fruit.total,
    })
}
