//! `/api/v1/wards/…` and `/api/v1/admissions/…`: setting a ward up (beds, device binding,
//! admissions, transfers, discharges), and what the ward's other endpoints share (loading a
//! ward with its access check, the acting person, ward errors as problems). Bedside devices
//! reporting samples are [`ward_ingest`](super::ward_ingest)'s; the nurse station (live
//! snapshot, resumable event stream, alarm handling) is [`ward_station`](super::ward_station)'s.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use docde_domain::account::Role;
use docde_domain::ward::BedLabel;
use docde_store::accounts::hospitals::{self, Ward};
use docde_store::accounts::{devices, users};
use docde_store::ward::admissions::{self, Admission, NewAdmission};
use docde_store::ward::beds::{self, Bed};
use docde_store::ward::{WardConflict, WardError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{invalid, now};
use crate::auth::Principal;
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::ward::wake;

pub(crate) fn ward_error(e: WardError) -> ApiError {
    match e {
        WardError::Conflict(c @ (WardConflict::NoteRequired | WardConflict::NoteTooLong)) => {
            invalid("note", c)
        }
        WardError::Conflict(c) => ApiError::Conflict {
            code: c.code(),
            detail: c.to_string(),
        },
        WardError::NotFound(_) => ApiError::NotFound,
        WardError::Store(e) => e.into(),
    }
}

/// Loads a ward and checks `action` on it; outsiders learn nothing of wards that do not exist.
pub(crate) async fn load_ward(
    state: &AppState,
    principal: &Principal,
    action: Action,
    id: Uuid,
) -> Result<Ward, ApiError> {
    let Some(ward) = hospitals::get_ward(&state.store, id).await? else {
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

/// The user behind a request: devices are refused (only people set wards up and answer alarms).
pub(crate) fn person(principal: &Principal) -> Result<Uuid, ApiError> {
    match principal {
        Principal::User(u) => Ok(u.id),
        Principal::Device(_) => Err(ApiError::Forbidden),
    }
}

// ---------------------------------------------------------------------------------------------
// Set-up: beds, devices, admissions.

#[derive(Debug, Serialize, ToSchema)]
pub struct AdmissionView {
    pub id: Uuid,
    pub ward_id: Uuid,
    pub bed_id: Uuid,
    pub patient_id: Uuid,
    pub admitted_at: DateTime<Utc>,
    pub discharged_at: Option<DateTime<Utc>>,
    pub discharge_reason: Option<String>,
    pub transferred_from: Option<Uuid>,
    pub urgency: u8,
    pub notes: String,
}

impl From<Admission> for AdmissionView {
    fn from(a: Admission) -> Self {
        Self {
            id: a.id,
            ward_id: a.ward_id,
            bed_id: a.bed_id,
            patient_id: a.patient_id,
            admitted_at: a.admitted_at,
            discharged_at: a.discharged_at,
            discharge_reason: a.discharge_reason,
            transferred_from: a.transferred_from,
            urgency: a.urgency,
            notes: a.notes,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BedView {
    pub id: Uuid,
    pub ward_id: Uuid,
    pub room_id: Uuid,
    /// `<room>-<bed>`, e.g. `101-1`.
    pub label: String,
    pub created_at: DateTime<Utc>,
    /// The open admission in this bed, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission: Option<AdmissionView>,
}

pub(super) fn bed_view(bed: Bed, admission: Option<Admission>) -> BedView {
    BedView {
        id: bed.id,
        ward_id: bed.ward_id,
        room_id: bed.room_id,
        label: bed.label.to_string(),
        created_at: bed.created_at,
        admission: admission.map(AdmissionView::from),
    }
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct NewBedRequest {
    /// `<room>-<bed>`, e.g. `101-1`.
    #[garde(length(chars, min = 1, max = 32))]
    pub label: String,
}

/// Hospital admins: add a bed to a ward (its room is created with the first bed).
#[utoipa::path(post, path = "/api/v1/wards/{id}/beds", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ward id")), request_body = NewBedRequest,
    responses(
        (status = 201, description = "Added", body = BedView),
        (status = 409, description = "`bed_label_taken`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_bed(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<NewBedRequest>,
) -> Result<(StatusCode, Json<BedView>), ApiError> {
    load_ward(&state, &principal, Action::ManageWards, id).await?;
    let label = BedLabel::parse(&req.label).map_err(|e| ApiError::Invalid {
        code: e.code(),
        field: "label".into(),
        message: e.to_string(),
    })?;
    let bed = beds::add_bed(&state.store, id, &label, now())
        .await
        .map_err(ward_error)?;
    Ok((StatusCode::CREATED, Json(bed_view(bed, None))))
}

/// The ward's beds by label, each with its open admission (ward staff).
#[utoipa::path(get, path = "/api/v1/wards/{id}/beds", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ward id")),
    responses((status = 200, description = "Beds", body = [BedView])))]
pub async fn list_beds(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<BedView>>, ApiError> {
    load_ward(&state, &principal, Action::ReadWard, id).await?;
    let beds = beds::beds_of_ward(&state.store, id).await?;
    let mut open: HashMap<Uuid, Admission> = admissions::open_in_ward(&state.store, id)
        .await?
        .into_iter()
        .map(|a| (a.bed_id, a))
        .collect();
    Ok(Json(
        beds.into_iter()
            .map(|b| {
                let a = open.remove(&b.id);
                bed_view(b, a)
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct BindDeviceRequest {
    #[garde(skip)]
    pub bed_id: Uuid,
}

/// Hospital admins: bind a device to a bed (ending its previous binding). Samples follow the
/// patient in that bed at their measurement time.
#[utoipa::path(put, path = "/api/v1/devices/{id}/bed", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Device id")), request_body = BindDeviceRequest,
    responses((status = 204, description = "Bound")))]
pub async fn bind_device(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<BindDeviceRequest>,
) -> Result<StatusCode, ApiError> {
    let Some(device) = devices::get(&state.store, id).await? else {
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
    let bed = beds::get_bed(&state.store, req.bed_id).await?;
    let ward = match &bed {
        Some(b) => hospitals::get_ward(&state.store, b.ward_id).await?,
        None => None,
    };
    let Some(ward) = ward.filter(|w| w.hospital_id == device.hospital_id) else {
        return Err(invalid("bed_id", "must be a bed of the device's hospital"));
    };
    beds::bind_device(&state.store, id, req.bed_id, now())
        .await
        .map_err(ward_error)?;
    wake(&state, ward.id).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct AdmitRequest {
    #[garde(skip)]
    pub patient_id: Uuid,
    #[garde(skip)]
    pub bed_id: Uuid,
    /// 0 (routine) to 3 (most urgent).
    #[serde(default)]
    #[garde(range(max = 3))]
    pub urgency: u8,
    #[serde(default)]
    #[garde(length(chars, max = 4000))]
    pub notes: String,
}

/// Hospital admins: admit a patient to a bed of the ward.
#[utoipa::path(post, path = "/api/v1/wards/{id}/admissions", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ward id")), request_body = AdmitRequest,
    responses(
        (status = 201, description = "Admitted", body = AdmissionView),
        (status = 409, description = "`bed_occupied`, `patient_already_admitted`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn admit(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<AdmitRequest>,
) -> Result<(StatusCode, Json<AdmissionView>), ApiError> {
    load_ward(&state, &principal, Action::ManageWards, id).await?;
    let bed = beds::get_bed(&state.store, req.bed_id).await?;
    if bed.is_none_or(|b| b.ward_id != id) {
        return Err(invalid("bed_id", "must be a bed of this ward"));
    }
    let patient = users::get(&state.store, req.patient_id).await?;
    if patient.is_none_or(|u| u.role != Role::Patient) {
        return Err(invalid("patient_id", "must be a patient"));
    }
    let new = NewAdmission {
        patient_id: req.patient_id,
        bed_id: req.bed_id,
        urgency: req.urgency,
        notes: req.notes,
        now: now(),
    };
    let (admission, _) = admissions::admit(&state.store, &new)
        .await
        .map_err(ward_error)?;
    wake(&state, id).await;
    Ok((StatusCode::CREATED, Json(admission.into())))
}

/// Loads an admission and checks `ManageWards` on its ward.
async fn managed_admission(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<(Admission, Ward), ApiError> {
    let Some(admission) = admissions::get(&state.store, id).await? else {
        authorize(principal, Action::ManageWards, Target::Installation)?;
        return Err(ApiError::NotFound);
    };
    let ward = load_ward(state, principal, Action::ManageWards, admission.ward_id).await?;
    Ok((admission, ward))
}

#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
pub struct TransferRequest {
    #[garde(skip)]
    pub bed_id: Uuid,
}

/// Hospital admins: move an admitted patient to another bed of the hospital (its open alarms
/// are resolved; urgency, notes and medication plan move along).
#[utoipa::path(post, path = "/api/v1/admissions/{id}/transfer", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Admission id")), request_body = TransferRequest,
    responses((status = 200, description = "The new admission", body = AdmissionView)))]
pub async fn transfer(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<TransferRequest>,
) -> Result<Json<AdmissionView>, ApiError> {
    let (_, ward) = managed_admission(&state, &principal, id).await?;
    let bed = beds::get_bed(&state.store, req.bed_id).await?;
    let to_ward = match &bed {
        Some(b) => hospitals::get_ward(&state.store, b.ward_id).await?,
        None => None,
    };
    let Some(to_ward) = to_ward.filter(|w| w.hospital_id == ward.hospital_id) else {
        return Err(invalid("bed_id", "must be a bed of the same hospital"));
    };
    let (admission, _) = admissions::transfer(&state.store, id, req.bed_id, now())
        .await
        .map_err(ward_error)?;
    wake(&state, ward.id).await;
    if to_ward.id != ward.id {
        wake(&state, to_ward.id).await;
    }
    Ok(Json(admission.into()))
}

/// Hospital admins: discharge an admitted patient (open alarms are resolved).
#[utoipa::path(post, path = "/api/v1/admissions/{id}/discharge", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Admission id")),
    responses((status = 200, description = "The closed admission", body = AdmissionView)))]
pub async fn discharge(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<AdmissionView>, ApiError> {
    let (_, ward) = managed_admission(&state, &principal, id).await?;
    let (admission, _) = admissions::discharge(&state.store, id, now())
        .await
        .map_err(ward_error)?;
    wake(&state, ward.id).await;
    Ok(Json(admission.into()))
}
