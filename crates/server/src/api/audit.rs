//! The audit trail over HTTP (`GET /api/v1/audit`) and the helper every handler uses to write
//! to it when personal or medical data is read.

use axum::Json;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use docde_store::accounts::audit::{self, AuditEntry, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::now;
use crate::auth::{ClientIp, Principal};
use crate::authz::{Action, Target, authorize};
use crate::middleware::RequestId;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Where a request came from, for the audit trail.
#[derive(Debug, Clone)]
pub struct AuditContext {
    pub ip: ClientIp,
    pub request_id: Option<String>,
}

impl FromRequestParts<AppState> for AuditContext {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = ClientIp::from_request_parts(parts, state).await?;
        let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.clone());
        Ok(Self { ip, request_id })
    }
}

/// What was touched.
pub struct Subject<'a> {
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub hospital_id: Option<Uuid>,
}

/// Writes one audit row. It is part of the request: if it cannot be written, the data is not
/// served (an unaudited read of patient data must not happen).
pub async fn record(
    state: &AppState,
    who: &Principal,
    ctx: &AuditContext,
    what: Subject<'_>,
) -> Result<(), ApiError> {
    let (actor_kind, actor_id, actor_role) = match who {
        Principal::User(u) => ("user", Some(u.id), Some(u.role.as_str().to_owned())),
        Principal::Device(d) => ("device", Some(d.id), None),
    };
    let entry = AuditEntry {
        id: Uuid::now_v7(),
        at: now(),
        actor_kind: actor_kind.into(),
        actor_id,
        actor_role,
        action: what.action.into(),
        resource_type: what.resource_type.into(),
        resource_id: what.resource_id,
        patient_id: what.patient_id,
        hospital_id: what.hospital_id,
        client_ip: ctx.ip.0.map(|ip| ip.to_string()),
        request_id: ctx.request_id.clone(),
    };
    audit::record(&state.store, &entry).await?;
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Required for hospital admins (their hospital); installation admins may omit it.
    pub hospital_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    /// 1–500, default 100.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditItem {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub hospital_id: Option<Uuid>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditItem>,
    pub next_cursor: Option<Uuid>,
}

/// Read the audit trail, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", operation_id = "list_audit", security(("bearer" = [])), params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 403, description = "Not an admin of that hospital", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let target = q
        .hospital_id
        .map(Target::Hospital)
        .unwrap_or(Target::Installation);
    authorize(&principal, Action::ReadAudit, target)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(super::invalid("limit", "must be between 1 and 500"));
    }
    let filter = AuditFilter {
        hospital_id: q.hospital_id,
        patient_id: q.patient_id,
        actor_id: q.actor_id,
        before: q.cursor,
        limit,
    };
    let entries = audit::list(&state.store, &filter).await?;
    let next_cursor = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    let items = entries
        .into_iter()
        .map(|e| AuditItem {
            id: e.id,
            at: e.at,
            actor_kind: e.actor_kind,
            actor_id: e.actor_id,
            actor_role: e.actor_role,
            action: e.action,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            patient_id: e.patient_id,
            hospital_id: e.hospital_id,
            client_ip: e.client_ip,
            request_id: e.request_id,
        })
        .collect();
    Ok(Json(AuditPage { items, next_cursor }))
}
