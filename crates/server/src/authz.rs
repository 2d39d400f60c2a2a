//! Authorisation: what each principal may do to what. Every handler asks here, with the
//! target's facts (its hospital, its ward's nurses…) already loaded; nothing else decides.
//!
//! The rules, in words:
//! - an installation `admin` may do anything a person may do, everywhere;
//! - a `hospital_admin` manages their own hospital: staff, wards, devices, and reads its audit;
//! - staff see their own hospital only; nurses see only the wards they are assigned to;
//! - a patient sees only themselves;
//! - a device may only report about itself.

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
    if user.role == Role::Admin {
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
}
