//! Relevance-ordered text searches without scoring every match: a MaxScore executor.
//!
//! Scores are sums of constant clause scores (see `query`), so every clause has a known maximum
//! and the best score a document can still reach without some clauses is known too. The
//! executor reads the clauses' posting lists itself, document at a time:
//!
//! 1. it counts and scores every match until it has seen more than [`TOTAL_CAP`] of them (so
//!    `total` is exact up to the cap), filling the page heap as it goes;
//! 2. from then on, the page's worst score θ is a bar: with the clauses sorted by maximum score,
//!    the lowest ones whose combined best (as `DisjunctionMaxQuery` and the bonus sum would
//!    score them) stays **below** θ stop producing candidates — a document matching only those
//!    cannot enter the page. They are still consulted (`seek`) to score the candidates the
//!    other clauses produce, so every score is exact and the page is the one full collection
//!    would return (same keys, same cursors). A document whose best equals θ is still scored: it
//!    may win on the tie-breakers.
//!
//! 3. candidates come from whichever is cheaper (by posting-list cost): the essential clauses,
//!    or the clauses of the cheapest query word (every match must match every word, so one
//!    word's clauses see every match — for `서울 대학교` that is the rarer 대학교);
//! 4. clauses with no posting in a segment count for nothing in that segment's bounds;
//! 5. bulk builds add documents in rank order (the tie-breaker after the score), so a segment
//!    starts with a sorted prefix (`Engine::sorted_prefix`). Inside it, once the current
//!    document ranks after the page's worst, an equal score can no longer win on the
//!    tie-breakers, and clauses whose best only *equals* θ stop producing candidates too. Past
//!    the prefix (documents from updates or merges) the executor falls back to rule 2.
//!
//! For `서울` (the address of every hospital in Seoul) that means: after the first thousand
//! matches, only hospitals with 서울 in their name are candidates, and once the page holds 21
//! names starting with 서울, only names starting with 서울. For `내과` the page's worst is a name
//! plus department match (10.5) and a name-only match can reach 10.5 at most, so in the sorted
//! prefix only names equal to or starting with 내과 remain candidates.

use tantivy::query::{EnableScoring, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, Searcher, SegmentReader, TERMINATED};

use crate::Result;
use crate::collect::{Hit, PageCollector, PageSegment, SortKey};
use crate::query::{TextPlan, word_score};

/// `total` is exact up to this many matches; beyond it the search reports `TOTAL_CAP` and says
/// the total is a lower bound.
pub const TOTAL_CAP: usize = 1_000;

struct Leaf {
    /// The word this clause belongs to; `None` for a bonus.
    word: Option<usize>,
    max: f32,
    weight: Box<dyn Weight>,
}

/// What one search found: the page's hits (best first, at most `collector.k`) and the number of
/// matches counted (exact when at most `TOTAL_CAP`; `TOTAL_CAP + 1` means "more").
pub(crate) struct Found {
    pub hits: Vec<Hit>,
    pub counted: usize,
}

