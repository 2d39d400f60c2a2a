//! The waiting room's durable tickets: work accepted above capacity, stored before the client
//! hears `202`, and done later strictly in arrival order, exactly once.
//!
//! A line is one operation at one hospital (`check_in` at hospital H). Serving a line takes
//! the line's row lock first (`SKIP LOCKED` on PostgreSQL: an instance that finds it taken
//! goes back to sleep), so at most one batch per line runs anywhere and tickets are done in
//! `seq` order across instances; each ticket's work and its outcome commit together, so a
//! crash before the commit leaves the ticket queued for the next worker and a crash after it
//! leaves it done. The table is generic; the only operation today is the check-in
//! ([`serve_check_ins`]).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::visits::check_in_one;
use super::{NewVisit, ReceptionError};
use crate::accounts::id;
use crate::booking::Transition;
use crate::{Store, StoreError, with_reader, with_writer};

/// The operation name of a queued check-in.
pub const CHECK_IN: &str = "check_in";

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: Uuid,
    pub seq: i64,
    pub operation: String,
    pub hospital_id: Uuid,
    pub owner_id: Uuid,
    pub done: bool,
    pub outcome_status: Option<i32>,
    pub outcome_code: Option<String>,
    /// What the work produced, for a done ticket that succeeded (for a check-in: the visit id).
    pub outcome_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

/// A check-in as it waits in the line: everything [`NewVisit`] needs, as of the request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueuedCheckIn {
    pub visit_id: Uuid,
    pub department: String,
    pub day: NaiveDate,
    pub patient_id: Uuid,
    pub doctor_id: Option<Uuid>,
    pub appointment_id: Option<Uuid>,
    pub by: Uuid,
}

const COLUMNS: &str = "id, seq, operation, hospital_id, owner_id, status, outcome_status, \
     outcome_code, outcome_body, created_at, done_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    seq: i64,
    operation: String,
    hospital_id: String,
    owner_id: String,
    status: String,
    outcome_status: Option<i32>,
    outcome_code: Option<String>,
    outcome_body: Option<String>,
    created_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
}

impl Row {
    fn into_ticket(self) -> Result<Ticket, StoreError> {
        Ok(Ticket {
            id: id(&self.id)?,
            seq: self.seq,
            operation: self.operation,
            hospital_id: id(&self.hospital_id)?,
            owner_id: id(&self.owner_id)?,
            done: self.status == "done",
            outcome_status: self.outcome_status,
            outcome_code: self.outcome_code,
            outcome_ref: self.outcome_body,
            created_at: self.created_at,
            done_at: self.done_at,
        })
    }
}

/// Stores a ticket (committed before this returns) and returns its `seq`.
#[allow(clippy::too_many_arguments)]
pub async fn enqueue(
    store: &Store,
    ticket_id: Uuid,
    operation: &str,
    hospital_id: Uuid,
    owner_id: Uuid,
    request: &str,
    idempotency_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let seq: i64 = with_writer!(store, pool => {
        sqlx::query_scalar(
            "INSERT INTO admission_tickets (id, operation, hospital_id, owner_id, request, \
             idempotency_key, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7) \
             RETURNING seq",
        )
        .bind(ticket_id.to_string())
        .bind(operation)
        .bind(hospital_id.to_string())
        .bind(owner_id.to_string())
        .bind(request)
        .bind(idempotency_key)
        .bind(now)
        .fetch_one(pool)
        .await?
    });
    Ok(seq)
}

pub async fn get(store: &Store, ticket_id: Uuid) -> Result<Option<Ticket>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM admission_tickets WHERE id = $1");
    let row: Option<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(ticket_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(Row::into_ticket).transpose()
}

