//! The background worker that drains the outbox: it claims due messages, sends them through
//! the [`Transport`], and records each outcome, on every instance at once without sending a
//! message twice at the same time (the store's claims are leased).
//!
//! It looks for work when woken (`bus.wake("email")`, which reaches every instance), every
//! [`DispatcherOptions::poll_interval`] in case a wake-up was lost (the bus is at-most-once),
//! and again at once after a full batch. Under a stream of bookings the wake-ups come after
//! every commit, and each round writes to the database (on SQLite through the single writer the
//! bookings queue for), so rounds start at most every [`DispatcherOptions::min_gap`], and while
//! bookings wait for the writer a round waits too, up to [`DispatcherOptions::max_defer`]. It
//! stops when the application's shutdown token fires; messages it had claimed but not sent are
//! claimed again once their lease ends.
//!
//! Logs name outbox ids and error categories, never addresses, subjects or bodies.

use std::time::Duration;

use chrono::Utc;
use docde_bus::Subscription;
use docde_store::StoreError;
use docde_store::outbox::{self, NewEmail, OutboxEmail};
use lettre::message::Mailbox;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::mail::transport::{self, SendError, Transport};
use crate::state::AppState;

/// The bus channel that announces new messages in the outbox.
pub const WAKE_CHANNEL: &str = "email";

/// How the dispatcher paces itself. The defaults suit production; tests shorten them.
#[derive(Debug, Clone)]
pub struct DispatcherOptions {
    /// Messages claimed per round by a transport that sends them one by one (the relay): each
    /// SMTP conversation must start inside the claim's lease.
    pub batch: u32,
    /// Messages claimed per round by a transport that writes a round at once (the directory:
    /// one file and one `fsync` whatever its size), so a burst goes out in few rounds.
    pub round_batch: u32,
    /// Shortest time from the start of one round to the start of the next, unless the first
    /// was full. A letter waits at most this much longer; the bookings that wake the
    /// dispatcher after every commit no longer queue behind its writes each time.
    pub min_gap: Duration,
    /// Longest a round waits, after the previous one started, while bookings are waiting for
    /// the writer ([`crate::booking::Booking::busy`]): a burst's bookings are written first
    /// and its letters right after, each round no later than this.
    pub max_defer: Duration,
    /// How long a claim keeps other instances away. It bounds how long a crashed instance's
    /// messages wait, and must comfortably exceed [`transport::SEND_TIMEOUT`].
    pub lease: Duration,
    /// Longest wait between rounds when no wake-up arrives.
    pub poll_interval: Duration,
    /// Wait after the first failed attempt; doubled after each further one …
    pub retry_base: Duration,
    /// … up to this.
    pub retry_cap: Duration,
    /// Attempts before a message that keeps failing temporarily is given up.
    pub max_attempts: u32,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        Self {
            batch: 50,
            round_batch: 500,
            min_gap: Duration::from_millis(100),
            max_defer: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(5),
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(10 * 60),
            max_attempts: 10,
        }
    }
}

impl DispatcherOptions {
    /// The wait before the next attempt, after `attempts` failed ones (1 for the first).
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
        self.retry_base.saturating_mul(factor).min(self.retry_cap)
    }
}

/// Queues `email` and wakes the dispatchers; returns the outbox id.
///
/// Code that writes a message inside its own transaction (with `docde_store::enqueue_email!`)
/// must call [`wake`] after the commit instead: a wake-up before the commit would find
/// nothing, and the message would wait for the next poll.
pub async fn enqueue_and_wake(state: &AppState, email: NewEmail) -> Result<Uuid, StoreError> {
    let id = outbox::enqueue(&state.store, &email, Utc::now()).await?;
    wake(state).await;
    Ok(id)
}

/// Tells every instance's dispatcher that the outbox has new messages. Never fails: the
/// message is already stored, and without the wake-up it goes out at the next poll.
pub async fn wake(state: &AppState) {
    if let Err(error) = state.bus.wake(WAKE_CHANNEL).await {
        tracing::warn!(%error, "could not wake the e-mail dispatchers; relying on their poll");
    }
}

/// How often the `email_outbox_pending` gauge is refreshed at most.
const GAUGE_EVERY: Duration = Duration::from_secs(1);

