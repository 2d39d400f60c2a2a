//! The hospital directory: hospital details, opening hours, departments and doctors.
//!
//! Writes replace a hospital's hours and departments wholesale in one transaction, so a
//! reader never sees half a timetable. Reads for the search index load everything in a few
//! set-based queries rather than one query per hospital.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::accounts::{id, opt_id};
use crate::{Store, StoreError, with_reader, with_writer};

/// One day's hours: `day` 0 = Monday … 6 = Sunday, 7 = public holidays; minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub day: u8,
    pub open: u16,
    pub close: u16,
    pub lunch: Option<(u16, u16)>,
}

/// A hospital as the directory shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryHospital {
    pub id: Uuid,
    pub name: String,
    pub latin_name: Option<String>,
    pub hospital_type: String,
    pub sido: Option<String>,
    pub sigungu: Option<String>,
    pub road_address: Option<String>,
    pub phone: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub announcement: Option<String>,
    pub time_zone: String,
    pub hours: Vec<Hours>,
    pub departments: Vec<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// The editable facts of a hospital (everything but its id).
#[derive(Debug, Clone, PartialEq)]
pub struct HospitalFacts {
    pub name: String,
    pub latin_name: Option<String>,
    pub hospital_type: String,
    pub sido: Option<String>,
    pub sigungu: Option<String>,
    pub road_address: Option<String>,
    pub phone: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub announcement: Option<String>,
    pub hours: Vec<Hours>,
    pub departments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Doctor {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub user_id: Option<Uuid>,
    pub name: String,
    pub bio: Option<String>,
    pub accepts_online_booking: bool,
    pub departments: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct HospitalRow {
    id: String,
    name: String,
    latin_name: Option<String>,
    hospital_type: String,
    sido: Option<String>,
    sigungu: Option<String>,
    road_address: Option<String>,
    phone: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    announcement: Option<String>,
    time_zone: String,
    updated_at: Option<DateTime<Utc>>,
}

const HOSPITAL_COLUMNS: &str = "id, name, latin_name, hospital_type, sido, sigungu, road_address, phone, lat, lon, \
                                announcement, time_zone, updated_at";

impl HospitalRow {
    fn into_hospital(
        self,
        hours: Vec<Hours>,
        departments: Vec<String>,
    ) -> Result<DirectoryHospital, StoreError> {
        Ok(DirectoryHospital {
            id: id(&self.id)?,
            name: self.name,
            latin_name: self.latin_name,
            hospital_type: self.hospital_type,
            sido: self.sido,
            sigungu: self.sigungu,
            road_address: self.road_address,
            phone: self.phone,
            lat: self.lat,
            lon: self.lon,
            announcement: self.announcement,
            time_zone: self.time_zone,
            hours,
            departments,
            updated_at: self.updated_at,
        })
    }
}

type HoursRow = (String, i16, i16, i16, Option<i16>, Option<i16>);

fn hours_of(rows: Vec<HoursRow>) -> HashMap<String, Vec<Hours>> {
    let mut map: HashMap<String, Vec<Hours>> = HashMap::new();
    for (hospital, day, open, close, ls, le) in rows {
        let lunch = ls.zip(le).map(|(s, e)| (s as u16, e as u16));
        map.entry(hospital).or_default().push(Hours {
            day: day as u8,
            open: open as u16,
            close: close as u16,
            lunch,
        });
    }
    map
}

fn group(rows: Vec<(String, String)>) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (owner, value) in rows {
        map.entry(owner).or_default().push(value);
    }
    map
}

/// Replaces a hospital's facts, hours and departments. Returns false if there is no such
/// (undeleted) hospital.
pub async fn update_hospital(
    store: &Store,
    hospital_id: Uuid,
    facts: &HospitalFacts,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let hid = hospital_id.to_string();
    with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE hospitals SET name = $2, latin_name = $3, hospital_type = $4, sido = $5, sigungu = $6,
                    road_address = $7, phone = $8, lat = $9, lon = $10, announcement = $11, updated_at = $12
             WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(&hid)
        .bind(&facts.name)
        .bind(&facts.latin_name)
        .bind(&facts.hospital_type)
        .bind(&facts.sido)
        .bind(&facts.sigungu)
        .bind(&facts.road_address)
        .bind(&facts.phone)
        .bind(facts.lat)
        .bind(facts.lon)
        .bind(&facts.announcement)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM hospital_hours WHERE hospital_id = $1").bind(&hid).execute(&mut *tx).await?;
        for h in &facts.hours {
            sqlx::query(
                "INSERT INTO hospital_hours (hospital_id, day, open_min, close_min, lunch_start, lunch_end)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&hid)
            .bind(i16::from(h.day))
            .bind(h.open as i16)
            .bind(h.close as i16)
            .bind(h.lunch.map(|l| l.0 as i16))
            .bind(h.lunch.map(|l| l.1 as i16))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM hospital_departments WHERE hospital_id = $1").bind(&hid).execute(&mut *tx).await?;
        for d in &facts.departments {
            sqlx::query("INSERT INTO hospital_departments (hospital_id, department) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(&hid)
                .bind(d)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(true)
    }.await)
}

/// Soft-deletes a hospital (it disappears from the directory; history keeps referring to it).
pub async fn delete_hospital(
    store: &Store,
    hospital_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = with_writer!(store, pool => sqlx::query("UPDATE hospitals SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL")
        .bind(hospital_id.to_string())
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// One hospital with its hours and departments, unless deleted.
pub async fn get_hospital(
    store: &Store,
    hospital_id: Uuid,
) -> Result<Option<DirectoryHospital>, StoreError> {
    let hid = hospital_id.to_string();
    let row: Option<HospitalRow> = with_reader!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(
        format!("SELECT {HOSPITAL_COLUMNS} FROM hospitals WHERE id = $1 AND deleted_at IS NULL"),
    ))
    .bind(&hid)
    .fetch_optional(pool)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    let hours: Vec<HoursRow> = with_reader!(store, pool => sqlx::query_as(
        "SELECT hospital_id, day, open_min, close_min, lunch_start, lunch_end FROM hospital_hours WHERE hospital_id = $1 ORDER BY day",
    )
    .bind(&hid)
    .fetch_all(pool)
    .await)?;
    let departments: Vec<(String, String)> = with_reader!(store, pool => sqlx::query_as(
        "SELECT hospital_id, department FROM hospital_departments WHERE hospital_id = $1 ORDER BY department",
    )
    .bind(&hid)
    .fetch_all(pool)
    .await)?;
    let hours = hours_of(hours).remove(&hid).unwrap_or_default();
    let departments = departments.into_iter().map(|(_, d)| d).collect();
    row.into_hospital(hours, departments).map(Some)
}

/// Every live hospital with hours and departments, for building the search index.
pub async fn all_hospitals(store: &Store) -> Result<Vec<DirectoryHospital>, StoreError> {
    let rows: Vec<HospitalRow> = with_reader!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(
        format!("SELECT {HOSPITAL_COLUMNS} FROM hospitals WHERE deleted_at IS NULL ORDER BY id"),
    ))
    .fetch_all(pool)
    .await)?;
    let hours: Vec<HoursRow> = with_reader!(store, pool => sqlx::query_as(
        "SELECT hospital_id, day, open_min, close_min, lunch_start, lunch_end FROM hospital_hours ORDER BY hospital_id, day",
    )
    .fetch_all(pool)
    .await)?;
    let departments: Vec<(String, String)> = with_reader!(store, pool => sqlx::query_as(
        "SELECT hospital_id, department FROM hospital_departments ORDER BY hospital_id, department",
    )
    .fetch_all(pool)
    .await)?;
    let mut hours = hours_of(hours);
    let mut departments = group(departments);
    rows.into_iter()
        .map(|r| {
            let (h, d) = (
                hours.remove(&r.id).unwrap_or_default(),
                departments.remove(&r.id).unwrap_or_default(),
            );
            r.into_hospital(h, d)
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct DoctorRow {
    id: String,
    hospital_id: String,
    user_id: Option<String>,
    name: String,
    bio: Option<String>,
    accepts_online_booking: bool,
}

impl DoctorRow {
    fn into_doctor(self, departments: Vec<String>) -> Result<Doctor, StoreError> {
        Ok(Doctor {
            id: id(&self.id)?,
            hospital_id: id(&self.hospital_id)?,
            user_id: opt_id(self.user_id.as_deref())?,
            name: self.name,
            bio: self.bio,
            accepts_online_booking: self.accepts_online_booking,
            departments,
        })
    }
}

/// A doctor's editable facts.
#[derive(Debug, Clone, PartialEq)]
pub struct DoctorFacts {
    pub name: String,
    pub bio: Option<String>,
    pub accepts_online_booking: bool,
    pub departments: Vec<String>,
    pub user_id: Option<Uuid>,
}

/// Creates or replaces a doctor of a hospital.
pub async fn put_doctor(
    store: &Store,
    doctor_id: Uuid,
    hospital_id: Uuid,
    facts: &DoctorFacts,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let did = doctor_id.to_string();
    with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO doctors (id, hospital_id, user_id, name, bio, accepts_online_booking, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, name = excluded.name, bio = excluded.bio,
                 accepts_online_booking = excluded.accepts_online_booking",
        )
        .bind(&did)
        .bind(hospital_id.to_string())
        .bind(facts.user_id.map(|u| u.to_string()))
        .bind(&facts.name)
        .bind(&facts.bio)
        .bind(facts.accepts_online_booking)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM doctor_departments WHERE doctor_id = $1").bind(&did).execute(&mut *tx).await?;
        for d in &facts.departments {
            sqlx::query("INSERT INTO doctor_departments (doctor_id, department) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(&did)
                .bind(d)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }.await)
}

pub async fn delete_doctor(
    store: &Store,
    doctor_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = with_writer!(store, pool => sqlx::query("UPDATE doctors SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL")
        .bind(doctor_id.to_string())
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn get_doctor(store: &Store, doctor_id: Uuid) -> Result<Option<Doctor>, StoreError> {
    let did = doctor_id.to_string();
    let row: Option<DoctorRow> = with_reader!(store, pool => sqlx::query_as(
        "SELECT id, hospital_id, user_id, name, bio, accepts_online_booking FROM doctors WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(&did)
    .fetch_optional(pool)
    .await)?;
    let Some(row) = row else { return Ok(None) };
    let departments: Vec<(String,)> = with_reader!(store, pool => sqlx::query_as(
        "SELECT department FROM doctor_departments WHERE doctor_id = $1 ORDER BY department",
    )
    .bind(&did)
    .fetch_all(pool)
    .await)?;
    row.into_doctor(departments.into_iter().map(|(d,)| d).collect())
        .map(Some)
}

/// Live doctors, of one hospital or (with `None`) of every live hospital, for the index.
pub async fn doctors(store: &Store, hospital_id: Option<Uuid>) -> Result<Vec<Doctor>, StoreError> {
    let hid = hospital_id.map(|h| h.to_string());
    let rows: Vec<DoctorRow> = with_reader!(store, pool => sqlx::query_as(
        "SELECT d.id, d.hospital_id, d.user_id, d.name, d.bio, d.accepts_online_booking
         FROM doctors d JOIN hospitals h ON h.id = d.hospital_id
         WHERE d.deleted_at IS NULL AND h.deleted_at IS NULL AND ($1 IS NULL OR d.hospital_id = $1)
         ORDER BY d.id",
    )
    .bind(&hid)
    .fetch_all(pool)
    .await)?;
    let departments: Vec<(String, String)> = with_reader!(store, pool => sqlx::query_as(
        "SELECT dd.doctor_id, dd.department FROM doctor_departments dd JOIN doctors d ON d.id = dd.doctor_id
         WHERE d.deleted_at IS NULL AND ($1 IS NULL OR d.hospital_id = $1)",
    )
    .bind(&hid)
    .fetch_all(pool)
    .await)?;
    let mut departments = group(departments);
    rows.into_iter()
        .map(|r| {
            let d = departments.remove(&r.id).unwrap_or_default();
            r.into_doctor(d)
        })
        .collect()
}

/// A hospital with its doctors, for bulk loading (seeding and benchmarks).
#[derive(Debug, Clone)]
pub struct NewDirectoryHospital {
    pub id: Uuid,
    pub facts: HospitalFacts,
    pub doctors: Vec<(Uuid, DoctorFacts)>,
}

/// Rows per multi-row INSERT: far below SQLite's 32,766 and PostgreSQL's 65,535 bind
/// parameters for the widest table (14 columns).
const BULK_ROWS: usize = 1_000;

/// Inserts many hospitals with their hours, departments and doctors, in one transaction per
/// call, with multi-row INSERTs (a round trip per thousand rows, not per row).
pub async fn bulk_insert(
    store: &Store,
    hospitals: &[NewDirectoryHospital],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    macro_rules! insert_rows {
        ($tx:expr, $head:literal, $rows:expr, |$b:ident, $row:ident| $push:block) => {
            for chunk in $rows.chunks(BULK_ROWS) {
                if chunk.is_empty() {
                    continue;
                }
                let mut builder = sqlx::QueryBuilder::new($head);
                builder.push_values(chunk, |mut $b, $row| $push);
                builder.build().execute(&mut *$tx).await?;
            }
        };
    }
    let hours: Vec<(String, Hours)> = hospitals
        .iter()
        .flat_map(|h| h.facts.hours.iter().map(move |x| (h.id.to_string(), *x)))
        .collect();
    let departments: Vec<(String, &String)> = hospitals
        .iter()
        .flat_map(|h| {
            h.facts
                .departments
                .iter()
                .map(move |d| (h.id.to_string(), d))
        })
        .collect();
    let doctors: Vec<(Uuid, &DoctorFacts, Uuid)> = hospitals
        .iter()
        .flat_map(|h| h.doctors.iter().map(move |(id, d)| (*id, d, h.id)))
        .collect();
    let doctor_departments: Vec<(String, &String)> = doctors
        .iter()
        .flat_map(|(id, d, _)| d.departments.iter().map(move |dep| (id.to_string(), dep)))
        .collect();
    with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        insert_rows!(tx, "INSERT INTO hospitals (id, name, time_zone, created_at, latin_name, hospital_type, sido, sigungu, \
                           road_address, phone, lat, lon, announcement, updated_at) ", hospitals, |b, h| {
            let f = &h.facts;
            b.push_bind(h.id.to_string()).push_bind(f.name.clone()).push_bind("Asia/Seoul").push_bind(now)
                .push_bind(f.latin_name.clone()).push_bind(f.hospital_type.clone()).push_bind(f.sido.clone())
                .push_bind(f.sigungu.clone()).push_bind(f.road_address.clone()).push_bind(f.phone.clone())
                .push_bind(f.lat).push_bind(f.lon).push_bind(f.announcement.clone()).push_bind(now);
        });
        insert_rows!(tx, "INSERT INTO hospital_hours (hospital_id, day, open_min, close_min, lunch_start, lunch_end) ", hours, |b, row| {
            let (hid, h) = row;
            b.push_bind(hid.clone()).push_bind(i16::from(h.day)).push_bind(h.open as i16).push_bind(h.close as i16)
                .push_bind(h.lunch.map(|l| l.0 as i16)).push_bind(h.lunch.map(|l| l.1 as i16));
        });
        insert_rows!(tx, "INSERT INTO hospital_departments (hospital_id, department) ", departments, |b, row| {
            b.push_bind(row.0.clone()).push_bind(row.1.clone());
        });
        insert_rows!(tx, "INSERT INTO doctors (id, hospital_id, user_id, name, bio, accepts_online_booking, created_at) ", doctors, |b, row| {
            let (id, d, hid) = row;
            b.push_bind(id.to_string()).push_bind(hid.to_string()).push_bind(d.user_id.map(|u| u.to_string()))
                .push_bind(d.name.clone()).push_bind(d.bio.clone()).push_bind(d.accepts_online_booking).push_bind(now);
        });
        insert_rows!(tx, "INSERT INTO doctor_departments (doctor_id, department) ", doctor_departments, |b, row| {
            b.push_bind(row.0.clone()).push_bind(row.1.clone());
        });
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }.await)
}

/// What a search result shows of a hospital.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HospitalSummaryRow {
    pub id: String,
    pub name: String,
    pub hospital_type: String,
    pub sido: Option<String>,
    pub sigungu: Option<String>,
    pub road_address: Option<String>,
    pub phone: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// Summaries of live hospitals by id, in no particular order (one round trip for a page).
pub async fn hospital_summaries(
    store: &Store,
    ids: &[Uuid],
) -> Result<Vec<HospitalSummaryRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(with_reader!(store, pool => {
        let mut q = sqlx::QueryBuilder::new(
            "SELECT id, name, hospital_type, sido, sigungu, road_address, phone, lat, lon FROM hospitals WHERE deleted_at IS NULL AND id IN (",
        );
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(id.to_string());
        }
        q.push(")");
        q.build_query_as::<HospitalSummaryRow>().fetch_all(pool).await
    })?)
}

/// What a search result shows of a doctor.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DoctorSummaryRow {
    pub id: String,
    pub hospital_id: String,
    pub name: String,
    pub hospital_name: String,
    pub accepts_online_booking: bool,
}

/// Summaries of live doctors by id, with their hospital's name.
pub async fn doctor_summaries(
    store: &Store,
    ids: &[Uuid],
) -> Result<Vec<DoctorSummaryRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(with_reader!(store, pool => {
        let mut q = sqlx::QueryBuilder::new(
            "SELECT d.id, d.hospital_id, d.name, h.name AS hospital_name, d.accepts_online_booking
             FROM doctors d JOIN hospitals h ON h.id = d.hospital_id
             WHERE d.deleted_at IS NULL AND h.deleted_at IS NULL AND d.id IN (",
        );
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(id.to_string());
        }
        q.push(")");
        q.build_query_as::<DoctorSummaryRow>().fetch_all(pool).await
    })?)
}
