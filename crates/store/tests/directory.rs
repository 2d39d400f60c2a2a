//! The directory repository on both backends: hospitals with hours and departments, doctors,
//! soft deletes, and the bulk reads that feed the search index.

mod common;

use chrono::Utc;
use common::fresh_store;
use docde_store::accounts::hospitals::create_hospital;
use docde_store::directory::{self, DoctorFacts, HospitalFacts, Hours};
use uuid::Uuid;

fn facts(name: &str) -> HospitalFacts {
    HospitalFacts {
        name: name.into(),
        latin_name: Some("Seoul National University Hospital".into()),
        hospital_type: "tertiary_hospital".into(),
        sido: Some("서울특별시".into()),
        sigungu: Some("종로구".into()),
        road_address: Some("서울특별시 종로구 대학로 101".into()),
        phone: Some("02-2072-2114".into()),
        lat: Some(37.5796),
        lon: Some(126.9990),
        announcement: Some("주차장 공사 중".into()),
        hours: vec![
            Hours {
                day: 0,
                open: 540,
                close: 1080,
                lunch: Some((780, 840)),
            },
            Hours {
                day: 5,
                open: 540,
                close: 780,
                lunch: None,
            },
        ],
        departments: vec!["internal_medicine".into(), "pediatrics".into()],
    }
}

#[tokio::test]
async fn a_hospitals_facts_hours_and_departments_are_replaced_together() {
    let store = fresh_store().await;
    let h = create_hospital(&store, "임시 이름", "Asia/Seoul", Utc::now())
        .await
        .unwrap();
    assert!(
        directory::update_hospital(&store, h.id, &facts("서울대학교병원"), Utc::now())
            .await
            .unwrap()
    );
    let got = directory::get_hospital(&store, h.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.name, "서울대학교병원");
    assert_eq!((got.lat, got.lon), (Some(37.5796), Some(126.9990)));
    assert_eq!(got.hours, facts("").hours);
    assert_eq!(got.departments, ["internal_medicine", "pediatrics"]);

    let mut fewer = facts("서울대학교병원");
    fewer.hours.truncate(1);
    fewer.departments = vec!["dermatology".into()];
    directory::update_hospital(&store, h.id, &fewer, Utc::now())
        .await
        .unwrap();
    let got = directory::get_hospital(&store, h.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.hours.len(), got.departments),
        (1, vec!["dermatology".to_owned()])
    );
}

#[tokio::test]
async fn invalid_hours_are_refused_by_the_database_and_nothing_changes() {
    let store = fresh_store().await;
    let h = create_hospital(&store, "이름", "Asia/Seoul", Utc::now())
        .await
        .unwrap();
    directory::update_hospital(&store, h.id, &facts("서울대학교병원"), Utc::now())
        .await
        .unwrap();
    let mut bad = facts("바뀐 이름");
    bad.hours.push(Hours {
        day: 2,
        open: 600,
        close: 540,
        lunch: None,
    });
    assert!(
        directory::update_hospital(&store, h.id, &bad, Utc::now())
            .await
            .is_err()
    );
    let got = directory::get_hospital(&store, h.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.name.as_str(), got.hours.len()),
        ("서울대학교병원", 2),
        "no partial write"
    );
}

#[tokio::test]
async fn deleted_hospitals_and_doctors_leave_the_directory() {
    let store = fresh_store().await;
    let a = create_hospital(&store, "A병원", "Asia/Seoul", Utc::now())
        .await
        .unwrap();
    let b = create_hospital(&store, "B의원", "Asia/Seoul", Utc::now())
        .await
        .unwrap();
    let doctor = DoctorFacts {
        name: "김민준".into(),
        bio: None,
        accepts_online_booking: true,
        departments: vec!["internal_medicine".into()],
        user_id: None,
    };
    let (da, db) = (Uuid::now_v7(), Uuid::now_v7());
    directory::put_doctor(&store, da, a.id, &doctor, Utc::now())
        .await
        .unwrap();
    directory::put_doctor(
        &store,
        db,
        b.id,
        &DoctorFacts {
            name: "이서연".into(),
            ..doctor.clone()
        },
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(directory::doctors(&store, None).await.unwrap().len(), 2);
    assert_eq!(
        directory::get_doctor(&store, da)
            .await
            .unwrap()
            .unwrap()
            .departments,
        ["internal_medicine"]
    );

    assert!(
        directory::delete_hospital(&store, b.id, Utc::now())
            .await
            .unwrap()
    );
    assert!(
        !directory::delete_hospital(&store, b.id, Utc::now())
            .await
            .unwrap(),
        "once"
    );
    let names: Vec<_> = directory::all_hospitals(&store)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.name)
        .collect();
    assert_eq!(names, ["A병원"]);
    let doctors = directory::doctors(&store, None).await.unwrap();
    assert_eq!(
        doctors.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["김민준"],
        "a deleted hospital's doctors go too"
    );

    assert!(
        directory::delete_doctor(&store, da, Utc::now())
            .await
            .unwrap()
    );
    assert!(directory::get_doctor(&store, da).await.unwrap().is_none());
    assert!(
        directory::doctors(&store, Some(a.id))
            .await
            .unwrap()
            .is_empty()
    );
}
