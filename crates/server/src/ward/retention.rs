//! Retention of ward data: raw vital samples are kept `ward.raw_retention_days` (default 7),
//! their 1-minute rollups `ward.rollup_retention_days` (default 365) and the ward event log
//! `ward.event_retention_days` (default 30, never less than a day, so a reconnecting nurse
//! station can always replay the last 24 h); escalation-webhook posts and web push messages
//! that were delivered or given up go with the events. Alarms, their lifecycle notes and
//! admissions are the clinical record and are never swept.
//!
//! Raw samples are only deleted below the store's raw boundary (`rollups::hold_raw_from`),
//! which never passes a minute still waiting for its rollup: a stopped rollup worker delays
//! the raw sweep rather than losing history.
//!
//! Safe with any number of instances and without a lease: a sweep is a bounded `DELETE` of
//! rows older than a cut-off, so two instances sweeping at once delete each row once between
//! them, and an instance that dies mid-sweep leaves the rest for the next round.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use docde_store::StoreError;
use docde_store::ward::{events, push, rollups, samples, webhooks};
use tokio::task::JoinHandle;

use crate::state::AppState;

/// Rows deleted per statement: small enough that a sweep never holds the SQLite writer for
/// long (ingest shares it), large enough to catch up after a long pause.
const CHUNK: u32 = 5_000;

/// Runs [`sweep`] at start and then every `every` until shutdown.
pub fn spawn(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match sweep(&state, Utc::now()).await {
                Ok(swept) if swept != Swept::default() => {
                    tracing::info!(
                        samples = swept.samples,
                        rollups = swept.rollups,
                        events = swept.events,
                        deliveries = swept.deliveries,
                        "ward retention sweep"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "ward retention sweep failed"),
            }
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    })
}

/// What one sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub samples: u64,
    pub rollups: u64,
    pub events: u64,
    /// Escalation-webhook posts and web push messages delivered or given up.
    pub deliveries: u64,
}

/// Deletes, as of `now`, every raw sample (whose minute is rolled up), rollup and ward event
/// past its retention.
pub async fn sweep(state: &AppState, now: DateTime<Utc>) -> Result<Swept, StoreError> {
    let settings = &state.config.ward;
    let raw_cutoff = now - TimeDelta::days(i64::from(settings.raw_retention_days.max(1)));
    let rollup_cutoff = now
        - TimeDelta::days(i64::from(
            settings
                .rollup_retention_days
                .max(settings.raw_retention_days)
                .max(1),
        ));
    let event_cutoff = now - TimeDelta::days(i64::from(settings.event_retention_days.max(1)));
    let mut swept = Swept::default();
    let raw_cutoff = rollups::hold_raw_from(&state.store, raw_cutoff).await?;
    loop {
        let n = samples::delete_before(&state.store, raw_cutoff, CHUNK).await?;
        swept.samples += n;
        if n < u64::from(CHUNK) || state.shutdown.is_cancelled() {
            break;
        }
    }
    loop {
        let n = rollups::delete_before(&state.store, rollup_cutoff, CHUNK).await?;
        swept.rollups += n;
        if n < u64::from(CHUNK) || state.shutdown.is_cancelled() {
            break;
        }
    }
    loop {
        let n = events::delete_before(&state.store, event_cutoff, CHUNK).await?;
        swept.events += n;
        if n < u64::from(CHUNK) || state.shutdown.is_cancelled() {
            break;
        }
    }
    // Outgoing deliveries are kept as long as the events they announced; pending ones stay.
    loop {
        let n = webhooks::delete_settled_before(&state.store, event_cutoff, CHUNK).await?
            + push::delete_settled_before(&state.store, event_cutoff, CHUNK).await?;
        swept.deliveries += n;
        if n < u64::from(CHUNK) || state.shutdown.is_cancelled() {
            break;
        }
    }
    Ok(swept)
}
