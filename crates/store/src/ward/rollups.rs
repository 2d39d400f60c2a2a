//! 1-minute rollups of vital samples (min, max, sum, count per admission, kind and minute):
//! what the history reads once raw samples are swept, and reads cheaply before that.
//!
//! How a rollup stays exact (schema and reasons in `migrations/*/0011_ward_rollups.sql`):
//! ingest marks each new sample's (admission, kind, minute) *pending* in the sample's own
//! transaction ([`mark_pending`]); [`roll_up`] recomputes pending minutes from the raw
//! samples and deletes their pending rows in one transaction. A rollup is always replaced by
//! a recomputation, never incremented, so running it twice (two instances, a retry after a
//! crash) cannot double-count, and a pending row only goes away with the commit that covered
//! it, so no minute is skipped. A sample that arrives after its minute was rolled up makes the
//! minute pending again.
//!
//! Safe with any number of instances: on PostgreSQL the worker claims pending rows with
//! `FOR UPDATE SKIP LOCKED`, and ingest *locks* an existing pending row (an upsert that never
//! updates) instead of ignoring it. So an ingest that commits while a worker holds the row
//! waits for that worker, then re-inserts the row the worker deleted; a row an ingest holds is
//! skipped by workers until the next round. SQLite's single writer serialises both.
//!
//! This module must not decide *when* (the settle delay, the retention periods): the server's
//! workers pass the instants in.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::ward::VitalKind;
use uuid::Uuid;

use super::samples::Bucket;
use super::{from_micros, micros};
use crate::{Store, StoreError, with_reader, with_writer};

/// A minute in Unix microseconds.
pub const MINUTE_MICROS: i64 = 60_000_000;

/// The start of the minute holding `us` (Unix microseconds).
pub(crate) fn minute_of(us: i64) -> i64 {
    us.div_euclid(MINUTE_MICROS) * MINUTE_MICROS
}

/// A minute whose rollup is out of date: (admission id, kind code, minute start in µs).
pub(crate) type PendingKey = (String, String, i64);

/// Marks `keys` pending on `$conn`, inside the ingest transaction, with one statement (the
/// keys travel as one JSON array); call it once per commit with every batch's keys, sorted
/// (PostgreSQL writers then lock pending rows in one order and cannot deadlock on them).
/// Evaluates to `Result<(), sqlx::Error>`.
///
/// `DO UPDATE … WHERE false` writes nothing but *locks* an existing row (PostgreSQL locks
/// every conflicting row an `ON CONFLICT DO UPDATE` considers). `DO NOTHING` would not, and
/// would lose a sample committed between a worker's recomputation and its delete of the row.
macro_rules! mark_pending {
    ($conn:expr, $postgres:expr, $keys:expr) => {
        async {
            let keys: &[$crate::ward::rollups::PendingKey] = $keys;
            if keys.is_empty() {
                return Ok(());
            }
            let json = serde_json::to_string(keys).map_err(|e| sqlx::Error::Encode(e.into()))?;
            let sql = if $postgres {
                $crate::ward::rollups::MARK_PENDING_POSTGRES
            } else {
                $crate::ward::rollups::MARK_PENDING_SQLITE
            };
            sqlx::query(sql).bind(json).execute(&mut *$conn).await?;
            Ok::<(), sqlx::Error>(())
        }
    };
}
pub(crate) use mark_pending;

pub(crate) const MARK_PENDING_SQLITE: &str = "INSERT INTO vital_rollup_pending \
     (admission_id, kind, minute) \
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2 FROM jsonb_each($1) j \
     WHERE true ORDER BY j.key \
     ON CONFLICT (admission_id, kind, minute) DO UPDATE SET minute = excluded.minute WHERE false";
pub(crate) const MARK_PENDING_POSTGRES: &str = "INSERT INTO vital_rollup_pending \
     (admission_id, kind, minute) \
     SELECT e ->> 0, e ->> 1, (e ->> 2)::bigint \
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n) ORDER BY n \
     ON CONFLICT (admission_id, kind, minute) DO UPDATE SET minute = excluded.minute WHERE false";

