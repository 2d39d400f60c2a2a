//! Retried bookings through the API: a retry with the same `Idempotency-Key` gets the first
//! appointment back and the key reused for another request is refused; on a full slot only a
//! patient who held a seat there (even a cancelled one) gets a retry answered.

use docde_server::config::RushMode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::booking::{app_with, doctor_with_schedule, slot};
use crate::helpers::{TestApp, problem};
use crate::people::{Person, people, post};

#[tokio::test]
async fn a_retried_booking_with_the_same_idempotency_key_returns_the_first_appointment() {
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let first = book_keyed(&app, &p.patient, doctor, &slot("15:00"), "retry-1").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = book_keyed(&app, &p.patient, doctor, &slot("15:00"), "retry-1").await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    let other = book_keyed(&app, &p.patient, doctor, &slot("16:00"), "retry-1").await;
    assert_eq!(other.status(), 422);
    assert_eq!(problem(other).await["code"], "idempotency_key_reused");
}

/// Books `at` as `who` with an `Idempotency-Key`.
pub(crate) async fn book_keyed(
    app: &TestApp,
    who: &Person,
    doctor: Uuid,
    at: &str,
    key: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/appointments"))
        .bearer_auth(&who.token)
        .header("Idempotency-Key", key)
        .json(&json!({"doctor_id": doctor, "starts_at": at, "reason": "두통"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn on_a_full_slot_only_a_patient_who_had_a_seat_there_gets_a_retry_answered() {
    // The view refuses a keyed request for a full slot without reading the key when the
    // patient never had an appointment there; one who had (even a cancelled one) may be
    // retrying, and gets the first answer.
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let at = slot("15:00");
    let first = book_keyed(&app, &p.patient, doctor, &at, "k-1").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let id = first["id"].as_str().unwrap().to_owned();

    // A stranger with a key of their own: the slot is full, whatever the key.
    let stranger = book_keyed(&app, &p.patient_other, doctor, &at, "k-1").await;
    assert_eq!(stranger.status(), 409);
    assert_eq!(problem(stranger).await["code"], "slot_full");
    // The holder's retry gets its first appointment.
    let again = book_keyed(&app, &p.patient, doctor, &at, "k-1").await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);

    // Cancelled, then taken by someone else: the first request's retry still gets its own
    // (now cancelled) appointment back, not somebody else's full slot.
    let r = post(
        &app,
        &format!("/api/v1/appointments/{id}/cancel"),
        Some(&p.patient.token),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        book_keyed(&app, &p.patient_other, doctor, &at, "k-2")
            .await
            .status(),
        201
    );
    let late = book_keyed(&app, &p.patient, doctor, &at, "k-1").await;
    assert_eq!(late.status(), 200);
    let late: Value = late.json().await.unwrap();
    assert_eq!(
        (&late["id"], &late["status"]),
        (&first["id"], &json!("cancelled"))
    );
    // A new key of the same patient is a new request: the slot is full.
    let fresh = book_keyed(&app, &p.patient, doctor, &at, "k-3").await;
    assert_eq!(fresh.status(), 409);
    assert_eq!(problem(fresh).await["code"], "slot_full");
}
