//! The `/api/v1` endpoints, one module per context.

pub mod account_mail;
pub mod appointments;
pub mod audit;
pub mod auth;
pub mod devices;
pub mod directory;
pub mod doctors;
pub mod event_log;
pub mod hospitals;
pub mod medication;
pub mod password;
pub mod patient_vitals;
pub mod reception;
pub mod reception_live;
pub mod records;
pub mod reviews;
pub mod schedules;
pub mod search;
pub mod tickets;
pub mod users;
pub mod ward;
pub mod ward_ingest;
pub mod ward_station;
// Ward alarm limits and one patient's live view (branch `ward`).
pub mod push;
pub mod ward_admission_live;
pub mod ward_escalation;
pub mod ward_patient;
pub mod ward_thresholds;
pub mod ward_webhook;

use chrono::{DateTime, Utc};
use docde_domain::account::{Email, check_password};

use crate::problem::{ApiError, FieldError};

/// The clock every handler reads (one place to change for tests later).
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

pub(crate) fn invalid(field: &str, message: impl ToString) -> ApiError {
    ApiError::Validation(vec![FieldError {
        field: field.to_owned(),
        message: message.to_string(),
    }])
}

pub(crate) fn parse_email(field: &str, raw: &str) -> Result<Email, ApiError> {
    Email::parse(raw).map_err(|e| invalid(field, e))
}

pub(crate) fn check_new_password(
    field: &str,
    password: &str,
    email: Option<&Email>,
) -> Result<(), ApiError> {
    check_password(password, email.map(Email::local_part)).map_err(|e| ApiError::WeakPassword {
        field: field.to_owned(),
        message: e.to_string(),
    })
}