/// The owner's ticket for an idempotency key, if they already have one, with the request it
/// was made for (a retry must be the same request).
pub async fn by_key(
    store: &Store,
    owner_id: Uuid,
    key: &str,
) -> Result<Option<(Ticket, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Keyed {
        #[sqlx(flatten)]
        row: Row,
        request: String,
    }
    let sql = format!(
        "SELECT {COLUMNS}, request FROM admission_tickets WHERE owner_id = $1 AND idempotency_key = $2"
    );
    let row: Option<Keyed> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner_id.to_string())
            .bind(key)
            .fetch_optional(pool)
            .await?
    });
    row.map(|k| Ok((k.row.into_ticket()?, k.request)))
        .transpose()
}

/// The `seq`s of a line's queued tickets, in order (positions are derived from it).
pub async fn queued_seqs(
    store: &Store,
    operation: &str,
    hospital_id: Uuid,
) -> Result<Vec<i64>, StoreError> {
    let seqs: Vec<i64> = with_reader!(store, pool => {
        sqlx::query_scalar(
            "SELECT seq FROM admission_tickets WHERE status = 'queued' AND operation = $1 \
             AND hospital_id = $2 ORDER BY seq",
        )
        .bind(operation)
        .bind(hospital_id.to_string())
        .fetch_all(pool)
        .await?
    });
    Ok(seqs)
}

/// Whether anyone waits in a line (new work then queues behind them, for fairness).
pub async fn anyone_waiting(
    store: &Store,
    operation: &str,
    hospital_id: Uuid,
) -> Result<bool, StoreError> {
    let n: Option<i64> = with_reader!(store, pool => {
        sqlx::query_scalar(
            "SELECT seq FROM admission_tickets WHERE status = 'queued' AND operation = $1 \
             AND hospital_id = $2 LIMIT 1",
        )
        .bind(operation)
        .bind(hospital_id.to_string())
        .fetch_optional(pool)
        .await?
    });
    Ok(n.is_some())
}

/// Lines with queued tickets: (operation, hospital).
pub async fn busy_lines(store: &Store) -> Result<Vec<(String, Uuid)>, StoreError> {
    let rows: Vec<(String, String)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT DISTINCT operation, hospital_id FROM admission_tickets WHERE status = 'queued'",
        )
        .fetch_all(pool)
        .await?
    });
    rows.into_iter().map(|(op, h)| Ok((op, id(&h)?))).collect()
}

/// One ticket done by [`serve_check_ins`].
#[derive(Debug, Clone)]
pub struct Served {
    pub ticket_id: Uuid,
    pub owner_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub outcome: Result<super::visits::CheckedIn, super::ReceptionConflict>,
}

