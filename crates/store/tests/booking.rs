//! The booking invariants, checked against the database itself (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`): they must hold whatever the callers do.

mod common;

use chrono::Utc;
use docde_domain::account::Role;
use docde_store::Store;
use docde_store::accounts::hospitals::create_hospital;
use docde_store::accounts::users::{self, NewUser};
use docde_store::booking::{
    self, BookOutcome, BookingConflict, BookingError, BookingWriter, NewAppointment, Transition,
};
use docde_store::directory;
use uuid::Uuid;

use common::fresh_store;

struct Clinic {
    hospital: Uuid,
    doctor: Uuid,
    other_doctor: Uuid,
}

async fn clinic(store: &Store) -> Clinic {
    let hospital = create_hospital(store, "예약병원", "Asia/Seoul", Utc::now())
        .await
        .unwrap()
        .id;
    let facts = common::internist(None);
    let (doctor, other_doctor) = (Uuid::now_v7(), Uuid::now_v7());
    for d in [doctor, other_doctor] {
        directory::put_doctor(store, d, hospital, &facts, Utc::now())
            .await
            .unwrap();
    }
    Clinic {
        hospital,
        doctor,
        other_doctor,
    }
}

async fn patient(store: &Store) -> Uuid {
    let id = Uuid::now_v7();
    let email = format!("{id}@example.test");
    let user = NewUser {
        email: email.clone(),
        email_key: email,
        password_hash: None,
        role: Role::Patient,
        hospital_id: None,
        employee_number: None,
        name: "환자".into(),
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

const T0: i64 = 1_900_000_000;

fn booking(c: &Clinic, doctor: Uuid, patient: Uuid, start: i64, capacity: u16) -> NewAppointment {
    NewAppointment {
        id: Uuid::now_v7(),
        hospital_id: c.hospital,
        doctor_id: doctor,
        patient_id: patient,
        starts_at: start,
        ends_at: start + 600,
        capacity,
        status: "booked",
        reason: "두통".into(),
        idempotency_key: None,
        request_hash: None,
        rescheduled_from: None,
        now: Utc::now(),
        email: None,
    }
}

fn conflict(result: Result<BookOutcome, BookingError>) -> BookingConflict {
    match result {
        Err(BookingError::Conflict(c)) => c,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

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

async fn futures_join<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
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

/// A batch holding a key used before cannot be decided set by set: it is booked one by one,
/// which answers the retry with its first appointment, and the writer counts it.
#[tokio::test]
async fn a_batch_with_a_retried_key_is_booked_one_by_one_and_counted() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let (p, q) = (patient(&store).await, patient(&store).await);
    let (writer, _) = BookingWriter::spawn(store.clone(), 1);
    let mut first = booking(&c, c.doctor, p, T0, 1);
    first.idempotency_key = Some("key-1".into());
    first.request_hash = Some("hash-a".into());
    let made = writer.book(first.clone()).await.unwrap();
    assert_eq!(writer.one_by_one(), 0);
    let mut retry = first;
    retry.id = Uuid::now_v7();
    let other = booking(&c, c.doctor, q, T0 + 600, 1);
    // Both must reach the writer in one batch. On PostgreSQL the writer runs on this
    // single-threaded test runtime, so both queue before it runs. On SQLite it runs on a
    // thread of its own and could take the first alone: there it is kept busy with a batch
    // of its own, blocked on the database's write lock, while both queue behind it.
    let held = match store.backend() {
        docde_store::Backend::Sqlite { checkpointer, .. } => {
            let r = patient(&store).await;
            let mut lock = checkpointer.acquire().await.unwrap();
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut *lock)
                .await
                .unwrap();
            let blocker = booking(&c, c.doctor, r, T0 + 1200, 1);
            let busy = writer.clone();
            let blocked = tokio::spawn(async move { busy.book(blocker).await });
            // The writer takes the blocker at once and waits for the lock (up to 5 s).
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            Some((lock, blocked))
        }
        docde_store::Backend::Postgres(_) => None,
    };
    let handles: Vec<_> = [retry, other]
        .into_iter()
        .map(|n| {
            let writer = writer.clone();
            tokio::spawn(async move { writer.book(n).await })
        })
        .collect();
    if let Some((mut lock, blocked)) = held {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        sqlx::query("COMMIT").execute(&mut *lock).await.unwrap();
        drop(lock);
        assert!(matches!(
            blocked.await.unwrap(),
            Ok(BookOutcome::Created { .. })
        ));
    }
    let results = futures_join(handles.into_iter()).await;
    assert_eq!(
        results[0].as_ref().unwrap(),
        &BookOutcome::Replayed(made.appointment().clone())
    );
    assert!(matches!(results[1], Ok(BookOutcome::Created { .. })));
    assert_eq!(writer.one_by_one(), 2);
}

#[tokio::test]
async fn a_batched_key_check_finds_exactly_the_pairs_that_booked() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let (p, q) = (patient(&store).await, patient(&store).await);
    let (writer, _) = BookingWriter::spawn(store.clone(), 1);
    let mut keyed = booking(&c, c.doctor, p, T0, 1);
    keyed.idempotency_key = Some("key-1".into());
    keyed.request_hash = Some("hash-a".into());
    writer.book(keyed).await.unwrap();
    // The same key string from another patient, and a quote in a key, are other pairs.
    let asked = [
        (p, "key-1".to_owned()),
        (p, "key-2".to_owned()),
        (q, "key-1".to_owned()),
        (q, "k\"'1".to_owned()),
    ];
    let used = booking::appointments::keys_used_among(&store, &asked)
        .await
        .unwrap();
    assert_eq!(used, [(p, "key-1".to_owned())].into_iter().collect());
    let none = booking::appointments::keys_used_among(&store, &asked[1..])
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn one_batch_keeps_its_winners_when_a_neighbour_loses() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let (writer, _) = BookingWriter::spawn(store.clone(), 1);
    let mut handles = Vec::new();
    for i in 0..50 {
        let p = patient(&store).await;
        // Pairs of patients race for each of 25 slots.
        let new = booking(&c, c.doctor, p, T0 + (i / 2) * 600, 1);
        let writer = writer.clone();
        handles.push(tokio::spawn(async move { writer.book(new).await }));
    }
    let results = futures_join(handles.into_iter()).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 25);
    let listed = booking::appointments::list(
        &store,
        booking::appointments::Owner::Doctor(c.doctor),
        T0,
        T0 + 86_400,
        None,
        100,
    )
    .await
    .unwrap();
    assert_eq!(listed.len(), 25);
    assert!(booking::seats::violations(&store).await.unwrap().is_empty());
}

