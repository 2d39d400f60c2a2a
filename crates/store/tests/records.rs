//! Records and reviews against the database itself (SQLite, or PostgreSQL with
//! `TEST_DATABASE_URL`): one record per completed visit, versions never destroyed, one live
//! review per visit edited in place, summaries, the care relationship.

mod common;

use chrono::{NaiveDate, Utc};
use docde_domain::account::Role;
use docde_store::Store;
use docde_store::accounts::hospitals::create_hospital;
use docde_store::accounts::users::{self, NewUser};
use docde_store::booking::appointments::{self, book_now};
use docde_store::booking::{NewAppointment, Transition};
use docde_store::directory;
use docde_store::records::{self, NewRecord, RecordError, SealedVersion, Visit};
use docde_store::reviews::{self, NewReview, ReviewError, ReviewReport, Subject};
use uuid::Uuid;

use common::fresh_store;

struct Clinic {
    hospital: Uuid,
    doctor: Uuid,
    doctor_user: Uuid,
}

async fn user(store: &Store, role: Role, hospital: Option<Uuid>) -> Uuid {
    let id = Uuid::now_v7();
    let email = format!("{id}@example.test");
    let new = NewUser {
        email: email.clone(),
        email_key: email,
        password_hash: None,
        role,
        hospital_id: hospital,
        employee_number: None,
        name: "사람".into(),
        phone: None,
        birth_date: None,
        gender: None,
        address: None,
        active: true,
    };
    users::create(store, id, &new, None, None, Utc::now())
        .await
        .unwrap();
    id
}

async fn clinic(store: &Store) -> Clinic {
    let hospital = create_hospital(store, "기록병원", "Asia/Seoul", Utc::now())
        .await
        .unwrap()
        .id;
    let doctor_user = user(store, Role::Doctor, Some(hospital)).await;
    let doctor = Uuid::now_v7();
    let facts = common::internist(Some(doctor_user));
    directory::put_doctor(store, doctor, hospital, &facts, Utc::now())
        .await
        .unwrap();
    Clinic {
        hospital,
        doctor,
        doctor_user,
    }
}

/// A booked appointment; `complete` moves it through check-in to completed.
async fn visit(store: &Store, c: &Clinic, patient: Uuid, start: i64, complete: bool) -> Uuid {
    let new = NewAppointment {
        id: Uuid::now_v7(),
        hospital_id: c.hospital,
        doctor_id: c.doctor,
        patient_id: patient,
        starts_at: start,
        ends_at: start + 600,
        capacity: 1,
        status: "booked",
        reason: "기침".into(),
        idempotency_key: None,
        request_hash: None,
        rescheduled_from: None,
        now: Utc::now(),
        email: None,
        session_id: None,
    };
    book_now(store, &new).await.unwrap();
    if complete {
        for (from, to) in [("booked", "checked_in"), ("checked_in", "completed")] {
            let t = Transition {
                appointment_id: new.id,
                from: from.into(),
                to,
                reason: None,
                by: c.doctor_user,
                frees_seat: false,
                now: Utc::now(),
                email: None,
            };
            appointments::transition(store, &t).await.unwrap();
        }
    }
    new.id
}

fn content(version: i32, by: Uuid, text: &str) -> SealedVersion {
    SealedVersion {
        version,
        treatment_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        description: text.into(),
        diagnosis_codes: None,
        treatment_plan: Some("plan".into()),
        doctor_comment: None,
        written_by: by,
        written_at: Utc::now(),
    }
}

fn new_record(c: &Clinic, patient: Uuid, appointment: Uuid) -> NewRecord {
    NewRecord {
        id: Uuid::now_v7(),
        hospital_id: c.hospital,
        patient_id: patient,
        doctor_id: c.doctor,
        author_id: c.doctor_user,
        visit: Visit::Appointment(appointment),
        content: content(1, c.doctor_user, "sealed-1"),
    }
}

const T0: i64 = 1_900_000_000;

