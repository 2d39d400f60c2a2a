//! The rush admission queue's tickets: stored with everything needed to book later, served in
//! `seq` order by [`serve_batch`], each outcome written in the same transaction as its booking.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::appointments::book_one;
use super::grouped::book_group;
use super::{BookOutcome, BookingConflict, BookingError, NewAppointment};
use crate::accounts::id;
use crate::outbox::Letter;
use crate::{Store, StoreError, with_reader, with_writer};

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: Uuid,
    pub seq: i64,
    pub patient_id: Uuid,
    pub appointment_id: Uuid,
    pub doctor_id: Uuid,
    pub done: bool,
    pub outcome_status: Option<i32>,
    pub outcome_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Where a ticket just queued stands: its `seq`, and the highest `seq` served when it was
/// committed (its place in line is the difference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub seq: i64,
    pub served: i64,
}

/// Whether `e` is the refusal of a second ticket for the same patient and idempotency key (a
/// retry). PostgreSQL names the index; SQLite names only its columns.
pub fn is_repeated_key(e: &BookingError) -> bool {
    matches!(e, BookingError::Store(e) if e.is_constraint("booking_tickets_idempotency")
        || e.is_constraint("booking_tickets.patient_id, booking_tickets.idempotency_key"))
}

/// What serving one ticket did (for notifications after the commit).
#[derive(Debug, Clone)]
pub struct Served {
    pub ticket_id: Uuid,
    pub seq: i64,
    pub patient_id: Uuid,
    /// When the request was queued (its 202), for the queue's wait-time histogram.
    pub queued_at: DateTime<Utc>,
    pub outcome: Result<BookOutcome, BookingConflict>,
}

/// The insert that puts a booking in the queue (run by the group-commit writer).
macro_rules! enqueue_one {
    ($conn:expr, $ticket:expr, $new:expr) => {
        async {
            let new: &$crate::booking::NewAppointment = $new;
            // The letter is addressed to the patient when the ticket is served; `email_to` (from
            // tickets written before letters existed) is no longer written or read.
            let (subject, body) = match &new.email {
                Some(e) => (Some(e.subject.as_str()), Some(e.body.as_str())),
                None => (None, None),
            };
            let seq: i64 = sqlx::query_scalar(
                "INSERT INTO booking_tickets (id, patient_id, appointment_id, hospital_id, doctor_id, \
                 starts_at, ends_at, capacity, booking_status, reason, idempotency_key, request_hash, \
                 email_subject, email_body, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'queued', $15) \
                 RETURNING seq",
            )
            .bind($ticket.to_string())
            .bind(new.patient_id.to_string())
            .bind(new.id.to_string())
            .bind(new.hospital_id.to_string())
            .bind(new.doctor_id.to_string())
            .bind(new.starts_at)
            .bind(new.ends_at)
            .bind(i32::from(new.capacity))
            .bind(new.status)
            .bind(&new.reason)
            .bind(&new.idempotency_key)
            .bind(&new.request_hash)
            .bind(subject)
            .bind(body)
            .bind(new.now)
            .fetch_one(&mut *$conn)
            .await?;
            Ok::<i64, $crate::booking::BookingError>(seq)
        }
    };
}
pub(crate) use enqueue_one;

/// The tickets of a whole group in one statement: `$1` is a JSON array of rows in the order
/// their `seq` must follow (see `grouped` for why one statement instead of one per ticket).
pub(crate) const ENQUEUE_SQLITE: &str = "INSERT INTO booking_tickets (id, patient_id, appointment_id, \
     hospital_id, doctor_id, starts_at, ends_at, capacity, booking_status, reason, \
     idempotency_key, request_hash, email_subject, email_body, status, created_at) \
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
     j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9, j.value ->> 10, \
     j.value ->> 11, j.value ->> 12, j.value ->> 13, 'queued', j.value ->> 14 \
     FROM jsonb_each($1) j ORDER BY j.key RETURNING id, seq";
