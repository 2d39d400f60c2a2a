//! The rush scenario's second half: waiting for the admission queue to drain, then reading
//! every ticket's outcome the way a patient would (`GET /api/v1/booking-tickets/{id}`).
//!
//! The drain time runs from the first enqueue to the moment the last-enqueued ticket is seen
//! done (polled every few milliseconds, so it is a little late, never early); a sweep over all
//! tickets then confirms that every one is done, and any ticket that was still queued in the
//! first sweep moves the end to when it was seen done.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use hyper::header::HeaderValue;
use serde::Deserialize;
use uuid::Uuid;

use super::http::{Connection, Prepared};
use super::load::{self, Drive};
use super::plan::Ask;

/// How long the queue may take to drain before the run gives up on it.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Deserialize)]
struct TicketBody {
    status: String,
    outcome: Option<OutcomeBody>,
}

#[derive(Deserialize)]
struct OutcomeBody {
    status: u16,
    code: Option<String>,
    appointment_id: Option<Uuid>,
    /// The whole appointment, where a version of the API gives it instead of its id.
    appointment: Option<IdOnly>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: Uuid,
}

/// A ticket as read.
#[derive(Debug, Clone)]
enum Ticket {
    Queued,
    Done {
        status: u16,
        code: Option<String>,
        appointment: Option<Uuid>,
    },
    /// Not a 200 with a ticket in it.
    Unreadable,
}

fn classify(status: u16, body: &Bytes) -> Ticket {
    if status != 200 {
        return Ticket::Unreadable;
    }
    match serde_json::from_slice::<TicketBody>(body) {
        Ok(t) if t.status == "done" => match t.outcome {
            Some(o) => Ticket::Done {
                status: o.status,
                code: o.code,
                appointment: o.appointment_id.or(o.appointment.map(|a| a.id)),
            },
            None => Ticket::Unreadable,
        },
        Ok(_) => Ticket::Queued,
        Err(_) => Ticket::Unreadable,
    }
}

/// What the tickets came to.
#[derive(Default)]
pub struct Drained {
    pub done: usize,
    pub pending: usize,
    pub errors: usize,
    /// (request index, appointment id) of every ticket that booked (201 or 200 outcome).
    pub appointments: Vec<(usize, Uuid)>,
    pub statuses: BTreeMap<u16, usize>,
    pub conflicts: BTreeMap<String, usize>,
    /// First enqueue to last ticket seen done.
    pub drain: Duration,
    /// Reading every ticket once (the first sweep).
    pub sweep: Option<(usize, Duration, f64)>,
}

impl Drained {
    pub fn print(&self, tickets: usize) {
        let secs = self.drain.as_secs_f64().max(1e-9);
        let booked = self.appointments.len();
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}={n}"))
            .collect();
        let conflicts: Vec<String> = self
            .conflicts
            .iter()
            .map(|(c, n)| format!("{c}={n}"))
            .collect();
        println!(
            "  queue drained: {tickets} tickets in {:.2} s from first enqueue to last done = {:.0} tickets/s, {:.0} successful bookings/s",
            self.drain.as_secs_f64(),
            tickets as f64 / secs,
            booked as f64 / secs,
        );
        println!(
            "  ticket outcomes: {} · conflicts: {} · still queued={} · unreadable={}",
            statuses.join(" "),
            if conflicts.is_empty() {
                "none".into()
            } else {
                conflicts.join(" ")
            },
            self.pending,
            self.errors
        );
        if let Some((n, took, p99)) = self.sweep {
            println!(
                "  read every ticket once: {n} GETs in {:.2} s ({:.0}/s, p99 {p99:.1} ms)",
                took.as_secs_f64(),
                n as f64 / took.as_secs_f64().max(1e-9)
            );
        }
    }
}

/// Waits for the queue to drain and reads every ticket. `queued` holds (request index, ticket,
/// when its 202 arrived); `asks` and `patients` say whose ticket it is.
pub async fn drain(
    addr: SocketAddr,
    connections: usize,
    queued: &[(usize, Uuid, Instant)],
    asks: &[Ask],
    patients: &[(Uuid, HeaderValue)],
    first_enqueue: Instant,
) -> anyhow::Result<Drained> {
    let mut out = Drained::default();
    if queued.is_empty() {
        return Ok(out);
    }
    let request = |(i, ticket): (usize, Uuid)| {
        Prepared::get(
            format!("/api/v1/booking-tickets/{ticket}"),
            Some(patients[asks[i].patient].1.clone()),
        )
    };

    // Watch the ticket enqueued last.
    let (last_i, last_ticket, _) = *queued
        .iter()
        .max_by_key(|(_, _, answered)| *answered)
        .expect("not empty");
    let watch = request((last_i, last_ticket));
    let started = Instant::now();
    let mut connection: Option<Connection> = None;
    let mut end = loop {
        if connection.is_none() {
            connection = Connection::open(addr).await.ok();
        }
        if let Some(c) = connection.as_mut() {
            match c.send(&watch).await {
                Ok((status, body)) => {
                    if let Ticket::Done { .. } = classify(status, &body) {
                        break Instant::now();
                    }
                }
                Err(_) => connection = None,
            }
        }
        if started.elapsed() > DRAIN_TIMEOUT {
            break Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };

    // Read every ticket; re-read those still queued until none is left.
    let mut pending: Vec<(usize, Uuid)> = queued.iter().map(|(i, t, _)| (*i, *t)).collect();
    let mut round = 0;
    while !pending.is_empty() {
        let requests = Arc::new(pending.iter().copied().map(request).collect::<Vec<_>>());
        let drive = Drive {
            addr,
            connections,
            rate: 0,
            give_up: Duration::from_secs(30),
        };
        let run = load::run(drive, requests, classify, Arc::default()).await?;
        if round == 0 {
            let mut latencies = run.latencies();
            latencies.sort();
            let p99 = latencies
                .get((latencies.len() * 99).div_ceil(100).saturating_sub(1))
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(f64::NAN);
            out.sweep = Some((pending.len(), run.elapsed, p99));
        }
        let mut still = Vec::new();
        for ((i, ticket), record) in pending.iter().zip(&run.records) {
            match &record.class {
                Ticket::Queued => still.push((*i, *ticket)),
                Ticket::Unreadable => out.errors += 1,
                Ticket::Done {
                    status,
                    code,
                    appointment,
                } => {
                    out.done += 1;
                    if round > 0 {
                        end = end.max(record.answered);
                    }
                    *out.statuses.entry(*status).or_default() += 1;
                    if let Some(code) = code {
                        *out.conflicts.entry(code.clone()).or_default() += 1;
                    }
                    if let (200 | 201, Some(id)) = (status, appointment) {
                        out.appointments.push((*i, *id));
                    }
                }
            }
        }
        pending = still;
        round += 1;
        if started.elapsed() > DRAIN_TIMEOUT {
            break;
        }
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    out.pending = pending.len();
    out.drain = end.saturating_duration_since(first_enqueue);
    Ok(out)
}
