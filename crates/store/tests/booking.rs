//! The booking invariants, checked against the database itself (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`): they must hold whatever the callers do. How the writer books a batch
//! (set by set, or one by one when the set cannot stand) is checked in `booking_batch.rs`; the
//! fixtures both share are in `common/booking.rs`.

mod common;
#[path = "common/booking.rs"]
mod fixtures;

use chrono::Utc;
use docde_store::booking::{
    self, BookOutcome, BookingConflict, BookingError, BookingWriter, Transition,
};
use uuid::Uuid;

use common::fresh_store;
use fixtures::{T0, booking, clinic, conflict, futures_join, patient};

#[tokio::test]
async fn hundreds_of_concurrent_bookings_of_one_seat_have_exactly_one_winner() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let mut patients = Vec::new();
    for _ in 0..200 {
        patients.push(patient(&store).await);
    }
    // Two writers' handles, as two instances would have: within one, a doctor's bookings all
    // go to one writer, so the race between batches is across them.
    let writers = [
        BookingWriter::spawn(store.clone(), 2).0,
        BookingWriter::spawn(store.clone(), 2).0,
    ];
    let attempts = patients.iter().enumerate().map(|(i, p)| {
        let writer = writers[i % 2].clone();
        let new = booking(&c, c.doctor, *p, T0, 1);
        tokio::spawn(async move { writer.book(new).await })
    });
    let results = futures_join(attempts).await;
    let winners = results.iter().filter(|r| r.is_ok()).count();
    let full = results
        .iter()
        .filter(|r| matches!(r, Err(BookingError::Conflict(BookingConflict::SlotFull))))
        .count();
    assert_eq!((winners, full), (1, 199), "{results:?}");
    assert!(booking::seats::violations(&store).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_slot_with_three_seats_takes_three_bookings_and_refuses_the_fourth() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    for _ in 0..3 {
        let p = patient(&store).await;
        booking::appointments::book_now(&store, &booking(&c, c.doctor, p, T0, 3))
            .await
            .unwrap();
    }
    let p = patient(&store).await;
    let refused = booking::appointments::book_now(&store, &booking(&c, c.doctor, p, T0, 3)).await;
    assert_eq!(conflict(refused), BookingConflict::SlotFull);
}

#[tokio::test]
async fn a_patient_cannot_hold_two_overlapping_appointments_even_with_different_doctors() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let p = patient(&store).await;
    booking::appointments::book_now(&store, &booking(&c, c.doctor, p, T0, 1))
        .await
        .unwrap();
    // Starts five minutes into the first one, with another doctor.
    let overlapping = booking(&c, c.other_doctor, p, T0 + 300, 1);
    let refused = booking::appointments::book_now(&store, &overlapping).await;
    assert_eq!(conflict(refused), BookingConflict::PatientOverlap);
    // The refused booking gave its seat back: someone else can take it.
    let q = patient(&store).await;
    booking::appointments::book_now(&store, &booking(&c, c.other_doctor, q, T0 + 300, 1))
        .await
        .unwrap();
    // Back to back is not an overlap.
    booking::appointments::book_now(&store, &booking(&c, c.other_doctor, p, T0 + 600, 1))
        .await
        .unwrap();
    assert_eq!(booking::seats::patient_overlaps(&store).await.unwrap(), 0);
}

#[tokio::test]
async fn the_database_refuses_illegal_status_transitions() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let p = patient(&store).await;
    let new = booking(&c, c.doctor, p, T0, 1);
    booking::appointments::book_now(&store, &new).await.unwrap();
    let step = |from: &str, to: &'static str| Transition {
        appointment_id: new.id,
        from: from.into(),
        to,
        reason: None,
        by: p,
        frees_seat: false,
        now: Utc::now(),
        email: None,
    };
    // booked → completed skips the check-in.
    let refused = booking::appointments::transition(&store, &step("booked", "completed")).await;
    assert!(
        matches!(
            refused,
            Err(BookingError::Conflict(BookingConflict::IllegalTransition))
        ),
        "{refused:?}"
    );
    booking::appointments::transition(&store, &step("booked", "checked_in"))
        .await
        .unwrap();
    // A caller that read an old status does not overwrite the newer one.
    let stale = booking::appointments::transition(&store, &step("booked", "cancelled")).await;
    assert!(matches!(
        stale,
        Err(BookingError::Conflict(BookingConflict::Stale))
    ));
    booking::appointments::transition(&store, &step("checked_in", "completed"))
        .await
        .unwrap();
    let back = booking::appointments::transition(&store, &step("completed", "booked")).await;
    assert!(matches!(
        back,
        Err(BookingError::Conflict(BookingConflict::IllegalTransition))
    ));
}

