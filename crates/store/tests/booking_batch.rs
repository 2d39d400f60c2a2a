//! How the booking writer books a batch, against the database itself (SQLite, or PostgreSQL
//! with `TEST_DATABASE_URL`): set by set where it can, one by one where the set cannot stand,
//! answering each booking as one-by-one booking would and leaving nothing of a set given up.
//! The rush tickets it queues and serves are `booking_queue.rs`'s.

mod common;
#[path = "common/booking.rs"]
mod fixtures;

use chrono::Utc;
use docde_store::Store;
use docde_store::accounts::sessions;
use docde_store::booking::{self, BookOutcome, BookingConflict, BookingError, BookingWriter};
use uuid::Uuid;

use common::fresh_store;
use fixtures::{
    T0, book_as_one_batch, book_keyed_as_one_batch, booking, clinic, futures_join, patient, session,
};

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
    // Both must reach the writer in one batch.
    let results = book_as_one_batch(&store, &c, &writer, [retry, other]).await;
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

/// A refusal decided with its group comes with its key known unused, so the request need not
/// look for a rush ticket of its own. A key a ticket used sends the batch one by one, whose
/// refusals carry no such knowledge: the request then finds its ticket.
#[tokio::test]
async fn a_refusal_decided_with_its_group_knows_its_key_unused_by_any_ticket() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let (p, q, r) = (
        patient(&store).await,
        patient(&store).await,
        patient(&store).await,
    );
    let (writer, _) = BookingWriter::spawn(store.clone(), 1);
    writer.book(booking(&c, c.doctor, p, T0, 1)).await.unwrap();
    // q's first attempt was queued as a ticket (the slot's seat went to p meanwhile).
    let mut first = booking(&c, c.doctor, q, T0, 1);
    first.idempotency_key = Some("key-q".into());
    first.request_hash = Some("h".into());
    writer.enqueue(Uuid::now_v7(), first.clone()).await.unwrap();
    let keyed = |patient, key: &str| {
        let mut new = booking(&c, c.doctor, patient, T0, 1);
        new.idempotency_key = Some(key.into());
        new.request_hash = Some("h".into());
        new
    };
    let fresh = book_keyed_as_one_batch(
        &store,
        &c,
        &writer,
        [keyed(q, "key-new-1"), keyed(r, "key-new-2")],
    )
    .await;
    refused_knowing(&fresh, true);
    assert_eq!(writer.one_by_one(), 0);
    let mut retry = first;
    retry.id = Uuid::now_v7();
    let mixed = book_keyed_as_one_batch(&store, &c, &writer, [retry, keyed(r, "key-new-3")]).await;
    refused_knowing(&mixed, false);
    assert_eq!(writer.one_by_one(), 2);
}

/// Every one of `answers` is `slot_full`, with `key_unused` as given.
fn refused_knowing(answers: &[booking::Booked], key_unused: bool) {
    for answer in answers {
        assert!(
            matches!(
                answer.outcome,
                Err(BookingError::Conflict(BookingConflict::SlotFull))
            ),
            "{answer:?}"
        );
        assert_eq!(answer.key_unused, key_unused, "{answer:?}");
    }
}

/// The writer's statements are prepared when its connection opens, so that a rush's first
/// batches do not pay for preparing them. That writes nothing; on PostgreSQL the connection
/// then holds them (SQLite shows no list of a connection's statements).
#[tokio::test]
async fn the_writers_statements_are_prepared_ahead_and_write_nothing() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let p = patient(&store).await;
    // One connection of its own, as a writer has on PostgreSQL; SQLite's one writer.
    let own = match store.own_pool(1).await {
        Some(own) => own.unwrap(),
        None => Store::clone(&store),
    };
    booking::prepare_statements(&own).await.unwrap();
    let tables = [
        "slot_seats",
        "appointments",
        "appointment_events",
        "email_outbox",
        "booking_tickets",
    ];
    for table in tables {
        // The table names are the literals above.
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        let rows: i64 = match own.backend() {
            docde_store::Backend::Sqlite { writer, .. } => {
                sqlx::query_scalar(sql).fetch_one(writer).await.unwrap()
            }
            docde_store::Backend::Postgres(pool) => {
                sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
            }
        };
        assert_eq!(rows, 0, "{table}");
    }
    if let docde_store::Backend::Postgres(pool) = own.backend() {
        let prepared: Vec<String> =
            sqlx::query_scalar("SELECT statement FROM pg_prepared_statements")
                .fetch_all(pool)
                .await
                .unwrap();
        for table in tables {
            assert!(
                prepared
                    .iter()
                    .any(|s| s.contains(&format!("INSERT INTO {table} "))),
                "{table} not prepared: {prepared:#?}"
            );
        }
        assert!(
            prepared.iter().any(|s| s.starts_with("SELECT 'k'")),
            "the group's read not prepared: {prepared:#?}"
        );
    }
    // And the writer books as before.
    let (writer, _) = BookingWriter::spawn(Store::clone(&store), 1);
    let made = writer.book(booking(&c, c.doctor, p, T0, 1)).await;
    assert!(matches!(made, Ok(BookOutcome::Created { .. })), "{made:?}");
}