/// Does up to `limit` queued check-ins of one hospital's line in `seq` order, in one
/// transaction, each inside its own savepoint so a refused one (already checked in…) does not
/// undo its neighbours; records every outcome. Returns what was done — empty when the line is
/// empty or another instance is serving it right now.
pub async fn serve_check_ins(
    store: &Store,
    hospital_id: Uuid,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Vec<Served>, ReceptionError> {
    let postgres = store.dialect() == "postgres";
    let claim_line = if postgres {
        "SELECT served FROM admission_lines WHERE operation = $1 FOR UPDATE SKIP LOCKED"
    } else {
        "SELECT served FROM admission_lines WHERE operation = $1"
    };
    let line = format!("{CHECK_IN}:{hospital_id}");
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            // Make sure the line's row exists (a no-op after the first time), then take it.
            sqlx::query("INSERT INTO admission_lines (operation, served) VALUES ($1, 0) ON CONFLICT (operation) DO NOTHING")
                .bind(&line)
                .execute(&mut *tx)
                .await?;
            let taken: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(claim_line))
                .bind(&line)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_none() {
                return Ok(Vec::new());
            }
            let rows: Vec<(i64, String, String, String, DateTime<Utc>)> = sqlx::query_as(
                "SELECT seq, id, owner_id, request, created_at FROM admission_tickets \
                 WHERE status = 'queued' AND operation = $1 AND hospital_id = $2 ORDER BY seq LIMIT $3",
            )
            .bind(CHECK_IN)
            .bind(hospital_id.to_string())
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
            let mut served = Vec::with_capacity(rows.len());
            let mut high = 0_i64;
            for (seq, tid, owner, request, created_at) in rows {
                high = high.max(seq);
                let outcome = match serde_json::from_str::<QueuedCheckIn>(&request) {
                    Ok(q) => {
                        let new = NewVisit {
                            id: q.visit_id,
                            hospital_id,
                            department: q.department,
                            day: q.day,
                            patient_id: q.patient_id,
                            doctor_id: q.doctor_id,
                            appointment: q.appointment_id.map(|a| Transition {
                                appointment_id: a,
                                from: "booked".into(),
                                to: "checked_in",
                                reason: None,
                                by: q.by,
                                frees_seat: false,
                                now,
                                email: None,
                            }),
                            by: q.by,
                            // The ticket holds the key: a retry finds the ticket first.
                            idempotency_key: None,
                            now,
                        };
                        sqlx::query("SAVEPOINT ticket").execute(&mut *tx).await?;
                        match check_in_one!(tx, &new).await {
                            Ok(done) => {
                                sqlx::query("RELEASE SAVEPOINT ticket").execute(&mut *tx).await?;
                                Ok(done)
                            }
                            Err(ReceptionError::Conflict(c)) => {
                                sqlx::query("ROLLBACK TO SAVEPOINT ticket").execute(&mut *tx).await?;
                                sqlx::query("RELEASE SAVEPOINT ticket").execute(&mut *tx).await?;
                                Err(c)
                            }
                            // A constraint outside the reception rules (the doctor or the
                            // appointment went away meanwhile): refuse this ticket, not the line.
                            Err(ReceptionError::NotFound)
                            | Err(ReceptionError::Store(crate::StoreError::Constraint { .. })) => {
                                sqlx::query("ROLLBACK TO SAVEPOINT ticket").execute(&mut *tx).await?;
                                sqlx::query("RELEASE SAVEPOINT ticket").execute(&mut *tx).await?;
                                Err(super::ReceptionConflict::Refused)
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    // Written by this code, so unreadable means a newer version wrote it:
                    // refuse the ticket rather than guess (and never block the line on it).
                    Err(_) => Err(super::ReceptionConflict::Refused),
                };
                let (status, code, reference) = match &outcome {
                    Ok(done) => (201_i32, None, Some(done.visit.id.to_string())),
                    Err(c) => (409_i32, Some(c.code()), None),
                };
                sqlx::query(
                    "UPDATE admission_tickets SET status = 'done', outcome_status = $2, \
                     outcome_code = $3, outcome_body = $4, done_at = $5 WHERE seq = $1 AND status = 'queued'",
                )
                .bind(seq)
                .bind(status)
                .bind(code)
                .bind(reference)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                served.push(Served {
                    ticket_id: id(&tid)?,
                    owner_id: id(&owner)?,
                    created_at,
                    outcome,
                });
            }
            if high > 0 {
                sqlx::query("UPDATE admission_lines SET served = $2 WHERE operation = $1 AND served < $2")
                    .bind(&line)
                    .bind(high)
                    .execute(&mut *tx)
                    .await?;
            }
            Ok(served)
        }
        .await;
        super::visits::finish(tx, done).await
    })
}

/// The highest ticket seq so far (0 if none).
pub async fn high_seq(store: &Store) -> Result<i64, StoreError> {
    let n: Option<i64> = with_reader!(store, pool => {
        sqlx::query_scalar("SELECT MAX(seq) FROM admission_tickets")
            .fetch_one(pool)
            .await?
    });
    Ok(n.unwrap_or(0))
}

/// Tickets still queued, in all lines (for the queue-length metric).
pub async fn queued_count(store: &Store) -> Result<i64, StoreError> {
    let n: i64 = with_reader!(store, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM admission_tickets WHERE status = 'queued'")
            .fetch_one(pool)
            .await?
    });
    Ok(n)
}

