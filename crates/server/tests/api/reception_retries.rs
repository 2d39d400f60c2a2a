//! Retried check-ins: with an `Idempotency-Key`, a retry of a check-in gets the first one's
//! visit (or ticket) back instead of `409 already_checked_in`, and a key reused for another
//! check-in is refused.

use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app_with};
use crate::people::{Person, quick_patient};
use crate::reception::setup;

const IM: &str = "internal_medicine";

async fn keyed_check_in(
    app: &TestApp,
    h: uuid::Uuid,
    who: &Person,
    key: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/hospitals/{h}/reception/check-ins")))
        .bearer_auth(&who.token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A check-in refused because its key came with another request (and nothing written).
async fn assert_key_reused(r: reqwest::Response) {
    assert_eq!(r.status(), 422);
    assert_eq!(problem(r).await["code"], "idempotency_key_reused");
}

async fn line_numbers(app: &TestApp, h: uuid::Uuid, who: &Person) -> Vec<String> {
    let r = app
        .client
        .get(app.url(&format!("/api/v1/hospitals/{h}/reception/lines/{IM}")))
        .bearer_auth(&who.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let line: Value = r.json().await.unwrap();
    line["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["label"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_retried_check_in_gets_its_first_visit_back() {
    let app = spawn_app_with(|_| {}).await;
    let p = setup(&app).await;
    let first = keyed_check_in(&app, p.h1, &p.patient, "tap-1", json!({"department": IM})).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();

    // The answer was lost; the app sends the same request again.
    let retry = keyed_check_in(
        &app,
        p.h1,
        &p.patient,
        "tap-1",
        json!({"department": "내과"}),
    )
    .await;
    assert_eq!(retry.status(), 200);
    assert_eq!(
        retry.headers()["location"],
        format!("/api/v1/reception/visits/{}", first["id"].as_str().unwrap()).as_str()
    );
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry["id"], first["id"]);
    assert_eq!(retry["number"], first["number"]);
    assert_eq!(retry["position"], 1);

    // A new key is a new check-in: the patient is already in line today.
    let again = keyed_check_in(&app, p.h1, &p.patient, "tap-2", json!({"department": IM})).await;
    assert_eq!(again.status(), 409);
    assert_eq!(problem(again).await["code"], "already_checked_in");

    // The same key for another check-in is refused and writes nothing.
    let other = keyed_check_in(
        &app,
        p.h1,
        &p.patient,
        "tap-1",
        json!({"department": "general_surgery"}),
    )
    .await;
    assert_key_reused(other).await;

    assert_eq!(line_numbers(&app, p.h1, &p.reception).await.len(), 1);
}

#[tokio::test]
async fn reception_staff_retrying_for_a_patient_get_the_same_visit_and_keys_are_per_caller() {
    let app = spawn_app_with(|_| {}).await;
    let p = setup(&app).await;
    let walk_in = quick_patient(&app).await;
    let body = json!({"department": IM, "patient_id": walk_in.id});
    let first = keyed_check_in(&app, p.h1, &p.reception, "desk-1", body.clone()).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let retry = keyed_check_in(&app, p.h1, &p.reception, "desk-1", body).await;
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.json::<Value>().await.unwrap()["id"], first["id"]);

    // The desk's key for another patient is another request.
    let someone = quick_patient(&app).await;
    let reused = keyed_check_in(
        &app,
        p.h1,
        &p.reception,
        "desk-1",
        json!({"department": IM, "patient_id": someone.id}),
    )
    .await;
    assert_key_reused(reused).await;

    // Keys belong to their caller: the patient's own "desk-1" is a fresh check-in.
    let own = keyed_check_in(&app, p.h1, &someone, "desk-1", json!({"department": IM})).await;
    assert_eq!(own.status(), 201);
    assert_eq!(line_numbers(&app, p.h1, &p.reception).await.len(), 2);
}

#[tokio::test]
async fn simultaneous_attempts_with_one_key_make_one_visit() {
    let app = spawn_app_with(|_| {}).await;
    let p = setup(&app).await;
    let attempts = (0..8).map(|_| {
        keyed_check_in(
            &app,
            p.h1,
            &p.patient,
            "double-tap",
            json!({"department": IM}),
        )
    });
    let mut ids = Vec::new();
    let mut created = 0;
    for r in futures::future::join_all(attempts).await {
        match r.status().as_u16() {
            201 => created += 1,
            200 => {}
            other => panic!("attempt answered {other}: {}", r.text().await.unwrap()),
        }
        ids.push(r.json::<Value>().await.unwrap()["id"].clone());
    }
    assert_eq!(created, 1, "exactly one attempt checks in");
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(line_numbers(&app, p.h1, &p.reception).await, ["1"]);
}

#[tokio::test]
async fn a_retried_queued_check_in_gets_its_ticket_and_a_reused_key_is_refused() {
    let app = spawn_app_with(|c| {
        c.reception.capacity = 0;
        c.reception.serve_waiting_room = false;
    })
    .await;
    let p = setup(&app).await;
    let first = keyed_check_in(
        &app,
        p.h1,
        &p.patient,
        "queued-1",
        json!({"department": IM}),
    )
    .await;
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let retry = keyed_check_in(
        &app,
        p.h1,
        &p.patient,
        "queued-1",
        json!({"department": IM}),
    )
    .await;
    assert_eq!(retry.status(), 202);
    assert_eq!(retry.json::<Value>().await.unwrap()["id"], first["id"]);

    let other = keyed_check_in(
        &app,
        p.h1,
        &p.patient,
        "queued-1",
        json!({"department": "general_surgery"}),
    )
    .await;
    assert_key_reused(other).await;
}
