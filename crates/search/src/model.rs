//! The documents the index holds and the queries and pages it answers. Plain data: the server
//! maps its own DTOs onto these.

use uuid::Uuid;

/// Opening hours of one day, in minutes after local midnight.
///
/// Open means `open <= minute < close` and not `lunch.0 <= minute < lunch.1`: the closing minute
/// and the first minute of lunch are closed, the minute lunch ends is open again. Hours that do
/// not satisfy `open < close <= 1440` never count as open (overnight hours are not modelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayHours {
    pub open: u16,
    pub close: u16,
    pub lunch: Option<(u16, u16)>,
}

/// A hospital as the directory index sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct HospitalDoc {
    pub id: Uuid,
    pub name: String,
    /// 의원, 병원, 종합병원, 상급종합병원, 치과의원, 한의원 …
    pub hospital_type: String,
    /// 시도, e.g. 서울특별시.
    pub sido: String,
    /// 시군구, e.g. 종로구.
    pub sigungu: String,
    pub address: String,
    /// Korean department names (내과, 소아청소년과 …).
    pub departments: Vec<String>,
    pub doctor_names: Vec<String>,
    /// e.g. "Seoul National University Hospital".
    pub latin_name: Option<String>,
    pub lat: f64,
    pub lon: f64,
    /// Monday..Sunday; `None` = closed that day.
    pub weekly: [Option<DayHours>; 7],
    /// Hours on public holidays; `None` = closed.
    pub holiday: Option<DayHours>,
}

/// A doctor, denormalised with the hospital fields the doctor search filters and matches on.
#[derive(Debug, Clone, PartialEq)]
pub struct DoctorDoc {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub name: String,
    pub departments: Vec<String>,
    pub hospital_name: String,
    pub sido: String,
    pub sigungu: String,
    pub lat: f64,
    pub lon: f64,
}

/// "Open at this local time" filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenAt {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Minute of the local day, 0..1440.
    pub minute: u16,
    /// On a public holiday the hospital's `holiday` hours apply instead of the weekday's.
    pub is_public_holiday: bool,
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Sort {
    /// Best match first (see the crate doc for the scoring tiers), then shorter names, then id.
    #[default]
    Relevance,
    /// Nearest first by great-circle (haversine) distance; documents without valid coordinates
    /// come last. Hits carry `distance_m`; `score` is 0 (scoring is skipped).
    Distance { lat: f64, lon: f64 },
}

/// A hospital search.
#[derive(Debug, Clone, PartialEq)]
pub struct HospitalQuery {
    /// Free text; empty lists everything that passes the filters.
    pub text: String,
    pub sido: Option<String>,
    pub sigungu: Option<String>,
    pub department: Option<String>,
    pub hospital_type: Option<String>,
    pub open_at: Option<OpenAt>,
    pub sort: Sort,
    /// Page size, clamped to [`crate::MAX_LIMIT`]; 0 only counts.
    pub limit: usize,
    /// `next_cursor` of the previous page. Valid only with the same text, filters and sort (the
    /// limit may change); anything else is [`crate::Error::InvalidCursor`].
    pub cursor: Option<String>,
}

impl Default for HospitalQuery {
    fn default() -> Self {
        HospitalQuery {
            text: String::new(),
            sido: None,
            sigungu: None,
            department: None,
            hospital_type: None,
            open_at: None,
            sort: Sort::Relevance,
            limit: crate::DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

/// A doctor search. Text matches the doctor's name (substring or 초성), departments and hospital
/// name.
#[derive(Debug, Clone, PartialEq)]
pub struct DoctorQuery {
    pub text: String,
    pub sido: Option<String>,
    pub sigungu: Option<String>,
    pub department: Option<String>,
    /// Only this hospital's doctors.
    pub hospital_id: Option<Uuid>,
    pub sort: Sort,
    /// As [`HospitalQuery::limit`].
    pub limit: usize,
    /// As [`HospitalQuery::cursor`].
    pub cursor: Option<String>,
}

impl Default for DoctorQuery {
    fn default() -> Self {
        DoctorQuery {
            text: String::new(),
            sido: None,
            sigungu: None,
            department: None,
            hospital_id: None,
            sort: Sort::Relevance,
            limit: crate::DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// Number of documents matching the query and filters (all pages), exact up to
    /// [`crate::TOTAL_CAP`]. When more match, it is `TOTAL_CAP` and `total_is_lower_bound` is
    /// set: counting further would cost every broad search (서울, 내과) its speed, and every
    /// match stays reachable through `next_cursor` either way.
    pub total: usize,
    /// True when more than `total` documents match.
    pub total_is_lower_bound: bool,
}

/// Which part of a document matched, for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    /// Hospitals: "name" | "latin_name" | "address" | "department" | "doctor".
    /// Doctors: "name" | "department" | "hospital".
    pub field: &'static str,
    /// The original field text (one value of a multi-valued field).
    pub text: String,
    /// Sorted, non-overlapping `[start, end)` **char** offsets into `text` that matched.
    pub ranges: Vec<(usize, usize)>,
}

/// A hospital search result.
#[derive(Debug, Clone, PartialEq)]
pub struct HospitalHit {
    pub id: Uuid,
    pub score: f32,
    pub distance_m: Option<f64>,
    pub highlights: Vec<Highlight>,
}

/// A doctor search result.
#[derive(Debug, Clone, PartialEq)]
pub struct DoctorHit {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub score: f32,
    pub distance_m: Option<f64>,
    pub highlights: Vec<Highlight>,
}
