//! Posting escalations to the ward's outgoing webhook (Mattermost/Slack-compatible
//! `{"text": …, "attachments": […]}`): the checked URL, the message, and the delivery worker.
//!
//! The escalation worker only writes a delivery row, in the escalation's own transaction
//! (`docde_store::ward::webhooks`), so a slow or dead receiver can never hold up an escalation,
//! a stream or a request. This worker runs on every instance: it claims due rows (a lease and
//! a fencing token, so instances take disjoint rows), posts them concurrently, each bounded by
//! `ward.webhook_timeout_ms`, and records the outcome: delivered on 2xx, otherwise retried with
//! doubling backoff up to `ward.webhook_retry_cap_ms`, and given up (`failed`, counted in
//! `docde_webhook_deliveries_total{kind="ward_escalation",outcome="failed"}`) after
//! `ward.webhook_max_attempts` posts or `ward.webhook_give_up_secs`.
//!
//! Delivery is at-least-once: an instance that dies between the receiver's 2xx and recording
//! it leaves the row to be posted again when its lease ends. Every post carries the row id as
//! `X-DocDe-Delivery`, the same on every attempt, so a receiver can drop duplicates.
//!
//! The URL is a secret (a hook token in its path): it is never logged nor put in an error,
//! and shown only as scheme and host ([`redact`]). The message names the ward, the bed label
//! and the alarm kind, never the patient; logs name delivery and alarm ids.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use docde_bus::Subscription;
use docde_domain::ward::alarm::{AlarmStatus, Priority};
use docde_store::StoreError;
use docde_store::ward::webhooks::{self, Delivery};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::state::AppState;

/// The bus channel that announces new deliveries.
pub const WAKE_CHANNEL: &str = "ward_webhook";
/// The header that carries the delivery id (the same on every attempt).
pub const DELIVERY_HEADER: &str = "X-DocDe-Delivery";
/// `kind` label of the webhook metric.
const METRIC_KIND: &str = "ward_escalation";
/// Deliveries claimed (and posted concurrently) per round.
const BATCH: u32 = 20;
/// Longest wait between rounds without a wake-up (retries fall due without one).
const POLL: Duration = Duration::from_secs(1);
/// The claim outlasts the slowest post by this much.
const LEASE_MARGIN: TimeDelta = TimeDelta::seconds(30);
const MAX_URL_CHARS: usize = 2048;

/// Why a webhook URL was refused. One stable API code, `invalid_webhook_url`; the message
/// never repeats the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlProblem {
    #[error("not an absolute URL")]
    NotAbsolute,
    #[error("must start with http:// or https://")]
    Scheme,
    #[error("needs a host")]
    NoHost,
    #[error("at most {MAX_URL_CHARS} characters")]
    TooLong,
}

impl WebhookUrlProblem {
    pub fn code(&self) -> &'static str {
        "invalid_webhook_url"
    }
}

/// A checked webhook URL: absolute, `http` or `https`, with a host. Its `Debug` hides all but
/// scheme and host, so it cannot leak through a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    pub fn parse(raw: &str) -> Result<Self, WebhookUrlProblem> {
        let raw = raw.trim();
        if raw.chars().count() > MAX_URL_CHARS {
            return Err(WebhookUrlProblem::TooLong);
        }
        let url = url::Url::parse(raw).map_err(|_| WebhookUrlProblem::NotAbsolute)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(WebhookUrlProblem::Scheme);
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(WebhookUrlProblem::NoHost);
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Scheme, host and port only: `https://chat.example/***`.
    pub fn redacted(&self) -> String {
        let port = self.0.port().map(|p| format!(":{p}")).unwrap_or_default();
        format!(
            "{}://{}{port}/***",
            self.0.scheme(),
            self.0.host_str().unwrap_or("")
        )
    }
}

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// A stored or configured URL shown without its secret (`***` if it does not parse).
pub fn redact(raw: &str) -> String {
    WebhookUrl::parse(raw).map_or_else(|_| "***".into(), |u| u.redacted())
}

