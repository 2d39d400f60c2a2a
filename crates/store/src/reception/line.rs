//! Reads of one department's line for the lobby board and the patients' positions: who is
//! being served, who comes next, the sorted waiting orders positions are derived from, and
//! the recent consultation lengths the wait estimate learns from.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::accounts::opt_id;
use crate::{Store, StoreError, with_reader};

/// A line as the board shows it: numbers, statuses and doctors only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineSnapshot {
    /// The latest event of the department when this was read.
    pub last_event_id: i64,
    /// Called or in consultation: (label, status, doctor).
    pub serving: Vec<(String, String, Option<Uuid>)>,
    /// Waiting, in line order: (queue order, label).
    pub waiting: Vec<(i64, String)>,
    /// Seconds of the most recent completed consultations (newest first).
    pub recent_consultations: Vec<u64>,
    /// Doctors who called a visit of this line within the last hour.
    pub doctors: u64,
}

/// Reads the whole line of one department's day (one consistent snapshot on PostgreSQL's
/// repeatable read; on SQLite readers see one committed state per query, and the event id is
/// read first so a change in between only makes the snapshot look older than it is).
pub async fn snapshot(
    store: &Store,
    hospital_id: Uuid,
    department: &str,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<LineSnapshot, StoreError> {
    let hid = hospital_id.to_string();
    let day = day.to_string();
    let last_event_id = super::events::last_id(store, hospital_id, department).await?;
    let rows: Vec<(i64, String, String, Option<String>)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT queue_order, label, status, doctor_id FROM reception_visits \
             WHERE hospital_id = $1 AND department = $2 AND day = $3 \
             AND status IN ('waiting', 'called', 'in_consultation') ORDER BY queue_order",
        )
        .bind(&hid)
        .bind(department)
        .bind(&day)
        .fetch_all(pool)
        .await?
    });
    let mut snap = LineSnapshot {
        last_event_id,
        ..LineSnapshot::default()
    };
    for (order, label, status, doctor) in rows {
        if status == "waiting" {
            snap.waiting.push((order, label));
        } else {
            snap.serving
                .push((label, status, opt_id(doctor.as_deref())?));
        }
    }
    let recent: Vec<(DateTime<Utc>, DateTime<Utc>)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT started_at, finished_at FROM reception_visits \
             WHERE hospital_id = $1 AND department = $2 AND status = 'completed' \
             AND started_at IS NOT NULL AND finished_at IS NOT NULL \
             ORDER BY finished_at DESC LIMIT 20",
        )
        .bind(&hid)
        .bind(department)
        .fetch_all(pool)
        .await?
    });
    snap.recent_consultations = recent
        .into_iter()
        .filter_map(|(s, f)| u64::try_from((f - s).num_seconds()).ok())
        .collect();
    let doctors: i64 = with_reader!(store, pool => {
        sqlx::query_scalar(
            "SELECT COUNT(DISTINCT called_by) FROM reception_visits \
             WHERE hospital_id = $1 AND department = $2 AND day = $3 AND called_at >= $4",
        )
        .bind(&hid)
        .bind(department)
        .bind(&day)
        .bind(now - chrono::Duration::hours(1))
        .fetch_one(pool)
        .await?
    });
    snap.doctors = u64::try_from(doctors).unwrap_or(0);
    Ok(snap)
}
