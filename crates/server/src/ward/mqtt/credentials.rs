//! Device secrets carried in MQTT messages, checked like HTTP Basic credentials (SHA-256 of the
//! secret against the stored hash, revoked devices refused) and then trusted for a short time,
//! so a device publishing many times a second costs one database read per `ttl`, not one per
//! message. A revocation therefore takes effect within `ttl` (5 s by default). Wrong secrets
//! are never cached: each is checked against the database.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use docde_store::{Store, StoreError};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::auth::principal::{DevicePrincipal, verify_device};

/// More cached devices than this and the cache starts over (a bound on memory, far above a
/// hospital's device count).
const MAX_ENTRIES: usize = 100_000;

struct Verified {
    secret: String,
    device: DevicePrincipal,
    at: Instant,
}

pub struct Credentials {
    ttl: Duration,
    verified: Mutex<HashMap<Uuid, Verified>>,
}

impl Credentials {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// The device `id` if `secret` is its secret and it is not revoked.
    pub async fn verify(
        &self,
        store: &Store,
        id: Uuid,
        secret: &str,
    ) -> Result<Option<DevicePrincipal>, StoreError> {
        if let Ok(cache) = self.verified.lock()
            && let Some(v) = cache.get(&id)
            && v.at.elapsed() < self.ttl
            && bool::from(v.secret.as_bytes().ct_eq(secret.as_bytes()))
        {
            return Ok(Some(v.device.clone()));
        }
        let device = verify_device(store, id, secret).await?;
        if let Ok(mut cache) = self.verified.lock() {
            match &device {
                Some(device) => {
                    if cache.len() >= MAX_ENTRIES {
                        cache.clear();
                    }
                    cache.insert(
                        id,
                        Verified {
                            secret: secret.to_owned(),
                            device: device.clone(),
                            at: Instant::now(),
                        },
                    );
                }
                None => {
                    cache.remove(&id);
                }
            }
        }
        Ok(device)
    }
}
