//! Vital-sign ingest, checked against the database itself (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`): idempotent ingest, samples attributed by measurement time across a
//! transfer, per-minute history, the group-commit writer and group ingest of many devices'
//! batches.
//!
//! A device's evaluation context and NEWS2 announcements are checked in `ward_context.rs`;
//! admissions, alarms, escalation, replay and medication in `ward.rs`; the fixtures all share
//! are in `common/ward.rs`.

mod common;
#[path = "common/ward.rs"]
mod fixtures;

use chrono::TimeDelta;
use docde_domain::account::Role;
use docde_domain::ward::{Sample, VitalKind};
use docde_store::accounts::devices;
use docde_store::ward::admissions;
use docde_store::ward::events::{self, EventKind};
use docde_store::ward::samples::{self, Stored, Subject};
use docde_store::ward::{SampleWriter, WardError};
use uuid::Uuid;

use common::fresh_store;
use fixtures::{admit, at, battery, bound_device, heart_rate, temperature, user, ward};

#[tokio::test]
async fn ingesting_the_same_sample_twice_stores_it_once_and_reports_the_duplicate() {
    let store = fresh_store().await;
    let w = ward(&store).await;
    let patient = user(&store, Role::Patient, None).await;
    admit(&store, patient, w.bed_a, at(0)).await;

    let batch = [temperature(37.5, at(10)), heart_rate(80.0, at(10))];
    let first = samples::ingest_batch(&store, w.device, &batch, at(11))
        .await
        .unwrap();
    assert_eq!(first.results, [Stored::Inserted, Stored::Inserted]);
    assert_eq!(first.event_ids.len(), 1, "one vitals event per bed");

    // A retried batch (lost answer) with one new sample and one repeated inside the batch.
    let retry = [
        temperature(39.9, at(10)),
        heart_rate(80.0, at(10)),
        heart_rate(82.0, at(20)),
        heart_rate(82.0, at(20)),
    ];
    let second = samples::ingest_batch(&store, w.device, &retry, at(21))
        .await
        .unwrap();
    assert_eq!(
        second.results,
        [
            Stored::Duplicate,
            Stored::Duplicate,
            Stored::Inserted,
            Stored::Duplicate
        ]
    );
    let temps = samples::history(
        &store,
        Subject::Patient(patient),
        VitalKind::BodyTemperature,
        at(0),
        at(60),
        100,
    )
    .await
    .unwrap();
    assert_eq!(temps.len(), 1);
    assert_eq!(temps[0].value, 37.5, "the first stored value is kept");
    assert_eq!(temps[0].measured_at, at(10));
}

#[tokio::test]
async fn samples_follow_the_patient_who_was_in_the_bed_at_measurement_time_across_a_transfer() {
    let store = fresh_store().await;
    let w = ward(&store).await;
    let (first, second) = (
        user(&store, Role::Patient, None).await,
        user(&store, Role::Patient, None).await,
    );
    let stay = admit(&store, first, w.bed_a, at(0)).await;
    // At 100 s the first patient moves to bed B and the second takes bed A.
    let (moved, _) = admissions::transfer(&store, stay, w.bed_b, at(100))
        .await
        .unwrap();
    assert_eq!(moved.bed_id, w.bed_b);
    assert_eq!(moved.transferred_from, Some(stay));
    admit(&store, second, w.bed_a, at(100)).await;

    // The bed-A device's batch arrives late and out of order, spanning the transfer.
    let batch = [
        temperature(38.0, at(150)),
        temperature(37.0, at(50)),
        temperature(37.1, at(99)),
    ];
    samples::ingest_batch(&store, w.device, &batch, at(160))
        .await
        .unwrap();

    let of = |p| {
        samples::history(
            &store,
            Subject::Patient(p),
            VitalKind::BodyTemperature,
            at(0),
            at(200),
            10,
        )
    };
    let values = |v: Vec<samples::StoredSample>| v.iter().map(|s| s.value).collect::<Vec<_>>();
    assert_eq!(values(of(first).await.unwrap()), [37.0, 37.1]);
    assert_eq!(values(of(second).await.unwrap()), [38.0]);
    let by_stay = samples::history(
        &store,
        Subject::Admission(stay),
        VitalKind::BodyTemperature,
        at(0),
        at(200),
        10,
    )
    .await
    .unwrap();
    assert_eq!(by_stay.len(), 2);
    assert!(by_stay.iter().all(|s| s.bed_id == Some(w.bed_a)));

    // The grid shows the second patient's newest value in bed A; bed B's patient has none yet.
    let grid = samples::latest_per_bed(&store, w.ward).await.unwrap();
    let bed_a = grid.iter().find(|b| b.bed.id == w.bed_a).unwrap();
    assert_eq!(bed_a.admission.as_ref().unwrap().patient_id, second);
    assert_eq!(bed_a.latest.len(), 1);
    assert_eq!(bed_a.latest[0].value, 38.0);
    let bed_b = grid.iter().find(|b| b.bed.id == w.bed_b).unwrap();
    assert_eq!(bed_b.admission.as_ref().unwrap().patient_id, first);
    assert_eq!(
        bed_b.latest.len(),
        1,
        "the first patient's latest follows them"
    );
    assert_eq!(bed_b.latest[0].value, 37.1);
}

