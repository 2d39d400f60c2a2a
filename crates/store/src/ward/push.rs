//! Web Push as stored: the installation's VAPID key pair, the staff browsers' subscriptions,
//! and the durable messages a worker sends to them.
//!
//! A message row is written by [`super::alarms`] in the alarm's own transaction, one per
//! subscription of the ward's nurses at that moment (see [`ENQUEUE_SQL`]), so a high-priority
//! alarm that committed is always pushed and a rolled-back one never. Rows are claimed and
//! settled like the escalation webhook's ([`super::leased`]). Each subscription has rows of
//! its own, so one failing browser never holds up another; a subscription its push service
//! calls gone is [`drop_subscription`]ed, with its rows.
//!
//! Secrets: the VAPID private key and each subscription's `auth` arrive here sealed by the
//! caller (the record vault) and are returned as stored. Endpoints identify a browser at a
//! push service: nothing here logs them.

use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::ward::alarm::{AlarmKind, AlarmStatus, EscalationLevel, Priority};
use uuid::Uuid;

use super::leased::{self, Mark};
use super::{decode, stored};
use crate::accounts::id;
use crate::{Store, StoreError, with_reader, with_writer};

const TABLE: &str = "push_deliveries";

/// The VAPID key pair as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredVapidKey {
    /// base64url of the uncompressed P-256 point.
    pub public_key: String,
    /// Sealed by the caller.
    pub private_key: String,
}

impl std::fmt::Debug for StoredVapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredVapidKey")
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

/// The stored key pair, if one was made.
pub async fn vapid_key(store: &Store) -> Result<Option<StoredVapidKey>, StoreError> {
    let row: Option<(String, String)> = with_writer!(store, pool => {
        sqlx::query_as("SELECT public_key, private_key FROM push_vapid_keys WHERE id = 1")
            .fetch_optional(pool)
            .await?
    });
    Ok(row.map(|(public_key, private_key)| StoredVapidKey {
        public_key,
        private_key,
    }))
}

/// Stores `key` unless another instance stored one first; returns the one that is stored, so
/// every instance signs with the same pair.
pub async fn insert_vapid_key(
    store: &Store,
    key: &StoredVapidKey,
    now: DateTime<Utc>,
) -> Result<StoredVapidKey, StoreError> {
    with_writer!(store, pool => {
        sqlx::query(
            "INSERT INTO push_vapid_keys (id, public_key, private_key, created_at) \
             VALUES (1, $1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(&key.public_key)
        .bind(&key.private_key)
        .bind(stored(now))
        .execute(pool)
        .await?;
    });
    vapid_key(store)
        .await?
        .ok_or_else(|| StoreError::Other(sqlx::Error::RowNotFound))
}

/// A browser's subscription.
#[derive(Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The push service's URL for this browser (capability URL: never log it).
    pub endpoint: String,
    /// base64url of the browser's P-256 public key.
    pub p256dh: String,
    /// The browser's auth secret, sealed by the caller.
    pub auth: String,
    pub created_at: DateTime<Utc>,
    pub last_sent_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

type SubscriptionRow = (
    String,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

const SUBSCRIPTION_COLUMNS: &str = "id, user_id, endpoint, p256dh, auth, created_at, last_sent_at";

fn subscription(row: SubscriptionRow) -> Result<Subscription, StoreError> {
    let (sid, user_id, endpoint, p256dh, auth, created_at, last_sent_at) = row;
    Ok(Subscription {
        id: id(&sid)?,
        user_id: id(&user_id)?,
        endpoint,
        p256dh,
        auth,
        created_at,
        last_sent_at,
    })
}

/// Stores a subscription (checked by the caller). A browser that subscribes again (the same
/// endpoint) keeps its id and takes the new keys and owner. Returns the row and whether it
/// is new.
pub async fn subscribe(
    store: &Store,
    new: &Subscription,
) -> Result<(Subscription, bool), StoreError> {
    let sql = format!(
        "INSERT INTO push_subscriptions ({SUBSCRIPTION_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL) \
         ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, \
         p256dh = excluded.p256dh, auth = excluded.auth \
         RETURNING {SUBSCRIPTION_COLUMNS}"
    );
    let row: SubscriptionRow = with_writer!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(new.id.to_string())
            .bind(new.user_id.to_string())
            .bind(&new.endpoint)
            .bind(&new.p256dh)
            .bind(&new.auth)
            .bind(stored(new.created_at))
            .fetch_one(pool)
            .await?
    });
    let saved = subscription(row)?;
    let created = saved.id == new.id;
    Ok((saved, created))
}

