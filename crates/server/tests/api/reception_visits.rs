//! The reception desk meeting the rest of the hospital, through the API: a booked
//! appointment checked in at the desk, and a walk-in's record written by the doctor who saw
//! the patient.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{problem, spawn_app_with};
use crate::people::{Person, get};
use crate::reception::{IM, call_next, check_in, im_doctor, setup, step};

#[tokio::test]
async fn checking_in_against_a_booked_appointment_marks_it_checked_in() {
    let app = spawn_app_with(|_| {}).await;
    let p = setup(&app).await;
    let doctor = im_doctor(&app, &p, Some(p.doctor.id)).await;
    // A booked appointment an hour from now, written straight to the store.
    let now = Utc::now();
    let starts = now.timestamp() + 3600;
    let appointment = docde_store::booking::NewAppointment {
        id: Uuid::now_v7(),
        hospital_id: p.h1,
        doctor_id: doctor,
        patient_id: p.patient.id,
        starts_at: starts - starts % 60,
        ends_at: starts - starts % 60 + 1800,
        capacity: 1,
        status: "booked",
        reason: "정기 검진".into(),
        idempotency_key: None,
        request_hash: None,
        rescheduled_from: None,
        now,
        email: None,
        session_id: None,
    };
    docde_store::booking::appointments::book_now(&app.state.store, &appointment)
        .await
        .unwrap();
    // Only if the appointment is today in Seoul (a run just before local midnight skips it).
    let seoul = chrono_tz::Asia::Seoul;
    let today = now.with_timezone(&seoul).date_naive();
    let day_of = DateTime::from_timestamp(appointment.starts_at, 0)
        .unwrap()
        .with_timezone(&seoul)
        .date_naive();
    let r = check_in(
        &app,
        p.h1,
        &p.patient,
        json!({"department": IM, "appointment_id": appointment.id}),
    )
    .await;
    if day_of != today {
        assert_eq!(problem(r).await["code"], "appointment_not_today");
        return;
    }
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["doctor_id"], doctor.to_string());
    let a = docde_store::booking::appointments::get(&app.state.store, appointment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.status, "checked_in");
    // Completing the visit completes the appointment.
    let id = v["id"].as_str().unwrap();
    call_next(&app, p.h1, &p.doctor).await;
    step(&app, id, "start", &p.doctor).await;
    assert_eq!(step(&app, id, "complete", &p.doctor).await.status(), 200);
    let a = docde_store::booking::appointments::get(&app.state.store, appointment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.status, "completed");
}

#[tokio::test]
async fn a_completed_walk_in_gets_its_record_from_the_doctor_who_saw_the_patient() {
    let app = spawn_app_with(|_| {}).await;
    let p = setup(&app).await;
    im_doctor(&app, &p, Some(p.doctor.id)).await;
    let other_doctor =
        crate::people::person(&app, docde_domain::account::Role::Doctor, Some(p.h1)).await;
    im_doctor(&app, &p, Some(other_doctor.id)).await;
    let visit: Value = check_in(&app, p.h1, &p.patient, json!({"department": IM}))
        .await
        .json()
        .await
        .unwrap();
    let id = visit["id"].as_str().unwrap().to_owned();
    let record = |who: &Person| {
        let (app, id, token) = (&app, id.clone(), who.token.clone());
        async move {
            app.client
                .post(app.url(&format!("/api/v1/reception/visits/{id}/record")))
                .bearer_auth(token)
                .json(&json!({"treatment_date": Utc::now().date_naive(), "description": "감기 증상, 해열제 처방"}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(call_next(&app, p.h1, &p.doctor).await["visit"]["id"], id);
    assert_eq!(step(&app, &id, "start", &p.doctor).await.status(), 200);
    let early = record(&p.doctor).await;
    assert_eq!(early.status(), 409);
    assert_eq!(problem(early).await["code"], "visit_not_completed");
    assert_eq!(step(&app, &id, "complete", &p.doctor).await.status(), 200);

    // Only the doctor who saw the patient writes it; a colleague is refused, a stranger sees
    // no such visit.
    assert_eq!(record(&other_doctor).await.status(), 403);
    assert_eq!(record(&p.patient_other).await.status(), 404);
    let written = record(&p.doctor).await;
    assert_eq!(written.status(), 201);
    let written: Value = written.json().await.unwrap();
    assert_eq!(written["patient_id"], p.patient.id.to_string());
    let again = record(&p.doctor).await;
    assert_eq!(problem(again).await["code"], "record_exists");

    // The colleague has no care relationship with this patient; the treating doctor has.
    let path = format!("/api/v1/records/{}", written["id"].as_str().unwrap());
    assert_eq!(get(&app, &path, &other_doctor.token).await.status(), 404);
    assert_eq!(get(&app, &path, &p.doctor.token).await.status(), 200);

    // The patient reads it among their records.
    let mine: Value = get(&app, "/api/v1/me/records", &p.patient.token)
        .await
        .json()
        .await
        .unwrap();
    let items = mine
        .as_array()
        .or_else(|| mine["items"].as_array())
        .unwrap();
    assert!(items.iter().any(|r| r["id"] == written["id"]));
}
