//! `/api/v1/…/records`: medical records of completed visits.
//!
//! The treating doctor writes one record per visit and amends it; each amendment is a new
//! version and the earlier ones stay readable (`…/versions`). The patient reads their own;
//! other doctors of the record's hospital read it only with a care relationship (an
//! appointment with the patient there, or an open admission to one of its wards). Every read
//! by someone other than the patient, and every write, is audited before anything is served.
//! Text fields are sealed by [`crate::records::Vault`] before they reach the store; the
//! plaintext exists only in this request's memory. Those who may not read a record get 404,
//! as for appointments: ids are not confirmed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use docde_domain::record::{DiagnosisCode, MAX_DIAGNOSIS_CODES, text};
use docde_store::booking::appointments;
use docde_store::records::{self, MedicalRecord, NewRecord, RecordError, SealedVersion, Visit};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, AuditContext, Subject};
use super::now;
use crate::auth::{CurrentUser, Principal, UserPrincipal};
use crate::authz::{Action, Target, allowed, authorize};
use crate::extract::ApiJson;
use crate::problem::{ApiError, Problem};
use crate::records::vault::field_context;
use crate::state::AppState;
use docde_domain::account::Role;

/// Longest description; plan and comment are shorter.
const MAX_DESCRIPTION: usize = 10_000;
const MAX_NOTE: usize = 5_000;

/// A record's content as the doctor writes it (create and amend).
#[derive(Debug, Clone, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct RecordRequest {
    /// Amending: the version you read (the amendment becomes `version + 1`). Not sent when
    /// creating.
    #[garde(skip)]
    pub version: Option<i32>,
    /// The day of treatment (not in the future).
    #[garde(skip)]
    pub treatment_date: NaiveDate,
    #[garde(skip)]
    pub description: String,
    /// KCD/ICD-10 codes such as `J06.9` (at most 20).
    #[serde(default)]
    #[garde(skip)]
    pub diagnosis_codes: Vec<String>,
    #[garde(skip)]
    pub treatment_plan: Option<String>,
    #[garde(skip)]
    pub doctor_comment: Option<String>,
}

/// One version's content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordVersionView {
    pub version: i32,
    pub treatment_date: NaiveDate,
    pub description: String,
    pub diagnosis_codes: Vec<String>,
    pub treatment_plan: Option<String>,
    pub doctor_comment: Option<String>,
    /// Who wrote this version, and when.
    pub written_by: Uuid,
    pub written_at: DateTime<Utc>,
}

/// A record with its current version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordView {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub patient_id: Uuid,
    pub doctor_id: Uuid,
    /// The treating doctor's account (the only one that amends).
    pub author_id: Uuid,
    /// The visit: a completed appointment.
    pub appointment_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub current: RecordVersionView,
}

/// The content after checking, in plaintext.
struct Content {
    treatment_date: NaiveDate,
    description: String,
    diagnosis_codes: Vec<String>,
    treatment_plan: Option<String>,
    doctor_comment: Option<String>,
}

fn invalid(code: &'static str, field: impl Into<String>, message: impl ToString) -> ApiError {
    ApiError::Invalid {
        code,
        field: field.into(),
        message: message.to_string(),
    }
}

fn check(req: &RecordRequest) -> Result<Content, ApiError> {
    let description =
        text(&req.description, MAX_DESCRIPTION).map_err(|e| invalid(e.code(), "description", e))?;
    if req.diagnosis_codes.len() > MAX_DIAGNOSIS_CODES {
        return Err(invalid(
            "too_many_diagnosis_codes",
            "diagnosis_codes",
            format!("at most {MAX_DIAGNOSIS_CODES} codes"),
        ));
    }
    let mut codes = Vec::with_capacity(req.diagnosis_codes.len());
    for (i, raw) in req.diagnosis_codes.iter().enumerate() {
        let code = DiagnosisCode::parse(raw)
            .map_err(|e| invalid("bad_diagnosis_code", format!("diagnosis_codes[{i}]"), e))?;
        if !codes.contains(&code.to_string()) {
            codes.push(code.to_string());
        }
    }
    let note = |field: &'static str, value: &Option<String>| {
        value
            .as_deref()
            .map(|v| text(v, MAX_NOTE).map_err(|e| invalid(e.code(), field, e)))
            .transpose()
    };
    // A day ahead is tolerated for time zones; anything later is a typo.
    let latest = (now() + chrono::Duration::days(1)).date_naive();
    if req.treatment_date > latest {
        return Err(invalid(
            "treatment_date_in_future",
            "treatment_date",
            "the treatment date is in the future",
        ));
    }
    Ok(Content {
        treatment_date: req.treatment_date,
        description,
        diagnosis_codes: codes,
        treatment_plan: note("treatment_plan", &req.treatment_plan)?,
        doctor_comment: note("doctor_comment", &req.doctor_comment)?,
    })
}

