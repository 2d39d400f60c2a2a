//! `/api/v1/hospitals` and `/api/v1/wards`, as far as accounts need them: creating a hospital,
//! inviting and listing its staff, wards and their nurses. (The directory and ward-monitoring
//! issues extend these.)

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use docde_domain::account::Role;
use docde_store::accounts::codes::{CodePurpose, NewCode};
use docde_store::accounts::hospitals::{self, Hospital, Ward};
use docde_store::accounts::users::{self, CreateUserError, NewUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::users::Profile;
use super::{account_mail, invalid, now, parse_email};
use crate::auth::Principal;
use crate::auth::secrets::random_token;
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// How long an invitation code is valid.
const INVITATION_TTL_HOURS: i64 = 72;

#[derive(Debug, Serialize, ToSchema)]
pub struct HospitalView {
    pub id: Uuid,
    pub name: String,
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
}

impl From<Hospital> for HospitalView {
    fn from(h: Hospital) -> Self {
        Self {
            id: h.id,
            name: h.name,
            time_zone: h.time_zone,
            created_at: h.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct NewHospitalRequest {
    #[garde(length(chars, min = 1, max = 100))]
    pub name: String,
    /// IANA time zone; default `Asia/Seoul`.
    #[garde(inner(length(min = 3, max = 50)))]
    pub time_zone: Option<String>,
}

/// Installation admins: register a hospital.
#[utoipa::path(post, path = "/api/v1/hospitals", tag = "hospitals", operation_id = "create_hospital", security(("bearer" = [])), request_body = NewHospitalRequest,
    responses(
        (status = 201, description = "Created", body = HospitalView),
        (status = 403, description = "Not an installation admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(req): ApiJson<NewHospitalRequest>,
) -> Result<(StatusCode, Json<HospitalView>), ApiError> {
    authorize(&principal, Action::CreateHospital, Target::Installation)?;
    let time_zone = req.time_zone.unwrap_or_else(|| "Asia/Seoul".into());
    let hospital =
        hospitals::create_hospital(&state.store, req.name.trim(), &time_zone, now()).await?;
    crate::directory_index::changed(
        &state,
        crate::directory_index::Change::Hospital { id: hospital.id },
    )
    .await;
    Ok((StatusCode::CREATED, Json(hospital.into())))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Doctor,
    Nurse,
    Reception,
    HospitalAdmin,
}

impl From<StaffRole> for Role {
    fn from(r: StaffRole) -> Self {
        match r {
            StaffRole::Doctor => Role::Doctor,
            StaffRole::Nurse => Role::Nurse,
            StaffRole::Reception => Role::Reception,
            StaffRole::HospitalAdmin => Role::HospitalAdmin,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct InviteStaffRequest {
    #[garde(length(chars, max = 254))]
    pub email: String,
    #[garde(length(chars, min = 1, max = 50))]
    pub name: String,
    #[garde(skip)]
    pub role: StaffRole,
    /// For signing in by employee number (unique within the hospital).
    #[garde(inner(length(chars, min = 1, max = 50)))]
    pub employee_number: Option<String>,
}

/// Hospital admins: invite a staff member. An invitation code is e-mailed; the account is
/// active once they accept it with a password of their own.
#[utoipa::path(post, path = "/api/v1/hospitals/{id}/staff", tag = "hospitals", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id")), request_body = InviteStaffRequest,
    responses(
        (status = 201, description = "Invited", body = Profile),
        (status = 403, description = "Not an admin of this hospital", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken` or `employee_number_taken`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn invite_staff(
    State(state): State<AppState>,
    principal: Principal,
    Path(hospital_id): Path<Uuid>,
    ApiJson(req): ApiJson<InviteStaffRequest>,
) -> Result<(StatusCode, Json<Profile>), ApiError> {
    authorize(
        &principal,
        Action::InviteStaff,
        Target::Hospital(hospital_id),
    )?;
    let hospital = hospitals::get_hospital(&state.store, hospital_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let email = parse_email("email", &req.email)?;
    let user_id = Uuid::now_v7();
    let code = random_token(24);
    let record = NewCode {
        purpose: CodePurpose::Invitation,
        code_hash: state
            .auth
            .keys
            .code_hash(CodePurpose::Invitation.as_str(), user_id, &code),
        expires_at: now() + Duration::hours(INVITATION_TTL_HOURS),
    };
    let role = Role::from(req.role);
    let mail = account_mail::invitation(email.as_str(), &hospital.name, role.as_str(), &code);
    let new_user = NewUser {
        email: email.as_str().to_owned(),
        email_key: email.key(),
        password_hash: None,
        role,
        hospital_id: Some(hospital_id),
        employee_number: req.employee_number.map(|n| n.trim().to_owned()),
        name: req.name.trim().to_owned(),
        phone: None,
        birth_date: None,
        gender: None,
        address: None,
        active: false,
    };
    match users::create(
        &state.store,
        user_id,
        &new_user,
        Some(&record),
        Some(&mail),
        now(),
    )
    .await
    {
        Ok(()) => {}
        // The admin already knows the address; saying it is taken leaks nothing new.
        Err(CreateUserError::EmailTaken) => {
            return Err(ApiError::Conflict {
                code: "email_taken",
                detail: "an account with this e-mail exists".into(),
            });
        }
        Err(CreateUserError::EmployeeNumberTaken) => {
            return Err(ApiError::Conflict {
                code: "employee_number_taken",
                detail: "another staff member of this hospital has this employee number".into(),
            });
        }
        Err(CreateUserError::Store(e)) => return Err(e.into()),
    }
    crate::mail::dispatcher::wake(&state).await;
    let user = users::get(&state.store, user_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("invited user vanished"))?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Staff of a hospital (its own staff and admins only).
#[utoipa::path(get, path = "/api/v1/hospitals/{id}/staff", tag = "hospitals", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id")),
    responses((status = 200, description = "Staff, oldest first", body = [Profile])))]
pub async fn list_staff(
    State(state): State<AppState>,
    principal: Principal,
    Path(hospital_id): Path<Uuid>,
) -> Result<Json<Vec<Profile>>, ApiError> {
    authorize(&principal, Action::ListStaff, Target::Hospital(hospital_id))?;
    let staff = users::staff_of(&state.store, hospital_id).await?;
    Ok(Json(staff.into_iter().map(Profile::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WardView {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub name: String,
    pub nurse_ids: Vec<Uuid>,
}

impl From<Ward> for WardView {
    fn from(w: Ward) -> Self {
        Self {
            id: w.id,
            hospital_id: w.hospital_id,
            name: w.name,
            nurse_ids: w.nurse_ids,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct NewWardRequest {
    #[garde(length(chars, min = 1, max = 100))]
    pub name: String,
}

/// Hospital admins: add a ward.
#[utoipa::path(post, path = "/api/v1/hospitals/{id}/wards", tag = "wards", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id")), request_body = NewWardRequest,
    responses((status = 201, description = "Created", body = WardView)))]
pub async fn create_ward(
    State(state): State<AppState>,
    principal: Principal,
    Path(hospital_id): Path<Uuid>,
    ApiJson(req): ApiJson<NewWardRequest>,
) -> Result<(StatusCode, Json<WardView>), ApiError> {
    authorize(
        &principal,
        Action::ManageWards,
        Target::Hospital(hospital_id),
    )?;
    hospitals::get_hospital(&state.store, hospital_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let ward = hospitals::create_ward(&state.store, hospital_id, req.name.trim(), now()).await?;
    Ok((StatusCode::CREATED, Json(ward.into())))
}

/// A ward and its nurses: for its hospital's admins and doctors, and the nurses assigned to it.
#[utoipa::path(get, path = "/api/v1/wards/{id}", tag = "wards", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ward id")),
    responses((status = 200, description = "The ward", body = WardView)))]
pub async fn get_ward(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<WardView>, ApiError> {
    let ward = load_ward(&state, &principal, Action::ReadWard, id).await?;
    Ok(Json(ward.into()))
}

async fn load_ward(
    state: &AppState,
    principal: &Principal,
    action: Action,
    id: Uuid,
) -> Result<Ward, ApiError> {
    let ward = hospitals::get_ward(&state.store, id).await?;
    let Some(ward) = ward else {
        // Admins learn it does not exist; everyone else learns nothing.
        authorize(principal, action, Target::Installation)?;
        return Err(ApiError::NotFound);
    };
    authorize(
        principal,
        action,
        Target::Ward {
            hospital_id: ward.hospital_id,
            nurse_ids: &ward.nurse_ids,
        },
    )?;
    Ok(ward)
}

/// Hospital admins: assign a nurse of the hospital to the ward.
#[utoipa::path(put, path = "/api/v1/wards/{id}/nurses/{user_id}", tag = "wards", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ward id"), ("user_id" = Uuid, Path, description = "Nurse's user id")),
    responses(
        (status = 204, description = "Assigned"),
        (status = 422, description = "Not a nurse of this hospital", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn assign_nurse(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, user_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    let ward = load_ward(&state, &principal, Action::ManageWards, id).await?;
    let nurse = users::get(&state.store, user_id).await?;
    if nurse.is_none_or(|n| n.role != Role::Nurse || n.hospital_id != Some(ward.hospital_id)) {
        return Err(invalid("user_id", "must be a nurse of the ward's hospital"));
    }
    hospitals::assign_nurse(&state.store, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Hospital admins: take a nurse off the ward.
#[utoipa::path(delete, path = "/api/v1/wards/{id}/nurses/{user_id}", tag = "wards", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ward id"), ("user_id" = Uuid, Path, description = "Nurse's user id")),
    responses((status = 204, description = "Unassigned")))]
pub async fn unassign_nurse(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, user_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    load_ward(&state, &principal, Action::ManageWards, id).await?;
    hospitals::unassign_nurse(&state.store, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
