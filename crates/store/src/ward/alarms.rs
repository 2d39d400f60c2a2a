//! Alarms: raising (idempotent), acknowledging, resolving, listing, and escalating with any
//! number of instances.
//!
//! At most one alarm per (admission, kind) — or (bed, kind) when nobody is admitted — is open
//! (active or acknowledged): two partial unique indexes. [`raise`] inserts with
//! `ON CONFLICT DO NOTHING`, so a repeated or concurrent raise finds the open alarm and answers
//! [`Raised::AlreadyOpen`] (or raises its priority) instead of failing or duplicating. Status
//! changes are conditional updates checked again by a trigger that refuses every illegal
//! transition, whoever writes. Each change writes its ward event in the same transaction.
//!
//! Escalation: [`due_for_escalation`] claims due alarms for a lease with a fencing token (rows
//! picked with `FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer), so two workers
//! never get the same alarm; [`escalate`] applies the next level only while the token is still
//! the alarm's. A worker that dies loses its lease and another picks the alarm up.

use chrono::{DateTime, Utc};
use docde_domain::ward::alarm::{AlarmKind, AlarmStatus, EscalationLevel, Priority};
use uuid::Uuid;

use super::events::{EventKind, NewEvent, append_events};
use super::{WardConflict, WardError, decode, stored};
use crate::accounts::{id, opt_id};
use crate::{Store, StoreError, with_reader, with_writer};

/// Queues the alarm's Web Push messages (see [`super::push`]) in the alarm's transaction.
macro_rules! push {
    ($tx:ident, $alarm:expr, $reason:expr, $now:expr) => {
        sqlx::query($crate::ward::push::ENQUEUE_SQL)
            .bind($alarm.id.to_string())
            .bind($reason)
            .bind($now)
            .bind($alarm.ward_id.to_string())
            .execute(&mut *$tx)
    };
}

// Declared after `push!`, which `raising` uses.
mod escalating;
mod raising;

pub use escalating::{EscalationClaim, due_for_escalation, escalate, postpone_escalation};
pub use raising::{NewAlarm, Raised, raise};

/// An alarm as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub id: Uuid,
    pub ward_id: Uuid,
    pub bed_id: Uuid,
    pub admission_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub device_id: Option<Uuid>,
    pub kind: AlarmKind,
    pub priority: Priority,
    pub status: AlarmStatus,
    /// The value that raised it (or raised its priority), if any.
    pub value: Option<f64>,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledge_note: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// `None` on a resolved alarm: resolved by the system (condition cleared, discharge).
    pub resolved_by: Option<Uuid>,
    pub resolution_note: Option<String>,
    pub escalation_level: EscalationLevel,
    pub next_escalation_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, ward_id, bed_id, admission_id, patient_id, device_id, kind, priority, \
     status, value, raised_at, acknowledged_at, acknowledged_by, acknowledge_note, resolved_at, \
     resolved_by, resolution_note, escalation_level, next_escalation_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    ward_id: String,
    bed_id: String,
    admission_id: Option<String>,
    patient_id: Option<String>,
    device_id: Option<String>,
    kind: String,
    priority: String,
    status: String,
    value: Option<f64>,
    raised_at: DateTime<Utc>,
    acknowledged_at: Option<DateTime<Utc>>,
    acknowledged_by: Option<String>,
    acknowledge_note: Option<String>,
    resolved_at: Option<DateTime<Utc>>,
    resolved_by: Option<String>,
    resolution_note: Option<String>,
    escalation_level: i32,
    next_escalation_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<Row> for Alarm {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Alarm {
            id: id(&r.id)?,
            ward_id: id(&r.ward_id)?,
            bed_id: id(&r.bed_id)?,
            admission_id: opt_id(r.admission_id.as_deref())?,
            patient_id: opt_id(r.patient_id.as_deref())?,
            device_id: opt_id(r.device_id.as_deref())?,
            kind: decode(&r.kind)?,
            priority: decode(&r.priority)?,
            status: decode(&r.status)?,
            value: r.value,
            raised_at: r.raised_at,
            acknowledged_at: r.acknowledged_at,
            acknowledged_by: opt_id(r.acknowledged_by.as_deref())?,
            acknowledge_note: r.acknowledge_note,
            resolved_at: r.resolved_at,
            resolved_by: opt_id(r.resolved_by.as_deref())?,
            resolution_note: r.resolution_note,
            escalation_level: EscalationLevel(u8::try_from(r.escalation_level).unwrap_or(u8::MAX)),
            next_escalation_at: r.next_escalation_at,
            updated_at: r.updated_at,
        })
    }
}

