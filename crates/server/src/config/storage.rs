//! `database.*` and `redis.*`: where the data lives and how instances coordinate.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` for PostgreSQL, `sqlite://PATH` for a specific SQLite file, or unset for
    /// `DATA_DIR/docde.db`.
    pub url: Option<String>,
    /// PostgreSQL schema to keep DocDe's tables in (created if missing).
    pub schema: Option<String>,
    pub max_connections: u32,
    pub acquire_timeout_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            schema: None,
            max_connections: 16,
            acquire_timeout_ms: 5_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://…`; unset means in-process coordination (one instance).
    pub url: Option<String>,
    /// Prefix of every Redis key and channel, so installations can share a Redis.
    pub namespace: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: None,
            namespace: "docde".into(),
        }
    }
}
