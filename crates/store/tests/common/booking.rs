//! Fixtures shared by the booking test files (`booking.rs` and `booking_batch.rs`): a clinic
//! (a hospital with two doctors), patients and bookings, and a way to make the writer take
//! several bookings as one batch.
//!
//! Not declared in `common/mod.rs`: only those two files include it, with
//! `#[path = "common/booking.rs"] mod fixtures;`.

use chrono::Utc;
use docde_store::Store;
use docde_store::accounts::hospitals::create_hospital;
use docde_store::booking::{
    BookOutcome, Booked, BookingConflict, BookingError, BookingWriter, NewAppointment,
};
use docde_store::directory;
use uuid::Uuid;

pub use crate::common::patient;

pub struct Clinic {
    pub hospital: Uuid,
    pub doctor: Uuid,
    pub other_doctor: Uuid,
}

pub async fn clinic(store: &Store) -> Clinic {
    let hospital = create_hospital(store, "예약병원", "Asia/Seoul", Utc::now())
        .await
        .unwrap()
        .id;
    let facts = crate::common::internist(None);
    let (doctor, other_doctor) = (Uuid::now_v7(), Uuid::now_v7());
    for d in [doctor, other_doctor] {
        directory::put_doctor(store, d, hospital, &facts, Utc::now())
            .await
            .unwrap();
    }
    Clinic {
        hospital,
        doctor,
        other_doctor,
    }
}

pub const T0: i64 = 1_900_000_000;

/// A session of `user`, started now.
// Only booking_batch.rs needs one.
#[allow(dead_code)]
pub async fn session(store: &Store, user: Uuid) -> Uuid {
    let refresh = docde_store::accounts::sessions::NewRefresh {
        id: Uuid::now_v7(),
        secret_hash: "00".repeat(32),
        expires_at: Utc::now() + chrono::Duration::days(1),
    };
    docde_store::accounts::sessions::start(store, user, &refresh, Utc::now())
        .await
        .expect("session started")
}

pub fn booking(
    c: &Clinic,
    doctor: Uuid,
    patient: Uuid,
    start: i64,
    capacity: u16,
) -> NewAppointment {
    NewAppointment {
        id: Uuid::now_v7(),
        hospital_id: c.hospital,
        doctor_id: doctor,
        patient_id: patient,
        starts_at: start,
        ends_at: start + 600,
        capacity,
        status: "booked",
        reason: "두통".into(),
        idempotency_key: None,
        request_hash: None,
        rescheduled_from: None,
        now: Utc::now(),
        email: None,
        session_id: None,
    }
}

// Only booking.rs checks a single conflict.
#[allow(dead_code)]
pub fn conflict(result: Result<BookOutcome, BookingError>) -> BookingConflict {
    match result {
        Err(BookingError::Conflict(c)) => c,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

pub async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

/// Keeps `writer` from starting its next batch until the returned guard is released, so that
/// bookings sent meanwhile reach it as one batch.
///
/// The writer runs on a thread of its own and could take the first booking alone: it is given
/// a batch of its own (a booking of a fresh patient with `c.doctor` a day or more before `T0`), blocked
/// on a lock this test holds, while the others queue behind it. On SQLite that is the
/// database's write lock; on PostgreSQL the doctor's row, locked `FOR UPDATE`, which the
/// booking's foreign keys wait for.
// Only booking_batch.rs needs one batch.
#[allow(dead_code)]
pub async fn hold_writer(store: &Store, c: &Clinic, writer: &BookingWriter) -> HeldWriter {
    let r = patient(store).await;
    let lock = match store.backend() {
        docde_store::Backend::Sqlite { checkpointer, .. } => {
            let mut lock = checkpointer.acquire().await.unwrap();
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut *lock)
                .await
                .unwrap();
            Lock::Sqlite(lock)
        }
        docde_store::Backend::Postgres(pool) => {
            let mut lock = pool.acquire().await.unwrap();
            sqlx::query("BEGIN").execute(&mut *lock).await.unwrap();
            sqlx::query("SELECT 1 FROM doctors WHERE id = $1 FOR UPDATE")
                .bind(c.doctor.to_string())
                .execute(&mut *lock)
                .await
                .unwrap();
            Lock::Postgres(lock)
        }
    };
    // A slot of its own each time, so a test may hold the writer more than once.
    static HELD: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let nth = HELD.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let blocker = booking(c, c.doctor, r, T0 - 86_400 - 600 * nth, 1);
    let busy = writer.clone();
    let blocked = tokio::spawn(async move { busy.book(blocker).await });
    // The writer takes the blocker at once and waits for the lock (up to 5 s on SQLite).
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    HeldWriter { lock, blocked }
}

/// Books `asks` through `writer` as one batch (see [`hold_writer`]), in this order, and returns
/// each one's result.
// Only booking_batch.rs needs one batch.
#[allow(dead_code)]
pub async fn book_as_one_batch(
    store: &Store,
    c: &Clinic,
    writer: &BookingWriter,
    asks: impl IntoIterator<Item = NewAppointment>,
) -> Vec<Result<BookOutcome, BookingError>> {
    let answers = book_keyed_as_one_batch(store, c, writer, asks).await;
    answers.into_iter().map(|a| a.outcome).collect()
}

/// [`book_as_one_batch`] through [`BookingWriter::book_keyed`]: each answer with what the
/// writer knew of its idempotency key.
#[allow(dead_code)]
pub async fn book_keyed_as_one_batch(
    store: &Store,
    c: &Clinic,
    writer: &BookingWriter,
    asks: impl IntoIterator<Item = NewAppointment>,
) -> Vec<Booked> {
    let held = hold_writer(store, c, writer).await;
    let handles: Vec<_> = asks
        .into_iter()
        .map(|n| {
            let writer = writer.clone();
            tokio::spawn(async move { writer.book_keyed(n).await })
        })
        .collect();
    held.release().await;
    futures_join(handles.into_iter()).await
}

/// The lock and the blocked batch of [`hold_writer`].
#[allow(dead_code)]
pub struct HeldWriter {
    lock: Lock,
    blocked: tokio::task::JoinHandle<Result<BookOutcome, BookingError>>,
}

#[allow(dead_code)]
enum Lock {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

#[allow(dead_code)]
impl HeldWriter {
    /// Lets the writer go on, after the bookings spawned since have had time to queue, and
    /// checks that the blocking booking was made.
    pub async fn release(self) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        match self.lock {
            Lock::Sqlite(mut lock) => {
                sqlx::query("COMMIT").execute(&mut *lock).await.unwrap();
            }
            Lock::Postgres(mut lock) => {
                sqlx::query("COMMIT").execute(&mut *lock).await.unwrap();
            }
        }
        assert!(matches!(
            self.blocked.await.unwrap(),
            Ok(BookOutcome::Created { .. })
        ));
    }
}
