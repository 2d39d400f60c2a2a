//! How reception's failures answer: the store's reception errors as API errors, and the
//! shapes of the 422 and refusal answers the endpoints share.

use axum::http::StatusCode;
use docde_store::reception::ReceptionError;

use crate::problem::ApiError;

pub(crate) fn reception_error(e: ReceptionError) -> ApiError {
    match e {
        ReceptionError::Conflict(c) => ApiError::Conflict {
            code: c.code(),
            detail: c.to_string(),
        },
        ReceptionError::NotFound => ApiError::NotFound,
        ReceptionError::Store(e) => e.into(),
    }
}

pub(super) fn invalid(code: &'static str, field: &str, message: &str) -> ApiError {
    ApiError::Invalid {
        code,
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

pub(super) fn refused(status: StatusCode, code: &'static str, detail: &str) -> ApiError {
    ApiError::Rejected {
        status,
        code,
        detail: Some(detail.to_owned()),
    }
}