/// Starts the dispatcher with the default options.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    spawn_with(state, DispatcherOptions::default())
}

/// Starts the dispatcher; it returns when `state.shutdown` fires.
pub fn spawn_with(state: AppState, options: DispatcherOptions) -> JoinHandle<()> {
    // Subscribed before the task starts, so a wake-up sent right after this returns is kept.
    let wakeups = state.bus.wakeups(WAKE_CHANNEL);
    tokio::spawn(run(state, options, wakeups))
}

async fn run(state: AppState, options: DispatcherOptions, wakeups: Subscription) {
    describe_metrics();
    let Some((transport, from)) = setup(&state) else {
        // Messages stay pending (and visible in `email_outbox_pending`) until the
        // configuration is fixed and the service restarted; none is lost or failed.
        state.shutdown.cancelled().await;
        return;
    };
    tracing::info!(transport = transport.kind(), "e-mail dispatcher started");
    let mut wakeups = Some(wakeups);
    // The gauge counts every pending message: during a rush tens of thousands, and rounds
    // follow each other within milliseconds. Then once a second is plenty for a dashboard;
    // before the dispatcher waits, it is always brought up to date.
    let mut gauged_at: Option<tokio::time::Instant> = None;
    let limit = if transport.sends_rounds() {
        options.round_batch
    } else {
        options.batch
    };
    let mut last_round: Option<tokio::time::Instant> = None;
    let mut more_due = false;
    loop {
        // Bookings first: while they wait for the writer, a round waits too, up to
        // `max_defer` after the previous one started — or, when that was longer ago (a quiet
        // spell: the night before a 9 a.m. rush, or no round yet), after this one became due.
        // The first letter of a burst wakes the dispatcher at the burst's very start, and
        // that round ran beside its first and largest batches (BENCHMARKS.md, session 28).
        let since = match last_round {
            Some(last) if more_due || last.elapsed() < options.max_defer => last,
            _ => tokio::time::Instant::now(),
        };
        while state.booking.busy() && since.elapsed() < options.max_defer {
            tokio::select! {
                () = state.shutdown.cancelled() => return,
                () = tokio::time::sleep(options.min_gap) => {}
            }
        }
        let started = tokio::time::Instant::now();
        last_round = Some(started);
        let full_batch = match round(&state, &transport, &from, &options, limit).await {
            Ok(claimed) => claimed >= limit as usize,
            Err(error) => {
                tracing::warn!(%error, "e-mail round failed; retrying at the next poll");
                false
            }
        };
        if !full_batch || gauged_at.is_none_or(|at| at.elapsed() >= GAUGE_EVERY) {
            gauged_at = Some(tokio::time::Instant::now());
            if let Ok(pending) = outbox::pending_count(&state.store).await {
                metrics::gauge!("email_outbox_pending").set(pending as f64);
            }
        }
        if state.shutdown.is_cancelled() {
            return;
        }
        more_due = full_batch;
        if full_batch {
            // More may be due right now.
            continue;
        }
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            () = tokio::time::sleep(options.poll_interval) => {}
            () = next_wakeup(&mut wakeups) => {}
        }
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            () = tokio::time::sleep_until(started + options.min_gap) => {}
        }
    }
}

/// The transport and the sender address, or `None` (logged) if the configuration is unusable.
fn setup(state: &AppState) -> Option<(Transport, Mailbox)> {
    let from = match state.config.smtp.from.parse::<Mailbox>() {
        Ok(from) => from,
        Err(_) => {
            tracing::error!("smtp.from is not a valid mailbox; no e-mail will be sent");
            return None;
        }
    };
    match Transport::from_config(&state.config) {
        Ok(transport) => Some((transport, from)),
        Err(error) => {
            tracing::error!(%error, "smtp settings are unusable; no e-mail will be sent");
            None
        }
    }
}

/// Resolves on the next wake-up; never, if the bus has gone (polling still runs).
async fn next_wakeup(wakeups: &mut Option<Subscription>) {
    if let Some(subscription) = wakeups {
        // Data or `Lagged`: either way there is something to look at.
        if subscription.recv().await.is_some() {
            return;
        }
        *wakeups = None;
    }
    std::future::pending().await
}

