//! The waiting room in a browser: a check-in queued behind others (202 + ticket) shows its
//! position counting down, then the result: a place in the line.

use chrono::Utc;
use docde_store::reception::admission;
use serde_json::json;

use crate::board::{IM, open_hospital};
use crate::driver::{browser, click, screenshot, type_into, wait_shown, wait_text};
use crate::helpers::spawn_app_with;
use crate::people::{PASSWORD, people, post, quick_patient};

#[tokio::test]
async fn a_patient_in_the_waiting_room_sees_the_position_count_down_and_then_the_result() {
    let Some(b) = browser("the waiting room test").await else {
        return;
    };
    // Capacity 0: every check-in goes through the waiting room; the test serves it itself,
    // one ticket at a time, instead of the worker.
    let app = spawn_app_with(|c| {
        c.reception.capacity = 0;
        c.reception.serve_waiting_room = false;
    })
    .await;
    let p = people(&app).await;
    open_hospital(&app, &p).await;
    for _ in 0..2 {
        let who = quick_patient(&app).await;
        let r = post(
            &app,
            &format!("/api/v1/hospitals/{}/reception/check-ins", p.h1),
            Some(&who.token),
            json!({"department": IM}),
        )
        .await;
        assert_eq!(r.status(), 202);
    }

    b.client.goto(&app.url("/app")).await.unwrap();
    type_into(&b.client, "#email", &p.patient.email).await;
    type_into(&b.client, "#password", PASSWORD).await;
    click(&b.client, "#signin button[type=submit]").await;
    wait_shown(&b.client, "#mine", true).await;
    type_into(&b.client, "#q", "서울대").await;
    click(&b.client, "#search button[type=submit]").await;
    click(
        &b.client,
        &format!(
            "#hospitals li[data-hospital-id=\"{}\"] button.show-hospital",
            p.h1
        ),
    )
    .await;
    click(
        &b.client,
        &format!("button.check-in[data-department=\"{IM}\"]"),
    )
    .await;

    wait_text(&b.client, "#position", "3").await;
    screenshot(&b.client, "waiting-room").await;
    let serve_one = || async {
        admission::serve_check_ins(&app.state.store, p.h1, 1, Utc::now())
            .await
            .unwrap();
    };
    serve_one().await;
    wait_text(&b.client, "#position", "2").await;
    serve_one().await;
    wait_text(&b.client, "#position", "1").await;
    serve_one().await;
    // Checked in: the page now follows the visit, third in the department's line.
    wait_text(&b.client, "#wait-label", "3").await;
    wait_text(&b.client, "#position", "3").await;
    screenshot(&b.client, "waiting-room-result").await;
}
