//! Editing a doctor's schedule through the API: who may, what an invalid one is told, and
//! what happens to the appointments a change would strand.

use docde_server::config::RushMode;
use serde_json::{Value, json};

use crate::booking::{app_with, book, doctor_with_schedule, put_schedule, schedule, slot};
use crate::helpers::problem;
use crate::people::{get, people};

#[tokio::test]
async fn only_the_hospitals_admins_and_the_doctor_edit_a_schedule() {
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    for who in [&p.hadmin_h2, &p.patient, &p.reception, &p.nurse] {
        assert_eq!(
            put_schedule(&app, doctor, &who.token, schedule(1, 1))
                .await
                .status(),
            403
        );
    }
    // The doctor edits their own; a stale version is refused.
    assert_eq!(
        put_schedule(&app, doctor, &p.doctor.token, schedule(2, 1))
            .await
            .status(),
        200
    );
    let r = put_schedule(&app, doctor, &p.doctor.token, schedule(1, 1)).await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "schedule_changed");
    // Anyone may read it.
    let read: Value = app
        .get(&format!("/api/v1/doctors/{doctor}/schedule"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["version"], 2);
    assert_eq!(read["rules"][0]["capacity"], 2);
}

#[tokio::test]
async fn an_invalid_schedule_names_the_field_and_the_rule() {
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let mut bad = schedule(1, 1);
    bad["rules"][2]["end"] = json!("08:00");
    let r = put_schedule(&app, doctor, &p.hadmin.token, bad).await;
    assert_eq!(r.status(), 422);
    let problem = problem(r).await;
    assert_eq!(problem["code"], "end_before_start");
    assert_eq!(problem["errors"][0]["field"], "rules[2].end");
}

#[tokio::test]
async fn a_schedule_change_that_strands_appointments_is_refused_or_cancels_them_with_notice() {
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let r = book(&app, &p.patient, doctor, &slot("16:30")).await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Afternoons end at 16:00 from now on.
    let mut shorter = schedule(1, 1);
    for rule in shorter["rules"].as_array_mut().unwrap() {
        rule["end"] = json!("16:00");
    }
    let r = put_schedule(&app, doctor, &p.hadmin.token, shorter.clone()).await;
    assert_eq!(r.status(), 409);
    let refusal = problem(r).await;
    assert_eq!(refusal["code"], "schedule_conflict");
    assert_eq!(refusal["affected"][0]["appointment_id"], id.as_str());
    shorter["on_conflict"] = json!("cancel");
    let r = put_schedule(&app, doctor, &p.hadmin.token, shorter).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["cancelled"][0],
        id.as_str()
    );
    let a: Value = get(
        &app,
        &format!("/api/v1/appointments/{id}"),
        &p.patient.token,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(a["status"], "cancelled");
    assert_eq!(a["status_reason"], "schedule_changed");
}
