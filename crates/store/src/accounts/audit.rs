//! The audit trail: who read or changed whose data, when, from where. Insert-only.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{id, opt_id};
use crate::{Store, StoreError, with_reader, with_writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// `user`, `device` or `system`.
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    /// What was done, e.g. `user.read`, `device.create`.
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub hospital_id: Option<Uuid>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: String,
    at: DateTime<Utc>,
    actor_kind: String,
    actor_id: Option<String>,
    actor_role: Option<String>,
    action: String,
    resource_type: String,
    resource_id: Option<String>,
    patient_id: Option<String>,
    hospital_id: Option<String>,
    client_ip: Option<String>,
    request_id: Option<String>,
}

pub async fn record(store: &Store, e: &AuditEntry) -> Result<(), StoreError> {
    with_writer!(store, pool => sqlx::query(
        "INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_role, action, resource_type, resource_id,
                                patient_id, hospital_id, client_ip, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(e.id.to_string())
    .bind(e.at)
    .bind(&e.actor_kind)
    .bind(e.actor_id.map(|v| v.to_string()))
    .bind(&e.actor_role)
    .bind(&e.action)
    .bind(&e.resource_type)
    .bind(e.resource_id.map(|v| v.to_string()))
    .bind(e.patient_id.map(|v| v.to_string()))
    .bind(e.hospital_id.map(|v| v.to_string()))
    .bind(&e.client_ip)
    .bind(&e.request_id)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub hospital_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    /// Only entries older than this id (the cursor of the previous page).
    pub before: Option<Uuid>,
    pub limit: u32,
}

/// Newest first.
pub async fn list(store: &Store, f: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
    let rows: Vec<AuditRow> = with_reader!(store, pool => sqlx::query_as(
        "SELECT id, at, actor_kind, actor_id, actor_role, action, resource_type, resource_id, patient_id,
                hospital_id, client_ip, request_id
         FROM audit_log
         WHERE ($1 IS NULL OR hospital_id = $1) AND ($2 IS NULL OR patient_id = $2)
           AND ($3 IS NULL OR actor_id = $3) AND ($4 IS NULL OR id < $4)
         ORDER BY id DESC LIMIT $5",
    )
    .bind(f.hospital_id.map(|v| v.to_string()))
    .bind(f.patient_id.map(|v| v.to_string()))
    .bind(f.actor_id.map(|v| v.to_string()))
    .bind(f.before.map(|v| v.to_string()))
    .bind(i64::from(f.limit))
    .fetch_all(pool)
    .await)?;
    rows.into_iter()
        .map(|r| {
            Ok(AuditEntry {
                id: id(&r.id)?,
                at: r.at,
                actor_kind: r.actor_kind,
                actor_id: opt_id(r.actor_id.as_deref())?,
                actor_role: r.actor_role,
                action: r.action,
                resource_type: r.resource_type,
                resource_id: opt_id(r.resource_id.as_deref())?,
                patient_id: opt_id(r.patient_id.as_deref())?,
                hospital_id: opt_id(r.hospital_id.as_deref())?,
                client_ip: r.client_ip,
                request_id: r.request_id,
            })
        })
        .collect()
}
