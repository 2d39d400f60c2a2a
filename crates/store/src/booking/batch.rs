//! Group commit for bookings.
//!
//! A durable commit costs one fsync, and this disk manages only a few thousand a second; a
//! 9 a.m. rush wants more bookings than that. [`BookingWriter`] therefore collects every booking
//! waiting at that moment (up to [`MAX_BATCH`]), runs them in one transaction — set by set
//! (`grouped`), or where that cannot decide the group each inside its own savepoint, so a full
//! slot or an overlap undoes only that booking — commits once, and only then answers each
//! caller. Nothing is acknowledged before its commit (principle 2); if the commit fails, every
//! booking of the batch gets the error.
//!
//! Bookings in a batch run in arrival order and see each other's effects, exactly as if they
//! had been committed one by one, so the invariants do not depend on batching.

mod transaction;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};

use uuid::Uuid;

use super::tickets::{self, Queued, Served};
use super::{BookOutcome, BookingError, NewAppointment};
use crate::{Store, StoreError};
pub use transaction::prepare_statements;
use transaction::run_batch;

/// The most bookings one commit carries: enough to amortise the fsync, small enough that
/// the first caller of a batch does not wait long for the last.
pub const MAX_BATCH: usize = 512;

/// One write for the group commit: a booking, or a rush ticket to queue.
enum Job {
    Book(NewAppointment, oneshot::Sender<Booked>),
    Enqueue(
        Uuid,
        NewAppointment,
        oneshot::Sender<Result<Queued, BookingError>>,
    ),
}

enum Done {
    Book(Booked),
    Enqueue(Result<Queued, BookingError>),
}

/// The writer's answer to a booking ([`BookingWriter::book_keyed`]).
#[derive(Debug)]
pub struct Booked {
    pub outcome: Result<BookOutcome, BookingError>,
    /// The booking was decided with its group (`grouped::book_group`), whose read found its
    /// idempotency key used by no appointment and no rush ticket. A refusal then cannot be
    /// a retry's whose first attempt was queued as a ticket, and the request need not look
    /// for one: in a race for few seats every loser that reached the writer did, with a read
    /// of its own (BENCHMARKS.md, session 28). False when booked one by one, which looks up
    /// the key among appointments only.
    pub key_unused: bool,
}

/// A request to serve the rush queue (see [`BookingWriter::serve_queue`]): at most this many
/// tickets, and where to send what was served.
type ServeJob = (u32, oneshot::Sender<Result<Vec<Served>, StoreError>>);

/// Handle to the group-commit writers; cheap to clone.
#[derive(Clone, Debug)]
pub struct BookingWriter {
    /// One queue per writer; a doctor's bookings always go to the same one (see [`Self::lane`]).
    lanes: Arc<[mpsc::Sender<Job>]>,
    /// Where the rush queue is served (see [`Self::serve_queue`]): on SQLite the first
    /// writer's thread, on PostgreSQL a thread of its own.
    serving: mpsc::Sender<ServeJob>,
    /// Serves the queue when the writer's thread cannot.
    store: Store,
    one_by_one: Arc<AtomicU64>,
}

