//! The ward invariants, checked against the database itself (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`): idempotent ingest, samples attributed by measurement time, one open
//! alarm per kind, the alarm state machine, exclusive escalation claims and ordered replay.

mod common;

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::account::Role;
use docde_domain::ward::alarm::{AlarmKind, AlarmStatus, EscalationLevel, Priority};
use docde_domain::ward::medication::MedicationStatus;
use docde_domain::ward::{BedLabel, Sample, SampleValue, VitalKind};
use docde_store::accounts::devices::{self, NewDevice};
use docde_store::accounts::hospitals::{create_hospital, create_ward};
use docde_store::accounts::users::{self, NewUser};
use docde_store::ward::admissions::{self, NewAdmission};
use docde_store::ward::alarms::{self, NewAlarm, Raised};
use docde_store::ward::beds;
use docde_store::ward::events::{self, EventKind};
use docde_store::ward::medication::{self, ResetScope};
use docde_store::ward::samples::{self, Stored, Subject};
use docde_store::ward::{SampleWriter, WardConflict, WardError};
use docde_store::{Store, with_writer};
use uuid::Uuid;

use common::fresh_store;

struct Ward {
    hospital: Uuid,
    ward: Uuid,
    bed_a: Uuid,
    bed_b: Uuid,
    device: Uuid,
    nurse: Uuid,
}

/// 2030-01-01T00:00:00Z: a fixed, whole-minute origin for sample times.
fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_893_456_000, 0).unwrap()
}

fn at(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

async fn user(store: &Store, role: Role, hospital: Option<Uuid>) -> Uuid {
    let id = Uuid::now_v7();
    let email = format!("{id}@example.test");
    let user = NewUser {
        email: email.clone(),
        email_key: email,
        password_hash: None,
        role,
        hospital_id: hospital,
        employee_number: None,
        name: "사용자".into(),
        phone: None,
        birth_date: None,
        gender: None,
        address: None,
        active: true,
    };
    users::create(store, id, &user, None, None, Utc::now())
        .await
        .unwrap();
    id
}

async fn ward(store: &Store) -> Ward {
    let hospital = create_hospital(store, "격리병원", "Asia/Seoul", t0())
        .await
        .unwrap()
        .id;
    let ward = create_ward(store, hospital, "음압격리병동", t0())
        .await
        .unwrap()
        .id;
    assert!(
        beds::set_isolation(store, ward, Some(beds::Isolation::NegativePressure))
            .await
            .unwrap()
    );
    let bed_a = beds::add_bed(store, ward, &BedLabel::parse("101-1").unwrap(), t0())
        .await
        .unwrap()
        .id;
    let bed_b = beds::add_bed(store, ward, &BedLabel::parse("101-2").unwrap(), t0())
        .await
        .unwrap()
        .id;
    let device = bound_device(store, hospital, bed_a).await;
    let nurse = user(store, Role::Nurse, Some(hospital)).await;
    Ward {
        hospital,
        ward,
        bed_a,
        bed_b,
        device,
        nurse,
    }
}

async fn admit(store: &Store, patient: Uuid, bed: Uuid, when: DateTime<Utc>) -> Uuid {
    let new = NewAdmission {
        patient_id: patient,
        bed_id: bed,
        urgency: 1,
        notes: String::new(),
        now: when,
    };
    admissions::admit(store, &new).await.unwrap().0.id
}

fn temperature(celsius: f64, when: DateTime<Utc>) -> Sample {
    Sample::new(
        VitalKind::BodyTemperature,
        SampleValue::Number(celsius),
        when,
    )
    .unwrap()
}

fn heart_rate(bpm: f64, when: DateTime<Utc>) -> Sample {
    Sample::new(VitalKind::HeartRate, SampleValue::Number(bpm), when).unwrap()
}

fn alarm(bed: Uuid, admission: Option<Uuid>, kind: AlarmKind, due: Option<i64>) -> NewAlarm {
    NewAlarm {
        bed_id: bed,
        admission_id: admission,
        device_id: None,
        kind,
        priority: kind.priority(),
        value: Some(38.6),
        raised_at: at(100),
        next_escalation_at: due.map(at),
    }
}

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
async fn a_bed_holds_one_open_admission_and_a_patient_one_bed() {
    let store = fresh_store().await;
    let w = ward(&store).await;
    let (p, q) = (
        user(&store, Role::Patient, None).await,
        user(&store, Role::Patient, None).await,
    );
    let stay = admit(&store, p, w.bed_a, at(0)).await;
    let new = |patient, bed| NewAdmission {
        patient_id: patient,
        bed_id: bed,
        urgency: 0,
        notes: String::new(),
        now: at(10),
    };
    let err = admissions::admit(&store, &new(q, w.bed_a))
        .await
        .unwrap_err();
    assert!(
        matches!(err, WardError::Conflict(WardConflict::BedOccupied)),
        "{err:?}"
    );
    let err = admissions::admit(&store, &new(p, w.bed_b))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            WardError::Conflict(WardConflict::PatientAlreadyAdmitted)
        ),
        "{err:?}"
    );
    let err = beds::add_bed(&store, w.ward, &BedLabel::parse("101-1").unwrap(), at(0))
        .await
        .unwrap_err();
    assert!(
        matches!(err, WardError::Conflict(WardConflict::BedLabelTaken)),
        "{err:?}"
    );

    admissions::discharge(&store, stay, at(20)).await.unwrap();
    let err = admissions::discharge(&store, stay, at(30))
        .await
        .unwrap_err();
    assert!(
        matches!(err, WardError::Conflict(WardConflict::AdmissionClosed)),
        "{err:?}"
    );
    admissions::admit(&store, &new(q, w.bed_a)).await.unwrap();
}

