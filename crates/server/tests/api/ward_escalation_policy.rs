//! A ward's own escalation delays: hospital admins set and clear them (checked), the ward's
//! staff read them, new alarms escalate by them, and a change moves the alarms already
//! waiting. Escalation is driven by hand with an explicit clock.

use chrono::{TimeDelta, Utc};
use docde_server::ward::escalate_due;
use reqwest::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, problem};
use crate::people::get;
use crate::ward::{Setup, setup};
use crate::ward_escalation::{delete, nurse_call, put, quiet_app};

fn policy_path(ward: Uuid) -> String {
    format!("/api/v1/wards/{ward}/escalation-policy")
}

async fn put_policy(app: &TestApp, ward: Uuid, token: &str, body: Value) -> Response {
    put(app, &policy_path(ward), token, body).await
}

async fn delete_policy(app: &TestApp, ward: Uuid, token: &str) -> Response {
    delete(app, &policy_path(ward), token).await
}

/// The escalation level of the ward's one open alarm.
async fn level(app: &TestApp, s: &Setup) -> u64 {
    let alarms = crate::ward::open_alarms(app, s).await;
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    alarms[0]["escalation_level"].as_u64().unwrap()
}

#[tokio::test]
async fn admins_set_checked_delays_staff_read_them_and_others_may_not() {
    let app = quiet_app().await;
    let s = setup(&app).await;
    let ward = s.p.ward1;
    // Until set: the installation's defaults.
    let r = get(&app, &policy_path(ward), &s.p.nurse.token).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["source"], "default");
    assert_eq!(v["delays"]["high_secs"], json!([60, 180]));

    for (body, code) in [
        (json!({"high_secs": [120, 60]}), "escalation_not_increasing"),
        (json!({"high_secs": [0, 60]}), "escalation_not_increasing"),
        (
            json!({"high_secs": [30], "urgent_secs": [5]}),
            "validation_failed",
        ),
    ] {
        let r = put_policy(&app, ward, &s.p.hadmin.token, body.clone()).await;
        assert_eq!(r.status(), 422, "{body}");
        assert_eq!(problem(r).await["code"], code, "{body}");
    }
    for who in [&s.p.nurse, &s.p.doctor, &s.p.hadmin_h2, &s.p.patient] {
        let r = put_policy(&app, ward, &who.token, json!({"high_secs": [5]})).await;
        assert_eq!(r.status(), 403, "{}", who.email);
    }
    assert_eq!(
        get(&app, &policy_path(ward), &s.p.patient.token)
            .await
            .status(),
        403
    );

    let r = put_policy(
        &app,
        ward,
        &s.p.hadmin.token,
        json!({"high_secs": [30, 90], "medium_secs": [120]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = get(&app, &policy_path(ward), &s.p.nurse.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["source"], "ward");
    assert_eq!(v["delays"]["high_secs"], json!([30, 90]));
    assert_eq!(v["delays"]["low_secs"], json!([]));
    assert_eq!(v["updated_by"], s.p.hadmin.id.to_string());
    // Another ward keeps the defaults.
    let other: Value = get(&app, &policy_path(s.p.ward2), &s.p.admin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(other["source"], "default");

    let r = delete_policy(&app, ward, &s.p.hadmin.token).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["source"], "default");
}

#[tokio::test]
async fn a_new_alarm_escalates_by_its_wards_delays() {
    let app = quiet_app().await;
    let s = setup(&app).await;
    let r = put_policy(
        &app,
        s.p.ward1,
        &s.p.hadmin.token,
        json!({"high_secs": [10, 20]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    nurse_call(&app, &s).await;
    // By the defaults nothing would be due before 60 s.
    assert_eq!(
        escalate_due(&app.state, Utc::now() + TimeDelta::seconds(5))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        escalate_due(&app.state, Utc::now() + TimeDelta::seconds(15))
            .await
            .unwrap(),
        1
    );
    assert_eq!(level(&app, &s).await, 1);
    assert_eq!(
        escalate_due(&app.state, Utc::now() + TimeDelta::seconds(25))
            .await
            .unwrap(),
        1
    );
    assert_eq!(level(&app, &s).await, 2);
}

#[tokio::test]
async fn changing_the_delays_moves_the_alarms_already_waiting_both_ways() {
    let app = quiet_app().await;
    let s = setup(&app).await;
    nurse_call(&app, &s).await;
    // Raised under the defaults (first level at 60 s); the ward then gets 10 s: in force for
    // this alarm at once.
    let r = put_policy(
        &app,
        s.p.ward1,
        &s.p.hadmin.token,
        json!({"high_secs": [10, 300]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        escalate_due(&app.state, Utc::now() + TimeDelta::seconds(15))
            .await
            .unwrap(),
        1
    );
    assert_eq!(level(&app, &s).await, 1);
    // Back to the defaults: level 2 is due at 180 s, no longer at 300 s.
    let r = delete_policy(&app, s.p.ward1, &s.p.hadmin.token).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        escalate_due(&app.state, Utc::now() + TimeDelta::seconds(150))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        escalate_due(&app.state, Utc::now() + TimeDelta::seconds(200))
            .await
            .unwrap(),
        1
    );
    assert_eq!(level(&app, &s).await, 2);
}

#[tokio::test]
async fn an_escalation_claimed_just_before_a_longer_delay_was_set_waits_for_it() {
    let app = quiet_app().await;
    let s = setup(&app).await;
    nurse_call(&app, &s).await;
    // The worker has claimed the alarm (due at 60 s by the defaults) when the ward's delay
    // grows to 120 s: the claimed alarm is given back, not escalated.
    let at = Utc::now() + TimeDelta::seconds(70);
    let claims = docde_store::ward::alarms::due_for_escalation(
        &app.state.store,
        at,
        TimeDelta::seconds(10),
        10,
    )
    .await
    .unwrap();
    assert_eq!(claims.len(), 1);
    docde_store::ward::escalation::set_ward(
        &app.state.store,
        s.p.ward1,
        &docde_domain::ward::alarm::EscalationPolicy {
            high_secs: vec![120],
            medium_secs: vec![],
            low_secs: vec![],
        },
        None,
        Utc::now(),
    )
    .await
    .unwrap();
    // The lease runs out (at 80 s); the next round re-reads the ward's delays.
    let later = at + TimeDelta::seconds(11);
    assert_eq!(escalate_due(&app.state, later).await.unwrap(), 0);
    assert_eq!(level(&app, &s).await, 0);
    assert_eq!(
        escalate_due(&app.state, Utc::now() + TimeDelta::seconds(130))
            .await
            .unwrap(),
        1
    );
    assert_eq!(level(&app, &s).await, 1);
}
