//! Authorisation: what each principal may do to what. Every handler asks here, with the
//! target's facts (its hospital, its ward's nurses…) already loaded; nothing else decides.
//!
//! The rules, in words:
//! - an installation `admin` may do anything a person may do, everywhere;
//! - a `hospital_admin` manages their own hospital: staff, wards, devices, and reads its audit;
//! - staff see their own hospital only; nurses see only the wards they are assigned to;
//! - a patient sees only themselves;
//! - a device may only report about itself;
//! - medical records are written and amended by the treating doctor only, read by their
//!   patient and by doctors of the same hospital with a care relationship; reviews are
//!   written, edited and deleted by the visit's patient only. No administrator, of the
//!   installation or a hospital, opens a record or edits a review (`Action::is_personal`).

use uuid::Uuid;

use crate::auth::Principal;
use crate::auth::principal::UserPrincipal;
use crate::problem::ApiError;
use docde_domain::account::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read a person's profile (personal data; audited when not one's own).
    ReadProfile,
    CreateHospital,
    /// Rebuild the search index (installation admins).
    RebuildSearch,
    /// Invite staff to a hospital.
    InviteStaff,
    ListStaff,
    /// Create wards, assign nurses.
    ManageWards,
    ReadWard,
    /// Register, list and revoke devices.
    ManageDevices,
    /// Edit a hospital's directory entry (facts, hours, departments, doctors) or delete it.
    ManageDirectory,
    /// Send data as a device (heartbeat, samples).
    ReportAsDevice,
    /// Mark a medicine delivered by scanning its QR code (the delivery robot, as itself).
    DeliverMedication,
    ReadAudit,
    /// Edit a doctor's schedule (the hospital's admins and the doctor themselves).
    EditSchedule,
    /// List a doctor's appointments (staff of the doctor's hospital).
    ListAppointments,
    /// Book for oneself (patients).
    Book,
    /// Read one appointment (its patient; staff of its hospital).
    ReadAppointment,
    /// Cancel as the patient who holds it (cut-off rules apply).
    CancelOwnAppointment,
    /// Cancel with a reason, check in, complete, mark no-show (reception, hospital admins,
    /// the appointment's doctor).
    ManageAppointment,
    /// Confirm or deny a requested booking (the appointment's doctor, hospital admins).
    DecideAppointment,
    /// Acknowledge and resolve a ward's alarms (the nurses assigned to the ward, hospital
    /// admins).
    RespondToAlarms,
    /// Write the record of a completed visit (the visit's doctor).
    WriteRecord,
    /// Read a patient's records (the patient; the author; doctors of the record's hospital
    /// with a care relationship).
    ReadRecord,
    /// Amend a record (its author only).
    AmendRecord,
    /// Review a completed visit (its patient).
    WriteReview,
    /// Edit or delete a review (its author only).
    EditReview,
    /// Reply to a review of the hospital, and read its abuse reports (hospital admins).
    ModerateReviews,
    /// Report a review as abusive (anyone signed in).
    ReportReview,
    /// Check a patient in at reception (the patient themselves; reception and hospital
    /// admins of the hospital on their behalf).
    CheckIn,
    /// Read a visit (its patient; staff of its hospital).
    ReadVisit,
    /// Cancel one's own visit while it waits or is called.
    CancelOwnVisit,
    /// Run a department's line: call next, recall, skip, move, start, complete, cancel,
    /// no-show, re-queue (reception, doctors and hospital admins of the hospital).
    ManageLine,
    /// Set the hospital's waiting-number prefixes (hospital admins).
    ConfigureReception,
    // Ward alarm limits (branch `ward`).
    /// Set one patient's alarm threshold overrides (the ward's nurses, hospital admins); the
    /// ward's own overrides are `ManageWards`.
    SetPatientThresholds,
    /// Subscribe one's own browser to web push for one's wards' alarms (nurses).
    SubscribePush,
}

