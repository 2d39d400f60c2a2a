//! Moves SQLite's write-ahead log into the database file off the writer's path.
//!
//! Every commit appends to the log; SQLite itself copies the log into the database file
//! (a checkpoint, with an fsync) inside whichever commit crosses the log's size limit, on the
//! single writer connection, and every commit queued behind that one waits for it: a stall of
//! tens of milliseconds, about once a second under bedside ingest. This worker checkpoints
//! every [`EVERY`] on a connection of its own instead, so the writer only appends (the writer's
//! own limit stays as a backstop, see `docde_store`). Nothing to do on PostgreSQL.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::state::AppState;

/// How often the log is copied: short enough that the log stays far below the writer's
/// backstop even at full ingest (about 1,000 pages per second per 6,000 samples).
pub const EVERY: Duration = Duration::from_millis(100);

/// Checkpoints every [`EVERY`] until shutdown; returns at once on PostgreSQL.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Logged once per run of failures, not every 100 ms.
        let mut failing = false;
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            match state.store.checkpoint().await {
                Ok(None) => return,
                Ok(Some(_)) => failing = false,
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "WAL checkpoint failed; the writer's own checkpoints still bound the log");
                    }
                    failing = true;
                }
            }
        }
    })
}
