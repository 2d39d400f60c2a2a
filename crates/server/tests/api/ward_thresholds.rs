//! Alarm threshold overrides through the API: who reads and sets a ward's and a patient's
//! limits, how bad limits are refused, and that the evaluator uses them from the next sample
//! on, on every instance.

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{TestApp, external_backends, problem, spawn_app, spawn_peer};
use crate::people::{get, post};
use crate::ward::{Setup, ago, report, setup};

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> Response {
    app.client
        .put(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn ward_path(s: &Setup) -> String {
    format!("/api/v1/wards/{}/thresholds", s.p.ward1)
}

fn admission_path(admission: &str) -> String {
    format!("/api/v1/admissions/{admission}/thresholds")
}

async fn read(app: &TestApp, path: &str, token: &str) -> Value {
    let r = get(app, path, token).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

async fn open_kinds(app: &TestApp, s: &Setup) -> Vec<String> {
    read(
        app,
        &format!("/api/v1/wards/{}/alarms", s.p.ward1),
        &s.p.nurse.token,
    )
    .await
    .as_array()
    .unwrap()
    .iter()
    .map(|a| a["kind"].as_str().unwrap().to_owned())
    .collect()
}

async fn temperature(app: &TestApp, s: &Setup, secs_ago: i64, value: f64) {
    let r = report(
        app,
        &s.device,
        json!([{"measured_at": ago(secs_ago), "kind": "body_temperature", "value": value}]),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn ward_staff_read_the_limits_admins_set_the_wards_and_its_nurses_set_a_patients() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let p = &s.p;
    let ward = read(&app, &ward_path(&s), &p.nurse.token).await;
    assert_eq!(ward["overrides"], json!({}));
    assert_eq!(ward["effective"]["fever_c"], 38.0);
    assert!(ward["updated_at"].is_null());
    for outsider in [&p.patient, &p.nurse_other, &p.reception, &p.hadmin_h2] {
        assert_eq!(
            get(&app, &ward_path(&s), &outsider.token).await.status(),
            403
        );
        assert_eq!(
            get(&app, &admission_path(&s.admission), &outsider.token)
                .await
                .status(),
            403
        );
    }
    let body = json!({"fever_c": 37.5, "tachycardia_per_min": 120});
    for not_allowed in [&p.nurse, &p.doctor, &p.hadmin_h2] {
        let r = put(&app, &ward_path(&s), &not_allowed.token, body.clone()).await;
        assert_eq!(r.status(), 403, "{}", not_allowed.email);
    }
    let r = put(&app, &ward_path(&s), &p.hadmin.token, body).await;
    assert_eq!(r.status(), 200);
    let ward: Value = r.json().await.unwrap();
    assert_eq!(ward["effective"]["fever_c"], 37.5);
    assert_eq!(ward["updated_by"], p.hadmin.id.to_string());

    let patient = json!({"fever_c": 38.5});
    let r = put(
        &app,
        &admission_path(&s.admission),
        &p.doctor.token,
        patient.clone(),
    )
    .await;
    assert_eq!(
        r.status(),
        403,
        "doctors read the ward; its nurses set limits"
    );
    let r = put(
        &app,
        &admission_path(&s.admission),
        &p.nurse_other.token,
        patient.clone(),
    )
    .await;
    assert_eq!(r.status(), 403, "a nurse of another ward");
    let r = put(&app, &admission_path(&s.admission), &p.nurse.token, patient).await;
    assert_eq!(r.status(), 200);
    let view = read(&app, &admission_path(&s.admission), &p.doctor.token).await;
    assert_eq!(view["overrides"], json!({"fever_c": 38.5}));
    assert_eq!(view["ward_overrides"]["fever_c"], 37.5);
    assert_eq!(
        view["effective"]["fever_c"], 38.5,
        "the patient's word wins"
    );
    assert_eq!(
        view["effective"]["tachycardia_per_min"], 120.0,
        "then the ward's"
    );
    assert_eq!(
        view["effective"]["bradycardia_per_min"], 40.0,
        "then the default"
    );
    assert_eq!(view["updated_by"], p.nurse.id.to_string());
    // `{}` hands the patient back to the ward's limits.
    let r = put(
        &app,
        &admission_path(&s.admission),
        &p.hadmin.token,
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["effective"]["fever_c"], 37.5);
    let missing = admission_path(&uuid::Uuid::now_v7().to_string());
    assert_eq!(get(&app, &missing, &p.admin.token).await.status(), 404);
    assert_eq!(
        get(&app, &missing, &p.nurse.token).await.status(),
        403,
        "others learn nothing of admissions that do not exist"
    );
}

#[tokio::test]
async fn crossed_misspelt_or_negative_limits_are_refused_precisely_and_change_nothing() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let admin = &s.p.hadmin.token;
    let r = put(&app, &ward_path(&s), admin, json!({"hypothermia_c": 38.5})).await;
    assert_eq!(r.status(), 422);
    let body = problem(r).await;
    assert_eq!(body["code"], "thresholds_overlap");
    assert!(body.to_string().contains("hypothermia_c"), "{body}");
    let r = put(&app, &ward_path(&s), admin, json!({"fevr_c": 38.0})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(problem(r).await["code"], "validation_failed");
    let r = put(&app, &ward_path(&s), admin, json!({"spo2_margin_pct": -1})).await;
    assert_eq!(problem(r).await["code"], "implausible_threshold");
    let r = put(&app, &ward_path(&s), admin, json!({"fever_c": "hot"})).await;
    assert_eq!(problem(r).await["code"], "validation_failed");
    let ward = read(&app, &ward_path(&s), admin).await;
    assert_eq!(ward["overrides"], json!({}), "nothing was stored");

    // A patient's limit that crosses the ward's, and a ward change that would cross a
    // patient's, are refused alike.
    let r = put(&app, &ward_path(&s), admin, json!({"fever_c": 37.5})).await;
    assert_eq!(r.status(), 200);
    let r = put(
        &app,
        &admission_path(&s.admission),
        &s.p.nurse.token,
        json!({"hypothermia_c": 37.6}),
    )
    .await;
    assert_eq!(problem(r).await["code"], "thresholds_overlap");
    let r = put(
        &app,
        &admission_path(&s.admission),
        &s.p.nurse.token,
        json!({"hypothermia_c": 36.5}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = put(&app, &ward_path(&s), admin, json!({"fever_c": 36.4})).await;
    let body = problem(r).await;
    assert_eq!(body["code"], "thresholds_overlap");
    assert!(
        body.to_string().contains(&s.admission),
        "names the admission: {body}"
    );
    assert_eq!(
        read(&app, &ward_path(&s), admin).await["effective"]["fever_c"],
        37.5
    );
}

#[tokio::test]
async fn the_evaluator_uses_a_patients_new_limit_from_the_next_sample_on() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let nurse = &s.p.nurse.token;
    let r = put(
        &app,
        &admission_path(&s.admission),
        nurse,
        json!({"fever_c": 38.5}),
    )
    .await;
    assert_eq!(r.status(), 200);
    // 38.3 °C for 15 s is a fever by default, not for this patient.
    temperature(&app, &s, 60, 38.3).await;
    temperature(&app, &s, 45, 38.3).await;
    assert!(open_kinds(&app, &s).await.is_empty());
    let r = put(
        &app,
        &admission_path(&s.admission),
        nurse,
        json!({"fever_c": 38.2}),
    )
    .await;
    assert_eq!(r.status(), 200);
    temperature(&app, &s, 30, 38.3).await;
    temperature(&app, &s, 15, 38.3).await;
    assert_eq!(open_kinds(&app, &s).await, ["fever"]);
}

#[tokio::test]
async fn a_transfer_keeps_the_patients_limits_and_a_closed_admission_takes_none() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let r = put(
        &app,
        &admission_path(&s.admission),
        &s.p.nurse.token,
        json!({"low_spo2_pct": 88}),
    )
    .await;
    assert_eq!(r.status(), 200);
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
        &format!("/api/v1/admissions/{}/transfer", s.admission),
        Some(&s.p.hadmin.token),
        json!({"bed_id": bed["id"]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let moved = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let view = read(&app, &admission_path(&moved), &s.p.nurse.token).await;
    assert_eq!(view["overrides"], json!({"low_spo2_pct": 88.0}));
    assert_eq!(view["effective"]["low_spo2_pct"], 88.0);
    let r = put(
        &app,
        &admission_path(&s.admission),
        &s.p.nurse.token,
        json!({"low_spo2_pct": 85}),
    )
    .await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "admission_closed");
}

#[tokio::test]
async fn a_ward_limit_set_on_one_instance_is_used_by_the_next_sample_on_another() {
    if !external_backends("a_ward_limit_set_on_one_instance_is_used_by_the_next_sample_on_another")
    {
        return;
    }
    let a = spawn_app().await;
    let s = setup(&a).await;
    let b = spawn_peer(&a).await;
    // B judges by the defaults first: 37.8 °C is no fever.
    temperature(&b, &s, 60, 37.8).await;
    temperature(&b, &s, 45, 37.8).await;
    assert!(open_kinds(&b, &s).await.is_empty());
    let r = put(
        &a,
        &ward_path(&s),
        &s.p.hadmin.token,
        json!({"fever_c": 37.5}),
    )
    .await;
    assert_eq!(r.status(), 200);
    // No wait: B reads the limits with each sample's context, after the write committed.
    temperature(&b, &s, 30, 37.8).await;
    temperature(&b, &s, 15, 37.8).await;
    assert_eq!(open_kinds(&b, &s).await, ["fever"]);
}
