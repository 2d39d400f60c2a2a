//! Reception endpoints: checking in (or being checked in by reception staff), a patient's
//! visits, and running a department's line — call next, recall, skip, start, complete,
//! no-show, re-queue, cancel, move — plus the hospital's number prefixes.
//!
//! The database enforces numbers, order, one active visit per patient and day, and the
//! legal transitions; this module checks the request (department of the hospital, hospital
//! open, doctor of the department, appointment booked for today), decides between doing the
//! check-in now and the waiting room, and tells the lines that changed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use docde_domain::directory::Department;
use docde_domain::reception::{NumberPrefix, VisitStatus, accepts_walk_ins, local_day};
use docde_store::booking::{Transition, appointments};
use docde_store::directory;
use docde_store::reception::admission::QueuedCheckIn;
use docde_store::reception::{
    NewVisit, ReceptionConflict, ReceptionError, Visit, VisitChange, visits,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{CurrentUser, Principal, UserPrincipal};
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::reception::hospital::HospitalFacts;
use crate::reception::views::{CallNextView, TicketView, VisitView};
use crate::reception::{line_topic, waiting_room};
use crate::state::AppState;

pub(crate) fn reception_error(e: ReceptionError) -> ApiError {
    match e {
        ReceptionError::Conflict(c) => ApiError::Conflict {
            code: c.code(),
            detail: c.to_string(),
        },
        ReceptionError::NotFound => ApiError::NotFound,
        ReceptionError::Store(e) => e.into(),
    }
}

fn invalid(code: &'static str, field: &str, message: &str) -> ApiError {
    ApiError::Invalid {
        code,
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

fn refused(status: StatusCode, code: &'static str, detail: &str) -> ApiError {
    ApiError::Rejected {
        status,
        code,
        detail: Some(detail.to_owned()),
    }
}

/// A department code offered by the hospital.
fn department_of(raw: &str, facts: &HospitalFacts) -> Result<String, ApiError> {
    let department: Department = raw.parse().map_err(|_| {
        invalid(
            "unknown_department",
            "department",
            "not a department code (e.g. internal_medicine)",
        )
    })?;
    let code = department.code().to_owned();
    if !facts.departments.contains(&code) {
        return Err(invalid(
            "unknown_department",
            "department",
            "this hospital has no such department",
        ));
    }
    Ok(code)
}

/// A doctor of `hospital_id` working in `department`.
async fn doctor_of(
    state: &AppState,
    hospital_id: Uuid,
    department: &str,
    doctor_id: Uuid,
) -> Result<Uuid, ApiError> {
    match directory::get_doctor(&state.store, doctor_id).await? {
        Some(d)
            if d.hospital_id == hospital_id && d.departments.iter().any(|x| x == department) =>
        {
            Ok(d.id)
        }
        _ => Err(invalid(
            "unknown_doctor",
            "doctor_id",
            "no doctor of this department of this hospital has that id",
        )),
    }
}

/// The doctor record of a signed-in doctor at their hospital, if any.
async fn my_doctor(state: &AppState, me: &UserPrincipal) -> Result<Option<Uuid>, ApiError> {
    let Some(hospital) = me.hospital_id else {
        return Ok(None);
    };
    let doctors = directory::doctors(&state.store, Some(hospital)).await?;
    Ok(doctors
        .into_iter()
        .find(|d| d.user_id == Some(me.id))
        .map(|d| d.id))
}

/// Check in for a department today.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct CheckInRequest {
    /// Department code (`internal_medicine`) or Korean name (`내과`).
    pub department: String,
    /// A doctor of the department, if the patient wants one (default: whoever calls first).
    #[serde(default)]
    pub doctor_id: Option<Uuid>,
    /// Check in against this booked appointment of today (it moves to `checked_in`).
    #[serde(default)]
    pub appointment_id: Option<Uuid>,
    /// The patient, when reception staff check someone in (default: the caller).
    #[serde(default)]
    pub patient_id: Option<Uuid>,
}

/// Check in (접수): the patient themselves, or reception staff on their behalf. The answer is
/// `201` with the visit and its waiting number, or — during a spike, or while others already
/// wait in the waiting room — `202` with a ticket to follow (`Location`).
#[utoipa::path(post, operation_id = "reception_check_in", path = "/api/v1/hospitals/{id}/reception/check-ins", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: a retry returns the first request's visit (200) or ticket (202)")),
    request_body = CheckInRequest,
    responses((status = 201, description = "Checked in", body = VisitView),
              (status = 200, description = "A retry: the first request's visit, as it is now", body = VisitView),
              (status = 202, description = "In the waiting room: follow the ticket", body = TicketView),
              (status = 409, description = "`already_checked_in`, `hospital_closed` or `appointment_not_booked`"),
              (status = 422, description = "`unknown_department`, `unknown_doctor`, `unknown_patient`, `appointment_not_today`, `idempotency_key_reused`")))]
