//! When bookings go through the admission queue instead of straight to the writer.
//!
//! At the 9 a.m. rush the queue turns a flood of requests into an orderly stream: each request
//! is stored durably and answered `202` with a ticket, and workers book tickets in order. The
//! policy is `auto` (during the configured peak windows, judged in the hospital's local time at
//! the moment the request arrives, or while this instance has more bookings in progress than
//! `rush_in_flight`), `always` or `never`.

use chrono::{DateTime, NaiveTime, Utc};

use crate::config::{BookingSettings, RushMode, parse_window};

pub struct RushPolicy {
    mode: RushMode,
    windows: Vec<(NaiveTime, NaiveTime)>,
    in_flight_limit: usize,
}

impl RushPolicy {
    pub fn from_settings(settings: &BookingSettings) -> Self {
        Self {
            mode: settings.rush,
            // Validated when the configuration was loaded.
            windows: settings
                .peak_windows
                .iter()
                .filter_map(|w| parse_window(w).ok())
                .collect(),
            in_flight_limit: settings.rush_in_flight,
        }
    }

    /// Whether a booking arriving `now` for a hospital in `tz` goes through the queue.
    pub fn applies(&self, now: DateTime<Utc>, tz: chrono_tz::Tz, in_flight: usize) -> bool {
        match self.mode {
            RushMode::Always => true,
            RushMode::Never => false,
            RushMode::Auto => {
                let local = now.with_timezone(&tz).time();
                in_flight >= self.in_flight_limit
                    || self
                        .windows
                        .iter()
                        .any(|(start, end)| *start <= local && local < *end)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: RushMode) -> RushPolicy {
        RushPolicy::from_settings(&BookingSettings {
            rush: mode,
            ..BookingSettings::default()
        })
    }

    #[test]
    fn auto_mode_queues_inside_the_peak_window_in_hospital_time_only() {
        let seoul = chrono_tz::Asia::Seoul;
        let p = policy(RushMode::Auto);
        // 08:00 and 09:59 in Seoul are 23:00 and 00:59 UTC.
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(p.applies(at("2026-11-22T23:00:00Z"), seoul, 0));
        assert!(p.applies(at("2026-11-23T00:59:59Z"), seoul, 0));
        assert!(!p.applies(at("2026-11-23T01:00:00Z"), seoul, 0));
        assert!(!p.applies(at("2026-11-22T22:59:59Z"), seoul, 0));
        // Outside the window, load alone turns the queue on.
        assert!(p.applies(at("2026-11-23T03:00:00Z"), seoul, 2_000));
    }

    #[test]
    fn always_and_never_ignore_the_clock() {
        let now = Utc::now();
        assert!(policy(RushMode::Always).applies(now, chrono_tz::UTC, 0));
        assert!(!policy(RushMode::Never).applies(now, chrono_tz::UTC, usize::MAX));
    }
}

// ---- The queue itself -------------------------------------------------------------------

use std::time::Duration;

use docde_store::booking::tickets::{self, Ticket};
use docde_store::booking::{BookOutcome, NewAppointment};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::appointments::booking_error;
use crate::booking::notify::{self, SeatChange};
use crate::problem::ApiError;
use crate::state::AppState;

/// The wake-up channel telling queue workers there is work.
pub const WAKE: &str = "booking-queue";

/// Tickets booked per transaction by a queue worker.
const SERVE_BATCH: u32 = 512;

/// A rush ticket.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TicketView {
    pub id: Uuid,
    /// `queued` or `done`.
    pub status: String,
    /// Tickets ahead of this one plus one, while queued.
    pub position: Option<i64>,
    pub outcome: Option<TicketOutcome>,
}

/// What the queued booking came to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TicketOutcome {
    /// The status the booking request would have had: 201 booked, 409 refused.
    pub status: u16,
    /// The problem code when refused (`slot_full`, `patient_overlap`, …).
    pub code: Option<String>,
    /// The appointment, when booked.
    pub appointment_id: Option<Uuid>,
}

