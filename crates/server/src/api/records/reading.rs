//! Reading records: one with its current version, its versions, the caller's own and a
//! patient's (for a doctor caring for them), each read by someone else audited.

use axum::Json;
use axum::extract::{Path, State};
use docde_store::records;
use uuid::Uuid;

use super::super::audit::{self, AuditContext, Subject};
use super::{RecordVersionView, RecordView, care, open, readable, view};
use crate::auth::{CurrentUser, Principal};
use crate::authz::{Action, Target, authorize};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

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
