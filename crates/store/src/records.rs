//! Medical records: one per visit, amended by adding versions, never rewritten or deleted.
//!
//! This module stores and returns *sealed* text (encrypted by the server's record vault before
//! it gets here); it never sees plaintext and has no keys. What it guarantees: a record exists
//! only for a completed visit, a visit has at most one record (a conditional insert on the
//! partial unique index), an amendment applies only to the version its author read (a
//! conditional UPDATE), and versions are immutable (database triggers). It also answers the
//! care-relationship question the authorisation rules need.

pub mod keys;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::accounts::{id, opt_id};
use crate::{Store, StoreError, with_reader, with_writer};

/// Why a record write was refused.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the visit is not completed")]
    VisitNotCompleted,
    #[error("the visit already has a record")]
    RecordExists,
    #[error("the record was amended meanwhile")]
    Stale,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RecordError {
    fn from(e: sqlx::Error) -> Self {
        RecordError::Store(e.into())
    }
}

/// The record's header: whose, where, by whom, which visit, which version is current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedicalRecord {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub patient_id: Uuid,
    pub doctor_id: Uuid,
    /// The treating doctor's account: the only one that may amend the record.
    pub author_id: Uuid,
    pub appointment_id: Option<Uuid>,
    /// A reception check-in as the visit (once check-ins exist).
    pub check_in_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One version of a record's content, with its text fields sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedVersion {
    pub version: i32,
    pub treatment_date: NaiveDate,
    pub description: String,
    /// A sealed JSON array; `None` when no codes were given.
    pub diagnosis_codes: Option<String>,
    pub treatment_plan: Option<String>,
    pub doctor_comment: Option<String>,
    pub written_by: Uuid,
    pub written_at: DateTime<Utc>,
}

/// A record to write for a completed appointment.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub patient_id: Uuid,
    pub doctor_id: Uuid,
    pub author_id: Uuid,
    pub visit: Visit,
    /// Version 1.
    pub content: SealedVersion,
}

/// The visit a record is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// A booked appointment (completed).
    Appointment(Uuid),
    /// A walk-in check-in at reception (completed).
    CheckIn(Uuid),
}

/// A walk-in visit's facts a record needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkIn {
    pub hospital_id: Uuid,
    pub patient_id: Uuid,
    /// The doctor who called the patient in (or the one the visit waited for).
    pub doctor_id: Option<Uuid>,
    pub status: String,
}

/// A reception visit as a record sees it.
pub async fn walk_in(store: &Store, visit_id: Uuid) -> Result<Option<WalkIn>, StoreError> {
    let row: Option<(String, String, Option<String>, String)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT hospital_id, patient_id, COALESCE(called_by, doctor_id), status \
             FROM reception_visits WHERE id = $1",
        )
        .bind(visit_id.to_string())
        .fetch_optional(pool)
        .await?
    });
    row.map(|(hospital, patient, doctor, status)| {
        Ok(WalkIn {
            hospital_id: id(&hospital)?,
            patient_id: id(&patient)?,
            doctor_id: opt_id(doctor.as_deref())?,
            status,
        })
    })
    .transpose()
}

const RECORD_COLUMNS: &str = "r.id, r.hospital_id, r.patient_id, r.doctor_id, r.author_id, \
     r.appointment_id, r.check_in_id, r.version, r.created_at, r.updated_at";
/// The current version's columns beside a record's (its number is the record's `version`).
const JOINED_COLUMNS: &str = "v.treatment_date, v.description, v.diagnosis_codes, \
     v.treatment_plan, v.doctor_comment, v.written_by, v.written_at";
const VERSION_COLUMNS: &str = "v.version, v.treatment_date, v.description, v.diagnosis_codes, \
     v.treatment_plan, v.doctor_comment, v.written_by, v.written_at";

type RecordRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i32,
    DateTime<Utc>,
    DateTime<Utc>,
);
type VersionRow = (
    i32,
    NaiveDate,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    DateTime<Utc>,
);

fn record_from(row: RecordRow) -> Result<MedicalRecord, StoreError> {
    let (rid, hospital, patient, doctor, author, appointment, check_in, version, created, updated) =
        row;
    Ok(MedicalRecord {
        id: id(&rid)?,
        hospital_id: id(&hospital)?,
        patient_id: id(&patient)?,
        doctor_id: id(&doctor)?,
        author_id: id(&author)?,
        appointment_id: opt_id(appointment.as_deref())?,
        check_in_id: opt_id(check_in.as_deref())?,
        version,
        created_at: created,
        updated_at: updated,
    })
}

fn version_from(row: VersionRow) -> Result<SealedVersion, StoreError> {
    let (version, treatment_date, description, codes, plan, comment, by, at) = row;
    Ok(SealedVersion {
        version,
        treatment_date,
        description,
        diagnosis_codes: codes,
        treatment_plan: plan,
        doctor_comment: comment,
        written_by: id(&by)?,
        written_at: at,
    })
}