#[tokio::test]
async fn concurrent_raises_of_one_kind_leave_exactly_one_open_alarm() {
    let store = fresh_store().await;
    let w = ward(&store).await;
    let patient = user(&store, Role::Patient, None).await;
    let stay = admit(&store, patient, w.bed_a, at(0)).await;

    let raises = (0..16).map(|_| {
        let store = (*store).clone();
        let new = alarm(w.bed_a, Some(stay), AlarmKind::Fever, Some(400));
        tokio::spawn(async move { alarms::raise(&store, &new).await })
    });
    let mut new = 0;
    let mut ids = HashSet::new();
    for raised in raises {
        let raised = raised.await.unwrap().unwrap();
        if matches!(raised, Raised::New { .. }) {
            new += 1;
        }
        ids.insert(raised.alarm().id);
    }
    assert_eq!(new, 1, "exactly one raise created the alarm");
    assert_eq!(ids.len(), 1, "every raise was answered with that alarm");
    let open = alarms::open_for_ward(&store, w.ward).await.unwrap();
    assert_eq!(open.len(), 1);

    // A more severe raise of the same kind raises the open alarm's priority, not a second row.
    let mut worse = alarm(w.bed_a, Some(stay), AlarmKind::Fever, Some(160));
    worse.priority = Priority::High;
    let raised = alarms::raise(&store, &worse).await.unwrap();
    assert!(
        matches!(raised, Raised::PriorityRaised { .. }),
        "{raised:?}"
    );
    assert_eq!(raised.alarm().id, open[0].id);
    assert_eq!(raised.alarm().next_escalation_at, Some(at(160)));
    assert_eq!(
        alarms::open_for_ward(&store, w.ward).await.unwrap().len(),
        1
    );

    // Once resolved, the same kind may alarm again.
    alarms::resolve(&store, open[0].id, None, Some("condition cleared"), at(200))
        .await
        .unwrap();
    let again = alarms::raise(&store, &alarm(w.bed_a, Some(stay), AlarmKind::Fever, None))
        .await
        .unwrap();
    assert!(matches!(again, Raised::New { .. }));
}

