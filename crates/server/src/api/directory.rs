//! `/api/v1/hospitals/{id}` as a directory entry, its doctors, and the department list.
//!
//! Reading the directory is deliberately public: patients look hospitals and doctors up before
//! they have an account, and nothing here is personal. Editing is for the hospital's own admins
//! (and installation admins); every write is validated whole before anything is stored.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use docde_domain::directory::{DayHours, Department, parse_clock};
use docde_store::directory::{self, DirectoryHospital, HospitalFacts, Hours};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::now;
use crate::auth::Principal;
use crate::authz::{Action, Target, authorize};
use crate::directory_index::{Change, changed};
use crate::extract::ApiJson;
use crate::problem::{ApiError, FieldError, Problem};
use crate::state::AppState;

/// Kinds of hospital (종별).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HospitalType {
    /// 의원
    Clinic,
    /// 병원
    Hospital,
    /// 종합병원
    GeneralHospital,
    /// 상급종합병원
    TertiaryHospital,
    /// 치과의원
    DentalClinic,
    /// 한의원
    KoreanMedicineClinic,
    /// 요양병원
    NursingHospital,
}

impl HospitalType {
    pub fn code(self) -> &'static str {
        match self {
            HospitalType::Clinic => "clinic",
            HospitalType::Hospital => "hospital",
            HospitalType::GeneralHospital => "general_hospital",
            HospitalType::TertiaryHospital => "tertiary_hospital",
            HospitalType::DentalClinic => "dental_clinic",
            HospitalType::KoreanMedicineClinic => "korean_medicine_clinic",
            HospitalType::NursingHospital => "nursing_hospital",
        }
    }

    pub fn ko(self) -> &'static str {
        match self {
            HospitalType::Clinic => "의원",
            HospitalType::Hospital => "병원",
            HospitalType::GeneralHospital => "종합병원",
            HospitalType::TertiaryHospital => "상급종합병원",
            HospitalType::DentalClinic => "치과의원",
            HospitalType::KoreanMedicineClinic => "한의원",
            HospitalType::NursingHospital => "요양병원",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            HospitalType::Clinic,
            HospitalType::Hospital,
            HospitalType::GeneralHospital,
            HospitalType::TertiaryHospital,
            HospitalType::DentalClinic,
            HospitalType::KoreanMedicineClinic,
            HospitalType::NursingHospital,
        ]
        .into_iter()
        .find(|t| t.code() == code)
    }
}

/// One day's hours as people write them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct DayHoursView {
    /// `HH:MM`, e.g. `09:00`.
    pub open: String,
    /// `HH:MM`; `24:00` closes at midnight.
    pub close: String,
    /// Lunch break `[start, end]`, e.g. `["13:00", "14:00"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lunch: Option<[String; 2]>,
}

/// Opening hours per weekday and on public holidays; a missing or null day is closed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    pub monday: Option<DayHoursView>,
    pub tuesday: Option<DayHoursView>,
    pub wednesday: Option<DayHoursView>,
    pub thursday: Option<DayHoursView>,
    pub friday: Option<DayHoursView>,
    pub saturday: Option<DayHoursView>,
    pub sunday: Option<DayHoursView>,
    /// Hours on public holidays (the Korean calendar).
    pub holiday: Option<DayHoursView>,
}