/// Samples travel to the database as JSON text; the value read back must be the very `f64`
/// the device sent, not one a parser rounded differently.
#[tokio::test]
async fn a_sample_value_round_trips_exactly() {
    let store = fresh_store().await;
    let w = ward(&store).await;
    let patient = user(&store, Role::Patient, None).await;
    admit(&store, patient, w.bed_a, at(0)).await;
    // Full-precision doubles (a fixed-seed LCG) for heart rate, and readings with one or two
    // decimals (some of them, like 35.0 + 0.3, not the decimal they look like) for temperature.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let rates: Vec<f64> = (0..60)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            30.0 + (x >> 11) as f64 / (1u64 << 53) as f64 * 200.0
        })
        .collect();
    let mut temps: Vec<f64> = (0..56).map(|i| 35.0 + f64::from(i) / 10.0).collect();
    temps.extend([36.6, 37.85, 38.15, 40.05]);
    let batch: Vec<Sample> = (rates.iter().enumerate())
        .map(|(i, v)| heart_rate(*v, at(i as i64 + 1)))
        .chain((temps.iter().enumerate()).map(|(i, v)| temperature(*v, at(i as i64 + 1))))
        .collect();
    let stored = samples::ingest_batch(&store, w.device, &batch, at(70))
        .await
        .unwrap();
    assert!(stored.results.iter().all(|r| *r == Stored::Inserted));
    for (kind, sent) in [
        (VitalKind::HeartRate, &rates),
        (VitalKind::BodyTemperature, &temps),
    ] {
        let read = samples::history(&store, Subject::Patient(patient), kind, at(0), at(70), 100)
            .await
            .unwrap();
        let values: Vec<u64> = read.iter().map(|s| s.value.to_bits()).collect();
        let expected: Vec<u64> = sent.iter().map(|v| v.to_bits()).collect();
        assert_eq!(values, expected, "{kind:?}");
    }
}

#[tokio::test]
async fn per_minute_history_summarises_min_max_mean_and_count() {
    let store = fresh_store().await;
    let w = ward(&store).await;
    let patient = user(&store, Role::Patient, None).await;
    let stay = admit(&store, patient, w.bed_a, at(0)).await;
    let batch: Vec<Sample> = [(5, 60.0), (30, 70.0), (59, 80.0), (65, 100.0)]
        .into_iter()
        .map(|(s, v)| heart_rate(v, at(s)))
        .collect();
    samples::ingest_batch(&store, w.device, &batch, at(70))
        .await
        .unwrap();
    let buckets = samples::downsampled(
        &store,
        Subject::Admission(stay),
        VitalKind::HeartRate,
        at(0),
        at(120),
        TimeDelta::minutes(1),
        100,
    )
    .await
    .unwrap();
    assert_eq!(buckets.len(), 2);
    assert_eq!(buckets[0].start, at(0));
    assert_eq!(
        (
            buckets[0].min,
            buckets[0].max,
            buckets[0].mean,
            buckets[0].count
        ),
        (60.0, 80.0, 70.0, 3)
    );
    assert_eq!(buckets[1].start, at(60));
    assert_eq!(buckets[1].count, 1);
}

#[tokio::test]
async fn the_group_commit_writer_answers_every_batch_after_its_commit() {
    let store = fresh_store().await;
    let w = ward(&store).await;
    let patient = user(&store, Role::Patient, None).await;
    admit(&store, patient, w.bed_a, at(0)).await;
    let (writer, handles) = SampleWriter::spawn((*store).clone(), 2);

    let sends = (0..40).map(|i| {
        let writer = writer.clone();
        let device = w.device;
        tokio::spawn(async move {
            // Every sample twice, in separate batches: exactly one of each pair is new.
            writer
                .ingest(device, vec![heart_rate(70.0, at(i % 20))], at(100))
                .await
        })
    });
    let mut inserted = 0;
    for s in sends {
        inserted += s.await.unwrap().unwrap().inserted();
    }
    assert_eq!(inserted, 20);
    let err = writer
        .ingest(Uuid::now_v7(), vec![heart_rate(70.0, at(1))], at(100))
        .await
        .unwrap_err();
    assert!(matches!(err, WardError::NotFound("device")), "{err:?}");

    drop(writer);
    for h in handles {
        h.await.unwrap();
    }
    let stored = samples::history(
        &store,
        Subject::Patient(patient),
        VitalKind::HeartRate,
        at(0),
        at(100),
        100,
    )
    .await
    .unwrap();
    assert_eq!(stored.len(), 20);
}

