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
mod tests {
    use super::*;
    use crate::auth::principal::DevicePrincipal;

    struct World {
        h1: Uuid,
        h2: Uuid,
        ward_nurse: Uuid,
    }

    fn person(role: Role, hospital: Option<Uuid>, id: Uuid) -> Principal {
        Principal::User(UserPrincipal {
            id,
            role,
            hospital_id: hospital,
            session_id: Uuid::now_v7(),
        })
    }

    /// Each role × each kind of target, including another hospital's and another person's.
    #[test]
    fn the_authorisation_matrix() {
        let w = World {
            h1: Uuid::now_v7(),
            h2: Uuid::now_v7(),
            ward_nurse: Uuid::now_v7(),
        };
        let me = Uuid::now_v7();
        let someone = Uuid::now_v7();
        let nurses = [w.ward_nurse];
        let ward_h1 = Target::Ward {
            hospital_id: w.h1,
            nurse_ids: &nurses,
        };
        let ward_h2 = Target::Ward {
            hospital_id: w.h2,
            nurse_ids: &[],
        };
        let device_id = Uuid::now_v7();

        let patient = person(Role::Patient, None, me);
        assert!(allowed(
            &patient,
            Action::ReadProfile,
            Target::User {
                id: me,
                hospital_id: None
            }
        ));
        assert!(
            !allowed(
                &patient,
                Action::ReadProfile,
                Target::User {
                    id: someone,
                    hospital_id: None
                }
            ),
            "another patient"
        );
        assert!(!allowed(
            &patient,
            Action::ListStaff,
            Target::Hospital(w.h1)
        ));
        assert!(!allowed(&patient, Action::ReadWard, ward_h1));
        assert!(!allowed(
            &patient,
            Action::CreateHospital,
            Target::Installation
        ));

        let assigned_nurse = person(Role::Nurse, Some(w.h1), w.ward_nurse);
        let other_nurse = person(Role::Nurse, Some(w.h1), someone);
        assert!(allowed(&assigned_nurse, Action::ReadWard, ward_h1));
        assert!(allowed(&assigned_nurse, Action::RespondToAlarms, ward_h1));
        assert!(
            !allowed(&other_nurse, Action::RespondToAlarms, ward_h1),
            "alarms of a ward the nurse is not on"
        );
        assert!(
            !allowed(
                &person(Role::Doctor, Some(w.h1), me),
                Action::RespondToAlarms,
                ward_h1
            ),
            "doctors read the ward; its nurses answer its alarms"
        );
        assert!(allowed(
            &person(Role::HospitalAdmin, Some(w.h1), me),
            Action::RespondToAlarms,
            ward_h1
        ));
        assert!(
            !allowed(&other_nurse, Action::ReadWard, ward_h1),
            "a nurse of another ward"
        );
        assert!(
            !allowed(&assigned_nurse, Action::ReadWard, ward_h2),
            "another hospital"
        );
        assert!(allowed(
            &assigned_nurse,
            Action::ListStaff,
            Target::Hospital(w.h1)
        ));
        assert!(!allowed(
            &assigned_nurse,
            Action::ListStaff,
            Target::Hospital(w.h2)
        ));
        assert!(!allowed(
            &assigned_nurse,
            Action::ManageDevices,
            Target::Hospital(w.h1)
        ));
        assert!(!allowed(
            &assigned_nurse,
            Action::ReadProfile,
            Target::User {
                id: someone,
                hospital_id: Some(w.h1)
            }
        ));

        let doctor = person(Role::Doctor, Some(w.h1), me);
        assert!(allowed(&doctor, Action::ReadWard, ward_h1));
        assert!(!allowed(&doctor, Action::ReadWard, ward_h2));
        assert!(!allowed(
            &doctor,
            Action::InviteStaff,
            Target::Hospital(w.h1)
        ));

        let reception = person(Role::Reception, Some(w.h1), me);
        assert!(!allowed(&reception, Action::ReadWard, ward_h1));
        assert!(allowed(
            &reception,
            Action::ListStaff,
            Target::Hospital(w.h1)
        ));

        let hadmin = person(Role::HospitalAdmin, Some(w.h1), me);
        for action in [
            Action::InviteStaff,
            Action::ManageWards,
            Action::ManageDevices,
            Action::ManageDirectory,
            Action::ReadAudit,
            Action::ListStaff,
        ] {
            assert!(
                allowed(&hadmin, action, Target::Hospital(w.h1)),
                "{action:?} own hospital"
            );
            assert!(
                !allowed(&hadmin, action, Target::Hospital(w.h2)),
                "{action:?} another hospital"
            );
        }
        assert!(allowed(&hadmin, Action::ReadWard, ward_h1));
        assert!(allowed(
            &hadmin,
            Action::ReadProfile,
            Target::User {
                id: someone,
                hospital_id: Some(w.h1)
            }
        ));
        assert!(
            !allowed(
                &hadmin,
                Action::ReadProfile,
                Target::User {
                    id: someone,
                    hospital_id: None
                }
            ),
            "patients are not staff"
        );
        assert!(!allowed(
            &hadmin,
            Action::ManageDevices,
            Target::Device {
                id: device_id,
                hospital_id: w.h2
            }
        ));
        assert!(!allowed(
            &hadmin,
            Action::CreateHospital,
            Target::Installation
        ));

        let admin = person(Role::Admin, None, me);
        for action in [
            Action::CreateHospital,
            Action::ReadAudit,
            Action::ManageDevices,
            Action::ReadWard,
        ] {
            assert!(allowed(&admin, action, Target::Hospital(w.h2)) || action == Action::ReadWard);
        }
        assert!(allowed(&admin, Action::ReadWard, ward_h2));
        assert!(
            !allowed(
                &admin,
                Action::ReportAsDevice,
                Target::Device {
                    id: device_id,
                    hospital_id: w.h1
                }
            ),
            "people are not devices"
        );

        // Reception: check-in, reading a visit, running the line.
        let visit_mine = Target::Visit {
            hospital_id: w.h1,
            patient_id: me,
        };
        let visit_other = Target::Visit {
            hospital_id: w.h1,
            patient_id: someone,
        };
        assert!(allowed(&patient, Action::CheckIn, visit_mine));
        assert!(
            !allowed(&patient, Action::CheckIn, visit_other),
            "another patient"
        );
        assert!(allowed(&patient, Action::ReadVisit, visit_mine));
        assert!(!allowed(&patient, Action::ReadVisit, visit_other));
        assert!(allowed(&patient, Action::CancelOwnVisit, visit_mine));
        assert!(!allowed(
            &patient,
            Action::ManageLine,
            Target::Hospital(w.h1)
        ));
        let reception_h1 = person(Role::Reception, Some(w.h1), someone);
        assert!(
            allowed(&reception_h1, Action::CheckIn, visit_mine),
            "on the patient's behalf"
        );
        assert!(allowed(&reception_h1, Action::ReadVisit, visit_mine));
        assert!(allowed(
            &reception_h1,
            Action::ManageLine,
            Target::Hospital(w.h1)
        ));
        assert!(!allowed(
            &reception_h1,
            Action::ManageLine,
            Target::Hospital(w.h2)
        ));
        assert!(!allowed(
            &reception_h1,
            Action::ConfigureReception,
            Target::Hospital(w.h1)
        ));
        assert!(
            !allowed(
                &reception_h1,
                Action::CheckIn,
                Target::Visit {
                    hospital_id: w.h2,
                    patient_id: me
                }
            ),
            "another hospital's line"
        );
        assert!(!allowed(&reception_h1, Action::CancelOwnVisit, visit_mine));
        assert!(allowed(&doctor, Action::ManageLine, Target::Hospital(w.h1)));
        assert!(
            !allowed(&doctor, Action::CheckIn, visit_mine),
            "doctors do not check people in"
        );
        assert!(!allowed(
            &assigned_nurse,
            Action::ManageLine,
            Target::Hospital(w.h1)
        ));
        assert!(allowed(
            &hadmin,
            Action::ConfigureReception,
            Target::Hospital(w.h1)
        ));
        assert!(!allowed(
            &hadmin,
            Action::ConfigureReception,
            Target::Hospital(w.h2)
        ));
        assert!(allowed(&hadmin, Action::CheckIn, visit_mine));

        let device = Principal::Device(DevicePrincipal {
            id: device_id,
            hospital_id: w.h1,
            ward_id: None,
        });
        assert!(allowed(
            &device,
            Action::ReportAsDevice,
            Target::Device {
                id: device_id,
                hospital_id: w.h1
            }
        ));
        assert!(
            !allowed(
                &device,
                Action::ReportAsDevice,
                Target::Device {
                    id: someone,
                    hospital_id: w.h1
                }
            ),
            "another device"
        );
        let itself = Target::Device {
            id: device_id,
            hospital_id: w.h1,
        };
        assert!(allowed(&device, Action::DeliverMedication, itself));
        assert!(
            !allowed(
                &device,
                Action::DeliverMedication,
                Target::Device {
                    id: someone,
                    hospital_id: w.h1
                }
            ),
            "a robot scans as itself only"
        );
        assert!(
            !allowed(&admin, Action::DeliverMedication, itself),
            "people are not robots"
        );
        for action in [
            Action::ReadProfile,
            Action::ReadWard,
            Action::ListStaff,
            Action::ReadAudit,
        ] {
            assert!(
                !allowed(&device, action, ward_h1)
                    && !allowed(&device, action, Target::Hospital(w.h1)),
                "{action:?}"
            );
        }
    }