impl WeeklyHours {
    fn days(&self) -> [(&'static str, &Option<DayHoursView>); 8] {
        [
            ("monday", &self.monday),
            ("tuesday", &self.tuesday),
            ("wednesday", &self.wednesday),
            ("thursday", &self.thursday),
            ("friday", &self.friday),
            ("saturday", &self.saturday),
            ("sunday", &self.sunday),
            ("holiday", &self.holiday),
        ]
    }

    fn from_hours(hours: &[Hours]) -> Self {
        let view = |h: &Hours| DayHoursView {
            open: clock(h.open),
            close: clock(h.close),
            lunch: h.lunch.map(|(s, e)| [clock(s), clock(e)]),
        };
        let day = |d: u8| hours.iter().find(|h| h.day == d).map(view);
        WeeklyHours {
            monday: day(0),
            tuesday: day(1),
            wednesday: day(2),
            thursday: day(3),
            friday: day(4),
            saturday: day(5),
            sunday: day(6),
            holiday: day(7),
        }
    }
}

fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A department with its names.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentView {
    pub code: &'static str,
    pub ko: &'static str,
    pub en: &'static str,
}

impl From<Department> for DepartmentView {
    fn from(d: Department) -> Self {
        Self {
            code: d.code(),
            ko: d.ko(),
            en: d.en(),
        }
    }
}

/// A hospital's directory entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct HospitalEntry {
    pub id: Uuid,
    pub name: String,
    pub latin_name: Option<String>,
    pub hospital_type: HospitalType,
    /// The type in Korean, e.g. `상급종합병원`.
    pub hospital_type_ko: &'static str,
    pub sido: Option<String>,
    pub sigungu: Option<String>,
    pub road_address: Option<String>,
    pub phone: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub announcement: Option<String>,
    pub time_zone: String,
    pub hours: WeeklyHours,
    pub departments: Vec<DepartmentView>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Review ratings (in `GET /api/v1/hospitals/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<super::reviews::RatingSummaryView>,
}

impl From<DirectoryHospital> for HospitalEntry {
    fn from(h: DirectoryHospital) -> Self {
        let hospital_type =
            HospitalType::from_code(&h.hospital_type).unwrap_or(HospitalType::Clinic);
        Self {
            id: h.id,
            name: h.name,
            latin_name: h.latin_name,
            hospital_type,
            hospital_type_ko: hospital_type.ko(),
            sido: h.sido,
            sigungu: h.sigungu,
            road_address: h.road_address,
            phone: h.phone,
            lat: h.lat,
            lon: h.lon,
            announcement: h.announcement,
            time_zone: h.time_zone,
            hours: WeeklyHours::from_hours(&h.hours),
            departments: h
                .departments
                .iter()
                .filter_map(|d| d.parse::<Department>().ok())
                .map(DepartmentView::from)
                .collect(),
            updated_at: h.updated_at,
            rating: None,
        }
    }
}

/// A hospital's directory entry (public).
#[utoipa::path(get, path = "/api/v1/hospitals/{id}", tag = "directory",
    params(("id" = Uuid, Path, description = "Hospital id")),
    responses(
        (status = 200, description = "The entry", body = HospitalEntry),
        (status = 404, description = "No such hospital (or deleted)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_hospital(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<HospitalEntry>, ApiError> {
    let hospital = directory::get_hospital(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut entry = HospitalEntry::from(hospital);
    let subject = docde_store::reviews::Subject::Hospital(id);
    entry.rating = Some(super::reviews::summary(&state, subject).await?);
    Ok(Json(entry))
}

/// A hospital's directory entry as its admins write it.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct HospitalEntryRequest {
    #[garde(length(chars, min = 1, max = 100))]
    pub name: String,
    #[garde(inner(length(chars, min = 1, max = 150)))]
    pub latin_name: Option<String>,
    #[garde(skip)]
    pub hospital_type: HospitalType,
    #[garde(inner(length(chars, min = 2, max = 20)))]
    pub sido: Option<String>,
    #[garde(inner(length(chars, min = 2, max = 20)))]
    pub sigungu: Option<String>,
    #[garde(inner(length(chars, min = 5, max = 200)))]
    pub road_address: Option<String>,
    #[garde(inner(length(chars, min = 7, max = 20)))]
    pub phone: Option<String>,
    #[garde(skip)]
    pub lat: Option<f64>,
    #[garde(skip)]
    pub lon: Option<f64>,
    #[garde(inner(length(chars, max = 2000)))]
    pub announcement: Option<String>,
    #[garde(skip)]
    #[serde(default)]
    pub hours: WeeklyHours,
    /// Department codes (`internal_medicine`) or Korean names (`내과`).
    #[garde(length(max = 40))]
    #[serde(default)]
    pub departments: Vec<String>,
}

/// Checks a request whole, naming every bad field, and turns it into stored facts.
fn validate(req: HospitalEntryRequest) -> Result<HospitalFacts, ApiError> {
    let mut errors = Vec::new();
    let mut bad = |field: String, message: String| errors.push(FieldError { field, message });
    match (req.lat, req.lon) {
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
                bad("lat".into(), "must be a latitude between -90 and 90".into());
            }
            if !(-180.0..=180.0).contains(&lon) || !lon.is_finite() {
                bad(
                    "lon".into(),
                    "must be a longitude between -180 and 180".into(),
                );
            }
            if lat == 0.0 && lon == 0.0 {
                bad(
                    "lat".into(),
                    "0,0 is not a place where hospitals are".into(),
                );
            }
        }
        (None, None) => {}
        _ => bad("lat".into(), "give both lat and lon, or neither".into()),
    }
    let mut hours = Vec::new();
    for (day, (name, view)) in req.hours.days().into_iter().enumerate() {
        let Some(view) = view else { continue };
        let field = |part: &str| format!("hours.{name}.{part}");
        let open = parse_clock(&view.open).map_err(|e| (field("open"), e.to_string()));
        let close = parse_clock(&view.close).map_err(|e| (field("close"), e.to_string()));
        let lunch = match &view.lunch {
            None => Ok(None),
            Some([s, e]) => match (parse_clock(s), parse_clock(e)) {
                (Ok(s), Ok(e)) => Ok(Some((s, e))),
                (Err(err), _) | (_, Err(err)) => Err((field("lunch"), err.to_string())),
            },
        };
        match (open, close, lunch) {
            (Ok(open), Ok(close), Ok(lunch)) => match DayHours::new(open, close, lunch) {
                Ok(h) => hours.push(Hours {
                    day: day as u8,
                    open: h.open(),
                    close: h.close(),
                    lunch: h.lunch(),
                }),
                Err(e) => {
                    let part = if close <= open { "close" } else { "lunch" };
                    bad(field(part), e.to_string());
                }
            },
            (o, c, l) => {
                for (f, m) in [o.err(), c.err(), l.err()].into_iter().flatten() {
                    bad(f, m);
                }
            }
        }
    }
    let mut departments = Vec::new();
    for (i, raw) in req.departments.iter().enumerate() {
        match raw.parse::<Department>() {
            Ok(d) if !departments.contains(&d.code().to_owned()) => {
                departments.push(d.code().to_owned())
            }
            Ok(_) => {}
            Err(e) => bad(format!("departments[{i}]"), e.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(HospitalFacts {
        name: req.name.trim().to_owned(),
        latin_name: req.latin_name.map(|s| s.trim().to_owned()),
        hospital_type: req.hospital_type.code().to_owned(),
        sido: req.sido.map(|s| s.trim().to_owned()),
        sigungu: req.sigungu.map(|s| s.trim().to_owned()),
        road_address: req.road_address.map(|s| s.trim().to_owned()),
        phone: req.phone.map(|s| s.trim().to_owned()),
        lat: req.lat,
        lon: req.lon,
        announcement: req.announcement,
        hours,
        departments,
    })
}

/// Replace a hospital's directory entry (its admins, or installation admins).
#[utoipa::path(put, path = "/api/v1/hospitals/{id}", tag = "directory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id")), request_body = HospitalEntryRequest,
    responses(
        (status = 200, description = "Stored", body = HospitalEntry),
        (status = 403, description = "Not an admin of this hospital", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad coordinates, hours or departments; `errors` names each field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_hospital(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<HospitalEntryRequest>,
) -> Result<Json<HospitalEntry>, ApiError> {
    authorize(&principal, Action::ManageDirectory, Target::Hospital(id))?;
    let facts = validate(req)?;
    if !directory::update_hospital(&state.store, id, &facts, now()).await? {
        return Err(ApiError::NotFound);
    }
    changed(&state, Change::Hospital { id }).await;
    let hospital = directory::get_hospital(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut entry = HospitalEntry::from(hospital);
    let subject = docde_store::reviews::Subject::Hospital(id);
    entry.rating = Some(super::reviews::summary(&state, subject).await?);
    Ok(Json(entry))
}

/// Remove a hospital from the directory (soft delete).
#[utoipa::path(delete, path = "/api/v1/hospitals/{id}", tag = "directory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_hospital(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    authorize(&principal, Action::ManageDirectory, Target::Hospital(id))?;
    if !directory::delete_hospital(&state.store, id, now()).await? {
        return Err(ApiError::NotFound);
    }
    changed(&state, Change::Hospital { id }).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The fixed list of departments (public).
#[utoipa::path(get, path = "/api/v1/departments", tag = "directory",
    responses((status = 200, description = "Every department", body = [DepartmentView])))]
pub async fn departments() -> Json<Vec<DepartmentView>> {
    Json(
        Department::ALL
            .iter()
            .copied()
            .map(DepartmentView::from)
            .collect(),
    )
}

/// Installation admins: rebuild the search index of every instance from the database.
#[utoipa::path(post, path = "/api/v1/admin/search/reindex", tag = "search", security(("bearer" = [])),
    responses(
        (status = 200, description = "This instance rebuilt; the others were told to", body = ReindexReport),
        (status = 403, description = "Not an installation admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reindex(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<ReindexReport>, ApiError> {
    authorize(&principal, Action::RebuildSearch, Target::Installation)?;
    let stats = state.directory.rebuild(&state.store).await?;
    tell_other_instances(&state).await;
    Ok(Json(ReindexReport {
        hospitals: stats.hospitals,
        doctors: stats.doctors,
        build_ms: stats.load_ms + stats.index_ms,
    }))
}

async fn tell_other_instances(state: &AppState) {
    if let Err(e) = crate::directory_index::broadcast_rebuild(&state.bus).await {
        tracing::warn!(error = %e, "rebuild notice not sent to other instances");
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReindexReport {
    pub hospitals: usize,
    pub doctors: usize,
    pub build_ms: u128,
}
