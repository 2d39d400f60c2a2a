//! What a request names, checked against the hospital: a department it offers, a doctor of
//! that department, and the signed-in doctor's own doctor record.

use docde_domain::directory::Department;
use docde_store::directory;
use uuid::Uuid;

use super::errors::invalid;
use crate::auth::UserPrincipal;
use crate::problem::ApiError;
use crate::reception::hospital::HospitalFacts;
use crate::state::AppState;

/// A department code offered by the hospital.
pub(super) fn department_of(raw: &str, facts: &HospitalFacts) -> Result<String, ApiError> {
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
pub(super) async fn doctor_of(
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
pub(super) async fn my_doctor(
    state: &AppState,
    me: &UserPrincipal,
) -> Result<Option<Uuid>, ApiError> {
    let Some(hospital) = me.hospital_id else {
        return Ok(None);
    };
    let doctors = directory::doctors(&state.store, Some(hospital)).await?;
    Ok(doctors
        .into_iter()
        .find(|d| d.user_id == Some(me.id))
        .map(|d| d.id))
}
