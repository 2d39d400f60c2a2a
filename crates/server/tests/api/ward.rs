//! Ward monitoring through the API: setting a ward up, devices reporting samples, alarms raised
//! from them, the nurse station's snapshot and resumable event stream, and who may see what.
//!
//! This file keeps the set-up the ward tests share (a ward with a bed, a bound device and an
//! admitted patient; reporting samples; reading the event stream), the ward's set-up through
//! the API and the stream's replay; devices reporting are in `ward_ingest`, alarms and who may
//! handle them in `ward_alarms`.

use std::time::Duration;

use chrono::{SecondsFormat, TimeDelta, Utc};
use futures::StreamExt;
use serde_json::{Value, json};
use uuid::Uuid;

use docde_store::ward::admissions::{self, NewAdmission};
use docde_store::ward::beds;

use crate::helpers::{TestApp, problem, spawn_app};
use crate::people::{People, get, people, post, quick_patient};

/// A device of h1 with its secret.
pub struct TestDevice {
    pub id: String,
    pub secret: String,
}

/// Ward1 with bed `101-1`, a bound bedside device and the patient admitted to the bed.
pub struct Setup {
    pub p: People,
    pub bed: String,
    pub device: TestDevice,
    pub admission: String,
}

pub async fn register_device(app: &TestApp, p: &People) -> TestDevice {
    let r = post(
        app,
        &format!("/api/v1/hospitals/{}/devices", p.h1),
        Some(&p.hadmin.token),
        json!({"name": "bedside 101-1", "kind": "bedside_monitor", "ward_id": p.ward1}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    TestDevice {
        id: body["device"]["id"].as_str().unwrap().to_owned(),
        secret: body["secret"].as_str().unwrap().to_owned(),
    }
}

async fn add_bed(app: &TestApp, p: &People, label: &str) -> reqwest::Response {
    post(
        app,
        &format!("/api/v1/wards/{}/beds", p.ward1),
        Some(&p.hadmin.token),
        json!({"label": label}),
    )
    .await
}

/// Binds and admits through the store, an hour back, so samples measured in the last
/// minutes belong to the patient (the API would bind and admit only from now on).
pub async fn setup(app: &TestApp) -> Setup {
    let p = people(app).await;
    let r = add_bed(app, &p, "101-1").await;
    assert_eq!(r.status(), 201);
    let bed = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let device = register_device(app, &p).await;
    let an_hour_ago = Utc::now() - TimeDelta::hours(1);
    let bed_id: Uuid = bed.parse().unwrap();
    beds::bind_device(
        &app.state.store,
        device.id.parse().unwrap(),
        bed_id,
        an_hour_ago,
    )
    .await
    .unwrap();
    let (admission, _) = admissions::admit(
        &app.state.store,
        &NewAdmission {
            patient_id: p.patient.id,
            bed_id,
            urgency: 1,
            notes: String::new(),
            now: an_hour_ago,
        },
    )
    .await
    .unwrap();
    Setup {
        p,
        bed,
        device,
        admission: admission.id.to_string(),
    }
}

pub fn ago(secs: i64) -> String {
    (Utc::now() - TimeDelta::seconds(secs)).to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub async fn send_samples(
    app: &TestApp,
    device_path: &str,
    auth: Option<(&str, &str)>,
    samples: Value,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(&format!("/api/v1/devices/{device_path}/samples")))
        .json(&json!({ "samples": samples }));
    if let Some((user, password)) = auth {
        request = request.basic_auth(user, Some(password));
    }
    request.send().await.unwrap()
}

/// The ward's open alarms, as the nurse station reads them.
pub async fn open_alarms(app: &TestApp, s: &Setup) -> Vec<Value> {
    let r = get(
        app,
        &format!("/api/v1/wards/{}/alarms", s.p.ward1),
        &s.p.nurse.token,
    )
    .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub async fn report(app: &TestApp, device: &TestDevice, samples: Value) -> reqwest::Response {
    send_samples(app, &device.id, Some((&device.id, &device.secret)), samples).await
}

/// Reads the ward's event stream until `until` is in it (or 5 s pass), returning the text.
pub async fn read_events(
    app: &TestApp,
    ward: Uuid,
    token: &str,
    last: Option<&str>,
    until: &str,
) -> String {
    let mut request = app
        .client
        .get(app.url(&format!("/api/v1/wards/{ward}/events")))
        .bearer_auth(token);
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
async fn hospital_admins_set_up_beds_bind_devices_and_admit_transfer_and_discharge_patients() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let p = &s.p;
    assert_eq!(add_bed(&app, p, "101-1").await.status(), 409);
    let r = add_bed(&app, p, "not a label").await;
    assert_eq!(r.status(), 422);
    let second = add_bed(&app, p, "102-1")
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let third = add_bed(&app, p, "102-2")
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Through the API: bind a device to the new bed and admit another patient there.
    let device = register_device(&app, p).await;
    let bind = |token: &str, bed: &str| {
        app.client
            .put(app.url(&format!("/api/v1/devices/{}/bed", device.id)))
            .bearer_auth(token)
            .json(&json!({ "bed_id": bed }))
            .send()
    };
    assert_eq!(bind(&p.nurse.token, &second).await.unwrap().status(), 403);
    assert_eq!(
        bind(&p.hadmin_h2.token, &second).await.unwrap().status(),
        403
    );
    assert_eq!(bind(&p.hadmin.token, &second).await.unwrap().status(), 204);
    let r = post(
        &app,
        &format!("/api/v1/wards/{}/admissions", p.ward1),
        Some(&p.hadmin.token),
        json!({"patient_id": p.patient_other.id, "bed_id": second, "urgency": 2}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let r = post(
        &app,
        &format!("/api/v1/wards/{}/admissions", p.ward1),
        Some(&p.hadmin.token),
        json!({"patient_id": p.doctor.id, "bed_id": third}),
    )
    .await;
    assert_eq!(r.status(), 422, "only patients are admitted");
    // A nurse of the ward cannot set it up.
    let r = post(
        &app,
        &format!("/api/v1/wards/{}/beds", p.ward1),
        Some(&p.nurse.token),
        json!({"label": "103-1"}),
    )
    .await;
    assert_eq!(r.status(), 403);
    // The bed is taken, and the patient already admitted.
    let r = post(
        &app,
        &format!("/api/v1/wards/{}/admissions", p.ward1),
        Some(&p.hadmin.token),
        json!({"patient_id": quick_patient(&app).await.id, "bed_id": s.bed}),
    )
    .await;
    assert_eq!(problem(r).await["code"], "bed_occupied");
    let beds: Vec<Value> = get(
        &app,
        &format!("/api/v1/wards/{}/beds", p.ward1),
        &p.nurse.token,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(beds.len(), 3);
    assert_eq!(beds[0]["label"], "101-1");
    assert_eq!(beds[0]["admission"]["id"], s.admission.as_str());
    assert_eq!(
        beds[1]["admission"]["patient_id"],
        p.patient_other.id.to_string()
    );
    assert!(beds[2].get("admission").is_none());
    let r = post(
        &app,
        &format!("/api/v1/admissions/{}/transfer", s.admission),
        Some(&p.hadmin.token),
        json!({"bed_id": second}),
    )
    .await;
    assert_eq!(problem(r).await["code"], "bed_occupied");
    let r = post(
        &app,
        &format!("/api/v1/admissions/{}/transfer", s.admission),
        Some(&p.hadmin.token),
        json!({"bed_id": third}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let moved: Value = r.json().await.unwrap();
    assert_eq!(moved["bed_id"], third.as_str());
    assert_eq!(moved["transferred_from"], s.admission.as_str());
    let r = post(
        &app,
        &format!(
            "/api/v1/admissions/{}/discharge",
            moved["id"].as_str().unwrap()
        ),
        Some(&p.hadmin.token),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["discharged_at"].is_string());
}

#[tokio::test]
async fn the_ward_stream_replays_only_what_came_after_last_event_id() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    report(
        &app,
        &s.device,
        json!([{"measured_at": ago(3), "kind": "heart_rate", "value": 71}]),
    )
    .await;
    let all = read_events(&app, s.p.ward1, &s.p.doctor.token, None, "event: vitals").await;
    assert!(all.contains("event: admission"), "{all}");
    assert!(all.contains("event: vitals"), "{all}");
    let last_id = all
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .next_back()
        .unwrap()
        .to_owned();
    // Missed while away: a new sample.
    report(
        &app,
        &s.device,
        json!([{"measured_at": ago(1), "kind": "heart_rate", "value": 88}]),
    )
    .await;
    let after = read_events(
        &app,
        s.p.ward1,
        &s.p.doctor.token,
        Some(&last_id),
        "event: vitals",
    )
    .await;
    assert!(!after.contains("event: admission"), "{after}");
    assert!(after.contains("event: vitals"), "{after}");
    assert!(after.contains("88"), "{after}");
    assert!(!after.contains(&format!("id: {last_id}\n")), "{after}");
}
