//! The e-mail outbox as workers use it: claims are exclusive for their lease, concurrent
//! claimers never share a message, outcomes move messages out of `pending`, and retries wait
//! for their time. Runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set (each
//! test in a schema of its own).

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use docde_store::outbox::{self, NewEmail};
use docde_store::{Store, with_reader};

mod common;

use common::fresh_store;
use uuid::Uuid;

const LEASE: Duration = Duration::from_secs(60);

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
}

fn email(n: usize) -> NewEmail {
    NewEmail {
        to: format!("patient{n}@example.com"),
        subject: format!("인증 코드 {n}"),
        body: format!("인증 코드는 {n:06} 입니다."),
    }
}

/// One row's bookkeeping, read directly: the module has no getter because nothing but the
/// worker needs one.
#[derive(Debug, PartialEq, Eq, sqlx::FromRow)]
struct Row {
    status: String,
    body: Option<String>,
    attempts: i32,
    last_error: Option<String>,
    sent_at: Option<DateTime<Utc>>,
}

async fn row(store: &Store, id: Uuid) -> Row {
    with_reader!(store, pool => sqlx::query_as(
        "SELECT status, body, attempts, last_error, sent_at FROM email_outbox WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_one(pool)
    .await)
    .expect("row exists")
}

#[tokio::test]
async fn an_enqueued_email_is_claimed_once_with_its_content() {
    let store = fresh_store().await;
    let id = outbox::enqueue(&store, &email(1), at(0)).await.unwrap();

    let claimed = outbox::claim_due(&store, 10, LEASE, at(1)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let claimed = &claimed[0];
    assert_eq!(claimed.id, id);
    assert_eq!(claimed.to, "patient1@example.com");
    assert_eq!(claimed.subject, "인증 코드 1");
    assert_eq!(claimed.body, "인증 코드는 000001 입니다.");
    assert_eq!(claimed.attempts, 0);
    assert_eq!(claimed.created_at, at(0));
    assert_eq!(
        outbox::pending_count(&store).await.unwrap(),
        1,
        "claimed is still pending"
    );
}

#[tokio::test]
async fn a_second_claim_within_the_lease_returns_nothing() {
    let store = fresh_store().await;
    outbox::enqueue(&store, &email(1), at(0)).await.unwrap();
    assert_eq!(
        outbox::claim_due(&store, 10, LEASE, at(0))
            .await
            .unwrap()
            .len(),
        1
    );

    let again = outbox::claim_due(&store, 10, LEASE, at(59)).await.unwrap();
    assert!(
        again.is_empty(),
        "still leased to the first claimer: {again:?}"
    );
}

#[tokio::test]
async fn after_the_lease_expires_the_email_is_claimed_again() {
    let store = fresh_store().await;
    let id = outbox::enqueue(&store, &email(1), at(0)).await.unwrap();
    outbox::claim_due(&store, 10, LEASE, at(0)).await.unwrap();

    let again = outbox::claim_due(&store, 10, LEASE, at(60)).await.unwrap();
    assert_eq!(again.iter().map(|e| e.id).collect::<Vec<_>>(), [id]);
}

#[tokio::test]
async fn an_email_is_not_claimed_before_it_was_enqueued() {
    let store = fresh_store().await;
    outbox::enqueue(&store, &email(1), at(10)).await.unwrap();
    assert!(
        outbox::claim_due(&store, 10, LEASE, at(9))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn claims_take_the_oldest_emails_first_up_to_the_limit() {
    let store = fresh_store().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            outbox::enqueue(&store, &email(n), at(n as i64))
                .await
                .unwrap(),
        );
    }
    let first = outbox::claim_due(&store, 3, LEASE, at(10)).await.unwrap();
    assert_eq!(first.iter().map(|e| e.id).collect::<Vec<_>>(), ids[..3]);
    let rest = outbox::claim_due(&store, 3, LEASE, at(10)).await.unwrap();
    assert_eq!(rest.iter().map(|e| e.id).collect::<Vec<_>>(), ids[3..]);
}

#[tokio::test]
async fn concurrent_claimers_never_receive_the_same_email() {
    let store = fresh_store().await;
    const TOTAL: usize = 120;
    for n in 0..TOTAL {
        outbox::enqueue(&store, &email(n), at(0)).await.unwrap();
    }
    let claimer = |store: Store| {
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = outbox::claim_due(&store, 7, LEASE, at(1)).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|e| e.id));
                tokio::task::yield_now().await;
            }
        })
    };
    let tasks: Vec<_> = (0..3).map(|_| claimer(store.clone())).collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "an email was claimed twice");
    assert_eq!(all.len(), TOTAL, "every email was claimed");
}