#[tokio::test]
async fn a_visit_gets_one_record_once_completed_and_no_version_is_ever_destroyed() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let patient = user(&store, Role::Patient, None).await;
    let booked = visit(&store, &c, patient, T0, false).await;
    assert!(matches!(
        records::create(&store, &new_record(&c, patient, booked)).await,
        Err(RecordError::VisitNotCompleted)
    ));
    let done = visit(&store, &c, patient, T0 + 3600, true).await;
    let first = new_record(&c, patient, done);
    let record = records::create(&store, &first).await.unwrap();
    assert_eq!(record.version, 1);
    assert!(matches!(
        records::create(&store, &new_record(&c, patient, done)).await,
        Err(RecordError::RecordExists)
    ));

    let amended = records::amend(&store, record.id, &content(2, c.doctor_user, "sealed-2"))
        .await
        .unwrap();
    assert_eq!(amended.version, 2);
    // A second amendment from version 1 lost the race.
    assert!(matches!(
        records::amend(&store, record.id, &content(2, c.doctor_user, "late")).await,
        Err(RecordError::Stale)
    ));
    assert!(matches!(
        records::amend(&store, Uuid::now_v7(), &content(2, c.doctor_user, "x")).await,
        Err(RecordError::NotFound)
    ));
    let versions = records::versions(&store, record.id).await.unwrap();
    let texts: Vec<&str> = versions.iter().map(|v| v.description.as_str()).collect();
    assert_eq!(texts, ["sealed-1", "sealed-2"]);
    let (current, latest) = records::get(&store, record.id).await.unwrap().unwrap();
    assert_eq!(
        (current.version, latest.description.as_str()),
        (2, "sealed-2")
    );
    assert_eq!(
        records::of_appointment(&store, done).await.unwrap(),
        Some(record.id)
    );

    // The database itself refuses to change or remove history.
    let id = record.id.to_string();
    let update = docde_store::with_writer!(store, pool => {
        sqlx::query("UPDATE medical_record_versions SET description = 'x' WHERE record_id = $1")
            .bind(&id)
            .execute(pool)
            .await
            .map(|_| ())
    });
    let delete_version = docde_store::with_writer!(store, pool => {
        sqlx::query("DELETE FROM medical_record_versions WHERE record_id = $1")
            .bind(&id)
            .execute(pool)
            .await
            .map(|_| ())
    });
    let delete_record = docde_store::with_writer!(store, pool => {
        sqlx::query("DELETE FROM medical_records WHERE id = $1")
            .bind(&id)
            .execute(pool)
            .await
            .map(|_| ())
    });
    for result in [update, delete_version, delete_record] {
        let e = docde_store::StoreError::from(result.unwrap_err());
        assert!(e.is_constraint("medical_records_immutable"), "{e:?}");
    }
    assert_eq!(records::versions(&store, record.id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_care_relationship_is_an_active_or_past_appointment_or_an_open_admission() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let patient = user(&store, Role::Patient, None).await;
    let other = create_hospital(&store, "다른병원", "Asia/Seoul", Utc::now())
        .await
        .unwrap()
        .id;
    assert!(
        !records::care_relationship(&store, c.doctor_user, c.hospital, patient)
            .await
            .unwrap()
    );
    let booked = visit(&store, &c, patient, T0, false).await;
    assert!(
        records::care_relationship(&store, c.doctor_user, c.hospital, patient)
            .await
            .unwrap()
    );
    assert!(
        !records::care_relationship(&store, c.doctor_user, other, patient)
            .await
            .unwrap()
    );
    let cancel = Transition {
        appointment_id: booked,
        from: "booked".into(),
        to: "cancelled",
        reason: None,
        by: patient,
        frees_seat: true,
        now: Utc::now(),
        email: None,
    };
    appointments::transition(&store, &cancel).await.unwrap();
    assert!(
        !records::care_relationship(&store, c.doctor_user, c.hospital, patient)
            .await
            .unwrap(),
        "a cancelled appointment is no relationship"
    );
}

fn new_review(c: &Clinic, patient: Uuid, appointment: Uuid, stars: u8) -> NewReview {
    NewReview {
        id: Uuid::now_v7(),
        appointment_id: appointment,
        hospital_id: c.hospital,
        doctor_id: c.doctor,
        patient_id: patient,
        stars,
        body: "좋아요".into(),
        now: Utc::now(),
    }
}

async fn review_rows(store: &Store) -> i64 {
    docde_store::with_reader!(store, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM reviews").fetch_one(pool).await.unwrap()
    })
}

#[tokio::test]
async fn a_visit_has_one_live_review_edited_in_place_and_summaries_follow() {
    let store = fresh_store().await;
    let c = clinic(&store).await;
    let (alice, bob) = (
        user(&store, Role::Patient, None).await,
        user(&store, Role::Patient, None).await,
    );
    let booked = visit(&store, &c, alice, T0, false).await;
    assert!(matches!(
        reviews::create(&store, &new_review(&c, alice, booked, 5)).await,
        Err(ReviewError::VisitNotCompleted)
    ));
    let (va, vb) = (
        visit(&store, &c, alice, T0 + 3600, true).await,
        visit(&store, &c, bob, T0 + 7200, true).await,
    );
    let a = reviews::create(&store, &new_review(&c, alice, va, 5))
        .await
        .unwrap();
    assert!(matches!(
        reviews::create(&store, &new_review(&c, alice, va, 1)).await,
        Err(ReviewError::ReviewExists)
    ));
    let b = reviews::create(&store, &new_review(&c, bob, vb, 2))
        .await
        .unwrap();

    let summary = reviews::summary(&store, Subject::Doctor(c.doctor))
        .await
        .unwrap();
    assert_eq!(
        (summary.count, summary.average, summary.distribution),
        (2, Some(3.5), [0, 1, 0, 0, 1])
    );

    // Only the author changes a review, and the change is to that row.
    assert!(matches!(
        reviews::update(&store, b.id, alice, 1, "x", Utc::now()).await,
        Err(ReviewError::NotFound)
    ));
    let edited = reviews::update(&store, b.id, bob, 3, "다시 보니", Utc::now())
        .await
        .unwrap();
    assert_eq!((edited.id, edited.stars), (b.id, 3));
    assert_eq!(review_rows(&store).await, 2, "no duplicate row");
    let summary = reviews::summary(&store, Subject::Hospital(c.hospital))
        .await
        .unwrap();
    assert_eq!((summary.count, summary.average), (2, Some(4.0)));

    assert!(matches!(
        reviews::delete(&store, a.id, bob, Utc::now()).await,
        Err(ReviewError::NotFound)
    ));
    reviews::delete(&store, a.id, alice, Utc::now())
        .await
        .unwrap();
    let summary = reviews::summary(&store, Subject::Hospital(c.hospital))
        .await
        .unwrap();
    assert_eq!((summary.count, summary.distribution), (1, [0, 0, 1, 0, 0]));
    let listed = reviews::list(&store, Subject::Hospital(c.hospital), None, 10)
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), [b.id]);

    let report = ReviewReport {
        id: Uuid::now_v7(),
        review_id: b.id,
        hospital_id: c.hospital,
        reporter_id: alice,
        reason: "욕설".into(),
        created_at: Utc::now(),
    };
    reviews::report(&store, &report).await.unwrap();
    let again = ReviewReport {
        id: Uuid::now_v7(),
        ..report
    };
    assert!(matches!(
        reviews::report(&store, &again).await,
        Err(ReviewError::AlreadyReported)
    ));
    assert_eq!(
        reviews::reports(&store, c.hospital, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}