fn event(alarm: &Alarm, kind: EventKind, what: &str, at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        ward_id: alarm.ward_id,
        patient_id: alarm.patient_id,
        kind,
        payload: serde_json::json!({
            "what": what,
            "alarm_id": alarm.id,
            "bed_id": alarm.bed_id,
            "admission_id": alarm.admission_id,
            "patient_id": alarm.patient_id,
            "kind": alarm.kind.code(),
            "priority": alarm.priority.code(),
            "status": alarm.status.code(),
            "value": alarm.value,
            "raised_at": alarm.raised_at,
            "escalation_level": alarm.escalation_level.get(),
            "acknowledged_by": alarm.acknowledged_by,
            "resolved_by": alarm.resolved_by,
        }),
        at,
    }
}

/// Why a conditional status change matched no row: the alarm is missing or already past it.
macro_rules! why_not {
    ($conn:expr, $alarm_id:expr) => {
        async {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM alarms WHERE id = $1")
                    .bind($alarm_id.to_string())
                    .fetch_optional(&mut *$conn)
                    .await?;
            Ok::<WardError, WardError>(match status.as_deref() {
                None => WardError::NotFound("alarm"),
                Some("acknowledged") => WardConflict::AlarmAlreadyAcknowledged.into(),
                Some("resolved") => WardConflict::AlarmAlreadyResolved.into(),
                Some(_) => WardConflict::EscalationClaimLost.into(),
            })
        }
    };
}

/// Runs a status-changing UPDATE (`sql` binds the alarm id as $1, the time as $2 and `binds`
/// from $3) and writes its `alarm_update` event, in one transaction.
async fn change(
    store: &Store,
    alarm_id: Uuid,
    sql: String,
    what: &'static str,
    now: DateTime<Utc>,
    binds: Binds<'_>,
) -> Result<(Alarm, i64), WardError> {
    let postgres = store.dialect() == "postgres";
    // An escalation also queues its webhook post (`Some(whether a default URL is configured)`).
    let webhook = match &binds {
        Binds::Escalate {
            default_webhook, ..
        } => Some(*default_webhook),
        _ => None,
    };
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let q = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql)).bind(alarm_id.to_string());
            let q = match binds {
                Binds::Acknowledge { by, note } => q.bind(now).bind(by.to_string()).bind(note),
                Binds::Resolve { by, note } => q.bind(now).bind(by.map(|b| b.to_string())).bind(note),
                Binds::Escalate { token, level, next, .. } => q
                    .bind(now)
                    .bind(token.to_string())
                    .bind(i32::from(level))
                    .bind(next),
            };
            let Some(row) = q.fetch_optional(&mut *tx).await? else {
                return Err(why_not!(tx, alarm_id).await?);
            };
            let alarm = Alarm::try_from(row)?;
            let e = event(&alarm, EventKind::AlarmUpdate, what, now);
            let ids = append_events!(tx, postgres, std::slice::from_ref(&e)).await?;
            if let Some(default_url) = webhook {
                // The escalation's webhook post commits with it, or not at all.
                sqlx::query(super::webhooks::ENQUEUE_SQL)
                    .bind(Uuid::now_v7().to_string())
                    .bind(alarm.ward_id.to_string())
                    .bind(alarm.id.to_string())
                    .bind(i32::from(alarm.escalation_level.get()))
                    .bind(now)
                    .bind(default_url)
                    .execute(&mut *tx)
                    .await?;
                if alarm.priority == Priority::High {
                    let reason = format!("escalated:{}", alarm.escalation_level.get());
                    push!(tx, &alarm, &reason, now).await?;
                }
            }
            Ok((alarm, ids[0]))
        }
        .await;
        finish!(tx, done)
    })
}

