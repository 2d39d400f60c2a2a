//! Booking as the server runs it: the group-commit writer, the in-memory availability view,
//! the rush admission queue and the patient notifications that follow every change.
//!
//! The database decides who gets a seat (docde-store's booking module). Everything here only
//! sheds load or tells people: the availability view answers "which slots are free" without a
//! query and refuses a booking for a slot it knows is full, and may be a few milliseconds
//! behind other instances, never ahead of the database.

pub mod availability;
pub mod document;
pub mod notify;
pub mod rush;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use docde_store::Store;
use docde_store::booking::{BookingWriter, appointments};
use futures::FutureExt;
use uuid::Uuid;

use crate::batched_reads::BatchedReads;
use crate::config::BookingSettings;

/// This instance's booking machinery; one per process, shared through `AppState`.
pub struct Booking {
    pub writer: BookingWriter,
    pub views: availability::Availability,
    pub rush: rush::RushPolicy,
    /// Shared reads of "did this (patient, idempotency key) already book?" for requests the
    /// view refuses as full (a retry of a committed first attempt must get that answer).
    pub key_checks: BatchedReads<(Uuid, String)>,
    in_flight: AtomicUsize,
    /// A mail wake-up is on its way (see `notify::wake_mail`).
    pub(crate) mail_wake_pending: std::sync::atomic::AtomicBool,
    /// A wake-up of the rush queue's workers is on its way (see `notify::wake_queue`).
    pub(crate) queue_wake_pending: std::sync::atomic::AtomicBool,
    /// The rush queue's worker is serving a backlog (its last batch was full).
    pub(crate) queue_backlog: std::sync::atomic::AtomicBool,
}

impl Booking {
    /// Starts the group-commit writers. Must run inside the Tokio runtime.
    pub fn start(store: &Store, settings: &BookingSettings) -> Arc<Self> {
        // By default one on SQLite, which has one writer connection anyway, and two on
        // PostgreSQL: with one, a fifth of the two cores idled while the writer waited on its
        // statements; two, each serving the doctors of its own lane, booked ~18 % more
        // (BENCHMARKS.md, session 21).
        let writers = match settings.writers {
            0 if store.dialect() == "postgres" => 2,
            0 => 1,
            n => n,
        };
        // The writers stop by themselves once the last handle is dropped with the state.
        let (writer, _) = BookingWriter::spawn(store.clone(), writers);
        Arc::new(Self {
            writer,
            views: if store.dialect() == "sqlite" {
                availability::Availability::fresh_for(availability::FRESH_FOR_SOLE_WRITER)
            } else {
                availability::Availability::new()
            },
            rush: rush::RushPolicy::from_settings(settings),
            key_checks: BatchedReads::new(|store, keys| {
                async move {
                    let used = appointments::keys_used_among(&store, &keys).await?;
                    Ok(used.into_iter().map(|pair| (pair, ())).collect())
                }
                .boxed()
            }),
            in_flight: AtomicUsize::new(0),
            mail_wake_pending: std::sync::atomic::AtomicBool::new(false),
            queue_wake_pending: std::sync::atomic::AtomicBool::new(false),
            queue_backlog: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Counts a booking as in progress until the guard is dropped.
    pub fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(&self.in_flight)
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Bookings are waiting for this instance's writer: requests in progress, or a backlog in
    /// the rush queue. Work that can wait (the e-mail dispatcher's rounds) yields to them.
    pub fn busy(&self) -> bool {
        self.in_flight() > 0 || self.queue_backlog.load(Ordering::Acquire)
    }
}

/// A booking in progress (see [`Booking::enter`]).
pub struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Public holidays the schedules' `closed_on_holidays` follows (Korea's, built once).
pub static HOLIDAYS: std::sync::LazyLock<docde_domain::directory::HolidayCalendar> =
    std::sync::LazyLock::new(docde_domain::directory::HolidayCalendar::korea);
