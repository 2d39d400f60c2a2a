//! Writing records: a completed visit's first version (of an appointment or a walk-in), by
//! the visit's doctor, and amendments by the record's author.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use docde_store::booking::appointments;
use docde_store::records::{self, NewRecord, RecordError, Visit};
use uuid::Uuid;

use super::super::audit::AuditContext;
use super::super::now;
use super::{
    RecordRequest, RecordView, audit_record, check, invalid, readable, record_error, record_target,
    seal, view,
};
use crate::auth::{CurrentUser, Principal, UserPrincipal};
use crate::authz::{Action, Target, allowed, authorize};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Write the record of a completed visit (the visit's doctor).
#[utoipa::path(post, path = "/api/v1/appointments/{id}/record", operation_id = "create_record", tag = "records", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Appointment id (the visit)")),
    request_body = RecordRequest,
    responses(
        (status = 201, description = "Written; `Location` names it", body = RecordView),
        (status = 403, description = "Not the visit's doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such visit for this caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`visit_not_completed`, `record_exists`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`empty_text`, `text_too_long`, `bad_diagnosis_code`, `too_many_diagnosis_codes`, `treatment_date_in_future`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    ctx: AuditContext,
    Path(appointment_id): Path<Uuid>,
    ApiJson(req): ApiJson<RecordRequest>,
) -> Result<Response, ApiError> {
    let visit = appointments::get(&state.store, appointment_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let doctor_user = docde_store::directory::get_doctor(&state.store, visit.doctor_id)
        .await?
        .and_then(|d| d.user_id);
    let target = Target::Appointment {
        hospital_id: visit.hospital_id,
        patient_id: visit.patient_id,
        doctor_user_id: doctor_user,
    };
    let principal = Principal::User(me.clone());
    if !allowed(&principal, Action::ReadAppointment, target) {
        return Err(ApiError::NotFound);
    }
    authorize(&principal, Action::WriteRecord, target)?;
    if visit.status != "completed" {
        return Err(record_error(RecordError::VisitNotCompleted));
    }
    let facts = VisitFacts {
        hospital_id: visit.hospital_id,
        patient_id: visit.patient_id,
        doctor_id: visit.doctor_id,
    };
    write_new(
        &state,
        &me,
        &ctx,
        &req,
        facts,
        Visit::Appointment(appointment_id),
    )
    .await
}

/// Write the record of a completed walk-in visit (the doctor who called the patient in).
#[utoipa::path(post, path = "/api/v1/reception/visits/{id}/record", operation_id = "create_walk_in_record", tag = "records", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Reception visit id")),
    request_body = RecordRequest,
    responses(
        (status = 201, description = "Written; `Location` names it", body = RecordView),
        (status = 403, description = "Not the visit's doctor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such visit for this caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`visit_not_completed`, `record_exists`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "As for an appointment's record", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_for_walk_in(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    ctx: AuditContext,
    Path(visit_id): Path<Uuid>,
    ApiJson(req): ApiJson<RecordRequest>,
) -> Result<Response, ApiError> {
    let visit = records::walk_in(&state.store, visit_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let principal = Principal::User(me.clone());
    let seen = Target::Visit {
        hospital_id: visit.hospital_id,
        patient_id: visit.patient_id,
    };
    if !allowed(&principal, Action::ReadVisit, seen) {
        return Err(ApiError::NotFound);
    }
    let doctor_user = match visit.doctor_id {
        Some(d) => docde_store::directory::get_doctor(&state.store, d)
            .await?
            .and_then(|d| d.user_id),
        None => None,
    };
    let target = Target::Appointment {
        hospital_id: visit.hospital_id,
        patient_id: visit.patient_id,
        doctor_user_id: doctor_user,
    };
    authorize(&principal, Action::WriteRecord, target)?;
    // Authorised means a doctor called the patient in, so the visit names one.
    let doctor_id = visit.doctor_id.ok_or(ApiError::NotFound)?;
    if visit.status != "completed" {
        return Err(record_error(RecordError::VisitNotCompleted));
    }
    let facts = VisitFacts {
        hospital_id: visit.hospital_id,
        patient_id: visit.patient_id,
        doctor_id,
    };
    write_new(&state, &me, &ctx, &req, facts, Visit::CheckIn(visit_id)).await
}

/// Who and where a new record is about.
struct VisitFacts {
    hospital_id: Uuid,
    patient_id: Uuid,
    doctor_id: Uuid,
}

/// Seals and stores version 1 of a visit's record, audits the write and answers 201.
async fn write_new(
    state: &AppState,
    me: &UserPrincipal,
    ctx: &AuditContext,
    req: &RecordRequest,
    visit: VisitFacts,
    of: Visit,
) -> Result<Response, ApiError> {
    let principal = Principal::User(me.clone());
    if req.version.is_some() {
        return Err(invalid(
            "unexpected_version",
            "version",
            "a new record has no version; send it only when amending",
        ));
    }
    let content = check(req)?;
    let id = Uuid::now_v7();
    let at = now();
    let new = NewRecord {
        id,
        hospital_id: visit.hospital_id,
        patient_id: visit.patient_id,
        doctor_id: visit.doctor_id,
        author_id: me.id,
        visit: of,
        content: seal(state, id, 1, &content, me.id, at)?,
    };
    let record = records::create(&state.store, &new)
        .await
        .map_err(record_error)?;
    audit_record(state, &principal, ctx, "record.create", &record).await?;
    let body = view(state, &record, &new.content).await?;
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/records/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Amend a record (its author): the content becomes version `version + 1`; earlier versions
/// stay.
#[utoipa::path(put, path = "/api/v1/records/{id}", operation_id = "amend_record", tag = "records", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Record id")),
    request_body = RecordRequest,
    responses(
        (status = 200, description = "The amended record", body = RecordView),
        (status = 403, description = "Not the record's author", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`record_changed`: amended meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid content, or `version` missing", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn amend(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    ctx: AuditContext,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<RecordRequest>,
) -> Result<Json<RecordView>, ApiError> {
    // The amendment itself is audited below; the author already knows the content.
    let (record, _) = readable(&state, &me, &ctx, id, None).await?;
    let principal = Principal::User(me.clone());
    authorize(
        &principal,
        Action::AmendRecord,
        record_target(&record, false),
    )?;
    let Some(read) = req.version else {
        return Err(invalid(
            "version_required",
            "version",
            "send the version you read",
        ));
    };
    let content = check(&req)?;
    // A version that cannot be current (0, negative, the last i32) is simply stale.
    let next = read
        .checked_add(1)
        .filter(|_| read >= 1)
        .ok_or_else(|| record_error(RecordError::Stale))?;
    let sealed = seal(&state, id, next, &content, me.id, now())?;
    let amended = records::amend(&state.store, id, &sealed)
        .await
        .map_err(record_error)?;
    audit_record(&state, &principal, &ctx, "record.amend", &amended).await?;
    Ok(Json(view(&state, &amended, &sealed).await?))
}