pub async fn check_in(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(hospital_id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CheckInRequest>,
) -> Result<Response, ApiError> {
    let key = super::appointments::idempotency_key(&headers)?;
    let facts = state
        .reception
        .hospitals
        .get(&state.store, hospital_id)
        .await?;
    let patient_id = req.patient_id.unwrap_or(me.id);
    authorize(
        &Principal::User(me.clone()),
        Action::CheckIn,
        Target::Visit {
            hospital_id,
            patient_id,
        },
    )?;
    let department = department_of(&req.department, &facts)?;
    // A retry of a check-in answered at once gets that visit back, even after closing time.
    if let Some(key) = key.as_deref()
        && let Some(first) = visits::by_key(&state.store, me.id, key).await?
    {
        return replayed(&state, first, hospital_id, patient_id, &department, &req).await;
    }
    let now = state.reception.clock.now();
    if let Some(timetable) = &facts.timetable
        && !accepts_walk_ins(
            timetable,
            now.with_timezone(&facts.tz).naive_local(),
            &crate::booking::HOLIDAYS,
        )
    {
        return Err(refused(
            StatusCode::CONFLICT,
            "hospital_closed",
            "the hospital is closed now (see its opening hours)",
        ));
    }
    if patient_id != me.id {
        let patient = docde_store::accounts::users::get(&state.store, patient_id).await?;
        if !patient.is_some_and(|p| p.role == docde_domain::account::Role::Patient) {
            return Err(invalid(
                "unknown_patient",
                "patient_id",
                "no patient has that id",
            ));
        }
    }
    let day = local_day(now, facts.tz);
    let mut doctor_id = match req.doctor_id {
        Some(d) => Some(doctor_of(&state, hospital_id, &department, d).await?),
        None => None,
    };
    if let Some(aid) = req.appointment_id {
        let a = appointments::get(&state.store, aid).await?;
        let Some(a) = a.filter(|a| a.patient_id == patient_id && a.hospital_id == hospital_id)
        else {
            return Err(invalid(
                "unknown_appointment",
                "appointment_id",
                "no appointment of this patient at this hospital has that id",
            ));
        };
        let starts = chrono::DateTime::from_timestamp(a.starts_at, 0).unwrap_or_default();
        if local_day(starts, facts.tz) != day {
            return Err(invalid(
                "appointment_not_today",
                "appointment_id",
                "the appointment is on another day",
            ));
        }
        if a.status != "booked" {
            return Err(ReceptionConflict::AppointmentNotBooked)
                .map_err(|c| reception_error(c.into()));
        }
        doctor_id = doctor_id.or(Some(a.doctor_id));
    }
    let visit_id = Uuid::now_v7();
    let slot = state.reception.admission.try_enter(hospital_id);
    let queue = match &slot {
        None => true,
        Some(_) => {
            state
                .reception
                .admission
                .anyone_waiting(&state, hospital_id)
                .await?
        }
    };
    if queue {
        drop(slot);
        let request = QueuedCheckIn {
            visit_id,
            department,
            day,
            patient_id,
            doctor_id,
            appointment_id: req.appointment_id,
            by: me.id,
        };
        let ticket =
            waiting_room::enqueue(&state, hospital_id, patient_id, &request, key.as_deref())
                .await?;
        crate::metrics::domain::checked_in("waiting_room");
        let location = format!("/api/v1/reception/tickets/{}", ticket.id);
        let mut response = (StatusCode::ACCEPTED, Json(ticket)).into_response();
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        return Ok(response);
    }
    let new = NewVisit {
        id: visit_id,
        hospital_id,
        department,
        day,
        patient_id,
        doctor_id,
        appointment: req.appointment_id.map(|a| Transition {
            appointment_id: a,
            from: "booked".into(),
            to: "checked_in",
            reason: None,
            by: me.id,
            frees_seat: false,
            now,
            email: None,
        }),
        by: me.id,
        idempotency_key: key.clone(),
        now,
    };
    let done = match visits::check_in(&state.store, &new).await {
        Ok(done) => done,
        Err(e) => {
            // Two first attempts with one key raced (on two instances): the unique index
            // refused the second; answer it with the first's visit.
            if let Some(key) = key.as_deref()
                && let Some(first) = visits::by_key(&state.store, me.id, key).await?
            {
                drop(slot);
                return replayed(
                    &state,
                    first,
                    hospital_id,
                    patient_id,
                    &new.department,
                    &req,
                )
                .await;
            }
            return Err(reception_error(e));
        }
    };
    crate::metrics::domain::checked_in("walk_in");
    drop(slot);
    announce(&state, &done.visit);
    let mut view = VisitView::of(&done.visit);
    place(&state, &done.visit, &mut view).await?;
    let location = format!("/api/v1/reception/visits/{}", done.visit.id);
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The answer to a retry whose key already made a visit: that visit (200, as it is now), if
/// the retry asks for the same check-in; otherwise the key was reused for another request.
async fn replayed(
    state: &AppState,
    first: Visit,
    hospital_id: Uuid,
    patient_id: Uuid,
    department: &str,
    req: &CheckInRequest,
) -> Result<Response, ApiError> {
    if first.hospital_id != hospital_id
        || first.patient_id != patient_id
        || first.department != department
        || first.appointment_id != req.appointment_id
    {
        return Err(key_reused());
    }
    let mut view = VisitView::of(&first);
    place(state, &first, &mut view).await?;
    let location = format!("/api/v1/reception/visits/{}", first.id);
    let mut response = (StatusCode::OK, Json(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The same Idempotency-Key came with a different check-in.
pub(crate) fn key_reused() -> ApiError {
    ApiError::Rejected {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "idempotency_key_reused",
        detail: Some("this Idempotency-Key was used for a different check-in".into()),
    }
}

/// Tells other instances and live views that a department's line changed (in the
/// background: the change is committed, a slow Redis must not delay the answer; views also
/// re-read every half second).
pub(crate) fn announce(state: &AppState, visit: &Visit) {
    let bus = state.bus.clone();
    let topic = line_topic(visit.hospital_id, &visit.department);
    tokio::spawn(async move {
        let _ = bus.publish(&topic, "changed").await;
    });
}

/// Fills in position, people ahead and the estimated wait of a waiting visit.
pub(crate) async fn place(
    state: &AppState,
    visit: &Visit,
    view: &mut VisitView,
) -> Result<(), ApiError> {
    if visit.status != "waiting" {
        return Ok(());
    }
    let ahead = visits::ahead_of(&state.store, visit).await?;
    let now = state.reception.clock.now();
    let day = visit.day.parse().unwrap_or_else(|_| now.date_naive());
    let snap = docde_store::reception::line::snapshot(
        &state.store,
        visit.hospital_id,
        &visit.department,
        day,
        now,
    )
    .await?;
    let typical = docde_domain::reception::typical_consultation_secs(&snap.recent_consultations);
    view.position = Some(ahead + 1);
    view.ahead = Some(ahead);
    view.estimated_wait_seconds = Some(docde_domain::reception::estimate_wait_secs(
        ahead,
        typical,
        snap.doctors,
    ));
    Ok(())
}

/// A visit the caller may read (404 otherwise, so its existence is not revealed).
pub(crate) async fn readable_visit(
    state: &AppState,
    me: &UserPrincipal,
    id: Uuid,
) -> Result<Visit, ApiError> {
    let visit = visits::get(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let target = Target::Visit {
        hospital_id: visit.hospital_id,
        patient_id: visit.patient_id,
    };
    authorize(&Principal::User(me.clone()), Action::ReadVisit, target)
        .map_err(|_| ApiError::NotFound)?;
    Ok(visit)
}

/// One visit with its place in line.
#[utoipa::path(get, operation_id = "reception_get_visit", path = "/api/v1/reception/visits/{id}", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Visit id")),
    responses((status = 200, description = "The visit", body = VisitView)))]
pub async fn get_visit(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Json<VisitView>, ApiError> {
    let visit = readable_visit(&state, &me, id).await?;
    let mut view = VisitView::of(&visit);
    place(&state, &visit, &mut view).await?;
    Ok(Json(view))
}

/// My visits.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitList {
    pub items: Vec<VisitView>,
}

/// My visits of today and yesterday (newest first), with places in line.
#[utoipa::path(get, operation_id = "reception_my_visits", path = "/api/v1/me/visits", tag = "reception", security(("bearer" = [])),
    responses((status = 200, description = "My recent visits", body = VisitList)))]
pub async fn my_visits(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<Json<VisitList>, ApiError> {
    let since = state.reception.clock.now().date_naive() - chrono::Days::new(1);
    let mut items = Vec::new();
    for v in visits::of_patient(&state.store, me.id, since).await? {
        let mut view = VisitView::of(&v);
        place(&state, &v, &mut view).await?;
        items.push(view);
    }
    Ok(Json(VisitList { items }))
}

/// Which line "call next" serves.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct CallNextRequest {
    pub department: String,
    /// The calling doctor (default: the caller's own doctor record, if the caller is one).
    /// Takes visits assigned to this doctor or to nobody.
    #[serde(default)]
    pub doctor_id: Option<Uuid>,
}

/// Call next: atomically takes the first waiting visit of the department's line for the
/// doctor and marks it `called`. Two callers at once never get the same visit.
#[utoipa::path(post, operation_id = "reception_call_next", path = "/api/v1/hospitals/{id}/reception/call-next", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id")),
    request_body = CallNextRequest,
    responses((status = 200, description = "The called visit, or `visit: null` when nobody waits", body = CallNextView)))]