/// The message for one escalation, in the incoming-webhook format Mattermost and Slack share.
/// Ward, bed label and alarm kind only: it leaves the hospital, so no patient data.
pub fn message(d: &Delivery) -> Value {
    let minutes = (d.escalated_at - d.raised_at).num_minutes().max(0);
    let station = format!("/nurse?ward={}", d.ward_id);
    let text = format!(
        "Escalation {level}: {kind} ({kind_ko}, {priority}) at bed {bed}, {ward} — \
         not acknowledged for {minutes} min",
        level = d.level.get(),
        kind = d.kind.en(),
        kind_ko = d.kind.ko(),
        priority = d.priority.code(),
        bed = d.bed_label,
        ward = d.ward_name,
    );
    let mut fields = vec![
        json!({"title": "bed", "value": d.bed_label, "short": true}),
        json!({"title": "ward", "value": d.ward_name, "short": true}),
        json!({"title": "alarm", "value": d.kind.code(), "short": true}),
        json!({"title": "priority", "value": d.priority.code(), "short": true}),
        json!({"title": "escalation level", "value": d.level.get(), "short": true}),
        json!({"title": "minutes unacknowledged", "value": minutes, "short": true}),
        json!({"title": "nurse station", "value": station, "short": false}),
    ];
    if d.alarm_status != AlarmStatus::Active {
        // Posted late (retries): say that someone has responded since.
        fields.push(json!({"title": "now", "value": d.alarm_status.code(), "short": true}));
    }
    json!({
        "username": "docde",
        "text": text,
        "attachments": [{
            "fallback": text,
            "color": match d.priority {
                Priority::High => "#d1242f",
                Priority::Medium => "#bf8700",
                Priority::Low => "#0969da",
            },
            "title": format!("{} — {}", d.bed_label, d.kind.en()),
            "fields": fields,
        }],
        "docde": {
            "delivery_id": d.id,
            "alarm_id": d.alarm_id,
            "ward_id": d.ward_id,
            "escalation_level": d.level.get(),
            "escalated_at": d.escalated_at,
            "link": station,
        },
    })
}

/// Retry pacing, from `ward.webhook_*`.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    pub timeout: Duration,
    pub retry_base: Duration,
    pub retry_cap: Duration,
    pub max_attempts: u32,
    pub give_up_after: TimeDelta,
}

impl Pacing {
    pub fn from_config(ward: &crate::config::WardSettings) -> Self {
        Self {
            timeout: Duration::from_millis(ward.webhook_timeout_ms),
            retry_base: Duration::from_millis(ward.webhook_retry_base_ms),
            retry_cap: Duration::from_millis(ward.webhook_retry_cap_ms),
            max_attempts: ward.webhook_max_attempts,
            give_up_after: i64::try_from(ward.webhook_give_up_secs)
                .ok()
                .and_then(TimeDelta::try_seconds)
                .unwrap_or(TimeDelta::MAX),
        }
    }

    /// The wait before the next post after `attempts` failed ones (1 for the first).
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
        self.retry_base.saturating_mul(factor).min(self.retry_cap)
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
}

/// What became of one claimed delivery.
enum Outcome {
    Delivered,
    Retry,
    Failed,
}

/// Tells every instance's delivery worker that deliveries are waiting. Never fails: they are
/// stored, and without the wake-up they go out at the next poll.
pub async fn wake(state: &AppState) {
    if let Err(error) = state.bus.wake(WAKE_CHANNEL).await {
        tracing::warn!(%error, "could not wake the escalation webhook workers; relying on their poll");
    }
}

/// One round at `now`: claims due deliveries, posts them concurrently and records each
/// outcome. Tests call it with an explicit clock.
pub async fn deliver_due(state: &AppState, now: DateTime<Utc>) -> Result<Round, StoreError> {
    let pacing = Pacing::from_config(&state.config.ward);
    let lease = TimeDelta::from_std(pacing.timeout).unwrap_or(TimeDelta::hours(1)) + LEASE_MARGIN;
    let batch = webhooks::claim_due(&state.store, BATCH, lease, now).await?;
    let mut round = Round {
        claimed: batch.len(),
        ..Round::default()
    };
    let outcomes =
        futures::future::join_all(batch.iter().map(|d| attempt(state, &pacing, d, now))).await;
    for outcome in outcomes {
        match outcome? {
            Outcome::Delivered => round.delivered += 1,
            Outcome::Retry => round.retried += 1,
            Outcome::Failed => round.failed += 1,
        }
    }
    Ok(round)
}

