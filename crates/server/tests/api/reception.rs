//! Walk-in reception through the API: check-in with per-day waiting numbers, the line as
//! doctors and reception run it, and the invariants under concurrency and across instances
//! (the waiting room and the live streams are in `reception_live`, the desk meeting bookings
//! and records in `reception_visits`).

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use docde_store::directory::{self, DoctorFacts, HospitalFacts, Hours};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, external_backends, problem, spawn_app_with, spawn_peer};
use crate::people::{People, Person, get, people, post, quick_patient};

pub(crate) const IM: &str = "internal_medicine";

/// Hospital h1 with internal medicine and surgery, open all day every day (holidays too)
/// unless `hours` says otherwise.
pub(crate) async fn open_hospital(app: &TestApp, p: &People, hours: Option<Vec<Hours>>) {
    let all_day = (0..=7)
        .map(|day| Hours {
            day,
            open: 0,
            close: 1440,
            lunch: None,
        })
        .collect();
    let facts = HospitalFacts {
        name: "서울대학교병원".into(),
        latin_name: None,
        hospital_type: "general_hospital".into(),
        sido: None,
        sigungu: None,
        road_address: None,
        phone: None,
        lat: None,
        lon: None,
        announcement: None,
        hours: hours.unwrap_or(all_day),
        departments: vec![IM.into(), "general_surgery".into()],
    };
    assert!(
        directory::update_hospital(&app.state.store, p.h1, &facts, Utc::now())
            .await
            .unwrap()
    );
}

/// A doctor of h1's internal medicine, linked to the `doctor` account.
pub(crate) async fn im_doctor(app: &TestApp, p: &People, user: Option<Uuid>) -> Uuid {
    let id = Uuid::now_v7();
    let facts = DoctorFacts {
        name: "김내과".into(),
        bio: None,
        accepts_online_booking: true,
        departments: vec![IM.into()],
        user_id: user,
    };
    directory::put_doctor(&app.state.store, id, p.h1, &facts, Utc::now())
        .await
        .unwrap();
    id
}

pub(crate) async fn setup(app: &TestApp) -> People {
    let p = people(app).await;
    open_hospital(app, &p, None).await;
    p
}

pub(crate) async fn check_in(
    app: &TestApp,
    h: Uuid,
    who: &Person,
    body: Value,
) -> reqwest::Response {
    post(
        app,
        &format!("/api/v1/hospitals/{h}/reception/check-ins"),
        Some(&who.token),
        body,
    )
    .await
}

