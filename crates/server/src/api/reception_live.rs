//! Reception's live side: the lobby board (snapshot and stream), a patient's own visit
//! stream, and waiting-room tickets (read, SSE, WebSocket).
//!
//! Fan-out is cheap by construction: every watcher of a line on this instance shares one
//! snapshot (`reception::lines`), read once per change, and derives its own position from it
//! by binary search; the bus carries one wake-up per change, never per watcher.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use docde_domain::reception::{estimate_wait_secs, local_day};
use docde_store::reception::admission::{self, Ticket};
use docde_store::reception::{events, visits};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use super::reception::readable_visit;
use crate::auth::CurrentUser;
use crate::problem::ApiError;
use crate::reception::line_topic;
use crate::reception::views::{BoardView, LineEventView, ServingView, TicketView, VisitView};
use crate::state::AppState;

/// A live view repeats its state this often. The waiting room promises at least once a
/// second; a 1 s cadence arrives every 1,000–1,005 ms once timer and network jitter are added,
/// and while the line moves fast (hundreds of tickets done per second) a tick can be late by
/// up to ~250 ms, so the cadence keeps a fifth of a second in hand (docs/BENCHMARKS.md).
const EVERY: Duration = Duration::from_millis(800);

type EventStream =
    Sse<axum::response::sse::KeepAliveStream<ReceiverStream<Result<Event, Infallible>>>>;

fn sse(rx: mpsc::Receiver<Result<Event, Infallible>>) -> EventStream {
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default())
}

fn event<T: serde::Serialize>(name: &str, id: Option<i64>, body: &T) -> Option<Event> {
    let data = serde_json::to_string(body).ok()?;
    let e = Event::default().event(name).data(data);
    Some(match id {
        Some(id) => e.id(id.to_string()),
        None => e,
    })
}

async fn board_of(
    state: &AppState,
    hospital_id: Uuid,
    department: &str,
) -> Result<BoardView, ApiError> {
    let facts = state
        .reception
        .hospitals
        .get(&state.store, hospital_id)
        .await?;
    if !facts.departments.iter().any(|d| d == department) {
        return Err(ApiError::NotFound);
    }
    let now = state.reception.clock.now();
    let day = local_day(now, facts.tz);
    let snap =
        docde_store::reception::line::snapshot(&state.store, hospital_id, department, day, now)
            .await?;
    let typical = docde_domain::reception::typical_consultation_secs(&snap.recent_consultations);
    Ok(BoardView {
        hospital_id,
        department: department.to_owned(),
        day: day.to_string(),
        last_event_id: snap.last_event_id,
        serving: snap
            .serving
            .iter()
            .map(|(label, status, doctor)| ServingView {
                label: label.clone(),
                status: status.clone(),
                doctor_id: *doctor,
            })
            .collect(),
        next: snap
            .waiting
            .iter()
            .take(state.reception.settings.board_next)
            .map(|(_, l)| l.clone())
            .collect(),
        waiting: snap.waiting.len(),
        estimated_wait_seconds: estimate_wait_secs(
            snap.waiting.len() as u64,
            typical,
            snap.doctors,
        ),
    })
}

/// A department's lobby board: the numbers being served and the next few.
///
/// Public on purpose: a lobby screen is a TV without a sign-in, and the board shows only
/// waiting numbers, statuses and doctor ids — no name, no patient id, nothing that says who
/// anyone is (the same numbers are called out loud in the room).
#[utoipa::path(get, operation_id = "reception_board", path = "/api/v1/hospitals/{id}/reception/boards/{department}", tag = "reception",
    params(("id" = Uuid, Path, description = "Hospital id"), ("department" = String, Path, description = "Department code")),
    responses((status = 200, description = "The board now", body = BoardView)))]
pub async fn board(
    State(state): State<AppState>,
    Path((hospital_id, department)): Path<(Uuid, String)>,
) -> Result<Json<BoardView>, ApiError> {
    Ok(Json(board_of(&state, hospital_id, &department).await?))
}

/// The lobby board, live (SSE; public for the same reason as the board). First a `board`
/// event with the whole board, then a `line` event (data: LineEventView, id: event id) per
/// change. With `Last-Event-ID` the stream replays the changes after it instead.
#[utoipa::path(get, operation_id = "reception_board_events", path = "/api/v1/hospitals/{id}/reception/boards/{department}/events", tag = "reception",
    params(("id" = Uuid, Path, description = "Hospital id"), ("department" = String, Path, description = "Department code"),
           ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event")),
    responses((status = 200, description = "text/event-stream of `board` and `line` events")))]
