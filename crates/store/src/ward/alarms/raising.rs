//! Raising alarms, idempotently: a repeated or concurrent raise finds the open alarm of its
//! kind (or raises its priority) instead of failing or duplicating.

use chrono::{DateTime, Utc};
use docde_domain::ward::alarm::{AlarmKind, AlarmStatus, Priority};
use uuid::Uuid;

use super::super::events::{EventKind, append_events};
use super::super::{WardConflict, WardError, stored};
use super::{Alarm, COLUMNS, Row, event};
use crate::{Store, with_writer};

/// An alarm to raise.
#[derive(Debug, Clone)]
pub struct NewAlarm {
    pub bed_id: Uuid,
    /// The admission in the bed, if any; must be open and on `bed_id`.
    pub admission_id: Option<Uuid>,
    pub device_id: Option<Uuid>,
    pub kind: AlarmKind,
    pub priority: Priority,
    pub value: Option<f64>,
    pub raised_at: DateTime<Utc>,
    /// From docde-domain's `next_escalation_at` for a fresh alarm; `None`: never escalates.
    pub next_escalation_at: Option<DateTime<Utc>>,
}

/// What [`raise`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Raised {
    /// A new alarm, with its `alarm` event.
    New { alarm: Alarm, event_id: i64 },
    /// An alarm of this kind was already open for the admission (or bed); nothing changed.
    AlreadyOpen(Alarm),
    /// The open alarm's priority rose to the new one, with its `alarm_update` event.
    PriorityRaised { alarm: Alarm, event_id: i64 },
}

impl Raised {
    pub fn alarm(&self) -> &Alarm {
        match self {
            Raised::New { alarm, .. }
            | Raised::AlreadyOpen(alarm)
            | Raised::PriorityRaised { alarm, .. } => alarm,
        }
    }
}

/// Raises an alarm unless one of its kind is already open for the admission (or, with no
/// admission, the bed). Safe to call repeatedly and concurrently: exactly one row is ever
/// open, and every caller learns which.
pub async fn raise(store: &Store, new: &NewAlarm) -> Result<Raised, WardError> {
    let postgres = store.dialect() == "postgres";
    let raised_at = stored(new.raised_at);
    let next = new.next_escalation_at.map(stored);
    let insert = format!(
        "INSERT INTO alarms (id, ward_id, bed_id, admission_id, patient_id, device_id, kind, \
         priority, status, value, raised_at, next_escalation_at, updated_at) \
         SELECT $1, b.ward_id, b.id, a.id, a.patient_id, $4, $5, $6, 'active', $7, $8, $9, $8 \
         FROM beds b LEFT JOIN admissions a ON a.id = $3 AND a.bed_id = b.id \
         AND a.discharged_at IS NULL \
         WHERE b.id = $2 AND ($3 IS NULL OR a.id IS NOT NULL) \
         ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
    );
    let open = match new.admission_id {
        Some(_) => format!(
            "SELECT {COLUMNS} FROM alarms WHERE admission_id = $1 AND kind = $2 \
             AND status IN ('active', 'acknowledged')"
        ),
        None => format!(
            "SELECT {COLUMNS} FROM alarms WHERE bed_id = $1 AND admission_id IS NULL \
             AND kind = $2 AND status IN ('active', 'acknowledged')"
        ),
    };
    let subject = new.admission_id.unwrap_or(new.bed_id).to_string();
    let upgrade = format!(
        "UPDATE alarms SET priority = $2, value = $3, next_escalation_at = $4, updated_at = $5 \
         WHERE id = $1 AND status IN ('active', 'acknowledged') RETURNING {COLUMNS}"
    );
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            // Twice at most: the open alarm we collided with may be resolved before we read it.
            for _ in 0..2 {
                let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(insert.as_str()))
                    .bind(Uuid::now_v7().to_string())
                    .bind(new.bed_id.to_string())
                    .bind(new.admission_id.map(|a| a.to_string()))
                    .bind(new.device_id.map(|d| d.to_string()))
                    .bind(new.kind.code())
                    .bind(new.priority.code())
                    .bind(new.value)
                    .bind(raised_at)
                    .bind(next)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(row) = row {
                    let alarm = Alarm::try_from(row)?;
                    let e = event(&alarm, EventKind::Alarm, "raised", raised_at);
                    let ids = append_events!(tx, postgres, std::slice::from_ref(&e)).await?;
                    if alarm.priority == Priority::High {
                        push!(tx, &alarm, "high", raised_at).await?;
                    }
                    return Ok(Raised::New { alarm, event_id: ids[0] });
                }
                let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(open.as_str()))
                    .bind(&subject)
                    .bind(new.kind.code())
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else {
                    // Nothing open and nothing inserted: the bed or admission does not fit.
                    let bed: Option<i32> = sqlx::query_scalar("SELECT 1 FROM beds WHERE id = $1")
                        .bind(new.bed_id.to_string())
                        .fetch_optional(&mut *tx)
                        .await?;
                    if bed.is_none() {
                        return Err(WardError::NotFound("bed"));
                    }
                    if new.admission_id.is_some() {
                        let open: Option<i32> = sqlx::query_scalar(
                            "SELECT 1 FROM admissions WHERE id = $1 AND bed_id = $2 \
                             AND discharged_at IS NULL",
                        )
                        .bind(&subject)
                        .bind(new.bed_id.to_string())
                        .fetch_optional(&mut *tx)
                        .await?;
                        if open.is_none() {
                            return Err(WardError::NotFound("open admission in this bed"));
                        }
                    }
                    continue;
                };
                let found = Alarm::try_from(row)?;
                if new.priority <= found.priority {
                    return Ok(Raised::AlreadyOpen(found));
                }
                // Severity rises in place (one alarm per kind); an active alarm escalates on
                // the sooner of its schedule and the new one.
                let next = match (found.status, found.next_escalation_at, next) {
                    (AlarmStatus::Active, Some(a), Some(b)) => Some(a.min(b)),
                    (AlarmStatus::Active, a, b) => a.or(b),
                    _ => None,
                };
                let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(upgrade.as_str()))
                    .bind(found.id.to_string())
                    .bind(new.priority.code())
                    .bind(new.value)
                    .bind(next)
                    .bind(raised_at)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else { continue };
                let alarm = Alarm::try_from(row)?;
                let e = event(&alarm, EventKind::AlarmUpdate, "priority_raised", raised_at);
                let ids = append_events!(tx, postgres, std::slice::from_ref(&e)).await?;
                if alarm.priority == Priority::High {
                    push!(tx, &alarm, "high", raised_at).await?;
                }
                return Ok(Raised::PriorityRaised { alarm, event_id: ids[0] });
            }
            Err(WardError::Conflict(WardConflict::IllegalAlarmTransition))
        }
        .await;
        finish!(tx, done)
    })
}
