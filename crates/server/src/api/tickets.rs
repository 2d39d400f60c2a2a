//! Live channels of booking: a rush ticket's position and result, and a patient's appointment
//! events. Both are Server-Sent Events and both are resumable: a ticket stream starts again
//! from the ticket's stored state, the event stream replays from `Last-Event-ID` out of the
//! database before going live, so a client that dropped off misses nothing.
//!
//! Slow consumers: the bus drops messages for a subscriber that lags; these streams then
//! re-read the database rather than guess (see `docde_bus::Message::Lagged`).

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use docde_store::booking::appointments;
use docde_store::booking::tickets;
use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::booking::notify::{AppointmentEventView, patient_topic};
use crate::booking::rush::{TicketView, ticket_topic, view};
use crate::problem::ApiError;
use crate::state::AppState;

/// How often a waiting ticket's position is sent.
const POSITION_EVERY: Duration = Duration::from_secs(1);

async fn own_ticket(state: &AppState, me: Uuid, id: Uuid) -> Result<tickets::Ticket, ApiError> {
    let ticket = tickets::get(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    // Only the ticket's owner learns anything about it, even that it exists.
    if ticket.patient_id != me {
        return Err(ApiError::NotFound);
    }
    Ok(ticket)
}

/// A rush ticket: its position while queued, its outcome when done (its owner only).
#[utoipa::path(get, path = "/api/v1/booking-tickets/{id}", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses((status = 200, description = "The ticket", body = TicketView)))]
pub async fn get_ticket(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = own_ticket(&state, me.id, id).await?;
    let served = tickets::served(&state.store).await?;
    Ok(Json(view(&ticket, served)))
}

/// A rush ticket, live (SSE): `position` events at least once a second while queued, then one
/// `result` event, then the stream ends. Reconnecting resumes from the ticket's stored state.
#[utoipa::path(get, path = "/api/v1/booking-tickets/{id}/events", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses((status = 200, description = "text/event-stream of `position` and `result` events (data: TicketView)")))]
pub async fn ticket_events(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    own_ticket(&state, me.id, id).await?;
    let (tx, rx) = mpsc::channel(8);
    // Subscribe before the first read, so a result announced in between is not missed.
    let mut done = state.bus.subscribe(&ticket_topic(id));
    tokio::spawn(async move {
        let _live = crate::metrics::LiveClient::open("booking_ticket");
        loop {
            let (ticket, served) = match (
                tickets::get(&state.store, id).await,
                tickets::served(&state.store).await,
            ) {
                (Ok(Some(t)), Ok(s)) => (t, s),
                _ => return,
            };
            let body = view(&ticket, served);
            let name = if ticket.done { "result" } else { "position" };
            let Ok(data) = serde_json::to_string(&body) else {
                return;
            };
            if tx
                .send(Ok(Event::default().event(name).data(data)))
                .await
                .is_err()
                || ticket.done
            {
                return;
            }
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tx.closed() => return,
                _ = done.recv() => {}
                _ = tokio::time::sleep(POSITION_EVERY) => {}
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()))
}

/// My appointment events, live (SSE `appointment` events; data: AppointmentEventView). Send
/// `Last-Event-ID` to replay everything after that event first.
#[utoipa::path(get, path = "/api/v1/me/appointment-events", tag = "booking", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event")),
    responses((status = 200, description = "text/event-stream of `appointment` events")))]
pub async fn appointment_events(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let last = super::event_log::last_event_id(&headers)?;
    let wake = state.bus.subscribe(&patient_topic(me.id));
    let patient = me.id;
    // Event ids are shared by all patients, so they are not consecutive per patient and a gap
    // cannot be seen from the ids alone: the log is re-read on every wake-up.
    Ok(super::event_log::serve(
        state,
        wake,
        last,
        "appointment_events",
        64,
        move |state, last| async move {
            let page =
                appointments::events_after(&state.store, patient, last, super::event_log::PAGE)
                    .await;
            Some(page.ok()?.into_iter().map(|e| (e.id, sse(e))).collect())
        },
    ))
}

/// An appointment event as the stream sends it (`appointment`, data: AppointmentEventView).
fn sse(e: appointments::AppointmentEvent) -> Option<Event> {
    let view = AppointmentEventView {
        id: e.id,
        appointment_id: e.appointment_id,
        status: e.status,
        at: e.created_at,
    };
    let data = serde_json::to_string(&view).ok()?;
    Some(
        Event::default()
            .event("appointment")
            .id(view.id.to_string())
            .data(data),
    )
}