/// What one booking came to, without its ids (which differ between two runs).
#[derive(Debug, PartialEq, Eq)]
enum Came {
    Seat(u16),
    Conflict(BookingConflict),
}

fn came(result: &Result<BookOutcome, BookingError>) -> Came {
    match result {
        Ok(BookOutcome::Created { seats_taken, .. }) => Came::Seat(*seats_taken),
        Err(BookingError::Conflict(c)) => Came::Conflict(*c),
        other => panic!("unexpected {other:?}"),
    }
}

/// A batch booked set by set (`grouped`) answers each booking exactly as booking them one by
/// one does, and leaves the same rows: seats, appointments, events and letters.
#[tokio::test]
async fn a_batch_booked_as_a_set_answers_as_one_by_one_booking() {
    async fn run(
        store: &Store,
        all_at_once: bool,
    ) -> (Vec<Came>, Vec<Result<BookOutcome, BookingError>>, u64) {
        let c = clinic(store).await;
        let mut p = Vec::new();
        for _ in 0..6 {
            p.push(patient(store).await);
        }
        // p[3] already holds 10:30–10:40 with the other doctor.
        booking::appointments::book_now(store, &booking(&c, c.other_doctor, p[3], T0 + 1800, 1))
            .await
            .unwrap();
        let letter = docde_store::outbox::Letter {
            subject: "예약".into(),
            body: "확정".into(),
        };
        // In the writer's order (doctor, start): the slot at T0 has two seats.
        let mut news = vec![
            booking(&c, c.doctor, p[0], T0, 2),
            booking(&c, c.doctor, p[1], T0, 2),
            booking(&c, c.doctor, p[2], T0, 2),
            booking(&c, c.doctor, p[0], T0 + 300, 1),
            booking(&c, c.doctor, p[3], T0 + 1500, 1),
            booking(&c, c.doctor, p[4], T0 + 3000, 1),
            booking(&c, c.doctor, p[5], T0 + 3000, 1),
            booking(&c, c.doctor, p[2], T0 + 3300, 1),
        ];
        news.sort_by_key(|n| (n.doctor_id, n.starts_at));
        for n in &mut news {
            n.email = Some(letter.clone());
        }
        // p[2] holds nothing (its T0 attempt lost), so it wins this one.
        let (writer, _) = BookingWriter::spawn(store.clone(), 1);
        let results = if all_at_once {
            // On this single-threaded test runtime the tasks all queue before the writer
            // runs, so they arrive as one batch.
            let handles = news.into_iter().map(|n| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.book(n).await })
            });
            futures_join(handles).await
        } else {
            let mut out = Vec::new();
            for n in news {
                out.push(writer.book(n).await);
            }
            out
        };
        (
            results.iter().map(came).collect(),
            results,
            writer.one_by_one(),
        )
    }

    let (one_by_one, group) = (fresh_store().await, fresh_store().await);
    let (expected, _, _) = run(&one_by_one, false).await;
    let (got, results, singly) = run(&group, true).await;
    // The group was decided and written set by set, not by the fallback.
    assert_eq!(singly, 0);
    use BookingConflict::{PatientOverlap, SlotFull};
    assert_eq!(
        expected,
        [
            Came::Seat(1),
            Came::Seat(2),
            Came::Conflict(SlotFull),
            Came::Conflict(PatientOverlap),
            Came::Conflict(PatientOverlap),
            Came::Seat(1),
            Came::Conflict(SlotFull),
            Came::Seat(1),
        ]
    );
    assert_eq!(got, expected);
    // Every winner is stored with its event, which the patient's stream replays.
    for result in results.iter().flatten() {
        let BookOutcome::Created {
            appointment,
            event_id,
            ..
        } = result
        else {
            panic!("a replay in a fresh batch");
        };
        let stored = booking::appointments::get(&group, appointment.id)
            .await
            .unwrap()
            .expect("stored");
        assert_eq!(&stored, appointment);
        let events = booking::appointments::events_after(&group, appointment.patient_id, 0, 10)
            .await
            .unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.id == *event_id && e.appointment_id == appointment.id),
            "{events:?}"
        );
    }
    for store in [&one_by_one, &group] {
        assert!(booking::seats::violations(store).await.unwrap().is_empty());
        assert_eq!(booking::seats::patient_overlaps(store).await.unwrap(), 0);
        // Four winners, four letters.
        assert_eq!(docde_store::outbox::pending_count(store).await.unwrap(), 4);
    }
}

