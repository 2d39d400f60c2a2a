//! Outgoing deliveries claimed under a lease and a fencing token: the mechanics shared by the
//! escalation-webhook posts ([`super::webhooks`]) and the Web Push messages ([`super::push`]).
//!
//! A table that uses this has `id`, `status` (`pending → delivered | failed`), `attempts`,
//! `next_attempt_at`, `claim`, `claimed_until`, `last_error` and `delivered_at`. Workers on
//! any number of instances [`claim`] due rows; an outcome is recorded only while the row is
//! still pending under the claim's token, so a worker whose lease ran out (and whose row
//! another instance took) cannot overwrite the newer attempt. A worker that dies loses
//! nothing: its lease ends and another claims the row.
//!
//! Table names come from this crate, never from input.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::stored;
use crate::{Store, StoreError, with_writer};

/// Claims up to `limit` pending rows of `table` due at `now` that nobody holds, for the
/// caller's `token` until `until`. Returns their ids, oldest due first.
///
/// One statement, so atomic on its own. On PostgreSQL `SKIP LOCKED` makes concurrent
/// claimers take disjoint rows, and a row unlocked after our snapshot is re-checked against
/// the lease before it is updated; SQLite's single writer runs claims one at a time.
async fn claim(
    store: &Store,
    table: &'static str,
    token: Uuid,
    limit: u32,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let lock = if store.dialect() == "postgres" {
        "FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE {table} SET claim = $1, claimed_until = $2 \
         WHERE id IN (SELECT id FROM {table} \
             WHERE status = 'pending' AND next_attempt_at <= $3 \
               AND (claimed_until IS NULL OR claimed_until <= $3) \
             ORDER BY next_attempt_at, id LIMIT $4 {lock}) \
         RETURNING id"
    );
    let ids: Vec<(String,)> = with_writer!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(token.to_string())
            .bind(stored(until))
            .bind(stored(now))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
    });
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// [`claim`]s up to `limit` rows of `table` due at `now` for `lease` under a new token, then
/// reads them with `claimed_sql` (which selects what the sender needs, binding the token as
/// `$1`). Returns the token with the rows; none claimed reads nothing.
pub(crate) async fn claim_and_read<R>(
    store: &Store,
    table: &'static str,
    claimed_sql: &'static str,
    limit: u32,
    lease: TimeDelta,
    now: DateTime<Utc>,
) -> Result<(Uuid, Vec<R>), StoreError>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    let token = Uuid::now_v7();
    let claimed = claim(store, table, token, limit, now + lease, now).await?;
    if claimed.is_empty() {
        return Ok((token, Vec::new()));
    }
    // The claim is committed; read what the messages need by its token.
    let rows: Vec<R> = with_writer!(store, pool => {
        sqlx::query_as(claimed_sql)
            .bind(token.to_string())
            .fetch_all(pool)
            .await?
    });
    Ok((token, rows))
}

/// What became of one attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mark<'a> {
    /// The receiver accepted it at this time.
    Delivered(DateTime<Utc>),
    /// It failed with this error category; try again at the given time.
    Retry(&'a str, DateTime<Utc>),
    /// Given up, with this error category.
    Failed(&'a str),
}

/// Records the outcome of an attempt on a row of `table` claimed under `token`, counting the
/// attempt and releasing the claim. Returns whether the claim was still ours.
pub(crate) async fn mark(
    store: &Store,
    table: &'static str,
    id: &str,
    token: Uuid,
    outcome: Mark<'_>,
) -> Result<bool, StoreError> {
    let (set, error, time) = match outcome {
        Mark::Delivered(at) => (
            "status = 'delivered', delivered_at = $4, last_error = $3",
            None,
            Some(at),
        ),
        Mark::Retry(kind, next) => (
            "next_attempt_at = $4, last_error = $3",
            Some(kind),
            Some(next),
        ),
        // `$4` is bound (as NULL) but unused, so every outcome binds the same parameters.
        Mark::Failed(kind) => (
            "status = 'failed', last_error = $3, delivered_at = $4",
            Some(kind),
            None,
        ),
    };
    let sql = format!(
        "UPDATE {table} SET {set}, attempts = attempts + 1, claim = NULL, claimed_until = NULL \
         WHERE id = $1 AND claim = $2 AND status = 'pending'"
    );
    let changed = with_writer!(store, pool => {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(token.to_string())
            .bind(error)
            .bind(time.map(stored))
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(changed == 1)
}

/// Deletes up to `limit` rows of `table` settled (delivered or given up) and created before
/// `cutoff`, oldest first; rows still pending are kept whatever their age. Returns how many.
pub(crate) async fn delete_settled_before(
    store: &Store,
    table: &'static str,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<u64, StoreError> {
    let sql = format!(
        "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} \
         WHERE status <> 'pending' AND created_at < $1 ORDER BY created_at LIMIT $2)"
    );
    Ok(with_writer!(store, pool => {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(stored(cutoff))
            .bind(i64::from(limit))
            .execute(pool)
            .await?
            .rows_affected()
    }))
}
