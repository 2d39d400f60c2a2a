//! Rating summaries for result lists (search pages): read for a whole page in one query and
//! kept for a few seconds, so a popular search page usually costs no database read at all.
//!
//! A summary may be up to [`FRESH`] old on other instances; the instance that took a review
//! write forgets that hospital's and doctor's summaries at once. A single hospital's or
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
    cache: Mutex<HashMap<(Rated, Uuid), (Instant, RatingSummary)>>,
}

impl Ratings {
    /// The summaries of `ids` (subjects without reviews get an empty summary).
    pub async fn of(
        &self,
        store: &Store,
        kind: Rated,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, RatingSummary>, StoreError> {
        let now = Instant::now();
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            for id in ids {
                match cache.get(&(kind, *id)) {
                    Some((at, summary)) if now.duration_since(*at) < FRESH => {
                        found.insert(*id, *summary);
                    }
                    _ => missing.push(*id),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let read = reviews::summaries(store, kind, &missing).await?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() + missing.len() > MAX_ENTRIES {
            cache.clear();
        }
        for id in missing {
            let summary = read.get(&id).copied().unwrap_or_default();
            cache.insert((kind, id), (now, summary));
            found.insert(id, summary);
        }
        Ok(found)
    }

    /// Forgets a hospital's and a doctor's summaries after a review of theirs changed here.
    pub fn forget(&self, hospital_id: Uuid, doctor_id: Uuid) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.remove(&(Rated::Hospitals, hospital_id));
        cache.remove(&(Rated::Doctors, doctor_id));
    }
}
