//! NEWS2 per patient, as the nurse station and `GET /admissions/{id}/news2` see it: the score
//! of the newest vitals no older than [`NEWS2_MAX_AGE`](super::NEWS2_MAX_AGE), which vital fed
//! each row and how old it is, and the `news2` ward event written when a patient's total or
//! band changes (once, whichever instance scored it: `docde_store::ward::news2::announce`).
//! Alarms on the risk bands (`news2_medium`, `news2_high`) are the evaluator's.

use chrono::{DateTime, Utc};
use docde_domain::ward::VitalKind;
use docde_domain::ward::news2::{News2, Parameter};
use docde_store::ward::WardError;
use docde_store::ward::admissions::Admission;
use docde_store::ward::news2::Score;
use docde_store::ward::samples::LatestSample;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::NEWS2_MAX_AGE;
use crate::state::AppState;

/// The vital sign each NEWS2 row is scored from.
pub fn vital_of(parameter: Parameter) -> VitalKind {
    match parameter {
        Parameter::RespiratoryRate => VitalKind::RespiratoryRate,
        Parameter::Spo2 => VitalKind::Spo2,
        Parameter::AirOrOxygen => VitalKind::SupplementalOxygen,
        Parameter::SystolicBp => VitalKind::SystolicBp,
        Parameter::Pulse => VitalKind::HeartRate,
        Parameter::Consciousness => VitalKind::Consciousness,
        Parameter::Temperature => VitalKind::BodyTemperature,
    }
}

/// One row of the chart for one patient.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ParameterView {
    /// `respiratory_rate`, `spo2`, `air_or_oxygen`, `systolic_bp`, `pulse`, `consciousness`,
    /// `temperature`.
    pub parameter: &'static str,
    /// The row's points; `null` when no recent enough value exists.
    pub score: Option<u8>,
    /// The sample kind the row is scored from.
    pub vital: &'static str,
    /// The newest value of that kind (also when too old to count), with its unit.
    pub value: Option<f64>,
    pub unit: Option<&'static str>,
    pub measured_at: Option<DateTime<Utc>>,
    /// Seconds between `measured_at` and `scored_at`.
    pub age_secs: Option<i64>,
    /// Older than `max_age_secs`, so not scored.
    pub stale: bool,
}

/// A patient's NEWS2 now, with its breakdown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct News2Detail {
    pub admission_id: Uuid,
    pub bed_id: Uuid,
    pub scored_at: DateTime<Utc>,
    /// `scale_1` (scale 2 needs a clinician's decision, not recorded yet).
    pub scale: &'static str,
    /// Sum of the scored rows (a lower bound when not `complete`); `null` when no row could be
    /// scored.
    pub total: Option<u8>,
    /// `low`, `low_medium`, `medium` or `high`; `null` with `total`.
    pub band: Option<&'static str>,
    pub complete: bool,
    /// Vitals older than this do not count.
    pub max_age_secs: i64,
    pub parameters: Vec<ParameterView>,
}

/// The detail of `score` (from [`super::news2_of`] on `latest` at `at`; `None` if nothing
/// was recent).
pub fn detail(
    admission: &Admission,
    score: Option<&News2>,
    latest: &[LatestSample],
    at: DateTime<Utc>,
) -> News2Detail {
    let parameters = Parameter::ALL
        .iter()
        .map(|&p| {
            let vital = vital_of(p);
            let newest = latest.iter().find(|l| l.kind == vital);
            let age = newest.map(|l| at - l.measured_at);
            ParameterView {
                parameter: p.code(),
                score: score.and_then(|s| s.sub_score(p)),
                vital: vital.code(),
                value: newest.map(|l| l.value),
                unit: newest.and_then(|l| l.unit).map(|u| u.code()),
                measured_at: newest.map(|l| l.measured_at),
                age_secs: age.map(|a| a.num_seconds()),
                stale: age.is_some_and(|a| a > NEWS2_MAX_AGE),
            }
        })
        .collect();
    News2Detail {
        admission_id: admission.id,
        bed_id: admission.bed_id,
        scored_at: at,
        scale: score.map_or("scale_1", |s| s.scale().code()),
        total: score.map(News2::total),
        band: score.map(|s| s.band().code()),
        complete: score.is_some_and(News2::is_complete),
        max_age_secs: NEWS2_MAX_AGE.num_seconds(),
        parameters,
    }
}

/// Announces the patient's score on the ward stream if its total or band changed from
/// `stored_score` (what the device's context read found stored); returns whether an event was
/// written.
pub async fn announce(
    state: &AppState,
    admission: &Admission,
    score: &News2,
    stored_score: Option<(i32, &str)>,
    at: DateTime<Utc>,
) -> Result<bool, WardError> {
    let mut payload = serde_json::to_value(score).unwrap_or_default();
    payload["admission_id"] = serde_json::json!(admission.id);
    payload["bed_id"] = serde_json::json!(admission.bed_id);
    payload["scored_at"] = serde_json::json!(at);
    let score = Score {
        ward_id: admission.ward_id,
        patient_id: admission.patient_id,
        admission_id: admission.id,
        total: score.total(),
        band: score.band().code(),
        payload,
        scored_at: at,
    };
    // Committed with the other stays' changes waiting at that moment (see `Announcer`).
    Ok(state
        .ward
        .announcer
        .announce(score, stored_score)
        .await?
        .is_some())
}
