//! Brute-force limits on sign-in, code checks and resets: fixed-window counters on the bus,
//! so with Redis every instance counts together.

use std::time::Duration;

use crate::auth::secrets::sha256_hex;
use crate::problem::ApiError;
use crate::state::AppState;

/// A limit: at most `max` attempts per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub name: &'static str,
    pub max: u64,
    pub window: Duration,
}

pub const SIGN_IN_PER_ACCOUNT: Limit = Limit {
    name: "sign-in-account",
    max: 10,
    window: Duration::from_secs(15 * 60),
};
pub const SIGN_IN_PER_IP: Limit = Limit {
    name: "sign-in-ip",
    max: 30,
    window: Duration::from_secs(5 * 60),
};
pub const CODE_PER_IP: Limit = Limit {
    name: "code-ip",
    max: 30,
    window: Duration::from_secs(5 * 60),
};
pub const RESET_PER_ACCOUNT: Limit = Limit {
    name: "reset-account",
    max: 3,
    window: Duration::from_secs(15 * 60),
};
pub const RESET_PER_IP: Limit = Limit {
    name: "reset-ip",
    max: 10,
    window: Duration::from_secs(15 * 60),
};
pub const SIGN_UP_PER_IP: Limit = Limit {
    name: "sign-up-ip",
    max: 20,
    window: Duration::from_secs(15 * 60),
};
/// One new code per address per minute.
pub const RESEND_COOLDOWN: Limit = Limit {
    name: "resend",
    max: 1,
    window: Duration::from_secs(60),
};

/// Counts one attempt against `limit` for `subject` (an e-mail key, an IP address…), failing
/// with 429 once over. The subject is hashed: e-mail addresses never reach Redis.
pub async fn hit(state: &AppState, limit: Limit, subject: &str) -> Result<(), ApiError> {
    let key = format!("rl:{}:{}", limit.name, &sha256_hex(subject)[..24]);
    let count = state
        .bus
        .incr(&key, limit.window)
        .await
        .map_err(|e| ApiError::Unavailable(e.into()))?;
    if count > limit.max {
        return Err(ApiError::TooManyRequests {
            retry_after_s: limit.window.as_secs(),
        });
    }
    Ok(())
}
