//! `GET /api/v1/search/hospitals` and `/doctors`: the directory as patients search it, in
//! Korean (substrings, initial consonants, any spacing) and Latin letters (prefixes, typos).
//!
//! Deliberately public: patients search before they have an account; results hold nothing
//! personal. The query text is never logged.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::{Datelike, FixedOffset, Timelike, Utc};
use docde_domain::directory::{Department, HolidayCalendar};
use docde_search::{DoctorQuery, HospitalQuery, OpenAt, Sort};
use docde_store::reviews::Rated;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::directory::HospitalType;
use super::invalid;
use super::reviews::RatingSummaryView;
use crate::directory_index::HospitalCard;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    Relevance,
    /// Nearest first; needs `lat` and `lon`.
    Distance,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HospitalSearch {
    /// What the patient typed: 서울대, ㅅㅇㄷ, 서울 대학교, samsung, seoul st mary …
    #[serde(default)]
    pub q: String,
    /// 시도 as written in addresses, e.g. 서울특별시.
    pub sido: Option<String>,
    /// 시군구, e.g. 종로구.
    pub sigungu: Option<String>,
    /// Department code (`internal_medicine`) or Korean name (`내과`).
    pub department: Option<String>,
    /// Hospital type code, e.g. `clinic`, `tertiary_hospital`.
    #[serde(rename = "type")]
    pub hospital_type: Option<HospitalType>,
    /// Only hospitals open now (Korean time; lunch breaks and public holidays respected).
    #[serde(default)]
    pub open_now: bool,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    #[serde(default)]
    #[param(inline)]
    pub sort: SortBy,
    /// 1–100, default 20.
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HighlightView {
    /// `name`, `latin_name`, `address`, `department`, `doctor` (hospitals); `name`,
    /// `department`, `hospital` (doctors).
    pub field: &'static str,
    pub text: String,
    /// Matched character ranges `[start, end)` in `text`.
    pub ranges: Vec<[usize; 2]>,
}

impl From<docde_search::Highlight> for HighlightView {
    fn from(h: docde_search::Highlight) -> Self {
        Self {
            field: h.field,
            text: h.text,
            ranges: h.ranges.into_iter().map(|(s, e)| [s, e]).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HospitalResult {
    pub id: Uuid,
    pub name: String,
    pub hospital_type: String,
    pub sido: Option<String>,
    pub sigungu: Option<String>,
    pub road_address: Option<String>,
    pub phone: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Metres from `lat`/`lon`, when given.
    pub distance_m: Option<f64>,
    pub highlights: Vec<HighlightView>,
    /// Review ratings (may lag a review written on another instance by a few seconds).
    pub rating: RatingSummaryView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HospitalResults {
    pub items: Vec<HospitalResult>,
    pub next_cursor: Option<String>,
    /// Matches in all (every page), counted exactly up to 1,000. When more match, this is 1,000
    /// and `total_is_lower_bound` is true (show "1,000+"); every match is still reachable
    /// through `next_cursor`.
    pub total: usize,
    /// True when more than `total` hospitals match.
    pub total_is_lower_bound: bool,
}

fn not_ready() -> ApiError {
    ApiError::Rejected {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "search_index_building",
        detail: Some("the search index is being built; try again in a few seconds".into()),
    }
}

fn index(state: &AppState) -> Result<docde_search::SearchIndex, ApiError> {
    state.directory.get().ok_or_else(not_ready)
}

fn search_error(e: docde_search::Error) -> ApiError {
    match e {
        docde_search::Error::InvalidCursor => invalid("cursor", "does not belong to this search"),
        docde_search::Error::QueryTooLong => invalid("q", "at most 100 characters and 10 words"),
        docde_search::Error::InvalidCoordinates => {
            invalid("lat", "lat and lon must be valid coordinates")
        }
        docde_search::Error::InvalidOpenAt => invalid("open_now", "invalid time"),
        docde_search::Error::Index(e) => ApiError::Internal(anyhow::anyhow!("search index: {e}")),
    }
}

fn sort(by: SortBy, lat: Option<f64>, lon: Option<f64>) -> Result<Sort, ApiError> {
    match (by, lat, lon) {
        (SortBy::Distance, Some(lat), Some(lon)) => Ok(Sort::Distance { lat, lon }),
        (SortBy::Distance, _, _) => Err(invalid("lat", "sorting by distance needs lat and lon")),
        (SortBy::Relevance, _, _) => Ok(Sort::Relevance),
    }
}

fn department(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    raw.map(|d| {
        d.parse::<Department>()
            .map(|d| d.ko().to_owned())
            .map_err(|e| invalid("department", e))
    })
    .transpose()
}

fn limit(raw: Option<usize>) -> Result<usize, ApiError> {
    match raw.unwrap_or(20) {
        n @ 1..=100 => Ok(n),
        _ => Err(invalid("limit", "must be between 1 and 100")),
    }
}

/// Built once: `open_now` searches are on the hot path.
static KOREAN_HOLIDAYS: LazyLock<HolidayCalendar> = LazyLock::new(HolidayCalendar::korea);

/// Now in Korea (UTC+9 all year: Korea keeps no daylight saving time).
fn open_now() -> OpenAt {
    let kst = FixedOffset::east_opt(9 * 3600).expect("valid offset");
    let local = Utc::now().with_timezone(&kst).naive_local();
    OpenAt {
        weekday: local.weekday().num_days_from_monday() as u8,
        minute: (local.hour() * 60 + local.minute()) as u16,
        is_public_holiday: KOREAN_HOLIDAYS.is_holiday(local.date()),
    }
}

/// Search hospitals by name, address, department or doctor.
#[utoipa::path(get, path = "/api/v1/search/hospitals", tag = "search", operation_id = "search_hospitals", params(HospitalSearch),
    responses(
        (status = 200, description = "A page of matches, best first (or nearest first)", body = HospitalResults),
        (status = 422, description = "Bad filter, sort or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`search_index_building` right after start", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn hospitals(
    State(state): State<AppState>,
    Query(q): Query<HospitalSearch>,
) -> Result<Json<HospitalResults>, ApiError> {
    let query = HospitalQuery {
        department: department(q.department.as_deref())?,
        hospital_type: q.hospital_type.map(|t| t.ko().to_owned()),
        open_at: q.open_now.then(open_now),
        sort: sort(q.sort, q.lat, q.lon)?,
        limit: limit(q.limit)?,
        text: q.q,
        sido: q.sido,
        sigungu: q.sigungu,
        cursor: q.cursor,
    };
    let (index, cards) = state.directory.with_cards().ok_or_else(not_ready)?;
    let page = index.search_hospitals(&query).map_err(search_error)?;
    // The page's summaries come from memory (kept current with the index); its ratings from
    // a short-lived cache, so a repeated page does not wait for the database.
    let ids: Vec<Uuid> = page.items.iter().map(|h| h.id).collect();
    let mut ratings = state
        .ratings
        .of(&state.store, Rated::Hospitals, &ids)
        .await?;
    let cards: Vec<Option<Arc<HospitalCard>>> = {
        let cards = cards.read().unwrap_or_else(|e| e.into_inner());
        page.items
            .iter()
            .map(|h| cards.get(&h.id).cloned())
            .collect()
    };
    let items = page
        .items
        .into_iter()
        .zip(cards)
        .filter_map(|(hit, card)| {
            // A hospital deleted between the index lookup and this read is left out.
            let card = card?;
            Some(HospitalResult {
                id: hit.id,
                name: card.name.clone(),
                hospital_type: card.hospital_type.clone(),
                sido: card.sido.clone(),
                sigungu: card.sigungu.clone(),
                road_address: card.road_address.clone(),
                phone: card.phone.clone(),
                lat: card.lat,
                lon: card.lon,
                distance_m: hit.distance_m,
                highlights: hit
                    .highlights
                    .into_iter()
                    .map(HighlightView::from)
                    .collect(),
                rating: ratings.remove(&hit.id).unwrap_or_default().into(),
            })
        })
        .collect();
    Ok(Json(HospitalResults {
        items,
        next_cursor: page.next_cursor,
        total: page.total,
        total_is_lower_bound: page.total_is_lower_bound,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DoctorSearch {
    /// A doctor's name (or its initial consonants), a department or a hospital name.
    #[serde(default)]
    pub q: String,
    pub sido: Option<String>,
    pub sigungu: Option<String>,
    /// Department code or Korean name.
    pub department: Option<String>,
    pub hospital_id: Option<Uuid>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    #[serde(default)]
    #[param(inline)]
    pub sort: SortBy,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DoctorResult {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub name: String,
    pub hospital_name: String,
    pub accepts_online_booking: bool,
    pub distance_m: Option<f64>,
    pub highlights: Vec<HighlightView>,
    /// Review ratings (may lag a review written on another instance by a few seconds).
    pub rating: RatingSummaryView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DoctorResults {
    pub items: Vec<DoctorResult>,
    pub next_cursor: Option<String>,
    /// As in hospital results: exact up to 1,000.
    pub total: usize,
    /// True when more than `total` doctors match.
    pub total_is_lower_bound: bool,
}

/// Search doctors by name, department or hospital.
#[utoipa::path(get, path = "/api/v1/search/doctors", tag = "search", operation_id = "search_doctors", params(DoctorSearch),
    responses(
        (status = 200, description = "A page of matches", body = DoctorResults),
        (status = 422, description = "Bad filter, sort or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn doctors(
    State(state): State<AppState>,
    Query(q): Query<DoctorSearch>,
) -> Result<Json<DoctorResults>, ApiError> {
    let query = DoctorQuery {
        department: department(q.department.as_deref())?,
        hospital_id: q.hospital_id,
        sort: sort(q.sort, q.lat, q.lon)?,
        limit: limit(q.limit)?,
        text: q.q,
        sido: q.sido,
        sigungu: q.sigungu,
        cursor: q.cursor,
    };
    let index = index(&state)?;
    let page = index.search_doctors(&query).map_err(search_error)?;
    let ids: Vec<Uuid> = page.items.iter().map(|h| h.id).collect();
    let mut ratings = state.ratings.of(&state.store, Rated::Doctors, &ids).await?;
    let mut rows: HashMap<String, _> = docde_store::directory::doctor_summaries(&state.store, &ids)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let items = page
        .items
        .into_iter()
        .filter_map(|hit| {
            let row = rows.remove(&hit.id.to_string())?;
            Some(DoctorResult {
                id: hit.id,
                hospital_id: hit.hospital_id,
                name: row.name,
                hospital_name: row.hospital_name,
                accepts_online_booking: row.accepts_online_booking,
                distance_m: hit.distance_m,
                highlights: hit
                    .highlights
                    .into_iter()
                    .map(HighlightView::from)
                    .collect(),
                rating: ratings.remove(&hit.id).unwrap_or_default().into(),
            })
        })
        .collect();
    Ok(Json(DoctorResults {
        items,
        next_cursor: page.next_cursor,
        total: page.total,
        total_is_lower_bound: page.total_is_lower_bound,
    }))
}