/// Inserts one version row on `$conn`; evaluates to `Result<(), sqlx::Error>`.
macro_rules! insert_version {
    ($conn:expr, $record:expr, $v:expr) => {
        sqlx::query(
            "INSERT INTO medical_record_versions (record_id, version, treatment_date, description, \
             diagnosis_codes, treatment_plan, doctor_comment, written_by, written_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind($record.to_string())
        .bind($v.version)
        .bind($v.treatment_date)
        .bind(&$v.description)
        .bind(&$v.diagnosis_codes)
        .bind(&$v.treatment_plan)
        .bind(&$v.doctor_comment)
        .bind($v.written_by.to_string())
        .bind($v.written_at)
        .execute(&mut *$conn)
    };
}

/// Writes a record for a completed appointment. Refused if the appointment is not completed
/// or already has a record; nothing is written then.
pub async fn create(store: &Store, new: &NewRecord) -> Result<MedicalRecord, RecordError> {
    let at = crate::ward::stored(new.content.written_at);
    let mut content = new.content.clone();
    content.written_at = at;
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let (status_sql, insert_sql, visit_id) = match new.visit {
            Visit::Appointment(v) => (
                "SELECT status FROM appointments WHERE id = $1",
                "INSERT INTO medical_records (id, hospital_id, patient_id, doctor_id, author_id, \
                 appointment_id, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) \
                 ON CONFLICT (appointment_id) WHERE appointment_id IS NOT NULL DO NOTHING RETURNING id",
                v,
            ),
            Visit::CheckIn(v) => (
                "SELECT status FROM reception_visits WHERE id = $1",
                "INSERT INTO medical_records (id, hospital_id, patient_id, doctor_id, author_id, \
                 check_in_id, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) \
                 ON CONFLICT (check_in_id) WHERE check_in_id IS NOT NULL DO NOTHING RETURNING id",
                v,
            ),
        };
        let status: Option<String> = sqlx::query_scalar(status_sql)
            .bind(visit_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        match status.as_deref() {
            None => return Err(RecordError::NotFound),
            Some("completed") => {}
            Some(_) => return Err(RecordError::VisitNotCompleted),
        }
        // The partial unique index decides: no row back means the visit has its record.
        let inserted: Option<String> = sqlx::query_scalar(insert_sql)
        .bind(new.id.to_string())
        .bind(new.hospital_id.to_string())
        .bind(new.patient_id.to_string())
        .bind(new.doctor_id.to_string())
        .bind(new.author_id.to_string())
        .bind(visit_id.to_string())
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            return Err(RecordError::RecordExists);
        }
        insert_version!(tx, new.id, content).await?;
        tx.commit().await?;
    });
    Ok(MedicalRecord {
        id: new.id,
        hospital_id: new.hospital_id,
        patient_id: new.patient_id,
        doctor_id: new.doctor_id,
        author_id: new.author_id,
        appointment_id: match new.visit {
            Visit::Appointment(v) => Some(v),
            Visit::CheckIn(_) => None,
        },
        check_in_id: match new.visit {
            Visit::CheckIn(v) => Some(v),
            Visit::Appointment(_) => None,
        },
        version: 1,
        created_at: at,
        updated_at: at,
    })
}

/// Adds `content` as the next version, if the current version is still `content.version - 1`
/// (else [`RecordError::Stale`]: someone amended it in between). Earlier versions stay.
pub async fn amend(
    store: &Store,
    record_id: Uuid,
    content: &SealedVersion,
) -> Result<MedicalRecord, RecordError> {
    let mut content = content.clone();
    content.written_at = crate::ward::stored(content.written_at);
    let sql = format!(
        "UPDATE medical_records SET version = $1, updated_at = $2 \
         WHERE id = $3 AND version = $4 RETURNING {}",
        RECORD_COLUMNS.replace("r.", "")
    );
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let row: Option<RecordRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(content.version)
            .bind(content.written_at)
            .bind(record_id.to_string())
            .bind(content.version - 1)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            let exists: Option<i32> =
                sqlx::query_scalar("SELECT version FROM medical_records WHERE id = $1")
                    .bind(record_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(if exists.is_some() { RecordError::Stale } else { RecordError::NotFound });
        };
        insert_version!(tx, record_id, content).await?;
        tx.commit().await?;
        Ok(record_from(row)?)
    })
}

