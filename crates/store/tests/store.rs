//! The store against a real database: migrations and health, SQLite's log checkpoints,
//! idempotency keys, and how database errors are classified.
//!
//! Every test gets a database of its own. With `TEST_DATABASE_URL` set (a PostgreSQL URL) that
//! is a fresh schema, dropped when the test ends; otherwise a SQLite file in a fresh temporary
//! directory. The same tests run on both backends.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use docde_store::idempotency::{self, Claim};
use docde_store::{Backend, HealthProblem, StoreError, with_writer};

mod common;

use common::{fresh_store, unmigrated_store};

fn now() -> DateTime<Utc> {
    Utc::now()
}

#[tokio::test]
async fn check_reports_pending_migrations_until_they_are_applied_and_migrating_twice_is_harmless() {
    let store = unmigrated_store().await;
    match store.check().await {
        Err(HealthProblem::MigrationsPending { applied, expected }) => {
            assert_eq!(applied, None, "nothing is applied on an empty database");
            assert!(expected >= 1);
        }
        other => panic!("expected MigrationsPending before migrating, got {other:?}"),
    }

    store.migrate().await.expect("first migration failed");
    store.check().await.expect("healthy after migrating");
    store.migrate().await.expect("migrating again failed");
    store
        .check()
        .await
        .expect("still healthy after migrating again");
}

/// Every SQLite reader is open as soon as the store connects, and still is after migrating:
/// opening one reads the whole schema, which a pool growing on demand did in the first
/// milliseconds of a rush (BENCHMARKS.md, session 23).
#[tokio::test]
async fn sqlite_readers_are_all_open_before_the_first_request() {
    let store = unmigrated_store().await;
    let Backend::Sqlite { reader, .. } = store.backend() else {
        return;
    };
    let all = reader.options().get_max_connections();
    assert!(all > 1, "the test needs a pool of several readers");
    assert_eq!(reader.size(), all);
    store.migrate().await.unwrap();
    assert_eq!(reader.size(), all);
}

/// Every SQLite connection reads the file through a memory map and keeps temporary data in
/// memory (BENCHMARKS.md, sessions 19 and 20).
#[tokio::test]
async fn sqlite_connections_map_the_file_and_keep_temporary_data_in_memory() {
    let store = fresh_store().await;
    let Backend::Sqlite {
        writer,
        reader,
        checkpointer,
    } = store.backend()
    else {
        return;
    };
    for pool in [writer, reader, checkpointer] {
        let mapped: i64 = sqlx::query_scalar("PRAGMA mmap_size")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mapped, 1 << 30);
        // 2 = MEMORY.
        let temp: i64 = sqlx::query_scalar("PRAGMA temp_store")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(temp, 2);
    }
}

#[tokio::test]
async fn a_checkpoint_copies_the_whole_log_into_the_database_file_off_the_writer() {
    let store = fresh_store().await;
    let Backend::Sqlite { writer, .. } = store.backend() else {
        assert_eq!(
            store.checkpoint().await.unwrap(),
            None,
            "PostgreSQL has no log to copy"
        );
        return;
    };
    // The writer leaves checkpoints to `Store::checkpoint`, far past SQLite's 1,000 pages.
    let limit: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(writer)
        .await
        .unwrap();
    assert_eq!(limit, 10_000);
    sqlx::query("CREATE TABLE filler (n INTEGER, text TEXT)")
        .execute(writer)
        .await
        .unwrap();
    for n in 0..200 {
        sqlx::query("INSERT INTO filler VALUES ($1, $2)")
            .bind(n)
            .bind("가".repeat(1_000))
            .execute(writer)
            .await
            .unwrap();
    }
    let (log, copied) = store.checkpoint().await.unwrap().expect("SQLite has a log");
    assert!(log > 100, "{log} frames in the log");
    // Nobody was reading, so a passive checkpoint copies every frame.
    assert_eq!(copied, log);
    let rows: i64 = with_writer!(store, pool => sqlx::query_scalar("SELECT COUNT(*) FROM filler").fetch_one(pool).await)
        .unwrap();
    assert_eq!(rows, 200);
}

#[tokio::test]
async fn the_first_claim_of_a_key_acquires_it_and_a_second_one_finds_it_in_progress() {
    let store = fresh_store().await;
    let claim = |hash| idempotency::claim(&store, "nurse-1", "key-1", hash, now());

    assert_eq!(claim("hash-a").await.unwrap(), Claim::Acquired);
    assert_eq!(claim("hash-a").await.unwrap(), Claim::InProgress);
}

