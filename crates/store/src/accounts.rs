//! Accounts: people, one-time codes, sessions and refresh tokens, devices, and the minimal
//! hospitals and wards that staff and devices belong to; plus the audit trail.
//!
//! Ids are UUIDv7 stored as text on both backends (one representation, readable in `psql`
//! and `sqlite3` alike).

pub mod audit;
pub mod codes;
pub mod devices;
pub mod hospitals;
pub mod sessions;
pub mod users;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use uuid::Uuid;

use crate::StoreError;

/// Parses an id column; a malformed id in the database is a bug, reported as an error.
pub(crate) fn id(raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw).map_err(|e| StoreError::Other(sqlx::Error::Decode(Box::new(e))))
}

pub(crate) fn opt_id(raw: Option<&str>) -> Result<Option<Uuid>, StoreError> {
    raw.map(id).transpose()
}

/// `items` as one JSON array, the parameter of the `json_each` / `jsonb_array_elements` reads
/// that answer many requests at once with one cached statement for every batch size.
pub(crate) fn json_param<T: serde::Serialize>(items: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(items).map_err(|e| StoreError::Other(sqlx::Error::Encode(e.into())))
}

/// A time in a JSON parameter as both backends store it from a bound `DateTime<Utc>`
/// (microseconds; the text form sqlx writes on SQLite, which PostgreSQL's `timestamptz` also
/// reads), so that stored times compare as before.
pub(crate) fn stamp(t: DateTime<Utc>) -> String {
    t.trunc_subsecs(6)
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}