pub async fn call_next(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(hospital_id): Path<Uuid>,
    ApiJson(req): ApiJson<CallNextRequest>,
) -> Result<Json<CallNextView>, ApiError> {
    let facts = state
        .reception
        .hospitals
        .get(&state.store, hospital_id)
        .await?;
    authorize(
        &Principal::User(me.clone()),
        Action::ManageLine,
        Target::Hospital(hospital_id),
    )?;
    let department = department_of(&req.department, &facts)?;
    let doctor_id = match req.doctor_id {
        Some(d) => Some(doctor_of(&state, hospital_id, &department, d).await?),
        None => my_doctor(&state, &me).await?,
    };
    let now = state.reception.clock.now();
    let call = visits::CallNext {
        hospital_id,
        department,
        day: local_day(now, facts.tz),
        doctor_id,
        by: me.id,
        now,
    };
    // On PostgreSQL a candidate being claimed by a concurrent caller can make the claim
    // come back empty although others wait: try again a couple of times before saying so.
    for _ in 0..3 {
        if let Some((visit, _)) = visits::call_next(&state.store, &call)
            .await
            .map_err(reception_error)?
        {
            announce(&state, &visit);
            return Ok(Json(CallNextView {
                visit: Some(VisitView::of(&visit)),
            }));
        }
        if state.store.dialect() != "postgres" {
            break;
        }
    }
    Ok(Json(CallNextView { visit: None }))
}

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

