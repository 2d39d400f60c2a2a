//! Admissions: a patient's stay in a bed, from admission to discharge or transfer, with the
//! urgency level, notes and case-history entries the ward keeps about it.
//!
//! A bed holds at most one open admission and a patient at most one (partial unique indexes);
//! a transfer closes one admission and opens the next in one transaction, so the patient is
//! never in two beds and never in none. Closing an admission resolves its open alarms (by the
//! system, with the reason as note) so nothing escalates for a patient who has left.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::events::{EventKind, NewEvent, append_events};
use super::{WardConflict, WardError, stored};
use crate::accounts::{id, opt_id};
use crate::{Store, StoreError, with_reader, with_writer};

/// The most urgent level; 0 is routine.
pub const MAX_URGENCY: u8 = 3;

/// An admission as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub id: Uuid,
    pub ward_id: Uuid,
    pub bed_id: Uuid,
    pub patient_id: Uuid,
    pub admitted_at: DateTime<Utc>,
    pub discharged_at: Option<DateTime<Utc>>,
    /// `discharged` or `transferred`, once closed.
    pub discharge_reason: Option<String>,
    pub transferred_from: Option<Uuid>,
    /// 0 routine … [`MAX_URGENCY`].
    pub urgency: u8,
    pub notes: String,
}

impl Admission {
    pub fn is_open(&self) -> bool {
        self.discharged_at.is_none()
    }
}

pub(crate) const COLUMNS: &str = "id, ward_id, bed_id, patient_id, admitted_at, discharged_at, \
     discharge_reason, transferred_from, urgency, notes";

type Row = (
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
    i32,
    String,
);

pub(crate) fn from_row(row: Row) -> Result<Admission, StoreError> {
    let (aid, ward, bed, patient, admitted_at, discharged_at, reason, from, urgency, notes) = row;
    Ok(Admission {
        id: id(&aid)?,
        ward_id: id(&ward)?,
        bed_id: id(&bed)?,
        patient_id: id(&patient)?,
        admitted_at,
        discharged_at,
        discharge_reason: reason,
        transferred_from: opt_id(from.as_deref())?,
        urgency: u8::try_from(urgency).unwrap_or(0),
        notes,
    })
}

fn admission_event(a: &Admission, what: &str, at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        ward_id: a.ward_id,
        patient_id: Some(a.patient_id),
        kind: EventKind::Admission,
        payload: serde_json::json!({
            "what": what,
            "admission_id": a.id,
            "bed_id": a.bed_id,
            "patient_id": a.patient_id,
            "urgency": a.urgency,
        }),
        at,
    }
}

/// Opens an admission on `$conn` inside a transaction; evaluates to
/// `Result<Admission, WardError>`. `$from` is the admission transferred from, if any.
macro_rules! open_one {
    ($conn:expr, $patient:expr, $bed:expr, $urgency:expr, $notes:expr, $from:expr, $now:expr) => {
        async {
            let admission_id = uuid::Uuid::now_v7();
            let sql = format!(
                "INSERT INTO admissions (id, ward_id, bed_id, patient_id, admitted_at, urgency, \
                 notes, transferred_from) \
                 SELECT $1, ward_id, id, $3, $4, $5, $6, $7 FROM beds WHERE id = $2 RETURNING {}",
                $crate::ward::admissions::COLUMNS
            );
            let row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(admission_id.to_string())
                .bind($bed.to_string())
                .bind($patient.to_string())
                .bind($now)
                .bind(i32::from($urgency))
                .bind($notes)
                .bind($from.map(|f: uuid::Uuid| f.to_string()))
                .fetch_optional(&mut *$conn)
                .await?;
            match row {
                Some(row) => Ok::<_, $crate::ward::WardError>($crate::ward::admissions::from_row(
                    row,
                )?),
                None => Err($crate::ward::WardError::NotFound("bed")),
            }
        }
    };
}