#[tokio::test]
async fn the_alarm_lifecycle_refuses_illegal_transitions_even_from_raw_sql() {
    let store = fresh_store().await;
    let w = ward(&store).await;
    let raised = alarms::raise(
        &store,
        &alarm(w.bed_a, None, AlarmKind::NurseCall, Some(160)),
    )
    .await
    .unwrap();
    let alarm_id = raised.alarm().id;
    assert_eq!(
        raised.alarm().admission_id,
        None,
        "an empty bed alarms on the bed"
    );

    let (acked, _) = alarms::acknowledge(&store, alarm_id, w.nurse, Some("가는 중"), at(110))
        .await
        .unwrap();
    assert_eq!(acked.status, AlarmStatus::Acknowledged);
    assert_eq!(
        acked.next_escalation_at, None,
        "acknowledged alarms stop escalating"
    );
    let err = alarms::acknowledge(&store, alarm_id, w.nurse, None, at(111))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            WardError::Conflict(WardConflict::AlarmAlreadyAcknowledged)
        ),
        "{err:?}"
    );
    let err = alarms::resolve(&store, alarm_id, Some(w.nurse), Some("  "), at(120))
        .await
        .unwrap_err();
    assert!(
        matches!(err, WardError::Conflict(WardConflict::NoteRequired)),
        "{err:?}"
    );
    let (resolved, _) = alarms::resolve(
        &store,
        alarm_id,
        Some(w.nurse),
        Some("환자 확인, 물 제공"),
        at(120),
    )
    .await
    .unwrap();
    assert_eq!(resolved.status, AlarmStatus::Resolved);
    assert_eq!(
        resolved.resolution_note.as_deref(),
        Some("환자 확인, 물 제공")
    );
    let err = alarms::resolve(&store, alarm_id, Some(w.nurse), Some("again"), at(130))
        .await
        .unwrap_err();
    assert!(
        matches!(err, WardError::Conflict(WardConflict::AlarmAlreadyResolved)),
        "{err:?}"
    );

    // Whoever writes, the database refuses to reopen or rewrite a resolved alarm.
    for sql in [
        "UPDATE alarms SET status = 'active' WHERE id = $1",
        "UPDATE alarms SET status = 'acknowledged' WHERE id = $1",
        "UPDATE alarms SET resolution_note = 'edited' WHERE id = $1",
    ] {
        let result = with_writer!(store, pool => sqlx::query(sql).bind(alarm_id.to_string()).execute(pool).await.map(|_| ()));
        let err = docde_store::StoreError::from(result.unwrap_err());
        assert!(
            err.is_constraint("alarms_illegal_transition"),
            "{sql}: {err:?}"
        );
    }
    // And an acknowledged alarm cannot go back to active.
    let other = alarms::raise(&store, &alarm(w.bed_b, None, AlarmKind::NurseCall, None))
        .await
        .unwrap();
    alarms::acknowledge(&store, other.alarm().id, w.nurse, None, at(140))
        .await
        .unwrap();
    let result = with_writer!(store, pool => sqlx::query("UPDATE alarms SET status = 'active' WHERE id = $1")
        .bind(other.alarm().id.to_string())
        .execute(pool)
        .await
        .map(|_| ()));
    let err = docde_store::StoreError::from(result.unwrap_err());
    assert!(err.is_constraint("alarms_illegal_transition"), "{err:?}");
}

#[tokio::test]
async fn concurrent_escalation_claimers_never_get_the_same_alarm() {
    let store = fresh_store().await;
    let w = ward(&store).await;
    let kinds = [
        AlarmKind::LowSpo2,
        AlarmKind::Bradycardia,
        AlarmKind::Hypotension,
        AlarmKind::NurseCall,
        AlarmKind::IvBagEmpty,
        AlarmKind::News2High,
    ];
    for (bed, kind) in [w.bed_a, w.bed_b]
        .into_iter()
        .flat_map(|b| kinds.map(|k| (b, k)))
    {
        alarms::raise(&store, &alarm(bed, None, kind, Some(160)))
            .await
            .unwrap();
    }
    // Not yet due.
    let early = alarms::due_for_escalation(&store, at(159), TimeDelta::seconds(30), 100)
        .await
        .unwrap();
    assert!(early.is_empty());

    let claimers = (0..6).map(|_| {
        let store = (*store).clone();
        tokio::spawn(async move {
            alarms::due_for_escalation(&store, at(161), TimeDelta::seconds(30), 3).await
        })
    });
    let mut claimed = Vec::new();
    for c in claimers {
        claimed.extend(c.await.unwrap().unwrap());
    }
    let ids: HashSet<Uuid> = claimed.iter().map(|c| c.alarm.id).collect();
    assert_eq!(ids.len(), claimed.len(), "no alarm was handed out twice");
    assert_eq!(claimed.len(), 12, "all twelve due alarms were claimed");

    // While the leases hold nobody else gets them; the holder escalates with its token.
    let again = alarms::due_for_escalation(&store, at(170), TimeDelta::seconds(30), 100)
        .await
        .unwrap();
    assert!(again.is_empty());
    let claim = &claimed[0];
    let (escalated, _) = alarms::escalate(
        &store,
        claim,
        EscalationLevel::CHARGE_NURSE,
        Some(at(280)),
        at(171),
        false,
    )
    .await
    .unwrap();
    assert_eq!(escalated.escalation_level, EscalationLevel::CHARGE_NURSE);
    assert_eq!(escalated.next_escalation_at, Some(at(280)));
    let err = alarms::escalate(&store, claim, EscalationLevel(2), None, at(172), false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, WardError::Conflict(WardConflict::EscalationClaimLost)),
        "a spent token escalates nothing: {err:?}"
    );

    // A claimer that died: its lease runs out and another worker takes the alarm over; the
    // dead worker's token is then refused.
    let stale = &claimed[1];
    let retaken = alarms::due_for_escalation(&store, at(200), TimeDelta::seconds(30), 100)
        .await
        .unwrap();
    assert_eq!(retaken.len(), 11);
    let err = alarms::escalate(&store, stale, EscalationLevel(1), None, at(201), false)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        WardError::Conflict(WardConflict::EscalationClaimLost)
    ));
}

