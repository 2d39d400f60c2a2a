//! `POST /api/v1/devices/{id}/medication-deliveries`: the medicine-delivery robot's QR scan.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::now;
use crate::auth::Principal;
use crate::auth::principal::CurrentDevice;
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::ward::medication::{Delivery, DeliveryError, deliver};

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct DeliveryRequest {
    /// The code scanned from the medicine (the predecessor's robot sends `qrCode`).
    #[serde(rename = "qrCode", alias = "qr_code")]
    #[garde(skip)]
    pub qr_code: String,
}

/// The medicine a scan marked delivered; nothing about the patient beyond ids.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub medication_id: Uuid,
    pub admission_id: Uuid,
    pub ward_id: Uuid,
    /// Always `done` after a scan.
    pub status: String,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The medicine was already delivered in this round; this scan changed nothing.
    pub already_delivered: bool,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        let m = d.medication;
        Self {
            medication_id: m.id,
            admission_id: m.admission_id,
            ward_id: m.ward_id,
            status: m.status.code().to_owned(),
            delivered_at: m.delivered_at,
            already_delivered: d.already_delivered,
        }
    }
}

pub(crate) fn delivery_error(e: DeliveryError) -> ApiError {
    match e {
        DeliveryError::UnknownCode => ApiError::Rejected {
            status: StatusCode::NOT_FOUND,
            code: e.code(),
            detail: Some(e.to_string()),
        },
        DeliveryError::BadCode => ApiError::Invalid {
            code: e.code(),
            field: "qrCode".into(),
            message: e.to_string(),
        },
        DeliveryError::AdmissionClosed => ApiError::Conflict {
            code: e.code(),
            detail: e.to_string(),
        },
        DeliveryError::Unexpected(code) => {
            ApiError::Internal(anyhow::anyhow!("medication delivery conflict {code}"))
        }
        DeliveryError::Store(e) => e.into(),
    }
}

/// Delivery robots (any device of the hospital, as itself): the robot scanned a medicine's QR
/// code, so that patient's medicine is delivered for this round. Scanning it again in the same
/// round answers 200 with `already_delivered: true`.
#[utoipa::path(post, path = "/api/v1/devices/{id}/medication-deliveries", tag = "ward", security(("device" = [])),
    params(("id" = Uuid, Path, description = "The calling device's own id")), request_body = DeliveryRequest,
    responses(
        (status = 200, description = "Delivered (or already delivered in this round)", body = DeliveryView),
        (status = 404, description = "`unknown_qr_code`: no medicine of the device's hospital has this code", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`admission_closed`: the patient was discharged", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_qr_code`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn deliver_medication(
    State(state): State<AppState>,
    CurrentDevice(device): CurrentDevice,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<DeliveryRequest>,
) -> Result<Json<DeliveryView>, ApiError> {
    authorize(
        &Principal::Device(device.clone()),
        Action::DeliverMedication,
        Target::Device {
            id,
            hospital_id: device.hospital_id,
        },
    )?;
    let delivery = deliver(&state, &device, &req.qr_code, now())
        .await
        .map_err(delivery_error)?;
    Ok(Json(delivery.into()))
}