pub(crate) const ENQUEUE_POSTGRES: &str = "INSERT INTO booking_tickets (id, patient_id, appointment_id, \
     hospital_id, doctor_id, starts_at, ends_at, capacity, booking_status, reason, \
     idempotency_key, request_hash, email_subject, email_body, status, created_at) \
     SELECT e ->> 0, e ->> 1, e ->> 2, e ->> 3, e ->> 4, (e ->> 5)::bigint, (e ->> 6)::bigint, \
     (e ->> 7)::int, e ->> 8, e ->> 9, e ->> 10, e ->> 11, e ->> 12, e ->> 13, 'queued', \
     (e ->> 14)::timestamptz FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n) \
     ORDER BY n RETURNING id, seq";

/// One row of [`ENQUEUE_SQLITE`] / [`ENQUEUE_POSTGRES`].
pub(crate) type QueueRow<'a> = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i32,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    String,
);

pub(crate) fn ticket_row<'a>(ticket: Uuid, new: &'a NewAppointment) -> QueueRow<'a> {
    (
        ticket.to_string(),
        new.patient_id.to_string(),
        new.id.to_string(),
        new.hospital_id.to_string(),
        new.doctor_id.to_string(),
        new.starts_at,
        new.ends_at,
        i32::from(new.capacity),
        new.status,
        new.reason.as_str(),
        new.idempotency_key.as_deref(),
        new.request_hash.as_deref(),
        new.email.as_ref().map(|e| e.subject.as_str()),
        new.email.as_ref().map(|e| e.body.as_str()),
        crate::accounts::stamp(new.now),
    )
}

/// Queues every `(ticket id, booking)` of `$tickets` (`&[(Uuid, &NewAppointment)]`), in order,
/// on `$conn` inside the writer's transaction; evaluates to `Result<Vec<i64>, BookingError>`,
/// their `seq`s in the same order. On an error (a repeated idempotency key, say) the caller
/// rolls back to a savepoint and queues them one by one.
macro_rules! enqueue_group {
    ($conn:expr, $postgres:expr, $tickets:expr) => {
        async {
            let tickets: &[(uuid::Uuid, &$crate::booking::NewAppointment)] = $tickets;
            let rows: Vec<_> = tickets
                .iter()
                .map(|(ticket, new)| $crate::booking::tickets::ticket_row(*ticket, new))
                .collect();
            let sql = if $postgres {
                $crate::booking::tickets::ENQUEUE_POSTGRES
            } else {
                $crate::booking::tickets::ENQUEUE_SQLITE
            };
            let stored: Vec<(String, i64)> = sqlx::query_as(sql)
                .bind($crate::accounts::json_param(&rows)?)
                .fetch_all(&mut *$conn)
                .await?;
            let seqs: std::collections::HashMap<String, i64> = stored.into_iter().collect();
            rows.iter()
                .map(|row| {
                    seqs.get(&row.0).copied().ok_or_else(|| {
                        $crate::booking::BookingError::Store($crate::StoreError::Other(
                            sqlx::Error::Protocol("a queued ticket was not returned".into()),
                        ))
                    })
                })
                .collect::<Result<Vec<i64>, $crate::booking::BookingError>>()
        }
    };
}
pub(crate) use enqueue_group;

const TICKET_COLUMNS: &str = "id, seq, patient_id, appointment_id, doctor_id, status, outcome_status, outcome_code, created_at";
type TicketRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<i32>,
    Option<String>,
    DateTime<Utc>,
);

fn ticket(row: TicketRow) -> Result<Ticket, StoreError> {
    let (tid, seq, patient, appointment, doctor, status, outcome_status, outcome_code, created_at) =
        row;
    Ok(Ticket {
        id: id(&tid)?,
        seq,
        patient_id: id(&patient)?,
        appointment_id: id(&appointment)?,
        doctor_id: id(&doctor)?,
        done: status == "done",
        outcome_status,
        outcome_code,
        created_at,
    })
}

