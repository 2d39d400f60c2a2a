//! Shared line snapshots: one per department line and one per waiting-room line, per
//! instance, however many people watch.
//!
//! Fan-out stays cheap because a change is read once, not once per watcher: a refresher task
//! (alive while anyone watches) re-reads the line when the bus says it changed — at most every
//! [`DEBOUNCE`], and every [`REFRESH`] anyway in case a wake-up was lost — and publishes the
//! result on a `tokio::sync::watch` channel. Each watcher derives its own position from the
//! sorted list by binary search. `watch` keeps only the latest value, so a slow watcher skips
//! intermediate states instead of queueing them: the slow-consumer policy is "see the newest".

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use docde_domain::reception::{estimate_wait_secs, local_day, typical_consultation_secs};
use docde_store::reception::admission;
use docde_store::reception::line::{self, LineSnapshot};
use tokio::sync::watch;
use uuid::Uuid;

use crate::state::AppState;

/// The shortest pause between two reads of one line.
const DEBOUNCE: Duration = Duration::from_millis(100);
/// A line is re-read this often even without a wake-up.
const REFRESH: Duration = Duration::from_millis(500);

/// A department's line as last read.
#[derive(Debug, Clone, Default)]
pub struct DeptLine {
    pub loaded: bool,
    pub day: Option<NaiveDate>,
    pub snapshot: LineSnapshot,
    /// The waiting visits' queue orders, sorted.
    pub orders: Vec<i64>,
    /// Typical consultation seconds and doctors seeing the line.
    pub typical_secs: u64,
    pub doctors: u64,
    pub as_of: Option<DateTime<Utc>>,
}

impl DeptLine {
    /// Position, people ahead and estimated wait of a waiting visit with `order`.
    pub fn place(&self, order: i64) -> Option<(u64, u64, u64)> {
        let (position, ahead) = docde_domain::reception::position_in(&self.orders, order)?;
        Some((
            position,
            ahead,
            estimate_wait_secs(ahead, self.typical_secs, self.doctors),
        ))
    }
}

/// A waiting-room line as last read.
#[derive(Debug, Clone, Default)]
pub struct TicketLine {
    pub loaded: bool,
    /// Queued tickets' seqs, sorted.
    pub seqs: Vec<i64>,
    /// The highest seq that existed before `seqs` was read: a ticket at or below it that is
    /// not in `seqs` is (very probably — confirm in the database) done.
    pub high: i64,
}

impl TicketLine {
    /// Position and tickets ahead of a queued `seq` (an estimate if the ticket is newer than
    /// this read).
    pub fn place(&self, seq: i64) -> (u64, u64) {
        let ahead = self.seqs.partition_point(|s| *s < seq) as u64;
        (ahead + 1, ahead)
    }

    pub fn seems_done(&self, seq: i64) -> bool {
        seq <= self.high && self.seqs.binary_search(&seq).is_err()
    }
}

/// Whether a fresh read says anything new (watchers are only woken when it does; their
/// one-second heartbeat covers the rest).
pub trait Changed {
    fn differs_from(&self, old: &Self) -> bool;
}

impl Changed for DeptLine {
    fn differs_from(&self, old: &Self) -> bool {
        !old.loaded
            || self.day != old.day
            || self.snapshot.last_event_id != old.snapshot.last_event_id
            || self.orders != old.orders
    }
}

impl Changed for TicketLine {
    fn differs_from(&self, old: &Self) -> bool {
        !old.loaded || self.seqs != old.seqs
    }
}

type DeptKey = (Uuid, String);
type Shared<K, T> = Arc<Mutex<HashMap<K, watch::Sender<Arc<T>>>>>;

#[derive(Default)]
pub struct Lines {
    departments: Shared<DeptKey, DeptLine>,
    tickets: Shared<Uuid, TicketLine>,
}