impl BookingWriter {
    /// Starts `writers` batch loops on `store` (1 suits SQLite's single writer; on PostgreSQL
    /// two keep both cores busy). They stop when every handle is dropped, after finishing the
    /// batches already taken.
    ///
    /// Each writer serves the doctors of its own lane, so no two writers' batches hold the
    /// same slot: writers side by side that shared one queue took the same slots in
    /// overlapping batches, and a quarter of their groups met another's uncommitted seats and
    /// fell back to booking one by one (BENCHMARKS.md, session 18). A patient booking with two
    /// doctors at once can still meet their own other booking in another lane; the overlap
    /// constraint judges that, and the group falls back as it must.
    ///
    /// Each loop runs on a thread of its own with a single-threaded runtime. A batch is a dozen
    /// statements, each a trip to the database and back, and the wake-up that returns each
    /// answer comes from outside the loop's task: on the shared runtime it waits in the global
    /// queue behind the request tasks (up to ~60 polls), so under load SQLite's one writer
    /// spent more than half its time waiting to send its next statement. On its own runtime
    /// it is polled at once. On SQLite the first loop also serves the rush queue
    /// ([`Self::serve_queue`]). On PostgreSQL each loop opens a connection of its own on its
    /// runtime ([`Store::own_pool`]): a connection's answers are read by the I/O driver of the
    /// runtime that opened it, and the shared runtime's, busy with requests, polled them late
    /// (BENCHMARKS.md, session 27). If it cannot, it uses the shared pool. The rush queue is
    /// served likewise, on a thread and a connection of its own.
    pub fn spawn(store: Store, writers: usize) -> (Self, Vec<tokio::task::JoinHandle<()>>) {
        let one_by_one = Arc::new(AtomicU64::new(0));
        let mut lanes = Vec::with_capacity(writers.max(1));
        let (serving, serve_rx) = mpsc::channel::<ServeJob>(4);
        let mut serve_rx = Some(serve_rx);
        if store.dialect() == "postgres"
            && let Some(rx) = serve_rx.take()
        {
            // Served on a thread of its own, beside the writers (see `Self::serve_queue`).
            let mine = store.clone();
            let started = on_own_thread("booking-queue".into(), move || async move {
                serve_loop(own_connection(mine).await, rx).await;
            });
            if let Err(error) = started {
                tracing::warn!(%error, "no thread to serve the booking queue on");
            }
        }
        let handles = (0..writers.max(1))
            .map(|n| {
                let (tx, rx) = mpsc::channel::<Job>(MAX_BATCH * 16);
                lanes.push(tx);
                let counted = one_by_one.clone();
                let serve_rx = serve_rx.take();
                // Dropped, or sent to, when the thread's loop ends.
                let (stopped, on_stop) = oneshot::channel::<()>();
                let (mine, my_count) = (store.clone(), counted.clone());
                // Taken back if the thread cannot be started.
                let rx = Arc::new(std::sync::Mutex::new(Some(rx)));
                let my_rx = rx.clone();
                let started = on_own_thread(format!("booking-writer-{n}"), move || async move {
                    let rx = my_rx.lock().ok().and_then(|mut rx| rx.take());
                    if let Some(rx) = rx {
                        let mine = own_connection(mine).await;
                        if let Err(error) = prepare_statements(&mine).await {
                            tracing::warn!(%error, "booking writer's statements not prepared ahead");
                        }
                        batch_loop(mine, rx, serve_rx, my_count).await;
                    }
                    let _ = stopped.send(());
                });
                match started {
                    Ok(()) => tokio::spawn(async move {
                        let _ = on_stop.await;
                    }),
                    Err(error) => {
                        // Slower, but bookings are still written.
                        tracing::warn!(%error, "no thread for the booking writer; it shares the runtime");
                        let rx = rx.lock().ok().and_then(|mut rx| rx.take());
                        let store = store.clone();
                        tokio::spawn(async move {
                            if let Some(rx) = rx {
                                batch_loop(store, rx, None, counted).await;
                            }
                        })
                    }
                }
            })
            .collect();
        (
            Self {
                lanes: lanes.into(),
                serving,
                store,
                one_by_one,
            },
            handles,
        )
    }

    /// The queue of the writer that serves `doctor_id`.
    fn lane(&self, doctor_id: Uuid) -> &mpsc::Sender<Job> {
        &self.lanes[lane_of(doctor_id, self.lanes.len())]
    }

    /// Books up to `limit` queued rush tickets in order ([`tickets::serve_batch`]) and returns
    /// what was served.
    ///
    /// On SQLite this runs on the first writer's own thread, between its batches. The queue's
    /// worker ran it on the shared runtime, where each of a batch's statements waited for its
    /// answer behind the request tasks while holding the one write connection; the writer,
    /// queueing the next tickets, waited for that connection meanwhile. At the start of a rush
    /// the two took turns with gaps of several milliseconds between them (BENCHMARKS.md,
    /// session 27). On PostgreSQL, where the worker's batches need not wait for the writers',
    /// it runs on a thread of its own beside them, with a connection opened there, for the
    /// reason the writers have theirs (see [`Self::spawn`]): its drain went from 12,645 to
    /// 14,372 tickets a second.
    pub async fn serve_queue(&self, limit: u32) -> Result<Vec<Served>, StoreError> {
        let (reply, answer) = oneshot::channel();
        if self.serving.send((limit, reply)).await.is_ok()
            && let Ok(served) = answer.await
        {
            return served;
        }
        // The serving thread could not be started, or is stopping: serve from here.
        tickets::serve_batch(&self.store, limit).await
    }

    /// Bookings written one by one since the start because their batch could not be decided
    /// set by set (a retried idempotency key, or another instance booking the same slots or
    /// patients meanwhile). Each costs several statements instead of a share of a handful, so
    /// a steady climb under load means the writer is spending its time there.
    pub fn one_by_one(&self) -> u64 {
        self.one_by_one.load(Ordering::Relaxed)
    }

    /// Books `new` and answers after the commit that made it durable.
    pub async fn book(&self, new: NewAppointment) -> Result<BookOutcome, BookingError> {
        self.book_keyed(new).await.outcome
    }

