//! The alarm limits in force for a patient: the defaults, then the ward's overrides, then the
//! patient's (admission's), merged and checked ([`Thresholds::merge`]). The overrides live in
//! the database (`docde_store::ward::thresholds`); this module keeps a per-instance cache so
//! that evaluating a sample costs no extra query.
//!
//! Freshness, with N instances: a write forgets the entry on the writing instance at once and
//! publishes the changed id on the bus topic [`TOPIC`]; every instance (this one included)
//! forgets it on receipt, so the next sample anywhere is judged by the new limits as soon as
//! the bus delivered the notice (milliseconds). Entries are also re-read after [`TTL`]
//! regardless, so a lost notice (Redis restarting) delays a change by at most that long; a
//! lagging subscriber forgets everything. The cache only saves reads: the database is the
//! truth and nothing breaks if the bus is down.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use docde_bus::Message;
use docde_domain::ward::alarm::{ThresholdOverrides, Thresholds};
use docde_store::Store;
use docde_store::ward::WardError;
use docde_store::ward::thresholds as stored;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::state::AppState;

/// Bus topic of "the overrides of this ward or admission changed" (payload: its id).
pub const TOPIC: &str = "ward:thresholds";
/// How long a cached entry is trusted without a notice.
pub const TTL: Duration = Duration::from_secs(5);

/// Overrides by ward or admission id (the ids are UUIDv7 and never shared between the two).
#[derive(Debug, Default)]
pub struct ThresholdCache {
    entries: Mutex<HashMap<Uuid, (Instant, ThresholdOverrides)>>,
}

impl ThresholdCache {
    fn cached(&self, id: Uuid) -> Option<ThresholdOverrides> {
        let entries = self.entries.lock().ok()?;
        let (at, overrides) = entries.get(&id)?;
        (at.elapsed() < TTL).then(|| overrides.clone())
    }

    fn keep(&self, id: Uuid, overrides: ThresholdOverrides) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(id, (Instant::now(), overrides));
        }
    }

    /// Drops the entry of a ward or admission whose overrides changed.
    pub fn forget(&self, id: Uuid) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&id);
        }
    }

    fn forget_all(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    async fn ward(&self, store: &Store, ward_id: Uuid) -> Result<ThresholdOverrides, WardError> {
        if let Some(hit) = self.cached(ward_id) {
            return Ok(hit);
        }
        let overrides = stored::of_ward(store, ward_id)
            .await?
            .map(|s| s.value)
            .unwrap_or_default();
        self.keep(ward_id, overrides.clone());
        Ok(overrides)
    }

    async fn admission(
        &self,
        store: &Store,
        admission_id: Uuid,
    ) -> Result<ThresholdOverrides, WardError> {
        if let Some(hit) = self.cached(admission_id) {
            return Ok(hit);
        }
        let overrides = stored::of_admission(store, admission_id)
            .await?
            .map(|s| s.value)
            .unwrap_or_default();
        self.keep(admission_id, overrides.clone());
        Ok(overrides)
    }
}

/// The limits for a patient of `ward_id` (or an empty bed when `admission_id` is `None`).
///
/// Every write is checked against the other level, so the merge fails only if a ward and a
/// patient change raced each other; the patient's overrides are then set aside (and the fact
/// logged by id) rather than evaluating with crossed limits or with none.
pub async fn limits(
    state: &AppState,
    ward_id: Uuid,
    admission_id: Option<Uuid>,
) -> Result<Thresholds, WardError> {
    let cache = &state.ward.limits;
    let defaults = &state.ward.thresholds;
    let ward = cache.ward(&state.store, ward_id).await?;
    let patient = match admission_id {
        Some(a) => cache.admission(&state.store, a).await?,
        None => ThresholdOverrides::default(),
    };
    match Thresholds::merge(defaults, &ward, &patient) {
        Ok(t) => Ok(t),
        Err(problem) => {
            tracing::warn!(%ward_id, ?admission_id, code = problem.code(),
                "stored threshold overrides do not merge; using the ward's alone");
            Ok(
                Thresholds::merge(defaults, &ward, &ThresholdOverrides::default())
                    .unwrap_or_else(|_| defaults.clone()),
            )
        }
    }
}

/// Tells every instance that the overrides of `id` (a ward or an admission) changed.
pub async fn changed(state: &AppState, id: Uuid) {
    state.ward.limits.forget(id);
    if let Err(e) = state.bus.publish(TOPIC, id.to_string()).await {
        tracing::warn!(error = %e, %id, "could not publish a threshold change; peers re-read within the TTL");
    }
}

/// Applies threshold-change notices to this instance's cache until shutdown.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    let mut notices = state.bus.subscribe(TOPIC);
    tokio::spawn(async move {
        loop {
            let message = tokio::select! {
                _ = state.shutdown.cancelled() => return,
                m = notices.recv() => m,
            };
            match message {
                Some(Message::Data(bytes)) => {
                    match std::str::from_utf8(&bytes)
                        .ok()
                        .and_then(|s| s.parse().ok())
                    {
                        Some(id) => state.ward.limits.forget(id),
                        None => state.ward.limits.forget_all(),
                    }
                }
                Some(Message::Lagged(_)) => state.ward.limits.forget_all(),
                None => return,
            }
        }
    })
}
