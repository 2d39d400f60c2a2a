//! `/api/v1/wards/{id}/escalation-policy`: how soon a ward's unacknowledged alarms go up the
//! chain. Hospital admins set and clear a ward's own delays; the ward's staff read them. A ward
//! without its own uses the installation's defaults (high: 60 s, 180 s; medium: 300 s, 900 s;
//! low: never). A change applies at once, also to the alarms already ringing
//! (`docde_store::ward::escalation::reschedule_open`).

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use docde_domain::ward::alarm::EscalationPolicy;
use docde_store::ward::escalation::{self, StoredPolicy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::now;
use super::ward::{load_ward, person};
use crate::auth::Principal;
use crate::authz::Action;
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Seconds after an alarm was raised at which each escalation level is due, per priority:
/// positive and strictly increasing; an empty list never escalates that priority.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct EscalationDelays {
    #[serde(default)]
    #[schema(example = json!([30, 120]))]
    pub high_secs: Vec<u32>,
    #[serde(default)]
    #[schema(example = json!([300, 900]))]
    pub medium_secs: Vec<u32>,
    #[serde(default)]
    pub low_secs: Vec<u32>,
}

impl From<&EscalationPolicy> for EscalationDelays {
    fn from(p: &EscalationPolicy) -> Self {
        Self {
            high_secs: p.high_secs.clone(),
            medium_secs: p.medium_secs.clone(),
            low_secs: p.low_secs.clone(),
        }
    }
}

/// The delays in force for a ward, and where they come from.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WardEscalationView {
    pub ward_id: Uuid,
    /// `ward` (its own) or `default` (the installation's).
    pub source: String,
    pub delays: EscalationDelays,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

fn view(state: &AppState, ward_id: Uuid, own: Option<StoredPolicy>) -> WardEscalationView {
    match own {
        Some(own) => WardEscalationView {
            ward_id,
            source: "ward".into(),
            delays: (&own.value).into(),
            updated_at: Some(own.updated_at),
            updated_by: own.updated_by,
        },
        None => WardEscalationView {
            ward_id,
            source: "default".into(),
            delays: (&state.ward.escalation).into(),
            updated_at: None,
            updated_by: None,
        },
    }
}

/// Ward staff: the escalation delays in force for the ward.
#[utoipa::path(get, path = "/api/v1/wards/{id}/escalation-policy", tag = "ward", security(("bearer" = [])),
    operation_id = "get_ward_escalation_policy",
    params(("id" = Uuid, Path, description = "Ward id")),
    responses(
        (status = 200, description = "The delays in force", body = WardEscalationView),
        (status = 403, description = "`forbidden`: not staff of the ward", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_escalation_policy(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<WardEscalationView>, ApiError> {
    load_ward(&state, &principal, Action::ReadWard, id).await?;
    let own = escalation::of_ward(&state.store, id).await?;
    Ok(Json(view(&state, id, own)))
}

/// Hospital admins: give the ward its own escalation delays. In force at once, for the alarms
/// already waiting to escalate too.
#[utoipa::path(put, path = "/api/v1/wards/{id}/escalation-policy", tag = "ward", security(("bearer" = [])),
    operation_id = "put_ward_escalation_policy",
    params(("id" = Uuid, Path, description = "Ward id")), request_body = EscalationDelays,
    responses(
        (status = 200, description = "Stored and in force", body = WardEscalationView),
        (status = 403, description = "`forbidden`: not an admin of the ward's hospital", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`escalation_not_increasing`, `too_many_escalation_levels`, `validation_failed`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_escalation_policy(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<EscalationDelays>,
) -> Result<Json<WardEscalationView>, ApiError> {
    let by = person(&principal)?;
    load_ward(&state, &principal, Action::ManageWards, id).await?;
    let policy = EscalationPolicy {
        high_secs: req.high_secs,
        medium_secs: req.medium_secs,
        low_secs: req.low_secs,
    };
    policy.check().map_err(|problem| ApiError::Invalid {
        code: problem.code(),
        field: "delays".into(),
        message: problem.to_string(),
    })?;
    let own = escalation::set_ward(&state.store, id, &policy, Some(by), now()).await?;
    escalation::reschedule_open(&state.store, id, &policy).await?;
    tracing::info!(ward.id = %id, user.id = %by, "ward escalation delays set");
    Ok(Json(view(&state, id, Some(own))))
}

/// Hospital admins: remove the ward's own delays; the installation's apply again, also to the
/// alarms already waiting to escalate.
#[utoipa::path(delete, path = "/api/v1/wards/{id}/escalation-policy", tag = "ward", security(("bearer" = [])),
    operation_id = "delete_ward_escalation_policy",
    params(("id" = Uuid, Path, description = "Ward id")),
    responses(
        (status = 200, description = "Removed (or there was none); what applies now", body = WardEscalationView),
        (status = 403, description = "`forbidden`: not an admin of the ward's hospital", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_escalation_policy(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<WardEscalationView>, ApiError> {
    let by = person(&principal)?;
    load_ward(&state, &principal, Action::ManageWards, id).await?;
    if escalation::clear_ward(&state.store, id).await? {
        escalation::reschedule_open(&state.store, id, &state.ward.escalation).await?;
        tracing::info!(ward.id = %id, user.id = %by, "ward escalation delays removed");
    }
    Ok(Json(view(&state, id, None)))
}
