//! Storing device batches: a group of them (one device's batch, or the group commit's many) in
//! one transaction with the same handful of statements whatever the group's size.
//!
//! Each statement is a round trip to the database — on SQLite a hop to the connection's
//! thread and back to a runtime busy with HTTP — of ~0.1 ms under load. Stored batch by batch,
//! the one writer spent ~7 of them per batch, which held one-sample-per-request ingest at
//! ~1,450 requests/s on this machine however many batches a group carried (the fsyncs were
//! already shared: 28 in 2 s). So a group is stored set by set:
//!
//! 1. mark every device seen, which is also the check that it exists and is not revoked (an
//!    unknown or revoked device fails alone, the others are stored);
//! 2. read every device's beds, and the stays in them, over the group's span;
//! 3. insert all samples (`ON CONFLICT DO NOTHING RETURNING`: the first of equal keys wins,
//!    the rest are duplicates, within the group as across groups);
//! 4. move `latest_vitals` forward, newest per (patient, kind).
//!
//! The `vitals` events and the minutes to roll up again are returned, not written, so the
//! caller writes all of them last in one sorted pass (lock order, see `events`, `rollups`).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use docde_domain::ward::{Sample, VitalKind};
use uuid::Uuid;

use super::WardError;
use super::events::NewEvent;
use super::samples::{Attribution, PlacementRow, Stored, attribute, split_placements};
use super::stored;
use crate::accounts::stamp;

/// One device's batch in a group.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    pub device_id: Uuid,
    pub samples: &'a [Sample],
    pub now: DateTime<Utc>,
}

/// What became of one batch: its samples' fates and its `vitals` events, or why it was refused.
pub(crate) type Outcome = Result<(Vec<Stored>, Vec<NewEvent>), WardError>;

/// Sample rows per INSERT. The rows travel as one JSON array (one parameter), so the text is
/// the same for every size; the cap only bounds one statement's work and its answer.
pub(crate) const CHUNK_ROWS: usize = 4096;

/// Per device of the group, in device order: when it was last seen and the level of its
/// newest battery sample, if any.
pub(crate) fn sightings(batches: &[Batch]) -> Vec<(String, String, Option<i32>)> {
    // Per device: the latest answer time, and (measured at, level) of the newest battery sample.
    type Seen = (DateTime<Utc>, Option<(DateTime<Utc>, i32)>);
    let mut by_device: BTreeMap<Uuid, Seen> = BTreeMap::new();
    for b in batches {
        let battery = b
            .samples
            .iter()
            .filter(|s| s.kind() == VitalKind::Battery)
            .max_by_key(|s| s.measured_at())
            .map(|s| {
                let level = s.value().as_f64().round().clamp(0.0, 100.0) as i32;
                (s.measured_at(), level)
            });
        let entry = by_device.entry(b.device_id).or_insert((b.now, None));
        entry.0 = entry.0.max(b.now);
        if let Some(new) = battery
            && entry.1.is_none_or(|old| new.0 >= old.0)
        {
            entry.1 = Some(new);
        }
    }
    by_device
        .into_iter()
        .map(|(device, (seen, battery))| (device.to_string(), stamp(seen), battery.map(|b| b.1)))
        .collect()
}

// `$1` of the three statements below is the group's sightings as one JSON array of
// `[device, seen, battery]` rows ([`sightings`]), `seen` in the text form the backends store
// (`accounts::stamp`): one statement text for any number of devices (see [`INSERT_SQLITE`]).

/// PostgreSQL: locks the devices' rows in id order before the set-based update (whose own
/// lock order is the join's), so two writers whose groups share devices cannot deadlock.
pub(crate) const LOCK_DEVICES_POSTGRES: &str = "SELECT id FROM devices WHERE id IN \
     (SELECT e ->> 0 FROM jsonb_array_elements($1::jsonb) AS j(e)) ORDER BY id FOR UPDATE";

/// Marks the devices seen; returns the ids of the live ones among them.
pub(crate) const MARK_SEEN_SQLITE: &str = "UPDATE devices SET last_seen_at = \
     CASE WHEN devices.last_seen_at IS NULL OR devices.last_seen_at < v.seen THEN v.seen \
     ELSE devices.last_seen_at END, battery_percent = COALESCE(v.battery, devices.battery_percent) \
     FROM (SELECT j.value ->> 0 AS id, j.value ->> 1 AS seen, j.value ->> 2 AS battery \
           FROM jsonb_each($1) j) AS v \
     WHERE devices.id = v.id AND devices.revoked_at IS NULL RETURNING devices.id";