/// The user's subscriptions, oldest first.
pub async fn of_user(store: &Store, user_id: Uuid) -> Result<Vec<Subscription>, StoreError> {
    let sql = format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions WHERE user_id = $1 ORDER BY id"
    );
    let rows: Vec<SubscriptionRow> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user_id.to_string())
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(subscription).collect()
}

/// Removes the user's subscription `id` (and its unsent messages). Returns whether there was
/// one of theirs.
pub async fn unsubscribe(store: &Store, user_id: Uuid, sid: Uuid) -> Result<bool, StoreError> {
    remove(store, sid, Some(user_id)).await
}

/// Drops a subscription its push service no longer knows (404/410), with its messages.
pub async fn drop_subscription(store: &Store, sid: Uuid) -> Result<bool, StoreError> {
    remove(store, sid, None).await
}

/// Deletes subscription `sid` (only if `owner` holds it, when given) and its messages, in one
/// transaction.
async fn remove(store: &Store, sid: Uuid, owner: Option<Uuid>) -> Result<bool, StoreError> {
    let owner = owner.map(|o| o.to_string());
    let deleted = with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let n = sqlx::query(
            "DELETE FROM push_subscriptions WHERE id = $1 AND ($2 IS NULL OR user_id = $2)",
        )
        .bind(sid.to_string())
        .bind(&owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            // Also without foreign-key enforcement (SQLite's is per connection).
            sqlx::query("DELETE FROM push_deliveries WHERE subscription_id = $1")
                .bind(sid.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        n
    });
    Ok(deleted > 0)
}

/// The insert [`super::alarms`] runs in an alarm's transaction. Parameters: `$1` alarm id,
/// `$2` reason (`high`, `escalated:N`), `$3` now, `$4` ward id. One row per subscription of
/// an active nurse assigned to the ward; a reason already queued is not queued again.
pub(crate) const ENQUEUE_SQL: &str = "INSERT INTO push_deliveries \
     (alarm_id, subscription_id, reason, status, attempts, next_attempt_at, created_at) \
     SELECT $1, s.id, $2, 'pending', 0, $3, $3 FROM push_subscriptions s \
     JOIN ward_nurses n ON n.user_id = s.user_id AND n.ward_id = $4 \
     JOIN users u ON u.id = s.user_id AND u.status = 'active' \
     ON CONFLICT DO NOTHING";

/// A claimed message with what it says and where it goes. Bed label and alarm kind only:
/// push services relay it (encrypted), but it stays free of patient data all the same.
#[derive(Clone, PartialEq)]
pub struct Delivery {
    pub id: String,
    /// Fencing token of this claim; outcomes are recorded only under it.
    pub token: Uuid,
    pub reason: String,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub subscription: Subscription,
    pub ward_id: Uuid,
    pub ward_name: String,
    pub alarm_id: Uuid,
    pub bed_label: String,
    pub kind: AlarmKind,
    pub priority: Priority,
    pub level: EscalationLevel,
    pub raised_at: DateTime<Utc>,
    /// The alarm's status now (it may have been acknowledged since).
    pub alarm_status: AlarmStatus,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("id", &self.id)
            .field("alarm_id", &self.alarm_id)
            .field("subscription", &self.subscription.id)
            .field("reason", &self.reason)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    reason: String,
    attempts: i32,
    created_at: DateTime<Utc>,
    sid: String,
    user_id: String,
    endpoint: String,
    p256dh: String,
    auth: String,
    s_created_at: DateTime<Utc>,
    last_sent_at: Option<DateTime<Utc>>,
    ward_id: String,
    ward_name: String,
    alarm_id: String,
    bed_label: String,
    kind: String,
    priority: String,
    escalation_level: i32,
    raised_at: DateTime<Utc>,
    alarm_status: String,
}

impl DeliveryRow {
    fn into_delivery(self, token: Uuid) -> Result<Delivery, StoreError> {
        Ok(Delivery {
            id: self.id,
            token,
            reason: self.reason,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            created_at: self.created_at,
            subscription: subscription((
                self.sid,
                self.user_id,
                self.endpoint,
                self.p256dh,
                self.auth,
                self.s_created_at,
                self.last_sent_at,
            ))?,
            ward_id: id(&self.ward_id)?,
            ward_name: self.ward_name,
            alarm_id: id(&self.alarm_id)?,
            bed_label: self.bed_label,
            kind: decode(&self.kind)?,
            priority: decode(&self.priority)?,
            level: EscalationLevel(u8::try_from(self.escalation_level).unwrap_or(u8::MAX)),
            raised_at: self.raised_at,
            alarm_status: decode(&self.alarm_status)?,
        })
    }
}

