//! Ward monitoring's home in the database: rooms and beds, admissions (with transfers,
//! discharge, notes, case history and the medication plan), device binding, vital samples,
//! alarms with their escalation, and the ward event log the live streams replay from.
//!
//! The rules hold for any number of server instances: a bed label is unique per ward, a bed
//! and a patient each hold at most one open admission, a sample is stored once per
//! (device, kind, measured_at), at most one alarm per (admission or bed, kind) is open, and an
//! alarm only moves `active → acknowledged → resolved` (or straight to resolved). All of these
//! are constraints, partial unique indexes or triggers in `migrations/*/0006_ward.sql`; callers
//! get a [`WardConflict`] when one refuses a write, never a raw database error.
//!
//! Every change a nurse station must see writes its [`events`] row in the same transaction,
//! so a stream that replays from the log after `Last-Event-ID` misses nothing.
//!
//! Samples arrive as many small batches; [`SampleWriter`] groups them into one commit each
//! (like the booking writer), answering each device only after that commit.

/// Commits `$tx` if `$done` is `Ok`, rolls it back otherwise (at once, rather than when the
/// connection is next used); evaluates to `$done`.
macro_rules! finish {
    ($tx:ident, $done:expr) => {
        match $done {
            Ok(done) => {
                $tx.commit().await?;
                Ok(done)
            }
            Err(e) => {
                $tx.rollback().await?;
                Err(e)
            }
        }
    };
}
pub mod admissions;
pub mod alarms;
mod batch;
pub mod beds;
pub mod context;
pub mod escalation;
pub mod events;
mod ingest;
mod leased;
pub mod medication;
pub mod news2;
pub mod push;
pub mod rollups;
pub mod samples;
mod setting;
pub mod thresholds;
pub mod webhooks;

pub use batch::SampleWriter;

use chrono::{DateTime, SubsecRound, TimeZone, Utc};

use crate::StoreError;

/// A ward rule refused the write; each maps to a 409 with the same code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WardConflict {
    #[error("this ward already has a bed with that label")]
    BedLabelTaken,
    #[error("the bed is occupied")]
    BedOccupied,
    #[error("the patient is already admitted")]
    PatientAlreadyAdmitted,
    #[error("the admission is already closed")]
    AdmissionClosed,
    #[error("the device is already bound to a bed")]
    DeviceAlreadyBound,
    #[error("this QR code is already used by another medicine")]
    QrCodeTaken,
    #[error("this medicine was already delivered in this round")]
    AlreadyDelivered,
    #[error("the alarm is already acknowledged")]
    AlarmAlreadyAcknowledged,
    #[error("the alarm is already resolved")]
    AlarmAlreadyResolved,
    #[error("the alarm cannot move from its current status to the requested one")]
    IllegalAlarmTransition,
    #[error("resolving an alarm needs a note of the action taken")]
    NoteRequired,
    #[error("the action note may be at most 2000 characters")]
    NoteTooLong,
    #[error("another worker holds this escalation, or the alarm changed meanwhile")]
    EscalationClaimLost,
}

impl WardConflict {
    pub fn code(self) -> &'static str {
        match self {
            WardConflict::BedLabelTaken => "bed_label_taken",
            WardConflict::BedOccupied => "bed_occupied",
            WardConflict::PatientAlreadyAdmitted => "patient_already_admitted",
            WardConflict::AdmissionClosed => "admission_closed",
            WardConflict::DeviceAlreadyBound => "device_already_bound",
            WardConflict::QrCodeTaken => "qr_code_taken",
            WardConflict::AlreadyDelivered => "already_delivered",
            WardConflict::AlarmAlreadyAcknowledged => "already_acknowledged",
            WardConflict::AlarmAlreadyResolved => "already_resolved",
            WardConflict::IllegalAlarmTransition => "illegal_transition",
            WardConflict::NoteRequired => "note_required",
            WardConflict::NoteTooLong => "note_too_long",
            WardConflict::EscalationClaimLost => "escalation_claim_lost",
        }
    }
}

/// What a ward write can fail with.
#[derive(Debug, thiserror::Error)]
pub enum WardError {
    #[error(transparent)]
    Conflict(#[from] WardConflict),
    /// The named thing (`"bed"`, `"admission"`, `"alarm"`, …) does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for WardError {
    fn from(e: sqlx::Error) -> Self {
        classify(StoreError::from(e))
    }
}

/// Maps the constraints named in the migrations to the rule they protect. PostgreSQL reports
/// the constraint's name; SQLite names the columns of a unique index (`table.column`), the
/// name of a CHECK, or the trigger's RAISE message.
pub(crate) fn classify(e: StoreError) -> WardError {
    let rules: [(&[&str], WardConflict); 9] = [
        (
            &["beds_label_per_ward", "beds.ward_id, beds.label"],
            WardConflict::BedLabelTaken,
        ),
        (
            &["admissions_one_open_per_bed", "admissions.bed_id"],
            WardConflict::BedOccupied,
        ),
        (
            &["admissions_one_open_per_patient", "admissions.patient_id"],
            WardConflict::PatientAlreadyAdmitted,
        ),
        (
            &["device_beds_one_open_per_device", "device_beds.device_id"],
            WardConflict::DeviceAlreadyBound,
        ),
        (
            &["medications_qr_code_unique", "medications.qr_code"],
            WardConflict::QrCodeTaken,
        ),
        (
            &["alarms_illegal_transition"],
            WardConflict::IllegalAlarmTransition,
        ),
        (
            &["alarms_resolution_note_required"],
            WardConflict::NoteRequired,
        ),
        (&["alarms_note_length"], WardConflict::NoteTooLong),
        (
            &["alarms_open_per_admission", "alarms_open_per_bed"],
            // Only reachable by a write that bypasses `raise`'s ON CONFLICT: treat as illegal.
            WardConflict::IllegalAlarmTransition,
        ),
    ];
    for (names, conflict) in rules {
        if names.iter().any(|n| e.is_constraint(n)) {
            return conflict.into();
        }
    }
    WardError::Store(e)
}

/// Stored timestamps keep microseconds (PostgreSQL's precision), so values read back equal
/// the values written on both backends.
/// A stored code (`"nurse_call"`, `"high"`, …) parsed back into its domain type; a code the
/// type does not know is a decode error (the schema's CHECKs keep them out).
pub(crate) fn decode<T: std::str::FromStr>(code: &str) -> Result<T, StoreError>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    code.parse()
        .map_err(|e| StoreError::Other(sqlx::Error::Decode(Box::new(e))))
}

pub(crate) fn stored(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// Deletes up to `limit` of the oldest rows of a time-keyed table whose `time` (Unix
/// microseconds) is before `cutoff`: retention sweeps go in bounded steps so that one sweep
/// never holds the writer for long. `table`, `key` and `time` are schema names from callers in
/// this crate, never input.
pub(crate) async fn delete_oldest(
    store: &crate::Store,
    table: &'static str,
    key: &'static str,
    time: &'static str,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<u64, crate::StoreError> {
    let sql = format!(
        "DELETE FROM {table} WHERE ({key}) IN \
         (SELECT {key} FROM {table} WHERE {time} < $1 ORDER BY {time} LIMIT $2)"
    );
    let n = crate::with_writer!(store, pool => {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(micros(cutoff))
            .bind(i64::from(limit))
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n)
}

/// Sample times are Unix microseconds in the database.
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_micros(us: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(us)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}