fn seal(
    state: &AppState,
    record_id: Uuid,
    version: i32,
    c: &Content,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<SealedVersion, ApiError> {
    let vault = &state.records;
    let ctx = |field| field_context(record_id, version, field);
    let codes = if c.diagnosis_codes.is_empty() {
        None
    } else {
        let json = serde_json::to_string(&c.diagnosis_codes).map_err(anyhow::Error::from)?;
        Some(vault.seal(&ctx("diagnosis_codes"), &json))
    };
    Ok(SealedVersion {
        version,
        treatment_date: c.treatment_date,
        description: vault.seal(&ctx("description"), &c.description),
        diagnosis_codes: codes,
        treatment_plan: vault.seal_opt(&ctx("treatment_plan"), c.treatment_plan.as_deref()),
        doctor_comment: vault.seal_opt(&ctx("doctor_comment"), c.doctor_comment.as_deref()),
        written_by: by,
        written_at: at,
    })
}

async fn open(
    state: &AppState,
    record_id: Uuid,
    v: &SealedVersion,
) -> Result<RecordVersionView, ApiError> {
    let vault = &state.records;
    let ctx = |field| field_context(record_id, v.version, field);
    // A value that does not open is a server-side fault (key store or data damaged): 500,
    // logged with the key id only.
    let fail = |e: crate::records::vault::VaultError| {
        ApiError::Internal(anyhow::anyhow!(e).context(format!("opening record {record_id}")))
    };
    let codes = match vault
        .open_opt(&ctx("diagnosis_codes"), v.diagnosis_codes.as_deref())
        .await
        .map_err(fail)?
    {
        Some(json) => serde_json::from_str(&json).map_err(anyhow::Error::from)?,
        None => Vec::new(),
    };
    Ok(RecordVersionView {
        version: v.version,
        treatment_date: v.treatment_date,
        description: vault
            .open(&ctx("description"), &v.description)
            .await
            .map_err(fail)?,
        diagnosis_codes: codes,
        treatment_plan: vault
            .open_opt(&ctx("treatment_plan"), v.treatment_plan.as_deref())
            .await
            .map_err(fail)?,
        doctor_comment: vault
            .open_opt(&ctx("doctor_comment"), v.doctor_comment.as_deref())
            .await
            .map_err(fail)?,
        written_by: v.written_by,
        written_at: v.written_at,
    })
}

async fn view(
    state: &AppState,
    r: &MedicalRecord,
    v: &SealedVersion,
) -> Result<RecordView, ApiError> {
    Ok(RecordView {
        id: r.id,
        hospital_id: r.hospital_id,
        patient_id: r.patient_id,
        doctor_id: r.doctor_id,
        author_id: r.author_id,
        appointment_id: r.appointment_id,
        created_at: r.created_at,
        updated_at: r.updated_at,
        current: open(state, r.id, v).await?,
    })
}

/// Whether `me` is a doctor of `hospital` caring for `patient` there (only asked when it
/// matters, so patients and other roles cost no query).
async fn care(
    state: &AppState,
    me: &UserPrincipal,
    hospital: Uuid,
    patient: Uuid,
) -> Result<bool, ApiError> {
    if me.role != Role::Doctor || me.hospital_id != Some(hospital) || me.id == patient {
        return Ok(false);
    }
    Ok(records::care_relationship(&state.store, me.id, hospital, patient).await?)
}

fn record_target(r: &MedicalRecord, care: bool) -> Target<'static> {
    Target::Record {
        hospital_id: r.hospital_id,
        patient_id: r.patient_id,
        author_id: Some(r.author_id),
        care,
    }
}

