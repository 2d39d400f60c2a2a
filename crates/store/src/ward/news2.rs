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

use chrono::{DateTime, Utc};
use uuid::Uuid;

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
    let postgres = store.dialect() == "postgres";
    let at = stored(score.scored_at);
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let changed: Option<String> = sqlx::query_scalar(
                "INSERT INTO admission_news2 (admission_id, total, band, scored_at) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (admission_id) DO UPDATE SET total = excluded.total, \
                 band = excluded.band, scored_at = excluded.scored_at \
                 WHERE (admission_news2.total <> excluded.total \
                        OR admission_news2.band <> excluded.band) \
                   AND admission_news2.scored_at <= excluded.scored_at \
                 RETURNING admission_id",
            )
            .bind(score.admission_id.to_string())
            .bind(i32::from(score.total))
            .bind(score.band)
            .bind(at)
            .fetch_optional(&mut *tx)
            .await?;
            if changed.is_none() {
                return Ok::<_, WardError>(None);
            }
            let event = NewEvent {
                ward_id: score.ward_id,
                patient_id: Some(score.patient_id),
                kind: EventKind::News2,
                payload: score.payload.clone(),
                at,
            };
            let ids = append_events!(tx, postgres, std::slice::from_ref(&event)).await?;
            Ok(Some(ids[0]))
        }
        .await;
        finish!(tx, done)
    })
}
