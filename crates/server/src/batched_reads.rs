//! Many requests' lookups of one kind answered by one database read.
//!
//! Some checks must read the database *after* the request arrived — is this session still
//! live, did this idempotency key already book, is this device's secret still its secret — and
//! on the hot paths one read per request was
//! the largest cost (a pool checkout and, on SQLite, a hand-off to its connection thread and
//! back each). Instead, requests hand their key to a few checker tasks; each takes every key
//! waiting at that moment and answers them all with one lookup. Every read still starts after
//! the requests it answers arrived, so a change committed before a request is always seen;
//! under load one read serves hundreds of requests.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;

use docde_store::{Store, StoreError};
use futures::future::BoxFuture;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Keys answered by one read at most.
const MAX_BATCH: usize = 256;
/// Reads in flight at once (each checker runs one at a time).
const CHECKERS: usize = 4;

/// What the database holds for each key found (every key asked at most once; a key not
/// found is left out). A yes/no question answers `()`.
pub type Lookup<K, V> = fn(Store, Vec<K>) -> BoxFuture<'static, Result<HashMap<K, V>, StoreError>>;

/// A key and where to send the answer (`Err`: the shared read failed).
type Ask<K, V> = (K, oneshot::Sender<Result<Option<V>, ()>>);

/// The queue of keys waiting to be looked up, and the lookup.
pub struct BatchedReads<K, V = ()> {
    asks: mpsc::Sender<Ask<K, V>>,
    waiting: Arc<Mutex<mpsc::Receiver<Ask<K, V>>>>,
    lookup: Lookup<K, V>,
}

impl<K, V> Clone for BatchedReads<K, V> {
    fn clone(&self) -> Self {
        Self {
            asks: self.asks.clone(),
            waiting: self.waiting.clone(),
            lookup: self.lookup,
        }
    }
}

impl<K, V> BatchedReads<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    pub fn new(lookup: Lookup<K, V>) -> Self {
        let (asks, waiting) = mpsc::channel(MAX_BATCH * CHECKERS * 8);
        Self {
            asks,
            waiting: Arc::new(Mutex::new(waiting)),
            lookup,
        }
    }

    /// What the database holds for `key`, read after this call began. Falls back to a read
    /// of its own if the checkers are gone (shutting down) or their read failed, so the caller
    /// sees that read's own error.
    pub async fn get(&self, store: &Store, key: K) -> Result<Option<V>, StoreError> {
        let (answer, answered) = oneshot::channel();
        if self.asks.send((key.clone(), answer)).await.is_ok()
            && let Ok(Ok(found)) = answered.await
        {
            return Ok(found);
        }
        let mut found = (self.lookup)(store.clone(), vec![key.clone()]).await?;
        Ok(found.remove(&key))
    }

    /// Whether the database holds `key` (see [`Self::get`]).
    pub async fn contains(&self, store: &Store, key: K) -> Result<bool, StoreError> {
        Ok(self.get(store, key).await?.is_some())
    }

    /// Starts the checkers; they stop at shutdown (requests still waiting then read alone).
    pub fn spawn(&self, store: Store, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let checkers: Vec<_> = (0..CHECKERS)
            .map(|_| {
                let waiting = self.waiting.clone();
                let lookup = self.lookup;
                let store = store.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    loop {
                        let batch = tokio::select! {
                            _ = shutdown.cancelled() => break,
                            batch = take_batch(&waiting) => batch,
                        };
                        let Some(batch) = batch else { break };
                        answer(lookup, &store, batch).await;
                    }
                })
            })
            .collect();
        let waiting = self.waiting.clone();
        tokio::spawn(async move {
            for checker in checkers {
                let _ = checker.await;
            }
            // Nobody answers from here on: refuse new asks, and drop the waiting ones so each
            // of their callers reads alone instead of waiting for ever.
            let mut waiting = waiting.lock().await;
            waiting.close();
            while waiting.try_recv().is_ok() {}
        })
    }
}

/// Waits for one key, then takes every other one already waiting (up to [`MAX_BATCH`]).
async fn take_batch<K, V>(waiting: &Mutex<mpsc::Receiver<Ask<K, V>>>) -> Option<Vec<Ask<K, V>>> {
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

async fn answer<K: Eq + Hash + Clone, V: Clone>(
    lookup: Lookup<K, V>,
    store: &Store,
    batch: Vec<Ask<K, V>>,
) {
    let keys: Vec<K> = {
        let unique: HashSet<&K> = batch.iter().map(|(key, _)| key).collect();
        unique.into_iter().cloned().collect()
    };
    let found = lookup(store.clone(), keys).await.map_err(|_| ());
    for (key, answer) in batch {
        let _ = answer.send(found.as_ref().map(|f| f.get(&key).cloned()).map_err(|_| ()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn halves(
        _: Store,
        keys: Vec<u32>,
    ) -> BoxFuture<'static, Result<HashMap<u32, u32>, StoreError>> {
        Box::pin(async move {
            Ok(keys
                .into_iter()
                .filter(|k| k % 2 == 0)
                .map(|k| (k, k / 2))
                .collect())
        })
    }

    #[tokio::test]
    async fn every_waiting_key_gets_its_own_answer_from_the_shared_read() {
        // The lookup here never reads; a store is only what the fallback path is handed.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&docde_store::DatabaseConfig {
            url: format!("sqlite://{}", dir.path().join("t.db").display()),
            schema: None,
            max_connections: 2,
            acquire_timeout: std::time::Duration::from_secs(5),
        })
        .await
        .unwrap();
        let reads = BatchedReads::new(halves);
        let shutdown = CancellationToken::new();
        let workers = reads.spawn(store.clone(), shutdown.clone());
        let asks: Vec<_> = (0..1000u32)
            .map(|k| {
                let (reads, store) = (reads.clone(), store.clone());
                tokio::spawn(async move { (k, reads.get(&store, k).await.unwrap()) })
            })
            .collect();
        for ask in asks {
            let (k, found) = ask.await.unwrap();
            assert_eq!(found, (k % 2 == 0).then_some(k / 2), "key {k}");
        }
        shutdown.cancel();
        workers.await.unwrap();
        // With the checkers gone, a request still gets its answer by reading alone.
        let alone = async {
            (
                reads.contains(&store, 4).await.unwrap(),
                reads.contains(&store, 5).await.unwrap(),
            )
        };
        let answered = tokio::time::timeout(std::time::Duration::from_secs(10), alone).await;
        assert_eq!(
            answered.ok(),
            Some((true, false)),
            "asks after shutdown are answered"
        );
    }
}
