//! A store on a database that exists for one test only, shared by the store's test files.
//!
//! With `TEST_DATABASE_URL` set (a PostgreSQL URL) that is a fresh schema, dropped when the test
//! ends; otherwise a SQLite file in a fresh temporary directory.

#![allow(dead_code)]

use std::time::Duration;

use docde_store::directory::DoctorFacts;
use docde_store::{DatabaseConfig, Store};

/// A store on a database that exists for one test only.
pub struct TestStore {
    store: Store,
    /// Holds the SQLite file; removed with it when dropped.
    _sqlite_dir: Option<tempfile::TempDir>,
    postgres_schema: Option<PostgresSchema>,
}

struct PostgresSchema {
    url: String,
    name: String,
}

impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl Drop for TestStore {
    /// Drops the PostgreSQL schema, also when the test failed. `Drop` cannot await, so this
    /// runs on a runtime of its own on another thread, through a pool of its own.
    fn drop(&mut self) {
        let Some(PostgresSchema { url, name }) = self.postgres_schema.take() else {
            return;
        };
        let schema = name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let admin = sqlx::PgPool::connect(&url).await?;
                // The name is ours ("t_" and hex digits), so interpolating it is safe.
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS \"{name}\" CASCADE"
                )))
                .execute(&admin)
                .await?;
                admin.close().await;
                Ok::<_, anyhow::Error>(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test schema {schema}: {e:#}"),
            Err(_) => eprintln!("dropping test schema {schema} panicked"),
        }
    }
}

/// A migrated store on a database of its own.
pub async fn fresh_store() -> TestStore {
    let store = unmigrated_store().await;
    store.migrate().await.expect("migrations failed");
    store
}

/// A store on an empty database of its own, before any migration.
pub async fn unmigrated_store() -> TestStore {
    let config = |url: String, schema| DatabaseConfig {
        url,
        schema,
        max_connections: 5,
        acquire_timeout: Duration::from_secs(30),
    };
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
            let store = Store::connect(&config(url.clone(), Some(schema.clone())))
                .await
                .unwrap_or_else(|e| panic!("cannot connect to TEST_DATABASE_URL: {e:#}"));
            TestStore {
                store,
                _sqlite_dir: None,
                postgres_schema: Some(PostgresSchema { url, name: schema }),
            }
        }
        _ => {
            let dir = tempfile::tempdir().expect("cannot create a temporary directory");
            let url = format!("sqlite://{}", dir.path().join("docde.db").display());
            let store = Store::connect(&config(url, None))
                .await
                .expect("cannot open the SQLite database");
            TestStore {
                store,
                _sqlite_dir: Some(dir),
                postgres_schema: None,
            }
        }
    }
}

/// An internist who takes online bookings, with `user_id`'s account if given.
pub fn internist(user_id: Option<uuid::Uuid>) -> DoctorFacts {
    DoctorFacts {
        name: "김의사".into(),
        bio: None,
        accepts_online_booking: true,
        departments: vec!["internal_medicine".into()],
        user_id,
    }
}

/// A new patient account (no password, no hospital); returns its id.
pub async fn patient(store: &Store) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    let email = format!("{id}@example.test");
    let user = docde_store::accounts::users::NewUser {
        email: email.clone(),
        email_key: email,
        password_hash: None,
        role: docde_domain::account::Role::Patient,
        hospital_id: None,
        employee_number: None,
        name: "환자".into(),
        phone: None,
        birth_date: None,
        gender: None,
        address: None,
        active: true,
    };
    docde_store::accounts::users::create(store, id, &user, None, None, chrono::Utc::now())
        .await
        .unwrap();
    id
}
