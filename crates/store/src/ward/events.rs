//! The ward event log: what happened in a ward, in order, for live streams to replay
//! (SSE `Last-Event-ID` = [`WardEvent::id`]).
//!
//! Events are written by the change they report, in its transaction, so an event exists
//! exactly when its change committed. Replay reads `id > last seen` in id order, which is only
//! safe if, per ward, ids become visible in increasing order. SQLite has one writer, so commit
//! order is id order. On PostgreSQL ids come from a sequence at insert time while commits can
//! finish out of order (B takes id 11 and commits before A with id 10 does; a reader that saw
//! 11 would skip 10 forever); so every transaction that appends to a ward first takes a
//! transaction-scoped advisory lock on that ward, held until commit, which serialises a ward's
//! appends. Writers append events last, just before committing, to hold that lock briefly, and
//! take several wards' locks in ascending key order so two writers cannot deadlock.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::accounts::{id, opt_id};
use crate::{Store, StoreError, with_reader};

/// The named events of the ward streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A batch of samples stored for a bed.
    Vitals,
    /// A new alarm.
    Alarm,
    /// An alarm acknowledged, resolved, escalated or raised in priority.
    AlarmUpdate,
    News2,
    /// A device bound, unbound, or its state changed.
    Device,
    /// Admission, transfer, discharge.
    Admission,
    /// A medicine delivered, or a round reset.
    Medication,
}

impl EventKind {
    pub const ALL: &'static [EventKind] = &[
        EventKind::Vitals,
        EventKind::Alarm,
        EventKind::AlarmUpdate,
        EventKind::News2,
        EventKind::Device,
        EventKind::Admission,
        EventKind::Medication,
    ];

    /// The SSE event name and the stored code.
    pub fn code(self) -> &'static str {
        match self {
            EventKind::Vitals => "vitals",
            EventKind::Alarm => "alarm",
            EventKind::AlarmUpdate => "alarm_update",
            EventKind::News2 => "news2",
            EventKind::Device => "device",
            EventKind::Admission => "admission",
            EventKind::Medication => "medication",
        }
    }

    pub fn parse(code: &str) -> Option<EventKind> {
        EventKind::ALL.iter().copied().find(|k| k.code() == code)
    }
}

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub ward_id: Uuid,
    /// Set when the event concerns one patient (their own stream replays these).
    pub patient_id: Option<Uuid>,
    pub kind: EventKind,
    pub payload: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct WardEvent {
    pub id: i64,
    pub ward_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub kind: EventKind,
    /// JSON text, as written.
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

/// The advisory-lock key of a ward: the UUID's last 8 bytes (random in a UUIDv7).
pub(crate) fn lock_key(ward_id: Uuid) -> i64 {
    let bytes = ward_id.as_bytes();
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&bytes[8..]);
    i64::from_be_bytes(tail)
}

/// Appends `$events` (`&[NewEvent]`) on `$conn` (a connection inside a transaction) and
/// evaluates to `Result<Vec<i64>, sqlx::Error>` (their ids, in order). `$postgres` says
/// whether to take the wards' advisory locks first (see the module doc).
macro_rules! append_events {
    ($conn:expr, $postgres:expr, $events:expr) => {
        async {
            let events: &[$crate::ward::events::NewEvent] = $events;
            if $postgres {
                let mut keys: Vec<i64> = events
                    .iter()
                    .map(|e| $crate::ward::events::lock_key(e.ward_id))
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                for key in keys {
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(key)
                        .execute(&mut *$conn)
                        .await?;
                }
            }
            let rows: Vec<$crate::ward::events::EventRow> = events
                .iter()
                .map($crate::ward::events::EventRow::of)
                .collect();
            let json = serde_json::to_string(&rows).map_err(|e| sqlx::Error::Encode(e.into()))?;
            let sql = if $postgres {
                $crate::ward::events::INSERT_POSTGRES
            } else {
                $crate::ward::events::INSERT_SQLITE
            };
            let mut ids = sqlx::query_scalar::<_, i64>(sql)
                .bind(json)
                .fetch_all(&mut *$conn)
                .await?;
            // RETURNING's row order is not promised, but ids are taken in the array's order
            // (AUTOINCREMENT, a sequence), so ascending ids are the events in order.
            ids.sort_unstable();
            Ok::<Vec<i64>, sqlx::Error>(ids)
        }
    };
}
pub(crate) use append_events;

