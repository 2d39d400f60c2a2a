//! Issuing token pairs: a short-lived access JWT and an opaque, rotating refresh token.

use chrono::{DateTime, Duration, Utc};
use docde_store::accounts::sessions::NewRefresh;
use docde_store::accounts::users::User;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::keys::{AccessClaims, ISSUER};
use super::secrets::{random_token, sha256_hex};
use crate::problem::ApiError;
use crate::state::AppState;

/// What a successful sign-in or refresh returns.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Exchange at `POST /api/v1/auth/refresh` for a new pair; each can be used once.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// A new refresh token: what the store keeps, and what the client gets (`<id>.<secret>`).
pub fn new_refresh(state: &AppState, now: DateTime<Utc>) -> (NewRefresh, String) {
    let id = Uuid::now_v7();
    let secret = random_token(32);
    let ttl =
        Duration::seconds(i64::try_from(state.config.auth.refresh_ttl_s).unwrap_or(i64::MAX / 2));
    (
        NewRefresh {
            id,
            secret_hash: sha256_hex(&secret),
            expires_at: now + ttl,
        },
        format!("{id}.{secret}"),
    )
}

/// Splits a presented refresh token into its id and the hash of its secret.
pub fn parse_refresh(token: &str) -> Option<(Uuid, String)> {
    let (id, secret) = token.split_once('.')?;
    if secret.len() < 32 {
        return None;
    }
    Some((Uuid::parse_str(id).ok()?, sha256_hex(secret)))
}

/// Signs an access token for `user` in `session` and pairs it with `refresh_token`.
pub fn pair(
    state: &AppState,
    user: &User,
    session: Uuid,
    refresh_token: String,
    now: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    let ttl = state.config.auth.access_ttl_s;
    let claims = AccessClaims {
        sub: user.id,
        sid: session,
        role: user.role,
        hid: user.hospital_id,
        typ: "access".into(),
        iss: ISSUER.into(),
        iat: now.timestamp(),
        exp: now.timestamp() + i64::try_from(ttl).unwrap_or(i64::MAX / 2),
    };
    Ok(TokenPair {
        access_token: state.auth.keys.sign(&claims)?,
        refresh_token,
        token_type: "Bearer",
        expires_in: ttl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_parse_only_in_their_own_shape() {
        let id = Uuid::now_v7();
        let secret = random_token(32);
        let (parsed, hash) = parse_refresh(&format!("{id}.{secret}")).unwrap();
        assert_eq!((parsed, hash), (id, sha256_hex(&secret)));
        assert!(
            parse_refresh("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig").is_none(),
            "a JWT is not a refresh token"
        );
        assert!(parse_refresh("nonsense").is_none());
    }
}
