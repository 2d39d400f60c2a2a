//! Schedules, availability and appointments through the API, as patients, doctors and
//! reception use them, and the invariants under concurrency (retries are in
//! `booking_retries`; the rush queue, the live channel and several instances in
//! `booking_rush`; editing a schedule in `schedules`).

use std::time::Duration;

use chrono::{Days, NaiveTime, Utc};
use docde_server::config::RushMode;
use docde_store::directory::{self, DoctorFacts};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::booking_retries::book_keyed;
use crate::helpers::{TestApp, problem, spawn_app_with};
use crate::people::{People, Person, get, mails_to, people, post, quick_patient};

pub(crate) async fn app_with(rush: RushMode) -> TestApp {
    spawn_app_with(move |c| c.booking.rush = rush).await
}

/// An instance that queues every booking and never serves the queue: its tickets stay queued.
pub(crate) async fn app_queueing_only() -> TestApp {
    spawn_app_with(|c| {
        c.booking.rush = RushMode::Always;
        c.booking.serve_queue = false;
    })
    .await
}

/// A doctor of hospital h1 linked to the `doctor` account, with a schedule: every day
/// 09:00–18:00 in 30-minute slots of one seat, lunch 12:00–13:00.
pub(crate) async fn doctor_with_schedule(app: &TestApp, p: &People, capacity: u16) -> Uuid {
    let id = Uuid::now_v7();
    let facts = DoctorFacts {
        name: "김내과".into(),
        bio: None,
        accepts_online_booking: true,
        departments: vec!["internal_medicine".into()],
        user_id: Some(p.doctor.id),
    };
    directory::put_doctor(&app.state.store, id, p.h1, &facts, Utc::now())
        .await
        .unwrap();
    let r = put_schedule(app, id, &p.hadmin.token, schedule(capacity, 0)).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    id
}

/// A second doctor of h1 without an account.
async fn other_doctor(app: &TestApp, p: &People) -> Uuid {
    let id = Uuid::now_v7();
    let facts = DoctorFacts {
        name: "이외과".into(),
        bio: None,
        accepts_online_booking: true,
        departments: vec!["general_surgery".into()],
        user_id: None,
    };
    directory::put_doctor(&app.state.store, id, p.h1, &facts, Utc::now())
        .await
        .unwrap();
    let r = put_schedule(app, id, &p.hadmin.token, schedule(1, 0)).await;
    assert_eq!(r.status(), 200);
    id
}

pub(crate) fn schedule(capacity: u16, version: i64) -> Value {
    let rules: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "18:00", "slot_minutes": 30, "capacity": capacity}))
        .collect();
    json!({
        "rules": rules,
        "breaks": [{"start": "12:00", "end": "13:00"}],
        "closed_on_holidays": false,
        "policy": {"horizon_days": 14, "book_cutoff_minutes": 0, "cancel_cutoff_minutes": 60},
        "version": version,
    })
}

