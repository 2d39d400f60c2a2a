//! `records.*`: the master keys encrypting medical records.

use serde::{Deserialize, Serialize};

/// Encryption of medical records (`crate::records`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordSettings {
    /// Master keys as `KID:BASE64` (32 random bytes; `docde rotate-keys --generate` makes
    /// one). The first wraps data keys, all unwrap them: rotate by putting a new key first,
    /// running `docde rotate-keys`, then removing the old one. Unset on SQLite: a key is
    /// generated once into `DATA_DIR/record-master-key`. Required with PostgreSQL.
    pub master_keys: Vec<String>,
}