/// Rush tickets queued together are stored in one statement: each gets its `seq` in arrival
/// order, a repeated idempotency key still fails alone, and the worker then books them in
/// `seq` order (set by set), so the earlier of two contenders for a seat wins.
#[tokio::test]
async fn tickets_queued_together_keep_their_order_and_are_served_in_it() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let mut p = Vec::new();
    for _ in 0..4 {
        p.push(patient(&store).await);
    }
    let (writer, _) = BookingWriter::spawn(store.clone(), 1);
    let mut asks = vec![
        booking(&c, c.doctor, p[0], T0, 1),
        booking(&c, c.doctor, p[1], T0, 1),
        booking(&c, c.doctor, p[2], T0 + 600, 1),
        booking(&c, c.other_doctor, p[3], T0, 1),
    ];
    for (i, a) in asks.iter_mut().enumerate() {
        a.idempotency_key = Some(format!("key-{i}"));
        a.request_hash = Some("h".into());
    }
    let ids: Vec<Uuid> = asks.iter().map(|_| Uuid::now_v7()).collect();
    // On this single-threaded runtime the tasks all queue before the writer runs: one batch.
    let handles = ids.iter().zip(asks.clone()).map(|(ticket, new)| {
        let (writer, ticket) = (writer.clone(), *ticket);
        tokio::spawn(async move { writer.enqueue(ticket, new).await })
    });
    let seqs: Vec<i64> = futures_join(handles)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    for (ticket, seq) in ids.iter().zip(&seqs) {
        let stored = booking::tickets::get(&store, *ticket)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((stored.seq, stored.done), (*seq, false));
    }
    // The same patient's key again, beside a fresh ticket: the repeat alone is refused.
    let fresh = booking(&c, c.other_doctor, p[0], T0 + 1200, 1);
    let again = (Uuid::now_v7(), asks[0].clone());
    let more = [(Uuid::now_v7(), fresh), again].map(|(ticket, new)| {
        let writer = writer.clone();
        tokio::spawn(async move { writer.enqueue(ticket, new).await })
    });
    let more = futures_join(more.into_iter()).await;
    assert!(more[0].is_ok(), "{more:?}");
    assert!(more[1].is_err(), "{more:?}");

    let served = booking::tickets::serve_batch(&store, 100).await.unwrap();
    let outcomes: Vec<(Uuid, Result<u16, BookingConflict>)> = served
        .iter()
        .map(|s| {
            let outcome = s.outcome.as_ref().map(|o| match o {
                BookOutcome::Created { seats_taken, .. } => *seats_taken,
                BookOutcome::Replayed(_) => panic!("no replay here"),
            });
            (s.ticket_id, outcome.map_err(|c| *c))
        })
        .collect();
    assert_eq!(
        outcomes[..4],
        [
            (ids[0], Ok(1)),
            (ids[1], Err(BookingConflict::SlotFull)),
            (ids[2], Ok(1)),
            (ids[3], Ok(1)),
        ]
    );
    assert_eq!(outcomes.len(), 5);
    assert!(outcomes[4].1.is_ok());
    for ticket in &ids {
        assert!(
            booking::tickets::get(&store, *ticket)
                .await
                .unwrap()
                .unwrap()
                .done
        );
    }
    assert!(booking::seats::violations(&store).await.unwrap().is_empty());
}
