//! The authorisation matrix, checked for every kind of principal and target (the rules in
//! words are in the parent module's documentation).

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
            !allowed(&device, action, ward_h1) && !allowed(&device, action, Target::Hospital(w.h1)),
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