pub(crate) fn search(
    searcher: &Searcher,
    text: &TextPlan,
    filters: &[Box<dyn Query>],
    collector: &PageCollector,
    sorted_prefix: &dyn Fn(&SegmentReader) -> DocId,
) -> Result<Found> {
    let scoring = EnableScoring::enabled_from_searcher(searcher);
    let mut leaves = Vec::new();
    for (w, alternatives) in text.words.iter().enumerate() {
        for c in alternatives {
            leaves.push(Leaf {
                word: Some(w),
                max: c.max,
                weight: c.query.weight(scoring)?,
            });
        }
    }
    for c in &text.bonuses {
        leaves.push(Leaf {
            word: None,
            max: c.max,
            weight: c.query.weight(scoring)?,
        });
    }
    // Highest maximum first: the essential clauses are always a prefix.
    leaves.sort_by(|a, b| b.max.total_cmp(&a.max));
    let filters = filters
        .iter()
        .map(|q| q.weight(EnableScoring::disabled_from_searcher(searcher)))
        .collect::<tantivy::Result<Vec<_>>>()?;

    let mut hits = Vec::new();
    let mut counted = 0;
    // The best page-worst key of the segments done so far: a document after it cannot make the
    // merged page either.
    let mut floor: Option<SortKey> = None;
    let words = text.words.len();
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let mut page = tantivy::collector::Collector::for_segment(collector, ord as u32, reader)?;
        let mut scorers = leaves
            .iter()
            .map(|l| l.weight.scorer(reader, 1.0))
            .collect::<tantivy::Result<Vec<Box<dyn Scorer>>>>()?;
        let mut filter_sets = filters
            .iter()
            .map(|f| f.scorer(reader, 1.0))
            .collect::<tantivy::Result<Vec<Box<dyn Scorer>>>>()?;
        // Clauses with no posting in this segment can give nothing: leave them out of the bounds.
        let live: Vec<bool> = scorers.iter().map(|s| s.doc() != TERMINATED).collect();
        let bound = rest_bounds(&leaves, &live, words);
        let drivers_for = driver_choice(&leaves, &live, &scorers, words);
        let sorted_end = sorted_prefix(reader);
        let alive = reader.alive_bitset();
        // The clauses whose posting lists produce candidates: every match is in the union of
        // one word's clauses (the cheapest word), and every document that can still enter the
        // page is in the union of the essential clauses; whichever is cheaper drives.
        let mut drivers = drivers_for(leaves.len());
        // Within the segment's prefix sorted by rank, once the current document ranks after the
        // page's worst, equal scores lose too: only strictly better ones are candidates.
        let mut strict = false;
        if counted > TOTAL_CAP
            && let Some(worst) = floor
        {
            drivers = drivers_for(essential(&bound, -worst.primary, false));
        }
        let mut word_max = [0.0f32; crate::MAX_QUERY_WORDS];
        let mut word_sum = [0.0f32; crate::MAX_QUERY_WORDS];
        let mut word_hit = [false; crate::MAX_QUERY_WORDS];
        'docs: loop {
            let doc = drivers
                .iter()
                .map(|&i| scorers[i].doc())
                .min()
                .unwrap_or(TERMINATED);
            if strict && doc >= sorted_end {
                // past the sorted prefix ties may win again
                strict = false;
                if let Some(worst) = worst_key(&page, floor) {
                    let next = drivers_for(essential(&bound, -worst.primary, false));
                    switch_drivers(&mut drivers, next, &mut scorers, sorted_end);
                }
                continue;
            }
            if doc == TERMINATED {
                break;
            }
            let score = 'score: {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    break 'score None;
                }
                for f in &mut filter_sets {
                    if f.doc() < doc {
                        f.seek(doc);
                    }
                    if f.doc() != doc {
                        break 'score None;
                    }
                }
                word_max[..words].fill(0.0);
                word_sum[..words].fill(0.0);
                word_hit[..words].fill(false);
                let mut bonus: Score = 0.0;
                for ((leaf, s), &live) in leaves.iter().zip(scorers.iter_mut()).zip(&live) {
                    if !live {
                        continue;
                    }
                    if s.doc() < doc {
                        s.seek(doc);
                    }
                    if s.doc() == doc {
                        let score = s.score();
                        match leaf.word {
                            Some(w) => {
                                word_max[w] = word_max[w].max(score);
                                word_sum[w] += score;
                                word_hit[w] = true;
                            }
                            None => bonus += score,
                        }
                    }
                }
                if !word_hit[..words].iter().all(|&h| h) {
                    break 'score None;
                }
                let text: Score = (0..words)
                    .map(|w| word_score(word_max[w], word_sum[w]))
                    .sum();
                Some(text + bonus)
            };
            if let Some(score) = score
                && page.offer(doc, score)
                && counted <= TOTAL_CAP
            {
                counted += 1;
            }
            for &i in &drivers {
                if scorers[i].doc() == doc {
                    scorers[i].advance();
                }
            }
            if counted > TOTAL_CAP {
                if collector.k == 0 {
                    break 'docs;
                }
                if let Some(worst) = worst_key(&page, floor) {
                    strict = doc < sorted_end && page.rank(doc) > worst.tie;
                    let next = drivers_for(essential(&bound, -worst.primary, strict));
                    switch_drivers(&mut drivers, next, &mut scorers, doc + 1);
                    if drivers.is_empty() && !strict {
                        break 'docs;
                    }
                }
            }
        }
        if let Some(worst) = page.worst() {
            floor = Some(floor.map_or(worst, |f| f.min(worst)));
        }
        hits.extend(tantivy::collector::SegmentCollector::harvest(page).hits);
        if counted > TOTAL_CAP && collector.k == 0 {
            break;
        }
    }
    hits.sort_unstable();
    hits.truncate(collector.k);
    Ok(Found { hits, counted })
}

