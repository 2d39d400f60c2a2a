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

use super::setting::{self, Place, Setting};
use super::stored;
use crate::{Store, StoreError, with_writer};

/// A ward's policy, with who set it last and when.
pub type StoredPolicy = Setting<EscalationPolicy>;

const PLACE: Place = Place {
    table: "ward_escalation_policies",
    column: "policy",
};

/// The ward's own policy, if it has one.
pub async fn of_ward(store: &Store, ward_id: Uuid) -> Result<Option<StoredPolicy>, StoreError> {
    setting::of_ward(store, PLACE, ward_id).await
}

/// Replaces the ward's policy. The ward must exist (the caller loaded it).
pub async fn set_ward(
    store: &Store,
    ward_id: Uuid,
    policy: &EscalationPolicy,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<StoredPolicy, StoreError> {
    setting::set_ward(store, PLACE, ward_id, policy, by, now).await
}

/// Removes the ward's own policy (it goes back to the defaults); whether it had one.
pub async fn clear_ward(store: &Store, ward_id: Uuid) -> Result<bool, StoreError> {
    setting::clear_ward(store, PLACE, ward_id).await
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
