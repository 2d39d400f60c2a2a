//! Bedside devices reporting samples through the API: what is stored and what is refused,
//! which device may post for which, and the predecessor's Pi payload.

use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app};
use crate::people::get;
use crate::ward::{ago, register_device, report, send_samples, setup};

#[tokio::test]
async fn ingest_stores_valid_samples_and_reports_each_invalid_or_duplicate_one() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let first = ago(5);
    let r = report(
        &app,
        &s.device,
        json!([
            {"measured_at": first, "kind": "heart_rate", "value": 72, "unit": "/min"},
            {"measured_at": first, "kind": "body_temperature", "value": 55.0, "unit": "Cel"},
            {"measured_at": first, "kind": "mood", "value": 1},
            {"measured_at": first, "kind": "spo2", "value": 97, "unit": "kg"},
            {"measured_at": "yesterday", "kind": "spo2", "value": 97},
            {"measured_at": first, "kind": "spo2", "value": 97, "unit": "%"},
        ]),
    )
    .await;
    assert_eq!(r.status(), 207);
    let body: Value = r.json().await.unwrap();
    let statuses: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["code"]
                .as_str()
                .unwrap_or_else(|| r["status"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        statuses,
        [
            "stored",
            "out_of_range",
            "unknown_kind",
            "unit_mismatch",
            "bad_timestamp",
            "stored"
        ]
    );
    assert_eq!(body["stored"], 2);
    assert_eq!(body["rejected"], 4);
    // The same samples again are duplicates; a new one is stored.
    let r = report(
        &app,
        &s.device,
        json!([
            {"measured_at": first, "kind": "heart_rate", "value": 72},
            {"measured_at": ago(1), "kind": "heart_rate", "value": 75},
        ]),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["results"][0]["status"], "duplicate");
    assert_eq!(body["results"][1]["status"], "stored");
    // Only valid samples were stored; the nurse station sees the newest of each kind.
    let live: Value = get(
        &app,
        &format!("/api/v1/wards/{}/beds/live", s.p.ward1),
        &s.p.nurse.token,
    )
    .await
    .json()
    .await
    .unwrap();
    let latest = live["beds"][0]["latest"].as_array().unwrap();
    let kinds: Vec<&str> = latest.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 2, "{latest:?}");
    assert!(kinds.contains(&"heart_rate") && kinds.contains(&"spo2"));
    let hr = latest.iter().find(|l| l["kind"] == "heart_rate").unwrap();
    assert_eq!(hr["value"], 75.0);
    assert_eq!(
        live["beds"][0]["bed"]["admission"]["id"],
        s.admission.as_str()
    );
    assert!(live["beds"][0]["news2"]["total"].is_number());
}

#[tokio::test]
async fn a_device_cannot_post_for_another_device_and_no_credentials_is_unauthorized() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let other = register_device(&app, &s.p).await;
    let sample = json!([{"measured_at": ago(1), "kind": "heart_rate", "value": 70}]);
    let r = send_samples(
        &app,
        &other.id,
        Some((&s.device.id, &s.device.secret)),
        sample.clone(),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = send_samples(&app, &s.device.id, None, sample.clone()).await;
    assert_eq!(r.status(), 401);
    let r = send_samples(
        &app,
        &s.device.id,
        Some((&s.device.id, "wrong secret")),
        sample.clone(),
    )
    .await;
    assert_eq!(r.status(), 401);
    // A person is not a device.
    let r = app
        .client
        .post(app.url(&format!("/api/v1/devices/{}/samples", s.device.id)))
        .bearer_auth(&s.p.hadmin.token)
        .json(&json!({ "samples": sample }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn the_predecessors_pi_payload_is_mapped_onto_the_bed_its_device_serves() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let legacy = |body: Value| {
        app.client
            .post(app.url(&format!("/api/v1/devices/{}/legacy-samples", s.device.id)))
            .basic_auth(&s.device.id, Some(&s.device.secret))
            .json(&body)
            .send()
    };
    let r = legacy(json!({"bedNumber": "101-1", "temperature": 37.8, "weight": 2}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["stored"], 2);
    let r = legacy(json!({"bedNumber": "102-1", "temperature": 37.8, "weight": -1}))
        .await
        .unwrap();
    assert_eq!(problem(r).await["code"], "bed_mismatch");
    let live: Value = get(
        &app,
        &format!("/api/v1/wards/{}/beds/live", s.p.ward1),
        &s.p.nurse.token,
    )
    .await
    .json()
    .await
    .unwrap();
    let latest = live["beds"][0]["latest"].as_array().unwrap();
    let value = |kind: &str| latest.iter().find(|l| l["kind"] == kind).unwrap()["value"].clone();
    assert_eq!(value("body_temperature"), 37.8);
    assert_eq!(value("iv_bag"), 20.0);
}
