//! Authentication: who is calling. Passwords, signing keys, access and refresh tokens,
//! device credentials, the request's principal, and brute-force limits.
//!
//! *What* a principal may do is decided in [`crate::authz`], not here.

pub mod device_checks;
pub mod keys;
pub mod passwords;
pub mod principal;
pub mod rate_limit;
pub mod secrets;
pub mod session_checks;
pub mod tokens;

use std::sync::Arc;

pub use device_checks::DeviceChecks;
pub use keys::SigningKeys;
pub use passwords::Passwords;
pub use principal::{ClientIp, CurrentUser, Principal, SignedUser, UserPrincipal, confirm_session};
pub use session_checks::SessionChecks;

/// What authentication needs at run time, shared by every request.
#[derive(Clone)]
pub struct Auth {
    pub keys: Arc<SigningKeys>,
    pub passwords: Passwords,
    /// Bearer tokens' sessions, checked many to a read.
    pub sessions: SessionChecks,
    /// Devices' credentials, read many to a query.
    pub devices: DeviceChecks,
}