/// Closes an open admission on `$conn`; evaluates to `Result<(Admission, Vec<String>),
/// WardError>`: the closed admission and the ids of the alarms it resolved.
macro_rules! close_one {
    ($conn:expr, $admission:expr, $reason:expr, $now:expr) => {
        async {
            let sql = format!(
                "UPDATE admissions SET discharged_at = $2, discharge_reason = $3 \
                 WHERE id = $1 AND discharged_at IS NULL RETURNING {}",
                $crate::ward::admissions::COLUMNS
            );
            let row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind($admission.to_string())
                .bind($now)
                .bind($reason)
                .fetch_optional(&mut *$conn)
                .await?;
            let Some(row) = row else {
                let exists: Option<i32> =
                    sqlx::query_scalar("SELECT 1 FROM admissions WHERE id = $1")
                        .bind($admission.to_string())
                        .fetch_optional(&mut *$conn)
                        .await?;
                return Err(match exists {
                    Some(_) => $crate::ward::WardConflict::AdmissionClosed.into(),
                    None => $crate::ward::WardError::NotFound("admission"),
                });
            };
            let closed = $crate::ward::admissions::from_row(row)?;
            let resolved: Vec<String> = sqlx::query_scalar(
                "UPDATE alarms SET status = 'resolved', resolved_at = $2, resolution_note = $3, \
                 next_escalation_at = NULL, escalation_claim = NULL, \
                 escalation_claimed_until = NULL, updated_at = $2 \
                 WHERE admission_id = $1 AND status IN ('active', 'acknowledged') RETURNING id",
            )
            .bind($admission.to_string())
            .bind($now)
            .bind($reason)
            .fetch_all(&mut *$conn)
            .await?;
            Ok::<_, $crate::ward::WardError>((closed, resolved))
        }
    };
}

/// A new admission.
#[derive(Debug, Clone)]
pub struct NewAdmission {
    pub patient_id: Uuid,
    pub bed_id: Uuid,
    pub urgency: u8,
    pub notes: String,
    pub now: DateTime<Utc>,
}

/// Admits a patient to a bed. Refused with [`WardConflict::BedOccupied`] or
/// [`WardConflict::PatientAlreadyAdmitted`]. Returns the admission and its event id.
pub async fn admit(store: &Store, new: &NewAdmission) -> Result<(Admission, i64), WardError> {
    let now = stored(new.now);
    let postgres = store.dialect() == "postgres";
    let urgency = new.urgency.min(MAX_URGENCY);
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let admission =
                open_one!(tx, new.patient_id, new.bed_id, urgency, &new.notes, None, now).await?;
            let ids = append_events!(tx, postgres, &[admission_event(&admission, "admitted", now)])
                .await?;
            Ok::<_, WardError>((admission, ids[0]))
        }
        .await;
        finish!(tx, done)
    })
}

/// Moves a patient to another bed: closes `admission_id` (reason `transferred`) and opens a new
/// admission on `to_bed` at the same instant, carrying urgency, notes, the medication plan and
/// the patient's alarm threshold overrides over. Open alarms of the old admission are resolved
/// by the system. All or nothing.
pub async fn transfer(
    store: &Store,
    admission_id: Uuid,
    to_bed: Uuid,
    now: DateTime<Utc>,
) -> Result<(Admission, i64), WardError> {
    let now = stored(now);
    let postgres = store.dialect() == "postgres";
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let (old, resolved) = close_one!(tx, admission_id, "transferred", now).await?;
            let new = open_one!(
                tx, old.patient_id, to_bed, old.urgency, &old.notes, Some(old.id), now
            )
            .await?;
            sqlx::query("UPDATE medications SET admission_id = $2, ward_id = $3 WHERE admission_id = $1")
                .bind(old.id.to_string())
                .bind(new.id.to_string())
                .bind(new.ward_id.to_string())
                .execute(&mut *tx)
                .await?;
            // The patient's alarm limits are about the patient, not the bed: they move along.
            sqlx::query(super::thresholds::COPY_ON_TRANSFER_SQL)
                .bind(old.id.to_string())
                .bind(new.id.to_string())
                .execute(&mut *tx)
                .await?;
            let mut events = resolved_events(&old, &resolved, "transferred", now);
            let mut left = admission_event(&old, "transferred_out", now);
            left.payload["to_admission_id"] = serde_json::json!(new.id);
            events.push(left);
            events.push(admission_event(&new, "transferred_in", now));
            let ids = append_events!(tx, postgres, &events).await?;
            Ok::<_, WardError>((new, ids[ids.len() - 1]))
        }
        .await;
        finish!(tx, done)
    })
}

