//! The nurse station's reads about one admission — vitals history for the charts, the alarm
//! history with every lifecycle step (the action log), the medicines and their delivery status —
//! and the ward picker (`/api/v1/me/wards`). Authorised like the ward endpoints: the staff of
//! the admission's ward. Read-only; everything here is served from what the ward context wrote.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::account::Role;
use docde_domain::ward::VitalKind;
use docde_store::accounts::hospitals::{self, Ward};
use docde_store::ward::admissions::{self, Admission};
use docde_store::ward::{alarms, medication, rollups};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::invalid;
use super::now;
use super::ward_station::AlarmView;
use crate::auth::Principal;
use crate::authz::{Action, Target, authorize};
use crate::problem::ApiError;
use crate::state::AppState;

/// The longest range one history request may cover (a chart's widest zoom is 24 h).
const MAX_RANGE: TimeDelta = TimeDelta::days(7);
/// At most this many points per series (more than any screen is wide).
const MAX_POINTS: u32 = 1000;
/// How many of a patient's alarms the history reads (newest first).
const ALARM_HISTORY_LIMIT: u32 = 1000;

/// Loads an admission and checks that the caller may read its ward; outsiders learn nothing of
/// admissions that do not exist.
async fn readable_admission(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<(Admission, Ward), ApiError> {
    let found = match admissions::get(&state.store, id).await? {
        Some(a) => hospitals::get_ward(&state.store, a.ward_id)
            .await?
            .map(|w| (a, w)),
        None => None,
    };
    let Some((admission, ward)) = found else {
        authorize(principal, Action::ReadWard, Target::Installation)?;
        return Err(ApiError::NotFound);
    };
    authorize(
        principal,
        Action::ReadWard,
        Target::Ward {
            hospital_id: ward.hospital_id,
            nurse_ids: &ward.nurse_ids,
        },
    )?;
    Ok((admission, ward))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// The vital, e.g. `heart_rate`, `spo2`, `body_temperature`.
    pub kind: Option<String>,
    /// Start (RFC 3339; default `to` − 1 hour).
    pub from: Option<String>,
    /// End, exclusive (RFC 3339; default now). At most 7 days after `from`; any age (older
    /// than the raw samples' retention, the buckets come from the 1-minute rollups).
    pub to: Option<String>,
    /// How many points at most (1–1000, default 200): samples are summarised per bucket, whose
    /// width is the range divided by `points`, rounded up (to whole minutes from a minute on).
    pub points: Option<String>,
}

/// One bucket of the series.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryPoint {
    /// Start of the bucket.
    pub at: DateTime<Utc>,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VitalsHistory {
    pub admission_id: Uuid,
    pub kind: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The width of each bucket (a multiple of 60 from a minute on).
    pub resolution_seconds: i64,
    pub points: Vec<HistoryPoint>,
}

fn parse_time(field: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    raw.map(|t| {
        DateTime::parse_from_rfc3339(t.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| invalid(field, "must be an RFC 3339 timestamp with offset"))
    })
    .transpose()
}

/// The bucket width for `points` buckets over `span`: rounded up so the buckets always cover
/// the range, and from a minute on to whole minutes, so each bucket is made of whole 1-minute
/// rollups (a bucket never splits a minute).
fn resolution_for(span: TimeDelta, points: u32) -> TimeDelta {
    let span = span.num_seconds().max(1);
    let seconds = (span + i64::from(points) - 1) / i64::from(points);
    if seconds >= 60 {
        TimeDelta::minutes((seconds + 59) / 60)
    } else {
        TimeDelta::seconds(seconds)
    }
}

/// A vital's history for the charts, downsampled to at most `points` buckets (ward staff).
///
/// Buckets of a minute or more are whole minutes and are read from the 1-minute rollups
/// (kept `ward.rollup_retention_days`) for every minute already rolled up, and from the raw
/// samples (kept `ward.raw_retention_days`) for the partial minutes at either end and the
/// recent minutes not rolled up yet; the answer is the same as from raw samples alone while
/// they are kept. Finer buckets (ranges under `points` minutes) read raw samples only.
#[utoipa::path(get, path = "/api/v1/admissions/{id}/vitals", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Admission id"), HistoryQuery),
    responses((status = 200, description = "The series, oldest first", body = VitalsHistory)))]
pub async fn vitals_history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<VitalsHistory>, ApiError> {
    let range = HistoryRange::parse(&q)?;
    readable_admission(&state, &principal, id).await?;
    Ok(Json(VitalsHistory {
        admission_id: id,
        kind: range.kind.code().to_owned(),
        from: range.from,
        to: range.to,
        resolution_seconds: range.resolution.num_seconds(),
        points: range.read(&state, &[id]).await?,
    }))
}

/// A validated history request: which vital, over which range, in buckets of which width.
pub(super) struct HistoryRange {
    pub kind: VitalKind,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub resolution: TimeDelta,
    points: u32,
}