/// Claims one batch and sends it; returns how many messages were claimed.
async fn round(
    state: &AppState,
    transport: &Transport,
    from: &Mailbox,
    options: &DispatcherOptions,
    limit: u32,
) -> Result<usize, StoreError> {
    let claimed_at = tokio::time::Instant::now();
    // Writing a round to the directory is idempotent by message id, and on SQLite this process
    // is the database's only sender: no claim needed (see `outbox::peek_due`).
    let batch = if transport.sends_rounds() && state.store.dialect() == "sqlite" {
        outbox::peek_due(&state.store, limit, Utc::now()).await?
    } else {
        outbox::claim_due(&state.store, limit, options.lease, Utc::now()).await?
    };
    let claimed = batch.len();
    // A send must finish inside the lease, or another instance could claim the same message
    // and send it too: stop starting sends once one might not finish in time.
    let last_start = options.lease - transport::SEND_TIMEOUT.min(options.lease / 2);
    // The sent ones are marked together after the round, inside the lease (no send starts
    // after `last_start`): one commit for the batch instead of one each, which under a stream
    // of bookings (a letter each) queued behind the booking writer on SQLite. A crash before
    // the mark sends them again, as a crash after any single send always could.
    let mut sent = Vec::with_capacity(claimed);
    let mut recorded = Ok(());
    if let Some(outcomes) = transport.send_round(from, &batch).await {
        for (email, outcome) in batch.iter().zip(outcomes) {
            if let Err(e) = record(state, options, email, outcome, &mut sent).await {
                recorded = Err(e);
                break;
            }
        }
    } else {
        for email in &batch {
            if state.shutdown.is_cancelled() || claimed_at.elapsed() > last_start {
                // The rest are claimed again when the lease ends.
                break;
            }
            let outcome = transport.send(from, email).await;
            if let Err(e) = record(state, options, email, outcome, &mut sent).await {
                recorded = Err(e);
                break;
            }
        }
    }
    outbox::mark_sent_all(&state.store, &sent, Utc::now()).await?;
    recorded.map(|()| claimed)
}

/// Records a send's outcome; a sent message's id goes to `sent`, to be marked with the rest.
async fn record(
    state: &AppState,
    options: &DispatcherOptions,
    email: &OutboxEmail,
    outcome: Result<(), SendError>,
    sent: &mut Vec<uuid::Uuid>,
) -> Result<(), StoreError> {
    let attempt = email.attempts + 1;
    let label = match outcome {
        Ok(()) => {
            sent.push(email.id);
            tracing::info!(outbox.id = %email.id, attempt, "e-mail sent");
            "sent"
        }
        Err(SendError::Permanent(kind)) => {
            outbox::mark_failed(&state.store, email.id, &kind).await?;
            tracing::warn!(outbox.id = %email.id, error.kind = %kind, attempt, "e-mail refused; giving up");
            "failed"
        }
        Err(SendError::Transient(kind)) if attempt >= options.max_attempts => {
            outbox::mark_failed(&state.store, email.id, &kind).await?;
            tracing::warn!(outbox.id = %email.id, error.kind = %kind, attempt, "e-mail still failing; giving up");
            "failed"
        }
        Err(SendError::Transient(kind)) => {
            let delay = options.retry_delay(attempt);
            let next =
                Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::days(1));
            outbox::mark_retry(&state.store, email.id, &kind, next).await?;
            tracing::info!(outbox.id = %email.id, error.kind = %kind, attempt, retry_in = ?delay, "e-mail not sent; will retry");
            "retry"
        }
    };
    metrics::counter!("email_sent_total", "outcome" => label).increment(1);
    Ok(())
}

fn describe_metrics() {
    metrics::describe_counter!(
        "email_sent_total",
        "E-mail delivery attempts, by outcome (sent, retry, failed)"
    );
    metrics::describe_gauge!(
        "email_outbox_pending",
        "E-mails waiting in the outbox (not yet sent nor given up)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let options = DispatcherOptions::default();
        let delays: Vec<u64> = (1..=10).map(|n| options.retry_delay(n).as_secs()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
        assert_eq!(options.retry_delay(u32::MAX), options.retry_cap);
    }
}
