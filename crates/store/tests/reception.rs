//! The reception invariants, checked against the database itself (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`): numbers gapless and unique under concurrency, one active visit per
//! patient and day, only legal transitions, call-next handing each visit to one caller.

mod common;

use chrono::{NaiveDate, Utc};
use docde_store::Store;
use docde_store::accounts::hospitals::create_hospital;
use docde_store::reception::visits::{self, CallNext};
use docde_store::reception::{NewVisit, ReceptionConflict, ReceptionError, VisitChange};
use uuid::Uuid;

use common::{fresh_store, patient};

const IM: &str = "internal_medicine";

fn visit(hospital: Uuid, patient: Uuid, day: NaiveDate) -> NewVisit {
    NewVisit {
        id: Uuid::now_v7(),
        hospital_id: hospital,
        department: IM.into(),
        day,
        patient_id: patient,
        doctor_id: None,
        appointment: None,
        by: patient,
        idempotency_key: None,
        now: Utc::now(),
    }
}

#[tokio::test]
async fn concurrent_check_ins_take_numbers_one_to_n_and_a_refused_one_takes_none() {
    let store = fresh_store().await;
    let hospital = create_hospital(&store, "접수병원", "Asia/Seoul", Utc::now())
        .await
        .unwrap()
        .id;
    let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut patients = Vec::new();
    for _ in 0..40 {
        patients.push(patient(&store).await);
    }
    let all = patients.iter().map(|p| {
        let store: Store = (*store).clone();
        let new = visit(hospital, *p, day);
        async move { visits::check_in(&store, &new).await.unwrap().visit.number }
    });
    let mut numbers = join_all(all).await;
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=40).collect::<Vec<i64>>());
    // The same patient again the same day: refused, and the number is given back.
    let again = visits::check_in(&store, &visit(hospital, patients[0], day)).await;
    assert!(matches!(
        again,
        Err(ReceptionError::Conflict(
            ReceptionConflict::AlreadyCheckedIn
        ))
    ));
    let next = patient(&store).await;
    assert_eq!(
        visits::check_in(&store, &visit(hospital, next, day))
            .await
            .unwrap()
            .visit
            .number,
        41
    );
    // The next day starts at 1, and yesterday's visit does not block.
    let tomorrow = day.succ_opt().unwrap();
    let v = visits::check_in(&store, &visit(hospital, patients[0], tomorrow))
        .await
        .unwrap();
    assert_eq!(v.visit.number, 1);
}

#[tokio::test]
async fn call_next_hands_each_visit_to_one_caller_and_illegal_steps_are_refused() {
    let store = fresh_store().await;
    let hospital = create_hospital(&store, "접수병원", "Asia/Seoul", Utc::now())
        .await
        .unwrap()
        .id;
    let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    for _ in 0..20 {
        let p = patient(&store).await;
        visits::check_in(&store, &visit(hospital, p, day))
            .await
            .unwrap();
    }
    let by = patient(&store).await;
    let calls = (0..25).map(|_| {
        let store: Store = (*store).clone();
        let call = CallNext {
            hospital_id: hospital,
            department: IM.into(),
            day,
            doctor_id: None,
            by,
            now: Utc::now(),
        };
        async move {
            visits::call_next(&store, &call)
                .await
                .unwrap()
                .map(|(v, _)| v)
        }
    });
    let called: Vec<_> = join_all(calls).await.into_iter().flatten().collect();
    let mut ids: Vec<Uuid> = called.iter().map(|v| v.id).collect();
    ids.sort();
    ids.dedup();
    // Under PostgreSQL a skipped candidate can leave a caller empty-handed; never doubled.
    assert_eq!(ids.len(), called.len(), "no visit called twice");
    assert!(called.len() >= 20 - 5 && called.len() <= 20);

    // The trigger refuses what the domain refuses, even for a caller that skips the check.
    let v = &called[0];
    let skip_consultation = VisitChange {
        visit_id: v.id,
        from: "called".into(),
        calls: v.calls,
        to: "completed",
        count_call: false,
        doctor_id: None,
        by,
        now: Utc::now(),
    };
    let refused = visits::change(&store, &skip_consultation).await;
    assert!(
        matches!(
            refused,
            Err(ReceptionError::Conflict(
                ReceptionConflict::IllegalTransition
            ))
        ),
        "{refused:?}"
    );
    // A change based on a stale view is refused, not applied.
    let stale = VisitChange {
        from: "waiting".into(),
        to: "cancelled",
        ..skip_consultation
    };
    let refused = visits::change(&store, &stale).await;
    assert!(
        matches!(
            refused,
            Err(ReceptionError::Conflict(ReceptionConflict::Stale))
        ),
        "{refused:?}"
    );
}

/// Runs every future on its own task (so they really race) and collects the results in order.
async fn join_all<T: Send + 'static>(
    futures: impl Iterator<Item = impl std::future::Future<Output = T> + Send + 'static>,
) -> Vec<T> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
