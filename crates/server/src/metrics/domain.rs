//! Metrics of the domain beyond HTTP: bookings by outcome, check-ins, ingest lag, and the
//! gauges read from the database and the bus at each scrape (open alarms, the booking queue,
//! coordination health). Call sites stay one line each: the label logic lives here.
//!
//! The scrape-time gauges describe the whole installation (the database is shared), so with N
//! instances every instance reports the same value: aggregate them with `max`, not `sum`.

use std::time::Duration;

use chrono::Utc;
use docde_domain::ward::Sample;
use docde_store::booking::{BookOutcome, BookingConflict, BookingError};

use crate::state::AppState;

/// Longest a scrape waits for one database or bus reading; a slow one keeps its old value.
const SCRAPE_READ_TIMEOUT: Duration = Duration::from_millis(1_000);

/// `booking_requests_total{path="direct"}`: a booking answered by the group-commit writer.
pub fn booked(outcome: &Result<BookOutcome, BookingError>) {
    let label = match outcome {
        Ok(BookOutcome::Created { .. }) => "created",
        Ok(BookOutcome::Replayed(_)) => "replayed",
        Err(BookingError::Conflict(c)) => c.code(),
        Err(BookingError::SessionEnded) => "session_ended",
        Err(_) => "failed",
    };
    booking("direct", label);
}

/// `booking_requests_total{path="queue"}`: a ticket served by the rush queue worker.
pub fn booked_from_queue(
    outcome: &Result<BookOutcome, BookingConflict>,
    queued_at: chrono::DateTime<Utc>,
) {
    let label = match outcome {
        Ok(BookOutcome::Created { .. }) => "created",
        Ok(BookOutcome::Replayed(_)) => "replayed",
        Err(c) => c.code(),
    };
    booking("queue", label);
    // From the 202 to the outcome's commit (clocks of two instances: clamp skew below 0).
    let waited = (Utc::now() - queued_at).as_seconds_f64().max(0.0);
    metrics::histogram!(BOOKING_QUEUE_WAIT).record(waited);
}

/// `booking_queue_wait_seconds`: how long rush tickets waited, queued → served.
pub const BOOKING_QUEUE_WAIT: &str = "booking_queue_wait_seconds";

/// `booking_requests_total{path="direct", outcome=<problem code>}`: refused before the writer
/// (a slot the availability view knows is full, outside the schedule, too late, …).
pub fn booking_refused(error: &crate::problem::ApiError) {
    booking("direct", error.code());
}

/// `booking_requests_total{path="direct", outcome="queued"}`: a booking sent to the queue.
pub fn booking_queued() {
    booking("direct", "queued");
}

fn booking(path: &'static str, outcome: &'static str) {
    metrics::counter!("booking_requests_total", "path" => path, "outcome" => outcome).increment(1);
}

/// `reception_check_ins_total{path}`: `walk_in` (answered at once), `waiting_room` (queued,
/// counted again by `reception_waiting_room_admitted_total` when served), `appointment`.
pub fn checked_in(path: &'static str) {
    metrics::counter!("reception_check_ins_total", "path" => path).increment(1);
}

/// `ward_ingest_lag_seconds`: from each stored sample's `measured_at` to its commit.
pub fn ingested(samples: &[Sample]) {
    let now = Utc::now();
    for sample in samples {
        let lag = (now - sample.measured_at()).num_milliseconds().max(0) as f64 / 1000.0;
        metrics::histogram!("ward_ingest_lag_seconds").record(lag);
    }
}

/// Refreshes the gauges read at scrape time.
pub async fn refresh(state: &AppState) {
    // This instance's own count, unlike the gauges below.
    metrics::counter!("booking_writer_one_by_one_total")
        .absolute(state.booking.writer.one_by_one());
    let alarms = docde_store::ops::open_alarms(&state.store);
    if let Ok(Ok(rows)) = tokio::time::timeout(SCRAPE_READ_TIMEOUT, alarms).await {
        // Every combination is set, so a priority whose alarms all closed reads 0, not stale.
        for priority in ["high", "medium", "low"] {
            for status in ["active", "acknowledged"] {
                let count = rows
                    .iter()
                    .find(|(p, s, _)| p == priority && s == status)
                    .map_or(0, |r| r.2);
                metrics::gauge!("ward_alarms_open", "priority" => priority, "status" => status)
                    .set(count as f64);
            }
        }
    }
    if let Ok(Ok(queued)) = tokio::time::timeout(
        SCRAPE_READ_TIMEOUT,
        docde_store::booking::tickets::queued(&state.store),
    )
    .await
    {
        metrics::gauge!("booking_queue_tickets").set(queued as f64);
    }
    let up = matches!(
        tokio::time::timeout(SCRAPE_READ_TIMEOUT, state.bus.health()).await,
        Ok(docde_bus::BusHealth::Ready)
    );
    metrics::gauge!("coordination_up", "backend" => state.bus.kind()).set(if up {
        1.0
    } else {
        0.0
    });
}
