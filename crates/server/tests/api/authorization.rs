//! The authorisation matrix over HTTP: each role against each kind of resource, including
//! another hospital's and another patient's. (The policy itself is unit-tested in `authz`.)

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app};
use crate::people::{People, get, people, post};

async fn status_of_get(app: &TestApp, path: &str, token: &str) -> StatusCode {
    get(app, path, token).await.status()
}

#[tokio::test]
async fn each_role_sees_only_what_it_may() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let ward1 = format!("/api/v1/wards/{}", p.ward1);
    let ward2 = format!("/api/v1/wards/{}", p.ward2);
    let staff1 = format!("/api/v1/hospitals/{}/staff", p.h1);
    let staff2 = format!("/api/v1/hospitals/{}/staff", p.h2);
    let devices1 = format!("/api/v1/hospitals/{}/devices", p.h1);
    let audit1 = format!("/api/v1/audit?hospital_id={}", p.h1);
    let profile_doctor = format!("/api/v1/users/{}", p.doctor.id);
    let profile_patient_other = format!("/api/v1/users/{}", p.patient_other.id);

    use StatusCode as S;
    // (who, path, expected)
    let matrix: Vec<(&str, &String, &String, StatusCode)> = vec![
        ("admin", &p.admin.token, &ward2, S::OK),
        ("admin", &p.admin.token, &audit1, S::OK),
        ("hospital admin", &p.hadmin.token, &ward1, S::OK),
        ("hospital admin", &p.hadmin.token, &ward2, S::FORBIDDEN),
        ("hospital admin", &p.hadmin.token, &staff1, S::OK),
        ("hospital admin", &p.hadmin.token, &staff2, S::FORBIDDEN),
        ("hospital admin", &p.hadmin.token, &devices1, S::OK),
        ("hospital admin", &p.hadmin.token, &audit1, S::OK),
        ("hospital admin", &p.hadmin.token, &profile_doctor, S::OK),
        (
            "hospital admin",
            &p.hadmin.token,
            &profile_patient_other,
            S::FORBIDDEN,
        ),
        (
            "other hospital's admin",
            &p.hadmin_h2.token,
            &ward1,
            S::FORBIDDEN,
        ),
        (
            "other hospital's admin",
            &p.hadmin_h2.token,
            &devices1,
            S::FORBIDDEN,
        ),
        (
            "other hospital's admin",
            &p.hadmin_h2.token,
            &audit1,
            S::FORBIDDEN,
        ),
        (
            "other hospital's admin",
            &p.hadmin_h2.token,
            &profile_doctor,
            S::FORBIDDEN,
        ),
        ("doctor", &p.doctor.token, &ward1, S::OK),
        ("doctor", &p.doctor.token, &ward2, S::FORBIDDEN),
        ("doctor", &p.doctor.token, &staff1, S::OK),
        ("doctor", &p.doctor.token, &devices1, S::FORBIDDEN),
        ("doctor", &p.doctor.token, &audit1, S::FORBIDDEN),
        ("assigned nurse", &p.nurse.token, &ward1, S::OK),
        ("assigned nurse", &p.nurse.token, &ward2, S::FORBIDDEN),
        (
            "unassigned nurse",
            &p.nurse_other.token,
            &ward1,
            S::FORBIDDEN,
        ),
        ("reception", &p.reception.token, &ward1, S::FORBIDDEN),
        ("reception", &p.reception.token, &staff1, S::OK),
        (
            "reception",
            &p.reception.token,
            &profile_doctor,
            S::FORBIDDEN,
        ),
        ("patient", &p.patient.token, &ward1, S::FORBIDDEN),
        ("patient", &p.patient.token, &staff1, S::FORBIDDEN),
        (
            "patient",
            &p.patient.token,
            &profile_patient_other,
            S::FORBIDDEN,
        ),
        ("patient", &p.patient.token, &audit1, S::FORBIDDEN),
    ];
    let mut wrong = Vec::new();
    for (who, token, path, expected) in &matrix {
        let got = status_of_get(&app, path, token).await;
        if got != *expected {
            wrong.push(format!("{who} GET {path}: expected {expected}, got {got}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    let own = get(
        &app,
        &format!("/api/v1/users/{}", p.patient.id),
        &p.patient.token,
    )
    .await;
    assert_eq!(
        own.status(),
        StatusCode::OK,
        "a patient reads their own profile"
    );
    let forbidden = get(&app, &ward2, &p.nurse.token).await;
    assert_eq!(problem(forbidden).await["code"], "forbidden");
}

#[tokio::test]
async fn only_admins_change_hospitals_and_only_their_own() {
    let app = spawn_app().await;
    let p = people(&app).await;
    for token in [&p.hadmin.token, &p.doctor.token, &p.patient.token] {
        let r = post(
            &app,
            "/api/v1/hospitals",
            Some(token),
            json!({"name": "새 병원"}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    let r = post(
        &app,
        "/api/v1/hospitals",
        Some(&p.admin.token),
        json!({"name": "새 병원"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let ward = json!({"name": "격리병동 C"});
    let h1_wards = format!("/api/v1/hospitals/{}/wards", p.h1);
    assert_eq!(
        post(&app, &h1_wards, Some(&p.hadmin.token), ward.clone())
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        post(&app, &h1_wards, Some(&p.hadmin_h2.token), ward.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&app, &h1_wards, Some(&p.nurse.token), ward)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let invite = json!({"email": "new.nurse@example.kr", "name": "새간호사", "role": "nurse"});
    let h1_staff = format!("/api/v1/hospitals/{}/staff", p.h1);
    assert_eq!(
        post(&app, &h1_staff, Some(&p.hadmin_h2.token), invite.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&app, &h1_staff, Some(&p.doctor.token), invite)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

async fn register_device(app: &TestApp, p: &People) -> (String, String) {
    let r = post(
        app,
        &format!("/api/v1/hospitals/{}/devices", p.h1),
        Some(&p.hadmin.token),
        json!({
            "name": "101-1 병상 모니터", "kind": "bedside_monitor", "ward_id": p.ward1
        }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    (
        body["device"]["id"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_device_authenticates_with_its_secret_and_reports_only_about_itself() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let (id, secret) = register_device(&app, &p).await;
    let (other_id, _) = register_device(&app, &p).await;
    let beat = |device: String, auth: String| {
        app.client
            .post(app.url(&format!("/api/v1/devices/{device}/heartbeat")))
            .header("authorization", auth)
            .json(&json!({"battery_percent": 87}))
            .send()
    };
    assert_eq!(
        beat(id.clone(), basic(&id, &secret))
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    let listed: Value = get(
        &app,
        &format!("/api/v1/hospitals/{}/devices", p.h1),
        &p.hadmin.token,
    )
    .await
    .json()
    .await
    .unwrap();
    let me = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id.as_str())
        .unwrap();
    assert_eq!(me["battery_percent"], 87);
    assert!(me["last_seen_at"].is_string());
    assert!(
        me.get("secret_hash").is_none() && !listed.to_string().contains(&secret),
        "the secret is never shown again"
    );

    let r = beat(other_id.clone(), basic(&id, &secret)).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "another device's endpoint"
    );
    let r = beat(id.clone(), basic(&id, "wrong-secret")).await.unwrap();
    assert_eq!(problem(r).await["code"], "invalid_device_credentials");
    let r = beat(id.clone(), format!("Bearer {}", p.hadmin.token))
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a person is not a device"
    );
    let r = app
        .client
        .get(app.url("/api/v1/users/me"))
        .header("authorization", basic(&id, &secret))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a device is not a person"
    );
    let r = app
        .client
        .get(app.url(&format!("/api/v1/wards/{}", p.ward1)))
        .header("authorization", basic(&id, &secret))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a device reads no ward data"
    );

    let r = app
        .client
        .delete(app.url(&format!("/api/v1/devices/{id}")))
        .bearer_auth(&p.hadmin_h2.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "another hospital cannot revoke it"
    );
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/devices/{id}")))
        .bearer_auth(&p.hadmin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = beat(id.clone(), basic(&id, &secret)).await.unwrap();
    assert_eq!(
        problem(r).await["code"],
        "invalid_device_credentials",
        "a revoked device is refused"
    );
}

#[tokio::test]
async fn reading_someone_elses_profile_is_audited_with_who_what_when_and_where() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let r = get(
        &app,
        &format!("/api/v1/users/{}", p.patient.id),
        &p.admin.token,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    get(
        &app,
        &format!("/api/v1/users/{}", p.doctor.id),
        &p.hadmin.token,
    )
    .await;
    get(&app, "/api/v1/users/me", &p.patient.token).await;

    let page: Value = get(
        &app,
        &format!("/api/v1/audit?patient_id={}", p.patient.id),
        &p.admin.token,
    )
    .await
    .json()
    .await
    .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    let entry = &items[0];
    assert_eq!(entry["action"], "user.read");
    assert_eq!(entry["actor_id"], p.admin.id.to_string());
    assert_eq!(entry["actor_role"], "admin");
    assert_eq!(entry["client_ip"], "127.0.0.1");
    assert_eq!(entry["request_id"], request_id);
    assert!(entry["at"].is_string());

    let hospital: Value = get(
        &app,
        &format!("/api/v1/audit?hospital_id={}", p.h1),
        &p.hadmin.token,
    )
    .await
    .json()
    .await
    .unwrap();
    let actions: Vec<_> = hospital["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        [p.doctor.id.to_string()],
        "a hospital admin sees their hospital's entries"
    );
}

#[tokio::test]
async fn staff_are_invited_accept_with_their_own_password_and_sign_in_by_employee_number() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let invite = json!({"email": "lee.nurse@example.kr", "name": "이간호", "role": "nurse", "employee_number": "N-2026-07"});
    let r = post(
        &app,
        &format!("/api/v1/hospitals/{}/staff", p.h1),
        Some(&p.hadmin.token),
        invite.clone(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let invited: Value = r.json().await.unwrap();
    assert_eq!(
        (invited["status"].as_str(), invited["role"].as_str()),
        (Some("pending"), Some("nurse"))
    );

    let again = post(&app, &format!("/api/v1/hospitals/{}/staff", p.h1), Some(&p.hadmin.token), json!({
        "email": "someone.else@example.kr", "name": "다른사람", "role": "doctor", "employee_number": "N-2026-07"
    }))
    .await;
    assert_eq!(problem(again).await["code"], "employee_number_taken");

    let code =
        crate::people::code_in(&crate::people::nth_mail_to(&app, "lee.nurse@example.kr", 1).await);
    let accept = |code: String, password: &'static str| {
        post(
            &app,
            "/api/v1/auth/invitations/accept",
            None,
            json!({"email": "lee.nurse@example.kr", "code": code, "password": password}),
        )
    };
    assert_eq!(
        problem(accept(code.clone(), "weak").await).await["code"],
        "weak_password"
    );
    assert_eq!(
        problem(accept("x".repeat(32), "my own nurse passphrase").await).await["code"],
        "invalid_code"
    );
    assert_eq!(
        accept(code, "my own nurse passphrase").await.status(),
        StatusCode::NO_CONTENT
    );

    let r = post(&app, "/api/v1/auth/sign-in", None, json!({
        "hospital_id": p.h1, "employee_number": "N-2026-07", "password": "my own nurse passphrase"
    }))
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let other_hospital = post(&app, "/api/v1/auth/sign-in", None, json!({
        "hospital_id": p.h2, "employee_number": "N-2026-07", "password": "my own nurse passphrase"
    }))
    .await;
    assert_eq!(
        problem(other_hospital).await["code"],
        "invalid_credentials",
        "employee numbers belong to a hospital"
    );
}
