//! The rollup worker: recomputes the 1-minute rollups of minutes that received samples
//! (`docde_store::ward::rollups`, which explains why that is exact with any number of
//! instances). This module only decides *when*: a minute is rolled up once it has been over
//! for [`SETTLE`], so the samples a device sends a little late land before the first
//! recomputation instead of causing a second one. Later samples are still counted: they make
//! their minute pending again.
//!
//! Cost per round: one indexed read of the oldest pending minutes, then per minute one
//! indexed range read of its raw samples (about 60 rows per kind at 1 Hz), one upsert and one
//! delete, in transactions of [`BATCH`] minutes (a few ms of the SQLite writer each).

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use docde_store::StoreError;
use docde_store::ward::rollups::{self, RolledUp};
use tokio::task::JoinHandle;

use crate::state::AppState;

/// How long after its end a minute is left alone before its first rollup.
pub const SETTLE: TimeDelta = TimeDelta::minutes(2);

/// Pending minutes per transaction.
const BATCH: u32 = 256;

/// Runs [`run`] at start and then every `every` until shutdown.
pub fn spawn(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match run(&state, Utc::now()).await {
                Ok(done) if done != RolledUp::default() => {
                    tracing::debug!(
                        minutes = done.minutes,
                        dropped = done.dropped,
                        "ward rollup"
                    );
                    metrics::counter!("ward_rollup_minutes_total").increment(done.minutes);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "ward rollup failed"),
            }
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    })
}

/// Rolls up, as of `now`, every pending minute that ended at least [`SETTLE`] ago, one
/// bounded transaction at a time; stops early at shutdown (the rest stays pending).
pub async fn run(state: &AppState, now: DateTime<Utc>) -> Result<RolledUp, StoreError> {
    let mut total = RolledUp::default();
    loop {
        let done = rollups::roll_up(&state.store, now - SETTLE, BATCH).await?;
        total.minutes += done.minutes;
        total.dropped += done.dropped;
        if done.minutes + done.dropped < u64::from(BATCH) || state.shutdown.is_cancelled() {
            return Ok(total);
        }
    }
}