pub fn view(ticket: &Ticket, served: i64) -> TicketView {
    TicketView {
        id: ticket.id,
        status: if ticket.done { "done" } else { "queued" }.into(),
        position: (!ticket.done).then(|| (ticket.seq - served).max(1)),
        outcome: ticket.done.then(|| TicketOutcome {
            status: ticket
                .outcome_status
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(500),
            code: ticket.outcome_code.clone(),
            appointment_id: (ticket.outcome_status == Some(201)).then_some(ticket.appointment_id),
        }),
    }
}

/// Stores the booking as a ticket (answered after its commit) and wakes the workers.
///
/// A retried request finds its first ticket through the unique `(patient, key)` index: the
/// insert is refused and the ticket read back. Asking first, as this did until session 24,
/// cost every request of a rush a read of its own for the rare retry.
pub async fn enqueue(
    state: &AppState,
    patient_id: Uuid,
    new: NewAppointment,
) -> Result<TicketView, ApiError> {
    let ticket_id = Uuid::now_v7();
    // Only the key is needed again (for a retry), not the whole booking.
    let key = new.idempotency_key.clone();
    let queued = match state.booking.writer.enqueue(ticket_id, new).await {
        Ok(queued) => queued,
        // A retry, or the same key raced in on another instance: answer with that ticket.
        Err(e) if tickets::is_repeated_key(&e) => {
            let key = key.as_deref().unwrap_or_default();
            let existing = tickets::by_key(&state.store, patient_id, key)
                .await?
                .ok_or(ApiError::NotFound)?;
            let served = tickets::served(&state.store).await?;
            return Ok(view(&existing, served));
        }
        Err(e) => return Err(booking_error(e)),
    };
    // In the background: a slow Redis must not delay the 202 (workers also poll).
    notify::wake_queue(state);
    Ok(TicketView {
        id: ticket_id,
        status: "queued".into(),
        position: Some((queued.seq - queued.served).max(1)),
        outcome: None,
    })
}

/// The bus topic on which a ticket's result is announced.
pub fn ticket_topic(ticket_id: Uuid) -> String {
    format!("ticket:{ticket_id}")
}

/// Serves the queue until shutdown: books tickets in order, in batches, and announces each
/// result. With several instances each runs one; the database hands each a different batch.
pub fn spawn_worker(state: AppState) -> JoinHandle<()> {
    let mut wakeups = state.bus.wakeups(WAKE);
    tokio::spawn(async move {
        loop {
            let served = state.booking.writer.serve_queue(SERVE_BATCH).await;
            let backlog = matches!(&served, Ok(s) if s.len() >= SERVE_BATCH as usize);
            state
                .booking
                .queue_backlog
                .store(backlog, std::sync::atomic::Ordering::Release);
            match served {
                Ok(served) if !served.is_empty() => {
                    announce(&state, served).await;
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "serving the booking queue failed; retrying"),
            }
            // Idle: wait for a wake-up, or poll now and then in case one was missed.
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = wakeups.recv() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    })
}

async fn announce(state: &AppState, served: Vec<tickets::Served>) {
    let mut mail = false;
    let mut tickets_done = Vec::with_capacity(served.len());
    for s in served {
        crate::metrics::domain::booked_from_queue(&s.outcome, s.queued_at);
        if let Ok(BookOutcome::Created {
            appointment,
            event_id,
            seats_taken,
        }) = &s.outcome
        {
            mail = true;
            notify::after_commit(
                state,
                appointment,
                *event_id,
                SeatChange::Taken(*seats_taken),
            )
            .await;
        }
        tickets_done.push(ticket_topic(s.ticket_id));
    }
    // In the background, so an unreachable Redis does not stall the queue; ticket streams
    // also re-read their ticket every second.
    let bus = state.bus.clone();
    tokio::spawn(async move {
        for topic in tickets_done {
            let _ = bus.publish(&topic, "done").await;
        }
    });
    if mail {
        notify::wake_mail(state);
    }
}
