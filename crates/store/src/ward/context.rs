//! What the alarm evaluation needs about devices at a moment — each one's bed, the stay in that
//! bed then, that patient's newest value per kind, the NEWS2 last announced for the stay and
//! the alarm threshold overrides of the ward and of the stay — in one read for many devices.
//!
//! Every ingest request is evaluated after its commit. Separate reads (each a hop to a reader
//! thread and back) were most of a one-sample request's own database work, so the server asks
//! for every device waiting at that moment at once (`docde_server`'s shared reads). One joined
//! read also sees all of it at one snapshot, and a threshold change is seen by the next
//! evaluation on every instance (a cache of the overrides, re-read every few seconds, made
//! 1,000 beds re-read theirs in the same second).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use docde_domain::ward::alarm::ThresholdOverrides;
use sqlx::Row as _;
use uuid::Uuid;

use super::admissions::{self, Admission};
use super::beds::{Bed, bed_from_row};
use super::samples::{LatestSample, latest_from_row};
use super::setting::from_json;
use super::stored;
use crate::accounts::{id, json_param};
use crate::{Store, StoreError, with_reader};

/// A device's place at a moment.
#[derive(Debug, Clone)]
pub struct DeviceContext {
    pub bed: Bed,
    /// The stay in the bed at that moment, if any.
    pub admission: Option<Admission>,
    /// That patient's newest value per kind (empty without a stay).
    pub latest: Vec<LatestSample>,
    /// The stay's NEWS2 total and band as last announced (`None` before the first).
    pub announced: Option<(i32, String)>,
    /// The ward's alarm threshold overrides (empty when it has none).
    pub ward_overrides: ThresholdOverrides,
    /// The stay's own (the patient's) overrides (empty without a stay or when it has none).
    pub patient_overrides: ThresholdOverrides,
}

/// The read, given how the dialect lists `$1`'s JSON array of device ids; `$2` is the moment.
macro_rules! context_sql {
    ($ids:literal) => {
        concat!(
            "SELECT d.device_id, b.id, b.ward_id, b.room_id, b.label, b.created_at, \
             a.id, a.ward_id, a.bed_id, a.patient_id, a.admitted_at, a.discharged_at, \
             a.discharge_reason, a.transferred_from, a.urgency, a.notes, \
             lv.patient_id, lv.kind, lv.measured_at, lv.value, lv.unit, lv.device_id, \
             n.total, n.band, wt.overrides, pt.overrides \
             FROM device_beds d JOIN beds b ON b.id = d.bed_id \
             LEFT JOIN admissions a ON a.id = (SELECT x.id FROM admissions x \
                 WHERE x.bed_id = b.id AND x.admitted_at <= $2 \
                 AND (x.discharged_at IS NULL OR x.discharged_at > $2) \
                 ORDER BY x.admitted_at DESC LIMIT 1) \
             LEFT JOIN latest_vitals lv ON lv.patient_id = a.patient_id \
             LEFT JOIN admission_news2 n ON n.admission_id = a.id \
             LEFT JOIN ward_thresholds wt ON wt.ward_id = b.ward_id \
             LEFT JOIN admission_thresholds pt ON pt.admission_id = a.id \
             WHERE d.device_id IN (",
            $ids,
            ") AND d.unbound_at IS NULL ORDER BY d.device_id, b.id, lv.kind"
        )
    };
}
const SQLITE: &str = context_sql!("SELECT value FROM json_each($1)");
const POSTGRES: &str = context_sql!("SELECT jsonb_array_elements_text($1::jsonb)");
type BedPart = (String, String, String, String, DateTime<Utc>);
type StayPart = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
    Option<i32>,
    Option<String>,
);
type LatestPart = (
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<f64>,
    Option<String>,
    Option<String>,
);

type NewsPart = (Option<i32>, Option<String>);
/// The ward's and the stay's threshold overrides, as stored JSON.
type OverridesPart = (Option<String>, Option<String>);
type Parts = (
    String,
    BedPart,
    StayPart,
    LatestPart,
    NewsPart,
    OverridesPart,
);

