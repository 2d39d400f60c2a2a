//! `/api/v1/auth/password…`: changing a password, and resetting a forgotten one by e-mailed
//! code. Both end other sessions: a changed password must lock out whoever knew the old one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Duration;
use docde_store::accounts::codes::{CodeOutcome, CodePurpose, Effect};
use docde_store::accounts::users::{self, UserStatus};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::{
    Accepted, CODE_TTL_MINUTES, EmailRequest, accepted, code_error, new_code, redeem_code,
    six_digits,
};
use super::{account_mail, check_new_password, now, parse_email};
use crate::auth::ClientIp;
use crate::auth::principal::CurrentUser;
use crate::auth::rate_limit;
use crate::auth::secrets::six_digit_code;
use crate::extract::ApiJson;
use crate::mail::dispatcher;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct ChangePasswordRequest {
    #[garde(length(chars, max = 1024))]
    pub current_password: String,
    #[garde(skip)]
    pub new_password: String,
}

/// Change the password; every other session ends.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "`wrong_password`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`weak_password`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    let user = users::get(&state.store, principal.id)
        .await?
        .ok_or(ApiError::Unauthorized("session_revoked"))?;
    let email = parse_email("email", &user.email).ok();
    check_new_password("new_password", &req.new_password, email.as_ref())?;
    rate_limit::hit(
        &state,
        rate_limit::SIGN_IN_PER_ACCOUNT,
        &user.id.to_string(),
    )
    .await?;
    if !state
        .auth
        .passwords
        .verify(&req.current_password, user.password_hash.as_deref())
        .await
    {
        return Err(ApiError::Rejected {
            status: StatusCode::FORBIDDEN,
            code: "wrong_password",
            detail: None,
        });
    }
    let hash = state.auth.passwords.hash(&req.new_password).await?;
    users::set_password(
        &state.store,
        user.id,
        &hash,
        Some(principal.session_id),
        now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask for a password-reset code by e-mail.
#[utoipa::path(post, path = "/api/v1/auth/password/forgot", tag = "auth", request_body = EmailRequest,
    responses((status = 202, description = "A code was sent if the address has an account", body = Accepted)))]
pub async fn forgot_password(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(req): ApiJson<EmailRequest>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let email = parse_email("email", &req.email)?;
    rate_limit::hit(&state, rate_limit::RESET_PER_IP, &ip.key()).await?;
    rate_limit::hit(&state, rate_limit::RESET_PER_ACCOUNT, &email.key()).await?;
    if let Some(user) = users::find_by_email(&state.store, &email.key()).await?
        && user.status == UserStatus::Active
    {
        let code = six_digit_code();
        let record = new_code(
            &state,
            CodePurpose::ResetPassword,
            user.id,
            &code,
            Duration::minutes(CODE_TTL_MINUTES),
        );
        users::issue_code(
            &state.store,
            user.id,
            &record,
            &account_mail::reset_code(&user.email, &code),
            now(),
        )
        .await?;
        dispatcher::wake(&state).await;
    }
    Ok(accepted("reset_code_sent"))
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct ResetPasswordRequest {
    #[garde(length(chars, max = 254))]
    pub email: String,
    #[garde(custom(six_digits))]
    pub code: String,
    #[garde(skip)]
    pub new_password: String,
}

/// Set a new password with the e-mailed code; every session ends.
#[utoipa::path(post, path = "/api/v1/auth/password/reset", tag = "auth", request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password replaced"),
        (status = 400, description = "`invalid_code`, `code_expired` or `code_exhausted`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reset_password(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(req): ApiJson<ResetPasswordRequest>,
) -> Result<StatusCode, ApiError> {
    let email = parse_email("email", &req.email)?;
    check_new_password("new_password", &req.new_password, Some(&email))?;
    rate_limit::hit(&state, rate_limit::CODE_PER_IP, &ip.key()).await?;
    let Some(user) = users::find_by_email(&state.store, &email.key()).await? else {
        return Err(code_error(CodeOutcome::NoCode));
    };
    let hash = state.auth.passwords.hash(&req.new_password).await?;
    let effect = Effect::ResetPassword {
        password_hash: hash,
    };
    redeem_code(
        &state,
        user.id,
        CodePurpose::ResetPassword,
        &req.code,
        &effect,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
