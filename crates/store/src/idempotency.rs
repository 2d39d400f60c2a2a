//! Idempotency keys: the first request with a key does the work; retries get its answer.
//!
//! The claim is an INSERT on the primary key, so two concurrent requests with the same key
//! cannot both proceed, on any number of instances.

use chrono::{DateTime, Utc};

use crate::{Store, StoreError, with_reader, with_writer};

/// Result of trying to claim a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new and now ours: do the work, then [`complete`].
    Acquired,
    /// The work was done before; answer with this.
    Replay { status: u16, response: Vec<u8> },
    /// Another request with this key is still running.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

/// Claims `key` for `principal` and a request fingerprinted as `request_hash`.
pub async fn claim(
    store: &Store,
    principal: &str,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
) -> Result<Claim, StoreError> {
    let inserted = with_writer!(store, pool => sqlx::query(
        "INSERT INTO idempotency_keys (principal, idem_key, request_hash, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(principal)
    .bind(key)
    .bind(request_hash)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected());
    if inserted == 1 {
        return Ok(Claim::Acquired);
    }
    let row: Option<(String, Option<i32>, Option<Vec<u8>>)> = with_reader!(store, pool => sqlx::query_as(
        "SELECT request_hash, status, response FROM idempotency_keys WHERE principal = $1 AND idem_key = $2",
    )
    .bind(principal)
    .bind(key)
    .fetch_optional(pool)
    .await?);
    Ok(match row {
        Some((hash, _, _)) if hash != request_hash => Claim::Mismatch,
        Some((_, Some(status), response)) => Claim::Replay {
            status: u16::try_from(status).unwrap_or(500),
            response: response.unwrap_or_default(),
        },
        // Still running, or released between our INSERT and SELECT: either way, not ours now.
        _ => Claim::InProgress,
    })
}

/// Stores the answer for a claimed key.
pub async fn complete(
    store: &Store,
    principal: &str,
    key: &str,
    status: u16,
    response: &[u8],
) -> Result<(), StoreError> {
    with_writer!(store, pool => sqlx::query(
        "UPDATE idempotency_keys SET status = $3, response = $4 WHERE principal = $1 AND idem_key = $2",
    )
    .bind(principal)
    .bind(key)
    .bind(i32::from(status))
    .bind(response)
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Gives up a claimed key (the work failed without a storable answer), so a retry can run.
pub async fn release(store: &Store, principal: &str, key: &str) -> Result<(), StoreError> {
    with_writer!(store, pool => sqlx::query(
        "DELETE FROM idempotency_keys WHERE principal = $1 AND idem_key = $2 AND status IS NULL",
    )
    .bind(principal)
    .bind(key)
    .execute(pool)
    .await
    .map(|_| ())?);
    Ok(())
}

/// Forgets keys older than `before`; returns how many were removed.
pub async fn purge(store: &Store, before: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(
        with_writer!(store, pool => sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(before)
        .execute(pool)
        .await?
        .rows_affected()),
    )
}
