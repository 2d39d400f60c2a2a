//! Visits: checking in (with the day's next waiting number), moving along the status machine,
//! "call next", re-queueing and reassigning, and reading them back.
//!
//! Every write runs in one transaction with its event row (what the lobby board and the
//! patients' live views replay), so a stream that resumes from the log misses nothing.

use chrono::{DateTime, NaiveDate, Utc};
use docde_domain::reception::{NumberPrefix, WaitingNumber};
use uuid::Uuid;

use super::{ReceptionConflict, ReceptionError};
use crate::accounts::{id, opt_id};
use crate::booking::{Appointment, Transition};
use crate::{Store, StoreError, with_reader, with_writer};

/// A check-in to make.
#[derive(Debug, Clone)]
pub struct NewVisit {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department: String,
    /// The hospital's local date now.
    pub day: NaiveDate,
    pub patient_id: Uuid,
    pub doctor_id: Option<Uuid>,
    /// Checking in against a booked appointment: moved to `checked_in` in the same commit.
    pub appointment: Option<Transition>,
    /// Who checked the patient in (the patient, or reception staff).
    pub by: Uuid,
    /// The caller's `Idempotency-Key`: a retry finds this visit by (`by`, key).
    pub idempotency_key: Option<String>,
    pub now: DateTime<Utc>,
}

/// A visit as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department: String,
    pub day: String,
    pub number: i64,
    pub label: String,
    pub queue_order: i64,
    pub patient_id: Uuid,
    pub doctor_id: Option<Uuid>,
    pub appointment_id: Option<Uuid>,
    pub status: String,
    pub calls: i32,
    pub created_at: DateTime<Utc>,
    pub called_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) const COLUMNS: &str = "id, hospital_id, department, day, number, label, queue_order, \
     patient_id, doctor_id, appointment_id, status, calls, created_at, called_at, started_at, \
     finished_at, updated_at";

