//! Master keys: they wrap the data keys and never touch a record themselves.
//!
//! Configured as `records.master_keys = ["KID:BASE64", …]` (32 random bytes in standard
//! base64); the first wraps, every listed one unwraps, so a rotation lists the new key first
//! and keeps the old one until `docde rotate-keys` has re-wrapped every data key. Without
//! configuration on SQLite, a key is generated once into `DATA_DIR/record-master-key`
//! (mode 0600), like the token signing key. PostgreSQL installations must configure it: every
//! instance has to hold the same key, and a key generated on one host would lock out the rest.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::envelope::{KEY_LEN, Key};
use crate::config::Config;

/// The local key file's name inside `data_dir`.
pub const LOCAL_FILE: &str = "record-master-key";

/// The configured master keys by id; the first configured is current.
#[derive(Debug, Clone)]
pub struct MasterKeys {
    current: String,
    keys: HashMap<String, Key>,
}

/// Splits and checks `KID:BASE64` (the key must decode to exactly 32 bytes).
pub fn parse_master_key(entry: &str) -> Result<(&str, Key), String> {
    let (kid, secret) = entry
        .split_once(':')
        .ok_or("must be KID:BASE64 (generate one with `docde rotate-keys --generate`)")?;
    if kid.is_empty()
        || kid.len() > 64
        || !kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("the key id must be 1–64 letters, digits, '-' or '_'".into());
    }
    let bytes = STANDARD
        .decode(secret.trim())
        .map_err(|_| "the key must be standard base64".to_owned())?;
    let bytes: [u8; KEY_LEN] = bytes
        .try_into()
        .map_err(|_| format!("the key must be {KEY_LEN} bytes (44 base64 characters)"))?;
    Ok((kid, Key::from_bytes(bytes)))
}

/// A new master key entry `mk-<8 hex>:<base64>` for the configuration.
pub fn generate_entry() -> String {
    let key = Key::random();
    let mut id = [0u8; 4];
    getrandom::fill(&mut id).expect("the operating system's random source failed");
    format!("mk-{}:{}", hex::encode(id), STANDARD.encode(key.as_bytes()))
}

impl MasterKeys {
    /// From `KID:BASE64` entries, the first current. Ids must be distinct.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let mut keys = HashMap::new();
        let mut current = None;
        for (i, entry) in entries.iter().enumerate() {
            let (kid, key) =
                parse_master_key(entry).map_err(|e| format!("records.master_keys[{i}]: {e}"))?;
            if keys.insert(kid.to_owned(), key).is_some() {
                return Err(format!(
                    "records.master_keys[{i}]: the id {kid:?} is listed twice"
                ));
            }
            current.get_or_insert_with(|| kid.to_owned());
        }
        let current = current.ok_or("records.master_keys: no key given")?;
        Ok(Self { current, keys })
    }

    /// The configured keys; without any, on SQLite, the local key file — created only when
    /// `may_create` (no data key exists yet), so a lost file is reported, not replaced.
    pub fn from_config(config: &Config, may_create: bool) -> anyhow::Result<Self> {
        if !config.records.master_keys.is_empty() {
            return Self::parse(&config.records.master_keys).map_err(anyhow::Error::msg);
        }
        if config.database_url().starts_with("postgres") {
            anyhow::bail!(
                "records.master_keys must be set with PostgreSQL, so every instance can read \
                 records (e.g. DOCDE_RECORDS_MASTER_KEYS='[\"{}\"]', made with \
                 `docde rotate-keys --generate`)",
                generate_entry().split(':').next().unwrap_or("mk-1")
            );
        }
        let path = config.data_dir.join(LOCAL_FILE);
        if !path.exists() {
            if !may_create {
                anyhow::bail!(
                    "records.master_keys is not set and {} is missing, but the database holds \
                     encrypted records: restore that file (or configure the key) — a new key \
                     could not read them",
                    path.display()
                );
            }
            create_local(&path)?;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&[text.trim().to_owned()])
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    pub fn current_id(&self) -> &str {
        &self.current
    }

    pub fn current(&self) -> &Key {
        &self.keys[&self.current]
    }

    pub fn get(&self, id: &str) -> Option<&Key> {
        self.keys.get(id)
    }

    /// The current key alone (to prove that the others are no longer needed).
    pub fn only_current(&self) -> Self {
        Self {
            current: self.current.clone(),
            keys: HashMap::from([(self.current.clone(), self.current().clone())]),
        }
    }

    pub fn ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }
}

fn create_local(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    crate::auth::keys::write_private(path, &format!("{}\n", generate_entry()))
}

/// Where the local master key of an embedded installation lives.
pub fn local_path(config: &Config) -> PathBuf {
    Path::new(&config.data_dir).join(LOCAL_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_and_the_first_is_current() {
        let (a, b) = (generate_entry(), generate_entry());
        let keys = MasterKeys::parse(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(keys.current_id(), a.split(':').next().unwrap());
        assert!(keys.get(b.split(':').next().unwrap()).is_some());
        assert_eq!(keys.ids().len(), 2);
    }

    #[test]
    fn malformed_short_and_duplicate_keys_are_refused_with_their_index() {
        assert!(parse_master_key("no-colon").is_err());
        assert!(
            parse_master_key("k1:c2hvcnQ=")
                .unwrap_err()
                .contains("32 bytes")
        );
        assert!(parse_master_key("k 1:AAAA").is_err());
        let a = generate_entry();
        let err = MasterKeys::parse(&[a.clone(), a]).unwrap_err();
        assert!(err.contains("records.master_keys[1]"), "{err}");
        assert!(MasterKeys::parse(&[]).is_err());
    }

    #[test]
    fn postgres_without_keys_refuses_and_sqlite_creates_a_private_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        assert!(
            MasterKeys::from_config(&config, false)
                .unwrap_err()
                .to_string()
                .contains("is missing"),
            "a lost key file is reported, not replaced"
        );
        let first = MasterKeys::from_config(&config, true).unwrap();
        let again = MasterKeys::from_config(&config, false).unwrap();
        assert_eq!(first.current_id(), again.current_id());
        assert_eq!(first.current(), again.current());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(local_path(&config))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        config.database.url = Some("postgres://db.internal/docde".into());
        assert!(
            MasterKeys::from_config(&config, true)
                .unwrap_err()
                .to_string()
                .contains("records.master_keys must be set")
        );
    }
}
