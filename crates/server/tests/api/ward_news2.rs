//! One patient's live view: NEWS2 with its breakdown, `news2` events only when the score or
//! band changes, and the per-admission event stream with `Last-Event-ID` replay.

use std::time::Duration;

use docde_store::ward::events::{self, EventKind};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::people::{get, post};
use crate::ward::{Setup, ago, report, setup};

async fn send(app: &TestApp, s: &Setup, samples: Value) {
    assert_eq!(report(app, &s.device, samples).await.status(), 200);
}

async fn news2_payloads(app: &TestApp, s: &Setup) -> Vec<Value> {
    events::events_after(&app.state.store, s.p.ward1, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::News2)
        .map(|e| serde_json::from_str(&e.payload).unwrap())
        .collect()
}

/// Reads the admission's stream until `until` is in it (or 5 s pass).
async fn read_stream(app: &TestApp, s: &Setup, last: Option<&str>, until: &str) -> String {
    let mut request = app
        .client
        .get(app.url(&format!("/api/v1/admissions/{}/events", s.admission)))
        .bearer_auth(&s.p.nurse.token);
    if let Some(last) = last {
        request = request.header("Last-Event-ID", last);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    while !text.contains(until) {
        match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
            Ok(Some(Ok(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    text
}

#[tokio::test]
async fn news2_shows_each_row_with_the_value_used_and_leaves_stale_vitals_out() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let path = format!("/api/v1/admissions/{}/news2", s.admission);
    let empty: Value = get(&app, &path, &s.p.doctor.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(empty["total"].is_null());
    send(
        &app,
        &s,
        json!([
            {"measured_at": ago(5), "kind": "respiratory_rate", "value": 26},
            {"measured_at": ago(5), "kind": "spo2", "value": 95},
            {"measured_at": ago(5), "kind": "heart_rate", "value": 80},
            {"measured_at": ago(5), "kind": "body_temperature", "value": 37.0},
            {"measured_at": ago(20 * 60), "kind": "systolic_bp", "value": 85},
        ]),
    )
    .await;
    let r = get(&app, &path, &s.p.nurse.token).await;
    assert_eq!(r.status(), 200);
    let n: Value = r.json().await.unwrap();
    assert_eq!(n["total"], 4, "{n}");
    assert_eq!(n["band"], "low_medium", "a single 3");
    assert_eq!(n["complete"], false);
    assert_eq!(n["max_age_secs"], 900);
    let row = |p: &str| {
        n["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["parameter"] == p)
            .unwrap()
            .clone()
    };
    let rr = row("respiratory_rate");
    assert_eq!(
        (rr["score"].clone(), rr["value"].clone()),
        (json!(3), json!(26.0))
    );
    assert!(rr["age_secs"].as_i64().unwrap() >= 4);
    assert_eq!(row("pulse")["vital"], "heart_rate");
    assert_eq!(row("pulse")["score"], 0);
    let bp = row("systolic_bp");
    assert_eq!(bp["stale"], true);
    assert!(
        bp["score"].is_null(),
        "a 20-minute-old pressure does not count"
    );
    assert!(row("consciousness")["value"].is_null());
    for outsider in [&s.p.patient, &s.p.nurse_other, &s.p.hadmin_h2] {
        assert_eq!(get(&app, &path, &outsider.token).await.status(), 403);
    }
}

#[tokio::test]
async fn a_news2_event_is_written_when_the_score_or_band_changes_and_only_then() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    send(
        &app,
        &s,
        json!([
            {"measured_at": ago(30), "kind": "respiratory_rate", "value": 16},
            {"measured_at": ago(30), "kind": "heart_rate", "value": 80},
        ]),
    )
    .await;
    send(
        &app,
        &s,
        json!([{"measured_at": ago(20), "kind": "heart_rate", "value": 82}]),
    )
    .await;
    let first = news2_payloads(&app, &s).await;
    assert_eq!(first.len(), 1, "an unchanged score is not announced again");
    assert_eq!(first[0]["total"], 0);
    assert_eq!(first[0]["admission_id"], s.admission.as_str());
    send(
        &app,
        &s,
        json!([{"measured_at": ago(10), "kind": "body_temperature", "value": 39.5}]),
    )
    .await;
    let all = news2_payloads(&app, &s).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["total"], 2);
    assert_eq!(all[1]["band"], "low");
    assert_eq!(all[1]["sub_scores"]["temperature"], 2);
}

#[tokio::test]
async fn the_admission_stream_replays_this_patients_events_after_last_event_id() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    send(
        &app,
        &s,
        json!([{"measured_at": ago(3), "kind": "heart_rate", "value": 71}]),
    )
    .await;
    let text = read_stream(&app, &s, None, "event: news2").await;
    assert!(text.contains("event: vitals"), "{text}");
    assert!(text.contains("event: news2"), "{text}");
    let last = text
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .next_back()
        .unwrap()
        .to_owned();
    // Another patient's admission to the ward is not in this stream.
    let bed: Value = post(
        &app,
        &format!("/api/v1/wards/{}/beds", s.p.ward1),
        Some(&s.p.hadmin.token),
        json!({"label": "102-1"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let r = post(
        &app,
        &format!("/api/v1/wards/{}/admissions", s.p.ward1),
        Some(&s.p.hadmin.token),
        json!({"patient_id": s.p.patient_other.id, "bed_id": bed["id"]}),
    )
    .await;
    assert_eq!(r.status(), 201);
    send(
        &app,
        &s,
        json!([{"measured_at": ago(1), "kind": "nurse_call", "value": true}]),
    )
    .await;
    let text = read_stream(&app, &s, Some(&last), "event: alarm\n").await;
    assert!(text.contains("event: alarm\n"), "{text}");
    assert!(
        !text.contains("event: admission"),
        "not this patient's: {text}"
    );
    assert!(
        !text.contains(&format!("id: {last}\n")),
        "replay starts after the id"
    );
    for outsider in [&s.p.patient, &s.p.nurse_other, &s.p.reception] {
        let r = get(
            &app,
            &format!("/api/v1/admissions/{}/events", s.admission),
            &outsider.token,
        )
        .await;
        assert_eq!(r.status(), 403);
    }
}
