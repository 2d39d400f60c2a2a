//! Ward monitoring through the API: setting a ward up, devices reporting samples, alarms raised
//! from them, the nurse station's snapshot and resumable event stream, and who may see what.

use std::time::Duration;

use chrono::{SecondsFormat, TimeDelta, Utc};
use futures::StreamExt;
use serde_json::{Value, json};
use uuid::Uuid;

use docde_server::ward::escalate_due;
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

async fn send_samples(
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

async fn open_alarms(app: &TestApp, s: &Setup) -> Vec<Value> {
    let r = get(
        app,
        &format!("/api/v1/wards/{}/alarms", s.p.ward1),
        &s.p.nurse.token,
    )
    .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
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
async fn a_sustained_fever_raises_one_alarm_that_is_streamed_acknowledged_and_resolved_with_a_note()
{
    let app = spawn_app().await;
    let s = setup(&app).await;
    // A single hot reading is not yet an alarm (onset delay).
    let r = report(
        &app,
        &s.device,
        json!([{"measured_at": ago(40), "kind": "body_temperature", "value": 39.2}]),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(open_alarms(&app, &s).await.is_empty());
    // Still hot 10 s and more later: one fever alarm, however often it is reported.
    for secs in [30, 20, 10] {
        let r = report(
            &app,
            &s.device,
            json!([{"measured_at": ago(secs), "kind": "body_temperature", "value": 39.4}]),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    let open = open_alarms(&app, &s).await;
    assert_eq!(open.len(), 1, "{open:?}");
    let alarm = &open[0];
    assert_eq!(alarm["kind"], "fever");
    assert_eq!(alarm["status"], "active");
    assert_eq!(alarm["admission_id"], s.admission.as_str());
    let id = alarm["id"].as_str().unwrap().to_owned();
    // It is on the ward's stream.
    let text = read_events(&app, s.p.ward1, &s.p.nurse.token, None, "event: alarm\n").await;
    assert!(text.contains("event: alarm\n"), "{text}");
    assert!(text.contains(&id), "{text}");
    // Acknowledged by the ward's nurse, then resolved with the action taken.
    let r = post(
        &app,
        &format!("/api/v1/alarms/{id}/acknowledge"),
        Some(&s.p.nurse.token),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "acknowledged");
    let r = post(
        &app,
        &format!("/api/v1/alarms/{id}/acknowledge"),
        Some(&s.p.nurse.token),
        json!({}),
    )
    .await;
    assert_eq!(problem(r).await["code"], "already_acknowledged");
    let r = post(
        &app,
        &format!("/api/v1/alarms/{id}/resolve"),
        Some(&s.p.nurse.token),
        json!({"note": "  "}),
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = post(
        &app,
        &format!("/api/v1/alarms/{id}/resolve"),
        Some(&s.p.nurse.token),
        json!({"note": "해열제 투여, 30분 후 재측정"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let resolved: Value = r.json().await.unwrap();
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolved_by"], s.p.nurse.id.to_string());
    assert_eq!(resolved["resolution_note"], "해열제 투여, 30분 후 재측정");
    assert!(open_alarms(&app, &s).await.is_empty());
    let text = read_events(&app, s.p.ward1, &s.p.nurse.token, None, "\"resolved\"").await;
    assert!(text.contains("event: alarm_update"), "{text}");
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

#[tokio::test]
async fn only_the_wards_staff_read_it_and_only_its_nurses_and_admins_handle_its_alarms() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let p = &s.p;
    for path in ["beds", "beds/live", "alarms", "events"] {
        let path = format!("/api/v1/wards/{}/{path}", p.ward1);
        for (who, token, status) in [
            ("nurse of another ward", &p.nurse_other.token, 403),
            ("patient", &p.patient.token, 403),
            ("admin of another hospital", &p.hadmin_h2.token, 403),
            ("reception", &p.reception.token, 403),
        ] {
            assert_eq!(
                get(&app, &path, token).await.status(),
                status,
                "{who} {path}"
            );
        }
        if path.ends_with("events") {
            continue;
        }
        for (who, token) in [
            ("ward nurse", &p.nurse.token),
            ("doctor", &p.doctor.token),
            ("hospital admin", &p.hadmin.token),
        ] {
            assert_eq!(get(&app, &path, token).await.status(), 200, "{who} {path}");
        }
    }
    assert_eq!(
        app.get(&format!("/api/v1/wards/{}/beds", p.ward1))
            .await
            .status(),
        401
    );
    // A nurse call is an alarm at once; only the ward's nurses and admins answer it.
    let r = report(
        &app,
        &s.device,
        json!([{"measured_at": ago(1), "kind": "nurse_call", "value": true}]),
    )
    .await;
    assert_eq!(r.status(), 200);
    let open = open_alarms(&app, &s).await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["kind"], "nurse_call");
    assert_eq!(open[0]["priority"], "high");
    let ack = format!(
        "/api/v1/alarms/{}/acknowledge",
        open[0]["id"].as_str().unwrap()
    );
    for token in [&p.nurse_other.token, &p.doctor.token, &p.patient.token] {
        assert_eq!(post(&app, &ack, Some(token), json!({})).await.status(), 403);
    }
    assert_eq!(
        post(
            &app,
            &ack,
            Some(&p.hadmin.token),
            json!({"note": "가는 중"})
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn an_unacknowledged_nurse_call_is_escalated_once_per_level_and_acknowledging_stops_it() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    report(
        &app,
        &s.device,
        json!([{"measured_at": ago(1), "kind": "nurse_call", "value": "pressed"}]),
    )
    .await;
    let id = open_alarms(&app, &s).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // High priority: the charge nurse after 60 s, the webhook level after 180 s.
    let later = Utc::now() + TimeDelta::seconds(90);
    assert_eq!(escalate_due(&app.state, later).await.unwrap(), 1);
    assert_eq!(
        escalate_due(&app.state, later).await.unwrap(),
        0,
        "once per level"
    );
    assert_eq!(open_alarms(&app, &s).await[0]["escalation_level"], 1);
    let text = read_events(
        &app,
        s.p.ward1,
        &s.p.nurse.token,
        None,
        "event: alarm_update",
    )
    .await;
    assert!(text.contains("event: alarm_update"), "{text}");
    post(
        &app,
        &format!("/api/v1/alarms/{id}/acknowledge"),
        Some(&s.p.nurse.token),
        json!({"note": "병실로 가는 중"}),
    )
    .await;
    let much_later = Utc::now() + TimeDelta::seconds(600);
    assert_eq!(escalate_due(&app.state, much_later).await.unwrap(), 0);
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