/// Discharges a patient: closes the admission (its open alarms are resolved by the system).
pub async fn discharge(
    store: &Store,
    admission_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(Admission, i64), WardError> {
    let now = stored(now);
    let postgres = store.dialect() == "postgres";
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let (closed, resolved) = close_one!(tx, admission_id, "discharged", now).await?;
            let mut events = resolved_events(&closed, &resolved, "discharged", now);
            events.push(admission_event(&closed, "discharged", now));
            let ids = append_events!(tx, postgres, &events).await?;
            Ok::<_, WardError>((closed, ids[ids.len() - 1]))
        }
        .await;
        finish!(tx, done)
    })
}

fn resolved_events(
    a: &Admission,
    alarm_ids: &[String],
    reason: &str,
    at: DateTime<Utc>,
) -> Vec<NewEvent> {
    alarm_ids
        .iter()
        .map(|alarm| NewEvent {
            ward_id: a.ward_id,
            patient_id: Some(a.patient_id),
            kind: EventKind::AlarmUpdate,
            payload: serde_json::json!({
                "alarm_id": alarm, "status": "resolved", "resolved_by": null, "note": reason,
            }),
            at,
        })
        .collect()
}

pub async fn get(store: &Store, admission_id: Uuid) -> Result<Option<Admission>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM admissions WHERE id = $1");
    let row: Option<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(admission_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(from_row).transpose()
}

/// The open admissions of a ward, most urgent first, then by admission time.
pub async fn open_in_ward(store: &Store, ward_id: Uuid) -> Result<Vec<Admission>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM admissions WHERE ward_id = $1 AND discharged_at IS NULL \
         ORDER BY urgency DESC, admitted_at, id"
    );
    let rows: Vec<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(ward_id.to_string())
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(from_row).collect()
}

/// The patient's open admission, if admitted.
pub async fn open_of_patient(
    store: &Store,
    patient_id: Uuid,
) -> Result<Option<Admission>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM admissions WHERE patient_id = $1 AND discharged_at IS NULL");
    let row: Option<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(patient_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(from_row).transpose()
}

/// The patient's stays (open or closed) that overlap `[from, to)`, oldest first: a transfer
/// closes one stay and opens the next, so a patient's history is the union of these.
pub async fn of_patient_between(
    store: &Store,
    patient_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Admission>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM admissions WHERE patient_id = $1 AND admitted_at < $2 \
         AND (discharged_at IS NULL OR discharged_at > $3) ORDER BY admitted_at, id"
    );
    let rows: Vec<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(patient_id.to_string())
            .bind(stored(to))
            .bind(stored(from))
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(from_row).collect()
}

/// The wards the patient has ever stayed in (a care relationship for reading their history).
pub async fn wards_of_patient(store: &Store, patient_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    let rows: Vec<String> = with_reader!(store, pool => {
        sqlx::query_scalar("SELECT DISTINCT ward_id FROM admissions WHERE patient_id = $1")
            .bind(patient_id.to_string())
            .fetch_all(pool)
            .await?
    });
    rows.iter().map(|w| id(w)).collect()
}

/// The admission that held the bed at `at` (admitted at or before, not yet discharged then).
pub async fn in_bed_at(
    store: &Store,
    bed_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<Admission>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM admissions WHERE bed_id = $1 AND admitted_at <= $2 \
         AND (discharged_at IS NULL OR discharged_at > $2) ORDER BY admitted_at DESC LIMIT 1"
    );
    let row: Option<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(bed_id.to_string())
            .bind(stored(at))
            .fetch_optional(pool)
            .await?
    });
    row.map(from_row).transpose()
}

