//! A ward's furniture: its isolation kind, rooms and beds, and which device serves which bed.
//!
//! Device bindings are kept as a history (`device_beds`), not a column, so a sample that
//! arrives late is attributed to the bed the device served when it was measured.

use chrono::{DateTime, Utc};
use docde_domain::ward::BedLabel;
use uuid::Uuid;

use super::events::{EventKind, NewEvent, append_events};
use super::{WardError, stored};
use crate::accounts::id;
use crate::{Store, StoreError, with_reader, with_writer};

/// How a ward isolates its patients (`None` on [`set_isolation`]: not an isolation ward).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isolation {
    Standard,
    NegativePressure,
    PositivePressure,
}

impl Isolation {
    pub const ALL: &'static [Isolation] = &[
        Isolation::Standard,
        Isolation::NegativePressure,
        Isolation::PositivePressure,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Isolation::Standard => "standard",
            Isolation::NegativePressure => "negative_pressure",
            Isolation::PositivePressure => "positive_pressure",
        }
    }

    pub fn parse(code: &str) -> Option<Isolation> {
        Isolation::ALL.iter().copied().find(|i| i.code() == code)
    }
}

/// Sets (or clears) a ward's isolation kind. Returns whether the ward exists.
pub async fn set_isolation(
    store: &Store,
    ward_id: Uuid,
    isolation: Option<Isolation>,
) -> Result<bool, StoreError> {
    let n = with_writer!(store, pool => {
        sqlx::query("UPDATE wards SET isolation = $2 WHERE id = $1")
            .bind(ward_id.to_string())
            .bind(isolation.map(Isolation::code))
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

/// A ward's isolation kind; `Ok(None)` also when the ward does not exist.
pub async fn isolation(store: &Store, ward_id: Uuid) -> Result<Option<Isolation>, StoreError> {
    let code: Option<Option<String>> = with_reader!(store, pool => {
        sqlx::query_scalar("SELECT isolation FROM wards WHERE id = $1")
            .bind(ward_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    Ok(code.flatten().as_deref().and_then(Isolation::parse))
}

/// A bed as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bed {
    pub id: Uuid,
    pub ward_id: Uuid,
    pub room_id: Uuid,
    pub label: BedLabel,
    pub created_at: DateTime<Utc>,
}

pub(crate) const BED_COLUMNS: &str = "id, ward_id, room_id, label, created_at";

pub(crate) type BedRow = (String, String, String, String, DateTime<Utc>);

pub(crate) fn bed_from_row(
    (bid, ward, room, label, created_at): BedRow,
) -> Result<Bed, StoreError> {
    Ok(Bed {
        id: id(&bid)?,
        ward_id: id(&ward)?,
        room_id: id(&room)?,
        label: BedLabel::parse(&label)
            .map_err(|e| StoreError::Other(sqlx::Error::Decode(Box::new(e))))?,
        created_at,
    })
}

/// Adds a bed to a ward, creating its room (the label's room number) if it is the first bed
/// there. Refused with [`WardConflict::BedLabelTaken`](super::WardConflict::BedLabelTaken)
/// if the ward already has that label.
pub async fn add_bed(
    store: &Store,
    ward_id: Uuid,
    label: &BedLabel,
    now: DateTime<Utc>,
) -> Result<Bed, WardError> {
    let now = stored(now);
    let bed_id = Uuid::now_v7();
    let result: Result<Uuid, WardError> = with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM wards WHERE id = $1")
                .bind(ward_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(WardError::NotFound("ward"));
            }
            sqlx::query(
                "INSERT INTO rooms (id, ward_id, number, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (ward_id, number) DO NOTHING",
            )
            .bind(Uuid::now_v7().to_string())
            .bind(ward_id.to_string())
            .bind(label.room())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let room: String =
                sqlx::query_scalar("SELECT id FROM rooms WHERE ward_id = $1 AND number = $2")
                    .bind(ward_id.to_string())
                    .bind(label.room())
                    .fetch_one(&mut *tx)
                    .await?;
            sqlx::query(
                "INSERT INTO beds (id, ward_id, room_id, label, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(bed_id.to_string())
            .bind(ward_id.to_string())
            .bind(&room)
            .bind(label.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Ok(id(&room)?)
        }
        .await;
        match done {
            Ok(room) => {
                tx.commit().await?;
                Ok(room)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    });
    Ok(Bed {
        id: bed_id,
        ward_id,
        room_id: result?,
        label: label.clone(),
        created_at: now,
    })
}

/// A ward's beds, by label.
pub async fn beds_of_ward(store: &Store, ward_id: Uuid) -> Result<Vec<Bed>, StoreError> {
    let sql = format!("SELECT {BED_COLUMNS} FROM beds WHERE ward_id = $1 ORDER BY label");
    let rows: Vec<BedRow> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(ward_id.to_string())
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(bed_from_row).collect()
}

pub async fn get_bed(store: &Store, bed_id: Uuid) -> Result<Option<Bed>, StoreError> {
    let sql = format!("SELECT {BED_COLUMNS} FROM beds WHERE id = $1");
    let row: Option<BedRow> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(bed_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(bed_from_row).transpose()
}

/// The bed with this label in the ward (the predecessor's devices identify themselves so).
pub async fn find_bed(
    store: &Store,
    ward_id: Uuid,
    label: &BedLabel,
) -> Result<Option<Bed>, StoreError> {
    let sql = format!("SELECT {BED_COLUMNS} FROM beds WHERE ward_id = $1 AND label = $2");
    let row: Option<BedRow> = with_reader!(store, pool => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(ward_id.to_string())
            .bind(label.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(bed_from_row).transpose()
}

/// Binds a device to a bed from `now` on, ending its previous binding at the same instant, and
/// records the bed's ward on the device. Emits a `device` event. Returns the event id.
pub async fn bind_device(
    store: &Store,
    device_id: Uuid,
    bed_id: Uuid,
    now: DateTime<Utc>,
) -> Result<i64, WardError> {
    let now = stored(now);
    let postgres = store.dialect() == "postgres";
    with_writer!(store, pool => {
        let mut tx = pool.begin().await?;
        let done = async {
            let ward: Option<String> = sqlx::query_scalar("SELECT ward_id FROM beds WHERE id = $1")
                .bind(bed_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
            let Some(ward) = ward else {
                return Err(WardError::NotFound("bed"));
            };
            let n = sqlx::query("UPDATE devices SET ward_id = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(device_id.to_string())
                .bind(&ward)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(WardError::NotFound("device"));
            }
            sqlx::query(
                "UPDATE device_beds SET unbound_at = $2 WHERE device_id = $1 AND unbound_at IS NULL",
            )
            .bind(device_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO device_beds (id, device_id, bed_id, bound_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(Uuid::now_v7().to_string())
            .bind(device_id.to_string())
            .bind(bed_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let event = NewEvent {
                ward_id: id(&ward)?,
                patient_id: None,
                kind: EventKind::Device,
                payload: serde_json::json!({
                    "device_id": device_id, "bed_id": bed_id, "bound": true,
                }),
                at: now,
            };
            let ids = append_events!(tx, postgres, std::slice::from_ref(&event)).await?;
            Ok(ids[0])
        }
        .await;
        match done {
            Ok(event_id) => {
                tx.commit().await?;
                Ok(event_id)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    })
}

/// Ends a device's binding at `now`. Returns whether it was bound.
pub async fn unbind_device(
    store: &Store,
    device_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = with_writer!(store, pool => {
        sqlx::query(
            "UPDATE device_beds SET unbound_at = $2 WHERE device_id = $1 AND unbound_at IS NULL",
        )
        .bind(device_id.to_string())
        .bind(stored(now))
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// The bed a device serves now, if any.
pub async fn bed_of_device(store: &Store, device_id: Uuid) -> Result<Option<Bed>, StoreError> {
    let sql = "SELECT b.id, b.ward_id, b.room_id, b.label, b.created_at FROM beds b \
         JOIN device_beds d ON d.bed_id = b.id WHERE d.device_id = $1 AND d.unbound_at IS NULL";
    let row: Option<BedRow> = with_reader!(store, pool => {
        sqlx::query_as(sql)
            .bind(device_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.map(bed_from_row).transpose()
}

/// The device serving a bed now (the earliest bound if several; revoked ones never): whose
/// samples the predecessor's per-bed payload becomes.
pub async fn device_of_bed(store: &Store, bed_id: Uuid) -> Result<Option<Uuid>, StoreError> {
    let sql = "SELECT d.device_id FROM device_beds d JOIN devices v ON v.id = d.device_id \
         WHERE d.bed_id = $1 AND d.unbound_at IS NULL AND v.revoked_at IS NULL \
         ORDER BY d.bound_at, d.device_id LIMIT 1";
    let row: Option<String> = with_reader!(store, pool => {
        sqlx::query_scalar(sql)
            .bind(bed_id.to_string())
            .fetch_optional(pool)
            .await?
    });
    row.as_deref().map(id).transpose()
}

/// Records that a device was heard from at `at` (with its battery level if reported). The
/// last-seen time only moves forward, so a late, out-of-order message cannot make a device
/// look silent. Returns whether the device exists.
pub async fn mark_seen(
    store: &Store,
    device_id: Uuid,
    battery_percent: Option<u8>,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = with_writer!(store, pool => {
        sqlx::query(MARK_SEEN_SQL)
            .bind(device_id.to_string())
            .bind(stored(at))
            .bind(battery_percent.map(|b| i32::from(b.min(100))))
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(n == 1)
}

pub(crate) const MARK_SEEN_SQL: &str = "UPDATE devices SET \
     last_seen_at = CASE WHEN last_seen_at IS NULL OR last_seen_at < $2 THEN $2 ELSE last_seen_at END, \
     battery_percent = COALESCE($3, battery_percent) WHERE id = $1";

/// A device of the ward not heard from since `silent_since` (or never): candidates for the
/// "device silent" technical alarm. Only devices bound to a bed count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilentDevice {
    pub device_id: Uuid,
    pub bed_id: Uuid,
    pub last_seen_at: Option<DateTime<Utc>>,
}

pub async fn silent_devices(
    store: &Store,
    ward_id: Uuid,
    silent_since: DateTime<Utc>,
) -> Result<Vec<SilentDevice>, StoreError> {
    let rows: Vec<(String, String, Option<DateTime<Utc>>)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT d.id, db.bed_id, d.last_seen_at FROM devices d \
             JOIN device_beds db ON db.device_id = d.id AND db.unbound_at IS NULL \
             JOIN beds b ON b.id = db.bed_id \
             WHERE b.ward_id = $1 AND d.revoked_at IS NULL \
               AND (d.last_seen_at IS NULL OR d.last_seen_at < $2) ORDER BY d.id",
        )
        .bind(ward_id.to_string())
        .bind(stored(silent_since))
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(d, b, last_seen_at)| {
            Ok(SilentDevice {
                device_id: id(&d)?,
                bed_id: id(&b)?,
                last_seen_at,
            })
        })
        .collect()
}

/// A device bound to a bed now, with when it was last heard from (the technical check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundDevice {
    pub device_id: Uuid,
    pub bed_id: Uuid,
    pub ward_id: Uuid,
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// Every device bound to a bed of any ward and not revoked, by ward.
pub async fn bound_devices(store: &Store) -> Result<Vec<BoundDevice>, StoreError> {
    let rows: Vec<(String, String, String, Option<DateTime<Utc>>)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT d.id, db.bed_id, b.ward_id, d.last_seen_at FROM devices d \
             JOIN device_beds db ON db.device_id = d.id AND db.unbound_at IS NULL \
             JOIN beds b ON b.id = db.bed_id \
             WHERE d.revoked_at IS NULL ORDER BY b.ward_id, d.id",
        )
        .fetch_all(pool)
        .await?
    });
    rows.into_iter()
        .map(|(d, b, w, last_seen_at)| {
            Ok(BoundDevice {
                device_id: id(&d)?,
                bed_id: id(&b)?,
                ward_id: id(&w)?,
                last_seen_at,
            })
        })
        .collect()
}