pub async fn board_events(
    State(state): State<AppState>,
    Path((hospital_id, department)): Path<(Uuid, String)>,
    headers: HeaderMap,
) -> Result<EventStream, ApiError> {
    let resume: Option<i64> = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| {
                    super::invalid("Last-Event-ID", "must be an event id from this stream")
                })?,
        ),
        None => None,
    };
    // Subscribe before the first read, so a change in between is not missed.
    let mut live = state.bus.subscribe(&line_topic(hospital_id, &department));
    let board = board_of(&state, hospital_id, &department).await?;
    let (tx, rx) = mpsc::channel(16);
    let mut last = match resume {
        Some(id) => id,
        None => {
            let Some(e) = event("board", Some(board.last_event_id), &board) else {
                return Err(anyhow::anyhow!("board not serialisable").into());
            };
            let _ = tx.send(Ok(e)).await;
            board.last_event_id
        }
    };
    tokio::spawn(async move {
        let _live = crate::metrics::LiveClient::open("reception_board");
        loop {
            loop {
                let Ok(page) =
                    events::after(&state.store, hospital_id, &department, last, 500).await
                else {
                    return;
                };
                let full = page.len() == 500;
                for e in &page {
                    last = e.id;
                    let Some(ev) = event("line", Some(e.id), &LineEventView::of(e)) else {
                        return;
                    };
                    if tx.send(Ok(ev)).await.is_err() {
                        return;
                    }
                }
                if !full {
                    break;
                }
            }
            // A wake-up (or a lag notice, or a quiet while): the log says what happened.
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tx.closed() => return,
                m = live.recv() => if m.is_none() { return },
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    });
    Ok(sse(rx))
}

/// My visit, live (SSE `visit` events, data: VisitView with position, people ahead and the
/// estimated wait): on every change of the line and at least once a second while active; the
/// stream ends after the visit reaches `completed`, `cancelled` or `no_show`. Every event is
/// the whole state, so a reconnect simply starts again (the id is the line's event id).
#[utoipa::path(get, operation_id = "reception_visit_events", path = "/api/v1/reception/visits/{id}/events", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Visit id")),
    responses((status = 200, description = "text/event-stream of `visit` events")))]
pub async fn visit_events(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<EventStream, ApiError> {
    let visit = readable_visit(&state, &me, id).await?;
    let facts = state
        .reception
        .hospitals
        .get(&state.store, visit.hospital_id)
        .await?;
    let mut line =
        state
            .reception
            .lines
            .department(&state, visit.hospital_id, &visit.department, facts.tz);
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        let _live = crate::metrics::LiveClient::open("reception_visit");
        let mut visit = visit;
        let mut seen_event = -1_i64;
        let mut tick = every();
        loop {
            let snap = line.borrow_and_update().clone();
            // The snapshot moved on and my visit is no longer where it was: read it again.
            if snap.loaded && snap.snapshot.last_event_id != seen_event {
                let waiting_here =
                    visit.status == "waiting" && snap.place(visit.queue_order).is_some();
                if !waiting_here {
                    match visits::get(&state.store, id).await {
                        Ok(Some(v)) => visit = v,
                        _ => return,
                    }
                }
                seen_event = snap.snapshot.last_event_id;
            }
            let mut view = VisitView::of(&visit);
            if visit.status == "waiting"
                && let Some((position, ahead, wait)) = snap.place(visit.queue_order)
            {
                view.position = Some(position);
                view.ahead = Some(ahead);
                view.estimated_wait_seconds = Some(wait);
            }
            let Some(e) = event("visit", Some(snap.snapshot.last_event_id), &view) else {
                return;
            };
            if tx.send(Ok(e)).await.is_err() {
                return;
            }
            if matches!(visit.status.as_str(), "completed" | "cancelled" | "no_show") {
                return;
            }
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tx.closed() => return,
                r = line.changed() => if r.is_err() { return },
                _ = tick.tick() => {}
            }
        }
    });
    Ok(sse(rx))
}

