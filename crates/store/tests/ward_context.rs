//! A device's evaluation context and NEWS2 announcements, checked against the database itself
//! (SQLite, or PostgreSQL with `TEST_DATABASE_URL`): the context read (bed, the stay then, that
//! patient's latest values, the NEWS2 last announced and the threshold overrides) for one
//! device and for many at once, and the announcer's group commit of NEWS2 changes.
//!
//! Sample ingest itself is checked in `ward_ingest.rs`; the fixtures both share are in
//! `common/ward.rs`.

mod common;
#[path = "common/ward.rs"]
mod fixtures;

use docde_domain::account::Role;
use docde_domain::ward::VitalKind;
use docde_store::ward::events::{self, EventKind};
use docde_store::ward::samples;
use docde_store::ward::{admissions, beds};
use uuid::Uuid;

use common::fresh_store;
use fixtures::{admit, at, bound_device, heart_rate, temperature, user, ward};

#[tokio::test]
async fn a_devices_context_is_its_bed_the_stay_then_and_that_patients_latest_values() {
    use docde_store::ward::context;
    let store = fresh_store().await;
    let w = ward(&store).await;
    let patient = user(&store, Role::Patient, None).await;

    // Bound, nobody admitted yet: the bed alone.
    let c = context::of_device(&store, w.device, at(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.bed.id, w.bed_a);
    assert!(c.admission.is_none() && c.latest.is_empty());

    let stay = admit(&store, patient, w.bed_a, at(10)).await;
    let batch = [heart_rate(88.0, at(20)), temperature(38.2, at(21))];
    samples::ingest_batch(&store, w.device, &batch, at(22))
        .await
        .unwrap();
    let c = context::of_device(&store, w.device, at(30))
        .await
        .unwrap()
        .unwrap();
    let a = c.admission.unwrap();
    assert_eq!((a.id, a.patient_id, a.bed_id), (stay, patient, w.bed_a));
    let mut latest: Vec<(VitalKind, f64)> = c.latest.iter().map(|l| (l.kind, l.value)).collect();
    latest.sort_by_key(|(k, _)| k.code());
    let mut expected = vec![
        (VitalKind::HeartRate, 88.0),
        (VitalKind::BodyTemperature, 38.2),
    ];
    expected.sort_by_key(|(k, _)| k.code());
    assert_eq!(latest, expected);

    // Before the stay began: the bed, no stay, no values.
    let c = context::of_device(&store, w.device, at(5))
        .await
        .unwrap()
        .unwrap();
    assert!(c.admission.is_none() && c.latest.is_empty());

    // After discharge: no stay. Unbound: no context at all.
    admissions::discharge(&store, stay, at(40)).await.unwrap();
    let c = context::of_device(&store, w.device, at(50))
        .await
        .unwrap()
        .unwrap();
    assert!(c.admission.is_none());
    assert!(beds::unbind_device(&store, w.device, at(60)).await.unwrap());
    assert!(
        context::of_device(&store, w.device, at(70))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn many_devices_contexts_come_from_one_read_each_with_its_own_bed_stay_values_and_score() {
    use docde_store::ward::{context, news2};
    let store = fresh_store().await;
    let w = ward(&store).await;
    let (ann, bo) = (
        user(&store, Role::Patient, None).await,
        user(&store, Role::Patient, None).await,
    );
    let second = bound_device(&store, w.hospital, w.bed_b).await;
    let unbound = bound_device(&store, w.hospital, w.bed_b).await;
    assert!(beds::unbind_device(&store, unbound, at(1)).await.unwrap());
    let ann_stay = admit(&store, ann, w.bed_a, at(10)).await;
    admit(&store, bo, w.bed_b, at(10)).await;
    samples::ingest_batch(&store, w.device, &[heart_rate(88.0, at(20))], at(22))
        .await
        .unwrap();
    samples::ingest_batch(
        &store,
        second,
        &[temperature(38.4, at(21)), heart_rate(101.0, at(21))],
        at(22),
    )
    .await
    .unwrap();
    // Ann's score was announced once; Bo's never.
    let score = news2::Score {
        ward_id: w.ward,
        patient_id: ann,
        admission_id: ann_stay,
        total: 3,
        band: "low_medium",
        payload: serde_json::json!({}),
        scored_at: at(23),
    };
    assert!(
        news2::announce(&store, &score, None)
            .await
            .unwrap()
            .is_some()
    );

    let asked = [w.device, second, unbound, Uuid::now_v7()];
    let found = context::of_devices(&store, &asked, at(30)).await.unwrap();
    assert_eq!(
        found.len(),
        2,
        "the unbound and the unknown device have no context"
    );
    let a = &found[&w.device];
    assert_eq!(a.bed.id, w.bed_a);
    assert_eq!(a.admission.as_ref().map(|s| s.patient_id), Some(ann));
    let values = |c: &context::DeviceContext| {
        let mut v: Vec<(VitalKind, f64)> = c.latest.iter().map(|l| (l.kind, l.value)).collect();
        v.sort_by_key(|(k, _)| k.code());
        v
    };
    assert_eq!(values(a), vec![(VitalKind::HeartRate, 88.0)]);
    assert_eq!(a.announced, Some((3, "low_medium".to_owned())));
    let b = &found[&second];
    assert_eq!(b.bed.id, w.bed_b);
    assert_eq!(b.admission.as_ref().map(|s| s.patient_id), Some(bo));
    let mut expected = vec![
        (VitalKind::HeartRate, 101.0),
        (VitalKind::BodyTemperature, 38.4),
    ];
    expected.sort_by_key(|(k, _)| k.code());
    assert_eq!(values(b), expected);
    assert_eq!(b.announced, None);
    // The same as each device read alone.
    let alone = context::of_device(&store, second, at(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(values(&alone), values(b));

    // An unchanged score, told what is stored, writes nothing; a changed one is announced.
    let stored = a.announced.as_ref().map(|(t, b)| (*t, b.as_str()));
    assert!(
        news2::announce(&store, &score, stored)
            .await
            .unwrap()
            .is_none()
    );
    let worse = news2::Score {
        total: 5,
        band: "medium",
        ..score.clone()
    };
    assert!(
        news2::announce(&store, &worse, stored)
            .await
            .unwrap()
            .is_some()
    );
    let again = context::of_devices(&store, &[w.device], at(31))
        .await
        .unwrap();
    assert_eq!(again[&w.device].announced, Some((5, "medium".to_owned())));
}

#[tokio::test]
async fn a_devices_context_carries_the_wards_and_the_stays_threshold_overrides_as_stored_now() {
    use docde_domain::ward::alarm::ThresholdOverrides;
    use docde_store::ward::{context, thresholds};
    let store = fresh_store().await;
    let w = ward(&store).await;
    let (ann, bo) = (
        user(&store, Role::Patient, None).await,
        user(&store, Role::Patient, None).await,
    );
    let second = bound_device(&store, w.hospital, w.bed_b).await;
    let ann_stay = admit(&store, ann, w.bed_a, at(10)).await;
    admit(&store, bo, w.bed_b, at(10)).await;
    let none = context::of_devices(&store, &[w.device, second], at(20))
        .await
        .unwrap();
    assert_eq!(
        none[&w.device].ward_overrides,
        ThresholdOverrides::default()
    );
    assert_eq!(
        none[&w.device].patient_overrides,
        ThresholdOverrides::default()
    );

    let ward_set = ThresholdOverrides {
        fever_c: Some(37.8),
        ..Default::default()
    };
    let ann_set = ThresholdOverrides {
        tachycardia_per_min: Some(120.0),
        ..Default::default()
    };
    thresholds::set_ward(&store, w.ward, &ward_set, None, at(21))
        .await
        .unwrap();
    thresholds::set_admission(&store, ann_stay, &ann_set, None, at(21))
        .await
        .unwrap();
    // The next read sees both writes: there is no cache in between.
    let found = context::of_devices(&store, &[w.device, second], at(22))
        .await
        .unwrap();
    let (a, b) = (&found[&w.device], &found[&second]);
    assert_eq!(
        (&a.ward_overrides, &a.patient_overrides),
        (&ward_set, &ann_set)
    );
    assert_eq!(b.ward_overrides, ward_set, "the same ward");
    assert_eq!(
        b.patient_overrides,
        ThresholdOverrides::default(),
        "Bo has none"
    );
}

#[tokio::test]
async fn scores_handed_to_the_announcer_together_are_stored_and_announced_each_once_in_order() {
    use docde_store::ward::news2::{Announcer, Score};
    let store = fresh_store().await;
    let w = ward(&store).await;
    let (ann, bo) = (
        user(&store, Role::Patient, None).await,
        user(&store, Role::Patient, None).await,
    );
    let ann_stay = admit(&store, ann, w.bed_a, at(10)).await;
    let bo_stay = admit(&store, bo, w.bed_b, at(10)).await;
    let score = |patient, admission, total: u8, band: &'static str, t: i64| Score {
        ward_id: w.ward,
        patient_id: patient,
        admission_id: admission,
        total,
        band,
        payload: serde_json::json!({ "total": total }),
        scored_at: at(t),
    };
    let (announcer, _) = Announcer::spawn(store.clone());
    let after = events::latest_id(&store, w.ward).await.unwrap();
    // Handed in at once: Ann's first score, then a worse one; Bo's first; Bo's again, equal to
    // what he is about to have stored (so it changes nothing in the group's order).
    let (a1, a2, b1, b2) = tokio::join!(
        announcer.announce(score(ann, ann_stay, 1, "low", 20), None),
        announcer.announce(score(ann, ann_stay, 5, "medium", 21), None),
        announcer.announce(score(bo, bo_stay, 0, "low", 20), None),
        announcer.announce(score(bo, bo_stay, 0, "low", 22), None),
    );
    let ids = [a1.unwrap(), a2.unwrap(), b1.unwrap(), b2.unwrap()];
    assert!(ids[0].is_some() && ids[1].is_some() && ids[2].is_some());
    assert_eq!(ids[3], None, "Bo's unchanged score is not announced again");
    let logged = events::events_after(&store, w.ward, after, 100)
        .await
        .unwrap();
    let news: Vec<(Option<Uuid>, String)> = logged
        .iter()
        .filter(|e| e.kind == EventKind::News2)
        .map(|e| (e.patient_id, e.payload.clone()))
        .collect();
    assert_eq!(news.len(), 3, "{news:?}");
    assert_eq!(
        news.iter()
            .filter(|(p, _)| *p == Some(ann))
            .map(|(_, p)| p.as_str())
            .collect::<Vec<_>>(),
        [r#"{"total":1}"#, r#"{"total":5}"#],
        "Ann's changes in the order they were scored"
    );
    // What is stored is the latest: told so, the announcer writes nothing.
    assert_eq!(
        announcer
            .announce(score(ann, ann_stay, 5, "medium", 23), Some((5, "medium")))
            .await
            .unwrap(),
        None
    );
    // An older score that arrives late is dropped, as with one score at a time.
    assert_eq!(
        announcer
            .announce(score(ann, ann_stay, 2, "low", 15), None)
            .await
            .unwrap(),
        None
    );
}