pub(crate) async fn call_next(app: &TestApp, h: Uuid, who: &Person) -> Value {
    let r = post(
        app,
        &format!("/api/v1/hospitals/{h}/reception/call-next"),
        Some(&who.token),
        json!({"department": IM}),
    )
    .await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub(crate) async fn step(
    app: &TestApp,
    visit: &str,
    what: &str,
    who: &Person,
) -> reqwest::Response {
    post(
        app,
        &format!("/api/v1/reception/visits/{visit}/{what}"),
        Some(&who.token),
        json!({}),
    )
    .await
}

#[tokio::test]
async fn check_ins_get_numbers_one_two_three_with_the_departments_prefix() {
    let app = spawn_app_with(|_| {}).await;
    let p = setup(&app).await;
    let r = app
        .client
        .put(app.url(&format!(
            "/api/v1/hospitals/{}/reception/prefixes/{IM}",
            p.h1
        )))
        .bearer_auth(&p.hadmin.token)
        .json(&json!({"prefix": "IM"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let r = check_in(&app, p.h1, &p.patient, json!({"department": IM})).await;
    assert_eq!(r.status(), 201);
    assert!(r.headers().get("location").is_some());
    let first: Value = r.json().await.unwrap();
    assert_eq!(
        (first["number"].as_i64(), first["label"].as_str()),
        (Some(1), Some("IM-001"))
    );
    assert_eq!(first["status"], "waiting");
    assert_eq!(first["position"], 1);

    // The Korean name works as well as the code.
    let second: Value = check_in(&app, p.h1, &p.patient_other, json!({"department": "내과"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["label"], "IM-002");
    assert_eq!(
        (second["position"].as_u64(), second["ahead"].as_u64()),
        (Some(2), Some(1))
    );

    // Reception checks a third patient in on their behalf.
    let third = quick_patient(&app).await;
    let r = check_in(
        &app,
        p.h1,
        &p.reception,
        json!({"department": IM, "patient_id": third.id}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let third_visit: Value = r.json().await.unwrap();
    assert_eq!(third_visit["label"], "IM-003");
    assert_eq!(third_visit["patient_id"], third.id.to_string());

    // Another department counts from 1 with no prefix.
    let fourth = quick_patient(&app).await;
    let surgery: Value = check_in(
        &app,
        p.h1,
        &fourth,
        json!({"department": "general_surgery"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(surgery["label"], "1");

    // Twice the same day is refused, and takes no number.
    let again = check_in(
        &app,
        p.h1,
        &p.patient,
        json!({"department": "general_surgery"}),
    )
    .await;
    assert_eq!(again.status(), 409);
    assert_eq!(problem(again).await["code"], "already_checked_in");
    let next = quick_patient(&app).await;
    let after: Value = check_in(&app, p.h1, &next, json!({"department": "general_surgery"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["number"], 2, "no gap after a refused check-in");

    // The patient sees their own visit; another patient does not.
    let id = first["id"].as_str().unwrap();
    let mine: Value = get(&app, "/api/v1/me/visits", &p.patient.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"][0]["id"], id);
    let theirs = get(
        &app,
        &format!("/api/v1/reception/visits/{id}"),
        &p.patient_other.token,
    )
    .await;
    assert_eq!(theirs.status(), 404);
}

#[tokio::test]
async fn bad_check_ins_get_precise_problems_and_write_nothing() {
    let app = spawn_app_with(|_| {}).await;
    let p = setup(&app).await;
    let cases = [
        (
            json!({"department": "astrology"}),
            422,
            "unknown_department",
        ),
        // A real department this hospital does not have.
        (
            json!({"department": "dentistry"}),
            422,
            "unknown_department",
        ),
        (
            json!({"department": IM, "doctor_id": Uuid::now_v7()}),
            422,
            "unknown_doctor",
        ),
        (
            json!({"department": IM, "appointment_id": Uuid::now_v7()}),
            422,
            "unknown_appointment",
        ),
        (
            json!({"department": IM, "shoe_size": 270}),
            422,
            "validation_failed",
        ),
    ];
    for (body, status, code) in cases {
        let r = check_in(&app, p.h1, &p.patient, body.clone()).await;
        assert_eq!(r.status(), status, "{body}");
        assert_eq!(problem(r).await["code"], code, "{body}");
    }
    // A patient cannot check someone else in; staff of another hospital cannot either.
    let r = check_in(
        &app,
        p.h1,
        &p.patient,
        json!({"department": IM, "patient_id": p.patient_other.id}),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = check_in(
        &app,
        p.h1,
        &p.hadmin_h2,
        json!({"department": IM, "patient_id": p.patient.id}),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = check_in(
        &app,
        p.h1,
        &p.reception,
        json!({"department": IM, "patient_id": p.nurse.id}),
    )
    .await;
    assert_eq!(problem(r).await["code"], "unknown_patient");
    // Unknown hospital, malformed ids.
    let r = check_in(&app, Uuid::now_v7(), &p.patient, json!({"department": IM})).await;
    assert_eq!(r.status(), 404);
    let r = post(
        &app,
        "/api/v1/hospitals/not-a-uuid/reception/check-ins",
        Some(&p.patient.token),
        json!({"department": IM}),
    )
    .await;
    assert!(r.status().is_client_error());
    assert!(problem(r).await["code"].is_string());
    let r = get(&app, "/api/v1/reception/tickets/12345", &p.patient.token).await;
    assert!(r.status().is_client_error());
    assert!(problem(r).await["code"].is_string());
    // Nothing was written: the first real check-in is number 1.
    let ok: Value = check_in(&app, p.h1, &p.patient, json!({"department": IM}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok["number"], 1);
}

#[tokio::test]
async fn a_closed_hospital_takes_no_walk_ins() {
    let app = spawn_app_with(|_| {}).await;
    let p = people(&app).await;
    // Open 09:00–18:00 on weekdays only, closed on holidays.
    let hours = (0..5)
        .map(|day| Hours {
            day,
            open: 540,
            close: 1080,
            lunch: Some((780, 840)),
        })
        .collect();
    open_hospital(&app, &p, Some(hours)).await;
    // Sunday 2026-11-22, 10:00 in Seoul.
    app.state
        .reception
        .clock
        .set("2026-11-22T01:00:00Z".parse().unwrap());
    let r = check_in(&app, p.h1, &p.patient, json!({"department": IM})).await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "hospital_closed");
    // Monday 13:30 (lunch) is fine: people may join the line while doctors eat.
    app.state
        .reception
        .clock
        .set("2026-11-23T04:30:00Z".parse().unwrap());
    let r = check_in(&app, p.h1, &p.patient, json!({"department": IM})).await;
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn numbering_starts_again_at_midnight_in_the_hospitals_time_zone() {
    let app = spawn_app_with(|_| {}).await;
    let p = setup(&app).await;
    let before: DateTime<Utc> = "2026-11-22T14:59:50Z".parse().unwrap(); // 23:59:50 in Seoul
    app.state.reception.clock.set(before);
    for who in [&p.patient, &p.patient_other] {
        let v: Value = check_in(&app, p.h1, who, json!({"department": IM}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(v["day"], "2026-11-22");
    }
    // 00:00:05 in Seoul (still the 22nd in UTC): a new day, numbers from 1 — and yesterday's
    // visit does not block today's check-in.
    app.state
        .reception
        .clock
        .set("2026-11-22T15:00:05Z".parse().unwrap());
    let r = check_in(&app, p.h1, &p.patient, json!({"department": IM})).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["day"].as_str(), v["number"].as_i64()),
        (Some("2026-11-23"), Some(1))
    );
    assert_eq!(v["position"], 1, "yesterday's line is not today's");
}

#[tokio::test]
async fn the_line_moves_waiting_called_in_consultation_completed_and_illegal_steps_are_409() {
    let app = spawn_app_with(|c| c.reception.max_calls = 2).await;
    let p = setup(&app).await;
    let doctor = im_doctor(&app, &p, Some(p.doctor.id)).await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        let who = quick_patient(&app).await;
        let v: Value = check_in(&app, p.h1, &who, json!({"department": IM}))
            .await
            .json()
            .await
            .unwrap();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    // The doctor calls number 1 and becomes its doctor.
    let called = call_next(&app, p.h1, &p.doctor).await;
    assert_eq!(called["visit"]["id"], ids[0]);
    assert_eq!(called["visit"]["status"], "called");
    assert_eq!(called["visit"]["doctor_id"], doctor.to_string());
    // Patients and nurses do not run the line.
    let r = post(
        &app,
        &format!("/api/v1/hospitals/{}/reception/call-next", p.h1),
        Some(&p.patient.token),
        json!({"department": IM}),
    )
    .await;
    assert_eq!(r.status(), 403);
    let r = step(&app, &ids[0], "start", &p.nurse).await;
    assert_eq!(r.status(), 403);

    let r = step(&app, &ids[0], "complete", &p.doctor).await;
    assert_eq!(r.status(), 409, "no completing before the consultation");
    assert_eq!(problem(r).await["code"], "illegal_transition");
    assert_eq!(step(&app, &ids[0], "start", &p.doctor).await.status(), 200);
    let done: Value = step(&app, &ids[0], "complete", &p.doctor)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["status"], "completed");
    assert_eq!(
        step(&app, &ids[0], "complete", &p.doctor).await.status(),
        409
    );
    assert_eq!(
        step(&app, &ids[0], "cancel", &p.reception).await.status(),
        409
    );

    // Number 2 does not answer: recalled until the second call makes a no-show, then comes
    // late and is re-queued at the back.
    let called = call_next(&app, p.h1, &p.reception).await;
    assert_eq!(called["visit"]["id"], ids[1]);
    let r: Value = step(&app, &ids[1], "recall", &p.reception)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r["status"].as_str(), r["calls"].as_i64()),
        (Some("no_show"), Some(2))
    );
    assert_eq!(
        step(&app, &ids[1], "recall", &p.reception).await.status(),
        409
    );
    let r: Value = step(&app, &ids[1], "requeue", &p.reception)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r["status"].as_str(), r["position"].as_u64()),
        (Some("waiting"), Some(3))
    );

    // Number 3 is skipped: back of the line, behind number 2.
    let called = call_next(&app, p.h1, &p.reception).await;
    assert_eq!(called["visit"]["id"], ids[2]);
    let r: Value = step(&app, &ids[2], "skip", &p.reception)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r["status"].as_str(), r["position"].as_u64()),
        (Some("waiting"), Some(3))
    );
    // Number 4 cancels by themselves; skipping a waiting visit is illegal.
    assert_eq!(
        step(&app, &ids[3], "skip", &p.reception).await.status(),
        409
    );

    // Order now: 2, 3 (4 is still first). The board shows numbers only.
    let board: Value = app
        .get(&format!("/api/v1/hospitals/{}/reception/boards/{IM}", p.h1))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(board["next"], json!(["4", "2", "3"]));
    assert_eq!(board["waiting"], 3);
    let text = board.to_string();
    assert!(
        !text.contains(&p.patient.id.to_string()) && !text.contains("patient"),
        "{text}"
    );

    // Move number 4 to the doctor; the line keeps its order.
    let r = post(
        &app,
        &format!("/api/v1/reception/visits/{}/move", ids[3]),
        Some(&p.reception.token),
        json!({"doctor_id": doctor}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let moved: Value = r.json().await.unwrap();
    assert_eq!(
        (moved["doctor_id"].as_str(), moved["position"].as_u64()),
        (Some(doctor.to_string().as_str()), Some(1))
    );
}

#[tokio::test]
async fn many_simultaneous_call_next_never_hand_out_the_same_patient() {
    let app = spawn_app_with(|_| {}).await;
    let p = setup(&app).await;
    let n = 30;
    for _ in 0..n {
        let who = quick_patient(&app).await;
        assert_eq!(
            check_in(&app, p.h1, &who, json!({"department": IM}))
                .await
                .status(),
            201
        );
    }
    let calls = (0..n + 5).map(|_| call_next(&app, p.h1, &p.reception));
    let results = futures::future::join_all(calls).await;
    let called: Vec<String> = results
        .iter()
        .filter_map(|r| r["visit"]["id"].as_str().map(str::to_owned))
        .collect();
    let unique: HashSet<_> = called.iter().collect();
    assert_eq!(called.len(), n, "everyone called once, the rest got nobody");
    assert_eq!(unique.len(), n, "no patient called twice");
}

#[tokio::test]
async fn concurrent_check_ins_get_gapless_unique_numbers() {
    let app = spawn_app_with(|_| {}).await;
    let p = setup(&app).await;
    let mut patients = Vec::new();
    for _ in 0..60 {
        patients.push(quick_patient(&app).await);
    }
    let numbers = check_in_all(&[&app], p.h1, &patients).await;
    assert_eq!(numbers, (1..=60).collect::<Vec<_>>());
}

/// Checks everyone in at once, spread over `apps`, following tickets to their visits; returns
/// the sorted numbers.
async fn check_in_all(apps: &[&TestApp], h: Uuid, patients: &[Person]) -> Vec<i64> {
    let requests = patients.iter().enumerate().map(|(i, who)| {
        let app = apps[i % apps.len()];
        async move {
            let r = check_in(app, h, who, json!({"department": IM})).await;
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            match status {
                201 => body["number"].as_i64().unwrap(),
                202 => {
                    let visit = ticket_result(app, body["id"].as_str().unwrap(), who).await;
                    visit["number"].as_i64().unwrap()
                }
                other => panic!("check-in answered {other}: {body}"),
            }
        }
    });
    let mut numbers = futures::future::join_all(requests).await;
    numbers.sort_unstable();
    numbers
}

/// Polls a ticket until done and returns the visit it made.
pub(crate) async fn ticket_result(app: &TestApp, ticket: &str, who: &Person) -> Value {
    for _ in 0..400 {
        let t: Value = get(
            app,
            &format!("/api/v1/reception/tickets/{ticket}"),
            &who.token,
        )
        .await
        .json()
        .await
        .unwrap();
        if t["status"] == "done" {
            assert_eq!(t["outcome"]["status"], 201, "{t}");
            let visit = t["outcome"]["visit_id"].as_str().unwrap();
            return get(
                app,
                &format!("/api/v1/reception/visits/{visit}"),
                &who.token,
            )
            .await
            .json()
            .await
            .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("ticket {ticket} never done");
}

#[tokio::test]
async fn two_instances_checking_in_at_once_give_gapless_unique_numbers() {
    if !external_backends("two_instances_checking_in_at_once_give_gapless_unique_numbers") {
        return;
    }
    // Small capacity, so some check-ins also go through the waiting room on both instances.
    let a = spawn_app_with(|c| c.reception.capacity = 4).await;
    let b = spawn_peer(&a).await;
    let p = setup(&a).await;
    let mut patients = Vec::new();
    for _ in 0..80 {
        patients.push(quick_patient(&a).await);
    }
    let numbers = check_in_all(&[&a, &b], p.h1, &patients).await;
    assert_eq!(numbers, (1..=80).collect::<Vec<_>>());
}