const CLAIMED_SQL: &str = "SELECT d.id, d.reason, d.attempts, d.created_at, s.id AS sid, \
     s.user_id, s.endpoint, s.p256dh, s.auth, s.created_at AS s_created_at, s.last_sent_at, \
     a.ward_id, w.name AS ward_name, a.id AS alarm_id, b.label AS bed_label, a.kind, \
     a.priority, a.escalation_level, a.raised_at, a.status AS alarm_status \
     FROM push_deliveries d \
     JOIN push_subscriptions s ON s.id = d.subscription_id \
     JOIN alarms a ON a.id = d.alarm_id \
     JOIN beds b ON b.id = a.bed_id \
     JOIN wards w ON w.id = a.ward_id \
     WHERE d.claim = $1 AND d.status = 'pending'";

/// Claims up to `limit` messages due at `now` that nobody else holds, for `lease`, oldest
/// first. The caller must record an outcome within the lease.
pub async fn claim_due(
    store: &Store,
    limit: u32,
    lease: TimeDelta,
    now: DateTime<Utc>,
) -> Result<Vec<Delivery>, StoreError> {
    let (token, rows): (Uuid, Vec<DeliveryRow>) =
        leased::claim_and_read(store, TABLE, CLAIMED_SQL, limit, lease, now).await?;
    let mut deliveries = rows
        .into_iter()
        .map(|r| r.into_delivery(token))
        .collect::<Result<Vec<_>, _>>()?;
    deliveries.sort_by_key(|d| (d.created_at, d.id.clone()));
    Ok(deliveries)
}

/// Records that the push service accepted the message. Returns whether the claim was ours.
pub async fn mark_delivered(
    store: &Store,
    delivery: &Delivery,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let ours = leased::mark(
        store,
        TABLE,
        &delivery.id,
        delivery.token,
        Mark::Delivered(now),
    )
    .await?;
    with_writer!(store, pool => {
        sqlx::query("UPDATE push_subscriptions SET last_sent_at = $2 WHERE id = $1")
            .bind(delivery.subscription.id.to_string())
            .bind(stored(now))
            .execute(pool)
            .await?;
    });
    Ok(ours)
}

/// Records a failed attempt (an error category, never the service's answer); due again at
/// `next`. Returns whether the claim was ours.
pub async fn mark_retry(
    store: &Store,
    delivery: &Delivery,
    error_kind: &str,
    next: DateTime<Utc>,
) -> Result<bool, StoreError> {
    leased::mark(
        store,
        TABLE,
        &delivery.id,
        delivery.token,
        Mark::Retry(error_kind, next),
    )
    .await
}

/// Gives the message up. Returns whether the claim was ours.
pub async fn mark_failed(
    store: &Store,
    delivery: &Delivery,
    error_kind: &str,
) -> Result<bool, StoreError> {
    leased::mark(
        store,
        TABLE,
        &delivery.id,
        delivery.token,
        Mark::Failed(error_kind),
    )
    .await
}

/// Deletes up to `limit` web push messages delivered or given up before `cutoff` (retention);
/// pending ones are kept. Returns how many.
pub async fn delete_settled_before(
    store: &Store,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<u64, StoreError> {
    leased::delete_settled_before(store, TABLE, cutoff, limit).await
}

/// Messages neither delivered nor given up, for the metrics gauge.
pub async fn pending_count(store: &Store) -> Result<i64, StoreError> {
    Ok(with_reader!(store, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM push_deliveries WHERE status = 'pending'")
            .fetch_one(pool)
            .await?
    }))
}

/// A message's state, as tests and operators look at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryState {
    pub subscription_id: Uuid,
    pub reason: String,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// The alarm's messages, by subscription and reason.
pub async fn deliveries_of_alarm(
    store: &Store,
    alarm_id: Uuid,
) -> Result<Vec<DeliveryState>, StoreError> {
    let rows: Vec<(String, String, String, i32, Option<String>)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT subscription_id, reason, status, attempts, last_error FROM push_deliveries \
             WHERE alarm_id = $1 ORDER BY subscription_id, reason",
        )
        .bind(alarm_id.to_string())
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(sid, reason, status, attempts, last_error)| {
            Ok(DeliveryState {
                subscription_id: id(&sid)?,
                reason,
                status,
                attempts: u32::try_from(attempts).unwrap_or(0),
                last_error,
            })
        })
        .collect()
}
