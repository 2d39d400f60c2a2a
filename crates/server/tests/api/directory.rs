//! The directory over HTTP: public reads, edits by the hospital's own admins, precise errors.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app};
use crate::people::{get, people, post};

fn entry() -> Value {
    json!({
        "name": "서울대학교병원", "latin_name": "Seoul National University Hospital",
        "hospital_type": "tertiary_hospital", "sido": "서울특별시", "sigungu": "종로구",
        "road_address": "서울특별시 종로구 대학로 101", "phone": "02-2072-2114",
        "lat": 37.5796, "lon": 126.9990,
        "hours": {
            "monday": {"open": "09:00", "close": "18:00", "lunch": ["13:00", "14:00"]},
            "saturday": {"open": "09:00", "close": "13:00"}
        },
        "departments": ["internal_medicine", "소아청소년과"]
    })
}

async fn put(
    app: &crate::helpers::TestApp,
    path: &str,
    token: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_hospital_admin_writes_the_entry_and_anyone_reads_it() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let path = format!("/api/v1/hospitals/{}", p.h1);
    let r = put(&app, &path, &p.hadmin.token, entry()).await;
    assert_eq!(r.status(), StatusCode::OK);

    let public: Value = app
        .client
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["name"], "서울대학교병원");
    assert_eq!(public["hospital_type_ko"], "상급종합병원");
    assert_eq!(
        public["hours"]["monday"],
        json!({"open": "09:00", "close": "18:00", "lunch": ["13:00", "14:00"]})
    );
    assert_eq!(
        public["hours"]["sunday"],
        Value::Null,
        "closed days are null"
    );
    let codes: Vec<_> = public["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["internal_medicine", "pediatrics"],
        "Korean names are accepted and stored as codes"
    );
    assert_eq!(public["departments"][1]["ko"], "소아청소년과");

    for token in [&p.hadmin_h2.token, &p.doctor.token, &p.patient.token] {
        assert_eq!(
            put(&app, &path, token, entry()).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        put(&app, &path, &p.admin.token, entry()).await.status(),
        StatusCode::OK,
        "installation admins too"
    );
}

#[tokio::test]
async fn bad_coordinates_hours_and_departments_are_all_named_and_nothing_is_stored() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let path = format!("/api/v1/hospitals/{}", p.h1);
    put(&app, &path, &p.hadmin.token, entry()).await;
    let mut bad = entry();
    bad["name"] = json!("바뀐 이름");
    bad["lat"] = json!(137.5);
    bad["hours"]["monday"]["close"] = json!("08:00");
    bad["hours"]["saturday"]["lunch"] = json!(["12:00", "11:00"]);
    bad["hours"]["friday"] = json!({"open": "9시", "close": "18:00"});
    bad["departments"] = json!(["internal_medicine", "astrology"]);
    let r = put(&app, &path, &p.hadmin.token, bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = problem(r).await;
    let mut fields: Vec<_> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "departments[1]",
            "hours.friday.open",
            "hours.monday.close",
            "hours.saturday.lunch",
            "lat"
        ]
    );

    let stored: Value = app
        .client
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["name"], "서울대학교병원", "no partial write");

    let r = put(
        &app,
        &path,
        &p.hadmin.token,
        json!({"name": "x", "hospital_type": "spa"}),
    )
    .await;
    assert_eq!(problem(r).await["errors"][0]["field"], "hospital_type");
}

#[tokio::test]
async fn a_deleted_hospital_is_gone_from_the_directory() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let path = format!("/api/v1/hospitals/{}", p.h1);
    let r = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&p.hadmin_h2.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&p.hadmin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(problem(r).await["code"], "not_found");
}

#[tokio::test]
async fn doctors_are_listed_publicly_and_edited_by_their_hospital() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let list = format!("/api/v1/hospitals/{}/doctors", p.h1);
    let empty: Value = app
        .client
        .get(app.url(&list))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(empty, json!([]), "an empty list is 200 []");

    let doctor = json!({"name": "김민준", "bio": "소화기 내시경", "departments": ["내과"]});
    assert_eq!(
        post(&app, &list, Some(&p.hadmin_h2.token), doctor.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let r = post(&app, &list, Some(&p.hadmin.token), doctor).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    assert_eq!(
        (
            created["departments"][0]["code"].as_str(),
            created["accepts_online_booking"].as_bool()
        ),
        (Some("internal_medicine"), Some(true))
    );
    let id = created["id"].as_str().unwrap();

    let bad = post(
        &app,
        &list,
        Some(&p.hadmin.token),
        json!({"name": "이서연", "departments": ["점성술과"]}),
    )
    .await;
    assert_eq!(problem(bad).await["errors"][0]["field"], "departments[0]");

    let r = put(&app, &format!("/api/v1/doctors/{id}"), &p.hadmin.token, json!({"name": "김민준", "departments": ["internal_medicine", "family_medicine"], "accepts_online_booking": false})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let one: Value = app
        .client
        .get(app.url(&format!("/api/v1/doctors/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            one["departments"].as_array().unwrap().len(),
            one["accepts_online_booking"].as_bool()
        ),
        (2, Some(false))
    );

    let r = app
        .client
        .delete(app.url(&format!("/api/v1/doctors/{id}")))
        .bearer_auth(&p.hadmin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let listed: Value = get(&app, &list, &p.patient.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn the_department_list_has_codes_and_both_languages() {
    let app = spawn_app().await;
    let list: Value = app
        .client
        .get(app.url("/api/v1/departments"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let internal = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "internal_medicine")
        .unwrap();
    assert_eq!(
        (internal["ko"].as_str(), internal["en"].as_str()),
        (Some("내과"), Some("Internal Medicine"))
    );
}

#[tokio::test]
async fn generated_hospitals_are_stored_with_hours_departments_and_doctors() {
    let app = spawn_app().await;
    let seeded = docde_server::seed::seed_directory(&app.state.store, 2_100, 7, |_| {})
        .await
        .unwrap();
    assert_eq!(seeded.hospitals, 2_100, "crosses a batch boundary");
    let hospitals = docde_store::directory::all_hospitals(&app.state.store)
        .await
        .unwrap();
    assert_eq!(hospitals.len(), 2_100);
    let doctors = docde_store::directory::doctors(&app.state.store, None)
        .await
        .unwrap();
    assert_eq!(doctors.len(), seeded.doctors);
    assert!(
        hospitals
            .iter()
            .all(|h| !h.departments.is_empty() && h.lat.is_some() && h.sido.is_some())
    );
    assert!(
        hospitals.iter().any(|h| h.name == "서울대학교병원"),
        "the famous ones come first"
    );

    let snu = hospitals
        .iter()
        .find(|h| h.name == "서울대학교병원")
        .unwrap();
    let entry: Value = app
        .client
        .get(app.url(&format!("/api/v1/hospitals/{}", snu.id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(entry["hospital_type"], "tertiary_hospital");
    assert!(entry["hours"]["monday"]["open"].is_string());
    let doctors: Value = app
        .client
        .get(app.url(&format!("/api/v1/hospitals/{}/doctors", snu.id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!doctors.as_array().unwrap().is_empty());
}
