//! `/api/v1/users`: one's own account, and profiles others may see.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use docde_domain::account::Role;
use docde_store::accounts::users::{self, User, UserStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, AuditContext, Subject};
use super::now;
use crate::auth::Principal;
use crate::auth::principal::CurrentUser;
use crate::auth::rate_limit;
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// A person's profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    pub id: Uuid,
    pub email: String,
    /// `patient`, `doctor`, `nurse`, `reception`, `hospital_admin` or `admin`.
    #[schema(value_type = String)]
    pub role: Role,
    pub hospital_id: Option<Uuid>,
    pub employee_number: Option<String>,
    pub name: String,
    pub phone: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub birth_date: Option<NaiveDate>,
    pub gender: Option<String>,
    pub address: Option<String>,
    /// `pending` until the e-mail is verified or the invitation accepted.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl From<User> for Profile {
    fn from(u: User) -> Self {
        Profile {
            id: u.id,
            email: u.email,
            role: u.role,
            hospital_id: u.hospital_id,
            employee_number: u.employee_number,
            name: u.name,
            phone: u.phone,
            birth_date: u.birth_date,
            gender: u.gender,
            address: u.address,
            status: match u.status {
                UserStatus::Pending => "pending",
                UserStatus::Active => "active",
                UserStatus::Deleted => "deleted",
            }
            .into(),
            created_at: u.created_at,
        }
    }
}

/// The signed-in person's own profile.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "Own profile", body = Profile)))]
pub async fn me(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<Json<Profile>, ApiError> {
    let user = users::get(&state.store, me.id)
        .await?
        .ok_or(ApiError::Unauthorized("session_revoked"))?;
    Ok(Json(user.into()))
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct DeleteAccountRequest {
    /// The current password, asked again so a borrowed session cannot delete the account.
    #[garde(length(chars, max = 1024))]
    pub password: String,
}

/// Delete one's own account (soft delete: the e-mail address becomes free, every session ends;
/// appointments and records keep referring to the person).
#[utoipa::path(delete, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])), request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`wrong_password`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_me(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    ApiJson(req): ApiJson<DeleteAccountRequest>,
) -> Result<StatusCode, ApiError> {
    let user = users::get(&state.store, me.id)
        .await?
        .ok_or(ApiError::Unauthorized("session_revoked"))?;
    rate_limit::hit(
        &state,
        rate_limit::SIGN_IN_PER_ACCOUNT,
        &user.id.to_string(),
    )
    .await?;
    if !state
        .auth
        .passwords
        .verify(&req.password, user.password_hash.as_deref())
        .await
    {
        return Err(ApiError::Rejected {
            status: StatusCode::FORBIDDEN,
            code: "wrong_password",
            detail: None,
        });
    }
    users::soft_delete(&state.store, user.id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A person's profile: one's own, or (for hospital admins) their staff's. Reading someone
/// else's profile is audited.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", operation_id = "get_user", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "Profile", body = Profile),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    ctx: AuditContext,
    Path(id): Path<Uuid>,
) -> Result<Json<Profile>, ApiError> {
    let user = users::get(&state.store, id)
        .await?
        .filter(|u| u.status != UserStatus::Deleted);
    // Unknown and forbidden look the same to those who may not see the profile.
    let target = Target::User {
        id,
        hospital_id: user.as_ref().and_then(|u| u.hospital_id),
    };
    authorize(&principal, Action::ReadProfile, target)?;
    let user = user.ok_or(ApiError::NotFound)?;
    let own = matches!(&principal, Principal::User(p) if p.id == id);
    if !own {
        let subject = Subject {
            action: "user.read",
            resource_type: "user",
            resource_id: Some(id),
            patient_id: (user.role == Role::Patient).then_some(id),
            hospital_id: user.hospital_id,
        };
        audit::record(&state, &principal, &ctx, subject).await?;
    }
    Ok(Json(user.into()))
}
