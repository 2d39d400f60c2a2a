//! Group commit for sample ingest.
//!
//! Bedside devices send many small batches (often one sample each); a durable commit per batch
//! would cap ingest at the disk's fsync rate. [`SampleWriter`] takes every batch waiting at
//! that moment (up to [`MAX_JOBS`]), stores them together set by set (see `ingest`: an unknown
//! device fails alone), marks the minutes their new samples touched for the rollup worker (one
//! sorted pass, see `rollups`), appends all their `vitals` events last (taking the wards' locks
//! in one sorted pass, see `events`), commits once, and only then answers each caller. Nothing is
//! acknowledged before its commit; if the commit fails, every batch of the group gets the error.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use docde_domain::ward::Sample;
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use super::WardError;
use super::samples::{self, Batch, IngestReport};
use crate::{Store, StoreError};

/// The most device batches one commit carries.
pub const MAX_JOBS: usize = 256;

struct Job {
    device_id: Uuid,
    samples: Vec<Sample>,
    now: DateTime<Utc>,
    reply: oneshot::Sender<Result<IngestReport, WardError>>,
}

/// Handle to the group-commit writers; cheap to clone.
#[derive(Clone, Debug)]
pub struct SampleWriter {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("device_id", &self.device_id)
            .field("samples", &self.samples.len())
            .finish()
    }
}

/// The store is gone (or the group's task): what a caller of a group commit gets then.
pub(crate) fn unavailable() -> WardError {
    WardError::Store(StoreError::Unavailable(sqlx::Error::PoolClosed))
}

/// What each caller of a failed group commit gets, one value each (errors are not `Clone`):
/// an unavailable store as such (the caller answers 503), anything else as `what` failed.
pub(crate) fn group_failed(e: &WardError, what: &'static str) -> WardError {
    if matches!(e, WardError::Store(StoreError::Unavailable(_))) {
        unavailable()
    } else {
        WardError::Store(StoreError::Other(sqlx::Error::Protocol(what.into())))
    }
}

impl SampleWriter {
    /// Starts `writers` batch loops on `store` (1 suits SQLite's single writer; PostgreSQL
    /// benefits from a few side by side). They stop when every handle is dropped, after
    /// finishing the groups already taken.
    pub fn spawn(store: Store, writers: usize) -> (Self, Vec<tokio::task::JoinHandle<()>>) {
        let (tx, rx) = mpsc::channel::<Job>(MAX_JOBS * 16);
        let rx = Arc::new(Mutex::new(rx));
        let handles = (0..writers.max(1))
            .map(|_| {
                let store = store.clone();
                let rx = rx.clone();
                tokio::spawn(async move {
                    let mut group = Vec::with_capacity(MAX_JOBS);
                    loop {
                        {
                            let mut rx = rx.lock().await;
                            if rx.recv_many(&mut group, MAX_JOBS).await == 0 {
                                return;
                            }
                        }
                        run_group(&store, &mut group).await;
                    }
                })
            })
            .collect();
        (Self { jobs: tx }, handles)
    }

    /// Stores a device's batch and answers after the commit that made it durable.
    pub async fn ingest(
        &self,
        device_id: Uuid,
        samples: Vec<Sample>,
        now: DateTime<Utc>,
    ) -> Result<IngestReport, WardError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                device_id,
                samples,
                now,
                reply,
            })
            .await
            .map_err(|_| unavailable())?;
        answer.await.map_err(|_| unavailable())?
    }
}

async fn run_group(store: &Store, group: &mut Vec<Job>) {
    // Devices are locked in id order whatever the jobs' order (see `ingest`); answers follow
    // the jobs.
    let batches: Vec<Batch> = group
        .iter()
        .map(|job| Batch {
            device_id: job.device_id,
            samples: &job.samples,
            now: job.now,
        })
        .collect();
    let stored = samples::ingest_group(store, &batches).await;
    drop(batches);
    match stored {
        Ok(answers) => {
            for (job, answer) in group.drain(..).zip(answers) {
                let _ = job.reply.send(answer);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, batches = group.len(), "sample group commit failed");
            for job in group.drain(..) {
                let _ = job
                    .reply
                    .send(Err(group_failed(&e, "sample group commit failed")));
            }
        }
    }
}
