//! Vital samples: idempotent batch ingest, history (raw and downsampled) and the latest value
//! per patient for the nurse-station grid.
//!
//! A sample is stored once per (device, kind, measured_at): ingest is `INSERT … ON CONFLICT DO
//! NOTHING RETURNING`, so a retried batch (a lost HTTP answer, an MQTT redelivery) stores
//! nothing twice and the answer says which samples were new. Each sample is attributed to the
//! bed its device served *at `measured_at`* (the `device_beds` history) and to the admission
//! open on that bed at that instant, so out-of-order and late samples follow the patient who
//! was actually measured, across transfers and rebinding.
//!
//! A batch is one transaction: its samples, the `latest_vitals` rows, the device's last-seen
//! time and battery, and one `vitals` event per bed it touched.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::ward::{Sample, Unit, VitalKind};
use uuid::Uuid;

use super::admissions::Admission;
use super::beds::Bed;
use super::events::{EventKind, NewEvent, append_events};
pub use super::ingest::Batch;
use super::ingest::ingest_group;
use super::rollups::{self, mark_pending};
use super::{WardError, from_micros, micros};
use crate::accounts::{id, opt_id};
use crate::{Store, StoreError, with_reader, with_writer};

/// What ingest did with one sample of a batch (same order as the batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stored {
    /// New: stored now.
    Inserted,
    /// Already stored (same device, kind and measured_at), by an earlier batch or earlier in
    /// this one; the stored value is kept.
    Duplicate,
}

/// The answer to a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestReport {
    /// One per sample, in the batch's order.
    pub results: Vec<Stored>,
    /// Ids of the `vitals` events written (one per bed that got new samples).
    pub event_ids: Vec<i64>,
    /// The ward of each of those events (whose streams to wake).
    pub wards: Vec<Uuid>,
}

impl IngestReport {
    pub fn inserted(&self) -> usize {
        self.results
            .iter()
            .filter(|r| **r == Stored::Inserted)
            .count()
    }
}

/// Where a sample goes: the bed, ward, admission and patient at its measurement time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct Attribution {
    pub bed_id: Option<String>,
    pub ward_id: Option<String>,
    pub admission_id: Option<String>,
    pub patient_id: Option<String>,
}

type Binding = (String, String, DateTime<Utc>, Option<DateTime<Utc>>);
type Stay = (String, String, String, DateTime<Utc>, Option<DateTime<Utc>>);

pub(crate) fn attribute(at: DateTime<Utc>, bindings: &[Binding], stays: &[Stay]) -> Attribution {
    let within =
        |from: DateTime<Utc>, to: Option<DateTime<Utc>>| from <= at && to.is_none_or(|t| at < t);
    let Some((bed, ward, _, _)) = bindings.iter().find(|(_, _, from, to)| within(*from, *to))
    else {
        return Attribution::default();
    };
    let stay = stays
        .iter()
        .find(|(_, b, _, from, to)| b == bed && within(*from, *to));
    Attribution {
        bed_id: Some(bed.clone()),
        ward_id: Some(ward.clone()),
        admission_id: stay.map(|s| s.0.clone()),
        patient_id: stay.map(|s| s.2.clone()),
    }
}

