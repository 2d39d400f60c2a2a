//! Seeding a scenario straight into the database the server uses: one hospital with its
//! admin, the doctors, and the patients with a signed-in session and an access token each.
//!
//! Going through the store instead of the API keeps 20,000 patients to seconds: no password
//! hashing, no e-mail codes, and patients and sessions written in multi-row inserts inside one
//! transaction (one `users::create` per patient would cost one durable commit each). Access
//! tokens are signed here with the same key the server verifies with, exactly as sign-in
//! would sign them.

use chrono::{DateTime, Utc};
use docde_domain::account::Role;
use docde_server::auth::SigningKeys;
use docde_server::auth::keys::{AccessClaims, ISSUER};
use docde_store::accounts::{hospitals, users};
use docde_store::directory::{self, DoctorFacts};
use docde_store::{Store, StoreError, with_writer};
use hyper::header::HeaderValue;
use uuid::Uuid;

use super::http::bearer;

/// Rows per multi-row INSERT (8 parameters each stays under every backend's limit).
const CHUNK: usize = 1_000;

/// How long the minted access tokens stay valid: longer than any run.
const TOKEN_TTL_S: i64 = 12 * 3600;

/// What a scenario runs with.
pub struct Seeded {
    /// `Bearer …` of the hospital's admin (edits the schedules).
    pub admin: HeaderValue,
    pub doctors: Vec<Uuid>,
    /// Patient ids and their `Bearer …` values, in seeding order.
    pub patients: Vec<(Uuid, HeaderValue)>,
}

/// Seeds one hospital (`tag` makes names unique) with `doctors` doctors and `patients`
/// active patients, each signed in once.
pub async fn seed(
    store: &Store,
    keys: &SigningKeys,
    tag: &str,
    doctors: usize,
    patients: usize,
) -> anyhow::Result<Seeded> {
    let now = Utc::now();
    let hospital =
        hospitals::create_hospital(store, &format!("벤치 병원 {tag}"), "Asia/Seoul", now).await?;

    let admin_id = Uuid::now_v7();
    let email = format!("admin-{tag}@bench.docde.kr");
    let admin = users::NewUser {
        email: email.clone(),
        email_key: email,
        password_hash: None,
        role: Role::HospitalAdmin,
        hospital_id: Some(hospital.id),
        employee_number: None,
        name: "벤치 관리자".into(),
        phone: None,
        birth_date: None,
        gender: None,
        address: None,
        active: true,
    };
    users::create(store, admin_id, &admin, None, None, now).await?;

    let mut doctor_ids = Vec::with_capacity(doctors);
    for i in 0..doctors {
        let id = Uuid::now_v7();
        let facts = DoctorFacts {
            name: format!("의사 {i}"),
            bio: None,
            accepts_online_booking: true,
            departments: vec!["내과".into()],
            user_id: None,
        };
        directory::put_doctor(store, id, hospital.id, &facts, now).await?;
        doctor_ids.push(id);
    }

    let patient_ids: Vec<Uuid> = (0..patients).map(|_| Uuid::now_v7()).collect();
    insert_patients(store, tag, &patient_ids, now).await?;

    let mut sessions = Vec::with_capacity(patients + 1);
    sessions.push((Uuid::now_v7(), admin_id));
    sessions.extend(patient_ids.iter().map(|p| (Uuid::now_v7(), *p)));
    insert_sessions(store, &sessions, now).await?;

    let token = |user: Uuid, session: Uuid, role: Role, hid: Option<Uuid>| {
        let claims = AccessClaims {
            sub: user,
            sid: session,
            role,
            hid,
            typ: "access".into(),
            iss: ISSUER.into(),
            iat: now.timestamp(),
            exp: now.timestamp() + TOKEN_TTL_S,
        };
        keys.sign(&claims).map(|t| bearer(&t))
    };
    let admin = token(
        admin_id,
        sessions[0].0,
        Role::HospitalAdmin,
        Some(hospital.id),
    )?;
    let patients = sessions[1..]
        .iter()
        .map(|(session, user)| Ok((*user, token(*user, *session, Role::Patient, None)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Seeded {
        admin,
        doctors: doctor_ids,
        patients,
    })
}

/// `($1, $2, …), (…)` for `rows` rows of `columns` parameters.
fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn insert_patients(
    store: &Store,
    tag: &str,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        for (c, chunk) in ids.chunks(CHUNK).enumerate() {
            let sql = format!(
                "INSERT INTO users (id, email, email_key, role, name, status, created_at, verified_at) VALUES {}",
                placeholders(chunk.len(), 8)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (i, id) in chunk.iter().enumerate() {
                let email = format!("patient-{tag}-{}@bench.docde.kr", c * CHUNK + i);
                query = query
                    .bind(id.to_string())
                    .bind(email.clone())
                    .bind(email)
                    .bind(Role::Patient.as_str())
                    .bind("벤치 환자")
                    .bind("active")
                    .bind(now)
                    .bind(now);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<(), StoreError>(())
    }
    .await)
}

async fn insert_sessions(
    store: &Store,
    sessions: &[(Uuid, Uuid)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        for chunk in sessions.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO sessions (id, user_id, created_at) VALUES {}",
                placeholders(chunk.len(), 3)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (session, user) in chunk {
                query = query.bind(session.to_string()).bind(user.to_string()).bind(now);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<(), StoreError>(())
    }
    .await)
}
