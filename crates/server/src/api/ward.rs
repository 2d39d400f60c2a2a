//! `/api/v1/wards/…`, `/api/v1/admissions/…`, `/api/v1/alarms/…` and the device ingest
//! endpoint: setting a ward up (beds, device binding, admissions), bedside devices reporting
//! samples, and the nurse station (live snapshot, resumable event stream, alarm handling).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::Event;
use chrono::{DateTime, Utc};
use docde_domain::account::Role;
use docde_domain::ward::legacy::LegacyPayload;
use docde_domain::ward::{BedLabel, RawSample};
use docde_store::accounts::hospitals::{self, Ward};
use docde_store::accounts::{devices, users};
use docde_store::ward::admissions::{self, Admission, NewAdmission};
use docde_store::ward::alarms::{self, Alarm};
use docde_store::ward::beds::{self, Bed};
use docde_store::ward::events;
use docde_store::ward::samples::{self, LatestSample};
use docde_store::ward::{WardConflict, WardError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{event_log, invalid, now};
use crate::auth::Principal;
use crate::auth::principal::CurrentDevice;
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::ward::ingest::{ingest_legacy, ingest_raw};
use crate::ward::{MAX_BATCH, news2_of, wake};

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

fn bed_view(bed: Bed, admission: Option<Admission>) -> BedView {
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

// ---------------------------------------------------------------------------------------------
// Ingest.

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
    authorize(
        &Principal::Device(device.clone()),
        Action::ReportAsDevice,
        Target::Device {
            id,
            hospital_id: device.hospital_id,
        },
    )?;
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
    authorize(
        &Principal::Device(device.clone()),
        Action::ReportAsDevice,
        Target::Device {
            id,
            hospital_id: device.hospital_id,
        },
    )?;
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

// ---------------------------------------------------------------------------------------------
// Nurse station.

#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmView {
    pub id: Uuid,
    pub ward_id: Uuid,
    pub bed_id: Uuid,
    pub admission_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub device_id: Option<Uuid>,
    pub kind: String,
    pub priority: String,
    pub status: String,
    pub value: Option<f64>,
    pub raised_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledge_note: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<Uuid>,
    pub resolution_note: Option<String>,
    pub escalation_level: u8,
}

impl From<Alarm> for AlarmView {
    fn from(a: Alarm) -> Self {
        Self {
            id: a.id,
            ward_id: a.ward_id,
            bed_id: a.bed_id,
            admission_id: a.admission_id,
            patient_id: a.patient_id,
            device_id: a.device_id,
            kind: a.kind.code().to_owned(),
            priority: a.priority.code().to_owned(),
            status: a.status.code().to_owned(),
            value: a.value,
            raised_at: a.raised_at,
            acknowledged_at: a.acknowledged_at,
            acknowledged_by: a.acknowledged_by,
            acknowledge_note: a.acknowledge_note,
            resolved_at: a.resolved_at,
            resolved_by: a.resolved_by,
            resolution_note: a.resolution_note,
            escalation_level: a.escalation_level.get(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LatestView {
    pub kind: String,
    pub value: f64,
    pub unit: Option<String>,
    pub measured_at: DateTime<Utc>,
    pub device_id: Uuid,
}

impl From<&LatestSample> for LatestView {
    fn from(l: &LatestSample) -> Self {
        Self {
            kind: l.kind.code().to_owned(),
            value: l.value,
            unit: l.unit.map(|u| u.code().to_owned()),
            measured_at: l.measured_at,
            device_id: l.device_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct News2View {
    pub total: u8,
    /// `low`, `low_medium`, `medium` or `high`.
    pub band: String,
    /// Whether every parameter was recent enough to be scored.
    pub complete: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LiveBed {
    pub bed: BedView,
    pub latest: Vec<LatestView>,
    pub news2: Option<News2View>,
    pub alarms: Vec<AlarmView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LiveWard {
    pub ward_id: Uuid,
    /// The newest ward event included; resume the event stream after it.
    pub last_event_id: i64,
    pub beds: Vec<LiveBed>,
}

/// The nurse station's grid: every bed with its patient's newest values, NEWS2 and open
/// alarms (ward staff).
#[utoipa::path(get, path = "/api/v1/wards/{id}/beds/live", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ward id")),
    responses((status = 200, description = "Snapshot", body = LiveWard)))]
pub async fn live(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<LiveWard>, ApiError> {
    load_ward(&state, &principal, Action::ReadWard, id).await?;
    let at = now();
    // Read the event position first: the snapshot is at least as new as it.
    let last_event_id = last_event_id(&state, id).await?;
    let beds = samples::latest_per_bed(&state.store, id).await?;
    let mut open: HashMap<Uuid, Vec<Alarm>> = HashMap::new();
    for alarm in alarms::open_for_ward(&state.store, id).await? {
        open.entry(alarm.bed_id).or_default().push(alarm);
    }
    let beds = beds
        .into_iter()
        .map(|b| {
            let news2 = news2_of(&b.latest, at).map(|s| News2View {
                total: s.total(),
                band: s.band().code().to_owned(),
                complete: s.is_complete(),
            });
            LiveBed {
                alarms: open
                    .remove(&b.bed.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(AlarmView::from)
                    .collect(),
                latest: b.latest.iter().map(LatestView::from).collect(),
                news2,
                bed: bed_view(b.bed, b.admission),
            }
        })
        .collect();
    Ok(Json(LiveWard {
        ward_id: id,
        last_event_id,
        beds,
    }))
}

async fn last_event_id(state: &AppState, ward_id: Uuid) -> Result<i64, ApiError> {
    Ok(events::latest_id(&state.store, ward_id).await?)
}

/// The ward's open alarms, highest priority first, then oldest first (ward staff).
#[utoipa::path(get, path = "/api/v1/wards/{id}/alarms", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ward id")),
    responses((status = 200, description = "Open alarms", body = [AlarmView])))]
pub async fn list_alarms(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<AlarmView>>, ApiError> {
    load_ward(&state, &principal, Action::ReadWard, id).await?;
    let open = alarms::open_for_ward(&state.store, id).await?;
    Ok(Json(open.into_iter().map(AlarmView::from).collect()))
}

/// The ward's events, live (SSE): `vitals`, `alarm`, `alarm_update`, `news2`, `device`,
/// `admission`, `medication`, each with its id from the ward event log. Send `Last-Event-ID`
/// to replay everything after that event first (ward staff).
#[utoipa::path(get, path = "/api/v1/wards/{id}/events", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ward id"),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event")),
    responses((status = 200, description = "text/event-stream of ward events (data: the event's JSON payload)")))]
pub async fn ward_events(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    load_ward(&state, &principal, Action::ReadWard, id).await?;
    let last = event_log::last_event_id(&headers)?;
    // One reader of the log per ward for every station following it (ward::fanout).
    Ok(crate::ward::fanout::serve(state, id, last).await?)
}

/// A ward event as the streams send it: named by its kind, with its log id.
pub(crate) fn sse(e: &events::WardEvent) -> Event {
    Event::default()
        .event(e.kind.code())
        .id(e.id.to_string())
        .data(e.payload.clone())
}

#[derive(Debug, Default, Deserialize, ToSchema, garde::Validate)]
pub struct AlarmNoteRequest {
    /// The action taken (required to resolve; optional to acknowledge).
    #[serde(default)]
    #[garde(inner(length(chars, max = 2000)))]
    pub note: Option<String>,
}

/// Loads an alarm and checks `RespondToAlarms` on its ward.
async fn respondable_alarm(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<Alarm, ApiError> {
    let Some(alarm) = alarms::get(&state.store, id).await? else {
        authorize(principal, Action::RespondToAlarms, Target::Installation)?;
        return Err(ApiError::NotFound);
    };
    load_ward(state, principal, Action::RespondToAlarms, alarm.ward_id).await?;
    Ok(alarm)
}

pub(crate) fn person(principal: &Principal) -> Result<Uuid, ApiError> {
    match principal {
        Principal::User(u) => Ok(u.id),
        Principal::Device(_) => Err(ApiError::Forbidden),
    }
}

/// Ward nurses, hospital admins: acknowledge an active alarm (it stops escalating).
#[utoipa::path(post, path = "/api/v1/alarms/{id}/acknowledge", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Alarm id")), request_body = AlarmNoteRequest,
    responses(
        (status = 200, description = "Acknowledged", body = AlarmView),
        (status = 409, description = "`already_acknowledged`, `already_resolved`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn acknowledge(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<AlarmNoteRequest>,
) -> Result<Json<AlarmView>, ApiError> {
    let by = person(&principal)?;
    respondable_alarm(&state, &principal, id).await?;
    let (alarm, _) = alarms::acknowledge(&state.store, id, by, req.note.as_deref(), now())
        .await
        .map_err(ward_error)?;
    wake(&state, alarm.ward_id).await;
    Ok(Json(alarm.into()))
}

/// Ward nurses, hospital admins: resolve an open alarm with a note of the action taken.
#[utoipa::path(post, path = "/api/v1/alarms/{id}/resolve", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Alarm id")), request_body = AlarmNoteRequest,
    responses(
        (status = 200, description = "Resolved", body = AlarmView),
        (status = 409, description = "`already_resolved`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`note` missing", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resolve(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<AlarmNoteRequest>,
) -> Result<Json<AlarmView>, ApiError> {
    let by = person(&principal)?;
    let alarm = respondable_alarm(&state, &principal, id).await?;
    let note = req.note.as_deref().map(str::trim).unwrap_or("");
    if note.is_empty() {
        return Err(invalid("note", WardConflict::NoteRequired));
    }
    let (resolved, _) = alarms::resolve(&state.store, id, Some(by), Some(note), now())
        .await
        .map_err(ward_error)?;
    state
        .ward
        .forget(alarm.admission_id.unwrap_or(alarm.bed_id), alarm.kind);
    wake(&state, resolved.ward_id).await;
    Ok(Json(resolved.into()))
}
