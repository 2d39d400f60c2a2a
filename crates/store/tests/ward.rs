//! The ward's care invariants, checked against the database itself (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`): one open admission per bed and per patient, one open alarm per kind,
//! the alarm state machine (also against raw SQL), exclusive escalation claims, ordered event
//! replay and once-per-round medication delivery.
//!
//! Vital-sign ingest is checked in `ward_ingest.rs`; the fixtures both share are in
//! `common/ward.rs`.

mod common;
#[path = "common/ward.rs"]
mod fixtures;

use std::collections::HashSet;

use chrono::TimeDelta;
use docde_domain::account::Role;
use docde_domain::ward::BedLabel;
use docde_domain::ward::alarm::{AlarmKind, AlarmStatus, EscalationLevel, Priority};
use docde_domain::ward::medication::MedicationStatus;
use docde_store::accounts::hospitals::create_ward;
use docde_store::ward::admissions::{self, NewAdmission};
use docde_store::ward::alarms::{self, Raised};
use docde_store::ward::beds;
use docde_store::ward::events::{self, EventKind};
use docde_store::ward::medication::{self, ResetScope};
use docde_store::ward::samples;
use docde_store::ward::{WardConflict, WardError};
use docde_store::with_writer;
use uuid::Uuid;

use common::fresh_store;
use fixtures::{admit, alarm, at, t0, temperature, user, ward};

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