/// Sets the urgency level of an open admission (clamped to [`MAX_URGENCY`]).
pub async fn set_urgency(store: &Store, admission_id: Uuid, urgency: u8) -> Result<(), WardError> {
    update_open(
        store,
        admission_id,
        "urgency",
        Value::Int(i32::from(urgency.min(MAX_URGENCY))),
    )
    .await
}

/// Replaces the free-text notes of an open admission.
pub async fn set_notes(store: &Store, admission_id: Uuid, notes: &str) -> Result<(), WardError> {
    update_open(store, admission_id, "notes", Value::Text(notes.to_owned())).await
}

enum Value {
    Int(i32),
    Text(String),
}

async fn update_open(
    store: &Store,
    admission_id: Uuid,
    column: &'static str,
    value: Value,
) -> Result<(), WardError> {
    let sql =
        format!("UPDATE admissions SET {column} = $2 WHERE id = $1 AND discharged_at IS NULL");
    let n = with_writer!(store, pool => {
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(admission_id.to_string());
        let q = match value {
            Value::Int(v) => q.bind(v),
            Value::Text(v) => q.bind(v),
        };
        q.execute(pool).await?.rows_affected()
    });
    if n == 1 {
        return Ok(());
    }
    match get(store, admission_id).await? {
        Some(_) => Err(WardConflict::AdmissionClosed.into()),
        None => Err(WardError::NotFound("admission")),
    }
}

/// What an admission entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Note,
    CaseHistory,
}

impl EntryKind {
    pub fn code(self) -> &'static str {
        match self {
            EntryKind::Note => "note",
            EntryKind::CaseHistory => "case_history",
        }
    }

    fn parse(code: &str) -> Option<EntryKind> {
        [EntryKind::Note, EntryKind::CaseHistory]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

/// A note or case-history entry; only ever added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: Uuid,
    pub admission_id: Uuid,
    pub patient_id: Uuid,
    pub kind: EntryKind,
    pub author_id: Option<Uuid>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Adds an entry to an admission (open or closed: history may be written up afterwards).
pub async fn add_entry(
    store: &Store,
    admission_id: Uuid,
    kind: EntryKind,
    author_id: Option<Uuid>,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Entry, WardError> {
    let now = stored(now);
    let entry_id = Uuid::now_v7();
    let patient: Option<String> = with_writer!(store, pool => {
        sqlx::query_scalar(
            "INSERT INTO admission_entries (id, admission_id, patient_id, kind, author_id, body, \
             created_at) SELECT $1, id, patient_id, $3, $4, $5, $6 FROM admissions WHERE id = $2 \
             RETURNING patient_id",
        )
        .bind(entry_id.to_string())
        .bind(admission_id.to_string())
        .bind(kind.code())
        .bind(author_id.map(|a| a.to_string()))
        .bind(body)
        .bind(now)
        .fetch_optional(pool)
        .await?
    });
    let patient = patient.ok_or(WardError::NotFound("admission"))?;
    Ok(Entry {
        id: entry_id,
        admission_id,
        patient_id: id(&patient)?,
        kind,
        author_id,
        body: body.to_owned(),
        created_at: now,
    })
}

/// Every entry about a patient, over all admissions, oldest first.
pub async fn entries_of_patient(store: &Store, patient_id: Uuid) -> Result<Vec<Entry>, StoreError> {
    type EntryRow = (
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        DateTime<Utc>,
    );
    let rows: Vec<EntryRow> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT id, admission_id, patient_id, kind, author_id, body, created_at \
             FROM admission_entries WHERE patient_id = $1 ORDER BY created_at, id",
        )
        .bind(patient_id.to_string())
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(
            |(eid, admission, patient, kind, author, body, created_at)| {
                Ok(Entry {
                    id: id(&eid)?,
                    admission_id: id(&admission)?,
                    patient_id: id(&patient)?,
                    kind: EntryKind::parse(&kind).unwrap_or(EntryKind::Note),
                    author_id: opt_id(author.as_deref())?,
                    body,
                    created_at,
                })
            },
        )
        .collect()
}