#[tokio::test]
async fn a_sent_email_loses_its_body_and_is_never_claimed_again() {
    let store = fresh_store().await;
    let id = outbox::enqueue(&store, &email(1), at(0)).await.unwrap();
    outbox::claim_due(&store, 10, LEASE, at(0)).await.unwrap();

    assert!(outbox::mark_sent(&store, id, at(2)).await.unwrap());

    assert_eq!(
        row(&store, id).await,
        Row {
            status: "sent".into(),
            body: None, // the verification code does not linger
            attempts: 1,
            last_error: None,
            sent_at: Some(at(2)),
        }
    );
    assert_eq!(outbox::pending_count(&store).await.unwrap(), 0);
    assert!(
        outbox::claim_due(&store, 10, LEASE, at(3600))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_retried_email_waits_for_its_next_attempt_time() {
    let store = fresh_store().await;
    let id = outbox::enqueue(&store, &email(1), at(0)).await.unwrap();
    outbox::claim_due(&store, 10, LEASE, at(0)).await.unwrap();

    assert!(
        outbox::mark_retry(&store, id, "connection", at(10))
            .await
            .unwrap()
    );

    assert!(
        outbox::claim_due(&store, 10, LEASE, at(9))
            .await
            .unwrap()
            .is_empty(),
        "not before the retry time, although the claim was released"
    );
    let retried = outbox::claim_due(&store, 10, LEASE, at(10)).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].attempts, 1);
    assert_eq!(
        retried[0].body, "인증 코드는 000001 입니다.",
        "the body is kept for the retry"
    );
    let row = row(&store, id).await;
    assert_eq!(row.status, "pending");
    assert_eq!(row.last_error.as_deref(), Some("connection"));
}

