//! Medical records through the API: who writes, amends and reads (the ownership and
//! care-relationship matrix), the audit of every read by someone else, amendments keeping
//! history, bad input, encryption at rest, and master key rotation and checks.

use docde_server::Application;
use docde_server::records::{MasterKeys, Vault, rotate};
use docde_store::accounts::audit::{self, AuditFilter};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TEST_MASTER_KEY, TestApp, problem, spawn_app_with};
use crate::people::{Person, get, post};
use crate::visits::{Clinic, clinic};

const DESCRIPTION: &str = "3일 전부터 기침과 37.8도 발열, 인후 발적";

fn content() -> Value {
    json!({
        "treatment_date": chrono::Utc::now().date_naive(),
        "description": DESCRIPTION,
        "diagnosis_codes": ["J06.9", "r05"],
        "treatment_plan": "해열제 3일분, 수분 섭취",
        "doctor_comment": "호전 없으면 흉부 X선",
    })
}

async fn write(app: &TestApp, who: &Person, visit: Uuid, body: Value) -> reqwest::Response {
    post(
        app,
        &format!("/api/v1/appointments/{visit}/record"),
        Some(&who.token),
        body,
    )
    .await
}

async fn amend(app: &TestApp, who: &Person, record: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/records/{record}")))
        .bearer_auth(&who.token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// A completed visit of `p.patient` with its record; returns the record id.
async fn recorded(c: &Clinic, hh_mm: &str) -> String {
    let visit = c.completed(&c.p.patient, hh_mm).await;
    let r = write(&c.app, &c.p.doctor, visit, content()).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn audited_reads(app: &TestApp, patient: Uuid, actor: Uuid) -> Vec<String> {
    let filter = AuditFilter {
        patient_id: Some(patient),
        actor_id: Some(actor),
        limit: 100,
        ..AuditFilter::default()
    };
    audit::list(&app.state.store, &filter)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.resource_type == "medical_record")
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn the_treating_doctor_writes_the_patient_reads_and_only_doctors_in_care_may_look() {
    let c = clinic().await;
    let (app, p) = (&c.app, &c.p);
    let id = recorded(&c, "10:00").await;
    let path = format!("/api/v1/records/{id}");

    let r = get(app, &path, &p.patient.token).await;
    assert_eq!(r.status(), 200);
    let record: Value = r.json().await.unwrap();
    assert_eq!(record["description"], DESCRIPTION);
    assert_eq!(record["diagnosis_codes"], json!(["J06.9", "R05"]));
    assert_eq!(record["version"], 1);
    assert_eq!(record["author_id"], p.doctor.id.to_string());
    let mine: Value = get(app, "/api/v1/me/records", &p.patient.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert!(
        audited_reads(app, p.patient.id, p.patient.id)
            .await
            .is_empty(),
        "reading one's own record is not audited"
    );

    // Nobody else without a care relationship sees that it exists, whatever their role.
    for who in [
        &p.patient_other,
        &p.nurse,
        &p.reception,
        &p.hadmin,
        &p.admin,
        &c.colleague,
        &c.doctor_h2,
    ] {
        let r = get(app, &path, &who.token).await;
        assert_eq!(r.status(), 404, "{}", who.email);
        assert_eq!(problem(r).await["code"], "not_found");
    }
    let list = format!("/api/v1/patients/{}/records", p.patient.id);
    assert_eq!(get(app, &list, &c.colleague.token).await.status(), 403);

    // The author reads it (audited: the record is the patient's data).
    assert_eq!(get(app, &path, &p.doctor.token).await.status(), 200);
    assert_eq!(
        audited_reads(app, p.patient.id, p.doctor.id).await,
        ["record.read", "record.create"]
    );

    // An appointment with the colleague makes a care relationship at this hospital.
    c.booked(&p.patient, c.colleague_doctor, "15:00").await;
    let r = get(app, &path, &c.colleague.token).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["description"], DESCRIPTION);
    let listed: Value = get(app, &list, &c.colleague.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["id"], id);
    assert_eq!(
        audited_reads(app, p.patient.id, c.colleague.id).await,
        ["record.list", "record.read"]
    );
    // Reading is not amending.
    let mut body = content();
    body["version"] = json!(1);
    let r = amend(app, &c.colleague, &id, body.clone()).await;
    assert_eq!(r.status(), 403);
    assert_eq!(problem(r).await["code"], "forbidden");
    // Still no one of another hospital.
    assert_eq!(get(app, &path, &c.doctor_h2.token).await.status(), 404);
}

#[tokio::test]
async fn an_open_ward_admission_is_a_care_relationship_too() {
    let c = clinic().await;
    let (app, p) = (&c.app, &c.p);
    let id = recorded(&c, "10:00").await;
    let path = format!("/api/v1/records/{id}");
    assert_eq!(get(app, &path, &c.colleague.token).await.status(), 404);
    let bed: Value = post(
        app,
        &format!("/api/v1/wards/{}/beds", p.ward1),
        Some(&p.hadmin.token),
        json!({"label": "101-1"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let r = post(
        app,
        &format!("/api/v1/wards/{}/admissions", p.ward1),
        Some(&p.hadmin.token),
        json!({"patient_id": p.patient.id, "bed_id": bed["id"], "urgency": 0, "notes": ""}),
    )
    .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    assert_eq!(get(app, &path, &c.colleague.token).await.status(), 200);
    assert_eq!(get(app, &path, &c.doctor_h2.token).await.status(), 404);
}

#[tokio::test]
async fn a_record_needs_a_completed_visit_of_ones_own_and_valid_content() {
    let c = clinic().await;
    let (app, p) = (&c.app, &c.p);
    let booked = c.booked(&p.patient, c.doctor, "11:00").await;
    let r = write(app, &p.doctor, booked, content()).await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "visit_not_completed");

    let visit = c.completed(&p.patient, "10:00").await;
    // Another doctor's visit, the patient, a stranger, staff of another hospital.
    assert_eq!(
        write(app, &c.colleague, visit, content()).await.status(),
        403
    );
    assert_eq!(write(app, &p.patient, visit, content()).await.status(), 403);
    assert_eq!(write(app, &p.admin, visit, content()).await.status(), 403);
    assert_eq!(
        write(app, &p.patient_other, visit, content())
            .await
            .status(),
        404
    );
    assert_eq!(
        write(app, &c.doctor_h2, visit, content()).await.status(),
        404
    );
    assert_eq!(
        write(app, &p.doctor, Uuid::now_v7(), content())
            .await
            .status(),
        404
    );

    let cases = [
        ("description", json!("   "), "empty_text", "description"),
        (
            "diagnosis_codes",
            json!(["J06.9", "감기"]),
            "bad_diagnosis_code",
            "diagnosis_codes[1]",
        ),
        (
            "treatment_date",
            json!("2999-01-01"),
            "treatment_date_in_future",
            "treatment_date",
        ),
        (
            "treatment_plan",
            json!("가".repeat(5_001)),
            "text_too_long",
            "treatment_plan",
        ),
        ("version", json!(3), "unexpected_version", "version"),
    ];
    for (field, value, code, at) in cases {
        let mut body = content();
        body[field] = value;
        let r = write(app, &p.doctor, visit, body).await;
        assert_eq!(r.status(), 422, "{field}");
        let problem = problem(r).await;
        assert_eq!(problem["code"], code, "{field}");
        assert_eq!(problem["errors"][0]["field"], at);
    }
    let mut body = content();
    body.as_object_mut().unwrap().remove("description");
    let r = write(app, &p.doctor, visit, body).await;
    assert_eq!(problem(r).await["code"], "validation_failed");
    // Nothing was written by any refusal.
    let mine: Value = get(app, "/api/v1/me/records", &p.patient.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine, json!([]), "an empty list is 200 []");

    assert_eq!(write(app, &p.doctor, visit, content()).await.status(), 201);
    let r = write(app, &p.doctor, visit, content()).await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "record_exists");
}

#[tokio::test]
async fn amendments_keep_every_earlier_version_with_who_and_when() {
    let c = clinic().await;
    let (app, p) = (&c.app, &c.p);
    let id = recorded(&c, "10:00").await;
    let mut body = content();
    body["description"] = json!("2차: 기침 호전, 발열 없음");
    body["diagnosis_codes"] = json!([]);
    body["version"] = json!(1);
    let r = amend(app, &p.doctor, &id, body.clone()).await;
    assert_eq!(r.status(), 200);
    let amended: Value = r.json().await.unwrap();
    assert_eq!(amended["version"], 2);
    assert_eq!(amended["diagnosis_codes"], json!([]));

    // Someone who read version 1 cannot overwrite version 2 blindly.
    let r = amend(app, &p.doctor, &id, body.clone()).await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "record_changed");
    for version in [0, -1, i64::from(i32::MAX)] {
        body["version"] = json!(version);
        let r = amend(app, &p.doctor, &id, body.clone()).await;
        assert_eq!(
            problem(r).await["code"],
            "record_changed",
            "version {version}"
        );
    }
    body["description"] = json!("a\u{0}b");
    body["version"] = json!(2);
    let r = amend(app, &p.doctor, &id, body.clone()).await;
    assert_eq!(problem(r).await["code"], "control_character");
    body["description"] = json!("2차: 기침 호전, 발열 없음");
    body.as_object_mut().unwrap().remove("version");
    let r = amend(app, &p.doctor, &id, body).await;
    assert_eq!(r.status(), 422);
    assert_eq!(problem(r).await["code"], "version_required");

    let versions: Value = get(
        app,
        &format!("/api/v1/records/{id}/versions"),
        &p.patient.token,
    )
    .await
    .json()
    .await
    .unwrap();
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["version"], 1);
    assert_eq!(versions[0]["description"], DESCRIPTION);
    assert_eq!(versions[0]["diagnosis_codes"], json!(["J06.9", "R05"]));
    assert_eq!(versions[1]["description"], "2차: 기침 호전, 발열 없음");
    for v in versions {
        assert_eq!(v["written_by"], p.doctor.id.to_string());
        assert!(v["written_at"].is_string());
    }
    let current: Value = get(app, &format!("/api/v1/records/{id}"), &p.patient.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(current["version"], 2);
}

async fn stored_descriptions(app: &TestApp) -> Vec<String> {
    docde_store::with_reader!(app.state.store, pool => {
        sqlx::query_scalar("SELECT description FROM medical_record_versions ORDER BY record_id")
            .fetch_all(pool)
            .await
            .unwrap()
    })
}

#[tokio::test]
async fn the_database_holds_only_ciphertext_and_equal_texts_encrypt_differently() {
    let c = clinic().await;
    let first = recorded(&c, "10:00").await;
    let second = recorded(&c, "10:30").await;
    assert_ne!(first, second);
    let stored = stored_descriptions(&c.app).await;
    assert_eq!(stored.len(), 2);
    assert_ne!(stored[0], stored[1], "a fresh nonce per value");
    let active = c.app.state.records.active_key_id();
    for value in &stored {
        assert_sealed(value, active, &[DESCRIPTION, "기침", "37.8"]);
    }
    let other: Vec<(String, String, String)> = docde_store::with_reader!(c.app.state.store, pool => {
        sqlx::query_as(
            "SELECT treatment_plan, doctor_comment, diagnosis_codes FROM medical_record_versions",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    });
    assert_eq!(other.len(), 2);
    for (plan, comment, codes) in &other {
        assert_sealed(plan, active, &["해열제"]);
        assert_sealed(comment, active, &["흉부"]);
        assert_sealed(codes, active, &["J06.9"]);
    }
}

/// A stored value is `<key id>.<base64url sealed bytes>` and nothing else, and the sealed
/// bytes do not hold any of `plain`. Checking the shape rather than searching the text:
/// a short ASCII code such as "J06" turns up in random base64 text about once in a few
/// hundred runs, which made an earlier version of this test fail by chance (in CI).
fn assert_sealed(value: &str, active_key_id: &str, plain: &[&str]) {
    use base64::Engine as _;
    let (key_id, payload) = value.split_once('.').expect("<key id>.<sealed>");
    assert_eq!(key_id, active_key_id, "key id kept");
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("the rest is base64url and nothing else");
    for p in plain {
        // The nonce (24 bytes) and tag (16) come on top of the text.
        assert!(
            sealed.len() >= p.len() + 40,
            "too short to be sealed: {value}"
        );
        let p = p.as_bytes();
        assert!(
            !sealed.windows(p.len()).any(|w| w == p),
            "plain text in the sealed bytes"
        );
    }
}

fn other_master_key(id: &str) -> String {
    let entry = docde_server::records::master::generate_entry();
    format!("{id}:{}", entry.split_once(':').unwrap().1)
}

/// An application on `first`'s database with other record master keys.
async fn build_on_same_database(first: &TestApp, keys: Vec<String>) -> anyhow::Result<TestApp> {
    let config = first.state.config.clone();
    let mut tweaked = (*config).clone();
    tweaked.database.url = Some(config.database_url());
    tweaked.records.master_keys = keys.clone();
    // Application::build directly first, to see its error; then the real test app.
    let mut probe = tweaked.clone();
    probe.listen = "127.0.0.1:0".parse().unwrap();
    Application::build(probe).await?;
    Ok(spawn_app_with(move |c| {
        c.database = tweaked.database.clone();
        c.redis = tweaked.redis.clone();
        c.auth.signing_keys = tweaked.auth.signing_keys.clone();
        c.records.master_keys = keys;
    })
    .await)
}

#[tokio::test]
async fn rotating_the_master_key_rewraps_data_keys_and_records_stay_readable() {
    let c = clinic().await;
    let id = recorded(&c, "10:00").await;
    let new_key = other_master_key("mk-new");

    // The procedure: new key first, old key kept, rotate; then the old key can go.
    let both = MasterKeys::parse(&[new_key.clone(), TEST_MASTER_KEY.to_owned()]).unwrap();
    let done = rotate(&c.app.state.store, &both, false, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!((done.rewrapped, done.already_current), (1, 0));
    let again = rotate(&c.app.state.store, &both, false, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(
        (again.rewrapped, again.already_current),
        (0, 1),
        "idempotent"
    );
    // The running instance never noticed: its data keys did not change.
    let path = format!("/api/v1/records/{id}");
    assert_eq!(get(&c.app, &path, &c.p.patient.token).await.status(), 200);

    let only_new = MasterKeys::parse(std::slice::from_ref(&new_key)).unwrap();
    Vault::start_with(&c.app.state.store, only_new)
        .await
        .expect("the new key alone opens every data key");
    let restarted = build_on_same_database(&c.app, vec![new_key]).await.unwrap();
    let r = get(&restarted, &path, &c.p.patient.token).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["description"], DESCRIPTION);

    // The old key alone no longer opens anything: start-up says which key is missing.
    let error = build_on_same_database(&c.app, vec![TEST_MASTER_KEY.to_owned()])
        .await
        .err()
        .expect("the old key no longer suffices");
    let message = format!("{error:#}");
    assert!(message.contains("\"mk-new\""), "{message}");
    assert!(message.contains("not configured"), "{message}");
}

#[tokio::test]
async fn a_wrong_master_key_stops_start_up_instead_of_serving_garbage() {
    let c = clinic().await;
    recorded(&c, "10:00").await;
    // Same id, other key material.
    let wrong = other_master_key("test-mk");
    let error = build_on_same_database(&c.app, vec![wrong])
        .await
        .err()
        .expect("a wrong key must not start");
    let message = format!("{error:#}");
    assert!(
        message.contains("does not unwrap") && message.contains("records.master_keys"),
        "{message}"
    );
    // Another id altogether: the key the data needs is missing.
    let error = build_on_same_database(&c.app, vec![other_master_key("mk-x")])
        .await
        .err()
        .expect("a missing key must not start");
    assert!(format!("{error:#}").contains("not configured"));
    // The right key still starts.
    let ok = build_on_same_database(&c.app, vec![TEST_MASTER_KEY.to_owned()]).await;
    assert!(ok.is_ok());
    assert_eq!(
        get(&ok.unwrap(), "/api/v1/me/records", &c.p.patient.token)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_data_key_added_later_is_picked_up_by_running_instances_on_first_use() {
    let c = clinic().await;
    let id = recorded(&c, "10:00").await;
    let running = c.app.state.records.clone();
    let keys = MasterKeys::parse(&[TEST_MASTER_KEY.to_owned()]).unwrap();
    let done = rotate(&c.app.state.store, &keys, true, chrono::Utc::now())
        .await
        .unwrap();
    assert!(done.new_data_key);
    // An instance started now seals with the new data key …
    let later = Vault::start_with(&c.app.state.store, keys).await.unwrap();
    assert_ne!(later.active_key_id(), running.active_key_id());
    let sealed = later.seal("docde:test", "새 키로 봉인");
    assert!(sealed.starts_with(later.active_key_id()));
    // … and the instance that was already running opens it, loading the key on first use.
    assert_eq!(
        running.open("docde:test", &sealed).await.unwrap(),
        "새 키로 봉인"
    );
    assert!(
        running.open("docde:other", &sealed).await.is_err(),
        "bound to its context"
    );
    // Records sealed before stay readable.
    let r = get(&c.app, &format!("/api/v1/records/{id}"), &c.p.patient.token).await;
    assert_eq!(r.status(), 200);
}
