//! Ward alarms through the API: raised from samples, streamed, acknowledged, resolved with a
//! note and escalated when nobody answers; who may read the ward and handle its alarms.

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use docde_server::ward::escalate_due;

use crate::helpers::{problem, spawn_app};
use crate::people::{get, post};
use crate::ward::{ago, open_alarms, read_events, report, setup};

#[tokio::test]
async fn a_sustained_fever_raises_one_alarm_that_is_streamed_acknowledged_and_resolved_with_a_note()
{
    let app = spawn_app().await;
    let s = setup(&app).await;
    // A single hot reading is not yet an alarm (onset delay).
    let r = report(
        &app,
        &s.device,
        json!([{"measured_at": ago(40), "kind": "body_temperature", "value": 39.2}]),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(open_alarms(&app, &s).await.is_empty());
    // Still hot 10 s and more later: one fever alarm, however often it is reported.
    for secs in [30, 20, 10] {
        let r = report(
            &app,
            &s.device,
            json!([{"measured_at": ago(secs), "kind": "body_temperature", "value": 39.4}]),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    let open = open_alarms(&app, &s).await;
    assert_eq!(open.len(), 1, "{open:?}");
    let alarm = &open[0];
    assert_eq!(alarm["kind"], "fever");
    assert_eq!(alarm["status"], "active");
    assert_eq!(alarm["admission_id"], s.admission.as_str());
    let id = alarm["id"].as_str().unwrap().to_owned();
    // It is on the ward's stream.
    let text = read_events(&app, s.p.ward1, &s.p.nurse.token, None, "event: alarm\n").await;
    assert!(text.contains("event: alarm\n"), "{text}");
    assert!(text.contains(&id), "{text}");
    // Acknowledged by the ward's nurse, then resolved with the action taken.
    let r = post(
        &app,
        &format!("/api/v1/alarms/{id}/acknowledge"),
        Some(&s.p.nurse.token),
        json!({}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "acknowledged");
    let r = post(
        &app,
        &format!("/api/v1/alarms/{id}/acknowledge"),
        Some(&s.p.nurse.token),
        json!({}),
    )
    .await;
    assert_eq!(problem(r).await["code"], "already_acknowledged");
    let r = post(
        &app,
        &format!("/api/v1/alarms/{id}/resolve"),
        Some(&s.p.nurse.token),
        json!({"note": "  "}),
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = post(
        &app,
        &format!("/api/v1/alarms/{id}/resolve"),
        Some(&s.p.nurse.token),
        json!({"note": "해열제 투여, 30분 후 재측정"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let resolved: Value = r.json().await.unwrap();
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolved_by"], s.p.nurse.id.to_string());
    assert_eq!(resolved["resolution_note"], "해열제 투여, 30분 후 재측정");
    assert!(open_alarms(&app, &s).await.is_empty());
    let text = read_events(&app, s.p.ward1, &s.p.nurse.token, None, "\"resolved\"").await;
    assert!(text.contains("event: alarm_update"), "{text}");
}

#[tokio::test]
async fn only_the_wards_staff_read_it_and_only_its_nurses_and_admins_handle_its_alarms() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let p = &s.p;
    for path in ["beds", "beds/live", "alarms", "events"] {
        let path = format!("/api/v1/wards/{}/{path}", p.ward1);
        for (who, token, status) in [
            ("nurse of another ward", &p.nurse_other.token, 403),
            ("patient", &p.patient.token, 403),
            ("admin of another hospital", &p.hadmin_h2.token, 403),
            ("reception", &p.reception.token, 403),
        ] {
            assert_eq!(
                get(&app, &path, token).await.status(),
                status,
                "{who} {path}"
            );
        }
        if path.ends_with("events") {
            continue;
        }
        for (who, token) in [
            ("ward nurse", &p.nurse.token),
            ("doctor", &p.doctor.token),
            ("hospital admin", &p.hadmin.token),
        ] {
            assert_eq!(get(&app, &path, token).await.status(), 200, "{who} {path}");
        }
    }
    assert_eq!(
        app.get(&format!("/api/v1/wards/{}/beds", p.ward1))
            .await
            .status(),
        401
    );
    // A nurse call is an alarm at once; only the ward's nurses and admins answer it.
    let r = report(
        &app,
        &s.device,
        json!([{"measured_at": ago(1), "kind": "nurse_call", "value": true}]),
    )
    .await;
    assert_eq!(r.status(), 200);
    let open = open_alarms(&app, &s).await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["kind"], "nurse_call");
    assert_eq!(open[0]["priority"], "high");
    let ack = format!(
        "/api/v1/alarms/{}/acknowledge",
        open[0]["id"].as_str().unwrap()
    );
    for token in [&p.nurse_other.token, &p.doctor.token, &p.patient.token] {
        assert_eq!(post(&app, &ack, Some(token), json!({})).await.status(), 403);
    }
    assert_eq!(
        post(
            &app,
            &ack,
            Some(&p.hadmin.token),
            json!({"note": "가는 중"})
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn an_unacknowledged_nurse_call_is_escalated_once_per_level_and_acknowledging_stops_it() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    report(
        &app,
        &s.device,
        json!([{"measured_at": ago(1), "kind": "nurse_call", "value": "pressed"}]),
    )
    .await;
    let id = open_alarms(&app, &s).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // High priority: the charge nurse after 60 s, the webhook level after 180 s.
    let later = Utc::now() + TimeDelta::seconds(90);
    assert_eq!(escalate_due(&app.state, later).await.unwrap(), 1);
    assert_eq!(
        escalate_due(&app.state, later).await.unwrap(),
        0,
        "once per level"
    );
    assert_eq!(open_alarms(&app, &s).await[0]["escalation_level"], 1);
    let text = read_events(
        &app,
        s.p.ward1,
        &s.p.nurse.token,
        None,
        "event: alarm_update",
    )
    .await;
    assert!(text.contains("event: alarm_update"), "{text}");
    post(
        &app,
        &format!("/api/v1/alarms/{id}/acknowledge"),
        Some(&s.p.nurse.token),
        json!({"note": "병실로 가는 중"}),
    )
    .await;
    let much_later = Utc::now() + TimeDelta::seconds(600);
    assert_eq!(escalate_due(&app.state, much_later).await.unwrap(), 0);
}
