//! One batch's transaction: the writer's statements prepared ahead, the batch booked set by
//! set or one by one and its tickets queued, the commit, and every caller's answer after it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use uuid::Uuid;

use super::super::appointments::book_one;
use super::super::grouped::{self, book_group};
use super::super::tickets::{self, Queued, enqueue_group, enqueue_one};
use super::super::{BookingError, NewAppointment};
use super::{Booked, Done, Job};
use crate::accounts::sessions::live_among_on;
use crate::{Store, StoreError, with_writer};

/// Prepares a batch's statements on the writer's connection before its first batch: the
/// sessions' check, the group's read and writes, and the tickets' insert, each run once with
/// an empty group in a transaction rolled back. sqlx keeps a statement prepared on its
/// connection after its first use, but that first use costs PostgreSQL a parse, a plan and
/// a trip more, and the first batches of a 9 a.m. rush are the ones a crowd waits behind: in
/// the hot race the first two batches took 9 and 14.5 ms unprepared, the later ones 6–7 ms
/// (BENCHMARKS.md, session 28). On SQLite this is the one writer connection, which other
/// writes share; its statements are prepared likewise. Fails only if the database does, and
/// then the writer goes on unprepared.
pub async fn prepare_statements(store: &Store) -> Result<(), StoreError> {
    let postgres = store.dialect() == "postgres";
    let none = "[]";
    with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        let _: i64 = sqlx::query_scalar(crate::accounts::sessions::live_count_sql(store))
            .bind(none)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(grouped::read_sql(store))
            .bind(none)
            .bind(none)
            .bind(none)
            .fetch_all(&mut *tx)
            .await?;
        if postgres {
            for sql in grouped::WRITE_POSTGRES {
                sqlx::query(sql).bind(none).fetch_all(&mut *tx).await?;
            }
            sqlx::query(tickets::ENQUEUE_POSTGRES).bind(none).fetch_all(&mut *tx).await?;
        } else {
            sqlx::query(grouped::WRITE_SQLITE)
                .bind(none)
                .bind(none)
                .bind(none)
                .bind(none)
                .fetch_all(&mut *tx)
                .await?;
            sqlx::query(tickets::ENQUEUE_SQLITE).bind(none).fetch_all(&mut *tx).await?;
        }
        tx.rollback().await?;
        Ok(())
    }.await)
}

impl Job {
    /// The caller stopped waiting (its request timed out or the client left): it was never
    /// answered, so the booking must not be made behind its back.
    fn abandoned(&self) -> bool {
        match self {
            Job::Book(_, reply) => reply.is_closed(),
            Job::Enqueue(_, _, reply) => reply.is_closed(),
        }
    }

    /// The booking the job makes, or queues as a ticket.
    fn booking(&self) -> &NewAppointment {
        match self {
            Job::Book(new, _) | Job::Enqueue(_, new, _) => new,
        }
    }

    /// Slot rows are locked in this order, so two writers' batches cannot deadlock on them.
    fn lock_order(&self) -> (Uuid, i64) {
        let new = self.booking();
        (new.doctor_id, new.starts_at)
    }
}

/// Deadlocks and serialisation failures abort the whole transaction; nothing of it was
/// committed, so the batch can simply run again.
fn retryable(e: &BookingError) -> bool {
    let BookingError::Store(StoreError::Other(sqlx::Error::Database(db))) = e else {
        return false;
    };
    matches!(db.code().as_deref(), Some("40P01" | "40001"))
}

pub(super) async fn run_batch(store: &Store, batch: &mut Vec<Job>, one_by_one: &AtomicU64) {
    batch.retain(|job| !job.abandoned());
    // Stable: bookings of one slot keep their arrival order, so the first to ask wins.
    batch.sort_by_key(Job::lock_order);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut results: Vec<Done> = Vec::with_capacity(batch.len());
        let mut singly = 0;
        let committed = run_once(store, batch, &mut results, &mut singly).await;
        if committed.is_ok() {
            one_by_one.fetch_add(singly, Ordering::Relaxed);
        }
        match committed {
            Err(e) if attempt < 3 && retryable(&e) => {
                tracing::warn!(attempt, "booking batch hit a deadlock; running it again");
                continue;
            }
            committed => {
                answer(batch, results, committed);
                return;
            }
        }
    }
}

