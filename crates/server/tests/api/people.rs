//! Test helpers for accounts: seeded people of each role in two hospitals, sign-in, and
//! reading codes from the e-mail outbox.

use std::time::Duration;

use docde_domain::account::Role;
use docde_server::mail::outbox_dir;
use docde_store::accounts::hospitals;
use docde_store::accounts::users::{self, NewUser};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::TestApp;

pub const PASSWORD: &str = "a long test passphrase 42";

#[derive(Debug, Clone)]
pub struct Person {
    pub id: Uuid,
    pub email: String,
    pub token: String,
}

/// Two hospitals, each with a ward, and one person per role (staff in hospital 1 unless
/// named `_h2`); the nurse `nurse` is assigned to `ward1`, `nurse_other` to no ward.
pub struct People {
    pub h1: Uuid,
    pub h2: Uuid,
    pub ward1: Uuid,
    pub ward2: Uuid,
    pub admin: Person,
    pub hadmin: Person,
    pub hadmin_h2: Person,
    pub doctor: Person,
    pub nurse: Person,
    pub nurse_other: Person,
    pub reception: Person,
    pub patient: Person,
    pub patient_other: Person,
}

/// Creates an active account directly in the store and signs it in over HTTP.
pub async fn person(app: &TestApp, role: Role, hospital: Option<Uuid>) -> Person {
    let id = Uuid::now_v7();
    let email = format!("{}-{}@test.docde.kr", role.as_str(), id.simple());
    let hash = app.state.auth.passwords.hash(PASSWORD).await.unwrap();
    let user = NewUser {
        email: email.clone(),
        email_key: email.clone(),
        password_hash: Some(hash),
        role,
        hospital_id: hospital,
        employee_number: None,
        name: format!("{role} 테스트"),
        phone: None,
        birth_date: None,
        gender: None,
        address: None,
        active: true,
    };
    users::create(&app.state.store, id, &user, None, None, chrono::Utc::now())
        .await
        .unwrap();
    let token = sign_in(app, &email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    Person { id, email, token }
}

pub async fn people(app: &TestApp) -> People {
    let now = chrono::Utc::now();
    let h1 = hospitals::create_hospital(&app.state.store, "서울대학교병원", "Asia/Seoul", now)
        .await
        .unwrap()
        .id;
    let h2 = hospitals::create_hospital(&app.state.store, "부산대학교병원", "Asia/Seoul", now)
        .await
        .unwrap()
        .id;
    let ward1 = hospitals::create_ward(&app.state.store, h1, "격리병동 A", now)
        .await
        .unwrap()
        .id;
    let ward2 = hospitals::create_ward(&app.state.store, h2, "격리병동 B", now)
        .await
        .unwrap()
        .id;
    let nurse = person(app, Role::Nurse, Some(h1)).await;
    hospitals::assign_nurse(&app.state.store, ward1, nurse.id)
        .await
        .unwrap();
    People {
        h1,
        h2,
        ward1,
        ward2,
        admin: person(app, Role::Admin, None).await,
        hadmin: person(app, Role::HospitalAdmin, Some(h1)).await,
        hadmin_h2: person(app, Role::HospitalAdmin, Some(h2)).await,
        doctor: person(app, Role::Doctor, Some(h1)).await,
        nurse,
        nurse_other: person(app, Role::Nurse, Some(h1)).await,
        reception: person(app, Role::Reception, Some(h1)).await,
        patient: person(app, Role::Patient, None).await,
        patient_other: person(app, Role::Patient, None).await,
    }
}

pub async fn post(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

pub async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Signs in and returns the token pair, asserting success.
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> Value {
    let response = post(
        app,
        "/api/v1/auth/sign-in",
        None,
        json!({"email": email, "password": password}),
    )
    .await;
    assert_eq!(response.status(), 200, "sign-in of {email}");
    response.json().await.unwrap()
}

/// Waits for the `nth` (1-based) e-mail to `to` in the on-disk outbox and returns its body.
pub async fn nth_mail_to(app: &TestApp, to: &str, nth: usize) -> String {
    let dir = outbox_dir::outbox_dir(&app.state.config);
    for _ in 0..100 {
        let mails: Vec<_> = outbox_dir::list_directory(&dir)
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m.to == to)
            .collect();
        if mails.len() >= nth {
            return mails[nth - 1].body.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no e-mail #{nth} to {to} within 5 s");
}

/// Number of e-mails to `to` in the on-disk outbox right now.
pub fn mails_to(app: &TestApp, to: &str) -> usize {
    let dir = outbox_dir::outbox_dir(&app.state.config);
    outbox_dir::list_directory(&dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.to == to)
        .count()
}

/// The code in an account e-mail: the indented line of the body.
pub fn code_in(body: &str) -> String {
    body.lines()
        .find_map(|l| {
            l.strip_prefix("    ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
        })
        .unwrap_or_else(|| panic!("no code in {body}"))
        .to_owned()
}

/// A patient account signed in without the sign-in endpoint: a session started in the store and
/// a token signed with the app's key. For tests that need many patients quickly (sign-in is
/// rate-limited per address and hashes a password).
pub async fn quick_patient(app: &TestApp) -> Person {
    let id = Uuid::now_v7();
    let email = format!("patient-{}@test.docde.kr", id.simple());
    let user = NewUser {
        email: email.clone(),
        email_key: email.clone(),
        password_hash: None,
        role: Role::Patient,
        hospital_id: None,
        employee_number: None,
        name: "빠른 환자".into(),
        phone: None,
        birth_date: None,
        gender: None,
        address: None,
        active: true,
    };
    let now = chrono::Utc::now();
    users::create(&app.state.store, id, &user, None, None, now)
        .await
        .unwrap();
    let stored = users::get(&app.state.store, id).await.unwrap().unwrap();
    let (refresh, refresh_token) = docde_server::auth::tokens::new_refresh(&app.state, now);
    let session = docde_store::accounts::sessions::start(&app.state.store, id, &refresh, now)
        .await
        .unwrap();
    let pair =
        docde_server::auth::tokens::pair(&app.state, &stored, session, refresh_token, now).unwrap();
    Person {
        id,
        email,
        token: pair.access_token,
    }
}
