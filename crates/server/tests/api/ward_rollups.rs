//! 1-minute rollups of vital samples: exact per minute, each minute once with several workers
//! at once, late samples reflected, and the vitals history served from rollups once the raw
//! samples are swept — the same answer raw samples alone gave. Driven by hand with an explicit
//! clock (the rollup, retention and technical workers are off).

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use docde_domain::ward::VitalKind;
use docde_server::ward::{retention, rollup};
use docde_store::ward::rollups::{self, MINUTE_MICROS, RolledUp};
use docde_store::ward::samples::{self, Subject};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app_with};
use crate::people::get;
use crate::ward::{Setup, report, setup};

async fn app() -> TestApp {
    spawn_app_with(|c| {
        c.ward.retention_worker = false;
        c.ward.technical_worker = false;
        c.ward.rollup_worker = false;
    })
    .await
}

/// The start of the minute holding `t`.
fn minute_of(t: DateTime<Utc>) -> DateTime<Utc> {
    let us = t.timestamp_micros();
    DateTime::from_timestamp_micros(us - us.rem_euclid(MINUTE_MICROS)).unwrap()
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Reports `(kind, instant, value)` readings from the setup's device, in one batch.
async fn send(app: &TestApp, s: &Setup, readings: &[(&str, DateTime<Utc>, f64)]) {
    let batch: Vec<Value> = readings
        .iter()
        .map(|(kind, t, v)| json!({"measured_at": rfc3339(*t), "kind": kind, "value": v}))
        .collect();
    let r = report(app, &s.device, Value::Array(batch)).await;
    assert_eq!(r.status(), 200);
}

fn admission(s: &Setup) -> Uuid {
    s.admission.parse().unwrap()
}

async fn rollups_of(
    app: &TestApp,
    s: &Setup,
    kind: VitalKind,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, f64, f64, f64, i64)> {
    rollups::of_admission(&app.state.store, admission(s), kind, from, to)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.minute, r.min, r.max, r.sum, r.count))
        .collect()
}

/// One bucket of a history answer: `(at, min, max, mean, count)`.
pub type Point = (DateTime<Utc>, f64, f64, f64, i64);

