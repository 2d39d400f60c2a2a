//! Escalation of alarms nobody acknowledged: claiming the due ones for one worker's lease
//! (fenced by a token), giving back those not due after all, and moving them a level up.

use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::ward::alarm::EscalationLevel;
use uuid::Uuid;

use super::super::{WardError, stored};
use super::{Alarm, Binds, COLUMNS, Row, change};
use crate::{Store, StoreError, with_writer};

/// An alarm handed to one escalation worker until `claimed_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct EscalationClaim {
    pub alarm: Alarm,
    /// Fencing token: [`escalate`] succeeds only while the alarm still carries it.
    pub token: Uuid,
    pub claimed_until: DateTime<Utc>,
}

const CLAIM_POSTGRES: &str = "FOR UPDATE SKIP LOCKED";

/// Claims up to `limit` active alarms whose escalation is due at `now`, for `lease`. Alarms
/// claimed by another worker whose lease has not run out are skipped; concurrent callers (on
/// any instance) never receive the same alarm.
pub async fn due_for_escalation(
    store: &Store,
    now: DateTime<Utc>,
    lease: TimeDelta,
    limit: u32,
) -> Result<Vec<EscalationClaim>, StoreError> {
    let now = stored(now);
    let until = stored(now + lease);
    let token = Uuid::now_v7();
    // SQLite has no row locks and needs none: its single writer runs claims one at a time.
    let lock = if store.dialect() == "postgres" {
        CLAIM_POSTGRES
    } else {
        ""
    };
    let sql = format!(
        "UPDATE alarms SET escalation_claim = $1, escalation_claimed_until = $2 \
         WHERE id IN (SELECT id FROM alarms WHERE status = 'active' \
           AND next_escalation_at IS NOT NULL AND next_escalation_at <= $3 \
           AND (escalation_claimed_until IS NULL OR escalation_claimed_until <= $3) \
           ORDER BY next_escalation_at, id LIMIT $4 {lock}) \
         RETURNING {COLUMNS}"
    );
    let rows: Vec<Row> = with_writer!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(token.to_string())
            .bind(until)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
    });
    let mut claims = rows
        .into_iter()
        .map(|row| {
            Ok(EscalationClaim {
                alarm: Alarm::try_from(row)?,
                token,
                claimed_until: until,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    claims.sort_by_key(|c| (c.alarm.next_escalation_at, c.alarm.id));
    Ok(claims)
}

/// Gives back a claimed alarm that is not due after all (its ward's delays changed after the
/// claim was taken): its next escalation moves to `next`, the level stays. Only under the
/// claim's token; whether it applied.
pub async fn postpone_escalation(
    store: &Store,
    claim: &EscalationClaim,
    next: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let n = with_writer!(store, pool => {
        sqlx::query(
            "UPDATE alarms SET next_escalation_at = $3, escalation_claim = NULL, \
             escalation_claimed_until = NULL WHERE id = $1 AND escalation_claim = $2",
        )
        .bind(claim.alarm.id.to_string())
        .bind(claim.token.to_string())
        .bind(next.map(stored))
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Moves a claimed alarm to escalation `level` (higher than its current one) and schedules
/// the next step (`None`: no further step), releasing the claim. Refused with
/// [`WardConflict::EscalationClaimLost`](super::super::WardConflict::EscalationClaimLost) if
/// the claim is no longer this worker's, or the alarm's conflict if it was acknowledged or
/// resolved meanwhile.
///
/// In the same transaction it queues the level's webhook post (see
/// [`super::webhooks`](super::super::webhooks)) if the ward has its own webhook or
/// `default_webhook` says a default URL is configured.
pub async fn escalate(
    store: &Store,
    claim: &EscalationClaim,
    level: EscalationLevel,
    next_escalation_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    default_webhook: bool,
) -> Result<(Alarm, i64), WardError> {
    let sql = format!(
        "UPDATE alarms SET escalation_level = $4, next_escalation_at = $5, \
         escalation_claim = NULL, escalation_claimed_until = NULL, updated_at = $2 \
         WHERE id = $1 AND status = 'active' AND escalation_claim = $3 \
         AND escalation_level < $4 RETURNING {COLUMNS}"
    );
    change(
        store,
        claim.alarm.id,
        sql,
        "escalated",
        stored(now),
        Binds::Escalate {
            token: claim.token,
            level: level.get(),
            next: next_escalation_at.map(stored),
            default_webhook,
        },
    )
    .await
}
