//! One patient's live view for ward staff: `GET /api/v1/admissions/{id}/news2` (the score now,
//! with its breakdown and the vitals behind it) and `GET /api/v1/admissions/{id}/events` (the
//! patient's ward events as SSE, resumable with `Last-Event-ID`).
//!
//! The stream shows the events of this stay only: written for the patient in the admission's
//! ward between admission and discharge. Like the ward stream it replays from the persisted
//! event log; bus messages on the ward's topic only wake it.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, Sse};
use docde_store::ward::admissions::{self, Admission};
use docde_store::ward::samples;
use futures::Stream;
use uuid::Uuid;

use super::ward::load_ward;
use super::{event_log, now};
use crate::auth::Principal;
use crate::authz::{Action, Target, authorize};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::ward::news2::{News2Detail, detail};
use crate::ward::news2_of;
use docde_store::ward::events::{self, WardEvent};

/// Loads an admission and checks `ReadWard` on its ward.
async fn readable_admission(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<Admission, ApiError> {
    let Some(admission) = admissions::get(&state.store, id).await? else {
        authorize(principal, Action::ReadWard, Target::Installation)?;
        return Err(ApiError::NotFound);
    };
    load_ward(state, principal, Action::ReadWard, admission.ward_id).await?;
    Ok(admission)
}

/// Ward staff: the patient's NEWS2 from the newest vitals (each at most 15 minutes old), per
/// row with the value used and its age. `total` is `null` when nothing recent is known.
#[utoipa::path(get, path = "/api/v1/admissions/{id}/news2", tag = "ward", security(("bearer" = [])),
    operation_id = "get_admission_news2",
    params(("id" = Uuid, Path, description = "Admission id")),
    responses((status = 200, description = "The score now", body = News2Detail)))]
pub async fn get_news2(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<News2Detail>, ApiError> {
    let admission = readable_admission(&state, &principal, id).await?;
    let at = now();
    // Only this stay's measurements are about this admission.
    let latest: Vec<_> = samples::latest_of_patient(&state.store, admission.patient_id)
        .await?
        .into_iter()
        .filter(|l| l.measured_at >= admission.admitted_at)
        .filter(|l| admission.discharged_at.is_none_or(|d| l.measured_at <= d))
        .collect();
    let score = news2_of(&latest, at);
    Ok(Json(detail(&admission, score.as_ref(), &latest, at)))
}

/// Ward staff: the patient's events of this stay, live (SSE) — `vitals`, `alarm`,
/// `alarm_update`, `news2`, `device`, `admission`, `medication` — each with its id from the
/// ward event log. Send `Last-Event-ID` to replay everything after that event first.
#[utoipa::path(get, path = "/api/v1/admissions/{id}/events", tag = "ward", security(("bearer" = [])),
    operation_id = "admission_events",
    params(("id" = Uuid, Path, description = "Admission id"),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event")),
    responses((status = 200, description = "text/event-stream of the patient's ward events (data: the event's JSON payload)")))]
pub async fn admission_events(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let admission = readable_admission(&state, &principal, id).await?;
    let last = event_log::last_event_id(&headers)?;
    let wake = state
        .bus
        .subscribe(&crate::ward::ward_topic(admission.ward_id));
    Ok(event_log::serve(
        state,
        wake,
        last,
        "admission_events",
        256,
        move |state, last| {
            let admission = admission.clone();
            async move {
                let page = events::patient_events_after(
                    &state.store,
                    admission.patient_id,
                    last,
                    event_log::PAGE,
                )
                .await;
                // The patient's log spans every stay: send only this one's.
                let of_this_stay = |e: &WardEvent| {
                    e.ward_id == admission.ward_id
                        && e.created_at >= admission.admitted_at
                        && admission.discharged_at.is_none_or(|d| e.created_at <= d)
                };
                Some(
                    page.ok()?
                        .iter()
                        .map(|e| (e.id, of_this_stay(e).then(|| super::ward_station::sse(e))))
                        .collect(),
                )
            }
        },
    ))
}