#[derive(sqlx::FromRow)]
pub(crate) struct VisitRow {
    id: String,
    hospital_id: String,
    department: String,
    day: String,
    number: i64,
    label: String,
    queue_order: i64,
    patient_id: String,
    doctor_id: Option<String>,
    appointment_id: Option<String>,
    status: String,
    calls: i32,
    created_at: DateTime<Utc>,
    called_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl VisitRow {
    pub(crate) fn into_visit(self) -> Result<Visit, StoreError> {
        Ok(Visit {
            id: id(&self.id)?,
            hospital_id: id(&self.hospital_id)?,
            department: self.department,
            day: self.day,
            number: self.number,
            label: self.label,
            queue_order: self.queue_order,
            patient_id: id(&self.patient_id)?,
            doctor_id: opt_id(self.doctor_id.as_deref())?,
            appointment_id: opt_id(self.appointment_id.as_deref())?,
            status: self.status,
            calls: self.calls,
            created_at: self.created_at,
            called_at: self.called_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            updated_at: self.updated_at,
        })
    }
}

/// What a check-in wrote: the visit, its event id, and the appointment it checked in (with
/// that appointment's own event id), if any.
#[derive(Debug, Clone)]
pub struct CheckedIn {
    pub visit: Visit,
    pub event_id: i64,
    pub appointment: Option<(Appointment, i64)>,
}

/// Writes one check-in on `$conn` inside a transaction; evaluates to
/// `Result<CheckedIn, ReceptionError>`. Used by [`check_in`] and by the waiting room's worker.
macro_rules! check_in_one {
    ($conn:expr, $new:expr) => {
        async {
            let new: &$crate::reception::NewVisit = $new;
            let appointment = match &new.appointment {
                Some(t) => Some($crate::booking::appointments::transition_one!($conn, t).await?),
                None => None,
            };
            let day = new.day.to_string();
            let hospital = new.hospital_id.to_string();
            // The day's next number and queue order: the row lock makes concurrent check-ins
            // of one department take turns, and a rollback gives the number back.
            let (number, order): (i64, i64) = sqlx::query_as(
                "INSERT INTO reception_counters (hospital_id, department, day, last_number, last_order) \
                 VALUES ($1, $2, $3, 1, 1) ON CONFLICT (hospital_id, department, day) DO UPDATE \
                 SET last_number = reception_counters.last_number + 1, \
                 last_order = reception_counters.last_order + 1 RETURNING last_number, last_order",
            )
            .bind(&hospital)
            .bind(&new.department)
            .bind(&day)
            .fetch_one(&mut *$conn)
            .await?;
            let prefix: Option<String> = sqlx::query_scalar(
                "SELECT prefix FROM reception_prefixes WHERE hospital_id = $1 AND department = $2",
            )
            .bind(&hospital)
            .bind(&new.department)
            .fetch_optional(&mut *$conn)
            .await?;
            let label = docde_domain::reception::WaitingNumber {
                prefix: prefix.and_then(|p| docde_domain::reception::NumberPrefix::parse(&p).ok()),
                n: u64::try_from(number).unwrap_or(0),
            }
            .to_string();
            let sql = format!(
                "INSERT INTO reception_visits (id, hospital_id, department, day, number, label, \
                 queue_order, patient_id, doctor_id, appointment_id, status, calls, checked_in_by, \
                 idempotency_key, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                 $9, $10, 'waiting', 0, $11, $12, $13, $13) RETURNING {}",
                $crate::reception::visits::COLUMNS
            );
            let row: $crate::reception::visits::VisitRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(new.id.to_string())
                .bind(&hospital)
                .bind(&new.department)
                .bind(&day)
                .bind(number)
                .bind(&label)
                .bind(order)
                .bind(new.patient_id.to_string())
                .bind(new.doctor_id.map(|d| d.to_string()))
                .bind(new.appointment.as_ref().map(|t| t.appointment_id.to_string()))
                .bind(new.by.to_string())
                .bind(new.idempotency_key.as_deref())
                .bind(new.now)
                .fetch_one(&mut *$conn)
                .await?;
            let visit = row.into_visit()?;
            let event_id = $crate::reception::events::append_event!($conn, &visit, new.now).await?;
            Ok::<_, $crate::reception::ReceptionError>($crate::reception::visits::CheckedIn {
                visit,
                event_id,
                appointment,
            })
        }
    };
}
pub(crate) use check_in_one;

/// Checks a patient in: the next waiting number of the department's day, the visit, its
/// event, and the appointment's `checked_in` — all in one commit, or nothing.
pub async fn check_in(store: &Store, new: &NewVisit) -> Result<CheckedIn, ReceptionError> {
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = check_in_one!(tx, new).await;
        finish(tx, done).await
    })
}

pub(crate) async fn finish<DB: sqlx::Database, T>(
    tx: sqlx::Transaction<'_, DB>,
    done: Result<T, ReceptionError>,
) -> Result<T, ReceptionError> {
    match done {
        Ok(done) => {
            tx.commit().await?;
            Ok(done)
        }
        Err(e) => {
            // Roll back now rather than when the connection is next used.
            tx.rollback().await?;
            Err(e)
        }
    }
}

/// A status change (or a recall: `to == from` with `count_call`). `from` and `calls` are what
/// the caller saw and checked; if the row moved on meanwhile the write is refused as
/// [`ReceptionConflict::Stale`] rather than applied blindly.
#[derive(Debug, Clone)]
pub struct VisitChange {
    pub visit_id: Uuid,
    pub from: String,
    pub calls: i32,
    pub to: &'static str,
    /// This change is a call (call, recall): counts it and stamps `called_at`.
    pub count_call: bool,
    /// The doctor now seeing the visit, if known.
    pub doctor_id: Option<Uuid>,
    pub by: Uuid,
    pub now: DateTime<Utc>,
}

