//! The medicine-delivery robot: a QR scan (HTTP or MQTT, authenticated as a device) marks that
//! patient's medicine delivered, only within the robot's hospital, idempotently; the round
//! resets at the configured local times.

use chrono::{TimeDelta, Utc};
use docde_domain::ward::medication::MedicationStatus;
use docde_server::ward::medication::reset_round;
use docde_store::ward::{admissions, medication};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, problem, spawn_app};
use crate::people::post;
use crate::ward::{Setup, TestDevice, register_device, setup};
use crate::ward_mqtt::{Publisher, broker_available, settings, start_ingest};

async fn scan(app: &TestApp, robot: &TestDevice, path_id: &str, qr: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/devices/{path_id}/medication-deliveries")))
        .basic_auth(&robot.id, Some(&robot.secret))
        .json(&json!({ "qrCode": qr }))
        .send()
        .await
        .unwrap()
}

/// A medicine with a code no other test uses, on the setup's admission.
async fn medicine(app: &TestApp, s: &Setup) -> String {
    let qr = format!("QR-{}", Uuid::now_v7().simple());
    medication::add(
        &app.state.store,
        s.admission.parse().unwrap(),
        "세프트리악손",
        "1 g IV",
        &qr,
        Utc::now(),
    )
    .await
    .unwrap();
    qr
}

async fn status_of(app: &TestApp, s: &Setup, qr: &str) -> MedicationStatus {
    medication::of_admission(&app.state.store, s.admission.parse().unwrap())
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.qr_code == qr)
        .expect("the medicine")
        .status
}

#[tokio::test]
async fn a_robot_scan_delivers_the_medicine_once_and_a_repeat_scan_is_answered_the_same() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let robot = register_device(&app, &s.p).await;
    let qr = medicine(&app, &s).await;

    let r = scan(&app, &robot, &robot.id, &qr).await;
    assert_eq!(r.status(), 200);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["status"], "done");
    assert_eq!(first["already_delivered"], false);
    assert_eq!(first["admission_id"].as_str(), Some(s.admission.as_str()));
    assert_eq!(status_of(&app, &s, &qr).await, MedicationStatus::Done);

    let r = scan(&app, &robot, &robot.id, &qr).await;
    assert_eq!(r.status(), 200);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["already_delivered"], true);
    assert_eq!(
        again["delivered_at"], first["delivered_at"],
        "the first scan stands"
    );
}

#[tokio::test]
async fn unknown_codes_other_hospitals_codes_and_other_devices_are_refused() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let robot = register_device(&app, &s.p).await;
    let qr = medicine(&app, &s).await;

    let r = scan(&app, &robot, &robot.id, "QR-nobody-has-this").await;
    assert_eq!(r.status(), 404);
    assert_eq!(problem(r).await["code"], "unknown_qr_code");
    let r = scan(&app, &robot, &robot.id, "   ").await;
    assert_eq!(r.status(), 422);
    assert_eq!(problem(r).await["code"], "invalid_qr_code");

    // A robot of another hospital cannot deliver (or learn of) this hospital's medicine.
    let r = post(
        &app,
        &format!("/api/v1/hospitals/{}/devices", s.p.h2),
        Some(&s.p.hadmin_h2.token),
        json!({"name": "robot", "kind": "delivery_robot"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let stranger = TestDevice {
        id: body["device"]["id"].as_str().unwrap().to_owned(),
        secret: body["secret"].as_str().unwrap().to_owned(),
    };
    let r = scan(&app, &stranger, &stranger.id, &qr).await;
    assert_eq!(r.status(), 404);
    assert_eq!(problem(r).await["code"], "unknown_qr_code");

    let r = scan(&app, &robot, &s.device.id, &qr).await;
    assert_eq!(r.status(), 403, "as another device");
    let r = app
        .client
        .post(app.url(&format!(
            "/api/v1/devices/{}/medication-deliveries",
            robot.id
        )))
        .basic_auth(&robot.id, Some("wrong"))
        .json(&json!({ "qrCode": qr }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .post(app.url(&format!(
            "/api/v1/devices/{}/medication-deliveries",
            robot.id
        )))
        .bearer_auth(&s.p.nurse.token)
        .json(&json!({ "qrCode": qr }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "people are not robots");
    assert_eq!(status_of(&app, &s, &qr).await, MedicationStatus::ToDo);

    admissions::discharge(&app.state.store, s.admission.parse().unwrap(), Utc::now())
        .await
        .unwrap();
    let r = scan(&app, &robot, &robot.id, &qr).await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "admission_closed");
}

#[tokio::test]
async fn a_delivery_stays_done_until_the_next_reset_time_puts_it_back_to_to_do() {
    let app = spawn_app_with_rounds().await;
    let s = setup(&app).await;
    let robot = register_device(&app, &s.p).await;
    let qr = medicine(&app, &s).await;
    assert_eq!(scan(&app, &robot, &robot.id, &qr).await.status(), 200);

    let now = Utc::now();
    reset_round(&app.state, now).await.unwrap();
    assert_eq!(
        status_of(&app, &s, &qr).await,
        MedicationStatus::Done,
        "delivered after the latest reset time: this round's delivery"
    );
    let tomorrow = now + TimeDelta::days(1);
    assert_eq!(reset_round(&app.state, tomorrow).await.unwrap(), 1);
    assert_eq!(status_of(&app, &s, &qr).await, MedicationStatus::ToDo);
    assert_eq!(
        reset_round(&app.state, tomorrow).await.unwrap(),
        0,
        "another instance finds the round done"
    );
    let r = scan(&app, &robot, &robot.id, &qr).await;
    assert_eq!(r.json::<Value>().await.unwrap()["already_delivered"], false);
}

/// An app whose rounds reset every six hours, and whose own reset worker stays off (the test
/// drives the rounds).
async fn spawn_app_with_rounds() -> TestApp {
    crate::helpers::spawn_app_with(|c| {
        c.medication.reset_times = vec![
            "00:00".into(),
            "06:00".into(),
            "12:00".into(),
            "18:00".into(),
        ];
        c.medication.reset_worker = false;
    })
    .await
}

#[tokio::test]
async fn a_robot_scan_over_mqtt_delivers_and_is_answered_on_the_results_topic() {
    if !broker_available("mqtt medication delivery") {
        return;
    }
    let app = spawn_app().await;
    let s = setup(&app).await;
    let robot = register_device(&app, &s.p).await;
    let qr = medicine(&app, &s).await;
    let settings = settings();
    start_ingest(&app, &settings).await;
    let prefix = &settings.topic_prefix;
    let mut device =
        Publisher::connect(Some(format!("{prefix}/devices/{}/results", robot.id))).await;
    let topic = format!("{prefix}/devices/{}/medication-deliveries", robot.id);

    device
        .publish(&topic, json!({"secret": "wrong", "qrCode": qr}))
        .await;
    assert_eq!(device.reply().await["status"], 401);
    device
        .publish(
            &topic,
            json!({"secret": robot.secret, "qrCode": "QR-unknown"}),
        )
        .await;
    assert_eq!(
        device.reply().await,
        json!({"status": 404, "code": "unknown_qr_code"})
    );
    device
        .publish(&topic, json!({"secret": robot.secret, "qrCode": qr}))
        .await;
    let reply = device.reply().await;
    assert_eq!(reply["status"], 200);
    assert_eq!(reply["already_delivered"], false);
    assert_eq!(status_of(&app, &s, &qr).await, MedicationStatus::Done);
    device.disconnect().await;
}
