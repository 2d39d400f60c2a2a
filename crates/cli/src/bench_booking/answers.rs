//! What the generator makes of each booking answer: its class (created, replayed, queued, a
//! conflict and its code, anything else), the run's counts of each, and its latencies by answer.

use std::collections::BTreeMap;
use std::time::Duration;

use hyper::body::Bytes;
use serde::Deserialize;
use uuid::Uuid;

use super::load::Run;

/// The answer to one booking request, as far as the checks need it.
#[derive(Debug, Clone)]
pub(super) enum Booking {
    /// 201 with the new appointment.
    Created(Uuid),
    /// 200: an idempotent replay of an earlier request.
    Replayed(Uuid),
    /// 202 with a ticket of the admission queue.
    Queued(Uuid),
    /// 409 with its `code`.
    Conflict(String),
    /// Anything else (status in the record).
    Other,
}

#[derive(Deserialize)]
struct BookingBody {
    id: Option<Uuid>,
    ticket_id: Option<Uuid>,
    code: Option<String>,
}

pub(super) fn classify_booking(status: u16, body: &Bytes) -> Booking {
    let parsed: Option<BookingBody> = serde_json::from_slice(body).ok();
    match (status, parsed) {
        (201, Some(BookingBody { id: Some(id), .. })) => Booking::Created(id),
        (200, Some(BookingBody { id: Some(id), .. })) => Booking::Replayed(id),
        // The ticket itself (`id`), or a wrapper naming it (`ticket_id`).
        (202, Some(BookingBody { ticket_id, id, .. })) => match ticket_id.or(id) {
            Some(ticket) => Booking::Queued(ticket),
            None => Booking::Other,
        },
        (409, Some(BookingBody { code: Some(c), .. })) => Booking::Conflict(c),
        (409, _) => Booking::Conflict("(no code)".into()),
        _ => Booking::Other,
    }
}

/// Answer counts of a booking run.
#[derive(Default)]
pub(super) struct Counts {
    created: usize,
    replayed: usize,
    queued: usize,
    pub(super) conflicts: BTreeMap<String, usize>,
    other_2xx: usize,
    client_errors: BTreeMap<u16, usize>,
    server_errors: usize,
    no_answer: usize,
    retries: u64,
}

impl Counts {
    pub(super) fn of(run: &Run<Booking>) -> Self {
        let mut c = Counts {
            retries: run.retries(),
            ..Counts::default()
        };
        for r in &run.records {
            match (&r.class, r.status) {
                (Booking::Created(_), _) => c.created += 1,
                (Booking::Replayed(_), _) => c.replayed += 1,
                (Booking::Queued(_), _) => c.queued += 1,
                (Booking::Conflict(code), _) => *c.conflicts.entry(code.clone()).or_default() += 1,
                (Booking::Other, 0) => c.no_answer += 1,
                (Booking::Other, s) if s >= 500 => c.server_errors += 1,
                (Booking::Other, s) if s >= 400 => *c.client_errors.entry(s).or_default() += 1,
                (Booking::Other, _) => c.other_2xx += 1,
            }
        }
        c
    }

    /// Answers that are not a booking, a queued booking or a clean conflict.
    pub(super) fn errors(&self) -> usize {
        self.client_errors.values().sum::<usize>()
            + self.server_errors
            + self.no_answer
            + self.other_2xx
    }

    pub(super) fn line(&self) -> String {
        let conflicts: Vec<String> = self
            .conflicts
            .iter()
            .map(|(code, n)| format!("409 {code}={n}"))
            .collect();
        let client: Vec<String> = self
            .client_errors
            .iter()
            .map(|(s, n)| format!("{s}={n}"))
            .collect();
        format!(
            "201={} 200={} 202={} {} · other 4xx: {} · 5xx={} · no answer={} · transport errors retried={}{}",
            self.created,
            self.replayed,
            self.queued,
            if conflicts.is_empty() {
                "409=0".into()
            } else {
                conflicts.join(" ")
            },
            if client.is_empty() {
                "0".into()
            } else {
                client.join(" ")
            },
            self.server_errors,
            self.no_answer,
            self.retries,
            if self.other_2xx > 0 {
                format!(" · unexpected 2xx={}", self.other_2xx)
            } else {
                String::new()
            }
        )
    }
}

/// p50 / p99 / max of the bookings that succeeded and of those refused with 409, apart: in a
/// race for few seats the winners wait for a commit, and most losers are answered from the
/// availability view without one, so the run's p99 alone does not say whose wait it is.
pub(super) fn latency_by_answer(run: &Run<Booking>) -> String {
    let part = |name: &str, keep: &dyn Fn(&Booking) -> bool| {
        let mut l: Vec<Duration> = run
            .records
            .iter()
            .filter(|r| keep(&r.class))
            .map(|r| r.latency)
            .collect();
        l.sort();
        let ms = |q: f64| crate::bench::quantile(&l, q).as_secs_f64() * 1000.0;
        format!(
            "{name} n={} p50={:.1} p99={:.1} max={:.1} ms",
            l.len(),
            ms(0.5),
            ms(0.99),
            ms(1.0)
        )
    };
    format!(
        "{} · {}",
        part("201/200/202", &|c| matches!(
            c,
            Booking::Created(_) | Booking::Replayed(_) | Booking::Queued(_)
        )),
        part("409", &|c| matches!(c, Booking::Conflict(_)))
    )
}
