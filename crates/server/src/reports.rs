//! Error reports: every 5xx answer and every handler panic is posted to an incoming webhook
//! (`reports.webhook_url`, Mattermost/Slack JSON) with the request id, the route template, the
//! scrubbed cause chain ([`scrub`]), the instance and the time.
//!
//! The request path only files a report ([`Reporter::submit`]: a hash lookup and a push under a
//! mutex); one background task posts them. So that a failing, slow or hung webhook can never
//! slow or fail a request: the queue is bounded and drops its oldest report when full
//! (`error_reports_total{outcome="dropped"}`), each post has a timeout, retries back off, and a
//! token bucket limits posts per minute. The same error (fingerprint: route, status, code and
//! chain) within `reports.dedup_window_ms` is counted, not re-sent; when the window ends, one
//! more message says "×N since …". Deduplication is per instance.
//! What this module must not do: post anything the scrubber has not seen, or block a request.

pub mod scrub;
pub(crate) mod webhook;

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::Config;
use crate::middleware::RequestId;
use crate::problem::ApiError;
use crate::state::AppState;

/// Distinct fingerprints remembered for deduplication; beyond this, reports are not
/// deduplicated (the rate limit and the queue bound still hold).
const MAX_FINGERPRINTS: usize = 1024;

/// One error report, ready to post.
#[derive(Debug, Clone)]
pub struct Report {
    pub status: u16,
    /// The problem code answered (`internal`, `service_unavailable`, `timeout`).
    pub code: String,
    /// `METHOD /route/{template}`.
    pub route: String,
    pub request_id: String,
    pub instance: String,
    pub time: DateTime<Utc>,
    /// The scrubbed cause chain, outermost first.
    pub chain: Vec<String>,
    pub fingerprint: u64,
    /// For a summary: how many more times it happened, since when.
    pub repeats: Option<(u64, DateTime<Utc>)>,
}

/// What an error response tells the reporter about its cause, in the response's extensions
/// (set by [`ApiError`]'s `IntoResponse`; the body never carries it).
#[derive(Debug, Clone)]
pub struct ErrorChain {
    pub code: &'static str,
    pub links: Vec<String>,
}

impl ErrorChain {
    /// The chain of a server-side error; `None` for client errors.
    pub fn of(error: &ApiError) -> Option<Self> {
        let links = match error {
            ApiError::Internal(e) | ApiError::Unavailable(e) => scrub::chain(e),
            ApiError::Timeout => vec!["the response did not start in time".to_owned()],
            _ => return None,
        };
        Some(Self {
            code: error.code(),
            links,
        })
    }
}

struct Seen {
    /// When the last message for this fingerprint was queued.
    sent: Instant,
    sent_at: DateTime<Utc>,
    /// Occurrences since then, not sent.
    suppressed: u64,
    last: Report,
}

#[derive(Default)]
struct Inner {
    seen: HashMap<u64, Seen>,
    queue: VecDeque<Report>,
}

/// Files reports and owns the queue the sender drains. Disabled (files nothing) without
/// `reports.webhook_url`.
pub struct Reporter {
    delivery: Option<webhook::Delivery>,
    instance: String,
    window: Duration,
    capacity: usize,
    per_minute: u32,
    inner: Mutex<Inner>,
    wake: Notify,
}

impl Reporter {
    pub fn new(config: &Config) -> Arc<Self> {
        let settings = &config.reports;
        if settings.webhook_url.is_some() {
            install_panic_location_hook();
        }
        Arc::new(Self {
            delivery: settings.webhook_url.clone().map(|url| webhook::Delivery {
                url,
                attempts: settings.attempts,
                retry_base: Duration::from_millis(settings.retry_base_ms),
                timeout: Duration::from_millis(settings.timeout_ms),
            }),
            instance: settings
                .instance
                .clone()
                .unwrap_or_else(|| default_instance(config.listen.port())),
            window: Duration::from_millis(settings.dedup_window_ms),
            capacity: settings.queue.max(1),
            per_minute: settings.per_minute,
            inner: Mutex::default(),
            wake: Notify::new(),
        })
    }

    pub fn enabled(&self) -> bool {
        self.delivery.is_some()
    }