/// A set that fails after its first writes (here the appointments' insert: one booking names
/// a hospital that does not exist) leaves nothing of itself. The batch is booked again one by
/// one: the others are made, the bad one alone fails, and its slot's seat is not taken.
#[tokio::test]
async fn a_set_that_fails_midway_leaves_nothing_and_the_batch_is_booked_one_by_one() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let (p, q, r) = (
        patient(&store).await,
        patient(&store).await,
        patient(&store).await,
    );
    let (writer, _) = BookingWriter::spawn(store.clone(), 1);
    let mut bad = booking(&c, c.doctor, q, T0 + 600, 1);
    bad.hospital_id = Uuid::now_v7();
    let asks = [
        booking(&c, c.doctor, p, T0, 1),
        bad,
        booking(&c, c.doctor, r, T0 + 1200, 1),
    ];
    let results = book_as_one_batch(&store, &c, &writer, asks).await;
    assert!(
        matches!(results[0], Ok(BookOutcome::Created { .. })),
        "{results:?}"
    );
    assert!(
        matches!(results[1], Err(BookingError::Store(_))),
        "{results:?}"
    );
    assert!(
        matches!(results[2], Ok(BookOutcome::Created { .. })),
        "{results:?}"
    );
    assert_eq!(writer.one_by_one(), 3);
    let seats: Vec<(i64, u16)> = booking::seats::taken(&store, c.doctor, T0, T0 + 1800)
        .await
        .unwrap()
        .iter()
        .map(|s| (s.starts_at, s.taken))
        .collect();
    assert_eq!(seats, [(T0, 1), (T0 + 1200, 1)]);
    assert!(booking::seats::violations(&store).await.unwrap().is_empty());
}

/// The overlap checks look only at appointments starting less than the longest an appointment
/// may last (`MAX_APPOINTMENT_SECONDS`) before: one of that length is still found at its very
/// end, both one by one and set by set, and a longer one is refused by the database.
#[tokio::test]
async fn the_longest_appointment_still_overlaps_to_its_end_and_a_longer_one_is_refused() {
    let longest = booking::MAX_APPOINTMENT_SECONDS;
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let (p, q) = (patient(&store).await, patient(&store).await);
    let (writer, _) = BookingWriter::spawn(store.clone(), 1);
    let mut long = booking(&c, c.doctor, p, T0, 1);
    long.ends_at = T0 + longest;
    long.idempotency_key = Some("long".into());
    long.request_hash = Some("h".into());
    let made = writer.book(long.clone()).await.unwrap();
    assert!(matches!(made, BookOutcome::Created { .. }));
    let mut too_long = booking(&c, c.doctor, q, T0 + 86_400, 1);
    too_long.ends_at = too_long.starts_at + longest + 1;
    assert!(matches!(
        writer.book(too_long).await,
        Err(BookingError::Store(_))
    ));

    // One by one (the retry of the long one's key sends its batch so): the last second of the
    // long appointment overlaps; right after it does not.
    let mut retry = long;
    retry.id = Uuid::now_v7();
    let last_second = booking(&c, c.other_doctor, p, T0 + longest - 1, 1);
    let before = writer.one_by_one();
    let results = book_as_one_batch(&store, &c, &writer, [retry, last_second]).await;
    assert_eq!(
        results[0].as_ref().unwrap(),
        &BookOutcome::Replayed(made.appointment().clone())
    );
    assert!(
        matches!(
            results[1],
            Err(BookingError::Conflict(BookingConflict::PatientOverlap))
        ),
        "{results:?}"
    );
    assert_eq!(writer.one_by_one(), before + 2, "booked one by one");
    // Set by set, with another patient's booking in the same batch.
    let before = writer.one_by_one();
    let asks = [
        booking(&c, c.other_doctor, p, T0 + longest - 600, 1),
        booking(&c, c.other_doctor, q, T0 + 2 * longest, 1),
    ];
    let results = book_as_one_batch(&store, &c, &writer, asks).await;
    assert!(
        matches!(
            results[0],
            Err(BookingError::Conflict(BookingConflict::PatientOverlap))
        ),
        "{results:?}"
    );
    assert!(
        matches!(results[1], Ok(BookOutcome::Created { .. })),
        "{results:?}"
    );
    assert_eq!(writer.one_by_one(), before, "the set was decided as a set");
    let after = booking(&c, c.other_doctor, p, T0 + longest, 1);
    assert!(matches!(
        writer.book(after).await,
        Ok(BookOutcome::Created { .. })
    ));
}

