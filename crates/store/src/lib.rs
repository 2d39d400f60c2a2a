//! The database: connection, migrations, health, and the repositories built on them.
//!
//! Two backends sit behind [`Store`]: SQLite (a file in WAL mode, the embedded default) and
//! PostgreSQL. Query text is written once with `$1` placeholders, which both accept, and
//! [`with_reader!`]/[`with_writer!`] type-check the same body against each pool. A later MySQL
//! backend becomes one more arm and one more migrations directory, not a rewrite; the queries
//! that differ by dialect live in small per-dialect functions.
//!
//! This crate owns invariants: uniqueness, capacity and state transitions are enforced here by
//! constraints and conditional updates inside transactions, never by callers.

pub mod accounts;
pub mod booking;
mod connect;
pub mod directory;
mod error;
pub mod idempotency;
pub mod ops;
pub mod outbox;
#[doc(hidden)]
pub mod plans;
pub mod reception;
pub mod records;
pub mod reviews;
pub mod ward;

pub use connect::{Backend, DatabaseConfig, HealthProblem, Store};
pub use error::StoreError;
pub use error::redacted as redact_error;

/// Runs `$body` with `$pool` bound to a pool that may read (the reader pool on SQLite).
#[macro_export]
macro_rules! with_reader {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store.backend() {
            $crate::Backend::Sqlite { reader: $pool, .. } => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$pool` bound to a pool that may write (the single writer on SQLite).
#[macro_export]
macro_rules! with_writer {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store.backend() {
            $crate::Backend::Sqlite { writer: $pool, .. } => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}