enum Binds<'a> {
    Acknowledge {
        by: Uuid,
        note: Option<&'a str>,
    },
    Resolve {
        by: Option<Uuid>,
        note: Option<&'a str>,
    },
    Escalate {
        token: Uuid,
        level: u8,
        next: Option<DateTime<Utc>>,
        default_webhook: bool,
    },
}

/// A nurse acknowledges an active alarm (it stops escalating). Refused with
/// [`WardConflict::AlarmAlreadyAcknowledged`] / [`WardConflict::AlarmAlreadyResolved`].
pub async fn acknowledge(
    store: &Store,
    alarm_id: Uuid,
    by: Uuid,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Alarm, i64), WardError> {
    let sql = format!(
        "UPDATE alarms SET status = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3, \
         acknowledge_note = $4, next_escalation_at = NULL, escalation_claim = NULL, \
         escalation_claimed_until = NULL, updated_at = $2 \
         WHERE id = $1 AND status = 'active' RETURNING {COLUMNS}"
    );
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    change(
        store,
        alarm_id,
        sql,
        "acknowledged",
        stored(now),
        Binds::Acknowledge { by, note },
    )
    .await
}

/// Resolves an open alarm: by a nurse (`by`), who must write the action taken (`note`;
/// refused with [`WardConflict::NoteRequired`] otherwise), or by the system (`by` = `None`,
/// e.g. the condition cleared). Refused with [`WardConflict::AlarmAlreadyResolved`].
pub async fn resolve(
    store: &Store,
    alarm_id: Uuid,
    by: Option<Uuid>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Alarm, i64), WardError> {
    let sql = format!(
        "UPDATE alarms SET status = 'resolved', resolved_at = $2, resolved_by = $3, \
         resolution_note = $4, next_escalation_at = NULL, escalation_claim = NULL, \
         escalation_claimed_until = NULL, updated_at = $2 \
         WHERE id = $1 AND status IN ('active', 'acknowledged') RETURNING {COLUMNS}"
    );
    let note = note.map(str::trim);
    change(
        store,
        alarm_id,
        sql,
        "resolved",
        stored(now),
        Binds::Resolve { by, note },
    )
    .await
}

pub async fn get(store: &Store, alarm_id: Uuid) -> Result<Option<Alarm>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM alarms WHERE id = $1");
    let row: Option<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(alarm_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(Alarm::try_from).transpose()
}

/// The ward's open alarms, highest priority first, then oldest first.
pub async fn open_for_ward(store: &Store, ward_id: Uuid) -> Result<Vec<Alarm>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alarms WHERE ward_id = $1 \
         AND status IN ('active', 'acknowledged') ORDER BY raised_at, id"
    );
    let rows: Vec<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(ward_id.to_string())
            .fetch_all(pool)
            .await?
    });
    let mut alarms = rows
        .into_iter()
        .map(Alarm::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    // Stable: equal priorities stay oldest first.
    alarms.sort_by_key(|a| std::cmp::Reverse(a.priority));
    Ok(alarms)
}

/// A patient's alarms (open and resolved: the action log), newest first, at most `limit`.
pub async fn of_patient(
    store: &Store,
    patient_id: Uuid,
    limit: u32,
) -> Result<Vec<Alarm>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alarms WHERE patient_id = $1 ORDER BY raised_at DESC, id DESC LIMIT $2"
    );
    let rows: Vec<Row> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(patient_id.to_string())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(Alarm::try_from).collect()
}
