//! Demo data for `docde demo`: one hospital with a ward, one account per role, one device.
//! Later issues add directory, schedules and live ward data here.

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
    Ok(Demo {
        hospital_id: hospital.id,
        ward_id: ward.id,
        accounts,
        device_id: device.id,
        device_secret,
    })
}
