//! The rush tickets the booking writer queues and serves in batches, against the database
//! itself (SQLite, or PostgreSQL with `TEST_DATABASE_URL`).

mod common;
#[path = "common/booking.rs"]
mod fixtures;

use docde_store::booking::tickets::Queued;
use docde_store::booking::{self, BookOutcome, BookingConflict, BookingWriter};
use uuid::Uuid;

use common::fresh_store;
use fixtures::{T0, booking, clinic, futures_join, patient};

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
    let queued: Vec<Queued> = futures_join(handles)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    // Nothing served yet: each is `seq` places from the front.
    assert!(queued.iter().all(|q| q.served == 0), "{queued:?}");
    let seqs: Vec<i64> = queued.iter().map(|q| q.seq).collect();
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
    let repeat = more[1].as_ref().expect_err("the repeated key is refused");
    assert!(booking::tickets::is_repeated_key(repeat), "{repeat:?}");

    // Served by the writer (on SQLite on its own thread, between its batches).
    let served = writer.serve_queue(100).await.unwrap();
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
    // A ticket queued now learns how far the worker got (PostgreSQL's sequence may have
    // skipped the failed inserts' numbers, so its `seq` is only known to come later).
    let last = served.iter().map(|s| s.seq).max().unwrap();
    let next = writer
        .enqueue(Uuid::now_v7(), booking(&c, c.doctor, p[3], T0 + 1800, 1))
        .await
        .unwrap();
    assert_eq!(next.served, last);
    assert!(next.seq > last, "{next:?} after {last}");
    // Each ticket is served once: the next round takes only the new one, the one after none.
    let again = writer.serve_queue(100).await.unwrap();
    assert_eq!(
        again.iter().map(|s| s.seq).collect::<Vec<_>>(),
        [next.seq],
        "{again:?}"
    );
    assert!(writer.serve_queue(100).await.unwrap().is_empty());
}
