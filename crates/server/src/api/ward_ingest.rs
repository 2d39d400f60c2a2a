//! `POST /api/v1/devices/…/samples` and the legacy ingest: bedside devices reporting vital
//! signs, as one batch or as the predecessor's single readings. What a sample sets off (alarms,
//! NEWS2, the live stream) is `crate::ward::ingest`'s.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use docde_domain::ward::RawSample;
use docde_domain::ward::legacy::LegacyPayload;
use docde_store::ward::beds;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::now;
use super::ward::ward_error;
use crate::auth::Principal;
use crate::auth::principal::{CurrentDevice, DevicePrincipal};
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::ward::MAX_BATCH;
use crate::ward::ingest::{ingest_legacy, ingest_raw};

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct SampleBatch {
    /// `{measured_at, kind, value, unit}` each; at most 1000.
    #[garde(skip)]
    #[schema(value_type = Vec<Object>)]
    pub samples: Vec<RawSample>,
}

pub use crate::ward::ingest::{IngestAnswer, SampleResult};

/// Devices: report a batch of samples about oneself. Valid samples are stored (idempotent on
/// device, kind and measured_at) and the answer comes after their commit; invalid ones are
/// refused one by one. 200 when every sample was accepted, 207 when some were rejected.
#[utoipa::path(post, path = "/api/v1/devices/{id}/samples", tag = "ward", security(("device" = [])),
    params(("id" = Uuid, Path, description = "The calling device's own id")), request_body = SampleBatch,
    responses(
        (status = 200, description = "All accepted", body = IngestAnswer),
        (status = 207, description = "Some rejected (see `results`)", body = IngestAnswer),
        (status = 401, description = "No or bad device credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Another device's id", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ingest(
    State(state): State<AppState>,
    CurrentDevice(device): CurrentDevice,
    Path(id): Path<Uuid>,
    ApiJson(batch): ApiJson<SampleBatch>,
) -> Result<(StatusCode, Json<IngestAnswer>), ApiError> {
    report_as_itself(&device, id)?;
    if batch.samples.len() > MAX_BATCH {
        return Err(ApiError::Invalid {
            code: "batch_too_large",
            field: "samples".into(),
            message: format!("at most {MAX_BATCH} samples per batch"),
        });
    }
    let answer = ingest_raw(&state, id, &batch.samples, now())
        .await
        .map_err(ward_error)?;
    Ok(answer_of(answer))
}

/// A device reports only under its own id (the path's), within its hospital.
fn report_as_itself(device: &DevicePrincipal, id: Uuid) -> Result<(), ApiError> {
    authorize(
        &Principal::Device(device.clone()),
        Action::ReportAsDevice,
        Target::Device {
            id,
            hospital_id: device.hospital_id,
        },
    )
}

/// 200 when every sample was accepted, 207 when some were rejected.
fn answer_of(answer: IngestAnswer) -> (StatusCode, Json<IngestAnswer>) {
    let status = if answer.rejected > 0 {
        StatusCode::MULTI_STATUS
    } else {
        StatusCode::OK
    };
    (status, Json(answer))
}

#[derive(Debug, Deserialize, garde::Validate)]
pub struct LegacyRequest {
    #[serde(flatten)]
    #[garde(skip)]
    pub payload: LegacyPayload,
}

/// Devices: the predecessor's Raspberry Pi payload `{"bedNumber": "101-1", "temperature":
/// 37.8, "weight": 2}` (temperature −1: no reading; weight 2: IV bag ≤ 20 %, 1: empty, −1:
/// none), for a device bound to that bed. Answered like `/samples`.
#[utoipa::path(post, path = "/api/v1/devices/{id}/legacy-samples", tag = "ward", security(("device" = [])),
    params(("id" = Uuid, Path, description = "The calling device's own id")),
    responses(
        (status = 200, description = "All accepted", body = IngestAnswer),
        (status = 207, description = "Some readings rejected", body = IngestAnswer),
        (status = 422, description = "`bed_mismatch`: the device is not bound to that bed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn legacy_ingest(
    State(state): State<AppState>,
    CurrentDevice(device): CurrentDevice,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<LegacyRequest>,
) -> Result<(StatusCode, Json<IngestAnswer>), ApiError> {
    report_as_itself(&device, id)?;
    let at = now();
    let reading = req.payload.to_samples(at).map_err(|e| ApiError::Invalid {
        code: e.code(),
        field: "bedNumber".into(),
        message: e.to_string(),
    })?;
    let bed = beds::bed_of_device(&state.store, id).await?;
    if bed.is_none_or(|b| b.label != reading.bed) {
        return Err(ApiError::Invalid {
            code: "bed_mismatch",
            field: "bedNumber".into(),
            message: "the device is not bound to this bed".into(),
        });
    }
    let answer = ingest_legacy(&state, id, reading, at)
        .await
        .map_err(ward_error)?;
    Ok(answer_of(answer))
}