/// A binding of the device (bed, ward, bound, unbound) with one stay in that bed overlapping
/// the batch, if any (admission, patient, admitted, discharged).
pub(crate) type PlacementRow = (
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// The distinct bindings and stays of the joined rows, for [`attribute`].
pub(crate) fn split_placements(rows: Vec<PlacementRow>) -> (Vec<Binding>, Vec<Stay>) {
    let mut bindings: Vec<Binding> = Vec::new();
    let mut stays: Vec<Stay> = Vec::new();
    for (bed, ward, bound, unbound, admission, patient, admitted, discharged) in rows {
        if let (Some(admission), Some(patient), Some(admitted)) = (admission, patient, admitted)
            && !stays.iter().any(|s| s.0 == admission)
        {
            stays.push((admission, bed.clone(), patient, admitted, discharged));
        }
        let binding = (bed, ward, bound, unbound);
        if !bindings.contains(&binding) {
            bindings.push(binding);
        }
    }
    (bindings, stays)
}

/// Moves `latest_vitals` forward for the rows of `$1`, a JSON array of distinct (patient,
/// kind) [`LatestUpsertRow`]s, with one statement whatever their number; an older measurement than
/// the stored one changes nothing.
pub(crate) const UPSERT_LATEST_SQLITE: &str = "INSERT INTO latest_vitals \
     (patient_id, kind, measured_at, value, unit, device_id, admission_id, bed_id) \
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
     j.value ->> 5, j.value ->> 6, j.value ->> 7 FROM jsonb_each($1) j WHERE true \
     ON CONFLICT (patient_id, kind) DO UPDATE SET \
     measured_at = excluded.measured_at, value = excluded.value, unit = excluded.unit, \
     device_id = excluded.device_id, admission_id = excluded.admission_id, \
     bed_id = excluded.bed_id WHERE latest_vitals.measured_at < excluded.measured_at";
pub(crate) const UPSERT_LATEST_POSTGRES: &str = "INSERT INTO latest_vitals \
     (patient_id, kind, measured_at, value, unit, device_id, admission_id, bed_id) \
     SELECT e ->> 0, e ->> 1, (e ->> 2)::bigint, (e ->> 3)::float8, e ->> 4, e ->> 5, e ->> 6, \
     e ->> 7 FROM jsonb_array_elements($1::jsonb) AS j(e) \
     ON CONFLICT (patient_id, kind) DO UPDATE SET \
     measured_at = excluded.measured_at, value = excluded.value, unit = excluded.unit, \
     device_id = excluded.device_id, admission_id = excluded.admission_id, \
     bed_id = excluded.bed_id WHERE latest_vitals.measured_at < excluded.measured_at";

/// One row of [`UPSERT_LATEST_SQLITE`]'s array: patient, kind, measured at (µs), value, unit,
/// device, admission, bed.
pub(crate) type LatestUpsertRow<'a> = (
    &'a str,
    &'a str,
    i64,
    f64,
    Option<&'a str>,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
);

/// One `vitals` event per (ward, bed) with the batch's new samples there.
pub(crate) fn vitals_events(
    device_id: Uuid,
    samples: &[Sample],
    times: &[DateTime<Utc>],
    placed: &[Attribution],
    fresh: &[usize],
    now: DateTime<Utc>,
) -> Result<Vec<NewEvent>, StoreError> {
    let mut groups: Vec<(&Attribution, Vec<serde_json::Value>)> = Vec::new();
    for &i in fresh {
        let place = &placed[i];
        if place.ward_id.is_none() {
            continue;
        }
        let s = &samples[i];
        let item = serde_json::json!({
            "kind": s.kind().code(),
            "value": s.value().as_f64(),
            "unit": s.unit().map(Unit::code),
            "measured_at": times[i],
        });
        match groups.iter_mut().find(|(p, _)| *p == place) {
            Some((_, items)) => items.push(item),
            None => groups.push((place, vec![item])),
        }
    }
    groups
        .into_iter()
        .map(|(place, items)| {
            Ok(NewEvent {
                ward_id: id(place.ward_id.as_deref().unwrap_or_default())?,
                patient_id: opt_id(place.patient_id.as_deref())?,
                kind: EventKind::Vitals,
                payload: serde_json::json!({
                    "device_id": device_id,
                    "bed_id": place.bed_id,
                    "admission_id": place.admission_id,
                    "patient_id": place.patient_id,
                    "samples": items,
                }),
                at: now,
            })
        })
        .collect()
}

/// Stores a device's batch in one transaction of its own (the [`SampleWriter`] groups many
/// batches into one commit instead). Unknown or revoked devices are refused as
/// `NotFound("device")`. Answers after the commit.
///
/// [`SampleWriter`]: super::SampleWriter
pub async fn ingest_batch(
    store: &Store,
    device_id: Uuid,
    samples: &[Sample],
    now: DateTime<Utc>,
) -> Result<IngestReport, WardError> {
    let batch = Batch {
        device_id,
        samples,
        now,
    };
    ingest_group(store, std::slice::from_ref(&batch))
        .await?
        .pop()
        .unwrap_or(Err(WardError::NotFound("device")))
}