/// The bed `device_id` serves now, with its stay at `at` and the patient's latest values;
/// `None` for a device bound to no bed.
pub async fn of_device(
    store: &Store,
    device_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<DeviceContext>, StoreError> {
    Ok(of_devices(store, &[device_id], at)
        .await?
        .remove(&device_id))
}

/// [`of_device`] for many devices in one read; a device bound to no bed is left out.
pub async fn of_devices(
    store: &Store,
    device_ids: &[Uuid],
    at: DateTime<Utc>,
) -> Result<HashMap<Uuid, DeviceContext>, StoreError> {
    if device_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = match store.backend() {
        crate::Backend::Sqlite { .. } => SQLITE,
        crate::Backend::Postgres(_) => POSTGRES,
    };
    let ids = json_param(device_ids)?;
    let rows: Vec<Parts> = with_reader!(store, pool => {
        let rows = sqlx::query(sql)
            .bind(&ids)
            .bind(stored(at))
            .fetch_all(pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok::<_, sqlx::Error>((
                    r.try_get(0)?,
                    (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?),
                    (
                        r.try_get(6)?,
                        r.try_get(7)?,
                        r.try_get(8)?,
                        r.try_get(9)?,
                        r.try_get(10)?,
                        r.try_get(11)?,
                        r.try_get(12)?,
                        r.try_get(13)?,
                        r.try_get(14)?,
                        r.try_get(15)?,
                    ),
                    (
                        r.try_get(16)?,
                        r.try_get(17)?,
                        r.try_get(18)?,
                        r.try_get(19)?,
                        r.try_get(20)?,
                        r.try_get(21)?,
                    ),
                    (r.try_get(22)?, r.try_get(23)?),
                    (r.try_get(24)?, r.try_get(25)?),
                ))
            })
            .collect::<Result<_, _>>()?
    });
    let mut found = HashMap::new();
    // The rows come ordered by device: each device's run of rows becomes its context.
    for run in rows.chunk_by(|a, b| a.0 == b.0) {
        found.insert(id(&run[0].0)?, context_of(run)?);
    }
    Ok(found)
}

/// One device's context from its rows (one per latest value, at least one).
fn context_of(rows: &[Parts]) -> Result<DeviceContext, StoreError> {
    let (_, bed_part, stay_part, _, (total, band), (ward_json, stay_json)) = rows[0].clone();
    let overrides = |json: Option<String>| match json {
        Some(json) => from_json::<ThresholdOverrides>(&json),
        None => Ok(ThresholdOverrides::default()),
    };
    // One bed at a time is the rule; should two be open, the first (by id) is taken, as before.
    let bed_id = bed_part.0.clone();
    let bed = bed_from_row(bed_part)?;
    let admission = match stay_part {
        (
            Some(aid),
            Some(ward),
            Some(bed),
            Some(patient),
            Some(admitted),
            discharged,
            reason,
            from,
            urgency,
            Some(notes),
        ) => Some(admissions::from_row((
            aid,
            ward,
            bed,
            patient,
            admitted,
            discharged,
            reason,
            from,
            urgency.unwrap_or(0),
            notes,
        ))?),
        _ => None,
    };
    let latest = rows
        .iter()
        .filter(|(_, b, ..)| b.0 == bed_id)
        .filter_map(|(_, _, _, l, ..)| match l.clone() {
            (Some(patient), Some(kind), Some(at), Some(value), unit, Some(device)) => {
                Some(latest_from_row((patient, kind, at, value, unit, device)))
            }
            _ => None,
        })
        .collect::<Result<_, _>>()?;
    Ok(DeviceContext {
        bed,
        admission,
        latest,
        announced: total.zip(band),
        ward_overrides: overrides(ward_json)?,
        patient_overrides: overrides(stay_json)?,
    })
}