/// Applies a [`VisitChange`] with its event. Back to `waiting` means to the back of the line:
/// a fresh queue order from the day's counter.
pub async fn change(store: &Store, c: &VisitChange) -> Result<(Visit, i64), ReceptionError> {
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let order: Option<i64> = if c.to == "waiting" {
                let order: Option<i64> = sqlx::query_scalar(
                    "UPDATE reception_counters SET last_order = last_order + 1 \
                     WHERE (hospital_id, department, day) = \
                     (SELECT hospital_id, department, day FROM reception_visits WHERE id = $1) \
                     RETURNING last_order",
                )
                .bind(c.visit_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                Some(order.ok_or(ReceptionError::NotFound)?)
            } else {
                None
            };
            let sql = format!(
                "UPDATE reception_visits SET status = $1, calls = calls + $2, \
                 queue_order = COALESCE($3, queue_order), \
                 called_at = CASE WHEN $2 > 0 THEN $4 ELSE called_at END, \
                 doctor_id = COALESCE($5, doctor_id), called_by = COALESCE($5, called_by), \
                 started_at = CASE WHEN $1 = 'in_consultation' THEN $4 ELSE started_at END, \
                 finished_at = CASE WHEN $1 IN ('completed', 'cancelled', 'no_show') THEN $4 ELSE finished_at END, \
                 changed_by = $6, updated_at = $4 \
                 WHERE id = $7 AND status = $8 AND calls = $9 RETURNING {COLUMNS}"
            );
            let row: Option<VisitRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(c.to)
                .bind(i32::from(c.count_call))
                .bind(order)
                .bind(c.now)
                .bind(c.doctor_id.map(|d| d.to_string()))
                .bind(c.by.to_string())
                .bind(c.visit_id.to_string())
                .bind(&c.from)
                .bind(c.calls)
                .fetch_optional(&mut *tx)
                .await?;
            let visit = row.ok_or(ReceptionConflict::Stale)?.into_visit()?;
            // A visit made from an appointment ends that appointment the same way, in the
            // same commit (if it is still checked in; staff may have closed it already).
            if let Some(appointment_id) = visit.appointment_id
                && matches!(c.to, "completed" | "no_show")
            {
                let t = Transition {
                    appointment_id,
                    from: "checked_in".into(),
                    to: c.to,
                    reason: None,
                    by: c.by,
                    frees_seat: false,
                    now: c.now,
                    email: None,
                };
                match crate::booking::appointments::transition_one!(tx, &t).await {
                    Ok(_) | Err(crate::booking::BookingError::Conflict(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            let event_id = super::events::append_event!(tx, &visit, c.now).await?;
            Ok((visit, event_id))
        }
        .await;
        finish(tx, done).await
    })
}

/// Assigns a waiting visit to another doctor of its department (or to whoever calls first
/// with `None`), keeping its place in line.
pub async fn reassign(
    store: &Store,
    visit_id: Uuid,
    doctor_id: Option<Uuid>,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(Visit, i64), ReceptionError> {
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let sql = format!(
                "UPDATE reception_visits SET doctor_id = $1, changed_by = $2, updated_at = $3 \
                 WHERE id = $4 AND status = 'waiting' RETURNING {COLUMNS}"
            );
            let row: Option<VisitRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(doctor_id.map(|d| d.to_string()))
                .bind(by.to_string())
                .bind(now)
                .bind(visit_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
            let visit = row.ok_or(ReceptionConflict::IllegalTransition)?.into_visit()?;
            let event_id = super::events::append_event!(tx, &visit, now).await?;
            Ok((visit, event_id))
        }
        .await;
        finish(tx, done).await
    })
}

/// Who presses "call next".
#[derive(Debug, Clone)]
pub struct CallNext {
    pub hospital_id: Uuid,
    pub department: String,
    pub day: NaiveDate,
    /// The calling doctor: takes visits assigned to them or to nobody (and becomes the
    /// visit's doctor). `None` (reception calling for the department) takes anyone's.
    pub doctor_id: Option<Uuid>,
    pub by: Uuid,
    pub now: DateTime<Utc>,
}

/// Atomically takes the first waiting visit of the line for the caller and marks it called;
/// `None` if nobody waits. Two callers never get the same visit: the update is conditional on
/// `status = 'waiting'`, and on PostgreSQL the candidate row is claimed `FOR UPDATE SKIP
/// LOCKED`, so a concurrent caller takes the next one instead of waiting (SQLite has one
/// writer, which serialises callers).
pub async fn call_next(
    store: &Store,
    c: &CallNext,
) -> Result<Option<(Visit, i64)>, ReceptionError> {
    let lock = if store.dialect() == "postgres" {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE reception_visits SET status = 'called', calls = calls + 1, called_at = $5, \
         doctor_id = COALESCE(doctor_id, $4), called_by = COALESCE($4, called_by), \
         changed_by = $6, updated_at = $5 \
         WHERE status = 'waiting' AND id = (SELECT id FROM reception_visits \
         WHERE hospital_id = $1 AND department = $2 AND day = $3 AND status = 'waiting' \
         AND ($4 IS NULL OR doctor_id IS NULL OR doctor_id = $4) \
         ORDER BY queue_order LIMIT 1{lock}) RETURNING {COLUMNS}"
    );
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let row: Option<VisitRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(c.hospital_id.to_string())
                .bind(&c.department)
                .bind(c.day.to_string())
                .bind(c.doctor_id.map(|d| d.to_string()))
                .bind(c.now)
                .bind(c.by.to_string())
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else { return Ok(None) };
            let visit = row.into_visit()?;
            let event_id = super::events::append_event!(tx, &visit, c.now).await?;
            Ok(Some((visit, event_id)))
        }
        .await;
        finish(tx, done).await
    })
}