pub(crate) const MARK_SEEN_POSTGRES: &str = "UPDATE devices SET last_seen_at = \
     CASE WHEN devices.last_seen_at IS NULL OR devices.last_seen_at < v.seen THEN v.seen \
     ELSE devices.last_seen_at END, battery_percent = COALESCE(v.battery, devices.battery_percent) \
     FROM (SELECT e ->> 0 AS id, (e ->> 1)::timestamptz AS seen, (e ->> 2)::integer AS battery \
           FROM jsonb_array_elements($1::jsonb) AS j(e)) AS v \
     WHERE devices.id = v.id AND devices.revoked_at IS NULL RETURNING devices.id";

/// The beds of the devices in `$3` (a JSON array of ids) over [$1, $2], each with the stays in
/// it then.
macro_rules! placements_sql {
    ($devices:literal) => {
        concat!(
            "SELECT db.device_id, db.bed_id, b.ward_id, db.bound_at, db.unbound_at, \
             a.id, a.patient_id, a.admitted_at, a.discharged_at \
             FROM device_beds db JOIN beds b ON b.id = db.bed_id \
             LEFT JOIN admissions a ON a.bed_id = db.bed_id AND a.admitted_at <= $2 \
             AND (a.discharged_at IS NULL OR a.discharged_at > $1) \
             WHERE db.device_id IN (",
            $devices,
            ") AND db.bound_at <= $2 AND (db.unbound_at IS NULL OR db.unbound_at > $1)"
        )
    };
}
pub(crate) const PLACEMENTS_SQLITE: &str = placements_sql!("SELECT value FROM json_each($3)");
pub(crate) const PLACEMENTS_POSTGRES: &str =
    placements_sql!("SELECT jsonb_array_elements_text($3::jsonb)");

/// `INSERT … ON CONFLICT DO NOTHING RETURNING` the keys of the rows stored, from `$1`: a JSON
/// array of `[device, kind, measured_at, value, unit, bed, admission, patient]` rows, inserted
/// in array order (so the first of equal keys wins).
///
/// One parameter instead of eight per row: a group of 64 hundred-sample batches was 200
/// statements of 32 rows, each a hop to the connection's thread, and SQLite looks up every
/// `$N` of a statement by a scan of its parameter names (`sqlite3_bind_parameter_name` was
/// 15 % of the writer thread). Both backends parse a JSON number back to the same `f64`
/// serde wrote (the shortest text that round-trips); `a_sample_value_round_trips_exactly`
/// checks it. SQLite needs the `WHERE true` to parse `ON CONFLICT` after a `SELECT`, and
/// reads the array with `jsonb_each`, whose row values are binary JSON: each `->> N` is then a
/// lookup, where over `json_each`'s text it parsed the row again (+8 % on a rush drain).
pub(crate) const INSERT_SQLITE: &str = "INSERT INTO vital_samples (device_id, kind, measured_at, \
     value, unit, bed_id, admission_id, patient_id) \
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
     j.value ->> 5, j.value ->> 6, j.value ->> 7 FROM jsonb_each($1) j WHERE true ORDER BY j.key \
     ON CONFLICT DO NOTHING RETURNING device_id, kind, measured_at";
pub(crate) const INSERT_POSTGRES: &str = "INSERT INTO vital_samples (device_id, kind, \
     measured_at, value, unit, bed_id, admission_id, patient_id) \
     SELECT e ->> 0, e ->> 1, (e ->> 2)::bigint, (e ->> 3)::float8, e ->> 4, e ->> 5, e ->> 6, \
     e ->> 7 FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n) ORDER BY n \
     ON CONFLICT DO NOTHING RETURNING device_id, kind, measured_at";

/// One sample row of [`INSERT_SQLITE`] / [`INSERT_POSTGRES`]'s JSON array.
pub(crate) type SampleRow<'a> = (
    &'a str,
    &'a str,
    i64,
    f64,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

