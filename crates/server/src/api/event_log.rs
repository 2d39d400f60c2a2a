//! The one way a stream over an event log is served (a ward's, one admission's, a patient's
//! appointment events): parse `Last-Event-ID`, subscribe to the wake-ups, replay the log after
//! that id, then re-read the log on every wake-up. The log says what happened, in order and
//! without gaps; a wake-up (or a lagged one) only says "read again", so a slow client never
//! misses an event, and ids need not be consecutive per stream (a log shared by many streams).

use std::convert::Infallible;
use std::future::Future;

use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use docde_bus::{Message, Subscription};
use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::invalid;
use crate::problem::ApiError;
use crate::state::AppState;

/// Events read from a log per query.
pub(crate) const PAGE: u32 = 500;

/// One page read from a log: each event's id (the stream resumes after it) and what to send
/// for it — `None` for an event of the log that is not this stream's.
pub(crate) type Page = Vec<(i64, Option<Event>)>;

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

/// Serves the log's events after `last`, live: `page_after(state, id)` reads up to [`PAGE`]
/// events after `id` (`None` ends the stream: the database failed); `wake` must have been
/// subscribed before this call, so nothing committed in between is missed. Counted as `metric`
/// in `live_stream_clients`; `buffer` events may wait for a slow client.
pub(crate) fn serve<F, Fut>(
    state: AppState,
    mut wake: Subscription,
    mut last: i64,
    metric: &'static str,
    buffer: usize,
    mut page_after: F,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>>
where
    F: FnMut(AppState, i64) -> Fut + Send + 'static,
    Fut: Future<Output = Option<Page>> + Send,
{
    let (tx, rx) = mpsc::channel(buffer);
    tokio::spawn(async move {
        let _live = crate::metrics::LiveClient::open(metric);
        loop {
            loop {
                let Some(page) = page_after(state.clone(), last).await else {
                    return;
                };
                let full = page.len() == PAGE as usize;
                for (id, event) in page {
                    last = id;
                    let Some(event) = event else {
                        continue;
                    };
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
                m = wake.recv() => m,
            };
            match message {
                Some(Message::Data(_)) | Some(Message::Lagged(_)) => {}
                None => return,
            }
        }
    });
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default())
}
