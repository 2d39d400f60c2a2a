//! People with accounts. Uniqueness of e-mail and employee number among live accounts is a
//! partial unique index, so a deleted account frees both and two concurrent sign-ups for one
//! address cannot both succeed.

use chrono::{DateTime, NaiveDate, Utc};
use docde_domain::account::Role;
use uuid::Uuid;

use super::codes::{self, NewCode};
use super::{id, opt_id};
use crate::outbox::NewEmail;
use crate::{Store, StoreError, with_reader, with_writer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Pending,
    Active,
    Deleted,
}

impl UserStatus {
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "active" => UserStatus::Active,
            "deleted" => UserStatus::Deleted,
            _ => UserStatus::Pending,
        }
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub hospital_id: Option<Uuid>,
    pub employee_number: Option<String>,
    pub name: String,
    pub phone: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub gender: Option<String>,
    pub address: Option<String>,
    pub status: UserStatus,
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    email: String,
    role: String,
    hospital_id: Option<String>,
    employee_number: Option<String>,
    name: String,
    phone: Option<String>,
    birth_date: Option<NaiveDate>,
    gender: Option<String>,
    address: Option<String>,
    status: String,
    password_hash: Option<String>,
    created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, email, role, hospital_id, employee_number, name, phone, birth_date, gender, \
                       address, status, password_hash, created_at";

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: id(&r.id)?,
            email: r.email,
            role: r
                .role
                .parse()
                .map_err(|e| StoreError::Other(sqlx::Error::Decode(Box::new(e))))?,
            hospital_id: opt_id(r.hospital_id.as_deref())?,
            employee_number: r.employee_number,
            name: r.name,
            phone: r.phone,
            birth_date: r.birth_date,
            gender: r.gender,
            address: r.address,
            status: UserStatus::parse(&r.status),
            password_hash: r.password_hash,
            created_at: r.created_at,
        })
    }
}

/// A new account, before it exists.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub email_key: String,
    pub password_hash: Option<String>,
    pub role: Role,
    pub hospital_id: Option<Uuid>,
    pub employee_number: Option<String>,
    pub name: String,
    pub phone: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub gender: Option<String>,
    pub address: Option<String>,
    /// Active at once (the bootstrap admin), or pending until a code is used.
    pub active: bool,
}

impl NewUser {
    /// An account active at once (seeded: the demo's people, a benchmark's staff), with only
    /// what every account has; set the rest with struct update syntax.
    pub fn active(email: &str, role: Role, hospital_id: Option<Uuid>, name: &str) -> Self {
        Self {
            email: email.to_owned(),
            email_key: email.to_lowercase(),
            password_hash: None,
            role,
            hospital_id,
            employee_number: None,
            name: name.to_owned(),
            phone: None,
            birth_date: None,
            gender: None,
            address: None,
            active: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("e-mail address already in use")]
    EmailTaken,
    #[error("employee number already in use in this hospital")]
    EmployeeNumberTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates an account together with its first one-time code and the e-mail carrying it, in one
/// transaction: either all three exist or none does.
pub async fn create(
    store: &Store,
    user_id: Uuid,
    user: &NewUser,
    code: Option<&NewCode>,
    email: Option<&NewEmail>,
    now: DateTime<Utc>,
) -> Result<(), CreateUserError> {
    let result: Result<(), StoreError> = with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, email, email_key, password_hash, role, hospital_id, employee_number, name,
                                phone, birth_date, gender, address, status, created_at, verified_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(user_id.to_string())
        .bind(&user.email)
        .bind(&user.email_key)
        .bind(&user.password_hash)
        .bind(user.role.as_str())
        .bind(user.hospital_id.map(|h| h.to_string()))
        .bind(&user.employee_number)
        .bind(&user.name)
        .bind(&user.phone)
        .bind(user.birth_date)
        .bind(&user.gender)
        .bind(&user.address)
        .bind(if user.active { "active" } else { "pending" })
        .bind(now)
        .bind(user.active.then_some(now))
        .execute(&mut *tx)
        .await?;
        if let Some(code) = code {
            codes::insert!(&mut *tx, user_id, code, now).await?;
        }
        if let Some(email) = email {
            crate::enqueue_email!(&mut *tx, email, Uuid::now_v7(), now).await?;
        }
        tx.commit().await?;
        Ok(())
    }.await);
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.is_constraint("email_key") => Err(CreateUserError::EmailTaken),
        Err(e) if e.is_constraint("employee_number") => Err(CreateUserError::EmployeeNumberTaken),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(store: &Store, user_id: Uuid) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> = with_reader!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(
        format!("SELECT {COLUMNS} FROM users WHERE id = $1"),
    ))
    .bind(user_id.to_string())
    .fetch_optional(pool)
    .await)?;
    row.map(User::try_from).transpose()
}

/// The live (not deleted) account with this e-mail key.
pub async fn find_by_email(store: &Store, email_key: &str) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> = with_reader!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(
        format!("SELECT {COLUMNS} FROM users WHERE email_key = $1 AND status <> 'deleted'"),
    ))
    .bind(email_key)
    .fetch_optional(pool)
    .await)?;
    row.map(User::try_from).transpose()
}

/// The live account with this employee number in this hospital.
pub async fn find_by_employee_number(
    store: &Store,
    hospital_id: Uuid,
    number: &str,
) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> = with_reader!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(
        format!("SELECT {COLUMNS} FROM users WHERE hospital_id = $1 AND employee_number = $2 AND status <> 'deleted'"),
    ))
    .bind(hospital_id.to_string())
    .bind(number)
    .fetch_optional(pool)
    .await)?;
    row.map(User::try_from).transpose()
}

/// Live staff of a hospital, oldest first.
pub async fn staff_of(store: &Store, hospital_id: Uuid) -> Result<Vec<User>, StoreError> {
    let rows: Vec<UserRow> = with_reader!(store, pool => sqlx::query_as(sqlx::AssertSqlSafe(
        format!("SELECT {COLUMNS} FROM users WHERE hospital_id = $1 AND status <> 'deleted' ORDER BY id"),
    ))
    .bind(hospital_id.to_string())
    .fetch_all(pool)
    .await)?;
    rows.into_iter().map(User::try_from).collect()
}

/// Replaces the password and revokes every session of the user except `keep`.
pub async fn set_password(
    store: &Store,
    user_id: Uuid,
    password_hash: &str,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user_id.to_string())
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        super::sessions::revoke_all!(&mut *tx, user_id, keep, "password_changed", now).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }.await)
}

/// Soft delete: the row stays (appointments and records refer to it), the e-mail address and
/// employee number become free, every session ends.
pub async fn soft_delete(
    store: &Store,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET status = 'deleted', deleted_at = $2 WHERE id = $1 AND status <> 'deleted'")
            .bind(user_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        super::sessions::revoke_all!(&mut *tx, user_id, None::<Uuid>, "account_deleted", now).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }.await)
}

/// Queues an e-mail to the user together with a fresh code (superseding older codes of the
/// same purpose), in one transaction.
pub async fn issue_code(
    store: &Store,
    user_id: Uuid,
    code: &NewCode,
    email: &NewEmail,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    with_writer!(store, pool => async {
        let mut tx = pool.begin().await?;
        codes::insert!(&mut *tx, user_id, code, now).await?;
        crate::enqueue_email!(&mut *tx, email, Uuid::now_v7(), now).await?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }.await)
}