/// One event of [`INSERT_SQLITE`] / [`INSERT_POSTGRES`]'s JSON array: ward, patient, kind,
/// payload (JSON text) and time as both backends store it.
#[derive(serde::Serialize)]
pub(crate) struct EventRow(String, Option<String>, &'static str, String, String);

impl EventRow {
    pub(crate) fn of(e: &NewEvent) -> Self {
        Self(
            e.ward_id.to_string(),
            e.patient_id.map(|p| p.to_string()),
            e.kind.code(),
            e.payload.to_string(),
            crate::accounts::stamp(e.at),
        )
    }
}

/// Appends the events of `$1`, a JSON array of [`EventRow`]s, in array order, whatever their
/// number: one statement text (see `ingest::INSERT_SQLITE` on JSON rows).
pub(crate) const INSERT_SQLITE: &str = "INSERT INTO ward_events \
     (ward_id, patient_id, kind, payload, created_at) \
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4 \
     FROM jsonb_each($1) j ORDER BY j.key RETURNING id";
pub(crate) const INSERT_POSTGRES: &str = "INSERT INTO ward_events \
     (ward_id, patient_id, kind, payload, created_at) \
     SELECT e ->> 0, e ->> 1, e ->> 2, e ->> 3, (e ->> 4)::timestamptz \
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n) ORDER BY n RETURNING id";

type Row = (i64, String, Option<String>, String, String, DateTime<Utc>);

fn from_row((eid, ward, patient, kind, payload, created_at): Row) -> Result<WardEvent, StoreError> {
    Ok(WardEvent {
        id: eid,
        ward_id: id(&ward)?,
        patient_id: opt_id(patient.as_deref())?,
        kind: EventKind::parse(&kind).ok_or_else(|| {
            StoreError::Other(sqlx::Error::Decode(
                format!("unknown ward event kind {kind:?}").into(),
            ))
        })?,
        payload,
        created_at,
    })
}

/// The ward's events after `after` (exclusive; 0 for all), oldest first, at most `limit`.
pub async fn events_after(
    store: &Store,
    ward_id: Uuid,
    after: i64,
    limit: u32,
) -> Result<Vec<WardEvent>, StoreError> {
    let rows: Vec<Row> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT id, ward_id, patient_id, kind, payload, created_at FROM ward_events \
             WHERE ward_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(ward_id.to_string())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?
    });
    rows.into_iter().map(from_row).collect()
}

/// The id of the ward's newest event (0 when it has none): where a live reader starts.
pub async fn latest_id(store: &Store, ward_id: Uuid) -> Result<i64, StoreError> {
    let id: Option<i64> = with_reader!(store, pool => {
        sqlx::query_scalar("SELECT MAX(id) FROM ward_events WHERE ward_id = $1")
            .bind(ward_id.to_string())
            .fetch_one(pool)
            .await?
    });
    Ok(id.unwrap_or(0))
}

/// One patient's events after `after` (exclusive), oldest first, at most `limit`.
pub async fn patient_events_after(
    store: &Store,
    patient_id: Uuid,
    after: i64,
    limit: u32,
) -> Result<Vec<WardEvent>, StoreError> {
    let rows: Vec<Row> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT id, ward_id, patient_id, kind, payload, created_at FROM ward_events \
             WHERE patient_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(patient_id.to_string())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?
    });
    rows.into_iter().map(from_row).collect()
}

/// Appends events in a transaction of their own (e.g. a NEWS2 score computed by the server).
pub async fn append(store: &Store, events: &[NewEvent]) -> Result<Vec<i64>, StoreError> {
    let postgres = store.dialect() == "postgres";
    crate::with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        match append_events!(tx, postgres, events).await {
            Ok(ids) => {
                tx.commit().await?;
                Ok(ids)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e.into())
            }
        }
    })
}

/// Deletes events created before `cutoff` (retention; replay covers at least what is kept),
/// at most `limit` per call. Returns how many went.
pub async fn delete_before(
    store: &Store,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<u64, StoreError> {
    let n = crate::with_writer!(store, pool => {
        sqlx::query(
            "DELETE FROM ward_events WHERE id IN \
             (SELECT id FROM ward_events WHERE created_at < $1 ORDER BY id LIMIT $2)",
        )
        .bind(crate::ward::stored(cutoff))
        .bind(i64::from(limit))
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n)
}
