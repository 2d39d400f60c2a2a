//! The patient app in a browser: search, book a free slot, see it listed, cancel it.

use chrono::{Days, Utc};
use docde_server::config::RushMode;
use docde_store::directory::{self, DoctorFacts};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::driver::{WAIT, browser, click, screenshot, shown, type_into, wait_for, wait_shown};
use crate::helpers::spawn_app_with;
use crate::people::{PASSWORD, get, people};

#[tokio::test]
async fn a_patient_searches_books_a_slot_sees_it_listed_and_cancels_it() {
    let Some(b) = browser("the patient app booking test").await else {
        return;
    };
    let app = spawn_app_with(|c| c.booking.rush = RushMode::Never).await;
    let p = people(&app).await;
    let doctor = Uuid::now_v7();
    let facts = DoctorFacts {
        name: "김내과".into(),
        bio: None,
        accepts_online_booking: true,
        departments: vec!["internal_medicine".into()],
        user_id: Some(p.doctor.id),
    };
    directory::put_doctor(&app.state.store, doctor, p.h1, &facts, Utc::now())
        .await
        .unwrap();
    let rules: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "18:00", "slot_minutes": 30, "capacity": 1}))
        .collect();
    let r = app
        .client
        .put(app.url(&format!("/api/v1/doctors/{doctor}/schedule")))
        .bearer_auth(&p.hadmin.token)
        .json(
            &json!({"rules": rules, "breaks": [], "closed_on_holidays": false,
            "policy": {"horizon_days": 14, "book_cutoff_minutes": 0, "cancel_cutoff_minutes": 60},
            "version": 0}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.state.directory.rebuild(&app.state.store).await.unwrap();

    b.client.goto(&app.url("/app")).await.unwrap();
    type_into(&b.client, "#email", &p.patient.email).await;
    type_into(&b.client, "#password", PASSWORD).await;
    click(&b.client, "#signin button[type=submit]").await;
    wait_shown(&b.client, "#mine", true).await;

    type_into(&b.client, "#q", "서울대").await;
    click(&b.client, "#search button[type=submit]").await;
    click(
        &b.client,
        &format!("#doctors li[data-doctor-id=\"{doctor}\"] button.show-slots"),
    )
    .await;
    // Two days ahead in Seoul: bookable and well before the cancellation cut-off.
    let day = (Utc::now()
        .with_timezone(&chrono_tz::Asia::Seoul)
        .date_naive()
        + Days::new(2))
    .to_string();
    let slot = format!("#slots button.slot[data-starts-at^=\"{day}\"]");
    click(&b.client, &slot).await;
    let booked = "#appointments li[data-status=booked]";
    wait_shown(&b.client, booked, true).await;
    screenshot(&b.client, "patient-app").await;
    let id = wait_for("the booked appointment's id", WAIT, || async {
        let el = b.client.find(fantoccini::Locator::Css(booked)).await.ok()?;
        el.attr("data-appointment-id").await.ok().flatten()
    })
    .await;

    click(&b.client, &format!("{booked} button.cancel")).await;
    wait_for("the appointment to leave the list", WAIT, || async {
        (!shown(&b.client, booked).await).then_some(())
    })
    .await;
    let r = get(
        &app,
        &format!("/api/v1/appointments/{id}"),
        &p.patient.token,
    )
    .await;
    assert_eq!(r.status(), 200);
    let appointment: Value = r.json().await.unwrap();
    assert_eq!(appointment["status"], "cancelled");
    assert_eq!(appointment["doctor_id"], doctor.to_string());
}
