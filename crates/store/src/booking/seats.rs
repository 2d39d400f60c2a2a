//! Seats taken per slot, read in bulk for the availability view.

use uuid::Uuid;

use crate::accounts::id;
use crate::{Store, StoreError, with_reader};

/// One slot's seat count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seats {
    pub doctor_id: Uuid,
    pub starts_at: i64,
    pub capacity: u16,
    pub taken: u16,
}

/// Every slot of `doctor_id` with a seat taken (now or before) starting in `[from, to)`.
///
/// Read as one JSON row: on SQLite each row of a result is a hand-off between the
/// connection's thread and the async side, and the availability view reloads every doctor
/// every few seconds — hundreds of rows each — while bookings stream in.
pub async fn taken(
    store: &Store,
    doctor_id: Uuid,
    from: i64,
    to: i64,
) -> Result<Vec<Seats>, StoreError> {
    let sql = match store.dialect() {
        "sqlite" => {
            "SELECT COALESCE(json_group_array(json_array(starts_at, capacity, taken)), '[]') \
             FROM (SELECT starts_at, capacity, taken FROM slot_seats \
                   WHERE doctor_id = $1 AND starts_at >= $2 AND starts_at < $3 ORDER BY starts_at)"
        }
        _ => {
            "SELECT COALESCE(json_agg(json_build_array(starts_at, capacity, taken) \
                 ORDER BY starts_at), '[]')::text \
             FROM slot_seats WHERE doctor_id = $1 AND starts_at >= $2 AND starts_at < $3"
        }
    };
    let rows: Vec<(i64, i32, i32)> = aggregated(store, sql, doctor_id, from, to).await?;
    Ok(rows
        .into_iter()
        .map(|(starts_at, capacity, taken)| Seats {
            doctor_id,
            starts_at,
            capacity: u16::try_from(capacity).unwrap_or(u16::MAX),
            taken: u16::try_from(taken).unwrap_or(0),
        })
        .collect())
}

/// One patient's appointment in a slot, for the availability view's list of who may be
/// retrying a booking there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    pub starts_at: i64,
    pub patient_id: Uuid,
    /// The appointment holds a seat (`requested`, `booked` or `checked_in`).
    pub active: bool,
}

/// Every appointment of `doctor_id` (any status) in a slot starting in `[from, to)`, read as
/// one JSON row like [`taken`].
pub async fn holders(
    store: &Store,
    doctor_id: Uuid,
    from: i64,
    to: i64,
) -> Result<Vec<Holder>, StoreError> {
    let sql = match store.dialect() {
        "sqlite" => {
            "SELECT COALESCE(json_group_array(json_array(starts_at, patient_id, \
                 status IN ('requested', 'booked', 'checked_in'))), '[]') \
             FROM appointments WHERE doctor_id = $1 AND starts_at >= $2 AND starts_at < $3"
        }
        _ => {
            "SELECT COALESCE(json_agg(json_build_array(starts_at, patient_id, \
                 CASE WHEN status IN ('requested', 'booked', 'checked_in') THEN 1 ELSE 0 END)), \
                 '[]')::text \
             FROM appointments WHERE doctor_id = $1 AND starts_at >= $2 AND starts_at < $3"
        }
    };
    let rows: Vec<(i64, String, i64)> = aggregated(store, sql, doctor_id, from, to).await?;
    rows.into_iter()
        .map(|(starts_at, patient, active)| {
            Ok(Holder {
                starts_at,
                patient_id: id(&patient)?,
                active: active != 0,
            })
        })
        .collect()
}

/// Runs `sql`, a one-row JSON aggregate over `(doctor, from, to)`, and parses its rows.
async fn aggregated<T: serde::de::DeserializeOwned>(
    store: &Store,
    sql: &'static str,
    doctor_id: Uuid,
    from: i64,
    to: i64,
) -> Result<Vec<T>, StoreError> {
    let json: String = with_reader!(store, pool => {
        sqlx::query_scalar(sql)
            .bind(doctor_id.to_string())
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await?
    });
    serde_json::from_str(&json).map_err(|e| StoreError::Other(sqlx::Error::Decode(e.into())))
}

/// Slots whose seats exceed their capacity or disagree with the active appointments counted
/// directly. Always empty unless an invariant broke; the booking benchmark and tests check it.
pub async fn violations(store: &Store) -> Result<Vec<(Uuid, i64, i64, i64)>, StoreError> {
    let rows: Vec<(String, i64, i64, i64)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT s.doctor_id, s.starts_at, CAST(s.capacity AS BIGINT), \
                    (SELECT COUNT(*) FROM appointments a WHERE a.doctor_id = s.doctor_id \
                       AND a.starts_at = s.starts_at \
                       AND a.status IN ('requested', 'booked', 'checked_in')) AS active \
             FROM slot_seats s \
             WHERE s.taken > s.capacity OR s.taken <> (SELECT COUNT(*) FROM appointments a \
                 WHERE a.doctor_id = s.doctor_id AND a.starts_at = s.starts_at \
                   AND a.status IN ('requested', 'booked', 'checked_in'))",
        )
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(doctor, starts_at, capacity, active)| {
            Ok((id(&doctor)?, starts_at, capacity, active))
        })
        .collect()
}

/// Pairs of active appointments of one patient that overlap in time (always empty unless an
/// invariant broke).
pub async fn patient_overlaps(store: &Store) -> Result<i64, StoreError> {
    let n: i64 = with_reader!(store, pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM appointments a JOIN appointments b \
             ON a.patient_id = b.patient_id AND a.id < b.id \
             AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at \
             WHERE a.status IN ('requested', 'booked', 'checked_in') \
               AND b.status IN ('requested', 'booked', 'checked_in')",
        )
        .fetch_one(pool)
        .await?
    });
    Ok(n)
}

/// Sets new capacities for slots of a doctor (after a schedule change). A capacity below the
/// seats taken is refused by the `slot_seats_capacity` check, so callers pass only those that fit.
pub async fn resize(
    store: &Store,
    doctor_id: Uuid,
    changes: &[(i64, u16)],
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    crate::with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        for (starts_at, capacity) in changes {
            sqlx::query("UPDATE slot_seats SET capacity = $3 WHERE doctor_id = $1 AND starts_at = $2")
                .bind(doctor_id.to_string())
                .bind(starts_at)
                .bind(i32::from(*capacity))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}