#[tokio::test]
async fn one_group_stores_every_live_devices_batch_and_refuses_only_the_unknown_and_revoked() {
    let store = fresh_store().await;
    let w = ward(&store).await;
    let (ann, bo) = (
        user(&store, Role::Patient, None).await,
        user(&store, Role::Patient, None).await,
    );
    let stay_a = admit(&store, ann, w.bed_a, at(0)).await;
    admit(&store, bo, w.bed_b, at(0)).await;
    let other = bound_device(&store, w.hospital, w.bed_b).await;
    let revoked = bound_device(&store, w.hospital, w.bed_b).await;
    assert!(devices::revoke(&store, revoked, at(1)).await.unwrap());

    // Batches in an order unlike the devices' (the group sorts nothing for its answers).
    let first = [heart_rate(80.0, at(10)), battery(60.0, at(10))];
    let unknown = [heart_rate(90.0, at(10))];
    let second = [heart_rate(70.0, at(12)), temperature(37.1, at(12))];
    // The same device again: one sample already in `first` (a duplicate), one newer, and an
    // older battery level that must not overwrite the newer one.
    let again = [
        heart_rate(80.0, at(10)),
        heart_rate(82.0, at(11)),
        battery(75.0, at(5)),
    ];
    let gone = [heart_rate(60.0, at(10))];
    let batches = [
        samples::Batch {
            device_id: w.device,
            samples: &first,
            now: at(20),
        },
        samples::Batch {
            device_id: Uuid::now_v7(),
            samples: &unknown,
            now: at(20),
        },
        samples::Batch {
            device_id: other,
            samples: &second,
            now: at(21),
        },
        samples::Batch {
            device_id: w.device,
            samples: &again,
            now: at(22),
        },
        samples::Batch {
            device_id: revoked,
            samples: &gone,
            now: at(22),
        },
    ];
    let answers = samples::ingest_group(&store, &batches).await.unwrap();
    assert_eq!(answers.len(), 5);
    let ok = |i: usize| answers[i].as_ref().unwrap();
    assert_eq!(ok(0).results, vec![Stored::Inserted, Stored::Inserted]);
    assert!(matches!(answers[1], Err(WardError::NotFound("device"))));
    assert_eq!(ok(2).results, vec![Stored::Inserted, Stored::Inserted]);
    assert_eq!(
        ok(3).results,
        vec![Stored::Duplicate, Stored::Inserted, Stored::Inserted]
    );
    assert!(matches!(answers[4], Err(WardError::NotFound("device"))));

    // Each stored batch got its own `vitals` event, in batch order, with only its new samples.
    let ids: Vec<i64> = [0, 2, 3]
        .iter()
        .flat_map(|&i| ok(i).event_ids.clone())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.windows(2).all(|p| p[0] < p[1]), "{ids:?}");
    assert!(ok(0).wards.iter().chain(&ok(2).wards).all(|x| *x == w.ward));
    let log = events::events_after(&store, w.ward, 0, 100).await.unwrap();
    let payload = |id: i64| -> serde_json::Value {
        let e = log.iter().find(|e| e.id == id).unwrap();
        assert_eq!(e.kind, EventKind::Vitals);
        serde_json::from_str(&e.payload).unwrap()
    };
    let third = payload(ok(3).event_ids[0]);
    assert_eq!(third["samples"].as_array().unwrap().len(), 2, "{third}");
    assert_eq!(payload(ok(2).event_ids[0])["bed_id"], w.bed_b.to_string());

    // Samples follow the bed's patient; the newest per kind is the latest; nothing of the
    // unknown or revoked device was stored.
    let ann_hr = samples::history(
        &store,
        Subject::Admission(stay_a),
        VitalKind::HeartRate,
        at(0),
        at(100),
        100,
    )
    .await
    .unwrap();
    assert_eq!(
        ann_hr.iter().map(|s| s.value).collect::<Vec<_>>(),
        vec![80.0, 82.0]
    );
    let latest = samples::latest_of_patient(&store, ann).await.unwrap();
    let hr = latest
        .iter()
        .find(|l| l.kind == VitalKind::HeartRate)
        .unwrap();
    assert_eq!((hr.value, hr.measured_at), (82.0, at(11)));
    let bo_hr = samples::latest_of_patient(&store, bo).await.unwrap();
    let hr = bo_hr
        .iter()
        .find(|l| l.kind == VitalKind::HeartRate)
        .unwrap();
    assert_eq!((hr.value, hr.device_id), (70.0, other));

    // Last seen and battery: the device's newest battery sample, its latest answer time.
    let device = devices::get(&store, w.device).await.unwrap().unwrap();
    assert_eq!(device.battery_percent, Some(60));
    assert_eq!(device.last_seen_at, Some(at(22)));
    let gone = devices::get(&store, revoked).await.unwrap().unwrap();
    assert_eq!(gone.last_seen_at, None);
}
