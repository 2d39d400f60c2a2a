//! Group commit for sample ingest.
//!
//! Bedside devices send many small batches (often one sample each); a durable commit per batch
//! would cap ingest at the disk's fsync rate. [`SampleWriter`] takes every batch waiting at
//! that moment (up to [`MAX_JOBS`]), stores each inside its own savepoint (an unknown device
//! fails alone), marks the minutes their new samples touched for the rollup worker (one sorted
//! pass, see `rollups`), appends all their `vitals` events last (taking the wards' locks in one
//! sorted pass, see `events`), commits once, and only then answers each caller. Nothing is
//! acknowledged before its commit; if the commit fails, every batch of the group gets the error.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use docde_domain::ward::Sample;
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use super::WardError;
use super::events::{NewEvent, append_events};
use super::rollups::{self, PendingKey, mark_pending};
use super::samples::{IngestReport, ingest_one};
use crate::{Store, StoreError, with_writer};

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

fn unavailable() -> WardError {
    WardError::Store(StoreError::Unavailable(sqlx::Error::PoolClosed))
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
    let postgres = store.dialect() == "postgres";
    // Each batch locks its device's row first (last-seen): in device order, two PostgreSQL
    // writers whose groups share devices lock them in the same order and cannot deadlock
    // (they did, once MQTT delivered many devices' messages at once). Answers follow the
    // jobs, so the order is free to choose.
    group.sort_by_key(|job| job.device_id);
    // Per job: its outcome, and how many of the group's events are its (in job order).
    let mut outcomes: Vec<Result<(Vec<super::samples::Stored>, usize), WardError>> =
        Vec::with_capacity(group.len());
    let mut events: Vec<NewEvent> = Vec::new();
    let mut pending: Vec<PendingKey> = Vec::new();
    let mut event_ids: Vec<i64> = Vec::new();
    let committed: Result<(), WardError> = with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        for job in group.iter() {
            sqlx::query("SAVEPOINT ingest").execute(&mut *tx).await?;
            let outcome = ingest_one!(tx, job.device_id, &job.samples, job.now).await;
            match outcome {
                Ok((results, mut new_events, mut new_pending)) => {
                    outcomes.push(Ok((results, new_events.len())));
                    events.append(&mut new_events);
                    pending.append(&mut new_pending);
                }
                Err(e) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT ingest").execute(&mut *tx).await?;
                    outcomes.push(Err(e));
                }
            }
            sqlx::query("RELEASE SAVEPOINT ingest").execute(&mut *tx).await?;
        }
        rollups::settle_keys(&mut pending);
        mark_pending!(tx, &pending).await?;
        event_ids = append_events!(tx, postgres, &events).await?;
        tx.commit().await?;
        Ok(())
    }.await);
    match committed {
        Ok(()) => {
            let mut ids = event_ids.into_iter();
            let mut wards = events.iter().map(|e| e.ward_id);
            for (job, outcome) in group.drain(..).zip(outcomes) {
                let answer = outcome.map(|(results, n)| IngestReport {
                    results,
                    event_ids: ids.by_ref().take(n).collect(),
                    wards: wards.by_ref().take(n).collect(),
                });
                let _ = job.reply.send(answer);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, batches = group.len(), "sample group commit failed");
            let is_unavailable = matches!(&e, WardError::Store(StoreError::Unavailable(_)));
            for job in group.drain(..) {
                let error = if is_unavailable {
                    unavailable()
                } else {
                    WardError::Store(StoreError::Other(sqlx::Error::Protocol(
                        "sample group commit failed".into(),
                    )))
                };
                let _ = job.reply.send(Err(error));
            }
        }
    }
}
