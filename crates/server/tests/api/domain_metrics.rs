//! `/metrics` beyond HTTP: each family appears once its part of the service is used.

use std::time::Duration;

use docde_server::config::RushMode;
use futures::StreamExt;
use serde_json::json;

use crate::booking::{app_with, book, doctor_with_schedule, slot};
use crate::helpers::TestApp;
use crate::ward::{ago, report, setup};

async fn metrics(app: &TestApp) -> String {
    app.get("/metrics").await.text().await.unwrap()
}

#[tokio::test]
async fn metrics_expose_bookings_check_ins_ingest_alarms_queues_streams_and_health() {
    let app = app_with(RushMode::Never).await;
    let s = setup(&app).await;
    let p = &s.p;

    // A booking, and one refused because the seat is taken.
    let doctor = doctor_with_schedule(&app, p, 1).await;
    assert_eq!(
        book(&app, &p.patient, doctor, &slot("10:00"))
            .await
            .status(),
        201
    );
    assert_eq!(
        book(&app, &p.patient_other, doctor, &slot("10:00"))
            .await
            .status(),
        409
    );

    // A walk-in check-in at the (all-day open) hospital.
    crate::reception::open_hospital(&app, p, None).await;
    let r = crate::reception::check_in(
        &app,
        p.h1,
        &p.patient,
        json!({"department": "internal_medicine"}),
    )
    .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);

    // Vital signs from the bedside device.
    let r = report(
        &app,
        &s.device,
        json!([{"kind": "heart_rate", "value": 72, "unit": "/min", "measured_at": ago(2)}]),
    )
    .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);

    // A nurse-station stream held open while scraping.
    let stream = app
        .client
        .get(app.url(&format!("/api/v1/wards/{}/events", p.ward1)))
        .bearer_auth(&p.nurse.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut body = stream.bytes_stream();
    let _ = tokio::time::timeout(Duration::from_millis(200), body.next()).await;

    let text = metrics(&app).await;
    for family in [
        r#"booking_requests_total{path="direct",outcome="created"}"#,
        r#"booking_requests_total{path="direct",outcome="slot_full"}"#,
        r#"reception_check_ins_total{path="walk_in"}"#,
        "ward_samples_stored_total",
        "ward_ingest_lag_seconds_bucket",
        r#"live_stream_clients{stream="ward_events"} "#,
        r#"ward_alarms_open{priority="high",status="active"}"#,
        "booking_queue_tickets",
        "booking_writer_one_by_one_total",
        "coordination_up{backend=",
        r#"db_pool_connections{state="idle"}"#,
    ] {
        assert!(
            text.contains(family),
            "{family} missing from /metrics:\n{text}"
        );
    }
    let lag = text
        .lines()
        .find(|l| l.starts_with("ward_ingest_lag_seconds_sum"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap();
    assert!(
        lag >= 1.0,
        "a sample measured 2 s ago lags about 2 s: {lag}"
    );

    // The Grafana dashboard queries only names /metrics exposes (scripts/check-dashboard-metrics
    // does the same against a live instance).
    for name in dashboard_metrics() {
        let family = name.trim_end_matches("_bucket");
        if NOT_EXERCISED_HERE.contains(&family) {
            continue;
        }
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} "))),
            "the dashboard queries {name}, which /metrics does not expose"
        );
    }
    drop(body);
}

/// Dashboard families this test does not exercise (MQTT, e-mail, waiting room, rush queue,
/// webhooks: their own tests do).
const NOT_EXERCISED_HERE: &[&str] = &[
    "mqtt_messages_total",
    "mqtt_retries_total",
    "mqtt_samples_rejected_total",
    "email_sent_total",
    "email_outbox_pending",
    "reception_waiting_room_admitted_total",
    "reception_waiting_room_queued",
    "reception_waiting_room_wait_seconds",
    "booking_queue_wait_seconds",
    "docde_webhook_deliveries_total",
    "error_reports_total",
];

/// Metric names in the dashboard's PromQL: identifiers outside label matchers, ranges and
/// `by (…)` groupings that are not PromQL functions.
fn dashboard_metrics() -> Vec<String> {
    const FUNCTIONS: &[&str] = &["sum", "min", "max", "rate", "histogram_quantile"];
    let text = include_str!("../../../../deploy/grafana/dashboards/docde.json");
    let dashboard: serde_json::Value = serde_json::from_str(text).expect("the dashboard is JSON");
    let mut names = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let mut expr = String::new();
            let mut depth = 0;
            for c in target["expr"].as_str().unwrap().chars() {
                match c {
                    '{' | '[' => depth += 1,
                    '}' | ']' => depth -= 1,
                    _ if depth == 0 => expr.push(c),
                    _ => {}
                }
            }
            while let Some(start) = expr.find("by (") {
                let end = expr[start..]
                    .find(')')
                    .map_or(expr.len(), |e| start + e + 1);
                expr.replace_range(start..end, "");
            }
            for token in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if !token.is_empty()
                    && !FUNCTIONS.contains(&token)
                    && !token.starts_with(|c: char| c.is_ascii_digit())
                {
                    names.push(token.to_owned());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    assert!(names.len() > 10, "{names:?}");
    names
}
