//! The one way a ward event stream is served (the ward's and one admission's): parse
//! `Last-Event-ID`, subscribe to the ward's wake-ups, replay the event log after that id, then
//! re-read the log on every wake-up. The log says what happened, in order and without gaps;
//! a wake-up (or a lagged one) only says "read again", so a slow client never misses an event.

use std::convert::Infallible;

use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use docde_bus::Message;
use docde_store::ward::admissions::Admission;
use docde_store::ward::events::{self, WardEvent};
use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use super::invalid;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::ward::ward_topic;

/// Events read from the log per query.
const PAGE: u32 = 500;

/// Whose events a stream carries.
pub(crate) enum Source {
    Ward(Uuid),
    /// One patient's events during this stay, in the admission's ward.
    Admission(Admission),
}

impl Source {
    fn ward_id(&self) -> Uuid {
        match self {
            Source::Ward(id) => *id,
            Source::Admission(a) => a.ward_id,
        }
    }

    async fn page_after(&self, state: &AppState, last: i64) -> Option<Vec<WardEvent>> {
        match self {
            Source::Ward(id) => events::events_after(&state.store, *id, last, PAGE).await,
            Source::Admission(a) => {
                events::patient_events_after(&state.store, a.patient_id, last, PAGE).await
            }
        }
        .ok()
    }

    fn carries(&self, e: &WardEvent) -> bool {
        match self {
            Source::Ward(_) => true,
            Source::Admission(a) => {
                e.ward_id == a.ward_id
                    && e.created_at >= a.admitted_at
                    && a.discharged_at.is_none_or(|d| e.created_at <= d)
            }
        }
    }
}

/// The id to resume after: the `Last-Event-ID` header, or 0 for everything kept.
pub(crate) fn last_event_id(headers: &HeaderMap) -> Result<i64, ApiError> {
    match headers.get("last-event-id") {
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .filter(|n: &i64| *n >= 0)
            .ok_or_else(|| invalid("Last-Event-ID", "must be an event id from this stream")),
        None => Ok(0),
    }
}

/// Serves `source`'s events after `last`, live, counted as `metric` in `live_stream_clients`.
pub(crate) fn serve(
    state: AppState,
    source: Source,
    mut last: i64,
    metric: &'static str,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::channel(256);
    // Subscribe before the first read, so nothing committed in between is missed.
    let mut live = state.bus.subscribe(&ward_topic(source.ward_id()));
    tokio::spawn(async move {
        let _live = crate::metrics::LiveClient::open(metric);
        loop {
            loop {
                let Some(page) = source.page_after(&state, last).await else {
                    return;
                };
                let full = page.len() == PAGE as usize;
                for e in page {
                    last = e.id;
                    if !source.carries(&e) {
                        continue;
                    }
                    let event = Event::default()
                        .event(e.kind.code())
                        .id(e.id.to_string())
                        .data(e.payload);
                    if tx.send(Ok(event)).await.is_err() {
                        return;
                    }
                }
                if !full {
                    break;
                }
            }
            let message = tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tx.closed() => return,
                m = live.recv() => m,
            };
            match message {
                Some(Message::Data(_)) | Some(Message::Lagged(_)) => {}
                None => return,
            }
        }
    });
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default())
}
