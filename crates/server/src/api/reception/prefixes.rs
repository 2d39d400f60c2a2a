//! A department's waiting-number prefix (`IM` shows `IM-007`), set by hospital admins.

use axum::Json;
use axum::extract::{Path, State};
use docde_domain::reception::NumberPrefix;
use docde_store::reception::visits;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::errors::invalid;
use super::lookups::department_of;
use crate::auth::{CurrentUser, Principal};
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::AppState;

/// A department's waiting-number prefix.
#[derive(Debug, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct PrefixBody {
    /// 1–8 capital letters or digits (`IM` shows `IM-007`); `null` for bare numbers.
    pub prefix: Option<String>,
}

/// Set a department's waiting-number prefix (hospital admins). Numbers already given keep
/// their label.
#[utoipa::path(put, operation_id = "reception_put_prefix", path = "/api/v1/hospitals/{id}/reception/prefixes/{department}", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id"), ("department" = String, Path, description = "Department code")),
    request_body = PrefixBody,
    responses((status = 200, description = "Saved", body = PrefixBody),
              (status = 422, description = "`invalid_prefix` or `unknown_department`")))]
pub async fn put_prefix(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path((hospital_id, department)): Path<(Uuid, String)>,
    ApiJson(body): ApiJson<PrefixBody>,
) -> Result<Json<PrefixBody>, ApiError> {
    let facts = state
        .reception
        .hospitals
        .get(&state.store, hospital_id)
        .await?;
    authorize(
        &Principal::User(me),
        Action::ConfigureReception,
        Target::Hospital(hospital_id),
    )?;
    let department = department_of(&department, &facts)?;
    let prefix = body
        .prefix
        .as_deref()
        .map(NumberPrefix::parse)
        .transpose()
        .map_err(|e| invalid("invalid_prefix", "prefix", &e.to_string()))?;
    visits::set_prefix(&state.store, hospital_id, &department, prefix.as_ref()).await?;
    Ok(Json(PrefixBody {
        prefix: prefix.map(|p| p.as_str().to_owned()),
    }))
}