    /// Records: who writes, amends and reads; reviews: only their author edits. No
    /// administrator stands in for the doctor or the patient.
    #[test]
    fn the_records_and_reviews_matrix() {
        let (h1, h2) = (Uuid::now_v7(), Uuid::now_v7());
        let (treating, colleague, patient, other_patient) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let visit = Target::Appointment {
            hospital_id: h1,
            patient_id: patient,
            doctor_user_id: Some(treating),
        };
        let record = |care| Target::Record {
            hospital_id: h1,
            patient_id: patient,
            author_id: Some(treating),
            care,
        };
        let doctor = person(Role::Doctor, Some(h1), treating);
        let colleague_doc = person(Role::Doctor, Some(h1), colleague);
        let doctor_h2 = person(Role::Doctor, Some(h2), colleague);
        let the_patient = person(Role::Patient, None, patient);
        let stranger = person(Role::Patient, None, other_patient);
        let nurse = person(Role::Nurse, Some(h1), colleague);
        let hadmin = person(Role::HospitalAdmin, Some(h1), colleague);
        let admin = person(Role::Admin, None, colleague);

        assert!(allowed(&doctor, Action::WriteRecord, visit));
        for who in [
            &colleague_doc,
            &doctor_h2,
            &the_patient,
            &nurse,
            &hadmin,
            &admin,
        ] {
            assert!(!allowed(who, Action::WriteRecord, visit), "{who:?} writes");
            assert!(
                !allowed(who, Action::AmendRecord, record(true)),
                "{who:?} amends"
            );
        }
        assert!(allowed(&doctor, Action::AmendRecord, record(false)));

        assert!(allowed(&the_patient, Action::ReadRecord, record(false)));
        assert!(
            allowed(&doctor, Action::ReadRecord, record(false)),
            "its author"
        );
        assert!(
            allowed(&colleague_doc, Action::ReadRecord, record(true)),
            "in care"
        );
        assert!(
            !allowed(&colleague_doc, Action::ReadRecord, record(false)),
            "no care"
        );
        assert!(
            !allowed(&doctor_h2, Action::ReadRecord, record(true)),
            "another hospital"
        );
        for who in [&stranger, &nurse, &hadmin, &admin] {
            assert!(
                !allowed(who, Action::ReadRecord, record(true)),
                "{who:?} reads"
            );
        }

        assert!(allowed(&the_patient, Action::WriteReview, visit));
        for who in [&stranger, &doctor, &hadmin, &admin] {
            assert!(!allowed(who, Action::WriteReview, visit), "{who:?} reviews");
        }
        let review = Target::Review {
            hospital_id: h1,
            author_id: patient,
        };
        assert!(allowed(&the_patient, Action::EditReview, review));
        for who in [&stranger, &hadmin, &admin, &doctor] {
            assert!(!allowed(who, Action::EditReview, review), "{who:?} edits");
        }
        assert!(allowed(
            &hadmin,
            Action::ModerateReviews,
            Target::Hospital(h1)
        ));
        assert!(allowed(
            &admin,
            Action::ModerateReviews,
            Target::Hospital(h1)
        ));
        assert!(!allowed(
            &hadmin,
            Action::ModerateReviews,
            Target::Hospital(h2)
        ));
        assert!(!allowed(
            &doctor,
            Action::ModerateReviews,
            Target::Hospital(h1)
        ));
        assert!(allowed(&stranger, Action::ReportReview, review));
    }
}