#[tokio::test]
async fn cancelling_frees_the_seat_in_the_same_commit() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let (p, q) = (patient(&store).await, patient(&store).await);
    let first = booking(&c, c.doctor, p, T0, 1);
    booking::appointments::book_now(&store, &first)
        .await
        .unwrap();
    let cancel = Transition {
        appointment_id: first.id,
        from: "booked".into(),
        to: "cancelled",
        reason: Some("일정 변경".into()),
        by: p,
        frees_seat: true,
        now: Utc::now(),
        email: None,
    };
    booking::appointments::transition(&store, &cancel)
        .await
        .unwrap();
    booking::appointments::book_now(&store, &booking(&c, c.doctor, q, T0, 1))
        .await
        .unwrap();
    assert!(booking::seats::violations(&store).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_reschedule_keeps_the_old_appointment_and_a_good_one_moves_it() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let (p, q) = (patient(&store).await, patient(&store).await);
    let mine = booking(&c, c.doctor, p, T0, 1);
    booking::appointments::book_now(&store, &mine)
        .await
        .unwrap();
    booking::appointments::book_now(&store, &booking(&c, c.doctor, q, T0 + 3600, 1))
        .await
        .unwrap();
    let cancel = Transition {
        appointment_id: mine.id,
        from: "booked".into(),
        to: "cancelled",
        reason: Some("rescheduled".into()),
        by: p,
        frees_seat: true,
        now: Utc::now(),
        email: None,
    };
    let mut target = booking(&c, c.doctor, p, T0 + 3600, 1);
    target.rescheduled_from = Some(mine.id);
    let refused = booking::appointments::reschedule(&store, &cancel, &target).await;
    assert!(matches!(
        refused,
        Err(BookingError::Conflict(BookingConflict::SlotFull))
    ));
    let kept = booking::appointments::get(&store, mine.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.status, "booked");

    // A slot overlapping the old one is fine: the old seat is released first.
    let mut overlapping = booking(&c, c.doctor, p, T0 + 300, 1);
    overlapping.rescheduled_from = Some(mine.id);
    let (old, _, new) = booking::appointments::reschedule(&store, &cancel, &overlapping)
        .await
        .unwrap();
    assert_eq!(old.status, "cancelled");
    assert_eq!(new.appointment().rescheduled_from, Some(mine.id));
    assert!(booking::seats::violations(&store).await.unwrap().is_empty());
    assert_eq!(booking::seats::patient_overlaps(&store).await.unwrap(), 0);
}

#[tokio::test]
async fn a_retried_booking_with_the_same_key_returns_the_first_appointment() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let p = patient(&store).await;
    let (writer, _) = BookingWriter::spawn(store.clone(), 1);
    let mut first = booking(&c, c.doctor, p, T0, 1);
    first.idempotency_key = Some("key-1".into());
    first.request_hash = Some("hash-a".into());
    let mut retry = first.clone();
    retry.id = Uuid::now_v7();
    let made = writer.book(first.clone()).await.unwrap();
    let again = writer.book(retry.clone()).await.unwrap();
    assert!(matches!(made, BookOutcome::Created { .. }));
    assert_eq!(again, BookOutcome::Replayed(made.appointment().clone()));
    let mut other = retry;
    other.request_hash = Some("hash-b".into());
    assert_eq!(
        conflict(writer.book(other).await),
        BookingConflict::IdempotencyKeyReused
    );
}