pub(crate) async fn put_schedule(
    app: &TestApp,
    doctor: Uuid,
    token: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/doctors/{doctor}/schedule")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// `HH:MM` on the day after tomorrow in Seoul, as RFC 3339 (always inside the horizon and
/// never in the past, whatever time the test runs).
pub(crate) fn slot(hh_mm: &str) -> String {
    let date = Utc::now()
        .with_timezone(&chrono_tz::Asia::Seoul)
        .date_naive()
        .checked_add_days(Days::new(2))
        .unwrap();
    let time = NaiveTime::parse_from_str(hh_mm, "%H:%M").unwrap();
    format!("{}T{}:00+09:00", date, time.format("%H:%M"))
}

pub(crate) async fn book(app: &TestApp, who: &Person, doctor: Uuid, at: &str) -> reqwest::Response {
    post(
        app,
        "/api/v1/appointments",
        Some(&who.token),
        json!({"doctor_id": doctor, "starts_at": at, "reason": "기침이 2주째 계속됩니다"}),
    )
    .await
}

pub(crate) async fn free_starts(app: &TestApp, doctor: Uuid) -> Vec<String> {
    let body: Value = app
        .get(&format!("/api/v1/doctors/{doctor}/availability"))
        .await
        .json()
        .await
        .unwrap();
    body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_patient_books_a_free_slot_sees_it_listed_and_cancelling_frees_it_again() {
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let at = slot("10:00");
    assert!(free_starts(&app, doctor).await.contains(&at));
    // Lunch is not offered.
    assert!(!free_starts(&app, doctor).await.contains(&slot("12:00")));

    let r = book(&app, &p.patient, doctor, &at).await;
    assert_eq!(r.status(), 201);
    let booked: Value = r.json().await.unwrap();
    assert_eq!(booked["status"], "booked");
    assert_eq!(booked["starts_at"], at);
    assert!(!free_starts(&app, doctor).await.contains(&at));
    let id = booked["id"].as_str().unwrap();

    let mine: Value = get(&app, "/api/v1/me/appointments", &p.patient.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["id"], id);
    // The patient was told by e-mail (in the booking's transaction, sent by the dispatcher).
    for _ in 0..100 {
        if mails_to(&app, &p.patient.email) >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(mails_to(&app, &p.patient.email), 1);

    let r = post(
        &app,
        &format!("/api/v1/appointments/{id}/cancel"),
        Some(&p.patient.token),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let cancelled: Value = r.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert!(free_starts(&app, doctor).await.contains(&at));
    // Someone else takes the freed seat at once.
    assert_eq!(
        book(&app, &p.patient_other, doctor, &at).await.status(),
        201
    );
}

#[tokio::test]
async fn two_hundred_patients_racing_for_one_seat_leave_exactly_one_winner_and_clean_409s() {
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let mut patients = Vec::new();
    for _ in 0..200 {
        patients.push(quick_patient(&app).await);
    }
    let at = slot("11:00");
    let attempts = patients.iter().map(|who| book(&app, who, doctor, &at));
    let responses = futures::future::join_all(attempts).await;
    let mut won = 0;
    for r in responses {
        match r.status().as_u16() {
            201 => won += 1,
            409 => assert_eq!(problem(r).await["code"], "slot_full"),
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(won, 1);
    assert!(
        docde_store::booking::seats::violations(&app.state.store)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_patient_cannot_hold_two_appointments_at_the_same_time() {
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let first = doctor_with_schedule(&app, &p, 1).await;
    let second = other_doctor(&app, &p).await;
    let at = slot("14:00");
    assert_eq!(book(&app, &p.patient, first, &at).await.status(), 201);
    let r = book(&app, &p.patient, second, &at).await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "patient_overlap");
    // The refused booking took no seat.
    assert_eq!(
        book(&app, &p.patient_other, second, &at).await.status(),
        201
    );
}

#[tokio::test]
async fn bad_booking_requests_get_precise_problems_and_write_nothing() {
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let cases = [
        (
            json!({"doctor_id": Uuid::now_v7(), "starts_at": slot("10:00"), "reason": "x"}),
            422,
            "unknown_doctor",
        ),
        (
            json!({"doctor_id": doctor, "starts_at": slot("10:05"), "reason": "x"}),
            422,
            "slot_not_in_schedule",
        ),
        (
            json!({"doctor_id": doctor, "starts_at": slot("12:00"), "reason": "x"}),
            422,
            "slot_not_in_schedule",
        ),
        (
            json!({"doctor_id": doctor, "starts_at": "2020-01-06T10:00:00+09:00", "reason": "x"}),
            422,
            "slot_in_past",
        ),
        (
            json!({"doctor_id": doctor, "starts_at": format!("{}T10:00:00+09:00", Utc::now().date_naive() + Days::new(40)), "reason": "x"}),
            422,
            "beyond_horizon",
        ),
        (
            json!({"doctor_id": doctor, "starts_at": "tomorrow at ten", "reason": "x"}),
            422,
            "validation_failed",
        ),
        (
            json!({"doctor_id": doctor, "starts_at": slot("10:00"), "reason": "아".repeat(501)}),
            422,
            "validation_failed",
        ),
        (
            json!({"doctor_id": doctor, "starts_at": slot("10:00"), "reason": ""}),
            422,
            "validation_failed",
        ),
    ];
    for (body, status, code) in cases {
        let r = post(
            &app,
            "/api/v1/appointments",
            Some(&p.patient.token),
            body.clone(),
        )
        .await;
        assert_eq!(r.status(), status, "{body}");
        let problem = problem(r).await;
        assert_eq!(problem["code"], code, "{body}: {problem}");
    }
    let r = post(&app, "/api/v1/appointments", None, json!({})).await;
    assert_eq!(r.status(), 401);
    // Staff do not book for themselves through the patient endpoint.
    assert_eq!(
        book(&app, &p.reception, doctor, &slot("10:00"))
            .await
            .status(),
        403
    );
    let mine: Value = get(&app, "/api/v1/me/appointments", &p.patient.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"], json!([]));
}

#[tokio::test]
async fn a_logged_out_token_books_nothing_and_learns_only_that_a_public_slot_is_full() {
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let full = slot("15:00");
    assert_eq!(book(&app, &p.patient, doctor, &full).await.status(), 201);
    let leaver = crate::people::quick_patient(&app).await;
    let own = slot("17:00");
    assert_eq!(
        book_keyed(&app, &leaver, doctor, &own, "mine")
            .await
            .status(),
        201
    );
    let r = post(&app, "/api/v1/auth/logout", Some(&leaver.token), json!({})).await;
    assert_eq!(r.status(), 204, "{:?}", r.text().await);

    // A free slot: the session is read before anything is written.
    let r = book(&app, &leaver, doctor, &slot("16:00")).await;
    assert_eq!(r.status(), 401);
    assert_eq!(problem(r).await["code"], "session_revoked");
    // The availability API tells anyone that 15:00 is full, so the refusal may too; it is
    // answered before the session read (the cost of every loser in a rush).
    assert!(!free_starts(&app, doctor).await.contains(&full));
    let r = book_keyed(&app, &leaver, doctor, &full, "other").await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "slot_full");
    // Whether the leaver's own key booked 17:00 is theirs to know: that needs a live session.
    let r = book_keyed(&app, &leaver, doctor, &own, "mine").await;
    assert_eq!(r.status(), 401);
    assert_eq!(problem(r).await["code"], "session_revoked");
    // Nothing was booked in the leaver's name after the logout.
    let booked = docde_store::booking::seats::holders(&app.state.store, doctor, 0, i64::MAX)
        .await
        .unwrap();
    assert_eq!(
        booked.iter().filter(|h| h.patient_id == leaver.id).count(),
        1
    );
}

#[tokio::test]
async fn with_doctor_approval_a_booking_is_requested_until_the_doctor_decides() {
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let r = app
        .client
        .put(app.url(&format!("/api/v1/hospitals/{}/booking-settings", p.h1)))
        .bearer_auth(&p.hadmin.token)
        .json(&json!({"booking_mode": "doctor_approval"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let a: Value = book(&app, &p.patient, doctor, &slot("09:30"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["status"], "requested");
    let b: Value = book(&app, &p.patient_other, doctor, &slot("10:30"))
        .await
        .json()
        .await
        .unwrap();
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    // The patient cannot approve their own request.
    let r = post(
        &app,
        &format!("/api/v1/appointments/{a}/confirm"),
        Some(&p.patient.token),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = post(
        &app,
        &format!("/api/v1/appointments/{a}/confirm"),
        Some(&p.doctor.token),
        json!({}),
    )
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "booked");
    let r = post(
        &app,
        &format!("/api/v1/appointments/{b}/deny"),
        Some(&p.doctor.token),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 422, "a denial needs a reason");
    let r = post(
        &app,
        &format!("/api/v1/appointments/{b}/deny"),
        Some(&p.doctor.token),
        json!({"reason": "해당 진료과 아님"}),
    )
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "denied");
    // The denied request gave its seat back.
    assert!(free_starts(&app, doctor).await.contains(&slot("10:30")));
}

#[tokio::test]
async fn visits_move_booked_checked_in_completed_and_illegal_steps_are_409() {
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let a: Value = book(&app, &p.patient, doctor, &slot("13:00"))
        .await
        .json()
        .await
        .unwrap();
    let id = a["id"].as_str().unwrap();
    let step = |what: &'static str, who: &Person| {
        let path = format!("/api/v1/appointments/{id}/{what}");
        let token = who.token.clone();
        let app = &app;
        async move { post(app, &path, Some(&token), json!({})).await }
    };
    let r = step("complete", &p.reception).await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "illegal_transition");
    assert_eq!(step("check-in", &p.patient).await.status(), 403);
    // Staff of another hospital do not even see it.
    assert_eq!(step("check-in", &p.hadmin_h2).await.status(), 404);
    assert_eq!(step("check-in", &p.reception).await.status(), 200);
    let done = step("complete", &p.doctor).await;
    assert_eq!(done.json::<Value>().await.unwrap()["status"], "completed");
    let r = step("no-show", &p.reception).await;
    assert_eq!(r.status(), 409);
    // Another patient sees nothing of it.
    assert_eq!(
        get(
            &app,
            &format!("/api/v1/appointments/{id}"),
            &p.patient_other.token
        )
        .await
        .status(),
        404
    );
    let today: Value = get(
        &app,
        &format!(
            "/api/v1/doctors/{doctor}/appointments?from={}",
            (Utc::now().date_naive() + Days::new(2))
        ),
        &p.reception.token,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(today["items"][0]["id"], id);
    assert_eq!(
        get(
            &app,
            &format!("/api/v1/doctors/{doctor}/appointments"),
            &p.patient.token
        )
        .await
        .status(),
        403
    );
}

#[tokio::test]
async fn rescheduling_is_atomic_the_old_seat_is_kept_on_refusal_and_freed_on_success() {
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let a: Value = book(&app, &p.patient, doctor, &slot("09:00"))
        .await
        .json()
        .await
        .unwrap();
    let id = a["id"].as_str().unwrap();
    assert_eq!(
        book(&app, &p.patient_other, doctor, &slot("17:00"))
            .await
            .status(),
        201
    );
    let path = format!("/api/v1/appointments/{id}/reschedule");
    let r = post(
        &app,
        &path,
        Some(&p.patient.token),
        json!({"starts_at": slot("17:00")}),
    )
    .await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "slot_full");
    let kept: Value = get(
        &app,
        &format!("/api/v1/appointments/{id}"),
        &p.patient.token,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(kept["status"], "booked");
    let r = post(
        &app,
        &path,
        Some(&p.patient.token),
        json!({"starts_at": slot("17:30")}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let moved: Value = r.json().await.unwrap();
    assert_eq!(moved["rescheduled_from"], id);
    assert!(free_starts(&app, doctor).await.contains(&slot("09:00")));
    assert!(!free_starts(&app, doctor).await.contains(&slot("17:30")));
}
