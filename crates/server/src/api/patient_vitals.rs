//! A patient's vitals across all their stays (`GET /api/v1/patients/{id}/vitals`).
//!
//! A transfer closes one admission and opens the next, and a readmission opens another, so
//! the chart of the current stay alone starts at the patient's last move. This series merges
//! every stay in the range into the same buckets (rollups and raw samples, as for one stay).
//!
//! Who may read it: the patient themselves (every stay), and the staff who may watch a ward
//! the patient has ever stayed in — for every stay at that ward's hospital, never another
//! hospital's. A staff read is audited (`vitals.read_history`), since it reaches past the stay
//! in front of them.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use docde_store::accounts::hospitals;
use docde_store::ward::admissions::{self, Admission};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, AuditContext, Subject};
use super::ward_patient::{HistoryPoint, HistoryQuery, HistoryRange};
use crate::auth::Principal;
use crate::authz::{Action, Target, allowed};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// One stay the series covers, so a chart can mark transfers and readmissions.
#[derive(Debug, Serialize, ToSchema)]
pub struct StayView {
    pub admission_id: Uuid,
    pub ward_id: Uuid,
    pub bed_id: Uuid,
    pub admitted_at: DateTime<Utc>,
    /// `null` while the patient is still in this bed.
    pub discharged_at: Option<DateTime<Utc>>,
    /// `discharged` or `transferred`, once the stay ended.
    pub discharge_reason: Option<String>,
}

impl From<&Admission> for StayView {
    fn from(a: &Admission) -> Self {
        Self {
            admission_id: a.id,
            ward_id: a.ward_id,
            bed_id: a.bed_id,
            admitted_at: a.admitted_at,
            discharged_at: a.discharged_at,
            discharge_reason: a.discharge_reason.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatientVitalsHistory {
    pub patient_id: Uuid,
    pub kind: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The width of each bucket (a multiple of 60 from a minute on).
    pub resolution_seconds: i64,
    /// The stays overlapping the range that the caller may read, oldest first.
    pub stays: Vec<StayView>,
    /// Buckets over all of those stays, oldest first.
    pub points: Vec<HistoryPoint>,
}

/// What of the patient's history the caller may read: the wards (of every stay there) and
/// their hospitals (for the audit trail).
struct Readable {
    wards: BTreeSet<Uuid>,
    hospitals: BTreeSet<Uuid>,
}

/// Every stay for the patient themselves (`None`); for anyone else, the stays in the wards of
/// the hospitals where they may watch a ward the patient has stayed in.
async fn readable(
    state: &AppState,
    principal: &Principal,
    patient: Uuid,
) -> Result<Option<Readable>, ApiError> {
    if matches!(principal, Principal::User(u) if u.id == patient) {
        return Ok(None);
    }
    let mut wards = Vec::new();
    let mut hospitals = BTreeSet::new();
    for ward_id in admissions::wards_of_patient(&state.store, patient).await? {
        let Some(ward) = hospitals::get_ward(&state.store, ward_id).await? else {
            continue;
        };
        let target = Target::Ward {
            hospital_id: ward.hospital_id,
            nurse_ids: &ward.nurse_ids,
        };
        if allowed(principal, Action::ReadWard, target) {
            hospitals.insert(ward.hospital_id);
        }
        wards.push((ward.id, ward.hospital_id));
    }
    // The same answer for a patient who never stayed anywhere and one the caller has no
    // care relationship with: nothing is learnt about who was admitted.
    if hospitals.is_empty() {
        return Err(ApiError::Forbidden);
    }
    let wards = wards
        .into_iter()
        .filter(|(_, hospital)| hospitals.contains(hospital))
        .map(|(ward, _)| ward)
        .collect();
    Ok(Some(Readable { wards, hospitals }))
}

/// A vital's history over every stay of the patient, downsampled like an admission's.
#[utoipa::path(get, path = "/api/v1/patients/{id}/vitals", tag = "ward", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The patient's user id"), HistoryQuery),
    responses(
        (status = 200, description = "The series over every readable stay, oldest first", body = PatientVitalsHistory),
        (status = 403, description = "Not the patient, and no ward of theirs the caller may watch", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patient_vitals(
    State(state): State<AppState>,
    principal: Principal,
    ctx: AuditContext,
    Path(patient): Path<Uuid>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<PatientVitalsHistory>, ApiError> {
    let range = HistoryRange::parse(&q)?;
    let readable = readable(&state, &principal, patient).await?;
    let mut stays =
        admissions::of_patient_between(&state.store, patient, range.from, range.to).await?;
    if let Some(readable) = &readable {
        stays.retain(|stay| readable.wards.contains(&stay.ward_id));
        // Audited before anything is served: an unaudited read must not happen.
        for hospital in &readable.hospitals {
            let subject = Subject {
                action: "vitals.read_history",
                resource_type: "vital_signs",
                resource_id: None,
                patient_id: Some(patient),
                hospital_id: Some(*hospital),
            };
            audit::record(&state, &principal, &ctx, subject).await?;
        }
    }
    let ids: Vec<Uuid> = stays.iter().map(|s| s.id).collect();
    Ok(Json(PatientVitalsHistory {
        patient_id: patient,
        kind: range.kind.code().to_owned(),
        from: range.from,
        to: range.to,
        resolution_seconds: range.resolution.num_seconds(),
        points: range.read(&state, &ids).await?,
        stays: stays.iter().map(StayView::from).collect(),
    }))
}
