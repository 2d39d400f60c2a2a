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

use uuid::Uuid;

use crate::StoreError;

/// Parses an id column; a malformed id in the database is a bug, reported as an error.
pub(crate) fn id(raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw).map_err(|e| StoreError::Other(sqlx::Error::Decode(Box::new(e))))
}

pub(crate) fn opt_id(raw: Option<&str>) -> Result<Option<Uuid>, StoreError> {
    raw.map(id).transpose()
}