impl HistoryRange {
    pub(super) fn parse(q: &HistoryQuery) -> Result<Self, ApiError> {
        let kind: VitalKind = q
            .kind
            .as_deref()
            .ok_or_else(|| invalid("kind", "required"))?
            .trim()
            .parse()
            .map_err(|_| invalid("kind", "not a kind of sample"))?;
        let to = parse_time("to", q.to.as_deref())?.unwrap_or_else(now);
        let from = parse_time("from", q.from.as_deref())?.unwrap_or(to - TimeDelta::hours(1));
        if from >= to {
            return Err(invalid("from", "must be before `to`"));
        }
        if to - from > MAX_RANGE {
            return Err(invalid("to", "at most 7 days after `from`"));
        }
        let points = match q.points.as_deref() {
            None => 200,
            Some(p) => p
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|p| (1..=MAX_POINTS).contains(p))
                .ok_or_else(|| invalid("points", "a whole number from 1 to 1000"))?,
        };
        Ok(Self {
            kind,
            from,
            to,
            resolution: resolution_for(to - from, points),
            points,
        })
    }

    /// The series over the given stays, merged into one set of buckets.
    pub(super) async fn read(
        &self,
        state: &AppState,
        admissions: &[Uuid],
    ) -> Result<Vec<HistoryPoint>, ApiError> {
        // Whole-minute buckets come from the 1-minute rollups where they exist (and survive
        // the raw samples' retention), from raw samples for the rest; finer ones from raw.
        let buckets = rollups::downsampled_stays(
            &state.store,
            admissions,
            self.kind,
            self.from,
            self.to,
            self.resolution,
            // Buckets are aligned to the epoch, so the range may touch one more.
            self.points + 1,
        )
        .await?;
        Ok(buckets
            .into_iter()
            .map(|b| HistoryPoint {
                at: b.start,
                min: b.min,
                max: b.max,
                mean: b.mean,
                count: b.count,
            })
            .collect())
    }
}

/// The admission's alarms, newest first, each with who acknowledged and resolved it, when, and
/// the notes of the action taken (ward staff).
#[utoipa::path(get, path = "/api/v1/admissions/{id}/alarms", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Admission id")),
    responses((status = 200, description = "Alarm history", body = [AlarmView])))]
pub async fn alarm_history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<AlarmView>>, ApiError> {
    let (admission, _) = readable_admission(&state, &principal, id).await?;
    let history = alarms::of_patient(&state.store, admission.patient_id, ALARM_HISTORY_LIMIT)
        .await?
        .into_iter()
        .filter(|a| a.admission_id == Some(id))
        .map(AlarmView::from)
        .collect();
    Ok(Json(history))
}

/// A medicine of the admission and whether this round's delivery happened.
#[derive(Debug, Serialize, ToSchema)]
pub struct MedicationView {
    pub id: Uuid,
    pub name: String,
    pub dose: String,
    /// `to_do` or `done`.
    pub status: String,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The admission's medicines with their delivery status (ward staff).
#[utoipa::path(get, path = "/api/v1/admissions/{id}/medications", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Admission id")),
    responses((status = 200, description = "Medicines, oldest first", body = [MedicationView])))]
pub async fn medications(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<MedicationView>>, ApiError> {
    readable_admission(&state, &principal, id).await?;
    let list = medication::of_admission(&state.store, id)
        .await?
        .into_iter()
        .map(|m| MedicationView {
            id: m.id,
            name: m.name,
            dose: m.dose,
            status: m.status.code().to_owned(),
            delivered_at: m.delivered_at,
        })
        .collect();
    Ok(Json(list))
}

/// A ward the caller may watch.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyWard {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub name: String,
}

/// The wards the signed-in person may watch at a nurse station: a nurse's assigned wards; every
/// ward of their hospital for its doctors and hospital admins; none for anyone else.
#[utoipa::path(get, path = "/api/v1/me/wards", tag = "ward", security(("bearer" = [])),
    responses((status = 200, description = "Wards", body = [MyWard])))]
pub async fn my_wards(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<MyWard>>, ApiError> {
    let Principal::User(user) = &principal else {
        return Err(ApiError::Forbidden);
    };
    let ids = match (user.role, user.hospital_id) {
        (Role::Nurse, _) => hospitals::wards_of_nurse(&state.store, user.id).await?,
        (Role::Doctor | Role::HospitalAdmin, Some(h)) => {
            medication::wards_of_hospital(&state.store, h).await?
        }
        _ => Vec::new(),
    };
    let mut wards = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(w) = hospitals::get_ward(&state.store, id).await? {
            // The same rule as the ward endpoints decides: the list never offers a ward whose
            // stream would then be refused.
            let allowed = authorize(
                &principal,
                Action::ReadWard,
                Target::Ward {
                    hospital_id: w.hospital_id,
                    nurse_ids: &w.nurse_ids,
                },
            )
            .is_ok();
            if allowed {
                wards.push(MyWard {
                    id: w.id,
                    hospital_id: w.hospital_id,
                    name: w.name,
                });
            }
        }
    }
    wards.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(wards))
}
