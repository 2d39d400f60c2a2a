//! Ward retention: the sweep deletes raw samples past `ward.raw_retention_days` (once their
//! minute is rolled up), 1-minute rollups past `ward.rollup_retention_days` and stream events
//! past `ward.event_retention_days`, keeps everything younger, and never touches the alarms
//! (the clinical record). Driven by hand with an explicit clock (the workers are off).

use chrono::{TimeDelta, Utc};
use docde_server::ward::retention::{self, Swept};
use docde_server::ward::rollup;
use docde_store::ward::{events, rollups, samples};
use serde_json::json;

use crate::helpers::spawn_app_with;
use crate::people::get;
use crate::ward::{ago, report, setup};

#[tokio::test]
async fn the_retention_sweep_deletes_only_what_is_past_its_age_and_keeps_the_alarms() {
    let app = spawn_app_with(|c| {
        c.ward.retention_worker = false;
        c.ward.technical_worker = false;
        c.ward.rollup_worker = false;
    })
    .await;
    let s = setup(&app).await;
    let store = &app.state.store;
    // An old reading (10 min), then a fever that lasts past its onset delay: an alarm opens
    // and the stream gets its events.
    let mut readings =
        vec![json!({"measured_at": ago(600), "kind": "body_temperature", "value": 36.6})];
    for secs in [40, 30, 20, 10] {
        readings.push(json!({"measured_at": ago(secs), "kind": "body_temperature", "value": 39.4}));
    }
    for reading in readings {
        let r = report(&app, &s.device, json!([reading])).await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(samples::count_all(store).await.unwrap(), 5);
    let events_before = events::events_after(store, s.p.ward1, 0, 1000)
        .await
        .unwrap()
        .len();
    assert!(events_before > 0, "the samples wrote stream events");

    let now = Utc::now();
    assert_eq!(
        retention::sweep(&app.state, now).await.unwrap(),
        Swept::default(),
        "nothing is old enough yet"
    );

    // Seven days on, less two minutes: the 10-minute-old reading is past 7 days (and its minute
    // is rolled up), the others not.
    rollup::run(&app.state, now).await.unwrap();
    let swept = retention::sweep(&app.state, now + TimeDelta::days(7) - TimeDelta::minutes(2))
        .await
        .unwrap();
    assert_eq!(
        swept,
        Swept {
            samples: 1,
            rollups: 0,
            events: 0,
            deliveries: 0
        }
    );
    assert_eq!(samples::count_all(store).await.unwrap(), 4);

    // Past 30 days every sample (rolled up by then) and every event has gone; the rollups
    // and the alarm have not.
    let later = now + TimeDelta::days(30) + TimeDelta::minutes(1);
    rollup::run(&app.state, later).await.unwrap();
    let swept = retention::sweep(
        &app.state,
        now + TimeDelta::days(30) + TimeDelta::minutes(1),
    )
    .await
    .unwrap();
    assert_eq!(swept.samples, 4);
    assert_eq!(swept.rollups, 0);
    assert_eq!(swept.events as usize, events_before);
    assert_eq!(samples::count_all(store).await.unwrap(), 0);
    assert!(
        events::events_after(store, s.p.ward1, 0, 1000)
            .await
            .unwrap()
            .is_empty()
    );
    let alarms = get(
        &app,
        &format!("/api/v1/wards/{}/alarms", s.p.ward1),
        &s.p.nurse.token,
    )
    .await;
    assert_eq!(alarms.status(), 200);
    let alarms: Vec<serde_json::Value> = alarms.json().await.unwrap();
    assert!(
        alarms.iter().any(|a| a["kind"] == "fever"),
        "the fever alarm outlives the samples that raised it: {alarms:?}"
    );
}

#[tokio::test]
async fn raw_samples_wait_for_their_rollup_and_rollups_are_swept_only_after_their_own_period() {
    let app = spawn_app_with(|c| {
        c.ward.retention_worker = false;
        c.ward.technical_worker = false;
        c.ward.rollup_worker = false;
    })
    .await;
    let s = setup(&app).await;
    let store = &app.state.store;
    // Three readings in three different minutes, all at least 5 minutes old.
    for secs in [900, 600, 300] {
        let reading = json!({"measured_at": ago(secs), "kind": "heart_rate", "value": 80});
        assert_eq!(
            report(&app, &s.device, json!([reading])).await.status(),
            200
        );
    }
    let now = Utc::now();
    let next_week = now + TimeDelta::days(8);
    // Past raw retention, but nothing is rolled up yet: the raw samples are all kept.
    let swept = retention::sweep(&app.state, next_week).await.unwrap();
    assert_eq!(swept.samples, 0, "no minute is rolled up yet");
    assert_eq!(samples::count_all(store).await.unwrap(), 3);

    let rolled = rollup::run(&app.state, now).await.unwrap();
    assert_eq!(rolled.minutes, 3);
    let swept = retention::sweep(&app.state, next_week).await.unwrap();
    assert_eq!((swept.samples, swept.rollups), (3, 0));
    assert_eq!(samples::count_all(store).await.unwrap(), 0);

    let admission = s.admission.parse().unwrap();
    let stored = || async {
        rollups::of_admission(
            store,
            admission,
            docde_domain::ward::VitalKind::HeartRate,
            now - TimeDelta::hours(1),
            now,
        )
        .await
        .unwrap()
        .len()
    };
    assert_eq!(stored().await, 3);
    // A year less a day on, the rollups are still kept; a year and a day on, they are not.
    let swept = retention::sweep(&app.state, now + TimeDelta::days(364))
        .await
        .unwrap();
    assert_eq!(swept.rollups, 0);
    assert_eq!(stored().await, 3);
    let swept = retention::sweep(&app.state, now + TimeDelta::days(366))
        .await
        .unwrap();
    assert_eq!(swept.rollups, 3);
    assert_eq!(stored().await, 0);
}
