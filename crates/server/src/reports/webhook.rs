//! Posting error reports to the incoming webhook: the Mattermost/Slack message, the rate
//! limit, and retries with backoff. Runs only in the reporter's background task, so a slow or
//! failing webhook delays reports, never requests.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::Report;

/// The message for one report, in the incoming-webhook format Mattermost and Slack share:
/// `text` for notifications and clients without attachments, an attachment with fields.
pub fn message(report: &Report) -> Value {
    let repeat = match &report.repeats {
        Some((count, since)) => format!(" — ×{count} since {}", since.format("%H:%M:%S UTC")),
        None => String::new(),
    };
    let text = format!(
        "DocDe {status} on {route} ({instance}){repeat}",
        status = report.status,
        route = report.route,
        instance = report.instance,
    );
    let chain = if report.chain.is_empty() {
        report.code.clone()
    } else {
        report.chain.join("\n← ")
    };
    json!({
        "username": "docde",
        "text": text,
        "attachments": [{
            "fallback": text,
            "color": if report.status >= 500 { "#d1242f" } else { "#bf8700" },
            "title": format!("{} {}", report.status, report.code),
            "text": format!("```\n{chain}\n```"),
            "fields": [
                {"title": "route", "value": report.route, "short": true},
                {"title": "request id", "value": report.request_id, "short": true},
                {"title": "instance", "value": report.instance, "short": true},
                {"title": "time", "value": report.time.to_rfc3339(), "short": true},
                {"title": "fingerprint", "value": format!("{:016x}", report.fingerprint), "short": true},
            ],
        }],
    })
}

/// A token bucket: `per_minute` messages a minute, bursts of up to as many.
pub struct RateLimit {
    capacity: f64,
    tokens: f64,
    per_second: f64,
    refilled: Instant,
}

impl RateLimit {
    pub fn per_minute(per_minute: u32) -> Self {
        let capacity = f64::from(per_minute.max(1));
        Self {
            capacity,
            tokens: capacity,
            per_second: capacity / 60.0,
            refilled: Instant::now(),
        }
    }

    /// Waits until a message may be sent, then takes its token.
    pub async fn take(&mut self) {
        loop {
            let now = Instant::now();
            let elapsed = now.duration_since(self.refilled).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
            self.refilled = now;
            if self.tokens >= 1.0 {
                self.tokens -= 1.0;
                return;
            }
            let wait = (1.0 - self.tokens) / self.per_second;
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
    }
}

/// Delivery settings, from `reports.*`.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub url: String,
    pub attempts: u32,
    pub retry_base: Duration,
    pub timeout: Duration,
}

/// Posts `body`, retrying failures (network errors, timeouts, non-2xx answers) with doubling
/// backoff up to `attempts` times. Returns whether it was delivered.
pub async fn deliver(client: &reqwest::Client, delivery: &Delivery, body: &Value) -> bool {
    let mut backoff = delivery.retry_base;
    for attempt in 1..=delivery.attempts.max(1) {
        let sent = client
            .post(&delivery.url)
            .timeout(delivery.timeout)
            .json(body)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                outcome("delivered");
                return true;
            }
            // The webhook's answer may echo our text: log its status only.
            Ok(response) => {
                tracing::warn!(attempt, status = %response.status(), "error report webhook refused the report")
            }
            Err(e) => {
                tracing::warn!(attempt, error = %error_kind(&e), "error report webhook unreachable")
            }
        }
        if attempt < delivery.attempts {
            outcome("retry");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(60));
        }
    }
    outcome("failed");
    false
}

fn outcome(outcome: &'static str) {
    metrics::counter!(crate::metrics::WEBHOOK_DELIVERIES, "kind" => "error_report", "outcome" => outcome)
        .increment(1);
}

/// The kind of a client error without its URL (a webhook URL is a secret).
pub(crate) fn error_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_request() {
        "request"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_rate_limit_lets_a_minutes_burst_through_then_paces_posts() {
        let mut limit = RateLimit::per_minute(120);
        let start = Instant::now();
        for _ in 0..120 {
            limit.take().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(100),
            "the burst is not held back"
        );
        limit.take().await;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(400) && waited < Duration::from_secs(2),
            "the next post waits for a token (120/min: 0.5 s), waited {waited:?}"
        );
    }

    #[test]
    fn a_summary_says_how_many_times_and_since_when() {
        let report = Report {
            status: 500,
            code: "internal".into(),
            route: "GET /api/v1/wards/{id}".into(),
            request_id: "r-1".into(),
            instance: "docde-a:8080".into(),
            time: chrono::Utc::now(),
            chain: vec![
                "loading the ward".into(),
                "database error (pool timed out)".into(),
            ],
            fingerprint: 7,
            repeats: Some((
                4,
                chrono::DateTime::parse_from_rfc3339("2026-12-02T05:40:01Z")
                    .unwrap()
                    .to_utc(),
            )),
        };
        let body = message(&report);
        assert_eq!(
            body["text"],
            "DocDe 500 on GET /api/v1/wards/{id} (docde-a:8080) — ×4 since 05:40:01 UTC"
        );
        assert_eq!(
            body["attachments"][0]["text"],
            "```\nloading the ward\n← database error (pool timed out)\n```"
        );
    }
}
