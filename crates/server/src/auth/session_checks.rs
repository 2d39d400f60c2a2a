//! Checking bearer tokens' sessions with one database read for many requests.
//!
//! A token is only as good as its session: logout, a password change, a re-used refresh token
//! or a deleted account stop it at once, not when it expires — so every request must read its
//! session *after it arrived*. One read per request was the largest cost on the booking hot
//! path (a pool checkout and a round trip each). Instead, requests hand their session id to a
//! few checker tasks; each takes every id waiting at that moment and answers them all from one
//! `IN (…)` query. Every read still starts after the request arrived, so a revocation that
//! committed before it is always seen; under load one query serves hundreds of requests.

use std::collections::HashSet;
use std::sync::Arc;

use docde_store::{Store, StoreError, accounts::sessions};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Ids answered by one query at most.
const MAX_BATCH: usize = 256;
/// Queries in flight at once (each checker runs one at a time).
const CHECKERS: usize = 4;

/// A session id and where to send the answer (`None`: the shared read failed).
type Ask = (Uuid, oneshot::Sender<Option<bool>>);

/// The queue of session ids waiting to be checked.
#[derive(Clone)]
pub struct SessionChecks {
    asks: mpsc::Sender<Ask>,
    waiting: Arc<Mutex<mpsc::Receiver<Ask>>>,
}

impl Default for SessionChecks {
    fn default() -> Self {
        let (asks, waiting) = mpsc::channel(MAX_BATCH * CHECKERS * 8);
        Self {
            asks,
            waiting: Arc::new(Mutex::new(waiting)),
        }
    }
}

impl SessionChecks {
    /// Whether the session still counts. Falls back to a read of its own if the checkers are
    /// gone (shutting down) or their read failed, so the caller sees that read's own error.
    pub async fn is_live(&self, store: &Store, session_id: Uuid) -> Result<bool, StoreError> {
        let (answer, answered) = oneshot::channel();
        if self.asks.send((session_id, answer)).await.is_ok()
            && let Ok(Some(live)) = answered.await
        {
            return Ok(live);
        }
        sessions::is_live(store, session_id).await
    }

    /// Starts the checkers; they stop at shutdown (requests still waiting then read alone).
    pub fn spawn(&self, store: Store, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let checkers: Vec<_> = (0..CHECKERS)
            .map(|_| {
                let waiting = self.waiting.clone();
                let store = store.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    loop {
                        let batch = tokio::select! {
                            _ = shutdown.cancelled() => break,
                            batch = take_batch(&waiting) => batch,
                        };
                        let Some(batch) = batch else { break };
                        answer(&store, batch).await;
                    }
                })
            })
            .collect();
        tokio::spawn(async move {
            for checker in checkers {
                let _ = checker.await;
            }
        })
    }
}

/// Waits for one id, then takes every other one already waiting (up to [`MAX_BATCH`]).
async fn take_batch(waiting: &Mutex<mpsc::Receiver<Ask>>) -> Option<Vec<Ask>> {
    let mut waiting = waiting.lock().await;
    let first = waiting.recv().await?;
    let mut batch = Vec::with_capacity(16);
    batch.push(first);
    while batch.len() < MAX_BATCH {
        match waiting.try_recv() {
            Ok(ask) => batch.push(ask),
            Err(_) => break,
        }
    }
    Some(batch)
}

async fn answer(store: &Store, batch: Vec<Ask>) {
    let ids: Vec<Uuid> = {
        let unique: HashSet<Uuid> = batch.iter().map(|(id, _)| *id).collect();
        unique.into_iter().collect()
    };
    let live = sessions::live_among(store, &ids).await.ok();
    for (id, answer) in batch {
        let _ = answer.send(live.as_ref().map(|live| live.contains(&id)));
    }
}