/// Sorts and de-duplicates pending keys (the lock order of [`mark_pending`]).
pub(crate) fn settle_keys(keys: &mut Vec<PendingKey>) {
    keys.sort();
    keys.dedup();
}

/// What one [`roll_up`] call did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RolledUp {
    /// Minutes recomputed from raw samples.
    pub minutes: u64,
    /// Pending minutes older than the kept raw samples (a sample that arrived after its
    /// minute's raw retention): dropped, their rollup left as it was.
    pub dropped: u64,
}

const RECOMPUTE_SQL: &str = "INSERT INTO vital_rollups \
     (admission_id, kind, minute, min_value, max_value, sum_value, sample_count) \
     SELECT admission_id, kind, $3, MIN(value), MAX(value), SUM(value), COUNT(*) \
     FROM vital_samples WHERE admission_id = $1 AND kind = $2 \
     AND measured_at >= $3 AND measured_at < $4 GROUP BY admission_id, kind \
     ON CONFLICT (admission_id, kind, minute) DO UPDATE SET \
     min_value = excluded.min_value, max_value = excluded.max_value, \
     sum_value = excluded.sum_value, sample_count = excluded.sample_count";

/// Recomputes up to `limit` pending minutes that ended before `settled_before`, oldest
/// first, in one transaction. Cost per minute: one indexed range read of that minute's raw
/// samples (`vital_samples_admission`), one upsert, one delete.
pub async fn roll_up(
    store: &Store,
    settled_before: DateTime<Utc>,
    limit: u32,
) -> Result<RolledUp, StoreError> {
    let postgres = store.dialect() == "postgres";
    // The minute must have *ended* before the settle instant.
    let below = minute_of(micros(settled_before)) - MINUTE_MICROS + 1;
    let claim = if postgres {
        "SELECT admission_id, kind, minute FROM vital_rollup_pending WHERE minute < $1 \
         ORDER BY minute, admission_id, kind LIMIT $2 FOR UPDATE SKIP LOCKED"
    } else {
        "SELECT admission_id, kind, minute FROM vital_rollup_pending WHERE minute < $1 \
         ORDER BY minute, admission_id, kind LIMIT $2"
    };
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let claimed: Vec<PendingKey> = sqlx::query_as(claim)
            .bind(below)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        let mut done = RolledUp::default();
        if claimed.is_empty() {
            tx.rollback().await?;
            return Ok(done);
        }
        // Read after the claim: the sweep never moves it past a pending row (these are).
        let kept_from: i64 =
            sqlx::query_scalar("SELECT raw_kept_from FROM vital_rollup_state WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        for (admission, kind, minute) in &claimed {
            if *minute >= kept_from {
                sqlx::query(RECOMPUTE_SQL)
                    .bind(admission)
                    .bind(kind)
                    .bind(*minute)
                    .bind(*minute + MINUTE_MICROS)
                    .execute(&mut *tx)
                    .await?;
                done.minutes += 1;
            } else {
                done.dropped += 1;
            }
            sqlx::query(
                "DELETE FROM vital_rollup_pending \
                 WHERE admission_id = $1 AND kind = $2 AND minute = $3",
            )
            .bind(admission)
            .bind(kind)
            .bind(*minute)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(done)
    })
}

