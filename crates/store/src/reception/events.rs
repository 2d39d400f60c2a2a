//! The department event log: one row per change of any visit in a department's line, in
//! commit order per department. Lobby boards and patients' live views replay it after
//! `Last-Event-ID`. It holds numbers and statuses only — no patient id, no name — because a
//! lobby screen shows it to everyone in the room.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::accounts::{id, opt_id};
use crate::{Store, StoreError, with_reader};

/// Appends the event of `$visit`'s current state on `$conn`; evaluates to
/// `Result<i64, sqlx::Error>` (the event id).
macro_rules! append_event {
    ($conn:expr, $visit:expr, $now:expr) => {
        async {
            let visit: &$crate::reception::Visit = $visit;
            let now: chrono::DateTime<chrono::Utc> = $now;
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO reception_events (hospital_id, department, day, visit_id, label, \
                 status, doctor_id, calls, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 RETURNING id",
            )
            .bind(visit.hospital_id.to_string())
            .bind(&visit.department)
            .bind(&visit.day)
            .bind(visit.id.to_string())
            .bind(&visit.label)
            .bind(&visit.status)
            .bind(visit.doctor_id.map(|d| d.to_string()))
            .bind(visit.calls)
            .bind(now)
            .fetch_one(&mut *$conn)
            .await
        }
    };
}
pub(crate) use append_event;

/// One change in a department's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineEvent {
    pub id: i64,
    pub day: String,
    pub visit_id: Uuid,
    pub label: String,
    pub status: String,
    pub doctor_id: Option<Uuid>,
    pub calls: i32,
    pub created_at: DateTime<Utc>,
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    i32,
    DateTime<Utc>,
);

/// A department's events after `after`, oldest first, at most `limit`.
pub async fn after(
    store: &Store,
    hospital_id: Uuid,
    department: &str,
    after: i64,
    limit: u32,
) -> Result<Vec<LineEvent>, StoreError> {
    let rows: Vec<Row> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT id, day, visit_id, label, status, doctor_id, calls, created_at \
             FROM reception_events WHERE hospital_id = $1 AND department = $2 AND id > $3 \
             ORDER BY id LIMIT $4",
        )
        .bind(hospital_id.to_string())
        .bind(department)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(eid, day, visit, label, status, doctor, calls, at)| {
            Ok(LineEvent {
                id: eid,
                day,
                visit_id: id(&visit)?,
                label,
                status,
                doctor_id: opt_id(doctor.as_deref())?,
                calls,
                created_at: at,
            })
        })
        .collect()
}

/// The id of a department's latest event (0 if none): where a fresh stream starts.
pub async fn last_id(
    store: &Store,
    hospital_id: Uuid,
    department: &str,
) -> Result<i64, StoreError> {
    let id: Option<i64> = with_reader!(store, pool => {
        sqlx::query_scalar(
            "SELECT MAX(id) FROM reception_events WHERE hospital_id = $1 AND department = $2",
        )
        .bind(hospital_id.to_string())
        .bind(department)
        .fetch_one(pool)
        .await?
    });
    Ok(id.unwrap_or(0))
}