/// The bus topic a waiting-room line's changes are announced on.
pub fn ticket_line_topic(hospital_id: Uuid) -> String {
    format!("reception-waiting-room:{hospital_id}")
}

impl Lines {
    /// Watches a department's line (today in `tz`, judged at every read).
    pub fn department(
        &self,
        state: &AppState,
        hospital_id: Uuid,
        department: &str,
        tz: chrono_tz::Tz,
    ) -> watch::Receiver<Arc<DeptLine>> {
        let key = (hospital_id, department.to_owned());
        let topic = super::line_topic(hospital_id, department);
        let department = department.to_owned();
        watch_shared(&self.departments, key, state, topic, move |state| {
            let department = department.clone();
            async move {
                let now = state.reception.clock.now();
                let day = local_day(now, tz);
                let snapshot =
                    line::snapshot(&state.store, hospital_id, &department, day, now).await?;
                let orders = snapshot.waiting.iter().map(|(o, _)| *o).collect();
                Ok(DeptLine {
                    loaded: true,
                    day: Some(day),
                    typical_secs: typical_consultation_secs(&snapshot.recent_consultations),
                    doctors: snapshot.doctors,
                    orders,
                    snapshot,
                    as_of: Some(now),
                })
            }
        })
    }

    /// Watches a hospital's waiting-room line for check-ins.
    pub fn tickets(&self, state: &AppState, hospital_id: Uuid) -> watch::Receiver<Arc<TicketLine>> {
        let topic = ticket_line_topic(hospital_id);
        watch_shared(
            &self.tickets,
            hospital_id,
            state,
            topic,
            move |state| async move {
                let high = admission::high_seq(&state.store).await?;
                let seqs =
                    admission::queued_seqs(&state.store, admission::CHECK_IN, hospital_id).await?;
                Ok(TicketLine {
                    loaded: true,
                    seqs,
                    high,
                })
            },
        )
    }
}

/// Hands out a receiver of the shared snapshot for `key`, starting its refresher if nobody
/// watched it yet. The refresher stops (and forgets the key) once the last receiver is gone.
fn watch_shared<K, T, F, Fut>(
    map: &Shared<K, T>,
    key: K,
    state: &AppState,
    topic: String,
    read: F,
) -> watch::Receiver<Arc<T>>
where
    K: Eq + Hash + Clone + Send + 'static,
    T: Default + Changed + Send + Sync + 'static,
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, docde_store::StoreError>> + Send,
{
    let mut guard = map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(tx) = guard.get(&key) {
        return tx.subscribe();
    }
    let (tx, rx) = watch::channel(Arc::new(T::default()));
    guard.insert(key.clone(), tx.clone());
    drop(guard);
    let state = state.clone();
    let map = map.clone();
    // Subscribed before the first read, so a change in between is not missed.
    let mut wake = state.bus.subscribe(&topic);
    tokio::spawn(async move {
        loop {
            match read(state.clone()).await {
                Ok(value) => {
                    tx.send_if_modified(|old| {
                        let differs = value.differs_from(old);
                        if differs {
                            *old = Arc::new(value);
                        }
                        differs
                    });
                }
                Err(e) => tracing::warn!(error = %e, "reading a reception line failed; retrying"),
            }
            tokio::select! {
                _ = state.shutdown.cancelled() => break,
                _ = wake.recv() => {}
                _ = tokio::time::sleep(REFRESH) => {}
            }
            tokio::time::sleep(DEBOUNCE).await;
            // Under the map's lock, so no receiver can be handed out between the check and
            // the removal.
            let mut guard = map.lock().unwrap_or_else(|e| e.into_inner());
            if tx.receiver_count() == 0 {
                guard.remove(&key);
                break;
            }
        }
        let mut guard = map.lock().unwrap_or_else(|e| e.into_inner());
        if guard.get(&key).is_some_and(|t| t.same_channel(&tx)) {
            guard.remove(&key);
        }
    });
    rx
}
