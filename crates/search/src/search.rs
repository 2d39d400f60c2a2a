//! Running a search: validation of sort/limit/cursor, the collector, and page assembly.

use tantivy::Searcher;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query};

use crate::collect::{Fingerprint, Hit, NO_POSITION, Order, PageCollector, SortKey};
use crate::engine::Engine;
use crate::model::{Page, Sort};
use crate::query::TextPlan;
use crate::topk::{self, TOTAL_CAP};
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

/// What to search: the text (absent = everything) and zero-score filter clauses.
pub(crate) struct Request {
    pub text: Option<TextPlan>,
    pub filters: Vec<Box<dyn Query>>,
}

/// Collects one page of `request` and turns its hits into `T` with `make(searcher, hit,
/// distance_m)`. Relevance-ordered text searches run on the pruning executor (`topk`); the rest
/// (distance order, no text) on the collector, which visits every match anyway.
pub(crate) fn run<F, T>(
    engine: &Engine<F>,
    request: Request,
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
    let (mut hits, counted) = match (plan.order, &request.text) {
        (Order::Relevance, Some(text)) if !exhaustive() => {
            let found = topk::search(&searcher, text, &request.filters, &collector, &|reader| {
                engine.sorted_prefix(reader)
            })?;
            (found.hits, found.counted)
        }
        _ => {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
                Occur::Must,
                match &request.text {
                    Some(text) => text.to_query(),
                    None => Box::new(AllQuery),
                },
            )];
            clauses.extend(request.filters.into_iter().map(|f| (Occur::Must, f)));
            let fruit = searcher.search(&BooleanQuery::new(clauses), &collector)?;
            (fruit.hits, fruit.total)
        }
    };
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
        total: counted.min(TOTAL_CAP),
        total_is_lower_bound: counted > TOTAL_CAP,
    })
}

#[cfg(test)]
thread_local! {
    /// Tests compare the pruning executor with full collection on this thread.
    pub(crate) static EXHAUSTIVE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn exhaustive() -> bool {
    #[cfg(test)]
    return EXHAUSTIVE.with(std::cell::Cell::get);
    #[cfg(not(test))]
    false
}
