//! The nurse station in a browser: live vitals on the bed tile, a high-priority alarm that
//! appears, is acknowledged and resolved with a note, and a server restart the page survives
//! without missing the alarm raised while it was down.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use chrono::{SecondsFormat, TimeDelta, Utc};
use docde_domain::ward::alarm::{AlarmKind, Priority};
use docde_server::Application;
use docde_store::ward::admissions::{self, NewAdmission};
use docde_store::ward::alarms::{self, NewAlarm};
use docde_store::ward::beds;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::driver::{
    Browser, WAIT, browser, click, screenshot, shown, text_of, type_into, wait_for, wait_shown,
    wait_text,
};
use crate::helpers::{TestApp, spawn_app};
use crate::people::{PASSWORD, People, get, people, post};

/// Ward1 of h1 with bed `101-1`, a bound bedside device and the patient admitted an hour ago.
struct Ward {
    p: People,
    bed: Uuid,
    admission: Uuid,
    device: (String, String),
}

async fn ward(app: &TestApp) -> Ward {
    let p = people(app).await;
    let r = post(
        app,
        &format!("/api/v1/wards/{}/beds", p.ward1),
        Some(&p.hadmin.token),
        json!({"label": "101-1"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let bed: Uuid = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let r = post(
        app,
        &format!("/api/v1/hospitals/{}/devices", p.h1),
        Some(&p.hadmin.token),
        json!({"name": "bedside 101-1", "kind": "bedside_monitor", "ward_id": p.ward1}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let device = (
        body["device"]["id"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    );
    // Bound and admitted an hour back, so samples of the last minutes are the patient's.
    let an_hour_ago = Utc::now() - TimeDelta::hours(1);
    beds::bind_device(
        &app.state.store,
        device.0.parse().unwrap(),
        bed,
        an_hour_ago,
    )
    .await
    .unwrap();
    let (admission, _) = admissions::admit(
        &app.state.store,
        &NewAdmission {
            patient_id: p.patient.id,
            bed_id: bed,
            urgency: 1,
            notes: String::new(),
            now: an_hour_ago,
        },
    )
    .await
    .unwrap();
    Ward {
        p,
        bed,
        admission: admission.id,
        device,
    }
}

fn ago(secs: i64) -> String {
    (Utc::now() - TimeDelta::seconds(secs)).to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn report(app: &TestApp, w: &Ward, samples: Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/devices/{}/samples", w.device.0)))
        .basic_auth(&w.device.0, Some(&w.device.1))
        .json(&json!({ "samples": samples }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "samples stored");
}

/// Opens the nurse station and signs the ward's nurse in; returns once the bed tile is there.
async fn sign_in(b: &Browser, base: &str, w: &Ward) {
    b.client.goto(&format!("{base}/nurse")).await.unwrap();
    wait_shown(&b.client, "#signin", true).await;
    type_into(&b.client, "#email", &w.p.nurse.email).await;
    type_into(&b.client, "#password", PASSWORD).await;
    click(&b.client, "#signin button[type=submit]").await;
    wait_shown(&b.client, &format!(".bed[data-bed-id=\"{}\"]", w.bed), true).await;
}

fn tile(w: &Ward, kind: &str) -> String {
    format!(
        ".bed[data-bed-id=\"{}\"] [data-kind=\"{kind}\"] .value",
        w.bed
    )
}

fn alarm_item(id: &str) -> String {
    format!("li.alarm[data-alarm-id=\"{id}\"]")
}

/// The only open alarm's id, as the page lists it.
async fn listed_alarm(b: &Browser) -> String {
    wait_for("an alarm in the list", WAIT, || async {
        let el = b
            .client
            .find(fantoccini::Locator::Css("li.alarm.prio-high"))
            .await
            .ok()?;
        el.attr("data-alarm-id").await.ok().flatten()
    })
    .await
}

#[tokio::test]
async fn a_nurse_sees_vitals_live_and_acknowledges_and_resolves_a_new_high_priority_alarm() {
    let Some(b) = browser("the nurse station test").await else {
        return;
    };
    let app = spawn_app().await;
    let w = ward(&app).await;
    report(
        &app,
        &w,
        json!([{"measured_at": ago(30), "kind": "heart_rate", "value": 72, "unit": "/min"}]),
    )
    .await;
    sign_in(&b, &app.address, &w).await;
    wait_text(&b.client, &tile(&w, "heart_rate"), "72").await;
    // A nurse is offered web push on this device: the service worker registered and the
    // server let them list their subscriptions.
    wait_text(&b.client, "#push", "🔔").await;

    // A new value reaches the tile within 2 s of being stored.
    report(
        &app,
        &w,
        json!([{"measured_at": ago(1), "kind": "heart_rate", "value": 118, "unit": "/min"}]),
    )
    .await;
    let stored = Instant::now();
    wait_for("the tile to show 118", Duration::from_secs(2), || async {
        text_of(&b.client, &tile(&w, "heart_rate"))
            .await
            .filter(|t| t == "118")
    })
    .await;
    assert!(stored.elapsed() < Duration::from_secs(2));

    // The nurse-call button: a high-priority alarm at once.
    report(
        &app,
        &w,
        json!([{"measured_at": ago(1), "kind": "nurse_call", "value": "pressed"}]),
    )
    .await;
    let id = listed_alarm(&b).await;
    let item = alarm_item(&id);
    let text = wait_text(&b.client, &item, "101-1").await;
    assert!(
        text.contains("▲▲▲"),
        "priority shown by a symbol, not only colour: {text}"
    );
    screenshot(&b.client, "nurse-station").await;

    click(&b.client, &format!("{item} button.ack")).await;
    wait_for("the alarm to be acknowledged", WAIT, || async {
        let el = b.client.find(fantoccini::Locator::Css(&item)).await.ok()?;
        (el.attr("data-status").await.ok().flatten()? == "acknowledged").then_some(())
    })
    .await;
    click(&b.client, &format!("{item} button.resolve")).await;
    type_into(
        &b.client,
        &format!("{item} input[name=note]"),
        "병실 방문, 물 요청 해결",
    )
    .await;
    click(&b.client, &format!("{item} button.resolve-confirm")).await;
    wait_shown(&b.client, &item, false).await;

    // The API agrees: acknowledged then resolved by this nurse, with the note.
    let r = get(
        &app,
        &format!("/api/v1/admissions/{}/alarms", w.admission),
        &w.p.nurse.token,
    )
    .await;
    assert_eq!(r.status(), 200);
    let history: Vec<Value> = r.json().await.unwrap();
    let alarm = history
        .iter()
        .find(|a| a["id"] == id.as_str())
        .expect("the alarm in the history");
    assert_eq!(alarm["status"], "resolved");
    assert_eq!(alarm["kind"], "nurse_call");
    assert_eq!(alarm["acknowledged_by"], w.p.nurse.id.to_string());
    assert_eq!(alarm["resolved_by"], w.p.nurse.id.to_string());
    assert_eq!(alarm["resolution_note"], "병실 방문, 물 요청 해결");
    let open: Vec<Value> = get(
        &app,
        &format!("/api/v1/wards/{}/alarms", w.p.ward1),
        &w.p.nurse.token,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(open.is_empty(), "{open:?}");

    // The patient view opens from the tile, with the history chart of the vital.
    click(&b.client, &format!(".bed[data-bed-id=\"{}\"]", w.bed)).await;
    wait_shown(&b.client, "#charts figure[data-kind=heart_rate] svg", true).await;
    wait_text(&b.client, "#alarm-history", "병실 방문").await;
    screenshot(&b.client, "nurse-patient-detail").await;
}

#[tokio::test]
async fn after_a_server_restart_the_page_reconnects_and_shows_the_alarm_raised_while_it_was_down() {
    let Some(b) = browser("the nurse station restart test").await else {
        return;
    };
    let first = spawn_app().await;
    let w = ward(&first).await;
    sign_in(&b, &first.address, &w).await;
    assert!(!shown(&b.client, "li.alarm").await, "no alarm yet");

    first.shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while !first.server.is_finished() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    wait_shown(&b.client, "#banner", true).await;
    screenshot(&b.client, "nurse-station-reconnecting").await;

    // The same service again: same port, database, Redis namespace and signing keys.
    let mut config = (*first.state.config).clone();
    config.listen = first
        .address
        .trim_start_matches("http://")
        .parse::<SocketAddr>()
        .unwrap();
    let second = Application::build_with(config, Router::new())
        .await
        .expect("restarts");
    // Raised while no server answered: only the event log can bring it to the page.
    let raised = alarms::raise(
        &second.state().store,
        &NewAlarm {
            bed_id: w.bed,
            admission_id: Some(w.admission),
            device_id: None,
            kind: AlarmKind::NurseCall,
            priority: Priority::High,
            value: Some(1.0),
            raised_at: Utc::now(),
            next_escalation_at: None,
        },
    )
    .await
    .unwrap();
    let id = raised.alarm().id.to_string();
    let shutdown = second.shutdown_token();
    let server = tokio::spawn(second.run_until_stopped());

    wait_shown(&b.client, &alarm_item(&id), true).await;
    wait_shown(&b.client, "#banner", false).await;
    screenshot(&b.client, "nurse-station-resumed").await;
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
}
