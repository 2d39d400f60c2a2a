//! Sends the queued Web Push messages: claims due rows (a lease and a fencing token, so
//! instances take disjoint rows), encrypts each for its browser, signs it with the VAPID key
//! and posts it to the browser's push service, all concurrently, each bounded by
//! `push.timeout_ms`.
//!
//! Outcomes: a 2xx is delivered; 404 or 410 (the browser unsubscribed or the subscription
//! expired) and 403 (it was made for another VAPID key) drop the subscription and its queued
//! messages; 429, 5xx and network errors are retried, waiting 2 s and doubling up to a
//! minute, until `push.max_attempts`; other answers give the message up. A message whose
//! alarm was acknowledged or resolved meanwhile, or that is older than `push.ttl_secs`, is
//! given up unsent: the page would be stale. Each browser has rows of its own, so a slow or
//! failing one never holds up another.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use docde_bus::Subscription;
use docde_domain::ward::alarm::AlarmStatus;
use docde_store::StoreError;
use docde_store::ward::push::{self, Delivery};
use tokio::task::JoinHandle;
use web_push_native::{Auth, WebPushBuilder, p256};

use super::keys::VapidKeys;
use super::{endpoint_host, message};
use crate::state::AppState;

/// The bus channel that announces queued messages.
pub const WAKE_CHANNEL: &str = "ward_push";
/// `kind` label of the outgoing-delivery metric.
const METRIC_KIND: &str = "web_push";
/// Messages claimed (and sent concurrently) per round.
const BATCH: u32 = 50;
const RETRY_BASE: Duration = Duration::from_secs(2);
const RETRY_CAP: Duration = Duration::from_secs(60);
/// The claim outlasts the slowest request by this much.
const LEASE_MARGIN: TimeDelta = TimeDelta::seconds(30);

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
    /// Subscriptions dropped because their push service called them gone.
    pub dropped: usize,
}

enum Outcome {
    Delivered,
    Retry,
    Failed,
    Dropped,
}

/// Tells every instance's worker that messages are waiting. Never fails: they are stored,
/// and without the wake-up they go out at the next poll.
pub async fn wake(state: &AppState) {
    if let Err(error) = state.bus.wake(WAKE_CHANNEL).await {
        tracing::warn!(%error, "could not wake the web push workers; relying on their poll");
    }
}

/// The wait before the next request after `attempts` failed ones.
fn retry_delay(attempts: u32) -> Duration {
    RETRY_BASE
        .saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1)))
        .min(RETRY_CAP)
}

/// One round at `now`: claims due messages, sends them concurrently and records each
/// outcome. Tests call it with an explicit clock.
pub async fn deliver_due(state: &AppState, now: DateTime<Utc>) -> Result<Round, StoreError> {
    let timeout = Duration::from_millis(state.config.push.timeout_ms);
    let lease = TimeDelta::from_std(timeout).unwrap_or(TimeDelta::hours(1)) + LEASE_MARGIN;
    let batch = push::claim_due(&state.store, BATCH, lease, now).await?;
    let mut round = Round {
        claimed: batch.len(),
        ..Round::default()
    };
    if batch.is_empty() {
        return Ok(round);
    }
    let keys = match state.ward.push.get(state).await {
        Ok(keys) => keys,
        Err(error) => {
            // Without a key nothing can be signed; the rows wait for the next round.
            tracing::error!(%error, "the VAPID key is unavailable; web push messages wait");
            for d in &batch {
                let next =
                    now + TimeDelta::from_std(retry_delay(d.attempts + 1)).unwrap_or_default();
                push::mark_retry(&state.store, d, "no_key", next).await?;
            }
            round.retried = batch.len();
            return Ok(round);
        }
    };
    let outcomes =
        futures::future::join_all(batch.iter().map(|d| attempt(state, &keys, d, now))).await;
    for outcome in outcomes {
        match outcome? {
            Outcome::Delivered => round.delivered += 1,
            Outcome::Retry => round.retried += 1,
            Outcome::Failed => round.failed += 1,
            Outcome::Dropped => round.dropped += 1,
        }
    }
    Ok(round)
}

