//! What waits and what watches at reception, through the API: the waiting room's admission
//! tickets when the line is full, a ticket watcher who left, a patient's place in the line, and
//! the lobby board's stream replayed after `Last-Event-ID`.

use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::helpers::{restart, spawn_app_with};
use crate::people::{get, quick_patient};
use crate::reception::{IM, call_next, check_in, setup, ticket_result};

#[tokio::test]
async fn the_waiting_room_admits_in_order_and_loses_nothing_when_its_instance_stops() {
    // Capacity 0: every check-in waits in the waiting room. This instance takes tickets but
    // serves none, and stops with all of them pending.
    let a = spawn_app_with(|c| {
        c.reception.capacity = 0;
        c.reception.serve_waiting_room = false;
    })
    .await;
    let p = setup(&a).await;
    let mut tickets = Vec::new();
    for _ in 0..12 {
        let who = quick_patient(&a).await;
        let r = check_in(&a, p.h1, &who, json!({"department": IM})).await;
        assert_eq!(r.status(), 202);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let t: Value = r.json().await.unwrap();
        assert_eq!(
            location,
            format!("/api/v1/reception/tickets/{}", t["id"].as_str().unwrap())
        );
        // The 202 carries this instance's estimate (or none yet); reading the ticket counts.
        assert_eq!(t["status"], "queued");
        assert!(
            t["position"].is_null() || t["position"].as_u64() >= Some(1),
            "{t}"
        );
        tickets.push((who, t["id"].as_str().unwrap().to_owned()));
    }
    for (i, (who, id)) in tickets.iter().enumerate() {
        let t: Value = get(&a, &format!("/api/v1/reception/tickets/{id}"), &who.token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(t["position"], i + 1, "{t}");
    }
    // The same patient again, while their first is still queued: a second ticket, refused
    // when its turn comes (one active visit a day).
    let dup = check_in(&a, p.h1, &tickets[0].0, json!({"department": IM})).await;
    assert_eq!(dup.status(), 202);
    let dup: Value = dup.json().await.unwrap();
    // Only the owner may look at a ticket.
    let stranger = get(
        &a,
        &format!("/api/v1/reception/tickets/{}", tickets[0].1),
        &p.patient_other.token,
    )
    .await;
    assert_eq!(stranger.status(), 404);
    let stranger = get(
        &a,
        &format!("/api/v1/reception/tickets/{}/events", tickets[0].1),
        &p.patient_other.token,
    )
    .await;
    assert_eq!(stranger.status(), 404);
    let b = restart(a, |_| {}).await;
    // Every ticket done once, numbers in ticket order 1..12.
    for (i, (who, id)) in tickets.iter().enumerate() {
        let visit = ticket_result(&b, id, who).await;
        assert_eq!(visit["number"], i as i64 + 1, "FIFO");
    }
    let dup: Value = get(
        &b,
        &format!("/api/v1/reception/tickets/{}", dup["id"].as_str().unwrap()),
        &tickets[0].0.token,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(dup["outcome"]["status"], 409);
    assert_eq!(dup["outcome"]["code"], "already_checked_in");
    let line: Value = get(
        &b,
        &format!("/api/v1/hospitals/{}/reception/lines/{IM}", p.h1),
        &p.reception.token,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(line["items"].as_array().unwrap().len(), 12, "nobody twice");
}

/// Reads SSE text from `response` until `until` appears (or the stream ends).
async fn read_until(response: reqwest::Response, until: &str) -> String {
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    while !text.contains(until) {
        match tokio::time::timeout(Duration::from_secs(10), stream.next()).await {
            Ok(Some(Ok(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
            _ => break,
        }
    }
    text
}

#[tokio::test]
async fn a_ticket_watcher_who_left_gets_the_result_on_reconnect() {
    let app = spawn_app_with(|c| {
        c.reception.capacity = 0;
        c.reception.serve_waiting_room = false;
    })
    .await;
    let p = setup(&app).await;
    let r = check_in(&app, p.h1, &p.patient, json!({"department": IM})).await;
    let t: Value = r.json().await.unwrap();
    let id = t["id"].as_str().unwrap().to_owned();
    let events = format!("/api/v1/reception/tickets/{id}/events");
    // Watch for a position, then leave.
    let first = read_until(
        get(&app, &events, &p.patient.token).await,
        "event: position",
    )
    .await;
    assert!(first.contains("\"position\":1"), "{first}");
    // The work is done while nobody watches.
    let done =
        docde_store::reception::admission::serve_check_ins(&app.state.store, p.h1, 10, Utc::now())
            .await
            .unwrap();
    assert_eq!(done.len(), 1);
    let again = read_until(get(&app, &events, &p.patient.token).await, "event: result").await;
    assert!(
        again.contains("event: result") && again.contains("\"status\":201"),
        "{again}"
    );
}

#[tokio::test]
async fn a_patient_watching_their_visit_sees_their_position_move_up() {
    let app = spawn_app_with(|_| {}).await;
    let p = setup(&app).await;
    let first: Value = check_in(&app, p.h1, &p.patient_other, json!({"department": IM}))
        .await
        .json()
        .await
        .unwrap();
    let mine: Value = check_in(&app, p.h1, &p.patient, json!({"department": IM}))
        .await
        .json()
        .await
        .unwrap();
    let id = mine["id"].as_str().unwrap();
    let response = get(
        &app,
        &format!("/api/v1/reception/visits/{id}/events"),
        &p.patient.token,
    )
    .await;
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    while !text.contains("\"position\":2") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
    assert_eq!(
        call_next(&app, p.h1, &p.reception).await["visit"]["id"],
        first["id"]
    );
    while !text.contains("\"position\":1") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
    // Someone else's visit stream is not mine to watch.
    let theirs = get(
        &app,
        &format!(
            "/api/v1/reception/visits/{}/events",
            first["id"].as_str().unwrap()
        ),
        &p.patient.token,
    )
    .await;
    assert_eq!(theirs.status(), 404);
}

#[tokio::test]
async fn the_board_stream_replays_the_changes_after_last_event_id() {
    let app = spawn_app_with(|_| {}).await;
    let p = setup(&app).await;
    check_in(&app, p.h1, &p.patient, json!({"department": IM})).await;
    check_in(&app, p.h1, &p.patient_other, json!({"department": IM})).await;
    call_next(&app, p.h1, &p.reception).await;
    let path = format!("/api/v1/hospitals/{}/reception/boards/{IM}/events", p.h1);
    // Public: no token. A fresh stream starts with the whole board.
    let fresh = read_until(
        app.client.get(app.url(&path)).send().await.unwrap(),
        "event: board",
    )
    .await;
    assert!(
        fresh.contains("\"serving\":[{\"label\":\"1\",\"status\":\"called\""),
        "{fresh}"
    );
    let resumed = read_until(
        app.client
            .get(app.url(&path))
            .header("Last-Event-ID", "0")
            .send()
            .await
            .unwrap(),
        "\"status\":\"called\"",
    )
    .await;
    assert_eq!(resumed.matches("event: line").count(), 3, "{resumed}");
    assert!(!resumed.contains("patient"), "numbers only: {resumed}");
    let r = app
        .client
        .get(app.url(&path))
        .header("Last-Event-ID", "soon")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}
