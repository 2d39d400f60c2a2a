//! The NEWS2 last announced per admission (`admission_news2`): [`announce`] writes the ward's
//! `news2` event only when the total or band differs from the stored one, in one transaction
//! with a conditional upsert, so any number of instances scoring the same vitals announce each
//! change once, and a score computed earlier but committed later is dropped.
//!
//! Most samples change neither the total nor the band, so [`announce`] compares with the stored
//! score the caller read (with the device's context, `super::context`, after the samples'
//! commit) and takes the writer only for a change: on SQLite the one writer connection is also
//! the sample group commit's, and a no-op transaction per sample there kept the groups from
//! filling.
//!
//! Changes come in bursts — every stay's first score once its first vitals arrive, a ward's
//! worth at once when a server starts on a full ward — so the server announces through an
//! [`Announcer`]: every score waiting at that moment in one transaction and one commit. One
//! transaction each (a commit and an fsync per stay) held 1,000 beds' first vitals back for a
//! second behind the one SQLite writer.

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::batch::{group_failed, unavailable};
use super::events::{EventKind, NewEvent, append_events};
use super::{WardError, stored};
use crate::{Store, with_writer};

/// A score to announce.
#[derive(Debug, Clone)]
pub struct Score {
    pub ward_id: Uuid,
    pub patient_id: Uuid,
    pub admission_id: Uuid,
    pub total: u8,
    /// `docde_domain::ward::news2::Band`'s code.
    pub band: &'static str,
    /// The event's payload (the server's view of the score).
    pub payload: serde_json::Value,
    pub scored_at: DateTime<Utc>,
}

/// Stores the score if it changed (or is the first) and appends its `news2` event; returns
/// the event id, or `None` when nothing changed. `stored_score` is the total and band the
/// caller read as stored, after the vitals it scored had committed.
pub async fn announce(
    store: &Store,
    score: &Score,
    stored_score: Option<(i32, &str)>,
) -> Result<Option<i64>, WardError> {
    // Equal to what is stored: nothing to announce, whatever else is in flight (a concurrent
    // change is announced by whoever computed it).
    if stored_score
        .is_some_and(|(total, band)| total == i32::from(score.total) && band == score.band)
    {
        return Ok(None);
    }
    let mut ids = announce_group(store, std::slice::from_ref(score)).await?;
    Ok(ids.pop().flatten())
}

/// The stored score becomes `$2`, `$3` at `$4` if it differs and is not newer; returns the
/// admission id when it did.
const UPSERT: &str = "INSERT INTO admission_news2 (admission_id, total, band, scored_at) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (admission_id) DO UPDATE SET total = excluded.total, \
     band = excluded.band, scored_at = excluded.scored_at \
     WHERE (admission_news2.total <> excluded.total \
            OR admission_news2.band <> excluded.band) \
       AND admission_news2.scored_at <= excluded.scored_at \
     RETURNING admission_id";

/// Stores the scores that changed, in order, and appends their `news2` events, all in one
/// transaction; one answer per score (its event id, or `None` when unchanged).
///
/// PostgreSQL: the rows are locked in admission order whatever the group's order (two
/// instances' groups sharing stays cannot deadlock), a stay's scores keeping their own order;
/// the events then take the wards' locks in one sorted pass (see `events`).
async fn announce_group(store: &Store, scores: &[Score]) -> Result<Vec<Option<i64>>, WardError> {
    let postgres = store.dialect() == "postgres";
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by_key(|&i| scores[i].admission_id);
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let mut changed = vec![false; scores.len()];
            for &i in &order {
                let score = &scores[i];
                let row: Option<String> = sqlx::query_scalar(UPSERT)
                    .bind(score.admission_id.to_string())
                    .bind(i32::from(score.total))
                    .bind(score.band)
                    .bind(stored(score.scored_at))
                    .fetch_optional(&mut *tx)
                    .await?;
                changed[i] = row.is_some();
            }
            let events: Vec<NewEvent> = scores
                .iter()
                .zip(&changed)
                .filter(|(_, changed)| **changed)
                .map(|(score, _)| NewEvent {
                    ward_id: score.ward_id,
                    patient_id: Some(score.patient_id),
                    kind: EventKind::News2,
                    payload: score.payload.clone(),
                    at: stored(score.scored_at),
                })
                .collect();
            if events.is_empty() {
                return Ok::<_, WardError>(vec![None; scores.len()]);
            }
            // Ids come in the events' order (see `append_events`).
            let mut ids = append_events!(tx, postgres, &events).await?.into_iter();
            Ok(changed
                .iter()
                .map(|&c| if c { ids.next() } else { None })
                .collect())
        }
        .await;
        finish!(tx, done)
    })
}

/// The most scores one commit carries.
const MAX_GROUP: usize = 256;

struct Job {
    score: Score,
    reply: oneshot::Sender<Result<Option<i64>, WardError>>,
}

/// Group commit for [`announce`]: every score handed in while the previous group was being
/// written goes in the next one. Cheap to clone; the task stops when every handle is gone.
#[derive(Clone, Debug)]
pub struct Announcer {
    jobs: mpsc::Sender<Job>,
}

impl Announcer {
    pub fn spawn(store: Store) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Job>(MAX_GROUP * 4);
        let handle = tokio::spawn(async move {
            let mut group: Vec<Job> = Vec::with_capacity(MAX_GROUP);
            while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
                let scores: Vec<Score> = group.iter().map(|j| j.score.clone()).collect();
                match announce_group(&store, &scores).await {
                    Ok(ids) => {
                        for (job, id) in group.drain(..).zip(ids) {
                            let _ = job.reply.send(Ok(id));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, scores = group.len(), "NEWS2 group commit failed");
                        for job in group.drain(..) {
                            let error = group_failed(&e, "NEWS2 group commit failed");
                            let _ = job.reply.send(Err(error));
                        }
                    }
                }
            }
        });
        (Self { jobs: tx }, handle)
    }

    /// [`announce`], committed with whatever other scores are waiting.
    pub async fn announce(
        &self,
        score: Score,
        stored_score: Option<(i32, &str)>,
    ) -> Result<Option<i64>, WardError> {
        if stored_score
            .is_some_and(|(total, band)| total == i32::from(score.total) && band == score.band)
        {
            return Ok(None);
        }
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { score, reply })
            .await
            .map_err(|_| unavailable())?;
        answer.await.map_err(|_| unavailable())?
    }
}