pub async fn get(store: &Store, visit_id: Uuid) -> Result<Option<Visit>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM reception_visits WHERE id = $1");
    let row: Option<VisitRow> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(visit_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(VisitRow::into_visit).transpose()
}

/// The visit `by` checked in with this idempotency key, if any.
pub async fn by_key(store: &Store, by: Uuid, key: &str) -> Result<Option<Visit>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM reception_visits WHERE checked_in_by = $1 AND idempotency_key = $2"
    );
    let row: Option<VisitRow> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(by.to_string())
            .bind(key)
            .fetch_optional(pool)
            .await?
    });
    row.map(VisitRow::into_visit).transpose()
}

/// A patient's visits from `since_day` on (newest first).
pub async fn of_patient(
    store: &Store,
    patient_id: Uuid,
    since_day: NaiveDate,
) -> Result<Vec<Visit>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM reception_visits WHERE patient_id = $1 AND day >= $2 \
         ORDER BY created_at DESC LIMIT 50"
    );
    let rows: Vec<VisitRow> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(patient_id.to_string())
            .bind(since_day.to_string())
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(VisitRow::into_visit).collect()
}

/// One department's visits of a day in line order (reception's desk view).
pub async fn of_line(
    store: &Store,
    hospital_id: Uuid,
    department: &str,
    day: NaiveDate,
) -> Result<Vec<Visit>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM reception_visits WHERE hospital_id = $1 AND department = $2 \
         AND day = $3 ORDER BY queue_order LIMIT 5000"
    );
    let rows: Vec<VisitRow> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(hospital_id.to_string())
            .bind(department)
            .bind(day.to_string())
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(VisitRow::into_visit).collect()
}

/// Sets (or with `None` removes) a department's number prefix. Numbers already given keep
/// their label.
pub async fn set_prefix(
    store: &Store,
    hospital_id: Uuid,
    department: &str,
    prefix: Option<&NumberPrefix>,
) -> Result<(), StoreError> {
    with_writer!(store, pool => {
        match prefix {
            Some(p) => sqlx::query(
                "INSERT INTO reception_prefixes (hospital_id, department, prefix) VALUES ($1, $2, $3) \
                 ON CONFLICT (hospital_id, department) DO UPDATE SET prefix = excluded.prefix",
            )
            .bind(hospital_id.to_string())
            .bind(department)
            .bind(p.as_str())
            .execute(pool)
            .await?,
            None => sqlx::query(
                "DELETE FROM reception_prefixes WHERE hospital_id = $1 AND department = $2",
            )
            .bind(hospital_id.to_string())
            .bind(department)
            .execute(pool)
            .await?,
        };
    });
    Ok(())
}

/// The label the next check-in would get if it had number `n` (for docs and tests).
pub fn label(prefix: Option<NumberPrefix>, n: u64) -> String {
    WaitingNumber { prefix, n }.to_string()
}

/// People waiting before a waiting visit (0 if it is first or not waiting).
pub async fn ahead_of(store: &Store, visit: &Visit) -> Result<u64, StoreError> {
    let n: i64 = with_reader!(store, pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM reception_visits WHERE hospital_id = $1 AND department = $2 \
             AND day = $3 AND status = 'waiting' AND queue_order < $4",
        )
        .bind(visit.hospital_id.to_string())
        .bind(&visit.department)
        .bind(&visit.day)
        .bind(visit.queue_order)
        .fetch_one(pool)
        .await?
    });
    Ok(u64::try_from(n).unwrap_or(0))
}
