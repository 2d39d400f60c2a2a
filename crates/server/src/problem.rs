//! One error type for the whole API, answered as `application/problem+json` (RFC 9457).
//!
//! Every failure has a stable machine-readable `code` that clients switch on; `title` is a
//! human sentence in Korean or English (by `Accept-Language`), and `detail` says what exactly
//! was wrong with *this* request. Internal errors are logged once, with their cause chain, and
//! answered with a generic body: never an internal message, never patient data.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The body of every error response.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// `urn:docde:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Stable machine-readable code, e.g. `malformed_json`, `slot_full`.
    pub code: String,
    /// Short human summary of the kind of problem.
    pub title: String,
    pub status: u16,
    /// What exactly was wrong with this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request id (also in the `x-request-id` header and the server's logs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Offending fields for validation errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Where in a malformed JSON body parsing stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Extension members specific to one kind of problem (RFC 9457 §3.2), e.g. `checks`.
    #[serde(flatten)]
    #[schema(ignore)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct FieldError {
    /// Path of the field in the request body, e.g. `samples[3].value`.
    pub field: String,
    pub message: String,
}

/// Everything an API call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request body is not valid JSON")]
    MalformedJson {
        detail: String,
        line: usize,
        column: usize,
    },
    #[error("unsupported content type")]
    UnsupportedMediaType { expected: &'static str },
    #[error("request body too large")]
    PayloadTooLarge { limit: usize },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request timed out")]
    Timeout,
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A domain conflict with its own code (`slot_full`, `patient_overlap`, …).
    #[error("conflict: {code}")]
    Conflict { code: &'static str, detail: String },
    /// No credentials, or credentials that do not hold (`invalid_token`, `token_expired`, …).
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// Authenticated, but this principal may not do this.
    #[error("forbidden")]
    Forbidden,
    #[error("too many requests")]
    TooManyRequests { retry_after_s: u64 },
    #[error("weak password")]
    WeakPassword { field: String, message: String },
    /// A request refused for a domain reason with its own status and code
    /// (`invalid_code` 400, `email_not_verified` 403, …).
    #[error("rejected: {code}")]
    Rejected {
        status: StatusCode,
        code: &'static str,
        detail: Option<String>,
    },
    /// One field broke a rule with a code of its own (e.g. `slot_too_short` at `rules[2]`).
    #[error("invalid {field}: {code}")]
    Invalid {
        code: &'static str,
        field: String,
        message: String,
    },
    /// A refusal that carries data for the client, e.g. the appointments a change would drop.
    #[error("{code}")]
    Detailed {
        status: StatusCode,
        code: &'static str,
        detail: String,
        extensions: serde_json::Map<String, serde_json::Value>,
    },
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for ApiError {
    /// A database outage anywhere in the error's chain (say, the availability view failing to
    /// load a doctor) is a 503 the client may retry, as when a store call fails directly;
    /// anything else is a 500.
    fn from(e: anyhow::Error) -> Self {
        let outage = e.chain().any(|cause| {
            matches!(
                cause.downcast_ref::<docde_store::StoreError>(),
                Some(docde_store::StoreError::Unavailable(_))
            )
        });
        if outage {
            ApiError::Unavailable(e)
        } else {
            ApiError::Internal(e)
        }
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Timeout | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::WeakPassword { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Rejected { status, .. } => *status,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Detailed { status, .. } => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson { .. } => "malformed_json",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::Validation(_) => "validation_failed",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Timeout => "timeout",
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::Conflict { code, .. } => code,
            ApiError::Unauthorized(code) => code,
            ApiError::Forbidden => "forbidden",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::WeakPassword { .. } => "weak_password",
            ApiError::Rejected { code, .. } => code,
            ApiError::Invalid { code, .. } => code,
            ApiError::Detailed { code, .. } => code,
            ApiError::Internal(_) => "internal",
        }
    }

    /// The problem body, before the request id and language are applied.
    pub fn to_problem(&self) -> Problem {
        let mut problem = Problem::new(self.status(), self.code());
        match self {
            ApiError::MalformedJson {
                detail,
                line,
                column,
            } => {
                problem.detail = Some(detail.clone());
                problem.line = Some(*line);
                problem.column = Some(*column);
            }
            ApiError::UnsupportedMediaType { expected } => {
                problem.detail = Some(format!("send the body as {expected}"));
            }
            ApiError::PayloadTooLarge { limit } => {
                problem.detail = Some(format!("the body must be at most {limit} bytes"));
            }
            ApiError::Validation(errors) => problem.errors = errors.clone(),
            ApiError::Conflict { detail, .. } => problem.detail = Some(detail.clone()),
            ApiError::Rejected { detail, .. } => problem.detail = detail.clone(),
            ApiError::Invalid { field, message, .. } => {
                problem.errors = vec![FieldError {
                    field: field.clone(),
                    message: message.clone(),
                }];
            }
            ApiError::Detailed {
                detail, extensions, ..
            } => {
                problem.detail = Some(detail.clone());
                problem.extensions = extensions.clone();
            }
            ApiError::WeakPassword { field, message } => {
                problem.errors = vec![FieldError {
                    field: field.clone(),
                    message: message.clone(),
                }];
            }
            ApiError::TooManyRequests { retry_after_s } => {
                problem.detail = Some(format!("try again in {retry_after_s} s"));
            }
            _ => {}
        }
        problem
    }
}

impl From<docde_store::StoreError> for ApiError {
    fn from(e: docde_store::StoreError) -> Self {
        match e {
            docde_store::StoreError::Unavailable(_) => ApiError::Unavailable(e.into()),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            // Logged once here, at the boundary, with the whole cause chain. The request span
            // around this carries the request id.
            ApiError::Internal(e) => tracing::error!(error = format!("{e:#}"), "internal error"),
            ApiError::Unavailable(e) => {
                tracing::warn!(error = format!("{e:#}"), "dependency unavailable")
            }
            _ => {}
        }
        let problem = self.to_problem();
        let mut response = problem.into_response();
        // For the error report (crate::reports): the scrubbed cause, never in the body.
        if let Some(chain) = crate::reports::ErrorChain::of(&self) {
            response.extensions_mut().insert(chain);
        }
        let headers = response.headers_mut();
        match &self {
            ApiError::Unavailable(_) | ApiError::Timeout => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::TooManyRequests { retry_after_s } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_s));
            }
            ApiError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

impl Problem {
    pub fn new(status: StatusCode, code: &str) -> Self {
        Self {
            type_uri: format!("urn:docde:problem:{code}"),
            code: code.to_owned(),
            title: title(code, Lang::En).to_owned(),
            status: status.as_u16(),
            detail: None,
            request_id: None,
            errors: Vec::new(),
            line: None,
            column: None,
            extensions: serde_json::Map::new(),
        }
    }

    pub fn localise(&mut self, lang: Lang) {
        self.title = title(&self.code, lang).to_owned();
    }
}

/// A problem whose body is not written yet: [`crate::middleware::problem_details`], which
/// wraps every route, adds the request id and the client's language and writes it once.
/// Writing it here too meant writing, re-reading and writing again every refusal (a hot
/// booking race refuses 99 requests in 100).
#[derive(Debug, Clone)]
pub struct Unwritten(pub Problem);

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = status.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response.extensions_mut().insert(Unwritten(self));
        response
    }
}

