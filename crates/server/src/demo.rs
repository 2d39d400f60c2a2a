//! Demo data for `docde demo`: one hospital with a ward, one account per role, the demo
//! doctor in the directory with a weekly schedule (so booking works at once), and a live ward:
//! eight beds with admitted patients, a bedside monitor bound to each (whose credentials the
//! demo's simulator reports with), a medicine with a QR code per patient and a delivery robot.

use docde_domain::account::Role;
use docde_domain::ward::BedLabel;
use docde_store::accounts::devices::{self, NewDevice};
use docde_store::accounts::hospitals;
use docde_store::accounts::users::{self, NewUser};
use docde_store::ward::admissions::{self, NewAdmission};
use docde_store::ward::{beds, medication};
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
    /// One bedside monitor per bed, bound to it, its patient admitted.
    pub beds: Vec<DemoBed>,
    /// The medicine-delivery robot.
    pub robot_id: Uuid,
    pub robot_secret: String,
}

pub struct DemoBed {
    pub label: String,
    pub device_id: Uuid,
    pub device_secret: String,
    /// The QR code on this patient's medicine.
    pub qr_code: String,
}

/// The demo ward's beds (room-bed).
const BEDS: [&str; 8] = [
    "101-1", "101-2", "102-1", "102-2", "103-1", "103-2", "104-1", "104-2",
];
/// The demo ward's patients besides the demo patient account (fictional names).
const PATIENTS: [&str; 7] = [
    "김서연",
    "이준호",
    "박지민",
    "최예린",
    "정민수",
    "강하늘",
    "윤도현",
];

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
            password_hash: Some(password_hash.clone()),
            employee_number: number.map(str::to_owned),
            phone: (role == Role::Patient).then(|| "010-1234-5678".into()),
            ..NewUser::active(email, role, role.is_staff().then_some(hospital.id), name)
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
    let patient_id = match users::find_by_email(&state.store, "patient@demo.docde.kr").await? {
        Some(u) => u.id,
        None => anyhow::bail!("the demo patient was not created"),
    };
    let beds = live_ward(state, hospital.id, ward.id, patient_id, &password_hash, now).await?;
    let (robot_id, robot_secret) = device(
        state,
        hospital.id,
        ward.id,
        "배송 로봇 1",
        "delivery_robot",
        now,
    )
    .await?;
    let doctor_id = bookable_doctor(state, hospital.id, doctor_user, now).await?;
    Ok(Demo {
        doctor_id,
        hospital_id: hospital.id,
        ward_id: ward.id,
        accounts,
        device_id: beds[0].device_id,
        device_secret: beds[0].device_secret.clone(),
        beds,
        robot_id,
        robot_secret,
    })
}

/// Registers a device and returns its id and secret.
async fn device(
    state: &AppState,
    hospital_id: Uuid,
    ward_id: Uuid,
    name: &str,
    kind: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(Uuid, String)> {
    let secret = random_token(32);
    let device = devices::create(
        &state.store,
        &NewDevice {
            hospital_id,
            ward_id: Some(ward_id),
            name: name.into(),
            kind: kind.into(),
            secret_hash: sha256_hex(&secret),
        },
        now,
    )
    .await?;
    Ok((device.id, secret))
}

/// Eight beds, each with a bound bedside monitor, an admitted patient (the demo patient in the
/// first) and a medicine to deliver.
async fn live_ward(
    state: &AppState,
    hospital_id: Uuid,
    ward_id: Uuid,
    demo_patient: Uuid,
    password_hash: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Vec<DemoBed>> {
    let mut out = Vec::new();
    for (i, label) in BEDS.iter().enumerate() {
        let bed = beds::add_bed(&state.store, ward_id, &BedLabel::parse(label)?, now).await?;
        let (device_id, device_secret) = device(
            state,
            hospital_id,
            ward_id,
            &format!("{label} 병상 모니터"),
            "bedside_monitor",
            now,
        )
        .await?;
        beds::bind_device(&state.store, device_id, bed.id, now).await?;
        let patient_id = match i.checked_sub(1).and_then(|j| PATIENTS.get(j)) {
            None => demo_patient,
            Some(name) => {
                let id = Uuid::now_v7();
                let email = format!("patient{i}@demo.docde.kr");
                let user = NewUser {
                    password_hash: Some(password_hash.to_owned()),
                    ..NewUser::active(&email, Role::Patient, None, name)
                };
                users::create(&state.store, id, &user, None, None, now).await?;
                id
            }
        };
        let (admission, _) = admissions::admit(
            &state.store,
            &NewAdmission {
                patient_id,
                bed_id: bed.id,
                urgency: u8::from(i == 0),
                notes: String::new(),
                now,
            },
        )
        .await?;
        let qr_code = format!("QR-DEMO-{label}");
        medication::add(
            &state.store,
            admission.id,
            "세프트리악손",
            "1 g IV q24h",
            &qr_code,
            now,
        )
        .await?;
        out.push(DemoBed {
            label: (*label).into(),
            device_id,
            device_secret,
            qr_code,
        });
    }
    Ok(out)
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