async fn attempt(
    state: &AppState,
    pacing: &Pacing,
    d: &Delivery,
    now: DateTime<Utc>,
) -> Result<Outcome, StoreError> {
    let store = &state.store;
    let attempt = d.attempts + 1;
    let url = d
        .url
        .as_deref()
        .or(state.config.ward.escalation_webhook_url.as_deref());
    let Some(url) = url else {
        // The ward's URL was removed and there is no default: nowhere to post.
        webhooks::mark_failed(store, d, "no_url").await?;
        count("failed");
        tracing::warn!(delivery.id = %d.id, alarm.id = %d.alarm_id, "escalation webhook removed; delivery given up");
        return Ok(Outcome::Failed);
    };
    if now - d.created_at >= pacing.give_up_after {
        webhooks::mark_failed(store, d, "expired").await?;
        count("failed");
        tracing::warn!(delivery.id = %d.id, alarm.id = %d.alarm_id, attempts = d.attempts, "escalation webhook delivery too old; given up");
        return Ok(Outcome::Failed);
    }
    match post(&state.outbound, url, d, pacing.timeout).await {
        Ok(()) => {
            // Not ours any more (the lease ran out and another instance took it): the receiver
            // may get it twice, which is what the delivery header is for.
            if !webhooks::mark_delivered(store, d, Utc::now().max(now)).await? {
                tracing::info!(delivery.id = %d.id, "escalation posted after its claim was lost");
            }
            count("delivered");
            tracing::info!(delivery.id = %d.id, alarm.id = %d.alarm_id, level = d.level.get(), attempt, "escalation webhook delivered");
            Ok(Outcome::Delivered)
        }
        Err(kind) if attempt >= pacing.max_attempts => {
            webhooks::mark_failed(store, d, &kind).await?;
            count("failed");
            tracing::warn!(delivery.id = %d.id, alarm.id = %d.alarm_id, error.kind = %kind, attempt, "escalation webhook still failing; given up");
            Ok(Outcome::Failed)
        }
        Err(kind) => {
            let delay = pacing.retry_delay(attempt);
            let next = now + TimeDelta::from_std(delay).unwrap_or(TimeDelta::hours(1));
            webhooks::mark_retry(store, d, &kind, next).await?;
            count("retry");
            tracing::info!(delivery.id = %d.id, alarm.id = %d.alarm_id, error.kind = %kind, attempt, retry_in = ?delay, "escalation webhook not delivered; will retry");
            Ok(Outcome::Retry)
        }
    }
}

/// Posts the message with the shared outgoing client (`crate::outbound`: https checked, no
/// redirects, so a 3xx counts as a failure rather than sending the alarm on to wherever the
/// answer points); `Err` carries a category (`connect`, `timeout`, `status_500`, …), never the
/// URL or the receiver's answer.
async fn post(
    client: &reqwest::Client,
    url: &str,
    d: &Delivery,
    timeout: Duration,
) -> Result<(), String> {
    let sent = client
        .post(url)
        .timeout(timeout)
        .header(DELIVERY_HEADER, d.id.to_string())
        .json(&message(d))
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("status_{}", response.status().as_u16())),
        Err(e) => Err(crate::reports::webhook::error_kind(&e).to_owned()),
    }
}

fn count(outcome: &'static str) {
    metrics::counter!(crate::metrics::WEBHOOK_DELIVERIES, "kind" => METRIC_KIND, "outcome" => outcome)
        .increment(1);
}

/// Starts the delivery worker; it returns when `state.shutdown` fires. Deliveries it had
/// claimed but not recorded are claimed again, here or elsewhere, once their lease ends.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    // Subscribed before the task starts, so a wake-up sent right after this returns is kept.
    let wakeups = state.bus.wakeups(WAKE_CHANNEL);
    tokio::spawn(run(state, wakeups))
}

async fn run(state: AppState, wakeups: Subscription) {
    metrics::describe_gauge!(
        "ward_webhook_pending",
        "Escalation webhook deliveries waiting (neither delivered nor given up)"
    );
    drain(state, wakeups, "escalation webhook", |state| async move {
        let round = deliver_due(&state, Utc::now()).await?;
        if let Ok(pending) = webhooks::pending_count(&state.store).await {
            metrics::gauge!("ward_webhook_pending").set(pending as f64);
        }
        Ok(round.claimed >= BATCH as usize)
    })
    .await
}

