//! A ward's own escalation delays, as stored: one row per ward that has them (the policy as
//! JSON text); a ward without a row uses the installation's defaults. Checking the policy
//! (`EscalationPolicy::check`) is the caller's job, done before the write.
//!
//! Changing a ward's policy also moves the next escalation of the ward's unacknowledged
//! alarms to what the new delays say ([`reschedule_open`]), so a shorter delay applies to the
//! alarms already ringing, not only to the next ones.

use chrono::{DateTime, Utc};
use docde_domain::ward::alarm::{EscalationPolicy, next_escalation_at};
use uuid::Uuid;

use super::stored;
use crate::accounts::opt_id;
use crate::{Store, StoreError, with_reader, with_writer};

/// A ward's policy, with who set it last and when.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPolicy {
    pub policy: EscalationPolicy,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
}

type Row = (String, DateTime<Utc>, Option<String>);

fn from_row((json, updated_at, by): Row) -> Result<StoredPolicy, StoreError> {
    Ok(StoredPolicy {
        policy: serde_json::from_str(&json)
            .map_err(|e| StoreError::Other(sqlx::Error::Decode(Box::new(e))))?,
        updated_at,
        updated_by: opt_id(by.as_deref())?,
    })
}

/// The ward's own policy, if it has one.
pub async fn of_ward(store: &Store, ward_id: Uuid) -> Result<Option<StoredPolicy>, StoreError> {
    let row: Option<Row> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT policy, updated_at, updated_by FROM ward_escalation_policies \
             WHERE ward_id = $1",
        )
        .bind(ward_id.to_string())
        .fetch_optional(pool)
        .await?
    });
    row.map(from_row).transpose()
}

/// Replaces the ward's policy. The ward must exist (the caller loaded it).
pub async fn set_ward(
    store: &Store,
    ward_id: Uuid,
    policy: &EscalationPolicy,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<StoredPolicy, StoreError> {
    let json = serde_json::to_string(policy)
        .map_err(|e| StoreError::Other(sqlx::Error::Encode(Box::new(e))))?;
    let row: Row = with_writer!(store, pool => {
        sqlx::query_as(
            "INSERT INTO ward_escalation_policies (ward_id, policy, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ward_id) DO UPDATE SET policy = excluded.policy, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by \
             RETURNING policy, updated_at, updated_by",
        )
        .bind(ward_id.to_string())
        .bind(&json)
        .bind(stored(now))
        .bind(by.map(|b| b.to_string()))
        .fetch_one(pool)
        .await?
    });
    from_row(row)
}

/// Removes the ward's own policy (it goes back to the defaults); whether it had one.
pub async fn clear_ward(store: &Store, ward_id: Uuid) -> Result<bool, StoreError> {
    let n = with_writer!(store, pool => {
        sqlx::query("DELETE FROM ward_escalation_policies WHERE ward_id = $1")
            .bind(ward_id.to_string())
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

/// Moves the next escalation of each of the ward's unacknowledged alarms to what `policy`
/// says after the level it reached (none when it has no further level). An alarm acknowledged
/// or escalated meanwhile is left alone (the write is conditional on what was read). Returns
/// how many were moved.
pub async fn reschedule_open(
    store: &Store,
    ward_id: Uuid,
    policy: &EscalationPolicy,
) -> Result<u64, StoreError> {
    let open = super::alarms::open_for_ward(store, ward_id).await?;
    let mut moved = 0;
    for alarm in open
        .iter()
        .filter(|a| a.status == docde_domain::ward::alarm::AlarmStatus::Active)
    {
        let reached = (alarm.escalation_level.get() > 0).then_some(alarm.escalation_level);
        let next = next_escalation_at(alarm.priority, alarm.raised_at, false, reached, policy);
        let n = with_writer!(store, pool => {
            sqlx::query(
                "UPDATE alarms SET next_escalation_at = $3 \
                 WHERE id = $1 AND status = 'active' AND escalation_level = $2",
            )
            .bind(alarm.id.to_string())
            .bind(i32::from(alarm.escalation_level.get()))
            .bind(next.map(stored))
            .execute(pool)
            .await?
            .rows_affected()
        });
        moved += n;
    }
    Ok(moved)
}
