//! Rating summaries for result lists (search pages): read for a whole page in one query and
//! kept for a few seconds, so a popular search page usually costs no database read at all.
//!
//! A summary may be up to [`FRESH`] old on other instances; the instance that took a review
//! write forgets that hospital's and doctor's summaries at once, and a read that such a write
//! overtook (it began before the forget) answers its page but is not kept. A single hospital's or
//! doctor's own page (`GET /api/v1/hospitals/{id}`) always reads the database.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use docde_store::reviews::{self, Rated, RatingSummary};
use docde_store::{Store, StoreError};
use uuid::Uuid;

/// How long a summary is served without reading it again.
pub const FRESH: Duration = Duration::from_secs(5);
/// Entries kept at most; past that the cache starts over (it is only a cache).
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub struct Ratings {
    cache: Mutex<Cache>,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<(Rated, Uuid), (Instant, RatingSummary)>,
    /// Counts forgets; a read that began before the last one may hold what was forgotten.
    forgets: u64,
}

impl Ratings {
    /// The summaries of `ids` (subjects without reviews get an empty summary).
    pub async fn of(
        &self,
        store: &Store,
        kind: Rated,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, RatingSummary>, StoreError> {
        self.of_read_by(kind, ids, |missing| async move {
            reviews::summaries(store, kind, &missing).await
        })
        .await
    }

    /// [`Self::of`] with the database read of the ids not cached given as `read`.
    async fn of_read_by<F>(
        &self,
        kind: Rated,
        ids: &[Uuid],
        read: impl FnOnce(Vec<Uuid>) -> F,
    ) -> Result<HashMap<Uuid, RatingSummary>, StoreError>
    where
        F: Future<Output = Result<HashMap<Uuid, RatingSummary>, StoreError>>,
    {
        let now = Instant::now();
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        let began = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            for id in ids {
                match cache.entries.get(&(kind, *id)) {
                    Some((at, summary)) if now.duration_since(*at) < FRESH => {
                        found.insert(*id, *summary);
                    }
                    _ => missing.push(*id),
                }
            }
            cache.forgets
        };
        if missing.is_empty() {
            return Ok(found);
        }
        let read = read(missing.clone()).await?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let keep = cache.forgets == began;
        if keep && cache.entries.len() + missing.len() > MAX_ENTRIES {
            cache.entries.clear();
        }
        for id in missing {
            let summary = read.get(&id).copied().unwrap_or_default();
            if keep {
                cache.entries.insert((kind, id), (now, summary));
            }
            found.insert(id, summary);
        }
        Ok(found)
    }

    /// Forgets a hospital's and a doctor's summaries after a review of theirs changed here.
    pub fn forget(&self, hospital_id: Uuid, doctor_id: Uuid) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.forgets += 1;
        cache.entries.remove(&(Rated::Hospitals, hospital_id));
        cache.entries.remove(&(Rated::Doctors, doctor_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_reviews(
        id: Uuid,
        count: u64,
    ) -> impl Future<Output = Result<HashMap<Uuid, RatingSummary>, StoreError>> {
        let summary = RatingSummary {
            count,
            average: Some(5.0),
            distribution: [0, 0, 0, 0, count],
        };
        async move { Ok(HashMap::from([(id, summary)])) }
    }

    #[tokio::test]
    async fn a_read_that_a_review_write_overtook_answers_its_page_but_is_not_kept() {
        let ratings = Ratings::default();
        let (hospital, doctor) = (Uuid::now_v7(), Uuid::now_v7());
        // The read sees one review; before it returns, a second review's write forgets the
        // hospital's summary here.
        let page = ratings
            .of_read_by(Rated::Hospitals, &[hospital], |_| async {
                ratings.forget(hospital, doctor);
                with_reviews(hospital, 1).await
            })
            .await
            .unwrap();
        assert_eq!(page[&hospital].count, 1);
        // The next page reads again and keeps what it read.
        let page = ratings
            .of_read_by(Rated::Hospitals, &[hospital], |_| with_reviews(hospital, 2))
            .await
            .unwrap();
        assert_eq!(page[&hospital].count, 2);
        let page = ratings
            .of_read_by(Rated::Hospitals, &[hospital], |missing| async move {
                panic!("a kept summary is read again for {missing:?}")
            })
            .await
            .unwrap();
        assert_eq!(page[&hospital].count, 2);
    }
}