/// A ticket the caller owns. Anyone else learns nothing about it, not even that it exists.
async fn own_ticket(state: &AppState, me: Uuid, id: Uuid) -> Result<Ticket, ApiError> {
    let ticket = admission::get(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if ticket.owner_id != me {
        return Err(ApiError::NotFound);
    }
    Ok(ticket)
}

/// A waiting-room ticket: its position while queued, its outcome when done (owner only).
#[utoipa::path(get, operation_id = "reception_get_ticket", path = "/api/v1/reception/tickets/{id}", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses((status = 200, description = "The ticket", body = TicketView)))]
pub async fn get_ticket(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = own_ticket(&state, me.id, id).await?;
    Ok(Json(
        crate::reception::waiting_room::ticket_view(&state, &ticket).await?,
    ))
}

/// Runs one ticket watcher: calls `send` with a `position` view on every change of the line
/// and at least once a second, then once with the `result`; returns when done, when `send`
/// fails (the client left) or at shutdown. The work itself never depends on a watcher.
async fn watch_ticket<F, Fut>(state: AppState, ticket: Ticket, mut send: F)
where
    F: FnMut(&'static str, TicketView) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut line = state.reception.lines.tickets(&state, ticket.hospital_id);
    let mut ticket = ticket;
    // A fixed cadence, not a pause after each send: changes in between do not push the next
    // heartbeat back, so a watcher hears from the line at least once a second.
    let mut tick = every();
    loop {
        if !ticket.done {
            let snap = line.borrow_and_update().clone();
            if snap.loaded && snap.seems_done(ticket.seq) {
                match admission::get(&state.store, ticket.id).await {
                    Ok(Some(t)) => ticket = t,
                    _ => return,
                }
            }
            if !ticket.done {
                let view = TicketView::of(&ticket, Some(snap.place(ticket.seq)));
                if !send("position", view).await {
                    return;
                }
            }
        }
        if ticket.done {
            let _ = send("result", TicketView::of(&ticket, None)).await;
            return;
        }
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            r = line.changed() => if r.is_err() { return },
            _ = tick.tick() => {}
        }
    }
}

fn every() -> tokio::time::Interval {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + EVERY, EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}

/// A waiting-room ticket, live (SSE): `position` events (data: TicketView) on every change and
/// at least once a second while queued, then one `result` event, then the stream ends.
/// Reconnecting starts again from the ticket's stored state, so a client that left gets its
/// result when it comes back.
#[utoipa::path(get, operation_id = "reception_ticket_events", path = "/api/v1/reception/tickets/{id}/events", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses((status = 200, description = "text/event-stream of `position` and `result` events")))]
pub async fn ticket_events(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<EventStream, ApiError> {
    let ticket = own_ticket(&state, me.id, id).await?;
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        let _live = crate::metrics::LiveClient::open("reception_ticket");
        let tx2 = tx.clone();
        let watch = watch_ticket(state, ticket, move |name, view| {
            let tx = tx.clone();
            async move {
                match event(name, None, &view) {
                    Some(e) => tx.send(Ok(e)).await.is_ok(),
                    None => false,
                }
            }
        });
        tokio::select! {
            _ = watch => {}
            _ = tx2.closed() => {}
        }
    });
    Ok(sse(rx))
}

/// A waiting-room ticket, live over WebSocket: text messages `{"type": "position", …TicketView}`
/// while queued (on change and at least once a second), then `{"type": "result", …}`, then the
/// server closes. Owner only (a Bearer token on the upgrade request). Buffers are kept small —
/// the server only writes short messages and reads nothing but control frames — so an open
/// connection costs a few KiB instead of tungstenite's default ~134 KiB.
#[utoipa::path(get, operation_id = "reception_ticket_ws", path = "/api/v1/reception/tickets/{id}/ws", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses((status = 101, description = "WebSocket of `position` and `result` messages")))]
pub async fn ticket_ws(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let ticket = own_ticket(&state, me.id, id).await?;
    Ok(ws
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(4096)
        .max_frame_size(4096)
        .on_upgrade(move |socket| ws_session(state, ticket, socket))
        .into_response())
}

async fn ws_session(state: AppState, ticket: Ticket, socket: WebSocket) {
    let _live = crate::metrics::LiveClient::open("reception_ticket_ws");
    use futures::{SinkExt, StreamExt};
    let (mut sink, mut stream) = socket.split();
    let (closed_tx, mut closed_rx) = tokio::sync::oneshot::channel::<()>();
    // The client sends nothing we need; reading notices when it leaves (and answers pings).
    let reader = tokio::spawn(async move {
        while let Some(Ok(m)) = stream.next().await {
            if matches!(m, WsMessage::Close(_)) {
                break;
            }
        }
        let _ = closed_tx.send(());
    });
    let sink = std::sync::Arc::new(tokio::sync::Mutex::new(&mut sink));
    let watch = watch_ticket(state, ticket, |name, view| {
        let sink = sink.clone();
        async move {
            let mut body = match serde_json::to_value(&view) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => return false,
            };
            body.insert("type".into(), name.into());
            let text = serde_json::Value::Object(body).to_string();
            sink.lock()
                .await
                .send(WsMessage::Text(text.into()))
                .await
                .is_ok()
        }
    });
    tokio::select! {
        _ = watch => {}
        _ = &mut closed_rx => {}
    }
    let _ = sink.lock().await.send(WsMessage::Close(None)).await;
    reader.abort();
}
