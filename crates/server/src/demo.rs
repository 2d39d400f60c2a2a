//! Demo data for `docde demo`: one hospital with a ward, one account per role, one device.
//! The demo doctor is in the directory with a weekly schedule, so booking works at once.
//! Later issues add live ward data here.

use docde_domain::account::Role;
use docde_store::accounts::devices::{self, NewDevice};
use docde_store::accounts::hospitals;
use docde_store::accounts::users::{self, NewUser};
use uuid::Uuid;

use crate::auth::secrets::{random_token, sha256_hex};
use crate::state::AppState;

/// The password of every demo account (printed by `docde demo`; the demo database is
/// recreated at each start).
pub const DEMO_PASSWORD: &str = "docde-demo-2026";

pub struct DemoAccount {
    pub role: Role,
    pub email: String,
    pub employee_number: Option<String>,
}

pub struct Demo {
    pub hospital_id: Uuid,
    pub ward_id: Uuid,
    pub accounts: Vec<DemoAccount>,
    pub device_id: Uuid,
    pub device_secret: String,
    /// The demo doctor's directory entry (bookable Monday to Saturday).
    pub doctor_id: Uuid,
}

pub async fn seed(state: &AppState) -> anyhow::Result<Demo> {
    let now = chrono::Utc::now();
    let hospital =
        hospitals::create_hospital(&state.store, "DocDe 데모병원", "Asia/Seoul", now).await?;
    let ward = hospitals::create_ward(&state.store, hospital.id, "격리병동 A (음압)", now).await?;
    let password_hash = state.auth.passwords.hash(DEMO_PASSWORD).await?;
    let people = [
        (Role::Admin, "admin@demo.docde.kr", "관리자", None),
        (
            Role::HospitalAdmin,
            "director@demo.docde.kr",
            "김원장",
            Some("A-0001"),
        ),
        (
            Role::Doctor,
            "doctor@demo.docde.kr",
            "이의사",
            Some("D-0001"),
        ),
        (Role::Nurse, "nurse@demo.docde.kr", "박간호", Some("N-0001")),
        (
            Role::Reception,
            "reception@demo.docde.kr",
            "최접수",
            Some("R-0001"),
        ),
        (Role::Patient, "patient@demo.docde.kr", "정환자", None),
    ];
    let mut accounts = Vec::new();
    let mut doctor_user = None;
    for (role, email, name, number) in people {
        let id = Uuid::now_v7();
        let user = NewUser {
            email: email.into(),
            email_key: email.into(),
            password_hash: Some(password_hash.clone()),
            role,
            hospital_id: role.is_staff().then_some(hospital.id),
            employee_number: number.map(str::to_owned),
            name: name.into(),
            phone: (role == Role::Patient).then(|| "010-1234-5678".into()),
            birth_date: None,
            gender: None,
            address: None,
            active: true,
        };
        users::create(&state.store, id, &user, None, None, now).await?;
        if role == Role::Doctor {
            doctor_user = Some(id);
        }
        if role == Role::Nurse {
            hospitals::assign_nurse(&state.store, ward.id, id).await?;
        }
        accounts.push(DemoAccount {
            role,
            email: email.into(),
            employee_number: number.map(str::to_owned),
        });
    }
    let device_secret = random_token(32);
    let device = devices::create(
        &state.store,
        &NewDevice {
            hospital_id: hospital.id,
            ward_id: Some(ward.id),
            name: "101-1 병상 모니터".into(),
            kind: "bedside_monitor".into(),
            secret_hash: sha256_hex(&device_secret),
        },
        now,
    )
    .await?;
    let doctor_id = bookable_doctor(state, hospital.id, doctor_user, now).await?;
    Ok(Demo {
        doctor_id,
        hospital_id: hospital.id,
        ward_id: ward.id,
        accounts,
        device_id: device.id,
        device_secret,
    })
}

/// The demo doctor in the directory, with Monday–Saturday 09:00–18:00 in 15-minute slots and a
/// lunch break, two weeks bookable.
async fn bookable_doctor(
    state: &AppState,
    hospital_id: Uuid,
    user_id: Option<Uuid>,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Uuid> {
    let id = Uuid::now_v7();
    let facts = docde_store::directory::DoctorFacts {
        name: "이의사".into(),
        bio: Some("내과 전문의".into()),
        accepts_online_booking: true,
        departments: vec!["internal_medicine".into()],
        user_id,
    };
    docde_store::directory::put_doctor(&state.store, id, hospital_id, &facts, now).await?;
    let rules: Vec<serde_json::Value> = ["mon", "tue", "wed", "thu", "fri", "sat"]
        .iter()
        .map(|d| serde_json::json!({"weekday": d, "start": "09:00", "end": "18:00", "slot_minutes": 15, "capacity": 1}))
        .collect();
    let doc: crate::booking::document::ScheduleDoc = serde_json::from_value(serde_json::json!({
        "rules": rules,
        "breaks": [{"start": "12:30", "end": "13:30"}],
        "closed_on_holidays": true,
        "policy": {"horizon_days": 14, "book_cutoff_minutes": 30, "cancel_cutoff_minutes": 60}
    }))?;
    // Checked like any schedule, so the demo cannot hold one the API would refuse.
    doc.to_schedule(docde_domain::schedule::DEFAULT_TZ)
        .map_err(|p| anyhow::anyhow!("demo schedule invalid at {}: {}", p.field, p.code))?;
    docde_store::booking::schedules::put(
        &state.store,
        id,
        &serde_json::to_string(&doc)?,
        0,
        user_id,
        now,
    )
    .await?;
    Ok(id)
}
