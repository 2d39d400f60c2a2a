//! Devices as principals: bedside monitors, gateways, the medicine-delivery robot.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{id, opt_id};
use crate::{Store, StoreError, with_reader, with_writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub ward_id: Option<Uuid>,
    pub name: String,
    pub kind: String,
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub battery_percent: Option<i32>,
}

#[derive(sqlx::FromRow)]
struct DeviceRow {
    id: String,
    hospital_id: String,
    ward_id: Option<String>,
    name: String,
    kind: String,
    secret_hash: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_seen_at: Option<DateTime<Utc>>,
    battery_percent: Option<i32>,
}

impl TryFrom<DeviceRow> for Device {
    type Error = StoreError;

    fn try_from(r: DeviceRow) -> Result<Self, StoreError> {
        Ok(Device {
            id: id(&r.id)?,
            hospital_id: id(&r.hospital_id)?,
            ward_id: opt_id(r.ward_id.as_deref())?,
            name: r.name,
            kind: r.kind,
            secret_hash: r.secret_hash,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            last_seen_at: r.last_seen_at,
            battery_percent: r.battery_percent,
        })
    }
}

const COLUMNS: &str = "id, hospital_id, ward_id, name, kind, secret_hash, created_at, revoked_at, last_seen_at, battery_percent";

#[derive(Debug, Clone)]
pub struct NewDevice {
    pub hospital_id: Uuid,
    pub ward_id: Option<Uuid>,
    pub name: String,
    pub kind: String,
    pub secret_hash: String,
}

pub async fn create(
    store: &Store,
    device: &NewDevice,
    now: DateTime<Utc>,
) -> Result<Device, StoreError> {
    let device_id = Uuid::now_v7();
    with_writer!(store, pool => sqlx::query(
        "INSERT INTO devices (id, hospital_id, ward_id, name, kind, secret_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(device_id.to_string())
    .bind(device.hospital_id.to_string())
    .bind(device.ward_id.map(|w| w.to_string()))
    .bind(&device.name)
    .bind(&device.kind)
    .bind(&device.secret_hash)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(Device {
        id: device_id,
        hospital_id: device.hospital_id,
        ward_id: device.ward_id,
        name: device.name.clone(),
        kind: device.kind.clone(),
        secret_hash: device.secret_hash.clone(),
        created_at: now,
        revoked_at: None,
        last_seen_at: None,
        battery_percent: None,
    })
}

pub async fn get(store: &Store, device_id: Uuid) -> Result<Option<Device>, StoreError> {
    let row: Option<DeviceRow> = with_reader!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(
        format!("SELECT {COLUMNS} FROM devices WHERE id = $1"),
    ))
    .bind(device_id.to_string())
    .fetch_optional(pool)
    .await)?;
    row.map(Device::try_from).transpose()
}

/// What authenticating a device needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCredential {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub ward_id: Option<Uuid>,
    pub secret_hash: String,
    pub revoked: bool,
}

/// The credentials of those of `ids` that exist, in one read for many requests. The ids go in
/// as one JSON array and the devices come back as one JSON array in one row: on SQLite every
/// row returned is a hand-off between the database thread and the async side.
pub async fn credentials_among(
    store: &Store,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, DeviceCredential>, StoreError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let json = super::json_param(ids)?;
    let sql = match store.backend() {
        crate::Backend::Sqlite { .. } => CREDENTIALS_SQLITE,
        crate::Backend::Postgres(_) => CREDENTIALS_POSTGRES,
    };
    let found: Option<String> = with_reader!(store, pool => {
        sqlx::query_scalar(sql).bind(&json).fetch_one(pool).await?
    });
    let rows: Vec<(String, String, Option<String>, String, bool)> =
        serde_json::from_str(found.as_deref().unwrap_or("[]"))
            .map_err(|e| StoreError::Other(sqlx::Error::Decode(e.into())))?;
    rows.into_iter()
        .map(|(device, hospital, ward, secret_hash, revoked)| {
            let device = id(&device)?;
            let credential = DeviceCredential {
                id: device,
                hospital_id: id(&hospital)?,
                ward_id: opt_id(ward.as_deref())?,
                secret_hash,
                revoked,
            };
            Ok((device, credential))
        })
        .collect()
}

const CREDENTIALS_SQLITE: &str = "SELECT json_group_array(json_array(id, hospital_id, ward_id, \
     secret_hash, json(CASE WHEN revoked_at IS NULL THEN 'false' ELSE 'true' END))) \
     FROM devices WHERE id IN (SELECT value FROM json_each($1))";
const CREDENTIALS_POSTGRES: &str = "SELECT CAST(json_agg(json_build_array(id, hospital_id, \
     ward_id, secret_hash, revoked_at IS NOT NULL)) AS TEXT) \
     FROM devices WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))";

pub async fn list(store: &Store, hospital_id: Uuid) -> Result<Vec<Device>, StoreError> {
    let rows: Vec<DeviceRow> = with_reader!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(
        format!("SELECT {COLUMNS} FROM devices WHERE hospital_id = $1 ORDER BY id"),
    ))
    .bind(hospital_id.to_string())
    .fetch_all(pool)
    .await)?;
    rows.into_iter().map(Device::try_from).collect()
}

/// Revokes a device's credentials for good. Returns whether it was live.
pub async fn revoke(
    store: &Store,
    device_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = with_writer!(store, pool => sqlx::query("UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(device_id.to_string())
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Records that a device was heard from, with its battery level if it reported one.
pub async fn seen(
    store: &Store,
    device_id: Uuid,
    battery_percent: Option<i32>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    with_writer!(store, pool => sqlx::query(
        "UPDATE devices SET last_seen_at = $2, battery_percent = COALESCE($3, battery_percent) WHERE id = $1",
    )
    .bind(device_id.to_string())
    .bind(now)
    .bind(battery_percent)
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}