/// A device id and one of its placement rows.
pub(crate) type DevicePlacementRow = (
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// Per device, where each of its batches' samples goes (by measurement time).
pub(crate) fn attribute_all(
    batches: &[Batch],
    ids: &[String],
    live: &[bool],
    rows: Vec<DevicePlacementRow>,
) -> Vec<Vec<Attribution>> {
    let mut per_device: HashMap<String, Vec<PlacementRow>> = HashMap::new();
    for (device, bed, ward, bound, unbound, admission, patient, admitted, discharged) in rows {
        per_device.entry(device).or_default().push((
            bed, ward, bound, unbound, admission, patient, admitted, discharged,
        ));
    }
    let placements: HashMap<String, _> = per_device
        .into_iter()
        .map(|(device, rows)| (device, split_placements(rows)))
        .collect();
    let none = (Vec::new(), Vec::new());
    batches
        .iter()
        .zip(ids.iter().zip(live))
        .map(|(b, (device, live))| {
            if !live {
                return Vec::new();
            }
            let (bindings, stays) = placements.get(device).unwrap_or(&none);
            b.samples
                .iter()
                .map(|s| attribute(stored(s.measured_at()), bindings, stays))
                .collect()
        })
        .collect()
}

/// The group's span of (stored) measurement times over live batches, if any sample.
pub(crate) fn span(batches: &[Batch], live: &[bool]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let times = batches
        .iter()
        .zip(live)
        .filter(|(_, live)| **live)
        .flat_map(|(b, _)| b.samples.iter().map(|s| stored(s.measured_at())));
    times.fold(None, |span, t| match span {
        None => Some((t, t)),
        Some((first, last)) => Some((first.min(t), last.max(t))),
    })
}

/// Stores the group `$batches` (`&[Batch]`) on `$conn` inside a transaction; evaluates to
/// `Result<(Vec<Outcome>, Vec<PendingKey>), WardError>`, one outcome per batch in order.
macro_rules! ingest_group {
    ($conn:expr, $postgres:expr, $batches:expr) => {
        async {
            use $crate::ward::ingest::*;
            use $crate::ward::samples::Stored;
            let batches: &[Batch] = $batches;
            let seen = sightings(batches);
            if seen.is_empty() {
                return Ok((Vec::new(), Vec::new()));
            }
            let seen_json = $crate::accounts::json_param(&seen)?;
            if $postgres {
                sqlx::query(LOCK_DEVICES_POSTGRES)
                    .bind(&seen_json)
                    .execute(&mut *$conn)
                    .await?;
            }
            let sql = if $postgres {
                MARK_SEEN_POSTGRES
            } else {
                MARK_SEEN_SQLITE
            };
            let live: std::collections::HashSet<String> = sqlx::query_scalar::<_, String>(sql)
                .bind(&seen_json)
                .fetch_all(&mut *$conn)
                .await?
                .into_iter()
                .collect();
            // Each batch's device id as stored, formatted once, and whether it is live.
            let ids: Vec<String> = batches.iter().map(|b| b.device_id.to_string()).collect();
            let is_live: Vec<bool> = ids.iter().map(|d| live.contains(d)).collect();
            let mut rows: Vec<DevicePlacementRow> = Vec::new();
            if let Some((first, last)) = span(batches, &is_live) {
                let mut devices: Vec<&String> = live.iter().collect();
                devices.sort_unstable();
                let sql = if $postgres {
                    PLACEMENTS_POSTGRES
                } else {
                    PLACEMENTS_SQLITE
                };
                rows = sqlx::query_as(sql)
                    .bind(first)
                    .bind(last)
                    .bind($crate::accounts::json_param(&devices)?)
                    .fetch_all(&mut *$conn)
                    .await?;
            }
            let placed = attribute_all(batches, &ids, &is_live, rows);
            // Every live batch's samples, in batch order.
            let all: Vec<(usize, usize)> = batches
                .iter()
                .enumerate()
                .flat_map(|(b, batch)| {
                    (0..placed[b].len().min(batch.samples.len())).map(move |i| (b, i))
                })
                .collect();
            let mut inserted: std::collections::HashSet<(String, String, i64)> =
                std::collections::HashSet::new();
            for chunk in all.chunks(CHUNK_ROWS) {
                let rows: Vec<SampleRow> = chunk
                    .iter()
                    .map(|&(b, i)| {
                        let s = &batches[b].samples[i];
                        let place = &placed[b][i];
                        (
                            ids[b].as_str(),
                            s.kind().code(),
                            $crate::ward::micros($crate::ward::stored(s.measured_at())),
                            s.value().as_f64(),
                            s.unit().map(docde_domain::ward::Unit::code),
                            place.bed_id.as_deref(),
                            place.admission_id.as_deref(),
                            place.patient_id.as_deref(),
                        )
                    })
                    .collect();
                let sql = if $postgres {
                    INSERT_POSTGRES
                } else {
                    INSERT_SQLITE
                };
                let q = sqlx::query_as::<_, (String, String, i64)>(sql)
                    .bind($crate::accounts::json_param(&rows)?);
                inserted.extend(q.fetch_all(&mut *$conn).await?);
            }
            // Which samples are new (the first of equal keys, in batch order), and the newest
            // new one per (patient, kind), which moves `latest_vitals`.
            let mut fresh: Vec<Vec<usize>> = vec![Vec::new(); batches.len()];
            let mut results: Vec<Vec<Stored>> = vec![Vec::new(); batches.len()];
            let mut newest: std::collections::BTreeMap<(&str, &'static str), (usize, usize, i64)> =
                std::collections::BTreeMap::new();
            for &(b, i) in &all {
                let s = &batches[b].samples[i];
                let at = $crate::ward::micros($crate::ward::stored(s.measured_at()));
                let key = (ids[b].clone(), s.kind().code().to_owned(), at);
                if !inserted.remove(&key) {
                    results[b].push(Stored::Duplicate);
                    continue;
                }
                results[b].push(Stored::Inserted);
                fresh[b].push(i);
                if let Some(patient) = placed[b][i].patient_id.as_deref() {
                    let slot = newest
                        .entry((patient, s.kind().code()))
                        .or_insert((b, i, at));
                    if at > slot.2 {
                        *slot = (b, i, at);
                    }
                }
            }
            // One statement for all of them, in key order so concurrent writers lock rows in
            // the same order.
            if !newest.is_empty() {
                let rows: Vec<$crate::ward::samples::LatestUpsertRow> = newest
                    .iter()
                    .map(|((patient, kind), (b, i, at))| {
                        let s = &batches[*b].samples[*i];
                        let place = &placed[*b][*i];
                        (
                            *patient,
                            *kind,
                            *at,
                            s.value().as_f64(),
                            s.unit().map(docde_domain::ward::Unit::code),
                            ids[*b].as_str(),
                            place.admission_id.as_deref(),
                            place.bed_id.as_deref(),
                        )
                    })
                    .collect();
                let sql = if $postgres {
                    $crate::ward::samples::UPSERT_LATEST_POSTGRES
                } else {
                    $crate::ward::samples::UPSERT_LATEST_SQLITE
                };
                sqlx::query(sql)
                    .bind($crate::accounts::json_param(&rows)?)
                    .execute(&mut *$conn)
                    .await?;
            }
            let mut pending: Vec<$crate::ward::rollups::PendingKey> = Vec::new();
            let mut outcomes: Vec<Outcome> = Vec::with_capacity(batches.len());
            for (b, batch) in batches.iter().enumerate() {
                if !is_live[b] {
                    outcomes.push(Err($crate::ward::WardError::NotFound("device")));
                    continue;
                }
                let times: Vec<chrono::DateTime<chrono::Utc>> = batch
                    .samples
                    .iter()
                    .map(|s| $crate::ward::stored(s.measured_at()))
                    .collect();
                let events = $crate::ward::samples::vitals_events(
                    batch.device_id,
                    batch.samples,
                    &times,
                    &placed[b],
                    &fresh[b],
                    $crate::ward::stored(batch.now),
                )?;
                // Every new sample of an admission makes its minute's rollup out of date.
                pending.extend(fresh[b].iter().filter_map(|&i| {
                    placed[b][i].admission_id.clone().map(|admission| {
                        (
                            admission,
                            batch.samples[i].kind().code().to_owned(),
                            $crate::ward::rollups::minute_of($crate::ward::micros(times[i])),
                        )
                    })
                }));
                outcomes.push(Ok((std::mem::take(&mut results[b]), events)));
            }
            Ok::<_, $crate::ward::WardError>((outcomes, pending))
        }
    };
}
pub(crate) use ingest_group;
