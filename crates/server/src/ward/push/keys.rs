//! The installation's VAPID key pair (RFC 8292): browsers subscribe with its public half and
//! push services check that every message is signed with its private half.
//!
//! `push.vapid_private_key` if configured; otherwise the pair stored in the database, made by
//! the first instance that needed one, its private half sealed with the record vault. Loaded
//! once per instance.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use docde_store::ward::push::{self, StoredVapidKey};
use tokio::sync::OnceCell;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};

use crate::state::AppState;

/// The vault context the stored private key is sealed under.
const SEAL_CONTEXT: &str = "push.vapid_private_key";

/// A usable key pair.
pub struct VapidKeys {
    pub pair: ES256KeyPair,
    /// base64url (no padding) of the uncompressed public point: the browser's
    /// `applicationServerKey`.
    pub public_key: String,
}

impl std::fmt::Debug for VapidKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKeys")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

impl VapidKeys {
    fn new(pair: ES256KeyPair) -> Self {
        let public_key =
            URL_SAFE_NO_PAD.encode(pair.public_key().public_key().to_bytes_uncompressed());
        Self { pair, public_key }
    }
}

/// Decodes a private key: base64url (padded or not) of the 32-byte P-256 scalar.
pub fn parse_private_key(raw: &str) -> Result<ES256KeyPair, String> {
    let raw = raw.trim();
    let bytes = URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(raw))
        .map_err(|_| "must be base64url".to_owned())?;
    if bytes.len() != 32 {
        return Err("must be the 32-byte P-256 private key in base64url (43 characters)".into());
    }
    ES256KeyPair::from_bytes(&bytes).map_err(|_| "not a valid P-256 private key".into())
}

/// This instance's key pair, loaded (or made) on first use.
#[derive(Debug, Default)]
pub struct PushKeys {
    keys: OnceCell<Arc<VapidKeys>>,
}

impl PushKeys {
    pub async fn get(&self, state: &AppState) -> anyhow::Result<Arc<VapidKeys>> {
        self.keys
            .get_or_try_init(|| async { load(state).await.map(Arc::new) })
            .await
            .cloned()
    }
}

async fn load(state: &AppState) -> anyhow::Result<VapidKeys> {
    if let Some(raw) = &state.config.push.vapid_private_key {
        let pair =
            parse_private_key(raw).map_err(|e| anyhow::anyhow!("push.vapid_private_key: {e}"))?;
        return Ok(VapidKeys::new(pair));
    }
    let stored = match push::vapid_key(&state.store).await? {
        Some(stored) => stored,
        None => {
            let pair = ES256KeyPair::generate();
            let made = VapidKeys::new(pair);
            let sealed = state
                .records
                .seal(SEAL_CONTEXT, &URL_SAFE_NO_PAD.encode(made.pair.to_bytes()));
            let stored = StoredVapidKey {
                public_key: made.public_key.clone(),
                private_key: sealed,
            };
            let kept = push::insert_vapid_key(&state.store, &stored, crate::api::now()).await?;
            if kept == stored {
                tracing::info!(public_key = %made.public_key, "made this installation's VAPID key pair");
                return Ok(made);
            }
            // Another instance stored its pair first: use that one.
            kept
        }
    };
    let private = state
        .records
        .open(SEAL_CONTEXT, &stored.private_key)
        .await?;
    let pair = parse_private_key(&private).map_err(|e| anyhow::anyhow!("stored VAPID key: {e}"))?;
    let keys = VapidKeys::new(pair);
    anyhow::ensure!(
        keys.public_key == stored.public_key,
        "the stored VAPID public key does not match its private key"
    );
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_key_round_trips_and_bad_ones_are_refused() {
        let pair = ES256KeyPair::generate();
        let raw = URL_SAFE_NO_PAD.encode(pair.to_bytes());
        let parsed = parse_private_key(&raw).unwrap();
        assert_eq!(
            VapidKeys::new(parsed).public_key,
            VapidKeys::new(pair).public_key
        );
        assert!(parse_private_key("not base64 !").is_err());
        assert!(parse_private_key(&URL_SAFE_NO_PAD.encode([7u8; 16])).is_err());
        // The uncompressed point: 65 bytes, 87 base64url characters, starting with 0x04.
        let keys = VapidKeys::new(ES256KeyPair::generate());
        assert_eq!(keys.public_key.len(), 87);
        assert_eq!(URL_SAFE_NO_PAD.decode(&keys.public_key).unwrap()[0], 4);
    }
}