    /// Files a report of a 5xx answer. Never waits for the webhook.
    pub fn submit(
        &self,
        status: u16,
        route: String,
        request_id: String,
        cause: Option<ErrorChain>,
    ) {
        if !self.enabled() {
            return;
        }
        let (code, chain) = match cause {
            Some(c) => (c.code.to_owned(), c.links),
            None => ("internal".to_owned(), Vec::new()),
        };
        let mut hasher = std::hash::DefaultHasher::new();
        (status, &route, &code, &chain).hash(&mut hasher);
        let report = Report {
            status,
            code,
            route,
            request_id,
            instance: self.instance.clone(),
            time: Utc::now(),
            chain,
            fingerprint: hasher.finish(),
            repeats: None,
        };
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(seen) = inner.seen.get_mut(&report.fingerprint)
            && now.duration_since(seen.sent) < self.window
        {
            seen.suppressed += 1;
            seen.last = report;
            metrics::counter!("error_reports_total", "outcome" => "deduplicated").increment(1);
            return;
        }
        if inner.seen.len() < MAX_FINGERPRINTS || inner.seen.contains_key(&report.fingerprint) {
            inner.seen.insert(
                report.fingerprint,
                Seen {
                    sent: now,
                    sent_at: report.time,
                    suppressed: 0,
                    last: report.clone(),
                },
            );
        }
        self.push(&mut inner, report);
    }

    /// Queues, dropping the oldest report when full: the newest errors are the ones to see.
    fn push(&self, inner: &mut Inner, report: Report) {
        if inner.queue.len() >= self.capacity {
            inner.queue.pop_front();
            metrics::counter!("error_reports_total", "outcome" => "dropped").increment(1);
        }
        inner.queue.push_back(report);
        metrics::counter!("error_reports_total", "outcome" => "queued").increment(1);
        self.wake.notify_one();
    }

    /// Queues a "×N since" summary for every window that ended with suppressed repeats, and
    /// forgets fingerprints whose window ended quietly.
    fn flush_expired(&self) {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut summaries = Vec::new();
        inner.seen.retain(|_, seen| {
            if now.duration_since(seen.sent) < self.window {
                return true;
            }
            if seen.suppressed == 0 {
                return false;
            }
            let mut summary = seen.last.clone();
            summary.repeats = Some((seen.suppressed, seen.sent_at));
            summaries.push(summary);
            seen.sent = now;
            seen.sent_at = Utc::now();
            seen.suppressed = 0;
            true
        });
        for summary in summaries {
            self.push(&mut inner, summary);
        }
    }

    fn pop(&self) -> Option<Report> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .queue
            .pop_front()
    }
}

/// Files a report for every 5xx answer except `/readyz`'s (not-ready is an answer about the
/// instance, reported by the balancer, not a failed request). The route is the matched
/// template, never the raw URI (ids, query strings).
pub async fn capture(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.reports.enabled() {
        return next.run(req).await;
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_owned();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let response = next.run(req).await;
    if response.status().is_server_error() && route != "/readyz" {
        let cause = response.extensions().get::<ErrorChain>().cloned();
        state.reports.submit(
            response.status().as_u16(),
            format!("{method} {route}"),
            request_id,
            cause,
        );
    }
    response
}

/// The sender: posts queued reports one at a time, within the rate limit, until shutdown.
/// Reports still queued at shutdown are lost (they are in the log too).
pub fn spawn(state: AppState) -> JoinHandle<()> {
    let reporter = state.reports.clone();
    let token = state.shutdown.child_token();
    tokio::spawn(async move {
        let Some(delivery) = reporter.delivery.clone() else {
            return;
        };
        let client = state.outbound.clone();
        let mut limit = webhook::RateLimit::per_minute(reporter.per_minute);
        let tick = reporter
            .window
            .clamp(Duration::from_millis(50), Duration::from_secs(1));
        loop {
            reporter.flush_expired();
            let Some(report) = reporter.pop() else {
                tokio::select! {
                    () = token.cancelled() => return,
                    () = reporter.wake.notified() => {}
                    () = tokio::time::sleep(tick) => {}
                }
                continue;
            };
            let body = webhook::message(&report);
            tokio::select! {
                () = token.cancelled() => return,
                _ = async {
                    limit.take().await;
                    webhook::deliver(&client, &delivery, &body).await
                } => {}
            }
        }
    })
}

thread_local! {
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Remembers where the last panic on this thread happened, for the report of a caught panic
/// (the catch-panic layer catches on the panicking thread). The previous hook still runs.
fn install_panic_location_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()));
            PANIC_LOCATION.with(|cell| *cell.borrow_mut() = location);
            previous(info);
        }));
    });
}

/// Adds where the caught panic happened (a source file and line: no data) to its report.
pub fn note_panic_location(response: &mut Response) {
    let location = PANIC_LOCATION.with(|cell| cell.borrow_mut().take());
    if let (Some(location), Some(chain)) =
        (location, response.extensions_mut().get_mut::<ErrorChain>())
    {
        chain.links.push(format!("at {location}"));
    }
}

/// `<host name>:<HTTP port>`, distinct for instances sharing a host.
fn default_instance(port: u16) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "local".into());
    format!("{host}:{port}")
}