#[tokio::test]
async fn ward_events_replay_in_order_after_the_last_event_id() {
    let store = fresh_store().await;
    let w = ward(&store).await;
    let patient = user(&store, Role::Patient, None).await;
    let stay = admit(&store, patient, w.bed_a, at(0)).await;
    let all = events::events_after(&store, w.ward, 0, 100).await.unwrap();
    let seen = all.last().unwrap().id;

    let report = samples::ingest_batch(&store, w.device, &[temperature(38.7, at(90))], at(91))
        .await
        .unwrap();
    let raised = alarms::raise(&store, &alarm(w.bed_a, Some(stay), AlarmKind::Fever, None))
        .await
        .unwrap();
    let Raised::New { alarm, event_id } = raised else {
        panic!("expected a new alarm")
    };
    let (_, ack_event) = alarms::acknowledge(&store, alarm.id, w.nurse, None, at(120))
        .await
        .unwrap();

    let missed = events::events_after(&store, w.ward, seen, 100)
        .await
        .unwrap();
    let kinds: Vec<EventKind> = missed.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::Vitals, EventKind::Alarm, EventKind::AlarmUpdate]
    );
    let ids: Vec<i64> = missed.iter().map(|e| e.id).collect();
    assert_eq!(ids, [report.event_ids[0], event_id, ack_event]);
    assert!(ids.windows(2).all(|p| p[0] < p[1]));
    let payload: serde_json::Value = serde_json::from_str(&missed[1].payload).unwrap();
    assert_eq!(payload["kind"], "fever");
    assert_eq!(payload["alarm_id"], alarm.id.to_string());

    // Resuming from the middle replays only what came after; the patient's own stream too.
    let rest = events::events_after(&store, w.ward, event_id, 100)
        .await
        .unwrap();
    assert_eq!(rest.iter().map(|e| e.id).collect::<Vec<_>>(), [ack_event]);
    let mine = events::patient_events_after(&store, patient, seen, 100)
        .await
        .unwrap();
    assert_eq!(mine.len(), 3);
    let other_ward = create_ward(&store, w.hospital, "일반병동", t0())
        .await
        .unwrap()
        .id;
    assert!(
        events::events_after(&store, other_ward, 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn medicine_is_delivered_once_per_round_and_a_round_resets_once() {
    let store = fresh_store().await;
    let w = ward(&store).await;
    let patient = user(&store, Role::Patient, None).await;
    let stay = admit(&store, patient, w.bed_a, at(0)).await;
    medication::add(&store, stay, "타이레놀", "500 mg", "QR-0001", at(1))
        .await
        .unwrap();
    let err = medication::add(&store, stay, "other", "1", "QR-0001", at(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, WardError::Conflict(WardConflict::QrCodeTaken)),
        "{err:?}"
    );

    let robot = Uuid::now_v7();
    let elsewhere = medication::deliver(&store, Uuid::now_v7(), "QR-0001", robot, at(9))
        .await
        .unwrap_err();
    assert!(
        matches!(elsewhere, WardError::NotFound(_)),
        "another hospital's robot finds no such code"
    );
    let (delivered, _) = medication::deliver(&store, w.hospital, "QR-0001", robot, at(10))
        .await
        .unwrap();
    assert_eq!(delivered.status, MedicationStatus::Done);
    let err = medication::deliver(&store, w.hospital, "QR-0001", robot, at(11))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        WardError::Conflict(WardConflict::AlreadyDelivered)
    ));

    let round = at(3600);
    let scope = ResetScope::Hospital(w.hospital);
    assert_eq!(
        medication::reset(&store, scope, round, round)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        medication::reset(&store, scope, round, round)
            .await
            .unwrap(),
        0,
        "a second scheduler instance finds the round done"
    );
    let plan = medication::of_admission(&store, stay).await.unwrap();
    assert_eq!(plan[0].status, MedicationStatus::ToDo);
    assert_eq!(plan[0].delivered_at, None);
    medication::deliver(&store, w.hospital, "QR-0001", robot, at(3700))
        .await
        .unwrap();
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

/// A new bedside monitor of `hospital`, bound to `bed` since t0.
async fn bound_device(store: &Store, hospital: Uuid, bed: Uuid) -> Uuid {
    let device = devices::create(
        store,
        &NewDevice {
            hospital_id: hospital,
            ward_id: None,
            name: "bedside monitor".into(),
            kind: "bedside_monitor".into(),
            secret_hash: "x".into(),
        },
        t0(),
    )
    .await
    .unwrap()
    .id;
    beds::bind_device(store, device, bed, t0()).await.unwrap();
    device
}

fn battery(percent: f64, when: DateTime<Utc>) -> Sample {
    Sample::new(VitalKind::Battery, SampleValue::Number(percent), when).unwrap()
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
