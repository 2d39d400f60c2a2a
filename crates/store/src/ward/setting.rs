//! A ward's settings that are kept as one JSON row per ward — its alarm threshold overrides
//! and its escalation delays: read, replace and clear, each row with who set it and when.
//! What the JSON means, and checking it, is the owning module's and its caller's business.
//!
//! Table and column names come from this crate, never from input.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::stored;
use crate::accounts::opt_id;
use crate::{Store, StoreError, with_reader, with_writer};

/// A stored setting, with who set it last and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting<T> {
    pub value: T,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
}

/// Where a setting lives: a table keyed by `ward_id` with the JSON in `column`, and
/// `updated_at` / `updated_by`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    pub table: &'static str,
    pub column: &'static str,
}

/// A row as read: the JSON, when, by whom.
pub(crate) type Row = (String, DateTime<Utc>, Option<String>);

pub(crate) fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Other(sqlx::Error::Decode(Box::new(e))))
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(sqlx::Error::Encode(Box::new(e))))
}

pub(crate) fn from_row<T: DeserializeOwned>(
    (json, updated_at, by): Row,
) -> Result<Setting<T>, StoreError> {
    Ok(Setting {
        value: from_json(&json)?,
        updated_at,
        updated_by: opt_id(by.as_deref())?,
    })
}

/// The ward's setting, if it has its own.
pub(crate) async fn of_ward<T: DeserializeOwned>(
    store: &Store,
    place: Place,
    ward_id: Uuid,
) -> Result<Option<Setting<T>>, StoreError> {
    let Place { table, column } = place;
    let sql = format!("SELECT {column}, updated_at, updated_by FROM {table} WHERE ward_id = $1");
    let row: Option<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(ward_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(from_row).transpose()
}

/// Replaces the ward's setting. The ward must exist (the caller loaded it).
pub(crate) async fn set_ward<T: Serialize + DeserializeOwned>(
    store: &Store,
    place: Place,
    ward_id: Uuid,
    value: &T,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Setting<T>, StoreError> {
    let Place { table, column } = place;
    let json = to_json(value)?;
    let sql = format!(
        "INSERT INTO {table} (ward_id, {column}, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (ward_id) DO UPDATE SET {column} = excluded.{column}, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by \
         RETURNING {column}, updated_at, updated_by"
    );
    let row: Row = with_writer!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(ward_id.to_string())
            .bind(&json)
            .bind(stored(now))
            .bind(by.map(|b| b.to_string()))
            .fetch_one(pool)
            .await?
    });
    from_row(row)
}

/// Removes the ward's own setting; whether it had one.
pub(crate) async fn clear_ward(
    store: &Store,
    place: Place,
    ward_id: Uuid,
) -> Result<bool, StoreError> {
    let sql = format!("DELETE FROM {} WHERE ward_id = $1", place.table);
    let n = with_writer!(store, pool => {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ward_id.to_string())
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}
