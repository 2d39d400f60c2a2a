//! Access-token signing keys (HS256), chosen by key id so keys can be rotated: the first key
//! signs, every listed key verifies.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use anyhow::Context;
use docde_domain::account::Role;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lru::LruCache;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::config::{Config, parse_signing_key};
use crate::problem::ApiError;

pub const ISSUER: &str = "docde";

/// How many verified access tokens are remembered (see [`SigningKeys::verify`]): a busy
/// hospital's signed-in patients and staff, at ~530 bytes each (~17 MB when full).
const VERIFIED_TOKENS: NonZeroUsize = NonZeroUsize::new(32_768).unwrap();

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: Uuid,
    /// The session; revoking it invalidates the token before it expires.
    pub sid: Uuid,
    pub role: Role,
    /// The staff member's hospital.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hid: Option<Uuid>,
    /// Always `access`: nothing else is ever signed with these keys, and refresh tokens are
    /// opaque strings, so neither can stand in for the other.
    pub typ: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

pub struct SigningKeys {
    signing_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    validation: Validation,
    code_key: Vec<u8>,
    /// Tokens this process has verified in full, by their exact text. The keys never change
    /// while the process runs, so a token that verified once verifies again until it
    /// expires; what still changes — the session being revoked — is checked on every request
    /// elsewhere (`confirm_session`).
    verified: Mutex<LruCache<Box<str>, AccessClaims>>,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Invalid,
    Expired,
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Invalid => ApiError::Unauthorized("invalid_token"),
            TokenError::Expired => ApiError::Unauthorized("token_expired"),
        }
    }
}