/// A session left to the writer (`session_id`) is confirmed with one read for the batch: a
/// booking or a rush ticket whose session has ended is refused and written nowhere, and its
/// neighbours in the batch — live sessions, and bookings with no session to confirm — go on
/// as if it had never been asked.
#[tokio::test]
async fn a_batch_refuses_what_ended_sessions_ask_and_keeps_the_rest() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let (p, q, r) = (
        patient(&store).await,
        patient(&store).await,
        patient(&store).await,
    );
    let live = session(&store, p).await;
    let ended = session(&store, q).await;
    sessions::revoke(&store, ended, "logout", Utc::now())
        .await
        .unwrap();
    let (writer, _) = BookingWriter::spawn(store.clone(), 1);
    let asked = |patient, start, session| {
        let mut new = booking(&c, c.doctor, patient, start, 1);
        new.session_id = session;
        new
    };
    // Two that count (set by set) around one that does not.
    let results = book_as_one_batch(
        &store,
        &c,
        &writer,
        [
            asked(p, T0, Some(live)),
            asked(q, T0 + 600, Some(ended)),
            asked(r, T0 + 1200, None),
        ],
    )
    .await;
    assert!(matches!(results[0], Ok(BookOutcome::Created { .. })));
    assert!(matches!(results[1], Err(BookingError::SessionEnded)));
    assert!(matches!(results[2], Ok(BookOutcome::Created { .. })));
    // One that counts and one that does not (the one left is booked on its own). A clinic
    // of its own: holding the writer books a slot of the clinic's doctor.
    let c2 = clinic(&store).await;
    let mut other = [
        asked(q, T0 + 1800, Some(ended)),
        asked(p, T0 + 2400, Some(live)),
    ];
    for new in &mut other {
        (new.hospital_id, new.doctor_id) = (c2.hospital, c2.doctor);
    }
    let results = book_as_one_batch(&store, &c2, &writer, other).await;
    assert!(matches!(results[0], Err(BookingError::SessionEnded)));
    assert!(matches!(results[1], Ok(BookOutcome::Created { .. })));
    // Alone.
    let alone = writer.book(asked(q, T0 + 3000, Some(ended))).await;
    assert!(matches!(alone, Err(BookingError::SessionEnded)));
    let mut held = Vec::new();
    for doctor in [c.doctor, c2.doctor] {
        let of = booking::seats::holders(&store, doctor, T0, T0 + 86_400).await;
        held.extend(of.unwrap().into_iter().map(|h| (h.starts_at, h.patient_id)));
    }
    held.sort();
    assert_eq!(held, [(T0, p), (T0 + 1200, r), (T0 + 2400, p)]);

    // Rush tickets likewise: queued together, the ended session's is refused and not stored.
    let (kept, refused) = (Uuid::now_v7(), Uuid::now_v7());
    let handles = [
        (kept, asked(p, T0 + 3600, Some(live))),
        (refused, asked(q, T0 + 4200, Some(ended))),
        (Uuid::now_v7(), asked(r, T0 + 4800, None)),
    ]
    .into_iter()
    .map(|(ticket, new)| {
        let writer = writer.clone();
        tokio::spawn(async move { writer.enqueue(ticket, new).await })
    });
    let queued = futures_join(handles).await;
    assert!(queued[0].is_ok() && queued[2].is_ok(), "{queued:?}");
    assert!(matches!(queued[1], Err(BookingError::SessionEnded)));
    assert!(booking::tickets::get(&store, kept).await.unwrap().is_some());
    assert!(
        booking::tickets::get(&store, refused)
            .await
            .unwrap()
            .is_none()
    );
    let alone = writer
        .enqueue(Uuid::now_v7(), asked(q, T0 + 5400, Some(ended)))
        .await;
    assert!(matches!(alone, Err(BookingError::SessionEnded)));
    assert_eq!(booking::tickets::queued(&store).await.unwrap(), 2);
}
