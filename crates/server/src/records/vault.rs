//! Data keys in use: loaded and checked at start-up, sealing and opening record fields, and
//! re-wrapped under a new master key by [`rotate`].
//!
//! Each data key is 32 random bytes, stored only wrapped by a master key (XChaCha20-Poly1305,
//! associated data = the data key's id) together with a check value (a fixed text sealed with
//! the data key). Start-up unwraps every data key and opens every check value; a master key
//! that is missing or wrong therefore stops the process with a message naming the key ids,
//! rather than letting it serve undecryptable records or, worse, write records nobody can read
//! later. A sealed field is `<data key id>.<base64url(nonce || ciphertext || tag)>`, its
//! associated data the record id, version and field name.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::{Context, anyhow};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use docde_store::Store;
use docde_store::records::keys::{self, StoredDataKey};

use super::envelope::{self, KEY_LEN, Key};
use super::master::MasterKeys;
use crate::config::Config;

/// What the check value of every data key decrypts to.
const CANARY: &[u8] = b"docde record key check v1";

fn wrap_aad(data_key_id: &str) -> Vec<u8> {
    format!("docde:record-key:{data_key_id}").into_bytes()
}

fn canary_aad(data_key_id: &str) -> Vec<u8> {
    format!("docde:record-key-check:{data_key_id}").into_bytes()
}

/// The associated data of one record field: the value belongs to this record, version and
/// field and nowhere else.
pub fn field_context(record_id: uuid::Uuid, version: i32, field: &str) -> String {
    format!("docde:record:{record_id}:{version}:{field}")
}

/// A stored value could not be opened. Never carries the value.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("malformed sealed value")]
    Malformed,
    #[error("record key {0} is unknown")]
    UnknownKey(String),
    #[error("a sealed value failed authentication (key {0})")]
    Corrupt(String),
    #[error("loading record keys")]
    Load(#[source] anyhow::Error),
}

/// The data keys of this instance.
pub struct Vault {
    store: Store,
    master: MasterKeys,
    keys: RwLock<HashMap<String, Arc<Key>>>,
    /// The data key new values are sealed with (the newest at start-up).
    active: String,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("master", &self.master.current_id())
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Opens with the configured master keys (see [`MasterKeys::from_config`]).
    pub async fn start(store: &Store, config: &Config) -> anyhow::Result<Arc<Self>> {
        let rows = keys::all(store).await.context("reading record keys")?;
        let master = MasterKeys::from_config(config, rows.is_empty())?;
        Self::start_with(store, master).await
    }

    /// Unwraps and checks every data key (creating the first one on a new database).
    pub async fn start_with(store: &Store, master: MasterKeys) -> anyhow::Result<Arc<Self>> {
        let mut rows = keys::all(store).await.context("reading record keys")?;
        if rows.is_empty() {
            let (row, _) = new_data_key(&master, crate::api::now());
            keys::insert(store, &row)
                .await
                .context("storing the first record key")?;
            rows = keys::all(store).await.context("reading record keys")?;
        }
        let mut loaded = HashMap::new();
        for row in &rows {
            loaded.insert(row.id.clone(), Arc::new(unwrap(&master, row)?));
        }
        let active = rows
            .last()
            .map(|r| r.id.clone())
            .ok_or_else(|| anyhow!("no record key after creating one"))?;
        tracing::info!(
            master_key = master.current_id(),
            data_keys = loaded.len(),
            active = %active,
            "record keys checked"
        );
        Ok(Arc::new(Self {
            store: store.clone(),
            master,
            keys: RwLock::new(loaded),
            active,
        }))
    }

    /// Seals `plaintext` for `context` (see [`field_context`]) under the active data key.
    pub fn seal(&self, context: &str, plaintext: &str) -> String {
        let key = self
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&self.active)
            .cloned()
            .expect("the active record key is always loaded");
        let sealed = envelope::seal(&key, context.as_bytes(), plaintext.as_bytes());
        format!("{}.{}", self.active, URL_SAFE_NO_PAD.encode(sealed))
    }

    /// Opens a value sealed by any instance; a data key created since this instance started
    /// is loaded on first use.
    pub async fn open(&self, context: &str, sealed: &str) -> Result<String, VaultError> {
        let (key_id, body) = sealed.split_once('.').ok_or(VaultError::Malformed)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| VaultError::Malformed)?;
        let key = match self.key(key_id) {
            Some(key) => key,
            None => {
                self.reload().await.map_err(VaultError::Load)?;
                self.key(key_id)
                    .ok_or_else(|| VaultError::UnknownKey(key_id.to_owned()))?
            }
        };
        let plain = envelope::open(&key, context.as_bytes(), &bytes)
            .map_err(|_| VaultError::Corrupt(key_id.to_owned()))?;
        String::from_utf8(plain).map_err(|_| VaultError::Corrupt(key_id.to_owned()))
    }

    /// Seals an optional value.
    pub fn seal_opt(&self, context: &str, plaintext: Option<&str>) -> Option<String> {
        plaintext.map(|p| self.seal(context, p))
    }

    pub async fn open_opt(
        &self,
        context: &str,
        sealed: Option<&str>,
    ) -> Result<Option<String>, VaultError> {
        match sealed {
            Some(s) => Ok(Some(self.open(context, s).await?)),
            None => Ok(None),
        }
    }

    /// The id of the data key new values are sealed with.
    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    fn key(&self, id: &str) -> Option<Arc<Key>> {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    async fn reload(&self) -> anyhow::Result<()> {
        let rows = keys::all(&self.store).await?;
        for row in rows {
            if self.key(&row.id).is_none() {
                let key = Arc::new(unwrap(&self.master, &row)?);
                self.keys
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(row.id, key);
            }
        }
        Ok(())
    }
}

