//! `/api/v1/hospitals/{id}/doctors` and `/api/v1/doctors/{id}`: doctors as the directory shows
//! them. Reading is public; editing is for the hospital's own admins.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use docde_domain::directory::Department;
use docde_store::directory::{self, Doctor, DoctorFacts};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::directory::DepartmentView;
use super::now;
use crate::auth::Principal;
use crate::authz::{Action, Target, authorize};
use crate::directory_index::{Change, changed};
use crate::extract::ApiJson;
use crate::problem::{ApiError, FieldError};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct DoctorEntry {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub name: String,
    pub bio: Option<String>,
    pub accepts_online_booking: bool,
    pub departments: Vec<DepartmentView>,
    /// Review ratings (in `GET /api/v1/doctors/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<super::reviews::RatingSummaryView>,
}

impl From<Doctor> for DoctorEntry {
    fn from(d: Doctor) -> Self {
        Self {
            id: d.id,
            hospital_id: d.hospital_id,
            name: d.name,
            bio: d.bio,
            accepts_online_booking: d.accepts_online_booking,
            departments: d
                .departments
                .iter()
                .filter_map(|c| c.parse::<Department>().ok())
                .map(DepartmentView::from)
                .collect(),
            rating: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct DoctorRequest {
    #[garde(length(chars, min = 1, max = 50))]
    pub name: String,
    #[garde(inner(length(chars, max = 1000)))]
    pub bio: Option<String>,
    #[garde(skip)]
    #[serde(default = "yes")]
    pub accepts_online_booking: bool,
    #[garde(length(min = 1, max = 5))]
    pub departments: Vec<String>,
}

fn yes() -> bool {
    true
}

fn doctor_facts(req: DoctorRequest) -> Result<DoctorFacts, ApiError> {
    let mut departments = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in req.departments.iter().enumerate() {
        match raw.parse::<Department>() {
            Ok(d) => departments.push(d.code().to_owned()),
            Err(e) => errors.push(FieldError {
                field: format!("departments[{i}]"),
                message: e.to_string(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(DoctorFacts {
        name: req.name.trim().to_owned(),
        bio: req.bio,
        accepts_online_booking: req.accepts_online_booking,
        departments,
        user_id: None,
    })
}

/// A hospital's doctors (public).
#[utoipa::path(get, path = "/api/v1/hospitals/{id}/doctors", tag = "directory",
    params(("id" = Uuid, Path, description = "Hospital id")),
    responses((status = 200, description = "Doctors; empty list if none", body = [DoctorEntry])))]
pub async fn list_doctors(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<DoctorEntry>>, ApiError> {
    directory::get_hospital(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let doctors = directory::doctors(&state.store, Some(id)).await?;
    Ok(Json(doctors.into_iter().map(DoctorEntry::from).collect()))
}

/// Add a doctor to the hospital's directory entry.
#[utoipa::path(post, path = "/api/v1/hospitals/{id}/doctors", tag = "directory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id")), request_body = DoctorRequest,
    responses((status = 201, description = "Added", body = DoctorEntry)))]
pub async fn create_doctor(
    State(state): State<AppState>,
    principal: Principal,
    Path(hospital_id): Path<Uuid>,
    ApiJson(req): ApiJson<DoctorRequest>,
) -> Result<(StatusCode, Json<DoctorEntry>), ApiError> {
    authorize(
        &principal,
        Action::ManageDirectory,
        Target::Hospital(hospital_id),
    )?;
    directory::get_hospital(&state.store, hospital_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let facts = doctor_facts(req)?;
    let id = Uuid::now_v7();
    directory::put_doctor(&state.store, id, hospital_id, &facts, now()).await?;
    changed(&state, Change::Doctor { id, hospital_id }).await;
    let doctor = directory::get_doctor(&state.store, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("doctor vanished"))?;
    Ok((StatusCode::CREATED, Json(doctor.into())))
}

/// A doctor's directory entry (public).
#[utoipa::path(get, path = "/api/v1/doctors/{id}", tag = "directory",
    params(("id" = Uuid, Path, description = "Doctor id")),
    responses((status = 200, description = "The doctor", body = DoctorEntry)))]
pub async fn get_doctor(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<DoctorEntry>, ApiError> {
    let doctor = directory::get_doctor(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut entry = DoctorEntry::from(doctor);
    let subject = docde_store::reviews::Subject::Doctor(id);
    entry.rating = Some(super::reviews::summary(&state, subject).await?);
    Ok(Json(entry))
}

async fn doctor_for_edit(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<Doctor, ApiError> {
    let doctor = directory::get_doctor(&state.store, id).await?;
    let Some(doctor) = doctor else {
        authorize(principal, Action::ManageDirectory, Target::Installation)?;
        return Err(ApiError::NotFound);
    };
    authorize(
        principal,
        Action::ManageDirectory,
        Target::Hospital(doctor.hospital_id),
    )?;
    Ok(doctor)
}

/// Replace a doctor's directory entry.
#[utoipa::path(put, path = "/api/v1/doctors/{id}", tag = "directory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doctor id")), request_body = DoctorRequest,
    responses((status = 200, description = "Stored", body = DoctorEntry)))]
pub async fn put_doctor(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<DoctorRequest>,
) -> Result<Json<DoctorEntry>, ApiError> {
    let existing = doctor_for_edit(&state, &principal, id).await?;
    let mut facts = doctor_facts(req)?;
    facts.user_id = existing.user_id;
    directory::put_doctor(&state.store, id, existing.hospital_id, &facts, now()).await?;
    changed(
        &state,
        Change::Doctor {
            id,
            hospital_id: existing.hospital_id,
        },
    )
    .await;
    let doctor = directory::get_doctor(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut entry = DoctorEntry::from(doctor);
    let subject = docde_store::reviews::Subject::Doctor(id);
    entry.rating = Some(super::reviews::summary(&state, subject).await?);
    Ok(Json(entry))
}

/// Remove a doctor from the directory (soft delete).
#[utoipa::path(delete, path = "/api/v1/doctors/{id}", tag = "directory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doctor id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_doctor(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let doctor = doctor_for_edit(&state, &principal, id).await?;
    directory::delete_doctor(&state.store, id, now()).await?;
    changed(
        &state,
        Change::Doctor {
            id,
            hospital_id: doctor.hospital_id,
        },
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
