//! One visit along its line: the steps after a call (recall, skip, start, complete, no-show,
//! re-queue, cancel) and moving a waiting visit to another doctor's line.

use axum::Json;
use axum::extract::{Path, State};
use docde_domain::reception::VisitStatus;
use docde_store::reception::{ReceptionConflict, ReceptionError, VisitChange, visits};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::lookups::{doctor_of, my_doctor};
use super::{announce, place, readable_visit, reception_error};
use crate::auth::{CurrentUser, Principal, UserPrincipal};
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::reception::views::VisitView;
use crate::state::AppState;

/// A step of a visit along its line.
#[derive(Debug, Clone, Copy)]
enum Step {
    Recall,
    Skip,
    Start,
    Complete,
    NoShow,
    Requeue,
    Cancel,
}

async fn step(
    state: &AppState,
    me: UserPrincipal,
    id: Uuid,
    step: Step,
) -> Result<Json<VisitView>, ApiError> {
    let mut visit = readable_visit(state, &me, id).await?;
    let principal = Principal::User(me.clone());
    let own_cancel = matches!(step, Step::Cancel)
        && authorize(
            &principal,
            Action::CancelOwnVisit,
            Target::Visit {
                hospital_id: visit.hospital_id,
                patient_id: visit.patient_id,
            },
        )
        .is_ok();
    if !own_cancel {
        authorize(
            &principal,
            Action::ManageLine,
            Target::Hospital(visit.hospital_id),
        )?;
    }
    let doctor = if matches!(step, Step::Start) {
        my_doctor(state, &me).await?
    } else {
        None
    };
    for attempt in 0..2 {
        let from: VisitStatus = visit
            .status
            .parse()
            .map_err(|_| anyhow::anyhow!("stored visit status unknown"))?;
        let (to, count_call) = match step {
            Step::Recall => {
                if from != VisitStatus::Called {
                    return Err(illegal(from, VisitStatus::Called));
                }
                let calls = u32::try_from(visit.calls).unwrap_or(0) + 1;
                (
                    VisitStatus::after_unanswered_call(calls, state.reception.settings.max_calls),
                    true,
                )
            }
            Step::Skip | Step::Requeue => (VisitStatus::Waiting, false),
            Step::Start => (VisitStatus::InConsultation, false),
            Step::Complete => (VisitStatus::Completed, false),
            Step::NoShow => (VisitStatus::NoShow, false),
            Step::Cancel => (VisitStatus::Cancelled, false),
        };
        if matches!(step, Step::Skip) && from != VisitStatus::Called {
            return Err(illegal(from, to));
        }
        if !(count_call && from == to) {
            from.transition(to).map_err(|_| illegal(from, to))?;
        }
        let change = VisitChange {
            visit_id: visit.id,
            from: visit.status.clone(),
            calls: visit.calls,
            to: to.as_str(),
            count_call,
            doctor_id: doctor,
            by: me.id,
            now: state.reception.clock.now(),
        };
        match visits::change(&state.store, &change).await {
            Ok((changed, _)) => {
                announce(state, &changed);
                let mut view = VisitView::of(&changed);
                place(state, &changed, &mut view).await?;
                return Ok(Json(view));
            }
            Err(ReceptionError::Conflict(ReceptionConflict::Stale)) if attempt == 0 => {
                visit = visits::get(&state.store, id)
                    .await?
                    .ok_or(ApiError::NotFound)?;
            }
            Err(e) => return Err(reception_error(e)),
        }
    }
    Err(reception_error(ReceptionConflict::Stale.into()))
}

fn illegal(from: VisitStatus, to: VisitStatus) -> ApiError {
    ApiError::Conflict {
        code: ReceptionConflict::IllegalTransition.code(),
        detail: format!("a visit cannot move from {from} to {to}"),
    }
}

macro_rules! step_endpoint {
    ($name:ident, $path:literal, $step:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, operation_id = concat!("reception_", stringify!($name)), path = $path, tag = "reception", security(("bearer" = [])),
            params(("id" = Uuid, Path, description = "Visit id")),
            responses((status = 200, description = "The visit after the step", body = VisitView),
                      (status = 409, description = "`illegal_transition`: not possible from the visit's status")))]
        pub async fn $name(
            State(state): State<AppState>,
            CurrentUser(me): CurrentUser,
            Path(id): Path<Uuid>,
        ) -> Result<Json<VisitView>, ApiError> {
            step(&state, me, id, $step).await
        }
    };
}

step_endpoint!(
    recall,
    "/api/v1/reception/visits/{id}/recall",
    Step::Recall,
    "Call a called patient again; after `reception.max_calls` calls the visit becomes a no-show."
);
step_endpoint!(
    skip,
    "/api/v1/reception/visits/{id}/skip",
    Step::Skip,
    "Pass over a called patient who is not there yet: back to the end of the line."
);
step_endpoint!(
    start,
    "/api/v1/reception/visits/{id}/start",
    Step::Start,
    "The called patient came in: the consultation starts."
);
step_endpoint!(
    complete,
    "/api/v1/reception/visits/{id}/complete",
    Step::Complete,
    "The consultation is over (its length teaches the wait estimate)."
);
step_endpoint!(
    no_show,
    "/api/v1/reception/visits/{id}/no-show",
    Step::NoShow,
    "The called patient did not come."
);
step_endpoint!(
    requeue,
    "/api/v1/reception/visits/{id}/requeue",
    Step::Requeue,
    "Back to the end of the line: a late no-show, or a patient sent for tests mid-consultation."
);
step_endpoint!(
    cancel,
    "/api/v1/reception/visits/{id}/cancel",
    Step::Cancel,
    "Cancel a waiting or called visit (the patient, or staff of the hospital)."
);

/// Move a waiting visit to another doctor of its department.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct MoveRequest {
    /// The doctor to wait for; `null` for whoever calls first.
    pub doctor_id: Option<Uuid>,
}

/// Move a waiting visit to another doctor's line (or to the shared line); it keeps its place.
#[utoipa::path(post, operation_id = "reception_move_visit", path = "/api/v1/reception/visits/{id}/move", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Visit id")),
    request_body = MoveRequest,
    responses((status = 200, description = "The moved visit", body = VisitView),
              (status = 409, description = "`illegal_transition`: only waiting visits move")))]
pub async fn move_visit(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<MoveRequest>,
) -> Result<Json<VisitView>, ApiError> {
    let visit = readable_visit(&state, &me, id).await?;
    authorize(
        &Principal::User(me.clone()),
        Action::ManageLine,
        Target::Hospital(visit.hospital_id),
    )?;
    let doctor = match req.doctor_id {
        Some(d) => Some(doctor_of(&state, visit.hospital_id, &visit.department, d).await?),
        None => None,
    };
    let (moved, _) = visits::reassign(&state.store, id, doctor, me.id, state.reception.clock.now())
        .await
        .map_err(reception_error)?;
    announce(&state, &moved);
    let mut view = VisitView::of(&moved);
    place(&state, &moved, &mut view).await?;
    Ok(Json(view))
}