/// Today's line of one department for the reception desk (patient ids, no names).
#[utoipa::path(get, operation_id = "reception_line", path = "/api/v1/hospitals/{id}/reception/lines/{department}", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id"), ("department" = String, Path, description = "Department code")),
    responses((status = 200, description = "Today's visits in line order", body = VisitList)))]
pub async fn line(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path((hospital_id, department)): Path<(Uuid, String)>,
) -> Result<Json<VisitList>, ApiError> {
    let facts = state
        .reception
        .hospitals
        .get(&state.store, hospital_id)
        .await?;
    authorize(
        &Principal::User(me),
        Action::ManageLine,
        Target::Hospital(hospital_id),
    )?;
    let department = department_of(&department, &facts)?;
    let day = local_day(state.reception.clock.now(), facts.tz);
    let items = visits::of_line(&state.store, hospital_id, &department, day)
        .await?
        .iter()
        .map(VisitView::of)
        .collect();
    Ok(Json(VisitList { items }))
}

/// A department's waiting-number prefix.
#[derive(Debug, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct PrefixBody {
    /// 1–8 capital letters or digits (`IM` shows `IM-007`); `null` for bare numbers.
    pub prefix: Option<String>,
}

/// Set a department's waiting-number prefix (hospital admins). Numbers already given keep
/// their label.
#[utoipa::path(put, operation_id = "reception_put_prefix", path = "/api/v1/hospitals/{id}/reception/prefixes/{department}", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id"), ("department" = String, Path, description = "Department code")),
    request_body = PrefixBody,
    responses((status = 200, description = "Saved", body = PrefixBody),
              (status = 422, description = "`invalid_prefix` or `unknown_department`")))]
pub async fn put_prefix(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path((hospital_id, department)): Path<(Uuid, String)>,
    ApiJson(body): ApiJson<PrefixBody>,
) -> Result<Json<PrefixBody>, ApiError> {
    let facts = state
        .reception
        .hospitals
        .get(&state.store, hospital_id)
        .await?;
    authorize(
        &Principal::User(me),
        Action::ConfigureReception,
        Target::Hospital(hospital_id),
    )?;
    let department = department_of(&department, &facts)?;
    let prefix = body
        .prefix
        .as_deref()
        .map(NumberPrefix::parse)
        .transpose()
        .map_err(|e| invalid("invalid_prefix", "prefix", &e.to_string()))?;
    visits::set_prefix(&state.store, hospital_id, &department, prefix.as_ref()).await?;
    Ok(Json(PrefixBody {
        prefix: prefix.map(|p| p.as_str().to_owned()),
    }))
}