pub async fn get(store: &Store, ticket_id: Uuid) -> Result<Option<Ticket>, StoreError> {
    let sql = format!("SELECT {TICKET_COLUMNS} FROM booking_tickets WHERE id = $1");
    let row = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(ticket_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(ticket).transpose()
}

/// A patient's ticket for an idempotency key, if they already have one.
pub async fn by_key(
    store: &Store,
    patient_id: Uuid,
    key: &str,
) -> Result<Option<Ticket>, StoreError> {
    let sql = format!(
        "SELECT {TICKET_COLUMNS} FROM booking_tickets WHERE patient_id = $1 AND idempotency_key = $2"
    );
    let row = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(patient_id.to_string())
            .bind(key)
            .fetch_optional(pool)
            .await?
    });
    row.map(ticket).transpose()
}

/// The highest `seq` served so far (a queued ticket's position is its seq minus this).
pub async fn served(store: &Store) -> Result<i64, StoreError> {
    let n: i64 = with_reader!(store, pool => {
        sqlx::query_scalar("SELECT served FROM booking_queue WHERE id = 1")
            .fetch_one(pool)
            .await?
    });
    Ok(n)
}

/// Tickets still queued.
pub async fn queued(store: &Store) -> Result<i64, StoreError> {
    let n: i64 = with_reader!(store, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM booking_tickets WHERE status = 'queued'")
            .fetch_one(pool)
            .await?
    });
    Ok(n)
}

#[derive(sqlx::FromRow)]
struct QueuedRow {
    seq: i64,
    id: String,
    patient_id: String,
    appointment_id: String,
    hospital_id: String,
    doctor_id: String,
    starts_at: i64,
    ends_at: i64,
    capacity: i32,
    booking_status: String,
    reason: String,
    request_hash: Option<String>,
    email_subject: Option<String>,
    email_body: Option<String>,
    created_at: DateTime<Utc>,
}

/// Marks served tickets done: `$1` is a JSON array of `[seq, outcome status, outcome code]`.
const DONE_SQLITE: &str = "UPDATE booking_tickets SET status = 'done', \
     outcome_status = j.value ->> 1, outcome_code = j.value ->> 2, done_at = $2 \
     FROM jsonb_each($1) j WHERE booking_tickets.seq = j.value ->> 0";
const DONE_POSTGRES: &str = "UPDATE booking_tickets t SET status = 'done', \
     outcome_status = (e ->> 1)::int, outcome_code = e ->> 2, done_at = $2 \
     FROM jsonb_array_elements($1::jsonb) e WHERE t.seq = (e ->> 0)::bigint";