async fn run_once(
    store: &Store,
    batch: &[Job],
    results: &mut Vec<Done>,
    one_by_one: &mut u64,
) -> Result<(), BookingError> {
    let postgres = store.dialect() == "postgres";
    let asked: HashSet<Uuid> = batch
        .iter()
        .filter_map(|job| job.booking().session_id)
        .collect();
    // On SQLite the write lock is taken at the start: a group's first statement is a read,
    // and a read transaction that then writes while another connection holds the lock (a
    // checkpoint, a test holding the writer) fails at once instead of waiting its turn.
    let begin = if postgres { "BEGIN" } else { "BEGIN IMMEDIATE" };
    with_writer!(store, pool => async {
        let mut tx = pool.begin_with(begin).await?;
        // The sessions still to be confirmed, all with one read on this transaction (the
        // statements of `sessions::live_among`): where each request read its own before, on
        // PostgreSQL those reads were a fifth of the database's statement time in a stream
        // of bookings (BENCHMARKS.md, session 26). A booking whose session has ended is
        // answered so and written nowhere.
        let mut ended: HashSet<Uuid> = HashSet::new();
        if !asked.is_empty() {
            let live = live_among_on!(tx, store, &asked).await?;
            ended = asked.difference(&live).copied().collect();
        }
        let counts = |new: &NewAppointment| new.session_id.is_none_or(|s| !ended.contains(&s));
        // The bookings, set by set where the group can be decided that way (see `grouped`).
        let books: Vec<&NewAppointment> = batch
            .iter()
            .filter_map(|job| match job {
                Job::Book(new, _) if counts(new) => Some(new),
                _ => None,
            })
            .collect();
        let mut grouped = None;
        // Set by set even for a batch of one: two statements on SQLite and five on
        // PostgreSQL against seven to nine one by one (savepoint, key, seat, appointment,
        // event, letter, release), and the same statements as the next, larger batch. The
        // first booking of a race is usually alone; its batch, a third shorter so, is what
        // the next hundred bookings wait behind (BENCHMARKS.md, session 28).
        if !books.is_empty() {
            // The group is the transaction's first write, so a group that cannot stand is
            // undone with the transaction itself, and a new one takes the bookings one by
            // one: no savepoint to take and release around every group (two of a group's
            // nine statements, each a round trip that waits its turn on a busy machine).
            match book_group!(tx, postgres, &books).await {
                Ok(Some(outcomes)) => grouped = Some(outcomes.into_iter()),
                _ => {
                    tx.rollback().await?;
                    tx = pool.begin_with(begin).await?;
                    *one_by_one = books.len() as u64;
                }
            }
        }
        // The rush tickets likewise, in one statement.
        let tickets: Vec<(Uuid, &NewAppointment)> = batch
            .iter()
            .filter_map(|job| match job {
                Job::Enqueue(ticket, new, _) if counts(new) => Some((*ticket, new)),
                _ => None,
            })
            .collect();
        let mut queued = None;
        if !tickets.is_empty() {
            // Likewise without a savepoint while nothing is written yet (a batch of tickets
            // alone, the rush's usual batch); behind a group of bookings, inside one.
            let first_write = grouped.is_none();
            if !first_write {
                sqlx::query("SAVEPOINT grouped").execute(&mut *tx).await?;
            }
            match enqueue_group!(tx, postgres, &tickets).await {
                Ok(seqs) => queued = Some(seqs.into_iter()),
                Err(_) if first_write => {
                    tx.rollback().await?;
                    tx = pool.begin_with(begin).await?;
                }
                Err(_) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT grouped").execute(&mut *tx).await?;
                }
            }
            if !first_write {
                sqlx::query("RELEASE SAVEPOINT grouped").execute(&mut *tx).await?;
            }
        }
        // How far the workers have served, for each ticket's place in line: read once for
        // the batch here rather than by each request after its answer.
        let served: i64 = if tickets.is_empty() {
            0
        } else {
            sqlx::query_scalar("SELECT served FROM booking_queue WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?
        };
        for job in batch.iter() {
            if !counts(job.booking()) {
                results.push(match job {
                    Job::Book(..) => Done::Book(Booked {
                        outcome: Err(BookingError::SessionEnded),
                        key_unused: false,
                    }),
                    Job::Enqueue(..) => Done::Enqueue(Err(BookingError::SessionEnded)),
                });
                continue;
            }
            let new = match job {
                Job::Book(new, _) => new,
                Job::Enqueue(..) if queued.is_some() => {
                    let seq = queued.as_mut().and_then(Iterator::next);
                    let seq = seq.expect("one seq per queued ticket");
                    results.push(Done::Enqueue(Ok(Queued { seq, served })));
                    continue;
                }
                Job::Enqueue(ticket, new, _) => {
                    sqlx::query("SAVEPOINT booking").execute(&mut *tx).await?;
                    let seq = enqueue_one!(tx, ticket, new).await;
                    if seq.is_err() {
                        sqlx::query("ROLLBACK TO SAVEPOINT booking").execute(&mut *tx).await?;
                    }
                    sqlx::query("RELEASE SAVEPOINT booking").execute(&mut *tx).await?;
                    results.push(Done::Enqueue(seq.map(|seq| Queued { seq, served })));
                    continue;
                }
            };
            if let Some(outcomes) = grouped.as_mut() {
                let outcome = outcomes.next().expect("one grouped outcome per booking");
                results.push(Done::Book(Booked {
                    outcome: outcome.map_err(BookingError::from),
                    key_unused: true,
                }));
                continue;
            }
            sqlx::query("SAVEPOINT booking").execute(&mut *tx).await?;
            let mut outcome = book_one!(tx, new).await;
            if outcome.is_err() {
                sqlx::query("ROLLBACK TO SAVEPOINT booking").execute(&mut *tx).await?;
                // Two first attempts with one idempotency key raced on another instance:
                // the unique index refused the second; answer it with the first's result.
                if matches!(&outcome, Err(BookingError::Store(e)) if e.is_constraint("appointments_idempotency")) {
                    outcome = book_one!(tx, new).await;
                    if outcome.is_err() {
                        sqlx::query("ROLLBACK TO SAVEPOINT booking").execute(&mut *tx).await?;
                    }
                }
            }
            sqlx::query("RELEASE SAVEPOINT booking").execute(&mut *tx).await?;
            results.push(Done::Book(Booked {
                outcome,
                key_unused: false,
            }));
        }
        tx.commit().await?;
        Ok(())
    }.await)
}

