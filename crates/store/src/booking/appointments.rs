//! Appointments: booking a seat, moving along the status machine, rescheduling, and reading.
//!
//! Every write here runs in one transaction with its consequences: the seat count, the event
//! the live channel replays, and the patient's e-mail. Statuses are checked by the caller with
//! docde-domain's state machine *and* by the database trigger, so a bug in one is caught by the
//! other.

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

use super::BookingError;
use crate::accounts::{id, opt_id};
use crate::outbox::Letter;
use crate::{Store, StoreError, with_reader, with_writer};

/// A booking to make.
#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub doctor_id: Uuid,
    pub patient_id: Uuid,
    /// Slot start and end, Unix seconds.
    pub starts_at: i64,
    pub ends_at: i64,
    /// The slot's seats per the schedule (used when the slot's first seat is taken).
    pub capacity: u16,
    /// `booked` (auto-confirm) or `requested` (doctor approval).
    pub status: &'static str,
    pub reason: String,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub rescheduled_from: Option<Uuid>,
    pub now: DateTime<Utc>,
    /// Mailed to the patient in the same commit.
    pub email: Option<Letter>,
    /// The session the booking is asked under, if it is still to be confirmed: the
    /// [`BookingWriter`](super::BookingWriter) checks every such session of a batch with one
    /// read in the batch's own transaction, and refuses the bookings of those that no longer
    /// count ([`BookingError::SessionEnded`]) without writing them. `None` when the caller has
    /// confirmed the session itself, or none applies (staff, the rush queue's worker).
    pub session_id: Option<Uuid>,
}

/// An appointment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub doctor_id: Uuid,
    pub patient_id: Uuid,
    pub starts_at: i64,
    pub ends_at: i64,
    pub status: String,
    pub reason: String,
    pub status_reason: Option<String>,
    pub changed_by: Option<Uuid>,
    pub rescheduled_from: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a booking did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookOutcome {
    /// A new appointment; `event_id` is its entry in the patient's event stream.
    Created {
        appointment: Appointment,
        event_id: i64,
        /// Seats of the slot taken now, this booking included.
        seats_taken: u16,
    },
    /// A retry with a known idempotency key: the first request's appointment, unchanged.
    Replayed(Appointment),
}

impl BookOutcome {
    pub fn appointment(&self) -> &Appointment {
        match self {
            BookOutcome::Created { appointment, .. } | BookOutcome::Replayed(appointment) => {
                appointment
            }
        }
    }
}

/// A status change. `from` is the status the caller saw and checked; if the row moved on
/// meanwhile the write is refused as [`BookingConflict::Stale`] rather than applied blindly.
#[derive(Debug, Clone)]
pub struct Transition {
    pub appointment_id: Uuid,
    pub from: String,
    pub to: &'static str,
    pub reason: Option<String>,
    pub by: Uuid,
    /// Whether `from` held a seat and `to` does not (the seat is given back in the same commit).
    pub frees_seat: bool,
    pub now: DateTime<Utc>,
    /// Mailed to the patient in the same commit.
    pub email: Option<Letter>,
}

pub(crate) const COLUMNS: &str = "id, hospital_id, doctor_id, patient_id, starts_at, ends_at, \
     status, reason, status_reason, changed_by, rescheduled_from, created_at, updated_at";

type Row = (
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
);

pub(crate) fn from_row(row: Row) -> Result<Appointment, StoreError> {
    let (
        aid,
        hospital,
        doctor,
        patient,
        starts_at,
        ends_at,
        status,
        reason,
        status_reason,
        changed_by,
        rescheduled_from,
        created_at,
        updated_at,
    ) = row;
    Ok(Appointment {
        id: id(&aid)?,
        hospital_id: id(&hospital)?,
        doctor_id: id(&doctor)?,
        patient_id: id(&patient)?,
        starts_at,
        ends_at,
        status,
        reason,
        status_reason,
        changed_by: opt_id(changed_by.as_deref())?,
        rescheduled_from: opt_id(rescheduled_from.as_deref())?,
        created_at,
        updated_at,
    })
}