/// A delivery worker's loop, shared with [`super::push::worker`]: runs `round` (which
/// answers whether it took a full batch, so more may be due) until `state.shutdown` fires,
/// at once again after a full batch, otherwise at the next wake-up or poll.
pub(crate) async fn drain<F, Fut>(state: AppState, wakeups: Subscription, what: &str, mut round: F)
where
    F: FnMut(AppState) -> Fut,
    Fut: std::future::Future<Output = Result<bool, StoreError>>,
{
    let mut wakeups = Some(wakeups);
    loop {
        let full = tokio::select! {
            () = state.shutdown.cancelled() => return,
            done = round(state.clone()) => done.unwrap_or_else(|error| {
                tracing::warn!(%error, "{what} delivery round failed; retrying at the next poll");
                false
            }),
        };
        if full {
            continue;
        }
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            () = tokio::time::sleep(POLL) => {}
            () = next_wakeup(&mut wakeups) => {}
        }
    }
}

/// Resolves on the next wake-up; never, if the bus has gone (polling still runs).
async fn next_wakeup(wakeups: &mut Option<Subscription>) {
    if let Some(subscription) = wakeups {
        if subscription.recv().await.is_some() {
            return;
        }
        *wakeups = None;
    }
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use docde_domain::ward::alarm::{AlarmKind, EscalationLevel};
    use uuid::Uuid;

    #[test]
    fn only_absolute_http_urls_with_a_host_are_accepted() {
        for bad in [
            "chat.example/hooks/x",
            "/hooks/x",
            "ftp://chat.example/x",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "http://",
        ] {
            let problem = WebhookUrl::parse(bad).unwrap_err();
            assert_eq!(problem.code(), "invalid_webhook_url", "{bad}");
        }
        let long = format!("https://chat.example/{}", "a".repeat(MAX_URL_CHARS));
        assert_eq!(WebhookUrl::parse(&long), Err(WebhookUrlProblem::TooLong));
        assert!(WebhookUrl::parse("http://10.0.0.5:8065/hooks/abc").is_ok());
    }

    #[test]
    fn a_url_is_shown_and_debugged_as_scheme_and_host_only() {
        let url = WebhookUrl::parse("https://bot:pw@chat.example:8443/hooks/s3cret?x=1").unwrap();
        assert_eq!(url.redacted(), "https://chat.example:8443/***");
        assert_eq!(format!("{url:?}"), "https://chat.example:8443/***");
        assert_eq!(redact("not a url s3cret"), "***");
    }

    #[test]
    fn retries_double_up_to_the_cap() {
        let pacing = Pacing::from_config(&crate::config::WardSettings::default());
        let delays: Vec<u64> = (1..=9).map(|n| pacing.retry_delay(n).as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 16, 32, 64, 120, 120, 120]);
        assert_eq!(pacing.retry_delay(u32::MAX), pacing.retry_cap);
    }

    #[test]
    fn the_message_names_bed_kind_level_and_minutes_and_links_the_station() {
        let raised = Utc::now();
        let ward_id = Uuid::now_v7();
        let d = Delivery {
            id: Uuid::now_v7(),
            token: Uuid::now_v7(),
            ward_id,
            ward_name: "격리병동 A".into(),
            alarm_id: Uuid::now_v7(),
            bed_label: "101-1".into(),
            kind: AlarmKind::NurseCall,
            priority: Priority::High,
            level: EscalationLevel(2),
            raised_at: raised,
            escalated_at: raised + TimeDelta::seconds(185),
            alarm_status: AlarmStatus::Active,
            attempts: 0,
            created_at: raised,
            url: None,
        };
        let body = message(&d);
        assert_eq!(
            body["text"],
            "Escalation 2: Nurse call (간호사 호출, high) at bed 101-1, 격리병동 A — \
             not acknowledged for 3 min"
        );
        let fields = body["attachments"][0]["fields"].as_array().unwrap();
        assert!(
            fields
                .iter()
                .any(|f| f["value"] == format!("/nurse?ward={ward_id}"))
        );
        assert!(!fields.iter().any(|f| f["title"] == "now"));
    }
}