/// The key a document must beat to enter the page: the smaller of this segment's page worst
/// (once the page is full) and the earlier segments' floor.
fn worst_key(page: &PageSegment, floor: Option<SortKey>) -> Option<SortKey> {
    match (page.worst(), floor) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// How many of the (sorted) leaves are essential for a page whose worst score is `theta`: the
/// first `e` such that a document matching none of `leaves[..e]` cannot enter — its best is
/// below `theta`, or (`strict`, equal scores losing on the tie-breakers) not above it.
fn essential(bound: &[f64], theta: f64, strict: bool) -> usize {
    bound
        .iter()
        .position(|&b| if strict { b <= theta } else { b < theta })
        .unwrap_or(bound.len())
}

/// Replaces the driving clauses by `next`. A clause that starts driving may stand on a document
/// already processed (or passed over as unable to enter): it is moved to `from` first.
fn switch_drivers(
    drivers: &mut Vec<usize>,
    next: Vec<usize>,
    scorers: &mut [Box<dyn Scorer>],
    from: DocId,
) {
    if *drivers == next {
        return;
    }
    for &i in &next {
        if !drivers.contains(&i) && scorers[i].doc() < from {
            scorers[i].seek(from);
        }
    }
    *drivers = next;
}

/// A function from "the first `e` leaves are essential" to the cheaper set of driving leaves:
/// the live essential ones, or the live clauses of the word whose postings cost least.
fn driver_choice(
    leaves: &[Leaf],
    live: &[bool],
    scorers: &[Box<dyn Scorer>],
    words: usize,
) -> impl Fn(usize) -> Vec<usize> + use<> {
    let costs: Vec<u64> = scorers.iter().map(|s| s.cost()).collect();
    let word = (0..words)
        .map(|w| {
            let members: Vec<usize> = (0..leaves.len())
                .filter(|&i| live[i] && leaves[i].word == Some(w))
                .collect();
            let cost: u64 = members.iter().map(|&i| costs[i]).sum();
            (cost, members)
        })
        .min_by_key(|(cost, _)| *cost)
        .unwrap_or_default();
    let live = live.to_vec();
    move |e: usize| {
        let prefix: Vec<usize> = (0..e).filter(|&i| live[i]).collect();
        let cost: u64 = prefix.iter().map(|&i| costs[i]).sum();
        if cost < word.0 {
            prefix
        } else {
            word.1.clone()
        }
    }
}

/// `bound[i]`: the best score of a document that matches none of `leaves[..i]` (−∞ when such a
/// document cannot match every word). Leaves that are not `live` give nothing.
fn rest_bounds(leaves: &[Leaf], live: &[bool], words: usize) -> Vec<f64> {
    (0..=leaves.len())
        .map(|i| {
            let rest = || {
                leaves[i..]
                    .iter()
                    .zip(&live[i..])
                    .filter(|(_, live)| **live)
                    .map(|(l, _)| l)
            };
            let mut total = 0.0f64;
            for w in 0..words {
                let maxes = rest().filter(|l| l.word == Some(w)).map(|l| l.max);
                let (max, sum) =
                    maxes.fold((f32::NEG_INFINITY, 0.0f32), |(m, s), x| (m.max(x), s + x));
                if max == f32::NEG_INFINITY {
                    return f64::NEG_INFINITY;
                }
                total += f64::from(word_score(max, sum));
            }
            total
                + rest()
                    .filter(|l| l.word.is_none())
                    .map(|l| f64::from(l.max))
                    .sum::<f64>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::TOTAL_CAP;
    use crate::model::{DayHours, DoctorDoc, DoctorQuery, HospitalDoc, HospitalQuery, OpenAt};
    use crate::search::EXHAUSTIVE;
    use crate::{Page, SearchIndex};

    const PLACES: [&str; 6] = ["서울", "부산", "분당", "서초", "강남", "대구"];
    const MIDDLES: [&str; 6] = ["", "대학교", "서울", "연세", "밝은", "내과"];
    const SUFFIXES: [&str; 5] = ["병원", "의원", "내과의원", "치과의원", "서울병원"];
    const DEPARTMENTS: [&str; 4] = ["내과", "소아청소년과", "치과", "정형외과"];
    const DOCTORS: [&str; 5] = ["김서울", "이민준", "박내과", "최서연", "정분당"];

    /// Hospitals whose names, addresses, departments and doctors overlap a lot, so that broad
    /// queries match far more than `TOTAL_CAP` documents with many different scores.
    fn hospitals(n: usize) -> Vec<HospitalDoc> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |m: usize| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % m
        };
        let hours = Some(DayHours {
            open: 540,
            close: 1080,
            lunch: None,
        });
        (0..n)
            .map(|i| HospitalDoc {
                id: Uuid::from_u128(10_000 + i as u128),
                name: format!(
                    "{}{}{}",
                    PLACES[next(6)],
                    MIDDLES[next(6)],
                    SUFFIXES[next(5)]
                ),
                hospital_type: "의원".into(),
                sido: PLACES[next(6)].into(),
                sigungu: "중구".into(),
                address: format!("{}시 {}로 {}", PLACES[next(6)], PLACES[next(6)], next(99)),
                departments: (0..1 + next(3))
                    .map(|_| DEPARTMENTS[next(4)].into())
                    .collect(),
                doctor_names: (0..next(3)).map(|_| DOCTORS[next(5)].into()).collect(),
                latin_name: None,
                lat: 37.0 + next(100) as f64 / 100.0,
                lon: 127.0,
                weekly: [hours, hours, None, hours, hours, None, None],
                holiday: None,
            })
            .collect()
    }

    /// An index of `n` hospitals in several segments, with deletions.
    fn index(n: usize) -> (SearchIndex, Vec<HospitalDoc>) {
        let mut docs = hospitals(n);
        let index = SearchIndex::build(docs[..n - 30].to_vec(), Vec::new()).unwrap();
        // compare the executors, not the cache
        index.set_page_cache(0);
        for d in &docs[n - 30..] {
            index.upsert_hospital(d).unwrap();
        }
        for d in docs.drain(..10) {
            index.delete_hospital(d.id).unwrap();
        }
        (index, docs)
    }

    fn both<T: PartialEq + std::fmt::Debug>(search: impl Fn() -> Page<T>) -> Page<T> {
        EXHAUSTIVE.with(|e| e.set(true));
        let full = search();
        EXHAUSTIVE.with(|e| e.set(false));
        let pruned = search();
        assert_eq!(pruned, full);
        pruned
    }

    #[test]
    fn pruned_pages_equal_full_collection_beyond_the_count_cap() {
        let (index, docs) = index(3 * TOTAL_CAP);
        let mut capped = 0;
        for text in [
            "서울",
            "내과",
            "병원",
            "서울 병원",
            "서울병원",
            "ㅅㅇ",
            "대학교",
            "김서울",
            "분당 내과",
            "치",
        ] {
            for limit in [1, 7, 20, 100] {
                let mut q = HospitalQuery {
                    text: text.into(),
                    limit,
                    ..HospitalQuery::default()
                };
                // follow the cursor for a few pages: every page must be the full collection's
                for _ in 0..4 {
                    let page = both(|| index.search_hospitals(&q).unwrap());
                    capped += usize::from(page.total_is_lower_bound);
                    match page.next_cursor {
                        Some(c) => q.cursor = Some(c),
                        None => break,
                    }
                }
            }
        }
        assert!(capped > 0, "some queries match more than the cap");
        // filters and "open at" go through the same executor
        let q = HospitalQuery {
            text: "서울".into(),
            sido: Some("서울".into()),
            open_at: Some(OpenAt {
                weekday: 0,
                minute: 600,
                is_public_holiday: false,
            }),
            ..HospitalQuery::default()
        };
        let page = both(|| index.search_hospitals(&q).unwrap());
        assert!(!page.items.is_empty());
        assert!(docs.len() > TOTAL_CAP);
    }

    #[test]
    fn broad_doctor_searches_equal_full_collection() {
        let (index, docs) = index(300);
        for (i, h) in docs.iter().enumerate() {
            let doctors: Vec<DoctorDoc> = (0..5)
                .map(|j| DoctorDoc {
                    id: Uuid::from_u128(1_000_000 + (i * 10 + j) as u128),
                    hospital_id: h.id,
                    name: DOCTORS[(i + j) % 5].into(),
                    departments: vec![DEPARTMENTS[(i * j) % 4].into()],
                    hospital_name: h.name.clone(),
                    sido: h.sido.clone(),
                    sigungu: h.sigungu.clone(),
                    lat: h.lat,
                    lon: h.lon,
                })
                .collect();
            index.replace_hospital(h, &doctors).unwrap();
        }
        for text in ["내과", "서울", "김서울", "ㄱㅅ"] {
            let mut q = DoctorQuery {
                text: text.into(),
                ..DoctorQuery::default()
            };
            for _ in 0..3 {
                let page = both(|| index.search_doctors(&q).unwrap());
                match page.next_cursor {
                    Some(c) => q.cursor = Some(c),
                    None => break,
                }
            }
        }
    }
}
