//! `/api/v1/devices`: registering, listing and revoking devices (hospital admins), and the
//! device's own heartbeat (the device itself).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use docde_store::accounts::devices::{self, Device, NewDevice};
use docde_store::accounts::hospitals;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{invalid, now};
use crate::auth::Principal;
use crate::auth::principal::CurrentDevice;
use crate::auth::secrets::{random_token, sha256_hex};
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    BedsideMonitor,
    Gateway,
    DeliveryRobot,
    Other,
}

impl DeviceKind {
    fn as_str(self) -> &'static str {
        match self {
            DeviceKind::BedsideMonitor => "bedside_monitor",
            DeviceKind::Gateway => "gateway",
            DeviceKind::DeliveryRobot => "delivery_robot",
            DeviceKind::Other => "other",
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub ward_id: Option<Uuid>,
    pub name: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub battery_percent: Option<i32>,
}

impl From<Device> for DeviceView {
    fn from(d: Device) -> Self {
        Self {
            id: d.id,
            hospital_id: d.hospital_id,
            ward_id: d.ward_id,
            name: d.name,
            kind: d.kind,
            created_at: d.created_at,
            revoked: d.revoked_at.is_some(),
            last_seen_at: d.last_seen_at,
            battery_percent: d.battery_percent,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct NewDeviceRequest {
    #[garde(length(chars, min = 1, max = 100))]
    pub name: String,
    #[garde(skip)]
    pub kind: DeviceKind,
    /// The ward the device works in, if any.
    #[garde(skip)]
    pub ward_id: Option<Uuid>,
}

/// A new device and its secret. The secret is shown this once: only its hash is kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceCredentials {
    pub device: DeviceView,
    /// Authenticate as `Authorization: Basic base64(<device id>:<secret>)` (HTTP), or with the
    /// device id as MQTT user name and the secret as password.
    pub secret: String,
}

/// Hospital admins: register a device of their hospital.
#[utoipa::path(post, path = "/api/v1/hospitals/{id}/devices", tag = "devices", operation_id = "create_device", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id")), request_body = NewDeviceRequest,
    responses(
        (status = 201, description = "Registered; the secret is in this answer only", body = DeviceCredentials),
        (status = 403, description = "Not an admin of this hospital", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Path(hospital_id): Path<Uuid>,
    ApiJson(req): ApiJson<NewDeviceRequest>,
) -> Result<(StatusCode, Json<DeviceCredentials>), ApiError> {
    authorize(
        &principal,
        Action::ManageDevices,
        Target::Hospital(hospital_id),
    )?;
    hospitals::get_hospital(&state.store, hospital_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(ward_id) = req.ward_id {
        let ward = hospitals::get_ward(&state.store, ward_id).await?;
        if ward.is_none_or(|w| w.hospital_id != hospital_id) {
            return Err(invalid("ward_id", "must be a ward of this hospital"));
        }
    }
    let secret = random_token(32);
    let new = NewDevice {
        hospital_id,
        ward_id: req.ward_id,
        name: req.name.trim().to_owned(),
        kind: req.kind.as_str().to_owned(),
        secret_hash: sha256_hex(&secret),
    };
    let device = devices::create(&state.store, &new, now()).await?;
    Ok((
        StatusCode::CREATED,
        Json(DeviceCredentials {
            device: device.into(),
            secret,
        }),
    ))
}

/// Hospital admins: the hospital's devices.
#[utoipa::path(get, path = "/api/v1/hospitals/{id}/devices", tag = "devices", operation_id = "list_devices", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id")),
    responses((status = 200, description = "Devices, oldest first", body = [DeviceView])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(hospital_id): Path<Uuid>,
) -> Result<Json<Vec<DeviceView>>, ApiError> {
    authorize(
        &principal,
        Action::ManageDevices,
        Target::Hospital(hospital_id),
    )?;
    let devices = devices::list(&state.store, hospital_id).await?;
    Ok(Json(devices.into_iter().map(DeviceView::from).collect()))
}

/// Hospital admins: revoke a device's credentials for good.
#[utoipa::path(delete, path = "/api/v1/devices/{id}", tag = "devices", operation_id = "revoke_device", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Device id")),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let device = devices::get(&state.store, id).await?;
    let Some(device) = device else {
        authorize(&principal, Action::ManageDevices, Target::Installation)?;
        return Err(ApiError::NotFound);
    };
    authorize(
        &principal,
        Action::ManageDevices,
        Target::Device {
            id,
            hospital_id: device.hospital_id,
        },
    )?;
    devices::revoke(&state.store, id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct HeartbeatRequest {
    #[garde(inner(range(min = 0, max = 100)))]
    pub battery_percent: Option<i32>,
}

/// Devices: report being alive (and the battery level).
#[utoipa::path(post, path = "/api/v1/devices/{id}/heartbeat", tag = "devices", security(("device" = [])),
    params(("id" = Uuid, Path, description = "The calling device's own id")), request_body = HeartbeatRequest,
    responses(
        (status = 204, description = "Recorded"),
        (status = 403, description = "Another device's id, or not a device", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn heartbeat(
    State(state): State<AppState>,
    CurrentDevice(device): CurrentDevice,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<HeartbeatRequest>,
) -> Result<StatusCode, ApiError> {
    let principal = Principal::Device(device.clone());
    authorize(
        &principal,
        Action::ReportAsDevice,
        Target::Device {
            id,
            hospital_id: device.hospital_id,
        },
    )?;
    devices::seen(&state.store, id, req.battery_percent, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
