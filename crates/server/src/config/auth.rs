//! `auth.*`: sign-in and tokens, and the check of a signing key.

use serde::{Deserialize, Serialize};

/// Sign-in and tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// HMAC keys for access tokens as `KID:SECRET` (secret at least 32 bytes), the first one
    /// signs and all verify, so a key is rotated by putting a new one first and removing the
    /// old one after `access_ttl_s`. Unset on SQLite: a key is generated once and kept in
    /// `DATA_DIR/signing-key`. Required with PostgreSQL, where instances must share keys.
    pub signing_keys: Vec<String>,
    pub access_ttl_s: u64,
    pub refresh_ttl_s: u64,
    /// Use the first address of `X-Forwarded-For` as the client address (for rate limits and
    /// the audit log). Only enable behind a proxy that sets it.
    pub trust_forwarded_for: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            signing_keys: Vec::new(),
            access_ttl_s: 15 * 60,
            refresh_ttl_s: 30 * 24 * 3600,
            trust_forwarded_for: false,
        }
    }
}

/// Splits a signing key `KID:SECRET`, checking both parts.
pub fn parse_signing_key(entry: &str) -> Result<(&str, &str), String> {
    let (kid, secret) = entry.split_once(':').ok_or("must be KID:SECRET")?;
    if kid.is_empty()
        || !kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("the key id must be letters, digits, '-' or '_'".into());
    }
    if secret.len() < 32 {
        return Err("the secret must be at least 32 characters".into());
    }
    Ok((kid, secret))
}
