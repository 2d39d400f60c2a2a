//! Sign-in sessions and their rotating refresh tokens.
//!
//! A refresh token is used once. Presenting an already-used token means it was copied: the
//! whole session is revoked, so both the thief's and the owner's next refresh fail and the
//! owner signs in again. Rotation is a conditional UPDATE, so two concurrent refreshes with
//! one token cannot both succeed.

use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::id;
use crate::{Store, StoreError, with_reader, with_writer};

/// A refresh token about to be issued: its id (public) and the SHA-256 of its secret.
#[derive(Debug, Clone)]
pub struct NewRefresh {
    pub id: Uuid,
    pub secret_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// Revokes every live session of a user except `keep`, inside a transaction.
macro_rules! revoke_all {
    ($tx:expr, $user_id:expr, $keep:expr, $reason:expr, $now:expr) => {
        async {
            let keep: Option<uuid::Uuid> = $keep;
            sqlx::query(
                "UPDATE sessions SET revoked_at = $3, revoked_reason = $4
                 WHERE user_id = $1 AND revoked_at IS NULL AND ($2 IS NULL OR id <> $2)",
            )
            .bind($user_id.to_string())
            .bind(keep.map(|k| k.to_string()))
            .bind($now)
            .bind($reason)
            .execute(&mut *$tx)
            .await?;
            Ok::<(), $crate::StoreError>(())
        }
    };
}
pub(crate) use revoke_all;

/// Starts a session with its first refresh token.
pub async fn start(
    store: &Store,
    user_id: Uuid,
    refresh: &NewRefresh,
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let session_id = Uuid::now_v7();
    with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO sessions (id, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(session_id.to_string())
            .bind(user_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        insert_refresh!(&mut *tx, session_id, refresh, now).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }.await)?;
    Ok(session_id)
}

macro_rules! insert_refresh {
    ($tx:expr, $session_id:expr, $refresh:expr, $now:expr) => {
        async {
            let refresh: &NewRefresh = $refresh;
            sqlx::query(
                "INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(refresh.id.to_string())
            .bind($session_id.to_string())
            .bind(&refresh.secret_hash)
            .bind($now)
            .bind(refresh.expires_at)
            .execute(&mut *$tx)
            .await?;
            Ok::<(), StoreError>(())
        }
    };
}
use insert_refresh;

/// What presenting a refresh token achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    Rotated {
        user_id: Uuid,
        session_id: Uuid,
    },
    /// Unknown token or wrong secret.
    Invalid,
    Expired,
    /// The session was already revoked (logout, password change, earlier re-use).
    Revoked,
    /// An already-used token was presented: the session is now revoked.
    Reused,
}

/// A presented refresh token with its session and user.
#[derive(sqlx::FromRow)]
struct PresentedToken {
    session_id: String,
    token_hash: String,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    user_id: String,
    status: String,
}

pub async fn rotate(
    store: &Store,
    token_id: Uuid,
    presented_hash: &str,
    next: &NewRefresh,
    now: DateTime<Utc>,
) -> Result<Rotation, StoreError> {
    with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        let row: Option<PresentedToken> = sqlx::query_as(
            "SELECT t.session_id, t.token_hash, t.expires_at, t.used_at, s.revoked_at, s.user_id, u.status
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
             WHERE t.id = $1",
        )
        .bind(token_id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(PresentedToken { session_id: session, token_hash: hash, expires_at, used_at, revoked_at, user_id: user, status }) = row else {
            return Ok(Rotation::Invalid);
        };
        if !bool::from(hash.as_bytes().ct_eq(presented_hash.as_bytes())) {
            return Ok(Rotation::Invalid);
        }
        if revoked_at.is_some() || status != "active" {
            return Ok(Rotation::Revoked);
        }
        if expires_at <= now {
            return Ok(Rotation::Expired);
        }
        let claimed = if used_at.is_some() {
            0
        } else {
            sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL")
                .bind(token_id.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        };
        if claimed == 0 {
            sqlx::query("UPDATE sessions SET revoked_at = $2, revoked_reason = 'refresh_token_reused' WHERE id = $1 AND revoked_at IS NULL")
                .bind(&session)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Rotation::Reused);
        }
        let session_id = id(&session)?;
        insert_refresh!(&mut *tx, session_id, next, now).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(Rotation::Rotated { user_id: id(&user)?, session_id })
    }.await)
}

