//! One reader of a ward's event log per instance, shared by every live stream of that ward.
//!
//! Each nurse station follows its ward's stream. If every stream re-read the log on every
//! wake-up, 500 stations would cost 500 queries per committed batch of vitals; instead one
//! follower task per ward (started by the first stream, stopped after the last) reads the new
//! events once per wake-up and hands the page to every stream over a broadcast channel.
//!
//! Nothing may be missed in the hand-over, so a stream (1) takes its receiver, (2) replays the
//! log from its `Last-Event-ID` up to the end, then (3) sends what the follower broadcasts,
//! skipping ids it already sent. Every receiver is handed out only after its follower knew
//! where the log ended: an event committed before the receiver existed is in the replay, and
//! one committed after it is read by the follower (whose wake-up subscription is older still)
//! and broadcast. A stream that falls behind the broadcast (lagged) replays from the log again.
//!
//! The follower also writes each page's SSE text once, and a stream sends a page as one body
//! chunk. One frame (and one write) per event per station was the cost that sank the live
//! ward: 1,000 beds' vitals to 500 stations are 500,000 events a second, but only as many
//! pages per station as the writer commits groups.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use docde_bus::Message;
use docde_store::ward::events::{self, WardEvent};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use crate::api::event_log::PAGE;
use crate::state::AppState;

/// A page of events the follower read, in log order, as SSE text.
struct Page {
    /// All of the page's events, written once.
    text: Bytes,
    /// Each event's id and where its text starts in `text`, ascending.
    starts: Vec<(i64, usize)>,
}

type Batch = Arc<Page>;

/// How often an idle stream sends a comment, so proxies and clients keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A ward event as SSE text: named by its kind, with its log id (as `api::ward_station::sse`).
fn wire(e: &WardEvent) -> Bytes {
    let mut text = format!("event: {}\nid: {}\n", e.kind.code(), e.id);
    for line in e.payload.split('\n') {
        text.push_str("data: ");
        text.push_str(line.trim_end_matches('\r'));
        text.push('\n');
    }
    text.push('\n');
    Bytes::from(text)
}

impl Page {
    fn of(page: &[WardEvent]) -> Self {
        let mut text = Vec::new();
        let mut starts = Vec::with_capacity(page.len());
        for e in page {
            starts.push((e.id, text.len()));
            text.extend_from_slice(&wire(e));
        }
        Self {
            text: Bytes::from(text),
            starts,
        }
    }

    /// What of the page comes after `last`, as one chunk (a slice of the page's text, no
    /// copy), and the page's last id; `None` when all of it was sent.
    fn after(&self, last: i64) -> Option<(Bytes, i64)> {
        let (newest, _) = *self.starts.last()?;
        let first = self.starts.iter().find(|(id, _)| *id > last)?;
        Some((self.text.slice(first.1..), newest))
    }
}

/// Batches a stream may fall behind before it replays from the log instead.
const BROADCAST_CAPACITY: usize = 1024;

/// The running followers of this instance, by ward.
#[derive(Default)]
pub struct WardFanout {
    followers: Mutex<HashMap<Uuid, broadcast::Sender<Batch>>>,
}

impl std::fmt::Debug for WardFanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WardFanout").finish_non_exhaustive()
    }
}

