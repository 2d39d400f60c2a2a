//! One-time codes: e-mail verification, password reset, staff invitation.
//!
//! Only a keyed hash of each code is stored. A new code supersedes older unused codes of the
//! same purpose. Every guess *first* reserves an attempt with a conditional UPDATE and only
//! then compares, so parallel guessing cannot exceed the attempt limit on any backend.

use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::{Store, StoreError, with_writer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    VerifyEmail,
    ResetPassword,
    Invitation,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::VerifyEmail => "verify_email",
            CodePurpose::ResetPassword => "reset_password",
            CodePurpose::Invitation => "invitation",
        }
    }
}

/// A code about to be issued (its hash; the code itself only goes into the e-mail).
#[derive(Debug, Clone)]
pub struct NewCode {
    pub purpose: CodePurpose,
    pub code_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a code achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeOutcome {
    /// Right code: it is now used up and the effect has been applied.
    Accepted,
    /// Wrong code; this many guesses remain.
    Wrong {
        remaining: u32,
    },
    Expired,
    /// Too many wrong guesses: ask for a new code.
    Exhausted,
    /// No live code of this purpose (never sent, already used, or superseded).
    NoCode,
}

/// Inserts a code for a user inside a transaction, superseding older ones of its purpose.
macro_rules! insert {
    ($tx:expr, $user_id:expr, $code:expr, $now:expr) => {
        async {
            let code: &$crate::accounts::codes::NewCode = $code;
            sqlx::query(
                "UPDATE one_time_codes SET consumed_at = $3 WHERE user_id = $1 AND purpose = $2 AND consumed_at IS NULL",
            )
            .bind($user_id.to_string())
            .bind(code.purpose.as_str())
            .bind($now)
            .execute(&mut *$tx)
            .await?;
            sqlx::query(
                "INSERT INTO one_time_codes (id, user_id, purpose, code_hash, expires_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind($user_id.to_string())
            .bind(code.purpose.as_str())
            .bind(&code.code_hash)
            .bind(code.expires_at)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
            Ok::<(), $crate::StoreError>(())
        }
    };
}
pub(crate) use insert;

/// What to do when the right code is presented, inside the same transaction.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Mark the account active (e-mail verified / invitation accepted), optionally setting
    /// its password.
    Activate { password_hash: Option<String> },
    /// Set a new password and end every session.
    ResetPassword { password_hash: String },
}

/// Checks `presented_hash` against the user's live code of `purpose`; when right, uses the code
/// up and applies `effect` in the same transaction.
pub async fn redeem(
    store: &Store,
    user_id: Uuid,
    purpose: CodePurpose,
    presented_hash: &str,
    max_attempts: u32,
    effect: &Effect,
    now: DateTime<Utc>,
) -> Result<CodeOutcome, StoreError> {
    with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        let live: Option<(String, DateTime<Utc>, i32)> = sqlx::query_as(
            "SELECT id, expires_at, attempts FROM one_time_codes
             WHERE user_id = $1 AND purpose = $2 AND consumed_at IS NULL
             ORDER BY created_at DESC LIMIT 1",
        )
        .bind(user_id.to_string())
        .bind(purpose.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((code_id, expires_at, _)) = live else { return Ok(CodeOutcome::NoCode) };
        if expires_at <= now {
            return Ok(CodeOutcome::Expired);
        }
        // Reserve this guess before comparing: the UPDATE is the only gate.
        let reserved: Option<(String, i32)> = sqlx::query_as(
            "UPDATE one_time_codes SET attempts = attempts + 1
             WHERE id = $1 AND consumed_at IS NULL AND attempts < $2
             RETURNING code_hash, attempts",
        )
        .bind(&code_id)
        .bind(i32::try_from(max_attempts).unwrap_or(i32::MAX))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((stored_hash, attempts)) = reserved else {
            tx.commit().await?;
            return Ok(CodeOutcome::Exhausted);
        };
        if !bool::from(stored_hash.as_bytes().ct_eq(presented_hash.as_bytes())) {
            tx.commit().await?;
            let remaining = u32::try_from(i64::from(max_attempts) - i64::from(attempts)).unwrap_or(0);
            return Ok(if remaining == 0 { CodeOutcome::Exhausted } else { CodeOutcome::Wrong { remaining } });
        }
        sqlx::query("UPDATE one_time_codes SET consumed_at = $2 WHERE id = $1")
            .bind(&code_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        match effect {
            Effect::Activate { password_hash } => {
                sqlx::query(
                    "UPDATE users SET status = 'active', verified_at = $2, password_hash = COALESCE($3, password_hash)
                     WHERE id = $1 AND status = 'pending'",
                )
                .bind(user_id.to_string())
                .bind(now)
                .bind(password_hash)
                .execute(&mut *tx)
                .await?;
            }
            Effect::ResetPassword { password_hash } => {
                sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(user_id.to_string())
                    .bind(password_hash)
                    .execute(&mut *tx)
                    .await?;
                super::sessions::revoke_all!(&mut *tx, user_id, None::<Uuid>, "password_reset", now).await?;
            }
        }
        tx.commit().await?;
        Ok::<_, StoreError>(CodeOutcome::Accepted)
    }.await)
}

/// When the user's newest code of `purpose` was issued (for resend cooldowns).
pub async fn last_issued(
    store: &Store,
    user_id: Uuid,
    purpose: CodePurpose,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let row: Option<(DateTime<Utc>,)> = crate::with_reader!(store, pool => sqlx::query_as(
        "SELECT created_at FROM one_time_codes WHERE user_id = $1 AND purpose = $2 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user_id.to_string())
    .bind(purpose.as_str())
    .fetch_optional(pool)
    .await)?;
    Ok(row.map(|(t,)| t))
}
