//! Alarm threshold overrides as stored: one row per ward and one per admission, each holding
//! only the fields that differ ([`ThresholdOverrides`] as JSON text). A write replaces the
//! row; `{}` inherits everything. Checking that the merged limits make sense is the caller's
//! job (`Thresholds::merge`), done before the write; this module only stores and reads.
//!
//! A patient's row belongs to the admission; a transfer copies it to the next admission in the
//! transfer's own transaction (see [`super::admissions::transfer`]), and only an open admission
//! can be given one.

use chrono::{DateTime, Utc};
use docde_domain::ward::alarm::ThresholdOverrides;
use uuid::Uuid;

use super::setting::{self, Place, Row, Setting, from_json, from_row, to_json};
use super::{WardConflict, WardError, stored};
use crate::accounts::id;
use crate::{Store, StoreError, with_reader, with_writer};

/// One ward's or admission's overrides, with who set them last and when.
pub type StoredOverrides = Setting<ThresholdOverrides>;

const WARD: Place = Place {
    table: "ward_thresholds",
    column: "overrides",
};

/// The ward's overrides, if any were ever set.
pub async fn of_ward(store: &Store, ward_id: Uuid) -> Result<Option<StoredOverrides>, StoreError> {
    setting::of_ward(store, WARD, ward_id).await
}

/// Replaces the ward's overrides. The ward must exist (the caller loaded it).
pub async fn set_ward(
    store: &Store,
    ward_id: Uuid,
    overrides: &ThresholdOverrides,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<StoredOverrides, WardError> {
    Ok(setting::set_ward(store, WARD, ward_id, overrides, by, now).await?)
}

/// The admission's (patient's) overrides, if any were set.
pub async fn of_admission(
    store: &Store,
    admission_id: Uuid,
) -> Result<Option<StoredOverrides>, StoreError> {
    let row: Option<Row> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT overrides, updated_at, updated_by FROM admission_thresholds \
             WHERE admission_id = $1",
        )
        .bind(admission_id.to_string())
        .fetch_optional(pool)
        .await?
    });
    row.map(from_row).transpose()
}

/// Replaces an open admission's overrides; [`WardConflict::AdmissionClosed`] once the patient
/// has left (the condition is part of the write, so a discharge cannot slip in between).
pub async fn set_admission(
    store: &Store,
    admission_id: Uuid,
    overrides: &ThresholdOverrides,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<StoredOverrides, WardError> {
    let json = to_json(overrides)?;
    let row: Option<Row> = with_writer!(store, pool => {
        sqlx::query_as(
            "INSERT INTO admission_thresholds (admission_id, overrides, updated_at, updated_by) \
             SELECT id, $2, $3, $4 FROM admissions WHERE id = $1 AND discharged_at IS NULL \
             ON CONFLICT (admission_id) DO UPDATE SET overrides = excluded.overrides, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by \
             RETURNING overrides, updated_at, updated_by",
        )
        .bind(admission_id.to_string())
        .bind(&json)
        .bind(stored(now))
        .bind(by.map(|b| b.to_string()))
        .fetch_optional(pool)
        .await?
    });
    match row {
        Some(row) => Ok(from_row(row)?),
        None => match super::admissions::get(store, admission_id).await? {
            Some(_) => Err(WardConflict::AdmissionClosed.into()),
            None => Err(WardError::NotFound("admission")),
        },
    }
}

/// The overrides of the ward's open admissions that have any, by admission id (to check a new
/// ward setting against every patient's).
pub async fn of_open_admissions_in_ward(
    store: &Store,
    ward_id: Uuid,
) -> Result<Vec<(Uuid, ThresholdOverrides)>, StoreError> {
    let rows: Vec<(String, String)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT t.admission_id, t.overrides FROM admission_thresholds t \
             JOIN admissions a ON a.id = t.admission_id \
             WHERE a.ward_id = $1 AND a.discharged_at IS NULL ORDER BY t.admission_id",
        )
        .bind(ward_id.to_string())
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(a, json)| Ok((id(&a)?, from_json(&json)?)))
        .collect()
}

/// SQL that copies the patient's overrides from admission `$1` to admission `$2` (a transfer).
pub(crate) const COPY_ON_TRANSFER_SQL: &str = "INSERT INTO admission_thresholds (admission_id, overrides, updated_at, updated_by) \
     SELECT $2, overrides, updated_at, updated_by FROM admission_thresholds \
     WHERE admission_id = $1";
