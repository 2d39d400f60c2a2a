//! Prometheus metrics: the recorder, HTTP request metrics, and the `/metrics` endpoint.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

pub mod domain;
mod live;
pub use live::LiveClient;

/// Deliveries to outgoing webhooks, by `kind` (`error_report`, `ward_escalation`, …) and
/// `outcome` (`delivered`, `retry`, `failed`). Every webhook sender counts here.
pub const WEBHOOK_DELIVERIES: &str = "docde_webhook_deliveries_total";

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder. `metrics` has one global recorder, so every application in
/// the process (tests start several) shares it.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("bucket list is non-empty")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if something else installed a recorder first; ours then stays unused.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by method, route and status"
    );
    metrics::describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to produce the response head, by method, route and status"
    );
    metrics::describe_gauge!(
        "db_pool_connections",
        "Database connections, by state (open, idle)"
    );
    describe_beyond_http();
}

/// The families of `domain`, `live` and `crate::reports` (docs/OPERATIONS.md "Metrics").
fn describe_beyond_http() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "booking_requests_total",
        "Bookings by path (direct, queue) and outcome"
    );
    describe_counter!(
        "booking_writer_one_by_one_total",
        "Bookings this instance's writer could not decide set by set and wrote one by one"
    );
    describe_gauge!(
        "booking_queue_tickets",
        "Rush-queue tickets waiting (installation-wide)"
    );
    describe_histogram!(
        domain::BOOKING_QUEUE_WAIT,
        metrics::Unit::Seconds,
        "Rush-queue wait of each served ticket, from its 202 to its outcome"
    );
    describe_counter!(
        "reception_check_ins_total",
        "Check-ins by path (walk_in, waiting_room, appointment)"
    );
    describe_histogram!(
        "ward_ingest_lag_seconds",
        metrics::Unit::Seconds,
        "From a stored sample's measured_at to its commit"
    );
    describe_counter!(
        "ward_rollup_minutes_total",
        "(Admission, kind, minute) rollups recomputed from raw samples by this instance"
    );
    describe_gauge!(
        "ward_alarms_open",
        "Open alarms by priority and status (installation-wide)"
    );
    describe_gauge!(
        "live_stream_clients",
        "Open SSE and WebSocket streams on this instance"
    );
    describe_gauge!("coordination_up", "1 when the coordination bus answers");
    describe_counter!(
        WEBHOOK_DELIVERIES,
        "Outgoing webhook posts by kind and outcome"
    );
    describe_counter!(
        "error_reports_total",
        "Error reports by outcome (queued, deduplicated, dropped)"
    );
}

/// Records count and latency per request. The route label is the matched route template
/// (`/api/v1/hospitals/{id}`), never the raw path, so ids do not explode label cardinality.
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(req).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: Prometheus text exposition. Public on purpose, like `/healthz`: it is
/// scraped by the monitoring system and holds no patient data (labels are route templates,
/// statuses and counts only). Restrict it at the network edge if needed.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let (open, idle) = state.store.pool_usage();
    metrics::gauge!("db_pool_connections", "state" => "open").set(open);
    metrics::gauge!("db_pool_connections", "state" => "idle").set(idle);
    domain::refresh(&state).await;
    let handle = recorder();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
}