/// Stores many devices' batches in one transaction and one commit, set by set (see
/// `ingest`); returns, after the commit, one answer per batch in order. A batch of an unknown
/// or revoked device gets `NotFound("device")` and the others are stored; any other failure
/// fails the whole group and stores nothing.
pub async fn ingest_group(
    store: &Store,
    batches: &[Batch<'_>],
) -> Result<Vec<Result<IngestReport, WardError>>, WardError> {
    let postgres = store.dialect() == "postgres";
    let (outcomes, events, event_ids) = with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let (outcomes, mut pending) = ingest_group!(tx, postgres, batches).await?;
            let events: Vec<NewEvent> = outcomes
                .iter()
                .flat_map(|o| o.as_ref().map_or(&[][..], |(_, events)| events.as_slice()))
                .cloned()
                .collect();
            rollups::settle_keys(&mut pending);
            mark_pending!(tx, postgres, &pending).await?;
            let event_ids = append_events!(tx, postgres, &events).await?;
            Ok::<_, WardError>((outcomes, events, event_ids))
        }
        .await;
        finish!(tx, done)
    })?;
    let mut ids = event_ids.into_iter();
    let mut wards = events.iter().map(|e| e.ward_id);
    Ok(outcomes
        .into_iter()
        .map(|outcome| {
            outcome.map(|(results, events)| IngestReport {
                results,
                event_ids: ids.by_ref().take(events.len()).collect(),
                wards: wards.by_ref().take(events.len()).collect(),
            })
        })
        .collect())
}

/// Whose samples to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// Every admission of the patient.
    Patient(Uuid),
    Admission(Uuid),
}

impl Subject {
    /// The condition on `vital_samples` (its `$1` is the id). A patient's samples are those of
    /// the patient's admissions: a sample has a patient only through the stay it was attributed
    /// to, and `vital_samples_admission` is the index raw samples are read by.
    fn condition_and_id(self) -> (&'static str, String) {
        match self {
            Subject::Patient(p) => (
                "admission_id IN (SELECT id FROM admissions WHERE patient_id = $1)",
                p.to_string(),
            ),
            Subject::Admission(a) => ("admission_id = $1", a.to_string()),
        }
    }
}

/// A sample as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSample {
    pub device_id: Uuid,
    pub kind: VitalKind,
    pub measured_at: DateTime<Utc>,
    /// `SampleValue::as_f64` of the sample.
    pub value: f64,
    pub unit: Option<Unit>,
    pub bed_id: Option<Uuid>,
    pub admission_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
}

type SampleRow = (
    String,
    String,
    i64,
    f64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn kind_of(code: &str) -> Result<VitalKind, StoreError> {
    code.parse()
        .map_err(|e| StoreError::Other(sqlx::Error::Decode(Box::new(e))))
}

fn sample_from_row(row: SampleRow) -> Result<StoredSample, StoreError> {
    let (device, kind, at, value, unit, bed, admission, patient) = row;
    Ok(StoredSample {
        device_id: id(&device)?,
        kind: kind_of(&kind)?,
        measured_at: from_micros(at),
        value,
        unit: unit.as_deref().and_then(Unit::parse),
        bed_id: opt_id(bed.as_deref())?,
        admission_id: opt_id(admission.as_deref())?,
        patient_id: opt_id(patient.as_deref())?,
    })
}

/// Samples of one kind measured in `[from, to)`, oldest first, at most `limit`.
pub async fn history(
    store: &Store,
    subject: Subject,
    kind: VitalKind,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<StoredSample>, StoreError> {
    let (condition, subject_id) = subject.condition_and_id();
    let sql = format!(
        "SELECT device_id, kind, measured_at, value, unit, bed_id, admission_id, patient_id \
         FROM vital_samples WHERE {condition} AND kind = $2 AND measured_at >= $3 \
         AND measured_at < $4 ORDER BY measured_at, device_id LIMIT $5"
    );
    let rows: Vec<SampleRow> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(subject_id)
            .bind(kind.code())
            .bind(micros(from))
            .bind(micros(to))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(sample_from_row).collect()
}

/// One bucket of a downsampled series.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// Start of the bucket (aligned to the resolution since the Unix epoch).
    pub start: DateTime<Utc>,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub count: i64,
}

/// Samples of one kind in `[from, to)` summarised per `resolution` (at least one second; one
/// minute for charts), oldest first, at most `limit` buckets.
pub async fn downsampled(
    store: &Store,
    subject: Subject,
    kind: VitalKind,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    resolution: TimeDelta,
    limit: u32,
) -> Result<Vec<Bucket>, StoreError> {
    let (condition, subject_id) = subject.condition_and_id();
    let width = resolution
        .num_microseconds()
        .unwrap_or(i64::MAX)
        .max(1_000_000);
    let sql = format!(
        "SELECT (measured_at / $3) * $3, MIN(value), MAX(value), AVG(value), COUNT(*) \
         FROM vital_samples WHERE {condition} AND kind = $2 AND measured_at >= $4 \
         AND measured_at < $5 GROUP BY 1 ORDER BY 1 LIMIT $6"
    );
    let rows: Vec<(i64, f64, f64, f64, i64)> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(subject_id)
            .bind(kind.code())
            .bind(width)
            .bind(micros(from))
            .bind(micros(to))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
    });
    Ok(rows
        .into_iter()
        .map(|(start, min, max, mean, count)| Bucket {
            start: from_micros(start),
            min,
            max,
            mean,
            count,
        })
        .collect())
}