    /// [`Self::book`], also saying whether the booking's idempotency key was known unused.
    pub async fn book_keyed(&self, new: NewAppointment) -> Booked {
        let gone = || Booked {
            outcome: Err(BookingError::Store(StoreError::Unavailable(
                sqlx::Error::PoolClosed,
            ))),
            key_unused: false,
        };
        let (reply, answer) = oneshot::channel();
        if self
            .lane(new.doctor_id)
            .send(Job::Book(new, reply))
            .await
            .is_err()
        {
            return gone();
        }
        answer.await.unwrap_or_else(|_| gone())
    }

    /// Queues `new` as rush ticket `ticket_id` and answers with its place after the commit.
    pub async fn enqueue(
        &self,
        ticket_id: Uuid,
        new: NewAppointment,
    ) -> Result<Queued, BookingError> {
        let (reply, answer) = oneshot::channel();
        self.lane(new.doctor_id)
            .send(Job::Enqueue(ticket_id, new, reply))
            .await
            .map_err(|_| BookingError::Store(StoreError::Unavailable(sqlx::Error::PoolClosed)))?;
        answer
            .await
            .map_err(|_| BookingError::Store(StoreError::Unavailable(sqlx::Error::PoolClosed)))?
    }
}

/// Runs `work` on a thread named `name`, with a single-threaded runtime of its own (see
/// [`BookingWriter::spawn`] for why). Fails if the thread cannot be started; if its runtime
/// cannot be built, that is logged and `work` is dropped unrun.
fn on_own_thread<F, W>(name: String, work: F) -> std::io::Result<()>
where
    F: FnOnce() -> W + Send + 'static,
    W: std::future::Future<Output = ()>,
{
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(work()),
                Err(error) => {
                    tracing::error!(%error, thread = %name, "no runtime for a booking thread")
                }
            }
        })
        .map(drop)
}

/// Which of `lanes` writers serves `doctor_id`.
fn lane_of(doctor_id: Uuid, lanes: usize) -> usize {
    // UUIDv7's last bits are random, so the low 64 spread doctors evenly.
    (doctor_id.as_u128() as u64 % lanes.max(1) as u64) as usize
}

/// Takes every job waiting (up to [`MAX_BATCH`]) and runs them as one batch, and serves the
/// rush queue when asked on `serving`, until every [`BookingWriter`] handle is gone.
async fn batch_loop(
    store: Store,
    mut rx: mpsc::Receiver<Job>,
    mut serving: Option<mpsc::Receiver<ServeJob>>,
    one_by_one: Arc<AtomicU64>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        tokio::select! {
            n = rx.recv_many(&mut batch, MAX_BATCH) => {
                if n == 0 {
                    return;
                }
                run_batch(&store, &mut batch, &one_by_one).await;
            }
            job = next_serve(&mut serving) => match job {
                Some((limit, reply)) => {
                    let _ = reply.send(tickets::serve_batch(&store, limit).await);
                }
                // The handles are going: bookings still waiting are written first.
                None => serving = None,
            },
        }
    }
}

/// On PostgreSQL, `store` with one connection opened on the calling thread's runtime (see
/// [`BookingWriter::spawn`]); the shared pool if it cannot be opened; SQLite's as it is.
async fn own_connection(store: Store) -> Store {
    match store.own_pool(1).await {
        Some(Ok(own)) => own,
        Some(Err(error)) => {
            tracing::warn!(%error, "no connection of its own for the booking writer; sharing the pool");
            store
        }
        None => store,
    }
}

/// Serves the queue whenever asked, until every [`BookingWriter`] handle is gone.
async fn serve_loop(store: Store, mut rx: mpsc::Receiver<ServeJob>) {
    while let Some((limit, reply)) = rx.recv().await {
        let _ = reply.send(tickets::serve_batch(&store, limit).await);
    }
}

/// The next request to serve the queue; never, on a writer that does not serve it.
async fn next_serve(serving: &mut Option<mpsc::Receiver<ServeJob>>) -> Option<ServeJob> {
    match serving {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doctor_always_goes_to_the_same_writer_and_doctors_spread_over_all() {
        let index = |doctor| lane_of(doctor, 2);
        let doctors: Vec<Uuid> = (0..200).map(|_| Uuid::now_v7()).collect();
        let first: Vec<usize> = doctors.iter().map(|d| index(*d)).collect();
        let again: Vec<usize> = doctors.iter().map(|d| index(*d)).collect();
        assert_eq!(first, again);
        let on_first = first.iter().filter(|&&i| i == 0).count();
        assert!(
            (60..=140).contains(&on_first),
            "{on_first} of 200 on lane 0"
        );
    }
}
