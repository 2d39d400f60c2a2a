//! Call next: a doctor (or the desk for them) takes the first waiting visit of a department's
//! line.

use axum::Json;
use axum::extract::{Path, State};
use docde_domain::reception::local_day;
use docde_store::reception::visits;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::lookups::{department_of, doctor_of, my_doctor};
use super::{announce, reception_error};
use crate::auth::{CurrentUser, Principal};
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::reception::views::{CallNextView, VisitView};
use crate::state::AppState;

/// Which line "call next" serves.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct CallNextRequest {
    pub department: String,
    /// The calling doctor (default: the caller's own doctor record, if the caller is one).
    /// Takes visits assigned to this doctor or to nobody.
    #[serde(default)]
    pub doctor_id: Option<Uuid>,
}

/// Call next: atomically takes the first waiting visit of the department's line for the
/// doctor and marks it `called`. Two callers at once never get the same visit.
#[utoipa::path(post, operation_id = "reception_call_next", path = "/api/v1/hospitals/{id}/reception/call-next", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id")),
    request_body = CallNextRequest,
    responses((status = 200, description = "The called visit, or `visit: null` when nobody waits", body = CallNextView)))]
pub async fn call_next(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(hospital_id): Path<Uuid>,
    ApiJson(req): ApiJson<CallNextRequest>,
) -> Result<Json<CallNextView>, ApiError> {
    let facts = state
        .reception
        .hospitals
        .get(&state.store, hospital_id)
        .await?;
    authorize(
        &Principal::User(me.clone()),
        Action::ManageLine,
        Target::Hospital(hospital_id),
    )?;
    let department = department_of(&req.department, &facts)?;
    let doctor_id = match req.doctor_id {
        Some(d) => Some(doctor_of(&state, hospital_id, &department, d).await?),
        None => my_doctor(&state, &me).await?,
    };
    let now = state.reception.clock.now();
    let call = visits::CallNext {
        hospital_id,
        department,
        day: local_day(now, facts.tz),
        doctor_id,
        by: me.id,
        now,
    };
    // On PostgreSQL a candidate being claimed by a concurrent caller can make the claim
    // come back empty although others wait: try again a couple of times before saying so.
    for _ in 0..3 {
        if let Some((visit, _)) = visits::call_next(&state.store, &call)
            .await
            .map_err(reception_error)?
        {
            announce(&state, &visit);
            return Ok(Json(CallNextView {
                visit: Some(VisitView::of(&visit)),
            }));
        }
        if state.store.dialect() != "postgres" {
            break;
        }
    }
    Ok(Json(CallNextView { visit: None }))
}
