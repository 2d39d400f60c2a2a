//! The lobby board in a browser: a number called at reception appears live, large.

use chrono::Utc;
use docde_store::directory::{self, HospitalFacts, Hours};
use serde_json::{Value, json};

use crate::driver::{browser, screenshot, wait_text};
use crate::helpers::{TestApp, spawn_app};
use crate::people::{People, people, post};

pub const IM: &str = "internal_medicine";

/// Hospital h1 with internal medicine, open all day every day, in the search index.
pub async fn open_hospital(app: &TestApp, p: &People) {
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
        hours: (0..=7)
            .map(|day| Hours {
                day,
                open: 0,
                close: 1440,
                lunch: None,
            })
            .collect(),
        departments: vec![IM.into()],
    };
    assert!(
        directory::update_hospital(&app.state.store, p.h1, &facts, Utc::now())
            .await
            .unwrap()
    );
    app.state.directory.rebuild(&app.state.store).await.unwrap();
}

#[tokio::test]
async fn the_lobby_board_shows_a_called_number_live() {
    let Some(b) = browser("the lobby board test").await else {
        return;
    };
    let app = spawn_app().await;
    let p = people(&app).await;
    open_hospital(&app, &p).await;
    for patient in [&p.patient, &p.patient_other] {
        let r = post(
            &app,
            &format!("/api/v1/hospitals/{}/reception/check-ins", p.h1),
            Some(&patient.token),
            json!({"department": IM}),
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    b.client
        .goto(&app.url(&format!("/board/{}/{IM}", p.h1)))
        .await
        .unwrap();
    wait_text(&b.client, "#waiting", "2").await;
    wait_text(&b.client, "#next", "2").await;

    let r = post(
        &app,
        &format!("/api/v1/hospitals/{}/reception/call-next", p.h1),
        Some(&p.reception.token),
        json!({"department": IM}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let called: Value = r.json().await.unwrap();
    let label = called["visit"]["label"].as_str().unwrap_or("1").to_owned();
    wait_text(&b.client, "#serving .number", &label).await;
    wait_text(&b.client, "#waiting", "1").await;
    screenshot(&b.client, "lobby-board").await;
}