/// A ticket's exact position in its line (1 = next), counted in the database.
pub async fn position(store: &Store, ticket: &Ticket) -> Result<(u64, u64), StoreError> {
    let ahead: i64 = with_reader!(store, pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM admission_tickets WHERE status = 'queued' AND operation = $1 \
             AND hospital_id = $2 AND seq < $3",
        )
        .bind(&ticket.operation)
        .bind(ticket.hospital_id.to_string())
        .bind(ticket.seq)
        .fetch_one(pool)
        .await?
    });
    let ahead = u64::try_from(ahead).unwrap_or(0);
    Ok((ahead + 1, ahead))
}

/// A ticket to store through a [`TicketWriter`].
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub id: Uuid,
    pub operation: &'static str,
    pub hospital_id: Uuid,
    pub owner_id: Uuid,
    pub request: String,
    pub idempotency_key: Option<String>,
    pub now: DateTime<Utc>,
}

type Pending = (
    NewTicket,
    tokio::sync::oneshot::Sender<Result<i64, StoreError>>,
);

/// Group commit for tickets: a spike of check-ins arrives faster than a disk can fsync, so one
/// task takes every ticket waiting to be stored, inserts them in one transaction (each in its
/// own savepoint, so one refused key does not undo its neighbours) and answers each caller
/// only after that commit — still "stored before the client hears 202".
#[derive(Clone)]
pub struct TicketWriter {
    tx: tokio::sync::mpsc::Sender<Pending>,
}

impl TicketWriter {
    /// Starts the writer task; it ends when the last handle is dropped.
    pub fn spawn(store: Store) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Pending>(8192);
        tokio::spawn(async move {
            let mut batch: Vec<Pending> = Vec::with_capacity(512);
            while rx.recv_many(&mut batch, 512).await > 0 {
                let results = write_batch(&store, &batch).await;
                for ((_, answer), result) in batch.drain(..).zip(results) {
                    let _ = answer.send(result);
                }
            }
        });
        Self { tx }
    }

    /// Stores one ticket; returns its `seq` once committed.
    pub async fn enqueue(&self, ticket: NewTicket) -> Result<i64, StoreError> {
        let (answer, result) = tokio::sync::oneshot::channel();
        let gone = || StoreError::Other(sqlx::Error::PoolClosed);
        self.tx.send((ticket, answer)).await.map_err(|_| gone())?;
        result.await.map_err(|_| gone())?
    }
}

async fn write_batch(store: &Store, batch: &[Pending]) -> Vec<Result<i64, StoreError>> {
    let attempt: Result<Vec<Result<i64, StoreError>>, StoreError> = with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        let mut out = Vec::with_capacity(batch.len());
        for (t, _) in batch {
            sqlx::query("SAVEPOINT ticket").execute(&mut *tx).await?;
            let seq: Result<i64, sqlx::Error> = sqlx::query_scalar(
                "INSERT INTO admission_tickets (id, operation, hospital_id, owner_id, request, \
                 idempotency_key, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7) \
                 RETURNING seq",
            )
            .bind(t.id.to_string())
            .bind(t.operation)
            .bind(t.hospital_id.to_string())
            .bind(t.owner_id.to_string())
            .bind(&t.request)
            .bind(&t.idempotency_key)
            .bind(t.now)
            .fetch_one(&mut *tx)
            .await;
            match seq {
                Ok(seq) => out.push(Ok(seq)),
                Err(e) => {
                    let e = StoreError::from(e);
                    if !matches!(e, StoreError::Constraint { .. }) {
                        return Err(e);
                    }
                    sqlx::query("ROLLBACK TO SAVEPOINT ticket").execute(&mut *tx).await?;
                    out.push(Err(e));
                }
            }
            sqlx::query("RELEASE SAVEPOINT ticket").execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(out)
    }.await);
    match attempt {
        Ok(out) => out,
        // The whole batch failed (database unreachable…): every caller hears it, none got 202.
        Err(e) => {
            let message = e.to_string();
            batch
                .iter()
                .map(|_| Err(StoreError::Other(sqlx::Error::Protocol(message.clone()))))
                .collect()
        }
    }
}
