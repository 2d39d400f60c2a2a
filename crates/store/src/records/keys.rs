//! The wrapped data keys that encrypt medical records (envelope encryption). Only wrapped
//! keys are stored; the master keys that unwrap them live in the configuration, never here.

use chrono::{DateTime, Utc};

use crate::{Store, StoreError, with_reader, with_writer};

/// One data key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDataKey {
    pub id: String,
    /// The master key (by its configured id) that wrapped it.
    pub master_key_id: String,
    /// base64(nonce || ciphertext || tag).
    pub wrapped: String,
    /// A fixed text sealed with the data key, checked when the key is loaded.
    pub canary: String,
    pub created_at: DateTime<Utc>,
}

/// Every data key, oldest first (the newest encrypts new values).
pub async fn all(store: &Store) -> Result<Vec<StoredDataKey>, StoreError> {
    let rows: Vec<(String, String, String, String, DateTime<Utc>)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT id, master_key_id, wrapped, canary, created_at FROM record_keys \
             ORDER BY created_at, id",
        )
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(
            |(id, master_key_id, wrapped, canary, created_at)| StoredDataKey {
                id,
                master_key_id,
                wrapped,
                canary,
                created_at,
            },
        )
        .collect())
}

pub async fn insert(store: &Store, key: &StoredDataKey) -> Result<(), StoreError> {
    with_writer!(store, pool => {
        sqlx::query(
            "INSERT INTO record_keys (id, master_key_id, wrapped, canary, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.id)
        .bind(&key.master_key_id)
        .bind(&key.wrapped)
        .bind(&key.canary)
        .bind(crate::ward::stored(key.created_at))
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Replaces a data key's wrapping, if it is still wrapped by `old_master` (so two rotations
/// running at once cannot overwrite each other's result). Returns whether the row changed.
pub async fn rewrap(
    store: &Store,
    id: &str,
    old_master: &str,
    new_master: &str,
    wrapped: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = with_writer!(store, pool => {
        sqlx::query(
            "UPDATE record_keys SET master_key_id = $1, wrapped = $2, rewrapped_at = $3 \
             WHERE id = $4 AND master_key_id = $5",
        )
        .bind(new_master)
        .bind(wrapped)
        .bind(crate::ward::stored(now))
        .bind(id)
        .bind(old_master)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(done == 1)
}
