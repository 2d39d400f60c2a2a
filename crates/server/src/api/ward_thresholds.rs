//! `/api/v1/wards/{id}/thresholds` and `/api/v1/admissions/{id}/thresholds`: reading and
//! setting the alarm limits of a ward and of one patient. Ward staff read both; hospital admins
//! set the ward's; the ward's nurses and hospital admins set a patient's.
//!
//! A write is a whole replacement of that level's overrides (`{}` inherits everything) and is
//! checked merged with the other level first, so a ward change cannot cross a patient's limits
//! or the reverse; unknown fields are refused (a misspelt limit must not silently inherit).
//! The evaluator uses the new limits from the next sample on, on every instance
//! (`crate::ward::thresholds`).

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use docde_domain::ward::alarm::{ThresholdOverrides, ThresholdProblem, Thresholds};
use docde_store::ward::admissions::{self, Admission};
use docde_store::ward::thresholds::{self as stored, StoredOverrides};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::now;
use super::ward::{load_ward, person, ward_error};
use crate::auth::Principal;
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// A ward's or a patient's overrides: any subset of the fields of `effective` (°C, %, /min,
/// mmHg, mL, s). Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(transparent)]
#[schema(value_type = Object, example = json!({"fever_c": 38.5, "tachycardia_per_min": 120}))]
pub struct ThresholdsRequest(#[garde(skip)] pub ThresholdOverrides);

#[derive(Debug, Serialize, ToSchema)]
pub struct WardThresholdsView {
    pub ward_id: Uuid,
    /// The ward's overrides (`{}` when it uses the defaults).
    #[schema(value_type = Object)]
    pub overrides: ThresholdOverrides,
    /// The defaults with the ward's overrides applied: every limit, for a patient without
    /// overrides of their own.
    #[schema(value_type = Object)]
    pub effective: Thresholds,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdmissionThresholdsView {
    pub admission_id: Uuid,
    pub ward_id: Uuid,
    /// The patient's own overrides (`{}` when none).
    #[schema(value_type = Object)]
    pub overrides: ThresholdOverrides,
    /// The ward's overrides, which the patient's sit on top of.
    #[schema(value_type = Object)]
    pub ward_overrides: ThresholdOverrides,
    /// The limits the evaluator applies to this patient.
    #[schema(value_type = Object)]
    pub effective: Thresholds,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

fn refused(problem: ThresholdProblem, context: Option<Uuid>) -> ApiError {
    let field = match &problem {
        ThresholdProblem::Implausible { field } => *field,
        ThresholdProblem::Overlap { lower, .. } => *lower,
    };
    let message = match context {
        Some(admission) => format!("{problem} (with the overrides of admission {admission})"),
        None => problem.to_string(),
    };
    ApiError::Invalid {
        code: problem.code(),
        field: field.to_owned(),
        message,
    }
}

async fn ward_overrides(state: &AppState, ward_id: Uuid) -> Result<ThresholdOverrides, ApiError> {
    Ok(stored::of_ward(&state.store, ward_id)
        .await?
        .map(|s| s.value)
        .unwrap_or_default())
}

fn ward_view(
    ward_id: Uuid,
    defaults: &Thresholds,
    row: Option<StoredOverrides>,
) -> WardThresholdsView {
    let (overrides, updated_at, updated_by) = match row {
        Some(s) => (s.value, Some(s.updated_at), s.updated_by),
        None => (ThresholdOverrides::default(), None, None),
    };
    WardThresholdsView {
        ward_id,
        effective: defaults.with(&overrides),
        overrides,
        updated_at,
        updated_by,
    }
}

/// Ward staff: the ward's alarm threshold overrides and the limits they make.
#[utoipa::path(get, path = "/api/v1/wards/{id}/thresholds", tag = "ward", security(("bearer" = [])),
    operation_id = "get_ward_thresholds",
    params(("id" = Uuid, Path, description = "Ward id")),
    responses((status = 200, description = "The ward's limits", body = WardThresholdsView)))]
pub async fn get_ward_thresholds(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<WardThresholdsView>, ApiError> {
    load_ward(&state, &principal, Action::ReadWard, id).await?;
    let row = stored::of_ward(&state.store, id).await?;
    Ok(Json(ward_view(id, &state.ward.thresholds, row)))
}

/// Hospital admins: replace the ward's alarm threshold overrides (`{}` restores the defaults).
/// Checked against the defaults and against every admitted patient's own overrides.
#[utoipa::path(put, path = "/api/v1/wards/{id}/thresholds", tag = "ward", security(("bearer" = [])),
    operation_id = "put_ward_thresholds",
    params(("id" = Uuid, Path, description = "Ward id")), request_body = ThresholdsRequest,
    responses(
        (status = 200, description = "Stored; in force from the next sample", body = WardThresholdsView),
        (status = 422, description = "`thresholds_overlap`, `implausible_threshold`, `validation_failed` (unknown field)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_ward_thresholds(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(ThresholdsRequest(overrides)): ApiJson<ThresholdsRequest>,
) -> Result<Json<WardThresholdsView>, ApiError> {
    let by = person(&principal)?;
    load_ward(&state, &principal, Action::ManageWards, id).await?;
    let defaults = &state.ward.thresholds;
    let none = ThresholdOverrides::default();
    Thresholds::merge(defaults, &overrides, &none).map_err(|p| refused(p, None))?;
    for (admission, patient) in stored::of_open_admissions_in_ward(&state.store, id).await? {
        Thresholds::merge(defaults, &overrides, &patient)
            .map_err(|p| refused(p, Some(admission)))?;
    }
    let row = stored::set_ward(&state.store, id, &overrides, Some(by), now())
        .await
        .map_err(ward_error)?;
    Ok(Json(ward_view(id, defaults, Some(row))))
}

/// Loads an admission and checks `action` on its ward.
async fn admission_for(
    state: &AppState,
    principal: &Principal,
    action: Action,
    id: Uuid,
) -> Result<Admission, ApiError> {
    let Some(admission) = admissions::get(&state.store, id).await? else {
        authorize(principal, action, Target::Installation)?;
        return Err(ApiError::NotFound);
    };
    load_ward(state, principal, action, admission.ward_id).await?;
    Ok(admission)
}

async fn admission_view(
    state: &AppState,
    admission: &Admission,
    row: Option<StoredOverrides>,
) -> Result<AdmissionThresholdsView, ApiError> {
    let ward_overrides = ward_overrides(state, admission.ward_id).await?;
    let (overrides, updated_at, updated_by) = match row {
        Some(s) => (s.value, Some(s.updated_at), s.updated_by),
        None => (ThresholdOverrides::default(), None, None),
    };
    let defaults = &state.ward.thresholds;
    // The same fallback as the evaluator's, should a race have crossed the two levels.
    let effective = Thresholds::merge(defaults, &ward_overrides, &overrides)
        .unwrap_or_else(|_| defaults.with(&ward_overrides));
    Ok(AdmissionThresholdsView {
        admission_id: admission.id,
        ward_id: admission.ward_id,
        overrides,
        ward_overrides,
        effective,
        updated_at,
        updated_by,
    })
}

/// Ward staff: a patient's alarm threshold overrides, the ward's beneath them, and the limits
/// in force for the patient.
#[utoipa::path(get, path = "/api/v1/admissions/{id}/thresholds", tag = "ward", security(("bearer" = [])),
    operation_id = "get_admission_thresholds",
    params(("id" = Uuid, Path, description = "Admission id")),
    responses((status = 200, description = "The patient's limits", body = AdmissionThresholdsView)))]
pub async fn get_admission_thresholds(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<AdmissionThresholdsView>, ApiError> {
    let admission = admission_for(&state, &principal, Action::ReadWard, id).await?;
    let row = stored::of_admission(&state.store, id).await?;
    Ok(Json(admission_view(&state, &admission, row).await?))
}

/// The ward's nurses, hospital admins: replace a patient's alarm threshold overrides (`{}`
/// returns the patient to the ward's limits). Only while the patient is admitted.
#[utoipa::path(put, path = "/api/v1/admissions/{id}/thresholds", tag = "ward", security(("bearer" = [])),
    operation_id = "put_admission_thresholds",
    params(("id" = Uuid, Path, description = "Admission id")), request_body = ThresholdsRequest,
    responses(
        (status = 200, description = "Stored; in force from the next sample", body = AdmissionThresholdsView),
        (status = 409, description = "`admission_closed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`thresholds_overlap`, `implausible_threshold`, `validation_failed` (unknown field)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_admission_thresholds(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(ThresholdsRequest(overrides)): ApiJson<ThresholdsRequest>,
) -> Result<Json<AdmissionThresholdsView>, ApiError> {
    let by = person(&principal)?;
    let admission = admission_for(&state, &principal, Action::SetPatientThresholds, id).await?;
    let ward = ward_overrides(&state, admission.ward_id).await?;
    Thresholds::merge(&state.ward.thresholds, &ward, &overrides).map_err(|p| refused(p, None))?;
    let row = stored::set_admission(&state.store, id, &overrides, Some(by), now())
        .await
        .map_err(ward_error)?;
    Ok(Json(admission_view(&state, &admission, Some(row)).await?))
}
