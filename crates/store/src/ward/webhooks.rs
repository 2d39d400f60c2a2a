//! Escalation webhooks as stored: the URL each ward posts its escalations to, and the durable
//! deliveries a worker drains.
//!
//! A delivery row is written by [`super::alarms::escalate`] in the escalation's own
//! transaction (one per alarm and level, a unique constraint), so an escalation that committed
//! is always posted and a rolled-back one never is. Workers on any number of instances
//! [`claim_due`] rows for a lease under a fencing token and record the outcome with
//! [`mark_delivered`], [`mark_retry`] or [`mark_failed`], each refused once the token is no
//! longer the row's. A worker that dies loses nothing: its lease runs out and another claims
//! the row. Delivery is therefore at-least-once, and the row id is the key a receiver can drop
//! duplicates by.
//!
//! The URL is a secret (a hook token in its path): this module stores and returns it, and
//! nothing here logs it. It does not send anything.

use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::ward::alarm::{AlarmKind, AlarmStatus, EscalationLevel, Priority};
use uuid::Uuid;

use super::leased::{self, Mark};
use super::{decode, stored};
use crate::accounts::{id, opt_id};
use crate::{Store, StoreError, with_reader, with_writer};

/// A ward's own escalation webhook.
#[derive(Clone, PartialEq)]
pub struct WardWebhook {
    pub ward_id: Uuid,
    /// The secret URL: never log it.
    pub url: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
}

impl std::fmt::Debug for WardWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WardWebhook")
            .field("ward_id", &self.ward_id)
            .field("url", &"***")
            .field("updated_at", &self.updated_at)
            .field("updated_by", &self.updated_by)
            .finish()
    }
}

type WebhookRow = (String, String, DateTime<Utc>, Option<String>);

fn webhook(row: WebhookRow) -> Result<WardWebhook, StoreError> {
    let (ward_id, url, updated_at, updated_by) = row;
    Ok(WardWebhook {
        ward_id: id(&ward_id)?,
        url,
        updated_at,
        updated_by: opt_id(updated_by.as_deref())?,
    })
}

/// The ward's own webhook, if one is set.
pub async fn of_ward(store: &Store, ward_id: Uuid) -> Result<Option<WardWebhook>, StoreError> {
    let row: Option<WebhookRow> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT ward_id, url, updated_at, updated_by FROM ward_webhooks WHERE ward_id = $1",
        )
        .bind(ward_id.to_string())
        .fetch_optional(pool)
        .await?
    });
    row.map(webhook).transpose()
}