/// The buckets of a history answer (`GET …/vitals`), oldest first.
pub fn points_of(history: &Value) -> Vec<Point> {
    history["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["at"].as_str().unwrap().parse().unwrap(),
                p["min"].as_f64().unwrap(),
                p["max"].as_f64().unwrap(),
                p["mean"].as_f64().unwrap(),
                p["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The history as the API answers it: `(resolution, [(at, min, max, mean, count)])`.
async fn history(
    app: &TestApp,
    s: &Setup,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    points: u32,
) -> (i64, Vec<(DateTime<Utc>, f64, f64, f64, i64)>) {
    let path = format!(
        "/api/v1/admissions/{}/vitals?kind=heart_rate&from={}&to={}&points={points}",
        s.admission,
        urlencode(&rfc3339(from)),
        urlencode(&rfc3339(to)),
    );
    let r = get(app, &path, &s.p.nurse.token).await;
    assert_eq!(r.status(), 200);
    let h: Value = r.json().await.unwrap();
    (h["resolution_seconds"].as_i64().unwrap(), points_of(&h))
}

pub fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

/// What raw samples alone give for the same range and resolution.
async fn raw_only(
    app: &TestApp,
    s: &Setup,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    resolution_seconds: i64,
) -> Vec<(DateTime<Utc>, f64, f64, f64, i64)> {
    samples::downsampled(
        &app.state.store,
        Subject::Admission(admission(s)),
        VitalKind::HeartRate,
        from,
        to,
        TimeDelta::seconds(resolution_seconds),
        1001,
    )
    .await
    .unwrap()
    .into_iter()
    .map(|b| (b.start, b.min, b.max, b.mean, b.count))
    .collect()
}

/// Equal buckets: exact times, extremes and counts; means to rounding (raw samples are
/// averaged in one sum, rollups in one sum per minute).
fn assert_same(
    got: &[(DateTime<Utc>, f64, f64, f64, i64)],
    want: &[(DateTime<Utc>, f64, f64, f64, i64)],
) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(
            (g.0, g.1, g.2, g.4),
            (w.0, w.1, w.2, w.4),
            "{got:?} vs {want:?}"
        );
        assert!((g.3 - w.3).abs() < 1e-9, "{got:?} vs {want:?}");
    }
}

#[tokio::test]
async fn a_rolled_up_minute_holds_the_exact_min_max_sum_and_count_of_its_samples() {
    let app = app().await;
    let s = setup(&app).await;
    let now = Utc::now();
    let m0 = minute_of(now) - TimeDelta::minutes(10);
    let secs = |n: i64| m0 + TimeDelta::seconds(n);
    send(
        &app,
        &s,
        &[
            ("heart_rate", secs(1), 60.0),
            ("heart_rate", secs(20), 70.0),
            ("heart_rate", secs(40), 95.0),
            ("heart_rate", secs(59), 80.0),
            ("heart_rate", secs(60), 100.0),
            ("spo2", secs(30), 97.0),
            // Not settled yet: stays pending.
            ("heart_rate", now - TimeDelta::seconds(5), 120.0),
        ],
    )
    .await;
    let rolled = rollup::run(&app.state, now).await.unwrap();
    assert_eq!(
        rolled,
        RolledUp {
            minutes: 3,
            dropped: 0
        }
    );
    assert_eq!(rollups::pending_count(&app.state.store).await.unwrap(), 1);
    let want = vec![
        (m0, 60.0, 95.0, 305.0, 4),
        (m0 + TimeDelta::minutes(1), 100.0, 100.0, 100.0, 1),
    ];
    let range = (m0, m0 + TimeDelta::minutes(5));
    assert_eq!(
        rollups_of(&app, &s, VitalKind::HeartRate, range.0, range.1).await,
        want
    );
    assert_eq!(
        rollups_of(&app, &s, VitalKind::Spo2, range.0, range.1).await,
        vec![(m0, 97.0, 97.0, 97.0, 1)]
    );
    // Running again changes nothing; the unsettled minute is rolled once it has settled.
    assert_eq!(
        rollup::run(&app.state, now).await.unwrap(),
        RolledUp::default()
    );
    assert_eq!(
        rollups_of(&app, &s, VitalKind::HeartRate, range.0, range.1).await,
        want
    );
    let later = now + rollup::SETTLE + TimeDelta::minutes(1);
    assert_eq!(rollup::run(&app.state, later).await.unwrap().minutes, 1);
    assert_eq!(rollups::pending_count(&app.state.store).await.unwrap(), 0);
}

#[tokio::test]
async fn two_rollup_workers_at_once_roll_each_minute_once_and_exactly() {
    let app = app().await;
    let s = setup(&app).await;
    let now = Utc::now();
    let m0 = minute_of(now) - TimeDelta::minutes(40);
    // 30 minutes × 2 kinds, a reading every 10 s with values that differ per minute.
    let mut readings = Vec::new();
    for minute in 0..30 {
        for tick in 0..6 {
            let t = m0 + TimeDelta::minutes(minute) + TimeDelta::seconds(tick * 10);
            readings.push(("heart_rate", t, (60 + minute + tick * 3) as f64));
            readings.push(("spo2", t, (90 + (minute + tick) % 10) as f64));
        }
    }
    for chunk in readings.chunks(50) {
        send(&app, &s, chunk).await;
    }
    assert_eq!(rollups::pending_count(&app.state.store).await.unwrap(), 60);
    // Three workers take small batches at once until none is left.
    let worker = || async {
        let mut mine = 0;
        loop {
            let done = rollups::roll_up(&app.state.store, now - rollup::SETTLE, 4)
                .await
                .unwrap();
            mine += done.minutes;
            if done.minutes < 4 {
                return mine;
            }
        }
    };
    let (a, b, c) = tokio::join!(worker(), worker(), worker());
    assert_eq!(a + b + c, 60, "each minute once: {a} + {b} + {c}");
    assert_eq!(rollups::pending_count(&app.state.store).await.unwrap(), 0);
    for kind in [VitalKind::HeartRate, VitalKind::Spo2] {
        let got = rollups_of(&app, &s, kind, m0, now).await;
        let want: Vec<_> = samples::downsampled(
            &app.state.store,
            Subject::Admission(admission(&s)),
            kind,
            m0,
            now,
            TimeDelta::minutes(1),
            1000,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.start, b.min, b.max, b.mean * b.count as f64, b.count))
        .collect();
        assert_eq!(got.len(), 30);
        for (g, w) in got.iter().zip(&want) {
            assert_eq!((g.0, g.1, g.2, g.4), (w.0, w.1, w.2, w.4));
            assert!((g.3 - w.3).abs() < 1e-9);
            assert_eq!(g.4, 6, "six readings per minute, counted once");
        }
    }
}

