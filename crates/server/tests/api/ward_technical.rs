//! Technical alarms through the API: a silent device, a probe that fell off, a low battery, and
//! the `device` events of the ward stream. The periodic check is driven by hand with an
//! explicit clock (the background worker is switched off), so the tests do not wait a minute.

use chrono::{TimeDelta, Utc};
use docde_server::ward::technical;
use docde_store::ward::events::{self, EventKind};
use serde_json::{Value, json};

use crate::helpers::{TestApp, external_backends, spawn_app_with, spawn_peer};
use crate::ward::{Setup, ago, open_alarms, report, setup};

async fn quiet_app() -> TestApp {
    spawn_app_with(|c| c.ward.technical_worker = false).await
}

/// The ward's open alarms of `kind`.
async fn open_of(app: &TestApp, s: &Setup, kind: &str) -> Vec<Value> {
    let all = open_alarms(app, s).await;
    all.into_iter().filter(|a| a["kind"] == kind).collect()
}

async fn device_events(app: &TestApp, s: &Setup) -> Vec<String> {
    events::events_after(&app.state.store, s.p.ward1, 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::Device)
        .filter_map(|e| {
            let payload: Value = serde_json::from_str(&e.payload).unwrap();
            let status = payload["status"].as_str()?;
            matches!(status, "offline" | "online").then(|| status.to_owned())
        })
        .collect()
}

async fn send(app: &TestApp, s: &Setup, samples: Value) {
    assert_eq!(report(app, &s.device, samples).await.status(), 200);
}

#[tokio::test]
async fn a_device_silent_past_its_limit_raises_one_alarm_and_clears_when_it_reports_again() {
    let app = quiet_app().await;
    let s = setup(&app).await;
    send(
        &app,
        &s,
        json!([{"measured_at": ago(1), "kind": "heart_rate", "value": 72}]),
    )
    .await;
    let now = Utc::now();
    technical::check(&app.state, now + TimeDelta::seconds(30))
        .await
        .unwrap();
    assert!(open_of(&app, &s, "device_silent").await.is_empty());
    for _ in 0..3 {
        technical::check(&app.state, now + TimeDelta::seconds(61))
            .await
            .unwrap();
    }
    let silent = open_of(&app, &s, "device_silent").await;
    assert_eq!(silent.len(), 1, "one alarm however often it is checked");
    assert_eq!(silent[0]["priority"], "medium");
    assert_eq!(silent[0]["device_id"], s.device.id.as_str());
    assert_eq!(device_events(&app, &s).await, ["offline"]);

    send(
        &app,
        &s,
        json!([{"measured_at": ago(0), "kind": "heart_rate", "value": 73}]),
    )
    .await;
    let round = technical::check(&app.state, Utc::now()).await.unwrap();
    assert_eq!(round.cleared, 1);
    assert!(open_of(&app, &s, "device_silent").await.is_empty());
    assert_eq!(device_events(&app, &s).await, ["offline", "online"]);
}

#[tokio::test]
async fn a_ward_can_give_its_devices_longer_to_speak() {
    let app = quiet_app().await;
    let s = setup(&app).await;
    let r = app
        .client
        .put(app.url(&format!("/api/v1/wards/{}/thresholds", s.p.ward1)))
        .bearer_auth(&s.p.hadmin.token)
        .json(&json!({"device_silent_secs": 300}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    send(
        &app,
        &s,
        json!([{"measured_at": ago(1), "kind": "heart_rate", "value": 72}]),
    )
    .await;
    let now = Utc::now();
    technical::check(&app.state, now + TimeDelta::seconds(120))
        .await
        .unwrap();
    assert!(open_of(&app, &s, "device_silent").await.is_empty());
    technical::check(&app.state, now + TimeDelta::seconds(301))
        .await
        .unwrap();
    assert_eq!(open_of(&app, &s, "device_silent").await.len(), 1);
}

#[tokio::test]
async fn a_probe_whose_readings_stop_while_the_device_reports_others_is_sensor_off() {
    let app = quiet_app().await;
    let s = setup(&app).await;
    send(
        &app,
        &s,
        json!([
            {"measured_at": ago(100), "kind": "spo2", "value": 97},
            {"measured_at": ago(100), "kind": "heart_rate", "value": 72},
            {"measured_at": ago(2), "kind": "body_temperature", "value": 36.8},
        ]),
    )
    .await;
    technical::check(&app.state, Utc::now()).await.unwrap();
    let off = open_of(&app, &s, "sensor_off").await;
    assert_eq!(off.len(), 1);
    assert!(off[0]["value"].as_f64().unwrap() >= 99.0, "{}", off[0]);
    assert!(open_of(&app, &s, "device_silent").await.is_empty());
    send(
        &app,
        &s,
        json!([
            {"measured_at": ago(1), "kind": "spo2", "value": 97},
            {"measured_at": ago(1), "kind": "heart_rate", "value": 71},
        ]),
    )
    .await;
    let round = technical::check(&app.state, Utc::now()).await.unwrap();
    assert_eq!(round.cleared, 1);
    assert!(open_of(&app, &s, "sensor_off").await.is_empty());
}

#[tokio::test]
async fn a_low_battery_sample_that_persists_raises_a_low_priority_alarm_until_recharged() {
    let app = quiet_app().await;
    let s = setup(&app).await;
    send(
        &app,
        &s,
        json!([{"measured_at": ago(40), "kind": "battery", "value": 12}]),
    )
    .await;
    assert!(
        open_of(&app, &s, "battery_low").await.is_empty(),
        "onset delay"
    );
    send(
        &app,
        &s,
        json!([{"measured_at": ago(5), "kind": "battery", "value": 11}]),
    )
    .await;
    let low = open_of(&app, &s, "battery_low").await;
    assert_eq!(low.len(), 1);
    assert_eq!(low[0]["priority"], "low");
    send(
        &app,
        &s,
        json!([{"measured_at": ago(1), "kind": "battery", "value": 90}]),
    )
    .await;
    assert!(open_of(&app, &s, "battery_low").await.is_empty());
}

#[tokio::test]
async fn instances_checking_the_same_silent_device_raise_it_once() {
    if !external_backends("instances_checking_the_same_silent_device_raise_it_once") {
        return;
    }
    let a = quiet_app().await;
    let s = setup(&a).await;
    let b = spawn_peer(&a).await;
    send(
        &a,
        &s,
        json!([{"measured_at": ago(1), "kind": "heart_rate", "value": 72}]),
    )
    .await;
    let later = Utc::now() + TimeDelta::seconds(61);
    let (ra, rb) = tokio::join!(
        technical::check(&a.state, later),
        technical::check(&b.state, later)
    );
    assert_eq!(ra.unwrap().raised + rb.unwrap().raised, 1);
    assert_eq!(open_of(&a, &s, "device_silent").await.len(), 1);
    assert_eq!(device_events(&a, &s).await, ["offline"]);
}