/// A new data key wrapped by the current master key, with its check value.
fn new_data_key(master: &MasterKeys, now: DateTime<Utc>) -> (StoredDataKey, Key) {
    let key = Key::random();
    let id = uuid::Uuid::now_v7().simple().to_string();
    let row = StoredDataKey {
        wrapped: wrap(master.current(), &id, &key),
        canary: STANDARD.encode(envelope::seal(&key, &canary_aad(&id), CANARY)),
        master_key_id: master.current_id().to_owned(),
        id,
        created_at: now,
    };
    (row, key)
}

fn wrap(master: &Key, data_key_id: &str, key: &Key) -> String {
    STANDARD.encode(envelope::seal(
        master,
        &wrap_aad(data_key_id),
        key.as_bytes(),
    ))
}

/// Unwraps a stored data key and checks its check value, naming what is wrong if either fails.
fn unwrap(master: &MasterKeys, row: &StoredDataKey) -> anyhow::Result<Key> {
    let master_key = master.get(&row.master_key_id).ok_or_else(|| {
        anyhow!(
            "record key {} is wrapped by master key {:?}, which is not configured \
             (records.master_keys holds {:?}): add that key back, after the new one, and run \
             `docde rotate-keys`",
            row.id,
            row.master_key_id,
            master.ids()
        )
    })?;
    let wrapped = STANDARD
        .decode(&row.wrapped)
        .map_err(|_| anyhow!("record key {} is stored malformed", row.id))?;
    let bytes = envelope::open(master_key, &wrap_aad(&row.id), &wrapped).map_err(|_| {
        anyhow!(
            "master key {:?} does not unwrap record key {}: the configured key material is \
             wrong (records.master_keys)",
            row.master_key_id,
            row.id
        )
    })?;
    let bytes: [u8; KEY_LEN] = bytes
        .try_into()
        .map_err(|_| anyhow!("record key {} has the wrong length", row.id))?;
    let key = Key::from_bytes(bytes);
    let canary = STANDARD
        .decode(&row.canary)
        .map_err(|_| anyhow!("record key {} has a malformed check value", row.id))?;
    match envelope::open(&key, &canary_aad(&row.id), &canary) {
        Ok(plain) if plain == CANARY => Ok(key),
        _ => Err(anyhow!(
            "record key {} fails its check value: the key store is damaged",
            row.id
        )),
    }
}

/// What a rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Data keys now wrapped by the current master key that were not before.
    pub rewrapped: usize,
    /// Data keys that already were.
    pub already_current: usize,
    /// Whether a fresh data key was added for new values.
    pub new_data_key: bool,
}

/// Re-wraps every data key under the current (first) master key. Records are not touched, so
/// running instances keep working throughout; each row changes with a conditional UPDATE, so
/// concurrent rotations are harmless. With `new_data_key`, also adds a data key that instances
/// use for new values from their next start.
pub async fn rotate(
    store: &Store,
    master: &MasterKeys,
    new_data_key_too: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<Rotation> {
    let rows = keys::all(store).await.context("reading record keys")?;
    let mut done = Rotation {
        rewrapped: 0,
        already_current: 0,
        new_data_key: false,
    };
    for row in &rows {
        // Unwrapping first checks the old key and the check value before anything changes.
        let key = unwrap(master, row)?;
        if row.master_key_id == master.current_id() {
            done.already_current += 1;
            continue;
        }
        let wrapped = wrap(master.current(), &row.id, &key);
        if keys::rewrap(
            store,
            &row.id,
            &row.master_key_id,
            master.current_id(),
            &wrapped,
            now,
        )
        .await?
        {
            done.rewrapped += 1;
        } else {
            // Another rotation got there first.
            done.already_current += 1;
        }
    }
    if new_data_key_too || rows.is_empty() {
        let (row, _) = new_data_key(master, now);
        keys::insert(store, &row).await?;
        done.new_data_key = true;
    }
    Ok(done)
}
