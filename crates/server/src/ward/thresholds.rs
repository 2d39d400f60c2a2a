//! The alarm limits in force for a patient: the defaults, then the ward's overrides, then the
//! patient's (admission's), merged and checked ([`Thresholds::merge`]).
//!
//! The overrides live in the database (`docde_store::ward::thresholds`) and are read where they
//! are used, never cached: ingest reads them with each device's context
//! (`docde_store::ward::context`, one shared read after the samples' commit), and a technical
//! round reads a ward's and its patients' once per ward. So a change is in force on every
//! instance from the next sample or round on, with no notice to deliver. (A per-instance cache
//! re-read every 5 s made 1,000 admitted beds re-read theirs in the same second, and a lost
//! notice could delay a change by those 5 s.)

use docde_domain::ward::alarm::{ThresholdOverrides, Thresholds};
use uuid::Uuid;

use crate::state::AppState;

/// The defaults with the ward's, then the patient's overrides.
///
/// Every write is checked against the other level, so the merge fails only if a ward and a
/// patient change raced each other; the patient's overrides are then set aside (and the fact
/// logged by id) rather than evaluating with crossed limits or with none.
pub fn merged(
    state: &AppState,
    ward_id: Uuid,
    admission_id: Option<Uuid>,
    ward: &ThresholdOverrides,
    patient: &ThresholdOverrides,
) -> Thresholds {
    let defaults = &state.ward.thresholds;
    match Thresholds::merge(defaults, ward, patient) {
        Ok(t) => t,
        Err(problem) => {
            tracing::warn!(%ward_id, ?admission_id, code = problem.code(),
                "stored threshold overrides do not merge; using the ward's alone");
            Thresholds::merge(defaults, ward, &ThresholdOverrides::default())
                .unwrap_or_else(|_| defaults.clone())
        }
    }
}