fn answer(batch: &mut Vec<Job>, results: Vec<Done>, committed: Result<(), BookingError>) {
    match committed {
        Ok(()) => {
            for (job, result) in batch.drain(..).zip(results) {
                match (job, result) {
                    (Job::Book(_, reply), Done::Book(r)) => {
                        let _ = reply.send(r);
                    }
                    (Job::Enqueue(_, _, reply), Done::Enqueue(r)) => {
                        let _ = reply.send(r);
                    }
                    _ => unreachable!("results follow the batch's order"),
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, bookings = batch.len(), "booking batch failed");
            let unavailable = matches!(&e, BookingError::Store(StoreError::Unavailable(_)));
            for job in batch.drain(..) {
                let error = if unavailable {
                    BookingError::Store(StoreError::Unavailable(sqlx::Error::PoolClosed))
                } else {
                    BookingError::Store(StoreError::Other(sqlx::Error::Protocol(
                        "booking batch failed".into(),
                    )))
                };
                match job {
                    Job::Book(_, reply) => {
                        let _ = reply.send(Booked {
                            outcome: Err(error),
                            key_unused: false,
                        });
                    }
                    Job::Enqueue(_, _, reply) => {
                        let _ = reply.send(Err(error));
                    }
                }
            }
        }
    }
}
