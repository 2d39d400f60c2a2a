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

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::response::sse::{Event, KeepAlive, Sse};
use docde_bus::Message;
use docde_store::ward::events;
use futures::Stream;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use uuid::Uuid;

use crate::api::event_log::PAGE;
use crate::state::AppState;

/// Pages of events the follower read, in log order.
type Batch = Arc<Vec<(i64, Event)>>;

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
        loop {
            let Ok(page) = events::events_after(&state.store, ward_id, tail, PAGE).await else {
                // The streams end (as a failed read ends a stream); clients reconnect.
                fanout.stop(ward_id, &tx);
                return;
            };
            let full = page.len() == PAGE as usize;
            if let Some(last) = page.last() {
                tail = last.id;
                let batch: Batch = Arc::new(
                    page.iter()
                        .map(|e| (e.id, crate::api::ward::sse(e)))
                        .collect(),
                );
                let _ = tx.send(batch);
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
/// the hand-over). Counted as `ward_events` in `live_stream_clients`.
pub async fn serve(
    state: AppState,
    ward_id: Uuid,
    mut last: i64,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, docde_store::StoreError> {
    let mut rx = state.ward.fanout.subscribe(&state, ward_id).await?;
    let (tx, out) = mpsc::channel(256);
    tokio::spawn(async move {
        let _live = crate::metrics::LiveClient::open("ward_events");
        'replay: loop {
            // From the log up to its end.
            loop {
                let Ok(page) = events::events_after(&state.store, ward_id, last, PAGE).await else {
                    return;
                };
                let full = page.len() == PAGE as usize;
                for e in &page {
                    last = e.id;
                    if tx.send(Ok(crate::api::ward::sse(e))).await.is_err() {
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
                    b = rx.recv() => b,
                };
                match batch {
                    Ok(batch) => {
                        for (id, event) in batch.iter() {
                            if *id <= last {
                                continue;
                            }
                            last = *id;
                            if tx.send(Ok(event.clone())).await.is_err() {
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
    Ok(Sse::new(ReceiverStream::new(out)).keep_alive(KeepAlive::default()))
}