#[tokio::test]
async fn a_failed_email_loses_its_body_and_keeps_only_the_error_kind() {
    let store = fresh_store().await;
    let id = outbox::enqueue(&store, &email(1), at(0)).await.unwrap();
    outbox::claim_due(&store, 10, LEASE, at(0)).await.unwrap();

    assert!(outbox::mark_failed(&store, id, "smtp_550").await.unwrap());

    assert_eq!(
        row(&store, id).await,
        Row {
            status: "failed".into(),
            body: None,
            attempts: 1,
            last_error: Some("smtp_550".into()),
            sent_at: None,
        }
    );
    assert_eq!(outbox::pending_count(&store).await.unwrap(), 0);
    assert!(
        outbox::claim_due(&store, 10, LEASE, at(3600))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn outcomes_only_change_pending_emails() {
    let store = fresh_store().await;
    let id = outbox::enqueue(&store, &email(1), at(0)).await.unwrap();
    assert!(outbox::mark_sent(&store, id, at(1)).await.unwrap());

    // A worker whose lease ran out may report late; the first outcome stands.
    assert!(!outbox::mark_failed(&store, id, "timeout").await.unwrap());
    assert!(
        !outbox::mark_retry(&store, id, "timeout", at(5))
            .await
            .unwrap()
    );
    assert!(!outbox::mark_sent(&store, id, at(6)).await.unwrap());
    assert_eq!(
        row(&store, id).await,
        Row {
            status: "sent".into(),
            body: None,
            attempts: 1,
            last_error: None,
            sent_at: Some(at(1)),
        }
    );
}

#[tokio::test]
async fn an_email_enqueued_in_a_rolled_back_transaction_is_never_sent() {
    let store = fresh_store().await;
    let kept = Uuid::now_v7();
    let dropped = Uuid::now_v7();
    docde_store::with_writer!(store, pool => {
        let mut tx = pool.begin().await.unwrap();
        docde_store::enqueue_email!(&mut *tx, &email(1), dropped, at(0)).await.unwrap();
        tx.rollback().await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        docde_store::enqueue_email!(&mut *tx, &email(2), kept, at(0)).await.unwrap();
        tx.commit().await.unwrap();
    });

    let claimed = outbox::claim_due(&store, 10, LEASE, at(0)).await.unwrap();
    assert_eq!(claimed.iter().map(|e| e.id).collect::<Vec<_>>(), [kept]);
}

#[tokio::test]
async fn a_batch_of_sent_emails_is_marked_at_once_and_only_pending_ones_change() {
    let store = fresh_store().await;
    let ids = enqueued(&store, 3).await;
    outbox::claim_due(&store, 10, LEASE, at(0)).await.unwrap();
    // The third was given up by a late worker meanwhile; an unknown id changes nothing.
    assert!(
        outbox::mark_failed(&store, ids[2], "timeout")
            .await
            .unwrap()
    );
    let marked = outbox::mark_sent_all(&store, &[ids[0], ids[1], ids[2], Uuid::now_v7()], at(2))
        .await
        .unwrap();
    assert_eq!(marked, 2);
    for id in &ids[..2] {
        let sent = row(&store, *id).await;
        assert_eq!(
            (sent.status.as_str(), sent.body, sent.attempts),
            ("sent", None, 1)
        );
        assert_eq!(sent.sent_at, Some(at(2)));
    }
    assert_eq!(row(&store, ids[2]).await.status, "failed");
    assert_eq!(outbox::pending_count(&store).await.unwrap(), 0);
    assert_eq!(outbox::mark_sent_all(&store, &ids, at(3)).await.unwrap(), 0);
    assert_eq!(outbox::mark_sent_all(&store, &[], at(3)).await.unwrap(), 0);
}

async fn enqueued(store: &Store, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(outbox::enqueue(store, &email(i), at(0)).await.unwrap());
    }
    ids
}

#[tokio::test]
async fn peeking_shows_due_unclaimed_emails_oldest_first_and_claims_none() {
    let store = fresh_store().await;
    let first = outbox::enqueue(&store, &email(1), at(0)).await.unwrap();
    let second = outbox::enqueue(&store, &email(2), at(1)).await.unwrap();
    let third = outbox::enqueue(&store, &email(3), at(2)).await.unwrap();
    outbox::enqueue(&store, &email(4), at(20)).await.unwrap();
    let claimed = outbox::claim_due(&store, 1, LEASE, at(5)).await.unwrap();
    assert_eq!(claimed.iter().map(|e| e.id).collect::<Vec<_>>(), [first]);

    // Not the claimed one, not the one due later; the limit counts.
    let ids = |emails: Vec<outbox::OutboxEmail>| emails.iter().map(|e| e.id).collect::<Vec<_>>();
    let peeked = outbox::peek_due(&store, 10, at(10)).await.unwrap();
    assert_eq!(ids(peeked), [second, third]);
    assert_eq!(
        ids(outbox::peek_due(&store, 1, at(10)).await.unwrap()),
        [second]
    );
    // Peeking claimed nothing: the same messages again, and a claimer still gets them.
    assert_eq!(
        ids(outbox::peek_due(&store, 10, at(10)).await.unwrap()),
        [second, third]
    );
    assert_eq!(
        ids(outbox::claim_due(&store, 10, LEASE, at(10)).await.unwrap()),
        [second, third]
    );
    assert!(
        outbox::peek_due(&store, 10, at(10))
            .await
            .unwrap()
            .is_empty()
    );
}