/// Ends one session. Returns whether it was live.
pub async fn revoke(
    store: &Store,
    session_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = with_writer!(store, pool => sqlx::query(
        "UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(session_id.to_string())
    .bind(now)
    .bind(reason)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Whether an access token's session still counts: not revoked, and its user active.
pub async fn is_live(store: &Store, session_id: Uuid) -> Result<bool, StoreError> {
    Ok(live_among(store, &[session_id])
        .await?
        .contains(&session_id))
}

/// Which of `session_ids` still count (as [`is_live`]), in one query: the server checks the
/// sessions of all requests that arrive together with one read.
///
/// The ids go in as one JSON array, so every batch size is the same (prepared, cached)
/// statement, and the common answer — all of them live — is one counted row: on SQLite every
/// row returned is a hand-off between the database thread and the async side, which cost
/// more than the lookups themselves. Only when some are not live are the live ones listed.
pub async fn live_among(
    store: &Store,
    session_ids: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>, StoreError> {
    if session_ids.is_empty() {
        return Ok(Default::default());
    }
    let unique: std::collections::HashSet<Uuid> = session_ids.iter().copied().collect();
    with_reader!(store, pool => {
        let mut conn = pool.acquire().await?;
        live_among_on!(conn, store, &unique).await
    })
}

/// [`live_among`]'s reads on `$conn`, a connection or transaction of `$store`'s backend (used
/// as `&mut *$conn`): the live ones among `$unique` (`&HashSet<Uuid>`, not empty). Evaluates
/// to a future of `Result<HashSet<Uuid>, StoreError>`. The booking writer runs them on its
/// batch's own transaction (`booking::batch`).
macro_rules! live_among_on {
    ($conn:expr, $store:expr, $unique:expr) => {
        async {
            let unique: &std::collections::HashSet<uuid::Uuid> = $unique;
            let json = $crate::accounts::json_param(&unique.iter().collect::<Vec<_>>())?;
            let live: i64 = sqlx::query_scalar($crate::accounts::sessions::live_count_sql($store))
                .bind(&json)
                .fetch_one(&mut *$conn)
                .await?;
            if usize::try_from(live).is_ok_and(|n| n == unique.len()) {
                return Ok::<_, $crate::StoreError>(unique.clone());
            }
            let rows: Vec<(String,)> =
                sqlx::query_as($crate::accounts::sessions::live_list_sql($store))
                    .bind(&json)
                    .fetch_all(&mut *$conn)
                    .await?;
            rows.iter()
                .map(|(raw,)| $crate::accounts::id(raw))
                .collect::<Result<std::collections::HashSet<uuid::Uuid>, $crate::StoreError>>()
        }
    };
}
pub(crate) use live_among_on;

pub(crate) fn live_count_sql(store: &Store) -> &'static str {
    match store.backend() {
        crate::Backend::Sqlite { .. } => LIVE_COUNT_SQLITE,
        crate::Backend::Postgres(_) => LIVE_COUNT_POSTGRES,
    }
}

pub(crate) fn live_list_sql(store: &Store) -> &'static str {
    match store.backend() {
        crate::Backend::Sqlite { .. } => LIVE_LIST_SQLITE,
        crate::Backend::Postgres(_) => LIVE_LIST_POSTGRES,
    }
}

const LIVE_COUNT_SQLITE: &str = "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.revoked_at IS NULL AND u.status = 'active' \
     AND s.id IN (SELECT value FROM json_each($1))";
const LIVE_LIST_SQLITE: &str = "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.revoked_at IS NULL AND u.status = 'active' \
     AND s.id IN (SELECT value FROM json_each($1))";
// On PostgreSQL each id is looked up on its own (`LATERAL … OFFSET 0` keeps the subquery from
// being merged into a join). As a plain `IN`, a sessions table without statistics — filled
// since its last `ANALYZE`, as on a busy first morning — was read whole into a hash join for
// every check: 6 ms each at 20,000 sessions, ~40 % of all statement time in a booking
// benchmark (`grouped::READ_POSTGRES` has the same shape for the same reason).
const LIVE_COUNT_POSTGRES: &str = "SELECT COUNT(*) \
     FROM jsonb_array_elements_text($1::jsonb) j(id) CROSS JOIN LATERAL \
     (SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id \
      WHERE s.id = j.id AND s.revoked_at IS NULL AND u.status = 'active' OFFSET 0) s";
const LIVE_LIST_POSTGRES: &str = "SELECT s.id \
     FROM jsonb_array_elements_text($1::jsonb) j(id) CROSS JOIN LATERAL \
     (SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id \
      WHERE s.id = j.id AND s.revoked_at IS NULL AND u.status = 'active' OFFSET 0) s";