impl Action {
    /// Actions on a person's own clinical data or words, which no administrator role may do
    /// in their place.
    pub fn is_personal(self) -> bool {
        matches!(
            self,
            Action::WriteRecord
                | Action::ReadRecord
                | Action::AmendRecord
                | Action::WriteReview
                | Action::EditReview
                | Action::SubscribePush
        )
    }
}

/// The thing acted on, with the facts the rules need.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Installation,
    Hospital(Uuid),
    User {
        id: Uuid,
        hospital_id: Option<Uuid>,
    },
    Ward {
        hospital_id: Uuid,
        nurse_ids: &'a [Uuid],
    },
    Device {
        id: Uuid,
        hospital_id: Uuid,
    },
    Doctor {
        hospital_id: Uuid,
        /// The doctor's own account, if they have one.
        user_id: Option<Uuid>,
    },
    Appointment {
        hospital_id: Uuid,
        patient_id: Uuid,
        doctor_user_id: Option<Uuid>,
    },
    /// A patient's medical records at a hospital (one record, or all of them there).
    Record {
        hospital_id: Uuid,
        patient_id: Uuid,
        /// The record's author (the treating doctor's account), for one record.
        author_id: Option<Uuid>,
        /// Whether the caller, as a doctor of `hospital_id`, has a care relationship with the
        /// patient there (an appointment or an open admission), loaded by the handler.
        care: bool,
    },
    Review {
        hospital_id: Uuid,
        author_id: Uuid,
    },
    /// A visit at reception (or one about to be made by checking in).
    Visit {
        hospital_id: Uuid,
        patient_id: Uuid,
    },
}

impl Target<'_> {
    fn hospital(&self) -> Option<Uuid> {
        match *self {
            Target::Installation => None,
            Target::Hospital(h) => Some(h),
            Target::User { hospital_id, .. } => hospital_id,
            Target::Ward { hospital_id, .. } => Some(hospital_id),
            Target::Device { hospital_id, .. } => Some(hospital_id),
            Target::Doctor { hospital_id, .. } => Some(hospital_id),
            Target::Appointment { hospital_id, .. } => Some(hospital_id),
            Target::Record { hospital_id, .. } => Some(hospital_id),
            Target::Review { hospital_id, .. } => Some(hospital_id),
            Target::Visit { hospital_id, .. } => Some(hospital_id),
        }
    }
}