/// The newest value of one kind for a patient.
#[derive(Debug, Clone, PartialEq)]
pub struct LatestSample {
    pub kind: VitalKind,
    pub measured_at: DateTime<Utc>,
    pub value: f64,
    pub unit: Option<Unit>,
    pub device_id: Uuid,
}

/// A bed on the nurse-station grid: who is in it and their newest values.
#[derive(Debug, Clone, PartialEq)]
pub struct BedVitals {
    pub bed: Bed,
    pub admission: Option<Admission>,
    /// Empty for an empty bed; staleness is the caller's to judge from `measured_at`.
    pub latest: Vec<LatestSample>,
}

type LatestRow = (String, String, i64, f64, Option<String>, String);

pub(crate) fn latest_from_row(
    (_, kind, at, value, unit, device): LatestRow,
) -> Result<LatestSample, StoreError> {
    Ok(LatestSample {
        kind: kind_of(&kind)?,
        measured_at: from_micros(at),
        value,
        unit: unit.as_deref().and_then(Unit::parse),
        device_id: id(&device)?,
    })
}

/// Every bed of the ward with its open admission and that patient's newest value per kind.
pub async fn latest_per_bed(store: &Store, ward_id: Uuid) -> Result<Vec<BedVitals>, StoreError> {
    let beds = super::beds::beds_of_ward(store, ward_id).await?;
    let admissions = super::admissions::open_in_ward(store, ward_id).await?;
    let rows: Vec<LatestRow> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT lv.patient_id, lv.kind, lv.measured_at, lv.value, lv.unit, lv.device_id \
             FROM latest_vitals lv JOIN admissions a ON a.patient_id = lv.patient_id \
             WHERE a.ward_id = $1 AND a.discharged_at IS NULL ORDER BY lv.patient_id, lv.kind",
        )
        .bind(ward_id.to_string())
        .fetch_all(pool)
        .await?
    });
    let mut by_patient: HashMap<Uuid, Vec<LatestSample>> = HashMap::new();
    for row in rows {
        let patient = id(&row.0)?;
        by_patient
            .entry(patient)
            .or_default()
            .push(latest_from_row(row)?);
    }
    let mut by_bed: HashMap<Uuid, Admission> =
        admissions.into_iter().map(|a| (a.bed_id, a)).collect();
    Ok(beds
        .into_iter()
        .map(|bed| {
            let admission = by_bed.remove(&bed.id);
            let latest = admission
                .as_ref()
                .and_then(|a| by_patient.remove(&a.patient_id))
                .unwrap_or_default();
            BedVitals {
                bed,
                admission,
                latest,
            }
        })
        .collect())
}

/// A patient's newest value per kind (what NEWS2 is computed from).
pub async fn latest_of_patient(
    store: &Store,
    patient_id: Uuid,
) -> Result<Vec<LatestSample>, StoreError> {
    let rows: Vec<LatestRow> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT patient_id, kind, measured_at, value, unit, device_id FROM latest_vitals \
             WHERE patient_id = $1 ORDER BY kind",
        )
        .bind(patient_id.to_string())
        .fetch_all(pool)
        .await?
    });
    rows.into_iter().map(latest_from_row).collect()
}

/// Deletes raw samples measured before `cutoff` (retention), at most `limit` per call. Take
/// the cut-off from [`rollups::hold_raw_from`], which keeps minutes not rolled up yet.
pub async fn delete_before(
    store: &Store,
    cutoff: DateTime<Utc>,
    limit: u32,
) -> Result<u64, StoreError> {
    super::delete_oldest(
        store,
        "vital_samples",
        "device_id, kind, measured_at",
        "measured_at",
        cutoff,
        limit,
    )
    .await
}

/// How many raw samples are stored (benchmarks check it against what was acknowledged).
pub async fn count_all(store: &Store) -> Result<u64, StoreError> {
    let n: i64 = with_reader!(store, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM vital_samples")
            .fetch_one(pool)
            .await?
    });
    Ok(u64::try_from(n).unwrap_or(0))
}
