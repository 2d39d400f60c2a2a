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
    drop(body);
}