impl SigningKeys {
    /// Keys from `auth.signing_keys`; without any on SQLite, the key kept in
    /// `DATA_DIR/signing-key` (created on first start, readable by the owner only).
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let entries: Vec<(String, Vec<u8>)> = if config.auth.signing_keys.is_empty() {
            vec![local_key(&config.data_dir.join("signing-key"))?]
        } else {
            config
                .auth
                .signing_keys
                .iter()
                .map(|entry| {
                    let (kid, secret) = parse_signing_key(entry)
                        .map_err(|e| anyhow::anyhow!("auth.signing_keys: {e}"))?;
                    Ok((kid.to_owned(), secret.as_bytes().to_vec()))
                })
                .collect::<anyhow::Result<_>>()?
        };
        Ok(Self::new(&entries))
    }

    pub fn new(entries: &[(String, Vec<u8>)]) -> Self {
        let (signing_kid, signing_secret) = entries.first().cloned().unwrap_or_default();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
        validation.leeway = 5;
        // One-time codes are keyed by the oldest configured key, which changes least often.
        let code_key = entries.last().map(|(_, s)| s.clone()).unwrap_or_default();
        Self {
            signing: EncodingKey::from_secret(&signing_secret),
            signing_kid,
            verifying: entries
                .iter()
                .map(|(kid, s)| (kid.clone(), DecodingKey::from_secret(s)))
                .collect(),
            validation,
            code_key,
            verified: Mutex::new(LruCache::new(VERIFIED_TOKENS)),
        }
    }

    pub fn sign(&self, claims: &AccessClaims) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.signing_kid.clone());
        jsonwebtoken::encode(&header, claims, &self.signing).context("signing access token")
    }

    /// Verifies signature (by key id), algorithm (HS256 only: `none` and others are refused),
    /// issuer, expiry and type.
    ///
    /// A token verified before is answered from memory while it has not expired: a patient's
    /// app sends the same token with every request, and decoding and checking it (the header
    /// and the claims parsed twice each, and the HMAC) was 12 % of the server's CPU where most
    /// requests were refused bookings (BENCHMARKS.md, session 24).
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let now = chrono::Utc::now().timestamp();
        if let Some(claims) = self.recall(token, now) {
            return Ok(claims);
        }
        let claims = self.verify_in_full(token)?;
        self.verified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(token.into(), claims.clone());
        Ok(claims)
    }

    /// The claims of `token` if it was verified before and has not expired at `now`. Never
    /// more lenient than the full check: that allows a few seconds' leeway past expiry, and
    /// this none, so a token about to lapse is checked in full again.
    fn recall(&self, token: &str, now: i64) -> Option<AccessClaims> {
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        let claims = verified.get(token)?;
        if claims.exp > now {
            return Some(claims.clone());
        }
        verified.pop(token);
        None
    }

    fn verify_in_full(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenError::Invalid);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.verifying.get(kid))
            .ok_or(TokenError::Invalid)?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation).map_err(
            |e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            },
        )?;
        if data.claims.typ != "access" {
            return Err(TokenError::Invalid);
        }
        Ok(data.claims)
    }

    /// Keyed hash of a one-time code, bound to its user and purpose, so a leaked database
    /// does not let anyone test codes offline and a code for one purpose fits no other.
    pub fn code_hash(&self, purpose: &str, user_id: Uuid, code: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.code_key).expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(user_id.as_bytes());
        mac.update(b"\0");
        mac.update(code.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Reads `KID:SECRET` from `path`, creating it with a fresh random key if missing.
fn local_key(path: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    if !path.exists() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let secret = super::secrets::random_token(32);
        let kid = format!("local-{}", &super::secrets::sha256_hex(&secret)[..8]);
        write_private(path, &format!("{kid}:{secret}\n"))?;
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (kid, secret) =
        parse_signing_key(text.trim()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((kid.to_owned(), secret.as_bytes().to_vec()))
}

#[cfg(unix)]
pub(crate) fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("creating {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(entries: &[(&str, &str)]) -> SigningKeys {
        SigningKeys::new(
            &entries
                .iter()
                .map(|(k, s)| ((*k).to_owned(), s.as_bytes().to_vec()))
                .collect::<Vec<_>>(),
        )
    }

    fn claims(exp_in: i64) -> AccessClaims {
        let now = chrono::Utc::now().timestamp();
        AccessClaims {
            sub: Uuid::now_v7(),
            sid: Uuid::now_v7(),
            role: Role::Nurse,
            hid: Some(Uuid::now_v7()),
            typ: "access".into(),
            iss: ISSUER.into(),
            iat: now,
            exp: now + exp_in,
        }
    }

    const A: &str = "a-secret-that-is-long-enough-0123456789";
    const B: &str = "b-secret-that-is-long-enough-0123456789";

    #[test]
    fn a_token_verifies_until_it_expires() {
        let k = keys(&[("a", A)]);
        let c = claims(60);
        assert_eq!(k.verify(&k.sign(&c).unwrap()).unwrap().sub, c.sub);
        assert_eq!(
            k.verify(&k.sign(&claims(-60)).unwrap()).unwrap_err(),
            TokenError::Expired
        );
    }

    #[test]
    fn rotation_keeps_old_tokens_valid_while_the_old_key_is_listed() {
        let old = keys(&[("a", A)]);
        let token = old.sign(&claims(60)).unwrap();
        assert!(keys(&[("b", B), ("a", A)]).verify(&token).is_ok());
        assert_eq!(
            keys(&[("b", B)]).verify(&token).unwrap_err(),
            TokenError::Invalid
        );
    }

    #[test]
    fn tampered_unsigned_and_wrong_type_tokens_are_refused() {
        let k = keys(&[("a", A)]);
        let token = k.sign(&claims(60)).unwrap();
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(k.verify(&tampered).unwrap_err(), TokenError::Invalid);

        let parts: Vec<&str> = token.split('.').collect();
        let none_header = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            r#"{"alg":"none","typ":"JWT","kid":"a"}"#,
        );
        assert_eq!(
            k.verify(&format!("{none_header}.{}.", parts[1]))
                .unwrap_err(),
            TokenError::Invalid
        );

        let mut refresh_like = claims(60);
        refresh_like.typ = "refresh".into();
        assert_eq!(
            k.verify(&k.sign(&refresh_like).unwrap()).unwrap_err(),
            TokenError::Invalid
        );
        assert_eq!(k.verify("not-a-jwt").unwrap_err(), TokenError::Invalid);
    }

    #[test]
    fn a_remembered_token_is_answered_only_for_its_exact_text_and_until_it_expires() {
        let k = keys(&[("a", A)]);
        let c = claims(60);
        let token = k.sign(&c).unwrap();
        assert_eq!(k.verify(&token).unwrap().sub, c.sub);
        let now = chrono::Utc::now().timestamp();
        assert_eq!(k.recall(&token, now).map(|r| r.sub), Some(c.sub));
        // One character off is another token: checked in full, and refused.
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(k.recall(&tampered, now).is_none());
        assert_eq!(k.verify(&tampered).unwrap_err(), TokenError::Invalid);
        // At its expiry it is no longer answered from memory, and is forgotten.
        assert!(k.recall(&token, c.exp).is_none());
        assert!(k.verified.lock().unwrap().peek(token.as_str()).is_none());
        // Refused tokens are not remembered.
        let expired = k.sign(&claims(-60)).unwrap();
        assert_eq!(k.verify(&expired).unwrap_err(), TokenError::Expired);
        assert!(k.recall(&expired, now - 3_600).is_none());
    }

    #[test]
    fn code_hashes_are_bound_to_user_and_purpose() {
        let k = keys(&[("a", A)]);
        let user = Uuid::now_v7();
        let h = k.code_hash("verify_email", user, "123456");
        assert_eq!(h, k.code_hash("verify_email", user, "123456"));
        assert_ne!(h, k.code_hash("reset_password", user, "123456"));
        assert_ne!(h, k.code_hash("verify_email", Uuid::now_v7(), "123456"));
    }

    #[test]
    fn a_local_key_is_created_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing-key");
        let first = local_key(&path).unwrap();
        assert_eq!(local_key(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