#[tokio::test]
async fn a_completed_key_replays_its_stored_answer() {
    let store = fresh_store().await;
    let claim = || idempotency::claim(&store, "nurse-1", "key-1", "hash-a", now());
    assert_eq!(claim().await.unwrap(), Claim::Acquired);

    idempotency::complete(&store, "nurse-1", "key-1", 201, br#"{"id":7}"#)
        .await
        .unwrap();

    let expected = Claim::Replay {
        status: 201,
        response: br#"{"id":7}"#.to_vec(),
    };
    assert_eq!(claim().await.unwrap(), expected);
    assert_eq!(claim().await.unwrap(), expected, "replays are repeatable");
}

#[tokio::test]
async fn a_key_reused_for_a_different_request_is_a_mismatch_whether_or_not_completed() {
    let store = fresh_store().await;
    let claim = |hash| idempotency::claim(&store, "nurse-1", "key-1", hash, now());
    assert_eq!(claim("hash-a").await.unwrap(), Claim::Acquired);

    assert_eq!(claim("hash-b").await.unwrap(), Claim::Mismatch);
    idempotency::complete(&store, "nurse-1", "key-1", 201, b"{}")
        .await
        .unwrap();
    assert_eq!(claim("hash-b").await.unwrap(), Claim::Mismatch);
}

#[tokio::test]
async fn keys_are_scoped_to_the_principal_that_sent_them() {
    let store = fresh_store().await;

    let first = idempotency::claim(&store, "nurse-1", "key-1", "hash-a", now());
    assert_eq!(first.await.unwrap(), Claim::Acquired);
    let other_principal = idempotency::claim(&store, "doctor-2", "key-1", "hash-b", now());
    assert_eq!(other_principal.await.unwrap(), Claim::Acquired);
}

#[tokio::test]
async fn a_released_key_can_be_claimed_again_but_a_completed_one_cannot_be_released() {
    let store = fresh_store().await;
    let claim = |key| idempotency::claim(&store, "nurse-1", key, "hash-a", now());

    assert_eq!(claim("failed").await.unwrap(), Claim::Acquired);
    idempotency::release(&store, "nurse-1", "failed")
        .await
        .unwrap();
    assert_eq!(claim("failed").await.unwrap(), Claim::Acquired);

    assert_eq!(claim("done").await.unwrap(), Claim::Acquired);
    idempotency::complete(&store, "nurse-1", "done", 200, b"ok")
        .await
        .unwrap();
    idempotency::release(&store, "nurse-1", "done")
        .await
        .unwrap();
    assert_eq!(
        claim("done").await.unwrap(),
        Claim::Replay {
            status: 200,
            response: b"ok".to_vec()
        }
    );
}

#[tokio::test]
async fn purge_forgets_keys_older_than_the_cutoff_and_keeps_newer_ones() {
    let store = fresh_store().await;
    let now = now();
    let claim_at = |key, at| idempotency::claim(&store, "nurse-1", key, "hash-a", at);
    let two_days_ago = now - TimeDelta::days(2);
    assert_eq!(
        claim_at("old", two_days_ago).await.unwrap(),
        Claim::Acquired
    );
    assert_eq!(claim_at("recent", now).await.unwrap(), Claim::Acquired);

    let purged = idempotency::purge(&store, now - TimeDelta::days(1))
        .await
        .unwrap();

    assert_eq!(purged, 1);
    assert_eq!(claim_at("old", now).await.unwrap(), Claim::Acquired);
    assert_eq!(claim_at("recent", now).await.unwrap(), Claim::InProgress);
}

#[tokio::test]
async fn purge_orders_timestamps_by_time_even_within_one_second() {
    // SQLite stores timestamps as text; this checks that sub-second precision (and its
    // absence) still compares chronologically.
    let store = fresh_store().await;
    let second: DateTime<Utc> = "2026-01-01T08:00:00Z".parse().unwrap();
    let claim_at = |key, at| idempotency::claim(&store, "nurse-1", key, "hash-a", at);
    claim_at("on-the-second", second).await.unwrap();
    claim_at("just-after", second + TimeDelta::milliseconds(1))
        .await
        .unwrap();
    claim_at("later", second + TimeDelta::milliseconds(500))
        .await
        .unwrap();

    let purged = idempotency::purge(&store, second + TimeDelta::milliseconds(100))
        .await
        .unwrap();

    assert_eq!(purged, 2);
    assert_eq!(
        claim_at("later", second).await.unwrap(),
        Claim::InProgress,
        "the key after the cutoff was kept"
    );
}

#[tokio::test]
async fn of_fifty_concurrent_claims_of_one_key_exactly_one_acquires_it() {
    let store = Arc::new(fresh_store().await);
    let claims = (0..50).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            idempotency::claim(&store, "nurse-1", "key-1", "hash-a", now()).await
        })
    });

    let outcomes: Vec<Claim> = outcomes_of(claims).await;

    let acquired = outcomes.iter().filter(|c| **c == Claim::Acquired).count();
    assert_eq!(acquired, 1, "outcomes: {outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|c| matches!(c, Claim::Acquired | Claim::InProgress)),
        "the losers see the key in progress: {outcomes:?}"
    );
}

/// Awaits every task, failing the test if one failed.
async fn outcomes_of(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<Result<Claim, StoreError>>>,
) -> Vec<Claim> {
    let mut outcomes = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        outcomes.push(
            task.await
                .expect("claim task panicked")
                .expect("claim failed"),
        );
    }
    outcomes
}

#[tokio::test]
async fn violating_a_primary_key_is_reported_as_a_constraint_error() {
    let store = fresh_store().await;
    let insert = || async {
        with_writer!(store, pool => sqlx::query(
            "INSERT INTO idempotency_keys (principal, idem_key, request_hash, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind("nurse-1")
        .bind("key-1")
        .bind("hash-a")
        .bind(now())
        .execute(pool)
        .await
        .map(|_| ()))
        .map_err(StoreError::from)
    };
    insert().await.expect("the first insert succeeds");

    let err = insert()
        .await
        .expect_err("the second insert must be refused");

    assert!(
        matches!(err, StoreError::Constraint { .. }),
        "expected a constraint error, got {err:?}"
    );
    assert!(
        err.is_constraint("idempotency_keys"),
        "the error names the table's key: {err:?}"
    );
}