impl WardFanout {
    /// A receiver of the ward's new events, starting the ward's follower if none runs.
    async fn subscribe(
        &self,
        state: &AppState,
        ward_id: Uuid,
    ) -> Result<broadcast::Receiver<Batch>, docde_store::StoreError> {
        if let Some(tx) = self.lock().get(&ward_id) {
            return Ok(tx.subscribe());
        }
        // Wake-ups first, then where the log ends: anything committed after that point is
        // read by the follower.
        let wake = state.bus.subscribe(&crate::ward::ward_topic(ward_id));
        let tail = events::latest_id(&state.store, ward_id).await?;
        let mut followers = self.lock();
        if let Some(tx) = followers.get(&ward_id) {
            // Another stream started one meanwhile.
            return Ok(tx.subscribe());
        }
        let (tx, rx) = broadcast::channel(BROADCAST_CAPACITY);
        followers.insert(ward_id, tx.clone());
        tokio::spawn(follow(state.clone(), ward_id, wake, tail, tx));
        Ok(rx)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, broadcast::Sender<Batch>>> {
        self.followers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes the ward's follower if nobody listens to it any more (under the lock, so a
    /// stream never gets a receiver of a follower that is stopping). Returns whether it did.
    fn stop_if_unheard(&self, ward_id: Uuid, tx: &broadcast::Sender<Batch>) -> bool {
        let mut followers = self.lock();
        if tx.receiver_count() > 0 {
            return false;
        }
        if followers.get(&ward_id).is_some_and(|t| t.same_channel(tx)) {
            followers.remove(&ward_id);
        }
        true
    }

    /// Removes the ward's follower unconditionally (it failed); its streams end.
    fn stop(&self, ward_id: Uuid, tx: &broadcast::Sender<Batch>) {
        let mut followers = self.lock();
        if followers.get(&ward_id).is_some_and(|t| t.same_channel(tx)) {
            followers.remove(&ward_id);
        }
    }
}

/// The follower: on every wake-up, reads the events after `tail` and broadcasts them.
async fn follow(
    state: AppState,
    ward_id: Uuid,
    mut wake: docde_bus::Subscription,
    mut tail: i64,
    tx: broadcast::Sender<Batch>,
) {
    let fanout = &state.ward.fanout;
    loop {
        let message = tokio::select! {
            _ = state.shutdown.cancelled() => break,
            m = wake.recv() => m,
        };
        if !matches!(message, Some(Message::Data(_) | Message::Lagged(_))) {
            break;
        }
        // Every request that committed vitals wakes the ward: those that came in during the
        // last read are all answered by this one (a ward of 1,000 beds wakes ~2,000 times a
        // second, and a read and a page per wake-up meant a write per page per station).
        wake.skip_waiting();
        loop {
            let Ok(page) = events::events_after(&state.store, ward_id, tail, PAGE).await else {
                // The streams end (as a failed read ends a stream); clients reconnect.
                fanout.stop(ward_id, &tx);
                return;
            };
            let full = page.len() == PAGE as usize;
            if let Some(last) = page.last() {
                tail = last.id;
                let _ = tx.send(Arc::new(Page::of(&page)));
            }
            if !full {
                break;
            }
        }
        if fanout.stop_if_unheard(ward_id, &tx) {
            return;
        }
    }
    fanout.stop(ward_id, &tx);
}

/// The ward's events after `last`, live, for one client (see the module doc for the order of
/// the hand-over), as a `text/event-stream` response. Counted as `ward_events` in
/// `live_stream_clients`.
pub async fn serve(
    state: AppState,
    ward_id: Uuid,
    mut last: i64,
) -> Result<Response, docde_store::StoreError> {
    let mut rx = state.ward.fanout.subscribe(&state, ward_id).await?;
    let (tx, out) = mpsc::channel::<Result<Bytes, Infallible>>(64);
    tokio::spawn(async move {
        let _live = crate::metrics::LiveClient::open("ward_events");
        let mut keep_alive =
            tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
        'replay: loop {
            // From the log up to its end.
            loop {
                let Ok(page) = events::events_after(&state.store, ward_id, last, PAGE).await else {
                    return;
                };
                let full = page.len() == PAGE as usize;
                if let Some((chunk, newest)) = Page::of(&page).after(last) {
                    last = newest;
                    if tx.send(Ok(chunk)).await.is_err() {
                        return;
                    }
                }
                if !full {
                    break;
                }
            }
            // Then what the follower reads.
            loop {
                let batch = tokio::select! {
                    _ = state.shutdown.cancelled() => return,
                    _ = tx.closed() => return,
                    _ = keep_alive.tick() => {
                        if tx.send(Ok(Bytes::from_static(b":\n\n"))).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    b = rx.recv() => b,
                };
                match batch {
                    Ok(batch) => {
                        if let Some((chunk, newest)) = batch.after(last) {
                            last = newest;
                            if tx.send(Ok(chunk)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue 'replay,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(ReceiverStream::new(out)),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use docde_store::ward::events::EventKind;

    fn event(id: i64, payload: &str) -> WardEvent {
        WardEvent {
            id,
            ward_id: Uuid::nil(),
            patient_id: None,
            kind: EventKind::Vitals,
            payload: payload.to_owned(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_page_is_sent_whole_once_and_only_its_unsent_events_after_a_replay() {
        let page = Page::of(&[event(5, "{\"a\":1}"), event(6, "{}"), event(7, "x\ny")]);
        let text = |b: Bytes| String::from_utf8(b.to_vec()).unwrap();
        let (all, newest) = page.after(4).unwrap();
        assert_eq!(newest, 7);
        assert_eq!(
            text(all),
            "event: vitals\nid: 5\ndata: {\"a\":1}\n\n\
             event: vitals\nid: 6\ndata: {}\n\n\
             event: vitals\nid: 7\ndata: x\ndata: y\n\n"
        );
        // Events 5 and 6 went out in the replay: only 7 is left.
        let (rest, newest) = page.after(6).unwrap();
        assert_eq!(
            (text(rest), newest),
            ("event: vitals\nid: 7\ndata: x\ndata: y\n\n".to_owned(), 7)
        );
        assert!(page.after(7).is_none() && page.after(9).is_none());
        assert!(Page::of(&[]).after(0).is_none());
    }
}
