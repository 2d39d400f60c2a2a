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
//!
//! One file per part: `writing` (a visit's first version, by appointment or walk-in, and
//! amendments), `reading` (a record, its versions, a patient's records). This file keeps what
//! they share: the request and views, checking, sealing and opening the content, who may read
//! a record, and its auditing.

use chrono::{DateTime, NaiveDate, Utc};
use docde_domain::record::{DiagnosisCode, MAX_DIAGNOSIS_CODES, text};
use docde_store::records::{self, MedicalRecord, RecordError, SealedVersion};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, AuditContext, Subject};
use super::now;
use crate::auth::{Principal, UserPrincipal};
use crate::authz::{Action, Target, authorize};
use crate::problem::ApiError;
use crate::records::vault::field_context;
use crate::state::AppState;
use docde_domain::account::Role;

mod reading;
mod writing;

pub use reading::{
    __path_get, __path_mine, __path_of_patient, __path_versions, get, mine, of_patient, versions,
};
pub use writing::{
    __path_amend, __path_create, __path_create_for_walk_in, amend, create, create_for_walk_in,
};

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
