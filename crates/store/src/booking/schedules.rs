//! Doctors' schedules as stored: one JSON document per doctor (validated by docde-domain before
//! it gets here) with a version for optimistic concurrency, plus the facts booking needs about
//! the doctor and their hospital.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::accounts::id;
use crate::{Store, StoreError, with_reader, with_writer};

/// A stored schedule document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchedule {
    pub doctor_id: Uuid,
    pub definition: String,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// What booking needs to know about a doctor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookableDoctor {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub user_id: Option<Uuid>,
    pub accepts_online_booking: bool,
    /// IANA zone name of the hospital (`Asia/Seoul` by default).
    pub time_zone: String,
    /// `auto_confirm` or `doctor_approval`.
    pub booking_mode: String,
}

pub async fn get(store: &Store, doctor_id: Uuid) -> Result<Option<StoredSchedule>, StoreError> {
    let row: Option<(String, i64, DateTime<Utc>)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT definition, version, updated_at FROM doctor_schedules WHERE doctor_id = $1",
        )
        .bind(doctor_id.to_string())
        .fetch_optional(pool)
        .await?
    });
    Ok(row.map(|(definition, version, updated_at)| StoredSchedule {
        doctor_id,
        definition,
        version,
        updated_at,
    }))
}

/// Every schedule of a hospital's doctors (for hospital-wide availability).
pub async fn for_hospital(
    store: &Store,
    hospital_id: Uuid,
) -> Result<Vec<StoredSchedule>, StoreError> {
    let rows: Vec<(String, String, i64, DateTime<Utc>)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT s.doctor_id, s.definition, s.version, s.updated_at FROM doctor_schedules s \
             JOIN doctors d ON d.id = s.doctor_id \
             WHERE d.hospital_id = $1 AND d.deleted_at IS NULL ORDER BY s.doctor_id",
        )
        .bind(hospital_id.to_string())
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(doctor, definition, version, updated_at)| {
            Ok(StoredSchedule {
                doctor_id: id(&doctor)?,
                definition,
                version,
                updated_at,
            })
        })
        .collect()
}

/// Writes a schedule if the stored version is still `expected_version` (0 = none yet).
/// Returns the new version, or `None` when someone else changed it first.
pub async fn put(
    store: &Store,
    doctor_id: Uuid,
    definition: &str,
    expected_version: i64,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    let next = expected_version + 1;
    let written = with_writer!(store, pool => {
        if expected_version == 0 {
            sqlx::query(
                "INSERT INTO doctor_schedules (doctor_id, definition, version, updated_at, updated_by) \
                 VALUES ($1, $2, 1, $3, $4) ON CONFLICT (doctor_id) DO NOTHING",
            )
            .bind(doctor_id.to_string())
            .bind(definition)
            .bind(now)
            .bind(by.map(|u| u.to_string()))
            .execute(pool)
            .await?
            .rows_affected()
        } else {
            sqlx::query(
                "UPDATE doctor_schedules SET definition = $2, version = $3, updated_at = $4, \
                 updated_by = $5 WHERE doctor_id = $1 AND version = $6",
            )
            .bind(doctor_id.to_string())
            .bind(definition)
            .bind(next)
            .bind(now)
            .bind(by.map(|u| u.to_string()))
            .bind(expected_version)
            .execute(pool)
            .await?
            .rows_affected()
        }
    });
    Ok((written == 1).then_some(next))
}

/// The doctor (not deleted) with their hospital's booking settings.
pub async fn bookable_doctor(
    store: &Store,
    doctor_id: Uuid,
) -> Result<Option<BookableDoctor>, StoreError> {
    type Row = (String, Option<String>, bool, String, String);
    let row: Option<Row> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT d.hospital_id, d.user_id, d.accepts_online_booking, h.time_zone, h.booking_mode \
             FROM doctors d JOIN hospitals h ON h.id = d.hospital_id \
             WHERE d.id = $1 AND d.deleted_at IS NULL AND h.deleted_at IS NULL",
        )
        .bind(doctor_id.to_string())
        .fetch_optional(pool)
        .await?
    });
    row.map(|(hospital, user, accepts, time_zone, booking_mode)| {
        Ok(BookableDoctor {
            id: doctor_id,
            hospital_id: id(&hospital)?,
            user_id: user.as_deref().map(id).transpose()?,
            accepts_online_booking: accepts,
            time_zone,
            booking_mode,
        })
    })
    .transpose()
}

/// Sets how a hospital confirms bookings (`auto_confirm` or `doctor_approval`).
pub async fn set_booking_mode(
    store: &Store,
    hospital_id: Uuid,
    mode: &str,
) -> Result<bool, StoreError> {
    let n = with_writer!(store, pool => {
        sqlx::query("UPDATE hospitals SET booking_mode = $2 WHERE id = $1 AND deleted_at IS NULL")
            .bind(hospital_id.to_string())
            .bind(mode)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}
