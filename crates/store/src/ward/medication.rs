//! The medication plan: medicines of an admission, each with a unique QR code the delivery
//! robot scans, and a status `to_do → done` that a scheduled reset puts back to `to_do`.
//!
//! Delivery is a conditional UPDATE (`WHERE status = 'to_do'`), so two scans of one code
//! deliver once. The reset claims the round per ward (`wards.medication_reset_at < reset`)
//! before flipping statuses, so N instances running the scheduler reset each round once.

use chrono::{DateTime, Utc};
use docde_domain::ward::medication::MedicationStatus;
use uuid::Uuid;

use super::events::{EventKind, NewEvent, append_events};
use super::{WardConflict, WardError, stored};
use crate::accounts::{id, opt_id};
use crate::{Store, StoreError, with_reader, with_writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Medication {
    pub id: Uuid,
    pub admission_id: Uuid,
    pub ward_id: Uuid,
    pub name: String,
    pub dose: String,
    pub qr_code: String,
    pub status: MedicationStatus,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The robot (a device id) or nurse (a user id) that delivered it.
    pub delivered_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, admission_id, ward_id, name, dose, qr_code, status, delivered_at, delivered_by, created_at";

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<DateTime<Utc>>,
    Option<String>,
    DateTime<Utc>,
);

fn from_row(row: Row) -> Result<Medication, StoreError> {
    let (mid, admission, ward, name, dose, qr_code, status, delivered_at, by, created_at) = row;
    Ok(Medication {
        id: id(&mid)?,
        admission_id: id(&admission)?,
        ward_id: id(&ward)?,
        name,
        dose,
        qr_code,
        status: status
            .parse()
            .map_err(|e| StoreError::Other(sqlx::Error::Decode(Box::new(e))))?,
        delivered_at,
        delivered_by: opt_id(by.as_deref())?,
        created_at,
    })
}

/// Adds a medicine to an open admission's plan. Refused with [`WardConflict::QrCodeTaken`] if
/// another medicine carries the code.
pub async fn add(
    store: &Store,
    admission_id: Uuid,
    name: &str,
    dose: &str,
    qr_code: &str,
    now: DateTime<Utc>,
) -> Result<Medication, WardError> {
    let sql = format!(
        "INSERT INTO medications (id, admission_id, ward_id, name, dose, qr_code, created_at) \
         SELECT $1, id, ward_id, $3, $4, $5, $6 FROM admissions \
         WHERE id = $2 AND discharged_at IS NULL RETURNING {COLUMNS}"
    );
    let row: Option<Row> = with_writer!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(Uuid::now_v7().to_string())
            .bind(admission_id.to_string())
            .bind(name)
            .bind(dose)
            .bind(qr_code)
            .bind(stored(now))
            .fetch_optional(pool)
            .await?
    });
    match row {
        Some(row) => Ok(from_row(row)?),
        None => Err(WardError::NotFound("open admission")),
    }
}

/// The robot's scan: marks the medicine with this QR code in one of `hospital_id`'s wards
/// delivered, if its admission is open (a code of another hospital is not found: a robot only
/// serves its own). A second scan in the same round is refused with
/// [`WardConflict::AlreadyDelivered`]. Emits a `medication` event; returns the medicine and the
/// event id.
pub async fn deliver(
    store: &Store,
    hospital_id: Uuid,
    qr_code: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(Medication, i64), WardError> {
    let now = stored(now);
    let postgres = store.dialect() == "postgres";
    let sql = format!(
        "UPDATE medications SET status = 'done', delivered_at = $2, delivered_by = $3 \
         WHERE qr_code = $1 AND status = 'to_do' AND admission_id IN \
         (SELECT id FROM admissions WHERE discharged_at IS NULL) \
         AND ward_id IN (SELECT id FROM wards WHERE hospital_id = $4) RETURNING {COLUMNS}"
    );
    let select = format!(
        "SELECT {COLUMNS} FROM medications WHERE qr_code = $1 \
         AND ward_id IN (SELECT id FROM wards WHERE hospital_id = $2)"
    );
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(qr_code)
                .bind(now)
                .bind(by.to_string())
                .bind(hospital_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                let found: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(select))
                    .bind(qr_code)
                    .bind(hospital_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
                return Err(match found.map(from_row).transpose()? {
                    Some(m) if m.status == MedicationStatus::Done => {
                        WardConflict::AlreadyDelivered.into()
                    }
                    Some(_) => WardConflict::AdmissionClosed.into(),
                    None => WardError::NotFound("medication"),
                });
            };
            let medication = from_row(row)?;
            let patient: String = sqlx::query_scalar("SELECT patient_id FROM admissions WHERE id = $1")
                .bind(medication.admission_id.to_string())
                .fetch_one(&mut *tx)
                .await?;
            let event = NewEvent {
                ward_id: medication.ward_id,
                patient_id: Some(id(&patient)?),
                kind: EventKind::Medication,
                payload: serde_json::json!({
                    "medication_id": medication.id,
                    "admission_id": medication.admission_id,
                    "status": "done",
                    "delivered_by": by,
                }),
                at: now,
            };
            let ids = append_events!(tx, postgres, std::slice::from_ref(&event)).await?;
            Ok::<_, WardError>((medication, ids[0]))
        }
        .await;
        finish!(tx, done)
    })
}