/// Books up to `limit` queued tickets in `seq` order in one transaction and records each
/// outcome; returns what was served (empty when the queue is empty). Several instances may
/// call this at once: on PostgreSQL each claims different tickets (`SKIP LOCKED`); SQLite has
/// one writer.
pub async fn serve_batch(store: &Store, limit: u32) -> Result<Vec<Served>, StoreError> {
    let lock = if store.dialect() == "postgres" {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let claim = format!(
        "SELECT seq, id, patient_id, appointment_id, hospital_id, doctor_id, starts_at, ends_at, \
         capacity, booking_status, reason, request_hash, email_subject, \
         email_body, created_at FROM booking_tickets WHERE status = 'queued' ORDER BY seq LIMIT $1{lock}"
    );
    let postgres = store.dialect() == "postgres";
    let result: Result<Vec<Served>, BookingError> = with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        if postgres {
            // A rush fills the queue faster than autovacuum analyzes it, so the planner
            // believes a few hundred tickets are queued and sorts all of them (20,000: 65 ms,
            // spilling to disk) instead of reading the first `limit` in order from the
            // partial index (1 ms). Without sorting, only that index can give `seq` order.
            sqlx::query("SELECT set_config('enable_sort', 'off', true)")
                .execute(&mut *tx)
                .await?;
        }
        let rows: Vec<QueuedRow> = sqlx::query_as(sqlx::AssertSqlSafe(claim))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        if postgres {
            // The booking statements that follow plan as usual.
            sqlx::query("SELECT set_config('enable_sort', 'on', true)")
                .execute(&mut *tx)
                .await?;
        }
        let mut claimed = Vec::with_capacity(rows.len());
        let mut high = 0_i64;
        for row in rows {
            let QueuedRow { seq, id: tid, patient_id: patient, appointment_id: appointment,
                hospital_id: hospital, doctor_id: doctor, starts_at, ends_at, capacity,
                booking_status: status, reason, request_hash, email_subject,
                email_body, created_at } = row;
            high = high.max(seq);
            let email = match (email_subject, email_body) {
                (Some(subject), Some(body)) => Some(Letter { subject, body }),
                _ => None,
            };
            let new = NewAppointment {
                id: id(&appointment)?,
                hospital_id: id(&hospital)?,
                doctor_id: id(&doctor)?,
                patient_id: id(&patient)?,
                starts_at,
                ends_at,
                capacity: u16::try_from(capacity).unwrap_or(1),
                status: if status == "requested" { "requested" } else { "booked" },
                reason,
                // The ticket itself carries the key; the booking needs none of its own.
                idempotency_key: None,
                request_hash,
                rescheduled_from: None,
                now: created_at,
                email,
                // Confirmed when the ticket was queued: a queued ticket is booked even if
                // its patient has signed out since, as a booking made then would stand.
                session_id: None,
            };
            claimed.push((seq, id(&tid)?, new));
        }
        // In `seq` order, set by set where the batch can be decided that way (see `grouped`),
        // else one by one.
        let news: Vec<&NewAppointment> = claimed.iter().map(|(_, _, new)| new).collect();
        let mut outcomes: Vec<Result<BookOutcome, BookingConflict>> = Vec::new();
        if news.len() >= 2 {
            sqlx::query("SAVEPOINT grouped").execute(&mut *tx).await?;
            match book_group!(tx, postgres, &news).await {
                Ok(Some(grouped)) => outcomes = grouped,
                _ => {
                    sqlx::query("ROLLBACK TO SAVEPOINT grouped").execute(&mut *tx).await?;
                }
            }
            sqlx::query("RELEASE SAVEPOINT grouped").execute(&mut *tx).await?;
        }
        if outcomes.len() != news.len() {
            for new in &news {
                sqlx::query("SAVEPOINT ticket").execute(&mut *tx).await?;
                let outcome = match book_one!(tx, *new).await {
                    Ok(o) => Ok(o),
                    Err(BookingError::Conflict(c)) => {
                        sqlx::query("ROLLBACK TO SAVEPOINT ticket").execute(&mut *tx).await?;
                        Err(c)
                    }
                    Err(e) => return Err(e),
                };
                sqlx::query("RELEASE SAVEPOINT ticket").execute(&mut *tx).await?;
                outcomes.push(outcome);
            }
        }
        // Every ticket's outcome in one statement.
        let done: Vec<(i64, i32, Option<&str>)> = claimed
            .iter()
            .zip(&outcomes)
            .map(|((seq, _, _), outcome)| match outcome {
                Ok(_) => (*seq, 201, None),
                Err(c) => (*seq, 409, Some(c.code())),
            })
            .collect();
        if !done.is_empty() {
            let sql = if postgres { DONE_POSTGRES } else { DONE_SQLITE };
            sqlx::query(sql)
                .bind(crate::accounts::json_param(&done)?)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await?;
        }
        let served: Vec<Served> = claimed
            .into_iter()
            .zip(outcomes)
            .map(|((seq, ticket_id, new), outcome)| Served {
                ticket_id,
                seq,
                patient_id: new.patient_id,
                queued_at: new.now,
                outcome,
            })
            .collect();
        if high > 0 {
            sqlx::query("UPDATE booking_queue SET served = $1 WHERE id = 1 AND served < $1")
                .bind(high)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(served)
    }.await);
    result.map_err(|e| match e {
        BookingError::Store(e) => e,
        other => StoreError::Other(sqlx::Error::Protocol(other.to_string())),
    })
}