/// `Ok` if `principal` may do `action` to `target`, else 403 `forbidden`.
pub fn authorize(
    principal: &Principal,
    action: Action,
    target: Target<'_>,
) -> Result<(), ApiError> {
    if allowed(principal, action, target) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

pub fn allowed(principal: &Principal, action: Action, target: Target<'_>) -> bool {
    match principal {
        Principal::Device(device) => {
            matches!(action, Action::ReportAsDevice | Action::DeliverMedication)
                && matches!(target, Target::Device { id, .. } if id == device.id)
        }
        Principal::User(user) => user_allowed(user, action, target),
    }
}

fn user_allowed(user: &UserPrincipal, action: Action, target: Target<'_>) -> bool {
    if matches!(action, Action::ReportAsDevice | Action::DeliverMedication) {
        return false;
    }
    if user.role == Role::Admin && !action.is_personal() {
        return true;
    }
    let own_hospital = user.hospital_id.is_some() && user.hospital_id == target.hospital();
    let hospital_admin = user.role == Role::HospitalAdmin && own_hospital;
    match action {
        Action::ReadProfile => {
            matches!(target, Target::User { id, .. } if id == user.id) || hospital_admin
        }
        Action::CreateHospital | Action::RebuildSearch => false,
        Action::InviteStaff
        | Action::ManageWards
        | Action::ManageDevices
        | Action::ManageDirectory
        | Action::ReadAudit => hospital_admin,
        Action::ListStaff => own_hospital && user.role.is_staff(),
        Action::ReadWard => match target {
            Target::Ward { nurse_ids, .. } => {
                hospital_admin
                    || (own_hospital && user.role == Role::Doctor)
                    || (own_hospital && user.role == Role::Nurse && nurse_ids.contains(&user.id))
            }
            _ => false,
        },
        Action::EditSchedule => {
            hospital_admin
                || matches!(target, Target::Doctor { user_id: Some(u), .. } if u == user.id)
        }
        Action::ListAppointments => own_hospital && user.role.is_staff(),
        Action::Book => {
            user.role == Role::Patient && matches!(target, Target::User { id, .. } if id == user.id)
        }
        Action::ReadAppointment => match target {
            Target::Appointment { patient_id, .. } => {
                patient_id == user.id || (own_hospital && user.role.is_staff())
            }
            _ => false,
        },
        Action::CancelOwnAppointment => {
            matches!(target, Target::Appointment { patient_id, .. } if patient_id == user.id)
        }
        Action::ManageAppointment => match target {
            Target::Appointment { doctor_user_id, .. } => {
                hospital_admin
                    || (own_hospital && user.role == Role::Reception)
                    || (own_hospital && doctor_user_id == Some(user.id))
            }
            _ => false,
        },
        Action::DecideAppointment => match target {
            Target::Appointment { doctor_user_id, .. } => {
                hospital_admin || (own_hospital && doctor_user_id == Some(user.id))
            }
            _ => false,
        },
        Action::RespondToAlarms => match target {
            Target::Ward { nurse_ids, .. } => {
                hospital_admin
                    || (own_hospital && user.role == Role::Nurse && nurse_ids.contains(&user.id))
            }
            _ => false,
        },
        Action::WriteRecord => match target {
            Target::Appointment { doctor_user_id, .. } => {
                user.role == Role::Doctor && own_hospital && doctor_user_id == Some(user.id)
            }
            _ => false,
        },
        Action::ReadRecord => match target {
            Target::Record {
                patient_id,
                author_id,
                care,
                ..
            } => {
                patient_id == user.id
                    || (user.role == Role::Doctor
                        && own_hospital
                        && (care || author_id == Some(user.id)))
            }
            _ => false,
        },
        Action::AmendRecord => match target {
            Target::Record { author_id, .. } => {
                user.role == Role::Doctor && own_hospital && author_id == Some(user.id)
            }
            _ => false,
        },
        Action::WriteReview => match target {
            Target::Appointment { patient_id, .. } => {
                user.role == Role::Patient && patient_id == user.id
            }
            _ => false,
        },
        Action::EditReview => {
            matches!(target, Target::Review { author_id, .. } if author_id == user.id)
        }
        Action::ModerateReviews => hospital_admin,
        Action::ReportReview => true,
        Action::CheckIn => match target {
            Target::Visit { patient_id, .. } => {
                (user.role == Role::Patient && patient_id == user.id)
                    || hospital_admin
                    || (own_hospital && user.role == Role::Reception)
            }
            _ => false,
        },
        Action::ReadVisit => match target {
            Target::Visit { patient_id, .. } => {
                patient_id == user.id || (own_hospital && user.role.is_staff())
            }
            _ => false,
        },
        Action::CancelOwnVisit => {
            matches!(target, Target::Visit { patient_id, .. } if patient_id == user.id)
        }
        Action::ManageLine => {
            hospital_admin || (own_hospital && matches!(user.role, Role::Reception | Role::Doctor))
        }
        Action::ConfigureReception => hospital_admin,
        // Ward alarm limits (branch `ward`).
        Action::SetPatientThresholds => match target {
            Target::Ward { nurse_ids, .. } => {
                hospital_admin
                    || (own_hospital && user.role == Role::Nurse && nurse_ids.contains(&user.id))
            }
            _ => false,
        },
        Action::SubscribePush => {
            user.role == Role::Nurse && matches!(target, Target::User { id, .. } if id == user.id)
        }
        Action::ReportAsDevice | Action::DeliverMedication => false,
    }
}

#[cfg(test)]
mod tests;