/// Sets (or replaces) the ward's webhook. The ward must exist (the caller loaded it); the URL
/// must have been checked by the caller.
pub async fn set(
    store: &Store,
    ward_id: Uuid,
    url: &str,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<WardWebhook, StoreError> {
    let row: WebhookRow = with_writer!(store, pool => {
        sqlx::query_as(
            "INSERT INTO ward_webhooks (ward_id, url, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ward_id) DO UPDATE SET url = excluded.url, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by \
             RETURNING ward_id, url, updated_at, updated_by",
        )
        .bind(ward_id.to_string())
        .bind(url)
        .bind(stored(now))
        .bind(by.map(|b| b.to_string()))
        .fetch_one(pool)
        .await?
    });
    webhook(row)
}

/// Removes the ward's webhook (the configured default, if any, applies again). Returns
/// whether there was one.
pub async fn clear(store: &Store, ward_id: Uuid) -> Result<bool, StoreError> {
    let deleted = with_writer!(store, pool => {
        sqlx::query("DELETE FROM ward_webhooks WHERE ward_id = $1")
            .bind(ward_id.to_string())
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(deleted > 0)
}

/// The insert [`super::alarms::escalate`] runs in its transaction. Parameters: `$1` id, `$2`
/// ward id, `$3` alarm id, `$4` level, `$5` now (escalation time, first due), `$6` whether a
/// default URL is configured (else only wards with their own URL get a row). A level already
/// queued is not queued again.
const TABLE: &str = "ward_webhook_deliveries";

pub(crate) const ENQUEUE_SQL: &str = "INSERT INTO ward_webhook_deliveries \
     (id, ward_id, alarm_id, escalation_level, escalated_at, status, attempts, next_attempt_at, \
      created_at) \
     SELECT $1, $2, $3, $4, $5, 'pending', 0, $5, $5 \
     WHERE $6 OR EXISTS (SELECT 1 FROM ward_webhooks WHERE ward_id = $2) \
     ON CONFLICT DO NOTHING";

/// A claimed delivery with what its message says. Bed label and alarm kind only: the
/// message leaves the hospital, so no patient data is read here.
#[derive(Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    /// Fencing token of this claim; outcomes are recorded only under it.
    pub token: Uuid,
    pub ward_id: Uuid,
    pub ward_name: String,
    pub alarm_id: Uuid,
    pub bed_label: String,
    pub kind: AlarmKind,
    pub priority: Priority,
    pub level: EscalationLevel,
    pub raised_at: DateTime<Utc>,
    pub escalated_at: DateTime<Utc>,
    /// The alarm's status now (it may have been acknowledged since the escalation).
    pub alarm_status: AlarmStatus,
    /// Attempts made before this one.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    /// The ward's own URL now (a secret: never log it); `None`: use the configured default.
    pub url: Option<String>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("id", &self.id)
            .field("ward_id", &self.ward_id)
            .field("alarm_id", &self.alarm_id)
            .field("level", &self.level)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: String,
    ward_id: String,
    ward_name: String,
    alarm_id: String,
    bed_label: String,
    kind: String,
    priority: String,
    escalation_level: i32,
    raised_at: DateTime<Utc>,
    escalated_at: DateTime<Utc>,
    alarm_status: String,
    attempts: i32,
    created_at: DateTime<Utc>,
    url: Option<String>,
}

impl DeliveryRow {
    fn into_delivery(self, token: Uuid) -> Result<Delivery, StoreError> {
        Ok(Delivery {
            id: id(&self.id)?,
            token,
            ward_id: id(&self.ward_id)?,
            ward_name: self.ward_name,
            alarm_id: id(&self.alarm_id)?,
            bed_label: self.bed_label,
            kind: decode(&self.kind)?,
            priority: decode(&self.priority)?,
            level: EscalationLevel(u8::try_from(self.escalation_level).unwrap_or(u8::MAX)),
            raised_at: self.raised_at,
            escalated_at: self.escalated_at,
            alarm_status: decode(&self.alarm_status)?,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            created_at: self.created_at,
            url: self.url,
        })
    }
}

const CLAIMED_SQL: &str = "SELECT d.id, d.ward_id, w.name AS ward_name, d.alarm_id, \
     b.label AS bed_label, a.kind, a.priority, d.escalation_level, a.raised_at, d.escalated_at, \
     a.status AS alarm_status, d.attempts, d.created_at, h.url \
     FROM ward_webhook_deliveries d \
     JOIN alarms a ON a.id = d.alarm_id \
     JOIN beds b ON b.id = a.bed_id \
     JOIN wards w ON w.id = d.ward_id \
     LEFT JOIN ward_webhooks h ON h.ward_id = d.ward_id \
     WHERE d.claim = $1 AND d.status = 'pending'";

/// Claims up to `limit` deliveries due at `now` that nobody else holds, for `lease`. Until the
/// lease ends no other claim returns them, so the caller must record an outcome within it.
/// Oldest first.
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
    deliveries.sort_by_key(|d| (d.escalated_at, d.id));
    Ok(deliveries)
}

/// Records that the receiver accepted the message. Returns whether the claim was still ours.
pub async fn mark_delivered(
    store: &Store,
    delivery: &Delivery,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    leased::mark(
        store,
        TABLE,
        &delivery.id.to_string(),
        delivery.token,
        Mark::Delivered(now),
    )
    .await
}

/// Records a failed attempt (`error_kind` is a category such as `"connect"` or `"status_500"`,
/// never the receiver's answer) and releases the claim so the row is claimed again at `next`.
/// Returns whether the claim was still ours.
pub async fn mark_retry(
    store: &Store,
    delivery: &Delivery,
    error_kind: &str,
    next: DateTime<Utc>,
) -> Result<bool, StoreError> {
    leased::mark(
        store,
        TABLE,
        &delivery.id.to_string(),
        delivery.token,
        Mark::Retry(error_kind, next),
    )
    .await
}

/// Gives the delivery up (too old, too many attempts, or nowhere to send it). Returns whether
/// the claim was still ours.
pub async fn mark_failed(
    store: &Store,
    delivery: &Delivery,
    error_kind: &str,
) -> Result<bool, StoreError> {
    leased::mark(
        store,
        TABLE,
        &delivery.id.to_string(),
        delivery.token,
        Mark::Failed(error_kind),
    )
    .await
}

/// Deletes up to `limit` escalation posts delivered or given up before `cutoff` (retention);
/// pending ones are kept. Returns how many.
pub async fn delete_settled_before(
    store: &Store,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<u64, StoreError> {
    leased::delete_settled_before(store, TABLE, cutoff, limit).await
}

/// Deliveries neither delivered nor given up, for the metrics gauge.
pub async fn pending_count(store: &Store) -> Result<i64, StoreError> {
    Ok(with_reader!(store, pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM ward_webhook_deliveries WHERE status = 'pending'",
        )
        .fetch_one(pool)
        .await?
    }))
}

/// A delivery's state, as tests and operators look at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryState {
    pub id: Uuid,
    pub alarm_id: Uuid,
    pub level: u8,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// The ward's deliveries, oldest first.
pub async fn deliveries_of_ward(
    store: &Store,
    ward_id: Uuid,
) -> Result<Vec<DeliveryState>, StoreError> {
    let rows: Vec<(String, String, i32, String, i32, Option<String>)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT id, alarm_id, escalation_level, status, attempts, last_error \
             FROM ward_webhook_deliveries WHERE ward_id = $1 ORDER BY id",
        )
        .bind(ward_id.to_string())
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(d, a, level, status, attempts, last_error)| {
            Ok(DeliveryState {
                id: id(&d)?,
                alarm_id: id(&a)?,
                level: u8::try_from(level).unwrap_or(u8::MAX),
                status,
                attempts: u32::try_from(attempts).unwrap_or(0),
                last_error,
            })
        })
        .collect()
}