/// A record with its current version.
pub async fn get(
    store: &Store,
    record_id: Uuid,
) -> Result<Option<(MedicalRecord, SealedVersion)>, StoreError> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS}, {JOINED_COLUMNS} FROM medical_records r \
         JOIN medical_record_versions v ON v.record_id = r.id AND v.version = r.version \
         WHERE r.id = $1"
    );
    let row: Option<(RecordRow, VersionRow)> = with_reader!(store, pool => {
        sqlx::query_as::<_, FlatRow>(sqlx::AssertSqlSafe(sql))
            .bind(record_id.to_string())
            .fetch_optional(pool)
            .await?
            .map(split)
    });
    row.map(|(r, v)| Ok((record_from(r)?, version_from(v)?)))
        .transpose()
}

/// Every version of a record, oldest first.
pub async fn versions(store: &Store, record_id: Uuid) -> Result<Vec<SealedVersion>, StoreError> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM medical_record_versions v WHERE v.record_id = $1 \
         ORDER BY v.version"
    );
    let rows: Vec<VersionRow> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(record_id.to_string())
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(version_from).collect()
}

/// A patient's records (with their current versions), newest first; only those written at
/// `hospital` if given.
pub async fn of_patient(
    store: &Store,
    patient_id: Uuid,
    hospital: Option<Uuid>,
) -> Result<Vec<(MedicalRecord, SealedVersion)>, StoreError> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS}, {JOINED_COLUMNS} FROM medical_records r \
         JOIN medical_record_versions v ON v.record_id = r.id AND v.version = r.version \
         WHERE r.patient_id = $1 AND ($2 IS NULL OR r.hospital_id = $2) ORDER BY r.id DESC"
    );
    let rows: Vec<FlatRow> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(patient_id.to_string())
            .bind(hospital.map(|h| h.to_string()))
            .fetch_all(pool)
            .await?
    });
    rows.into_iter()
        .map(split)
        .map(|(r, v)| Ok((record_from(r)?, version_from(v)?)))
        .collect()
}

/// The record written for an appointment, if any.
pub async fn of_appointment(
    store: &Store,
    appointment_id: Uuid,
) -> Result<Option<Uuid>, StoreError> {
    let found: Option<String> = with_reader!(store, pool => {
        sqlx::query_scalar("SELECT id FROM medical_records WHERE appointment_id = $1")
            .bind(appointment_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    opt_id(found.as_deref())
}

/// Whether the doctor with account `doctor_user` has a care relationship with `patient` at
/// `hospital`: an appointment with them there that was not denied or cancelled (past, present
/// or coming), a walk-in visit they called in, or an open admission of the patient to one of the hospital's wards.
pub async fn care_relationship(
    store: &Store,
    doctor_user: Uuid,
    hospital: Uuid,
    patient: Uuid,
) -> Result<bool, StoreError> {
    let found: Option<i32> = with_reader!(store, pool => {
        sqlx::query_scalar(
            "SELECT 1 FROM appointments a JOIN doctors d ON d.id = a.doctor_id \
             WHERE d.user_id = $1 AND a.hospital_id = $2 AND a.patient_id = $3 \
               AND a.status IN ('requested', 'booked', 'checked_in', 'completed') \
             UNION ALL \
             SELECT 1 FROM reception_visits rv JOIN doctors d ON d.id = COALESCE(rv.called_by, rv.doctor_id) \
             WHERE d.user_id = $1 AND rv.hospital_id = $2 AND rv.patient_id = $3 \
               AND rv.status IN ('called', 'in_consultation', 'completed') \
             UNION ALL \
             SELECT 1 FROM admissions ad JOIN wards w ON w.id = ad.ward_id \
             WHERE w.hospital_id = $2 AND ad.patient_id = $3 AND ad.discharged_at IS NULL \
             LIMIT 1",
        )
        .bind(doctor_user.to_string())
        .bind(hospital.to_string())
        .bind(patient.to_string())
        .fetch_optional(pool)
        .await?
    });
    Ok(found.is_some())
}

#[derive(sqlx::FromRow)]
struct FlatRow {
    id: String,
    hospital_id: String,
    patient_id: String,
    doctor_id: String,
    author_id: String,
    appointment_id: Option<String>,
    check_in_id: Option<String>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    treatment_date: NaiveDate,
    description: String,
    diagnosis_codes: Option<String>,
    treatment_plan: Option<String>,
    doctor_comment: Option<String>,
    written_by: String,
    written_at: DateTime<Utc>,
}

fn split(f: FlatRow) -> (RecordRow, VersionRow) {
    (
        (
            f.id,
            f.hospital_id,
            f.patient_id,
            f.doctor_id,
            f.author_id,
            f.appointment_id,
            f.check_in_id,
            f.version,
            f.created_at,
            f.updated_at,
        ),
        (
            f.version,
            f.treatment_date,
            f.description,
            f.diagnosis_codes,
            f.treatment_plan,
            f.doctor_comment,
            f.written_by,
            f.written_at,
        ),
    )
}