#[tokio::test]
async fn a_sample_that_arrives_after_its_minute_was_rolled_up_is_reflected() {
    let app = app().await;
    let s = setup(&app).await;
    let now = Utc::now();
    let m0 = minute_of(now) - TimeDelta::minutes(10);
    send(
        &app,
        &s,
        &[
            ("heart_rate", m0 + TimeDelta::seconds(10), 60.0),
            ("heart_rate", m0 + TimeDelta::seconds(30), 80.0),
        ],
    )
    .await;
    assert_eq!(rollup::run(&app.state, now).await.unwrap().minutes, 1);
    let minute = (m0, m0 + TimeDelta::minutes(1));
    assert_eq!(
        rollups_of(&app, &s, VitalKind::HeartRate, minute.0, minute.1).await,
        vec![(m0, 60.0, 80.0, 140.0, 2)]
    );
    // A device that was offline delivers a reading of that minute now.
    let late = [("heart_rate", m0 + TimeDelta::seconds(50), 100.0)];
    send(&app, &s, &late).await;
    // Before the worker comes round, the history reads the pending minute from raw samples:
    // three readings, not two, not five.
    let (_, points) = history(&app, &s, m0, m0 + TimeDelta::minutes(2), 2).await;
    assert_eq!(points, vec![(m0, 60.0, 100.0, 80.0, 3)]);
    assert_eq!(rollup::run(&app.state, now).await.unwrap().minutes, 1);
    assert_eq!(
        rollups_of(&app, &s, VitalKind::HeartRate, minute.0, minute.1).await,
        vec![(m0, 60.0, 100.0, 240.0, 3)]
    );
    // The same reading delivered again is a duplicate: nothing to roll up, nothing changes.
    send(&app, &s, &late).await;
    assert_eq!(
        rollup::run(&app.state, now).await.unwrap(),
        RolledUp::default()
    );
    assert_eq!(
        rollups_of(&app, &s, VitalKind::HeartRate, minute.0, minute.1).await,
        vec![(m0, 60.0, 100.0, 240.0, 3)]
    );
}

#[tokio::test]
async fn history_past_the_raw_retention_comes_from_rollups_and_matches_what_raw_samples_gave() {
    let app = app().await;
    let s = setup(&app).await;
    let now = Utc::now();
    let m0 = minute_of(now) - TimeDelta::minutes(20);
    // A reading every 15 s for 18 minutes, and a recent one that is not settled yet.
    let mut readings = Vec::new();
    for i in 0..(18 * 4) {
        let t = m0 + TimeDelta::seconds(i * 15 + 3);
        readings.push(("heart_rate", t, (70 + (i * 7) % 23) as f64));
    }
    readings.push(("heart_rate", now - TimeDelta::seconds(2), 111.0));
    for chunk in readings.chunks(40) {
        send(&app, &s, chunk).await;
    }
    let to = minute_of(now) + TimeDelta::minutes(1);
    // Before anything is rolled up, and once it is: the same as raw samples alone, with a
    // range starting inside a minute too.
    let mid_minute = m0 + TimeDelta::seconds(20);
    for from in [m0, mid_minute] {
        let (resolution, got) = history(&app, &s, from, to, 7).await;
        assert_eq!(resolution % 60, 0, "whole minutes: {resolution}");
        assert_same(&got, &raw_only(&app, &s, from, to, resolution).await);
    }
    let (resolution, before) = history(&app, &s, m0, to, 7).await;
    let raw_before = raw_only(&app, &s, m0, to, resolution).await;
    assert_eq!(rollup::run(&app.state, now).await.unwrap().minutes, 18);
    for from in [m0, mid_minute] {
        let raw = raw_only(&app, &s, from, to, resolution).await;
        assert_same(&history(&app, &s, from, to, 7).await.1, &raw);
    }

    // Eight days on, the rolled-up minutes' raw samples are swept; the recent one waits for
    // its rollup. The history still has every bucket, from rollups and the one raw sample.
    let swept = retention::sweep(&app.state, now + TimeDelta::days(8))
        .await
        .unwrap();
    assert_eq!(swept.samples, 18 * 4);
    assert_eq!(samples::count_all(&app.state.store).await.unwrap(), 1);
    let readings_end = m0 + TimeDelta::minutes(18);
    assert!(
        raw_only(&app, &s, m0, readings_end, resolution)
            .await
            .is_empty()
    );
    let (_, after) = history(&app, &s, m0, to, 7).await;
    assert_same(&after, &raw_before);
    assert_same(&after, &before);

    // Once everything is rolled up and swept, the whole range comes from rollups alone.
    assert_eq!(
        rollup::run(&app.state, now + TimeDelta::days(8))
            .await
            .unwrap()
            .minutes,
        1
    );
    retention::sweep(&app.state, now + TimeDelta::days(8))
        .await
        .unwrap();
    assert_eq!(samples::count_all(&app.state.store).await.unwrap(), 0);
    assert_same(&history(&app, &s, m0, to, 7).await.1, &raw_before);
}