async fn attempt(
    state: &AppState,
    keys: &VapidKeys,
    d: &Delivery,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let store = &state.store;
    let settings = &state.config.push;
    let ttl = TimeDelta::try_seconds(i64::try_from(settings.ttl_secs).unwrap_or(i64::MAX))
        .unwrap_or(TimeDelta::MAX);
    let stale = if d.alarm_status != AlarmStatus::Active {
        Some("alarm_closed")
    } else if now - d.created_at >= ttl {
        Some("expired")
    } else {
        None
    };
    if let Some(why) = stale {
        push::mark_failed(store, d, why).await?;
        count("skipped");
        return Ok(Outcome::Failed);
    }
    let attempt = d.attempts + 1;
    match send(state, keys, d).await {
        Ok(()) => {
            push::mark_delivered(store, d, Utc::now().max(now)).await?;
            count("delivered");
            tracing::info!(alarm.id = %d.alarm_id, subscription.id = %d.subscription.id, reason = %d.reason, attempt, "web push delivered");
            Ok(Outcome::Delivered)
        }
        Err(Failure::Gone(status)) => {
            push::drop_subscription(store, d.subscription.id).await?;
            count("dropped");
            tracing::info!(subscription.id = %d.subscription.id, user.id = %d.subscription.user_id, status, "push subscription gone; dropped");
            Ok(Outcome::Dropped)
        }
        Err(Failure::Retry(kind)) if attempt < settings.max_attempts => {
            let delay = retry_delay(attempt);
            let next = now + TimeDelta::from_std(delay).unwrap_or(TimeDelta::hours(1));
            push::mark_retry(store, d, &kind, next).await?;
            count("retry");
            tracing::info!(alarm.id = %d.alarm_id, subscription.id = %d.subscription.id, error.kind = %kind, attempt, retry_in = ?delay, "web push not delivered; will retry");
            Ok(Outcome::Retry)
        }
        Err(Failure::Retry(kind) | Failure::Refused(kind)) => {
            push::mark_failed(store, d, &kind).await?;
            count("failed");
            tracing::warn!(alarm.id = %d.alarm_id, subscription.id = %d.subscription.id, error.kind = %kind, attempt, "web push given up");
            Ok(Outcome::Failed)
        }
    }
}

/// Why a request did not deliver; categories only, never the endpoint or the answer's body.
enum Failure {
    /// 403/404/410: the subscription is unusable.
    Gone(u16),
    /// Worth another try (network, timeout, 429, 5xx).
    Retry(String),
    /// Refused for good (another 4xx, a key that does not decode).
    Refused(String),
}

async fn send(state: &AppState, keys: &VapidKeys, d: &Delivery) -> Result<(), Failure> {
    let settings = &state.config.push;
    let refused = |what: &str| Failure::Refused(what.to_owned());
    let endpoint = d
        .subscription
        .endpoint
        .parse()
        .map_err(|_| refused("endpoint"))?;
    let ua_public = URL_SAFE_NO_PAD
        .decode(&d.subscription.p256dh)
        .ok()
        .and_then(|k| p256::PublicKey::from_sec1_bytes(&k).ok())
        .ok_or_else(|| refused("p256dh"))?;
    let auth = state
        .records
        .open(
            &auth_context(&d.subscription.endpoint),
            &d.subscription.auth,
        )
        .await
        .ok()
        .and_then(|a| URL_SAFE_NO_PAD.decode(a).ok())
        .and_then(|a| <[u8; 16]>::try_from(a).ok())
        .ok_or_else(|| refused("auth"))?;
    let request = WebPushBuilder::new(endpoint, ua_public, Auth::from(auth))
        .with_valid_duration(Duration::from_secs(settings.ttl_secs))
        .with_vapid(&keys.pair, &settings.contact)
        .build(message(d).to_string())
        .map_err(|_| refused("encrypt"))?;
    let (parts, body) = request.into_parts();
    let sent = state
        .outbound
        .post(d.subscription.endpoint.as_str())
        .headers(parts.headers)
        // RFC 8030: deliver at once even to a device saving battery, and let a newer message
        // about the same alarm replace one still waiting at the push service.
        .header("Urgency", "high")
        .header("Topic", d.alarm_id.simple().to_string())
        .timeout(Duration::from_millis(settings.timeout_ms))
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => {
            let status = r.status().as_u16();
            match status {
                403 | 404 | 410 => Err(Failure::Gone(status)),
                429 | 500..=599 => Err(Failure::Retry(format!("status_{status}"))),
                _ => Err(Failure::Refused(format!("status_{status}"))),
            }
        }
        Err(e) => {
            tracing::debug!(host = %endpoint_host(&d.subscription.endpoint), "push request failed");
            Err(Failure::Retry(
                crate::reports::webhook::error_kind(&e).to_owned(),
            ))
        }
    }
}

/// The vault context a subscription's `auth` secret is sealed under: bound to its endpoint,
/// so a sealed secret copied onto another subscription's row does not open.
pub fn auth_context(endpoint: &str) -> String {
    format!("push.subscription.auth {endpoint}")
}

fn count(outcome: &'static str) {
    metrics::counter!(crate::metrics::WEBHOOK_DELIVERIES, "kind" => METRIC_KIND, "outcome" => outcome)
        .increment(1);
}

/// Starts the worker; it returns when `state.shutdown` fires. Messages it had claimed but not
/// settled are claimed again, here or elsewhere, once their lease ends.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    // Subscribed before the task starts, so a wake-up sent right after this returns is kept.
    let wakeups: Subscription = state.bus.wakeups(WAKE_CHANNEL);
    tokio::spawn(async move {
        metrics::describe_gauge!(
            "ward_push_pending",
            "Web Push messages waiting (neither delivered nor given up)"
        );
        crate::ward::webhook::drain(state, wakeups, "web push", |state| async move {
            let round = deliver_due(&state, Utc::now()).await?;
            if let Ok(pending) = push::pending_count(&state.store).await {
                metrics::gauge!("ward_push_pending").set(pending as f64);
            }
            Ok(round.claimed >= BATCH as usize)
        })
        .await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_two_seconds_up_to_a_minute() {
        let delays: Vec<u64> = (1..=7).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(retry_delay(u32::MAX), RETRY_CAP);
    }
}