/// Moves the raw-retention boundary to `cutoff` (rounded down to its minute), but never past
/// the oldest pending minute and never backwards, and returns the boundary now in force: raw
/// samples before it may be deleted, because every minute before it is rolled up.
pub async fn hold_raw_from(
    store: &Store,
    cutoff: DateTime<Utc>,
) -> Result<DateTime<Utc>, StoreError> {
    let wanted = minute_of(micros(cutoff));
    let kept_from: i64 = with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let oldest: Option<i64> =
            sqlx::query_scalar("SELECT MIN(minute) FROM vital_rollup_pending")
                .fetch_one(&mut *tx)
                .await?;
        let target = oldest.map_or(wanted, |o| o.min(wanted));
        // Conditional: two sweeps at once (or a slower clock) never move it back.
        sqlx::query(
            "UPDATE vital_rollup_state SET raw_kept_from = $1 WHERE id = 1 AND raw_kept_from < $1",
        )
        .bind(target)
        .execute(&mut *tx)
        .await?;
        let now_kept: i64 =
            sqlx::query_scalar("SELECT raw_kept_from FROM vital_rollup_state WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        now_kept
    });
    Ok(from_micros(kept_from))
}

/// Deletes rollups of minutes before `cutoff` (retention), at most `limit` per call.
pub async fn delete_before(
    store: &Store,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<u64, StoreError> {
    super::delete_oldest(
        store,
        "vital_rollups",
        "admission_id, kind, minute",
        "minute",
        cutoff,
        limit,
    )
    .await
}

/// One stored rollup.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollup {
    pub minute: DateTime<Utc>,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub count: i64,
}

/// The admission's rollups of one kind for minutes in `[from, to)`, oldest first.
pub async fn of_admission(
    store: &Store,
    admission: Uuid,
    kind: VitalKind,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Rollup>, StoreError> {
    let rows: Vec<(i64, f64, f64, f64, i64)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT minute, min_value, max_value, sum_value, sample_count FROM vital_rollups \
             WHERE admission_id = $1 AND kind = $2 AND minute >= $3 AND minute < $4 \
             ORDER BY minute",
        )
        .bind(admission.to_string())
        .bind(kind.code())
        .bind(micros(from))
        .bind(micros(to))
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(minute, min, max, sum, count)| Rollup {
            minute: from_micros(minute),
            min,
            max,
            sum,
            count,
        })
        .collect())
}

/// How many minutes are pending (a gauge for operators, and tests).
pub async fn pending_count(store: &Store) -> Result<u64, StoreError> {
    let n: i64 = with_reader!(store, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM vital_rollup_pending")
            .fetch_one(pool)
            .await?
    });
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Accumulates buckets from several sources (rollups, raw samples) by start.
#[derive(Default)]
struct Merge(BTreeMap<i64, (f64, f64, f64, i64)>);

impl Merge {
    fn add(&mut self, rows: Vec<(i64, f64, f64, f64, i64)>) {
        for (start, min, max, sum, count) in rows {
            let slot = self.0.entry(start).or_insert((min, max, 0.0, 0));
            slot.0 = slot.0.min(min);
            slot.1 = slot.1.max(max);
            slot.2 += sum;
            slot.3 += count;
        }
    }

    fn into_buckets(self, limit: u32) -> Vec<Bucket> {
        self.0
            .into_iter()
            .take(limit as usize)
            .map(|(start, (min, max, sum, count))| Bucket {
                start: from_micros(start),
                min,
                max,
                // `count` is at least 1: every source row summarises at least one sample.
                mean: sum / count as f64,
                count,
            })
            .collect()
    }
}

const RAW_BUCKETS_SQL: &str = "SELECT (measured_at / $3) * $3, MIN(value), MAX(value), \
     SUM(value), COUNT(*) FROM vital_samples WHERE admission_id = $1 AND kind = $2 \
     AND measured_at >= $4 AND measured_at < $5 GROUP BY 1 ORDER BY 1 LIMIT $6";

const ROLLUP_BUCKETS_SQL: &str = "SELECT (minute / $3) * $3, MIN(min_value), MAX(max_value), \
     SUM(sum_value), CAST(SUM(sample_count) AS BIGINT) FROM vital_rollups \
     WHERE admission_id = $1 AND kind = $2 AND minute >= $4 AND minute < $5 \
     GROUP BY 1 ORDER BY 1 LIMIT $6";