/// Response language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    /// Picks Korean or English from an `Accept-Language` header: the first of the two the
    /// client lists wins; English when it lists neither.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let Some(header) = header else {
            return Lang::En;
        };
        for part in header.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag == "ko" || tag.starts_with("ko-") {
                return Lang::Ko;
            }
            if tag == "en" || tag.starts_with("en-") {
                return Lang::En;
            }
        }
        Lang::En
    }
}

/// Human title per code. Codes without an entry get a generic one.
fn title(code: &str, lang: Lang) -> &'static str {
    let (en, ko) = match code {
        "malformed_json" => (
            "The request body is not valid JSON",
            "요청 본문이 올바른 JSON이 아닙니다",
        ),
        "unsupported_media_type" => (
            "Unsupported content type",
            "지원하지 않는 콘텐츠 형식입니다",
        ),
        "payload_too_large" => ("The request body is too large", "요청 본문이 너무 큽니다"),
        "validation_failed" => ("Some fields are invalid", "입력값이 올바르지 않습니다"),
        "not_found" => ("Not found", "찾을 수 없습니다"),
        "method_not_allowed" => ("Method not allowed", "허용되지 않는 메서드입니다"),
        "timeout" => (
            "The request took too long",
            "요청 처리 시간이 초과되었습니다",
        ),
        "service_unavailable" => (
            "The service is temporarily unavailable",
            "서비스를 일시적으로 사용할 수 없습니다",
        ),
        "internal" => ("Internal server error", "서버 내부 오류가 발생했습니다"),
        "bad_request" => ("Bad request", "잘못된 요청입니다"),
        "unauthorized" => ("Authentication required", "인증이 필요합니다"),
        "forbidden" => ("Not allowed", "권한이 없습니다"),
        "too_many_requests" => ("Too many requests", "요청이 너무 많습니다"),
        "invalid_credentials" => (
            "Wrong e-mail, employee number or password",
            "아이디 또는 비밀번호가 올바르지 않습니다",
        ),
        "email_not_verified" => (
            "The e-mail address is not verified yet",
            "이메일 인증이 완료되지 않았습니다",
        ),
        "invalid_code" => ("The code is not correct", "인증 코드가 올바르지 않습니다"),
        "code_expired" => (
            "The code has expired; ask for a new one",
            "인증 코드가 만료되었습니다. 새 코드를 요청하세요",
        ),
        "code_exhausted" => (
            "Too many wrong codes; ask for a new one",
            "잘못된 코드를 너무 많이 입력했습니다. 새 코드를 요청하세요",
        ),
        "invalid_token" => (
            "The access token is not valid",
            "액세스 토큰이 유효하지 않습니다",
        ),
        "token_expired" => (
            "The access token has expired",
            "액세스 토큰이 만료되었습니다",
        ),
        "session_revoked" => (
            "The session has ended; sign in again",
            "세션이 종료되었습니다. 다시 로그인하세요",
        ),
        "invalid_refresh_token" => (
            "The refresh token is not valid",
            "리프레시 토큰이 유효하지 않습니다",
        ),
        "refresh_token_reused" => (
            "The refresh token was already used; the session has been ended for safety",
            "이미 사용된 리프레시 토큰입니다. 안전을 위해 세션을 종료했습니다",
        ),
        "invalid_authorization" => (
            "The Authorization header is malformed",
            "Authorization 헤더 형식이 올바르지 않습니다",
        ),
        "invalid_device_credentials" => (
            "The device credentials are not valid",
            "기기 인증 정보가 유효하지 않습니다",
        ),
        "weak_password" => (
            "The password does not meet the rules",
            "비밀번호가 규칙에 맞지 않습니다",
        ),
        "wrong_password" => (
            "The password is not correct",
            "비밀번호가 올바르지 않습니다",
        ),
        "resend_too_soon" => (
            "Wait a minute before asking for another code",
            "잠시 후 다시 요청하세요",
        ),
        "employee_number_taken" => (
            "The employee number is already in use",
            "이미 사용 중인 사번입니다",
        ),
        "email_taken" => (
            "The e-mail address is already in use",
            "이미 사용 중인 이메일입니다",
        ),
        // Medical records and reviews.
        "visit_not_completed" => (
            "The visit is not completed yet",
            "아직 진료가 완료되지 않았습니다",
        ),
        "record_exists" => (
            "This visit already has a record; amend it instead",
            "이 진료에는 이미 기록이 있습니다. 수정하세요",
        ),
        "record_changed" => (
            "The record was amended meanwhile; reload and retry",
            "기록이 그사이 수정되었습니다. 다시 시도하세요",
        ),
        "version_required" | "unexpected_version" => (
            "Send the version you read when amending, and only then",
            "수정할 때에만 읽은 버전을 보내세요",
        ),
        "bad_diagnosis_code" | "too_many_diagnosis_codes" => (
            "A diagnosis code is not valid",
            "진단 코드가 올바르지 않습니다",
        ),
        "treatment_date_in_future" => {
            ("The treatment date is in the future", "진료일이 미래입니다")
        }
        "empty_text" => ("The text is empty", "내용이 비어 있습니다"),
        "text_too_long" => ("The text is too long", "내용이 너무 깁니다"),
        "control_character" => (
            "The text contains a control character",
            "내용에 제어 문자가 있습니다",
        ),
        "stars_out_of_range" => (
            "Stars must be from 1 to 5",
            "별점은 1점에서 5점 사이여야 합니다",
        ),
        "review_exists" => (
            "This visit already has your review; edit it instead",
            "이미 후기를 작성했습니다. 수정하세요",
        ),
        "already_reported" => (
            "You have already reported this review",
            "이미 신고한 후기입니다",
        ),
        "slot_full" => (
            "Every seat of this slot is taken",
            "이 시간은 예약이 마감되었습니다",
        ),
        "patient_overlap" => (
            "You already have an appointment at that time",
            "같은 시간에 이미 예약이 있습니다",
        ),
        "idempotency_key_reused" => (
            "This Idempotency-Key was used for a different request",
            "다른 요청에 이미 사용된 Idempotency-Key입니다",
        ),
        "illegal_transition" => (
            "The appointment cannot change to that status now",
            "현재 상태에서는 그렇게 변경할 수 없습니다",
        ),
        "appointment_changed" => (
            "The appointment changed meanwhile; reload and retry",
            "예약이 그사이 변경되었습니다. 다시 시도하세요",
        ),
        "slot_not_in_schedule" => (
            "The doctor has no slot at that time",
            "해당 시간에는 진료 일정이 없습니다",
        ),
        "slot_in_past" => ("That slot has already started", "이미 지난 시간입니다"),
        "booking_closed" => (
            "Booking for that slot has closed",
            "예약 마감 시간이 지났습니다",
        ),
        "beyond_horizon" => (
            "That slot is too far ahead to book",
            "아직 예약할 수 없는 날짜입니다",
        ),
        "cancel_cutoff" => (
            "It is too late to cancel online; call the hospital",
            "온라인 취소 가능 시간이 지났습니다. 병원에 문의하세요",
        ),
        "already_started" => (
            "The appointment has already started",
            "이미 시작된 예약입니다",
        ),
        "schedule_conflict" => (
            "The change would drop existing appointments",
            "변경하면 기존 예약이 취소됩니다",
        ),
        "schedule_changed" => (
            "The schedule changed meanwhile; reload and retry",
            "일정이 그사이 변경되었습니다. 다시 시도하세요",
        ),
        "not_bookable_online" => (
            "This doctor does not take online bookings",
            "이 의사는 온라인 예약을 받지 않습니다",
        ),
        "no_schedule" => (
            "This doctor has no schedule yet",
            "진료 일정이 아직 없습니다",
        ),
        // Ward alarm limits (branch `ward`).
        "thresholds_overlap" => (
            "A low alarm limit is not below its high partner",
            "하한 경보 기준이 상한 기준보다 낮지 않습니다",
        ),
        "implausible_threshold" => (
            "An alarm limit must be a finite number, not negative",
            "경보 기준은 음수가 아닌 유한한 숫자여야 합니다",
        ),
        _ => ("Request failed", "요청을 처리하지 못했습니다"),
    };
    match lang {
        Lang::En => en,
        Lang::Ko => ko,
    }
}

#[cfg(test)]
mod tests;