/// Loads a record the caller may read (404 otherwise) and, with `action`, audits the read
/// when the caller is not its patient.
async fn readable(
    state: &AppState,
    me: &UserPrincipal,
    ctx: &AuditContext,
    id: Uuid,
    action: Option<&str>,
) -> Result<(MedicalRecord, SealedVersion), ApiError> {
    let (record, current) = records::get(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let care =
        record.author_id != me.id && care(state, me, record.hospital_id, record.patient_id).await?;
    let principal = Principal::User(me.clone());
    authorize(&principal, Action::ReadRecord, record_target(&record, care))
        .map_err(|_| ApiError::NotFound)?;
    if let Some(action) = action.filter(|_| me.id != record.patient_id) {
        audit_record(state, &principal, ctx, action, &record).await?;
    }
    Ok((record, current))
}

async fn audit_record(
    state: &AppState,
    principal: &Principal,
    ctx: &AuditContext,
    action: &str,
    r: &MedicalRecord,
) -> Result<(), ApiError> {
    let subject = Subject {
        action,
        resource_type: "medical_record",
        resource_id: Some(r.id),
        patient_id: Some(r.patient_id),
        hospital_id: Some(r.hospital_id),
    };
    audit::record(state, principal, ctx, subject).await
}

fn record_error(e: RecordError) -> ApiError {
    match e {
        RecordError::VisitNotCompleted => ApiError::Conflict {
            code: "visit_not_completed",
            detail: "a record is written for a completed visit".into(),
        },
        RecordError::RecordExists => ApiError::Conflict {
            code: "record_exists",
            detail: "this visit already has a record: amend it instead".into(),
        },
        RecordError::Stale => ApiError::Conflict {
            code: "record_changed",
            detail: "the record was amended meanwhile: read it again and retry".into(),
        },
        RecordError::NotFound => ApiError::NotFound,
        RecordError::Store(e) => e.into(),
    }
}

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

/// A record with its current version (its patient; its author; doctors of its hospital with a
/// care relationship — audited).
#[utoipa::path(get, path = "/api/v1/records/{id}", operation_id = "get_record", tag = "records", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Record id")),
    responses(
        (status = 200, description = "The record", body = RecordView),
        (status = 404, description = "No such record for this caller", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    ctx: AuditContext,
    Path(id): Path<Uuid>,
) -> Result<Json<RecordView>, ApiError> {
    let (record, current) = readable(&state, &me, &ctx, id, Some("record.read")).await?;
    Ok(Json(view(&state, &record, &current).await?))
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

/// Every version of a record, oldest first, each with who wrote it and when (same readers as
/// the record; audited).
#[utoipa::path(get, path = "/api/v1/records/{id}/versions", operation_id = "list_record_versions", tag = "records", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Record id")),
    responses((status = 200, description = "Versions, oldest first", body = [RecordVersionView])))]
pub async fn versions(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    ctx: AuditContext,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<RecordVersionView>>, ApiError> {
    let (record, _) = readable(&state, &me, &ctx, id, Some("record.read_history")).await?;
    let mut out = Vec::new();
    for v in records::versions(&state.store, record.id).await? {
        out.push(open(&state, record.id, &v).await?);
    }
    Ok(Json(out))
}

/// The caller's own records, newest first (`[]` when there are none).
#[utoipa::path(get, path = "/api/v1/me/records", operation_id = "list_my_records", tag = "records", security(("bearer" = [])),
    responses((status = 200, description = "Own records", body = [RecordView])))]
pub async fn mine(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<Json<Vec<RecordView>>, ApiError> {
    let mut out = Vec::new();
    for (r, v) in records::of_patient(&state.store, me.id, None).await? {
        out.push(view(&state, &r, &v).await?);
    }
    Ok(Json(out))
}

/// A patient's records at the caller's hospital, for a doctor with a care relationship
/// (audited once per list). The patient themselves gets all of their records.
#[utoipa::path(get, path = "/api/v1/patients/{id}/records", operation_id = "list_patient_records", tag = "records", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The patient's user id")),
    responses(
        (status = 200, description = "Records, newest first (`[]` when there are none)", body = [RecordView]),
        (status = 403, description = "No care relationship with this patient", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn of_patient(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    ctx: AuditContext,
    Path(patient): Path<Uuid>,
) -> Result<Json<Vec<RecordView>>, ApiError> {
    if me.id == patient {
        return mine(State(state), CurrentUser(me)).await;
    }
    let hospital = me.hospital_id.ok_or(ApiError::Forbidden)?;
    let care = care(&state, &me, hospital, patient).await?;
    let principal = Principal::User(me.clone());
    let target = Target::Record {
        hospital_id: hospital,
        patient_id: patient,
        author_id: None,
        care,
    };
    authorize(&principal, Action::ReadRecord, target)?;
    let subject = Subject {
        action: "record.list",
        resource_type: "medical_record",
        resource_id: None,
        patient_id: Some(patient),
        hospital_id: Some(hospital),
    };
    audit::record(&state, &principal, &ctx, subject).await?;
    let mut out = Vec::new();
    for (r, v) in records::of_patient(&state.store, patient, Some(hospital)).await? {
        out.push(view(&state, &r, &v).await?);
    }
    Ok(Json(out))
}
