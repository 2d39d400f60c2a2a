//! Hospitals and wards, as far as accounts need them (the directory and ward issues extend
//! these tables).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::id;
use crate::{Store, StoreError, with_reader, with_writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hospital {
    pub id: Uuid,
    pub name: String,
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ward {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub name: String,
    pub nurse_ids: Vec<Uuid>,
}

pub async fn create_hospital(
    store: &Store,
    name: &str,
    time_zone: &str,
    now: DateTime<Utc>,
) -> Result<Hospital, StoreError> {
    let hospital = Hospital {
        id: Uuid::now_v7(),
        name: name.to_owned(),
        time_zone: time_zone.to_owned(),
        created_at: now,
    };
    with_writer!(store, pool => sqlx::query("INSERT INTO hospitals (id, name, time_zone, created_at) VALUES ($1, $2, $3, $4)")
        .bind(hospital.id.to_string())
        .bind(&hospital.name)
        .bind(&hospital.time_zone)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(hospital)
}

pub async fn get_hospital(
    store: &Store,
    hospital_id: Uuid,
) -> Result<Option<Hospital>, StoreError> {
    let row: Option<(String, String, String, DateTime<Utc>)> = with_reader!(store, pool => sqlx::query_as(
        "SELECT id, name, time_zone, created_at FROM hospitals WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(hospital_id.to_string())
    .fetch_optional(pool)
    .await)?;
    row.map(|(i, name, time_zone, created_at)| {
        Ok(Hospital {
            id: id(&i)?,
            name,
            time_zone,
            created_at,
        })
    })
    .transpose()
}

pub async fn create_ward(
    store: &Store,
    hospital_id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Ward, StoreError> {
    let ward = Ward {
        id: Uuid::now_v7(),
        hospital_id,
        name: name.to_owned(),
        nurse_ids: Vec::new(),
    };
    with_writer!(store, pool => sqlx::query("INSERT INTO wards (id, hospital_id, name, created_at) VALUES ($1, $2, $3, $4)")
        .bind(ward.id.to_string())
        .bind(hospital_id.to_string())
        .bind(name)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(ward)
}

pub async fn get_ward(store: &Store, ward_id: Uuid) -> Result<Option<Ward>, StoreError> {
    let row: Option<(String, String, String)> = with_reader!(store, pool => sqlx::query_as(
        "SELECT id, hospital_id, name FROM wards WHERE id = $1",
    )
    .bind(ward_id.to_string())
    .fetch_optional(pool)
    .await)?;
    let Some((i, hospital, name)) = row else {
        return Ok(None);
    };
    let nurses: Vec<(String,)> = with_reader!(store, pool => sqlx::query_as(
        "SELECT user_id FROM ward_nurses WHERE ward_id = $1 ORDER BY user_id",
    )
    .bind(ward_id.to_string())
    .fetch_all(pool)
    .await)?;
    Ok(Some(Ward {
        id: id(&i)?,
        hospital_id: id(&hospital)?,
        name,
        nurse_ids: nurses.iter().map(|(n,)| id(n)).collect::<Result<_, _>>()?,
    }))
}

/// Assigns a nurse to a ward; assigning twice is harmless.
pub async fn assign_nurse(store: &Store, ward_id: Uuid, user_id: Uuid) -> Result<(), StoreError> {
    with_writer!(store, pool => sqlx::query(
        "INSERT INTO ward_nurses (ward_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(ward_id.to_string())
    .bind(user_id.to_string())
    .execute(pool)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn unassign_nurse(
    store: &Store,
    ward_id: Uuid,
    user_id: Uuid,
) -> Result<bool, StoreError> {
    let n = with_writer!(store, pool => sqlx::query("DELETE FROM ward_nurses WHERE ward_id = $1 AND user_id = $2")
        .bind(ward_id.to_string())
        .bind(user_id.to_string())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The wards a nurse is assigned to.
pub async fn wards_of_nurse(store: &Store, user_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    let rows: Vec<(String,)> = with_reader!(store, pool => sqlx::query_as(
        "SELECT ward_id FROM ward_nurses WHERE user_id = $1 ORDER BY ward_id",
    )
    .bind(user_id.to_string())
    .fetch_all(pool)
    .await)?;
    rows.iter().map(|(w,)| id(w)).collect()
}
