//! What the alarm evaluation needs about a device at a moment — its bed, the stay in that bed
//! then, and that patient's newest value per kind — in one read.
//!
//! Every ingest request is evaluated after its commit; three separate reads (each a hop to a
//! reader thread and back) were most of a one-sample request's own database work. One joined
//! read also sees the three at one snapshot.

use chrono::{DateTime, Utc};
use sqlx::Row as _;
use uuid::Uuid;

use super::admissions::{self, Admission};
use super::beds::{Bed, bed_from_row};
use super::samples::{LatestSample, latest_from_row};
use super::stored;
use crate::{Store, StoreError, with_reader};

/// A device's place at a moment.
#[derive(Debug, Clone)]
pub struct DeviceContext {
    pub bed: Bed,
    /// The stay in the bed at that moment, if any.
    pub admission: Option<Admission>,
    /// That patient's newest value per kind (empty without a stay).
    pub latest: Vec<LatestSample>,
}

const SQL: &str = "SELECT b.id, b.ward_id, b.room_id, b.label, b.created_at, \
     a.id, a.ward_id, a.bed_id, a.patient_id, a.admitted_at, a.discharged_at, \
     a.discharge_reason, a.transferred_from, a.urgency, a.notes, \
     lv.patient_id, lv.kind, lv.measured_at, lv.value, lv.unit, lv.device_id \
     FROM device_beds d JOIN beds b ON b.id = d.bed_id \
     LEFT JOIN admissions a ON a.id = (SELECT x.id FROM admissions x WHERE x.bed_id = b.id \
         AND x.admitted_at <= $2 AND (x.discharged_at IS NULL OR x.discharged_at > $2) \
         ORDER BY x.admitted_at DESC LIMIT 1) \
     LEFT JOIN latest_vitals lv ON lv.patient_id = a.patient_id \
     WHERE d.device_id = $1 AND d.unbound_at IS NULL \
     ORDER BY b.id, lv.kind";

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

/// The bed `device_id` serves now, with its stay at `at` and the patient's latest values;
/// `None` for a device bound to no bed.
pub async fn of_device(
    store: &Store,
    device_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<DeviceContext>, StoreError> {
    let rows: Vec<(BedPart, StayPart, LatestPart)> = with_reader!(store, pool => {
        let rows = sqlx::query(SQL)
            .bind(device_id.to_string())
            .bind(stored(at))
            .fetch_all(pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok::<_, sqlx::Error>((
                    (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?),
                    (
                        r.try_get(5)?,
                        r.try_get(6)?,
                        r.try_get(7)?,
                        r.try_get(8)?,
                        r.try_get(9)?,
                        r.try_get(10)?,
                        r.try_get(11)?,
                        r.try_get(12)?,
                        r.try_get(13)?,
                        r.try_get(14)?,
                    ),
                    (
                        r.try_get(15)?,
                        r.try_get(16)?,
                        r.try_get(17)?,
                        r.try_get(18)?,
                        r.try_get(19)?,
                        r.try_get(20)?,
                    ),
                ))
            })
            .collect::<Result<_, _>>()?
    });
    let Some((bed_part, stay_part, _)) = rows.first().cloned() else {
        return Ok(None);
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
        .into_iter()
        .filter(|(b, _, _)| b.0 == bed_id)
        .filter_map(|(_, _, l)| match l {
            (Some(patient), Some(kind), Some(at), Some(value), unit, Some(device)) => {
                Some(latest_from_row((patient, kind, at, value, unit, device)))
            }
            _ => None,
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(DeviceContext {
        bed,
        admission,
        latest,
    }))
}