/// Like [`super::samples::downsampled`] for one admission, but whole minutes that are rolled
/// up are read from the rollups, so the answer survives the raw samples' retention and a long
/// range reads one row per minute instead of every sample. [`downsampled_stays`] for several.
pub async fn downsampled(
    store: &Store,
    admission: Uuid,
    kind: VitalKind,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    resolution: TimeDelta,
    limit: u32,
) -> Result<Vec<Bucket>, StoreError> {
    downsampled_stays(store, &[admission], kind, from, to, resolution, limit).await
}

/// One series over several admissions (a patient's stays, e.g. before and after a transfer):
/// each stay's rollups and raw samples are merged into the same buckets, so a bucket that spans
/// a transfer counts the samples of both stays (min of mins, max of maxes, weighted mean).
///
/// Only when the bucket width is a whole number of minutes does it read rollups (else: raw
/// samples only). Per stay, the range splits into the partial minute at `from` (raw), whole
/// minutes up to that stay's oldest pending minute of that kind (rollups), and the rest (raw:
/// recent or late samples not rolled up yet). Everything is read in one snapshot, so a rollup
/// committed meanwhile is neither missed nor counted twice. A partial minute at either end
/// whose raw samples were swept contributes nothing: rollups are never split.
pub async fn downsampled_stays(
    store: &Store,
    admissions: &[Uuid],
    kind: VitalKind,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    resolution: TimeDelta,
    limit: u32,
) -> Result<Vec<Bucket>, StoreError> {
    if admissions.is_empty() {
        return Ok(Vec::new());
    }
    let width = resolution
        .num_microseconds()
        .unwrap_or(i64::MAX)
        .max(1_000_000);
    let raw_only = width % MINUTE_MICROS != 0;
    let postgres = store.dialect() == "postgres";
    let (from, to) = (micros(from), micros(to));
    let first_whole = minute_of(from + MINUTE_MICROS - 1);
    let last_whole_end = minute_of(to);
    let limit = i64::from(limit);
    let mut merge = Merge::default();
    with_reader!(store, pool => {
        let mut tx = pool.begin().await?;
        if postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        for admission in admissions {
            let admission = admission.to_string();
            // Which table answers which part of the range.
            let reads = if raw_only {
                vec![(RAW_BUCKETS_SQL, from, to)]
            } else {
                // Pending minutes older than the kept raw samples are about to be dropped;
                // they do not stop rollups from being read (there is no raw to read instead).
                let pending: Option<i64> = sqlx::query_scalar(
                    "SELECT MIN(p.minute) FROM vital_rollup_pending p, vital_rollup_state s \
                     WHERE s.id = 1 AND p.admission_id = $1 AND p.kind = $2 \
                     AND p.minute >= s.raw_kept_from AND p.minute >= $3",
                )
                .bind(&admission)
                .bind(kind.code())
                .bind(first_whole)
                .fetch_one(&mut *tx)
                .await?;
                let rolled_end = pending.map_or(last_whole_end, |p| p.min(last_whole_end));
                if first_whole < rolled_end {
                    vec![
                        (ROLLUP_BUCKETS_SQL, first_whole, rolled_end),
                        (RAW_BUCKETS_SQL, from, first_whole),
                        (RAW_BUCKETS_SQL, rolled_end, to),
                    ]
                } else {
                    vec![(RAW_BUCKETS_SQL, from, to)]
                }
            };
            for (sql, start, end) in reads {
                if start >= end {
                    continue;
                }
                let rows: Vec<(i64, f64, f64, f64, i64)> = sqlx::query_as(sql)
                    .bind(&admission)
                    .bind(kind.code())
                    .bind(width)
                    .bind(start)
                    .bind(end)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                merge.add(rows);
            }
        }
        tx.rollback().await?;
    });
    // Each source gave its first `limit` buckets, so the first `limit` of the union are exact.
    Ok(merge.into_buckets(u32::try_from(limit).unwrap_or(u32::MAX)))
}
