//! `/api/v1/auth`: sign-up with e-mail verification, sign-in (by e-mail, or employee number
//! for staff), token refresh and logout, password change and reset, accepting an invitation.
//!
//! Answers never reveal whether an account exists: sign-up, resend and forgotten-password
//! always answer 202, and a wrong e-mail takes as long as a wrong password.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Duration, NaiveDate};
use docde_domain::account::{Phone, Role};
use docde_store::accounts::codes::{self, CodeOutcome, CodePurpose, Effect, NewCode};
use docde_store::accounts::sessions::{self, Rotation};
use docde_store::accounts::users::{self, CreateUserError, NewUser, User, UserStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{account_mail, check_new_password, invalid, now, parse_email};
use crate::auth::ClientIp;
use crate::auth::principal::CurrentUser;
use crate::auth::rate_limit;
use crate::auth::secrets::six_digit_code;
use crate::auth::tokens::{self, TokenPair};
use crate::extract::ApiJson;
use crate::mail::dispatcher;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Lifetime of e-mailed codes.
pub(super) const CODE_TTL_MINUTES: i64 = 10;
/// Wrong guesses before a code dies.
const MAX_CODE_ATTEMPTS: u32 = 5;

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct SignUpRequest {
    #[garde(length(chars, max = 254))]
    pub email: String,
    #[garde(skip)]
    pub password: String,
    #[garde(length(chars, min = 1, max = 50))]
    pub name: String,
    #[garde(length(chars, max = 30))]
    pub phone: String,
    #[garde(skip)]
    #[schema(value_type = String, format = Date, example = "1990-05-01")]
    pub birth_date: NaiveDate,
    #[garde(skip)]
    pub gender: Gender,
    #[garde(length(chars, min = 1, max = 200))]
    pub address: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
    Other,
}

impl Gender {
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
            Gender::Other => "other",
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// What happens next, e.g. `verification_sent`.
    pub status: &'static str,
}

pub(super) fn accepted(status: &'static str) -> (StatusCode, Json<Accepted>) {
    (StatusCode::ACCEPTED, Json(Accepted { status }))
}

pub(super) fn new_code(
    state: &AppState,
    purpose: CodePurpose,
    user_id: Uuid,
    code: &str,
    ttl: Duration,
) -> NewCode {
    NewCode {
        purpose,
        code_hash: state.auth.keys.code_hash(purpose.as_str(), user_id, code),
        expires_at: now() + ttl,
    }
}

/// Sign up as a patient; a 6-digit code is e-mailed to verify the address.
#[utoipa::path(post, path = "/api/v1/auth/sign-up", tag = "auth", request_body = SignUpRequest,
    responses(
        (status = 202, description = "A verification code was sent if the address can be used", body = Accepted),
        (status = 422, description = "Invalid field or weak password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-ups from this address", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn sign_up(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(req): ApiJson<SignUpRequest>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let email = parse_email("email", &req.email)?;
    let phone = Phone::parse(&req.phone).map_err(|e| invalid("phone", e))?;
    let today = now().date_naive();
    if req.birth_date > today
        || req.birth_date < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(today)
    {
        return Err(invalid(
            "birth_date",
            "must be a past date after 1900-01-01",
        ));
    }
    check_new_password("password", &req.password, Some(&email))?;
    rate_limit::hit(&state, rate_limit::SIGN_UP_PER_IP, &ip.key()).await?;
    // Hash on every path so that "address already registered" takes as long as a new account.
    let password_hash = state.auth.passwords.hash(&req.password).await?;
    if rate_limit::hit(&state, rate_limit::RESEND_COOLDOWN, &email.key())
        .await
        .is_err()
    {
        return Ok(accepted("verification_sent"));
    }
    match users::find_by_email(&state.store, &email.key()).await? {
        Some(existing)
            if existing.status == UserStatus::Pending && existing.role == Role::Patient =>
        {
            // Never overwrite a pending account's password: whoever holds the mailbox decides.
            send_verification(&state, &existing).await?;
        }
        Some(_) => {
            dispatcher::enqueue_and_wake(&state, account_mail::already_registered(email.as_str()))
                .await?;
        }
        None => {
            let user_id = Uuid::now_v7();
            let code = six_digit_code();
            let record = new_code(
                &state,
                CodePurpose::VerifyEmail,
                user_id,
                &code,
                Duration::minutes(CODE_TTL_MINUTES),
            );
            let mail = account_mail::verification_code(email.as_str(), &code);
            let new_user = NewUser {
                email: email.as_str().to_owned(),
                email_key: email.key(),
                password_hash: Some(password_hash),
                role: Role::Patient,
                hospital_id: None,
                employee_number: None,
                name: req.name.trim().to_owned(),
                phone: Some(phone.as_str().to_owned()),
                birth_date: Some(req.birth_date),
                gender: Some(req.gender.as_str().to_owned()),
                address: Some(req.address.trim().to_owned()),
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
                Ok(()) => dispatcher::wake(&state).await,
                // A concurrent sign-up for the same address won; it sent the code.
                Err(CreateUserError::EmailTaken) => {}
                Err(CreateUserError::EmployeeNumberTaken) => {
                    return Err(anyhow::anyhow!("patient with employee number").into());
                }
                Err(CreateUserError::Store(e)) => return Err(e.into()),
            }
        }
    }
    Ok(accepted("verification_sent"))
}

async fn send_verification(state: &AppState, user: &User) -> Result<(), ApiError> {
    let code = six_digit_code();
    let record = new_code(
        state,
        CodePurpose::VerifyEmail,
        user.id,
        &code,
        Duration::minutes(CODE_TTL_MINUTES),
    );
    users::issue_code(
        &state.store,
        user.id,
        &record,
        &account_mail::verification_code(&user.email, &code),
        now(),
    )
    .await?;
    dispatcher::wake(state).await;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct VerifyEmailRequest {
    #[garde(length(chars, max = 254))]
    pub email: String,
    /// The 6-digit code from the e-mail.
    #[garde(custom(six_digits))]
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Done {
    pub status: &'static str,
}

/// Verify the e-mail address with the code sent at sign-up; the account becomes active.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "auth", request_body = VerifyEmailRequest,
    responses(
        (status = 200, description = "Verified", body = Done),
        (status = 400, description = "`invalid_code`, `code_expired` or `code_exhausted`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify_email(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(req): ApiJson<VerifyEmailRequest>,
) -> Result<Json<Done>, ApiError> {
    rate_limit::hit(&state, rate_limit::CODE_PER_IP, &ip.key()).await?;
    let email = parse_email("email", &req.email)?;
    let user = users::find_by_email(&state.store, &email.key()).await?;
    let Some(user) = user.filter(|u| u.status == UserStatus::Pending) else {
        return Err(code_error(CodeOutcome::NoCode));
    };
    let effect = Effect::Activate {
        password_hash: None,
    };
    redeem_code(
        &state,
        user.id,
        CodePurpose::VerifyEmail,
        &req.code,
        &effect,
    )
    .await?;
    Ok(Json(Done { status: "verified" }))
}

/// Presents `code` for the user's live code of `purpose`; when it is right, the code is used
/// up and `effect` applied in the same transaction. Wrong, expired or exhausted codes are 400s.
pub(super) async fn redeem_code(
    state: &AppState,
    user_id: Uuid,
    purpose: CodePurpose,
    code: &str,
    effect: &Effect,
) -> Result<(), ApiError> {
    let presented = state.auth.keys.code_hash(purpose.as_str(), user_id, code);
    match codes::redeem(
        &state.store,
        user_id,
        purpose,
        &presented,
        MAX_CODE_ATTEMPTS,
        effect,
        now(),
    )
    .await?
    {
        CodeOutcome::Accepted => Ok(()),
        other => Err(code_error(other)),
    }
}

pub(super) fn six_digits(value: &str, _: &()) -> garde::Result {
    if value.len() == 6 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(garde::Error::new("must be the 6 digits from the e-mail"))
    }
}

pub(super) fn code_error(outcome: CodeOutcome) -> ApiError {
    let (code, detail) = match outcome {
        CodeOutcome::Wrong { remaining } => {
            ("invalid_code", Some(format!("{remaining} attempts left")))
        }
        CodeOutcome::Expired => ("code_expired", None),
        CodeOutcome::Exhausted => ("code_exhausted", None),
        CodeOutcome::NoCode | CodeOutcome::Accepted => ("invalid_code", None),
    };
    ApiError::Rejected {
        status: StatusCode::BAD_REQUEST,
        code,
        detail,
    }
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct EmailRequest {
    #[garde(length(chars, max = 254))]
    pub email: String,
}

/// Send a new verification code (at most one a minute per address).
#[utoipa::path(post, path = "/api/v1/auth/resend-verification", tag = "auth", request_body = EmailRequest,
    responses(
        (status = 202, description = "A new code was sent if the address awaits verification", body = Accepted),
        (status = 429, description = "`resend_too_soon`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resend_verification(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<EmailRequest>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let email = parse_email("email", &req.email)?;
    // Limited per address typed, whether or not it exists, so the limit reveals nothing.
    if rate_limit::hit(&state, rate_limit::RESEND_COOLDOWN, &email.key())
        .await
        .is_err()
    {
        return Err(ApiError::Rejected {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "resend_too_soon",
            detail: Some(format!(
                "wait {} s",
                rate_limit::RESEND_COOLDOWN.window.as_secs()
            )),
        });
    }
    if let Some(user) = users::find_by_email(&state.store, &email.key()).await?
        && user.status == UserStatus::Pending
        && user.role == Role::Patient
    {
        send_verification(&state, &user).await?;
    }
    Ok(accepted("verification_sent"))
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct SignInRequest {
    /// Patients and staff: the account's e-mail address.
    #[garde(inner(length(chars, max = 254)))]
    pub email: Option<String>,
    /// Staff may instead give their hospital and employee number.
    #[garde(skip)]
    pub hospital_id: Option<Uuid>,
    #[garde(inner(length(chars, min = 1, max = 50)))]
    pub employee_number: Option<String>,
    #[garde(length(chars, max = 1024))]
    pub password: String,
}

/// Sign in; answers an access token (15 minutes) and a refresh token.
#[utoipa::path(post, path = "/api/v1/auth/sign-in", tag = "auth", request_body = SignInRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`email_not_verified` (only after a correct password)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn sign_in(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let (account, user) = match (&req.email, req.hospital_id, &req.employee_number) {
        (Some(email), None, None) => {
            let email = parse_email("email", email)?;
            let key = email.key();
            (key.clone(), users::find_by_email(&state.store, &key).await?)
        }
        (None, Some(hospital), Some(number)) => (
            format!("{hospital}/{number}"),
            users::find_by_employee_number(&state.store, hospital, number.trim()).await?,
        ),
        _ => {
            return Err(invalid(
                "email",
                "give either email, or hospital_id with employee_number",
            ));
        }
    };
    rate_limit::hit(&state, rate_limit::SIGN_IN_PER_IP, &ip.key()).await?;
    rate_limit::hit(&state, rate_limit::SIGN_IN_PER_ACCOUNT, &account).await?;
    let verified = state
        .auth
        .passwords
        .verify(
            &req.password,
            user.as_ref().and_then(|u| u.password_hash.as_deref()),
        )
        .await;
    let Some(user) = user.filter(|_| verified) else {
        return Err(ApiError::Unauthorized("invalid_credentials"));
    };
    if user.status != UserStatus::Active {
        return Err(ApiError::Rejected {
            status: StatusCode::FORBIDDEN,
            code: "email_not_verified",
            detail: None,
        });
    }
    let t = now();
    let (refresh, refresh_token) = tokens::new_refresh(&state, t);
    let session = sessions::start(&state.store, user.id, &refresh, t).await?;
    Ok(Json(tokens::pair(
        &state,
        &user,
        session,
        refresh_token,
        t,
    )?))
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct RefreshRequest {
    #[garde(length(chars, max = 1024))]
    pub refresh_token: String,
}

/// Exchange a refresh token for a new pair. Each refresh token works once; presenting a used
/// one ends the whole session (it was copied).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair", body = TokenPair),
        (status = 401, description = "`invalid_refresh_token`, `refresh_token_reused` or `session_revoked`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    let (token_id, hash) = tokens::parse_refresh(&req.refresh_token)
        .ok_or(ApiError::Unauthorized("invalid_refresh_token"))?;
    let t = now();
    let (next, next_token) = tokens::new_refresh(&state, t);
    match sessions::rotate(&state.store, token_id, &hash, &next, t).await? {
        Rotation::Rotated {
            user_id,
            session_id,
        } => {
            let user = users::get(&state.store, user_id)
                .await?
                .ok_or(ApiError::Unauthorized("session_revoked"))?;
            Ok(Json(tokens::pair(
                &state, &user, session_id, next_token, t,
            )?))
        }
        Rotation::Reused => Err(ApiError::Unauthorized("refresh_token_reused")),
        Rotation::Revoked => Err(ApiError::Unauthorized("session_revoked")),
        Rotation::Expired | Rotation::Invalid => {
            Err(ApiError::Unauthorized("invalid_refresh_token"))
        }
    }
}

/// End this session: its refresh token and every access token issued in it stop working.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out")))]
pub async fn logout(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<StatusCode, ApiError> {
    sessions::revoke(&state.store, user.session_id, "logout", now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct AcceptInvitationRequest {
    #[garde(length(chars, max = 254))]
    pub email: String,
    /// The invitation code from the e-mail.
    #[garde(length(chars, min = 10, max = 100))]
    pub code: String,
    #[garde(skip)]
    pub password: String,
}

/// Staff: activate an invited account by choosing a password.
#[utoipa::path(post, path = "/api/v1/auth/invitations/accept", tag = "auth", request_body = AcceptInvitationRequest,
    responses(
        (status = 204, description = "Account active; sign in with the new password"),
        (status = 400, description = "`invalid_code`, `code_expired` or `code_exhausted`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn accept_invitation(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(req): ApiJson<AcceptInvitationRequest>,
) -> Result<StatusCode, ApiError> {
    let email = parse_email("email", &req.email)?;
    check_new_password("password", &req.password, Some(&email))?;
    rate_limit::hit(&state, rate_limit::CODE_PER_IP, &ip.key()).await?;
    let user = users::find_by_email(&state.store, &email.key()).await?;
    let Some(user) = user.filter(|u| u.status == UserStatus::Pending && u.role.is_staff()) else {
        return Err(code_error(CodeOutcome::NoCode));
    };
    let hash = state.auth.passwords.hash(&req.password).await?;
    let effect = Effect::Activate {
        password_hash: Some(hash),
    };
    redeem_code(&state, user.id, CodePurpose::Invitation, &req.code, &effect).await?;
    Ok(StatusCode::NO_CONTENT)
}