/// The medicine with this QR code in one of `hospital_id`'s wards.
pub async fn find_by_qr(
    store: &Store,
    hospital_id: Uuid,
    qr_code: &str,
) -> Result<Option<Medication>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM medications WHERE qr_code = $1 \
         AND ward_id IN (SELECT id FROM wards WHERE hospital_id = $2)"
    );
    let row: Option<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(qr_code)
            .bind(hospital_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(from_row).transpose()
}

/// Hospitals that have wards, with their IANA time zone: what the reset job walks.
pub async fn hospitals_with_wards(store: &Store) -> Result<Vec<(Uuid, String)>, StoreError> {
    let rows: Vec<(String, String)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT h.id, h.time_zone FROM hospitals h \
             WHERE EXISTS (SELECT 1 FROM wards w WHERE w.hospital_id = h.id) ORDER BY h.id",
        )
        .fetch_all(pool)
        .await?
    });
    rows.into_iter().map(|(h, tz)| Ok((id(&h)?, tz))).collect()
}

/// The wards of a hospital (whose streams a reset must wake).
pub async fn wards_of_hospital(store: &Store, hospital_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    let rows: Vec<String> = with_reader!(store, pool => {
        sqlx::query_scalar("SELECT id FROM wards WHERE hospital_id = $1 ORDER BY id")
            .bind(hospital_id.to_string())
            .fetch_all(pool)
            .await?
    });
    rows.iter().map(|w| id(w)).collect()
}

/// The medicines of an admission, oldest first.
pub async fn of_admission(
    store: &Store,
    admission_id: Uuid,
) -> Result<Vec<Medication>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM medications WHERE admission_id = $1 ORDER BY created_at, id"
    );
    let rows: Vec<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(admission_id.to_string())
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(from_row).collect()
}

/// Which wards a reset covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetScope {
    Ward(Uuid),
    Hospital(Uuid),
}

/// Puts every medicine of the scope delivered before `reset_at` back to `to_do` for the round
/// that starts at `reset_at` (a reset instant from docde-domain's `ResetSchedule`); one
/// delivered after it belongs to the new round and stays `done` (this matters the first time
/// a ward is reset, or when the job catches up late). Each ward is reset at most once per
/// round whoever calls, and a later call for an earlier round does nothing. Returns how many
/// medicines went back to `to_do`.
pub async fn reset(
    store: &Store,
    scope: ResetScope,
    reset_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let reset_at = stored(reset_at);
    let now = stored(now);
    let postgres = store.dialect() == "postgres";
    let (column, scope_id) = match scope {
        ResetScope::Ward(w) => ("id", w),
        ResetScope::Hospital(h) => ("hospital_id", h),
    };
    let claim = format!(
        "UPDATE wards SET medication_reset_at = $2 WHERE {column} = $1 \
         AND (medication_reset_at IS NULL OR medication_reset_at < $2) RETURNING id"
    );
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let mut wards: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(claim))
                .bind(scope_id.to_string())
                .bind(reset_at)
                .fetch_all(&mut *tx)
                .await?;
            wards.sort();
            let mut total = 0;
            let mut events = Vec::with_capacity(wards.len());
            for ward in &wards {
                let n = sqlx::query(
                    "UPDATE medications SET status = 'to_do', delivered_at = NULL, \
                     delivered_by = NULL WHERE ward_id = $1 AND status = 'done' \
                     AND delivered_at < $2",
                )
                .bind(ward)
                .bind(reset_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                total += n;
                events.push(NewEvent {
                    ward_id: id(ward)?,
                    patient_id: None,
                    kind: EventKind::Medication,
                    payload: serde_json::json!({ "reset": true, "round": reset_at, "count": n }),
                    at: now,
                });
            }
            append_events!(tx, postgres, &events).await?;
            Ok::<_, StoreError>(total)
        }
        .await;
        finish!(tx, done)
    })
}