impl NewAppointment {
    pub(crate) fn to_appointment(&self) -> Appointment {
        // As stored: PostgreSQL keeps microseconds, so a replay reads back the same value.
        let now = self.now.trunc_subsecs(6);
        Appointment {
            id: self.id,
            hospital_id: self.hospital_id,
            doctor_id: self.doctor_id,
            patient_id: self.patient_id,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            status: self.status.to_owned(),
            reason: self.reason.clone(),
            status_reason: None,
            changed_by: None,
            rescheduled_from: self.rescheduled_from,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Books `$new` (`&NewAppointment`) on `$conn` (a connection inside a transaction) and
/// evaluates to `Result<BookOutcome, BookingError>`. A macro so the one text is compiled for
/// both backends inside [`with_writer!`]. On `Err` the caller must roll the statements back
/// (to a savepoint, or the whole transaction).
macro_rules! book_one {
    ($conn:expr, $new:expr) => {
        async {
            let new: &$crate::booking::NewAppointment = $new;
            if let Some(key) = &new.idempotency_key {
                let found: Option<(String, Option<String>)> = sqlx::query_as(
                    "SELECT id, request_hash FROM appointments \
                     WHERE patient_id = $1 AND idempotency_key = $2",
                )
                .bind(new.patient_id.to_string())
                .bind(key)
                .fetch_optional(&mut *$conn)
                .await?;
                if let Some((found, hash)) = found {
                    if hash != new.request_hash {
                        return Err($crate::booking::BookingConflict::IdempotencyKeyReused.into());
                    }
                    let sql = format!(
                        "SELECT {} FROM appointments WHERE id = $1",
                        $crate::booking::appointments::COLUMNS
                    );
                    let row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(found)
                        .fetch_one(&mut *$conn)
                        .await?;
                    let appointment = $crate::booking::appointments::from_row(row)?;
                    return Ok($crate::booking::BookOutcome::Replayed(appointment));
                }
            }
            // The seat: taken only while one is free; no row back means the slot is full.
            let taken: Option<i32> = sqlx::query_scalar(
                "INSERT INTO slot_seats (doctor_id, starts_at, ends_at, capacity, taken) \
                 VALUES ($1, $2, $3, $4, 1) \
                 ON CONFLICT (doctor_id, starts_at) DO UPDATE SET taken = slot_seats.taken + 1 \
                 WHERE slot_seats.taken < slot_seats.capacity RETURNING taken",
            )
            .bind(new.doctor_id.to_string())
            .bind(new.starts_at)
            .bind(new.ends_at)
            .bind(i32::from(new.capacity))
            .fetch_optional(&mut *$conn)
            .await?;
            let Some(taken) = taken else {
                return Err($crate::booking::BookingConflict::SlotFull.into());
            };
            sqlx::query(
                "INSERT INTO appointments (id, hospital_id, doctor_id, patient_id, starts_at, \
                 ends_at, status, reason, idempotency_key, request_hash, rescheduled_from, \
                 created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
            )
            .bind(new.id.to_string())
            .bind(new.hospital_id.to_string())
            .bind(new.doctor_id.to_string())
            .bind(new.patient_id.to_string())
            .bind(new.starts_at)
            .bind(new.ends_at)
            .bind(new.status)
            .bind(&new.reason)
            .bind(&new.idempotency_key)
            .bind(&new.request_hash)
            .bind(new.rescheduled_from.map(|r| r.to_string()))
            .bind(chrono::SubsecRound::trunc_subsecs(new.now, 6))
            .execute(&mut *$conn)
            .await?;
            let event_id: i64 = sqlx::query_scalar(
                "INSERT INTO appointment_events (patient_id, appointment_id, status, created_at) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(new.patient_id.to_string())
            .bind(new.id.to_string())
            .bind(new.status)
            .bind(new.now)
            .fetch_one(&mut *$conn)
            .await?;
            if let Some(email) = &new.email {
                $crate::enqueue_letter!(
                    &mut *$conn,
                    email,
                    new.patient_id,
                    uuid::Uuid::now_v7(),
                    new.now
                )
                .await?;
            }
            Ok::<_, $crate::booking::BookingError>($crate::booking::BookOutcome::Created {
                appointment: new.to_appointment(),
                event_id,
                seats_taken: u16::try_from(taken).unwrap_or(u16::MAX),
            })
        }
    };
}
pub(crate) use book_one;

/// Applies a status change on `$conn` inside a transaction; evaluates to
/// `Result<(Appointment, i64), BookingError>` (the updated row and its event id).
macro_rules! transition_one {
    ($conn:expr, $t:expr) => {
        async {
            let t: &$crate::booking::Transition = $t;
            let sql = format!(
                "UPDATE appointments SET status = $1, status_reason = $2, changed_by = $3, \
                 updated_at = $4 WHERE id = $5 AND status = $6 RETURNING {}",
                $crate::booking::appointments::COLUMNS
            );
            let row = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(t.to)
                .bind(&t.reason)
                .bind(t.by.to_string())
                .bind(t.now)
                .bind(t.appointment_id.to_string())
                .bind(&t.from)
                .fetch_optional(&mut *$conn)
                .await?;
            let Some(row) = row else {
                return Err($crate::booking::BookingConflict::Stale.into());
            };
            let appointment = $crate::booking::appointments::from_row(row)?;
            if t.frees_seat {
                sqlx::query(
                    "UPDATE slot_seats SET taken = taken - 1 WHERE doctor_id = $1 AND starts_at = $2",
                )
                .bind(appointment.doctor_id.to_string())
                .bind(appointment.starts_at)
                .execute(&mut *$conn)
                .await?;
            }
            let event_id: i64 = sqlx::query_scalar(
                "INSERT INTO appointment_events (patient_id, appointment_id, status, created_at) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(appointment.patient_id.to_string())
            .bind(appointment.id.to_string())
            .bind(t.to)
            .bind(t.now)
            .fetch_one(&mut *$conn)
            .await?;
            if let Some(email) = &t.email {
                $crate::enqueue_letter!(&mut *$conn, email, appointment.patient_id, uuid::Uuid::now_v7(), t.now).await?;
            }
            Ok::<_, $crate::booking::BookingError>((appointment, event_id))
        }
    };
}

pub(crate) use transition_one;

/// Changes an appointment's status (cancel, confirm, deny, check in, complete, no-show).
pub async fn transition(store: &Store, t: &Transition) -> Result<(Appointment, i64), BookingError> {
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        match transition_one!(tx, t).await {
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
    })
}

/// Moves a booking to another slot atomically: the old one is cancelled and the new one booked
/// in one transaction, so the patient never holds both seats and never neither. On any conflict
/// nothing changes.
pub async fn reschedule(
    store: &Store,
    cancel: &Transition,
    new: &NewAppointment,
) -> Result<(Appointment, i64, BookOutcome), BookingError> {
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let moved = async {
            let (old, event_id) = transition_one!(tx, cancel).await?;
            let outcome = book_one!(tx, new).await?;
            Ok::<_, BookingError>((old, event_id, outcome))
        }
        .await;
        match moved {
            Ok(moved) => {
                tx.commit().await?;
                Ok(moved)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    })
}

/// Which of the (patient, idempotency key) pairs already made an appointment or a rush ticket
/// (a read on a reader connection, for many requests at once). A ticket counts: the
/// appointment booked from it carries no key of its own (the ticket does), and a retry of a
/// queued request whose ticket took the seat must get that ticket back, not `slot_full`. The pairs go in as one JSON array, so every batch size is
/// the same cached statement, and the usual answer — none of them (the losers of a rush
/// retry nothing) — is one counted row; only when some were used are they listed.
pub async fn keys_used_among(
    store: &Store,
    keys: &[(Uuid, String)],
) -> Result<std::collections::HashSet<(Uuid, String)>, StoreError> {
    if keys.is_empty() {
        return Ok(Default::default());
    }
    let json = crate::accounts::json_param(keys)?;
    let (count_sql, list_sql) = match store.backend() {
        crate::Backend::Sqlite { .. } => (KEYS_COUNT_SQLITE, KEYS_LIST_SQLITE),
        crate::Backend::Postgres(_) => (KEYS_COUNT_POSTGRES, KEYS_LIST_POSTGRES),
    };
    let used: i64 = with_reader!(store, pool => {
        sqlx::query_scalar(count_sql).bind(&json).fetch_one(pool).await?
    });
    if used == 0 {
        return Ok(Default::default());
    }
    let rows: Vec<(String, String)> = with_reader!(store, pool => {
        sqlx::query_as(list_sql).bind(&json).fetch_all(pool).await?
    });
    rows.into_iter()
        .map(|(patient, key)| Ok((id(&patient)?, key)))
        .collect()
}

// The JSON array drives the lookups, one per pair in `appointments_idempotency` and in
// `booking_tickets_idempotency` (on PostgreSQL `LATERAL … OFFSET 0`, as in
// `grouped::READ_POSTGRES`, so no table is read whole whatever its statistics).
pub(crate) const KEYS_COUNT_SQLITE: &str = "SELECT \
     (SELECT COUNT(*) FROM json_each($1) j JOIN appointments a \
      ON a.patient_id = json_extract(j.value, '$[0]') \
      AND a.idempotency_key = json_extract(j.value, '$[1]')) + \
     (SELECT COUNT(*) FROM json_each($1) j JOIN booking_tickets t \
      ON t.patient_id = json_extract(j.value, '$[0]') \
      AND t.idempotency_key = json_extract(j.value, '$[1]'))";
const KEYS_LIST_SQLITE: &str = "SELECT a.patient_id, a.idempotency_key \
     FROM json_each($1) j JOIN appointments a ON a.patient_id = json_extract(j.value, '$[0]') \
     AND a.idempotency_key = json_extract(j.value, '$[1]') \
     UNION SELECT t.patient_id, t.idempotency_key \
     FROM json_each($1) j JOIN booking_tickets t ON t.patient_id = json_extract(j.value, '$[0]') \
     AND t.idempotency_key = json_extract(j.value, '$[1]')";
pub(crate) const KEYS_COUNT_POSTGRES: &str = "SELECT COUNT(*) \
     FROM jsonb_array_elements($1::jsonb) j CROSS JOIN LATERAL \
     (SELECT 1 FROM appointments a WHERE a.patient_id = j.value->>0 \
      AND a.idempotency_key = j.value->>1 \
      UNION ALL SELECT 1 FROM booking_tickets t WHERE t.patient_id = j.value->>0 \
      AND t.idempotency_key = j.value->>1 OFFSET 0) used";
const KEYS_LIST_POSTGRES: &str = "SELECT DISTINCT j.value->>0, j.value->>1 \
     FROM jsonb_array_elements($1::jsonb) j CROSS JOIN LATERAL \
     (SELECT 1 FROM appointments a WHERE a.patient_id = j.value->>0 \
      AND a.idempotency_key = j.value->>1 \
      UNION ALL SELECT 1 FROM booking_tickets t WHERE t.patient_id = j.value->>0 \
      AND t.idempotency_key = j.value->>1 OFFSET 0) used";

pub async fn get(store: &Store, appointment_id: Uuid) -> Result<Option<Appointment>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM appointments WHERE id = $1");
    let row = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(appointment_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(from_row).transpose()
}

/// Which appointments to list.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Patient(Uuid),
    Doctor(Uuid),
    Hospital(Uuid),
}

/// Appointments of one owner starting in `[from, to)` (Unix seconds), by start time then id,
/// after the `(starts_at, id)` cursor if given, at most `limit`.
pub async fn list(
    store: &Store,
    owner: Owner,
    from: i64,
    to: i64,
    after: Option<(i64, Uuid)>,
    limit: u32,
) -> Result<Vec<Appointment>, StoreError> {
    let (column, owner_id) = match owner {
        Owner::Patient(p) => ("patient_id", p),
        Owner::Doctor(d) => ("doctor_id", d),
        Owner::Hospital(h) => ("hospital_id", h),
    };
    let (after_start, after_id) = after
        .map(|(s, i)| (s, i.to_string()))
        .unwrap_or((i64::MIN, String::new()));
    let sql = format!(
        "SELECT {COLUMNS} FROM appointments WHERE {column} = $1 AND starts_at >= $2 \
         AND starts_at < $3 AND (starts_at > $4 OR (starts_at = $4 AND id > $5)) \
         ORDER BY starts_at, id LIMIT $6"
    );
    let rows: Vec<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner_id.to_string())
            .bind(from)
            .bind(to)
            .bind(after_start)
            .bind(after_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(from_row).collect()
}

/// One entry of a patient's appointment event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentEvent {
    pub id: i64,
    pub appointment_id: Uuid,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// The patient's events after `after` (exclusive), oldest first.
pub async fn events_after(
    store: &Store,
    patient_id: Uuid,
    after: i64,
    limit: u32,
) -> Result<Vec<AppointmentEvent>, StoreError> {
    let rows: Vec<(i64, String, String, DateTime<Utc>)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT id, appointment_id, status, created_at FROM appointment_events \
             WHERE patient_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(patient_id.to_string())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(eid, appointment, status, created_at)| {
            Ok(AppointmentEvent {
                id: eid,
                appointment_id: id(&appointment)?,
                status,
                created_at,
            })
        })
        .collect()
}

/// Books one appointment in its own transaction (outside the group-commit writer, and so
/// without reading `session_id`: its callers confirm their own sessions).
pub async fn book_now(store: &Store, new: &NewAppointment) -> Result<BookOutcome, BookingError> {
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let outcome = book_one!(tx, new).await;
        match outcome {
            Ok(outcome) => {
                tx.commit().await?;
                Ok(outcome)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    })
}
