//! The nurse station: a ward's live snapshot, its resumable event stream (SSE with
//! `Last-Event-ID`), its alarms, and acknowledging and resolving them.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::Event;
use chrono::{DateTime, Utc};
use docde_store::ward::WardConflict;
use docde_store::ward::alarms::{self, Alarm};
use docde_store::ward::events;
use docde_store::ward::samples::{self, LatestSample};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ward::{BedView, bed_view, load_ward, person, ward_error};
use super::{event_log, invalid, now};
use crate::auth::Principal;
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::ward::{news2_of, wake};

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
