//! Who is calling: extracted from `Authorization` on every protected request.
//!
//! - `Bearer <jwt>`: a person. The token's signature, expiry and type are checked, then its
//!   session: a revoked session (logout, password change, refresh-token re-use) or a deleted
//!   account fails at once, not when the token expires.
//! - `Basic base64(<device id>:<secret>)`: a device. The secret's SHA-256 is compared in
//!   constant time; a revoked device fails.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use docde_domain::account::Role;
use docde_store::accounts::devices::{self, DeviceCredential};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::secrets::sha256_hex;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrincipal {
    pub id: Uuid,
    pub role: Role,
    pub hospital_id: Option<Uuid>,
    pub session_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePrincipal {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub ward_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User(UserPrincipal),
    Device(DevicePrincipal),
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match credentials(parts, state).await? {
            Credentials::Signed(user) => {
                confirm_session(state, &user).await?;
                Ok(Principal::User(user))
            }
            Credentials::Device(device) => Ok(Principal::Device(device)),
        }
    }
}

/// What `Authorization` proves before any session is read.
enum Credentials {
    /// A genuine, unexpired access token; its session is still to be read.
    Signed(UserPrincipal),
    Device(DevicePrincipal),
}

async fn credentials(parts: &Parts, state: &AppState) -> Result<Credentials, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::Unauthorized("unauthorized"))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("invalid_authorization"))?;
    let (scheme, credentials) = value
        .split_once(' ')
        .ok_or(ApiError::Unauthorized("invalid_authorization"))?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        let claims = state.auth.keys.verify(credentials)?;
        Ok(Credentials::Signed(UserPrincipal {
            id: claims.sub,
            role: claims.role,
            hospital_id: claims.hid,
            session_id: claims.sid,
        }))
    } else if scheme.eq_ignore_ascii_case("basic") {
        device(state, credentials).await.map(Credentials::Device)
    } else {
        Err(ApiError::Unauthorized("invalid_authorization"))
    }
}

/// Fails with `401 session_revoked` unless the user's session still counts, read after the
/// request arrived (logout, a password change, a re-used refresh token or a deleted account
/// stop a token at once).
pub async fn confirm_session(state: &AppState, user: &UserPrincipal) -> Result<(), ApiError> {
    if state
        .auth
        .sessions
        .contains(&state.store, user.session_id)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("session_revoked"))
    }
}

async fn device(state: &AppState, credentials: &str) -> Result<DevicePrincipal, ApiError> {
    const BAD: ApiError = ApiError::Unauthorized("invalid_device_credentials");
    let decoded = STANDARD
        .decode(credentials)
        .map_err(|_| ApiError::Unauthorized("invalid_authorization"))?;
    let decoded =
        String::from_utf8(decoded).map_err(|_| ApiError::Unauthorized("invalid_authorization"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or(ApiError::Unauthorized("invalid_authorization"))?;
    let id = Uuid::parse_str(id).map_err(|_| BAD)?;
    let credential = state.auth.devices.get(&state.store, id).await?;
    credential
        .and_then(|c| accept_device(&c, secret))
        .ok_or(BAD)
}

/// The device `id` if `secret` is its secret and it is not revoked (MQTT messages; HTTP Basic
/// reads through [`crate::auth::DeviceChecks`] and accepts the same way).
pub async fn verify_device(
    store: &docde_store::Store,
    id: Uuid,
    secret: &str,
) -> Result<Option<DevicePrincipal>, docde_store::StoreError> {
    let found = devices::credentials_among(store, &[id]).await?;
    Ok(found.get(&id).and_then(|c| accept_device(c, secret)))
}

/// The device, if `secret` hashes to its stored hash (compared in constant time) and it is not
/// revoked.
fn accept_device(device: &DeviceCredential, secret: &str) -> Option<DevicePrincipal> {
    let matches = bool::from(
        device
            .secret_hash
            .as_bytes()
            .ct_eq(sha256_hex(secret).as_bytes()),
    );
    (matches && !device.revoked).then_some(DevicePrincipal {
        id: device.id,
        hospital_id: device.hospital_id,
        ward_id: device.ward_id,
    })
}

/// A person (not a device) is calling.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub UserPrincipal);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Principal::from_request_parts(parts, state).await? {
            Principal::User(user) => Ok(CurrentUser(user)),
            Principal::Device(_) => Err(ApiError::Forbidden),
        }
    }
}

/// A person whose access token is genuine and unexpired, whose session has **not** been read
/// yet. Only a handler that refuses some requests on public facts alone takes this instead of
/// [`CurrentUser`] — booking refuses a slot that anyone can see is full without the session
/// read, the largest cost of a refusal in the 9 a.m. rush — and it must call
/// [`confirm_session`] before it reads or changes anything that is not public.
#[derive(Debug, Clone)]
pub struct SignedUser(pub UserPrincipal);

impl FromRequestParts<AppState> for SignedUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match credentials(parts, state).await? {
            Credentials::Signed(user) => Ok(SignedUser(user)),
            Credentials::Device(_) => Err(ApiError::Forbidden),
        }
    }
}

/// A device (not a person) is calling.
#[derive(Debug, Clone)]
pub struct CurrentDevice(pub DevicePrincipal);

impl FromRequestParts<AppState> for CurrentDevice {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Principal::from_request_parts(parts, state).await? {
            Principal::Device(device) => Ok(CurrentDevice(device)),
            Principal::User(_) => Err(ApiError::Forbidden),
        }
    }
}

/// The client's address, for rate limits and the audit log: the TCP peer, or the first
/// `X-Forwarded-For` address when `auth.trust_forwarded_for` is set (behind a proxy).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.auth.trust_forwarded_for
            && let Some(ip) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse().ok())
        {
            return Ok(ClientIp(Some(ip)));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp(peer))
    }
}

impl ClientIp {
    pub fn key(&self) -> String {
        self.0
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "unknown".into())
    }
}
