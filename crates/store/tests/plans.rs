//! The statements that look up a batch of ids (`docde_store::plans`) must be answered by index
//! lookups even on tables the planner has no statistics for. PostgreSQL analyses a table only
//! when autovacuum gets to it; a rush on a new hospital, or every benchmark, fills tables
//! faster than that, and the session check and the booking group's read had been planned as
//! hash joins over whole tables, costing more with every session and appointment.

mod common;

use chrono::Utc;
use docde_store::accounts::hospitals::create_hospital;
use docde_store::directory;
use docde_store::{Backend, Store, plans};
use uuid::Uuid;

/// Rows per table: enough that reading a table whole costs far more than a lookup.
const ROWS: usize = 3_000;

/// `ROWS` patients with a session and an appointment each, at one doctor, written with plain
/// multi-row inserts (no statistics gathered on the way; on PostgreSQL autovacuum is off for
/// these tables, so none arrive mid-test either). Returns (sessions, patients, doctor).
async fn filled(store: &Store) -> (Vec<Uuid>, Vec<Uuid>, Uuid) {
    let now = Utc::now();
    let hospital = create_hospital(store, "계획병원", "Asia/Seoul", now)
        .await
        .unwrap()
        .id;
    let doctor = Uuid::now_v7();
    directory::put_doctor(store, doctor, hospital, &common::internist(None), now)
        .await
        .unwrap();
    if store.dialect() == "postgres" {
        for table in ["users", "sessions", "appointments", "slot_seats"] {
            exec(
                store,
                &format!("ALTER TABLE {table} SET (autovacuum_enabled = false)"),
            )
            .await;
        }
    }
    let patients: Vec<Uuid> = (0..ROWS).map(|_| Uuid::now_v7()).collect();
    let sessions: Vec<Uuid> = (0..ROWS).map(|_| Uuid::now_v7()).collect();
    let stamp = "2026-01-01T00:00:00Z";
    // Ids are this test's own UUIDs, so writing them into the statement is safe.
    for (n, chunk) in patients.chunks(500).enumerate() {
        let rows = |f: &dyn Fn(usize, &Uuid) -> String| {
            chunk
                .iter()
                .enumerate()
                .map(|(i, p)| f(n * 500 + i, p))
                .collect::<Vec<_>>()
                .join(", ")
        };
        exec(store, &format!(
            "INSERT INTO users (id, email, email_key, role, name, status, created_at) VALUES {}",
            rows(&|_, p| format!("('{p}', '{p}@example.test', '{p}@example.test', 'patient', '환자', 'active', '{stamp}')"))
        ))
        .await;
        exec(
            store,
            &format!(
                "INSERT INTO sessions (id, user_id, created_at) VALUES {}",
                rows(&|i, p| format!("('{}', '{p}', '{stamp}')", sessions[i]))
            ),
        )
        .await;
        exec(store, &format!(
            "INSERT INTO appointments (id, hospital_id, doctor_id, patient_id, starts_at, ends_at, \
             status, reason, idempotency_key, created_at, updated_at) VALUES {}",
            rows(&|i, p| {
                let start = 1_900_000_000 + 600 * i as i64;
                format!("('{}', '{hospital}', '{doctor}', '{p}', {start}, {}, 'booked', '', 'k{i}', '{stamp}', '{stamp}')",
                    Uuid::now_v7(), start + 600)
            })
        ))
        .await;
        exec(
            store,
            &format!(
                "INSERT INTO slot_seats (doctor_id, starts_at, ends_at, capacity, taken) VALUES {}",
                rows(&|i, _| {
                    let start = 1_900_000_000 + 600 * i as i64;
                    format!("('{doctor}', {start}, {}, 1, 1)", start + 600)
                })
            ),
        )
        .await;
    }
    (sessions, patients, doctor)
}

async fn exec(store: &Store, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    docde_store::with_writer!(store, pool => sqlx::query(sql).execute(pool).await.map(|_| ()))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The plan of `sql` with `binds` (JSON texts, then integers), one line per step.
async fn plan(store: &Store, sql: &str, texts: &[String], ints: &[i64]) -> Vec<String> {
    match store.backend() {
        Backend::Postgres(pool) => {
            let mut query =
                sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")));
            for t in texts {
                query = query.bind(t);
            }
            for i in ints {
                query = query.bind(i);
            }
            query.fetch_all(pool).await.unwrap()
        }
        Backend::Sqlite { reader, .. } => {
            let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(
                format!("EXPLAIN QUERY PLAN {sql}"),
            ));
            for t in texts {
                query = query.bind(t);
            }
            for i in ints {
                query = query.bind(i);
            }
            let rows = query.fetch_all(reader).await.unwrap();
            rows.into_iter().map(|(_, _, _, detail)| detail).collect()
        }
    }
}

/// Steps that read a whole stored table (or, on PostgreSQL, hash one for a join, or read all
/// active appointments through the overlap constraint's index) rather than look rows up.
fn whole_table_reads(plan: &[String]) -> Vec<&String> {
    plan.iter()
        .filter(|step| {
            let step = step.trim();
            // SQLite: "SCAN <table>" reads it whole; the JSON arrays are virtual tables.
            (step.starts_with("SCAN ") && !step.contains("VIRTUAL TABLE"))
                || step.contains("Seq Scan")
                || step.contains("Hash Join")
                || step.contains("Hash Semi Join")
                || step.contains("appointments_patient_overlap")
        })
        .collect()
}

#[tokio::test]
async fn batched_lookups_use_indexes_on_tables_without_statistics() {
    let store = common::fresh_store().await;
    let (sessions, patients, doctor) = filled(&store).await;

    let some: Vec<String> = sessions.iter().take(50).map(Uuid::to_string).collect();
    let session_check = plan(
        &store,
        plans::session_check(&store),
        &[serde_json::to_string(&some).unwrap()],
        &[],
    )
    .await;
    assert!(
        whole_table_reads(&session_check).is_empty(),
        "{session_check:#?}"
    );

    let keys: Vec<(String, String)> = patients
        .iter()
        .take(50)
        .enumerate()
        .map(|(i, p)| (p.to_string(), format!("k{i}")))
        .collect();
    let slots: Vec<(String, i64)> = (0..50)
        .map(|i| (doctor.to_string(), 1_900_000_000 + 600 * i))
        .collect();
    let who: Vec<(String, i64, i64)> = patients
        .iter()
        .take(50)
        .enumerate()
        .map(|(i, p)| {
            let start = 1_900_000_000 + 600 * i as i64;
            (p.to_string(), start, start + 600)
        })
        .collect();
    let texts = [
        serde_json::to_string(&keys).unwrap(),
        serde_json::to_string(&slots).unwrap(),
        serde_json::to_string(&who).unwrap(),
    ];
    let group_read = plan(&store, plans::group_read(&store), &texts, &[]).await;
    assert!(whole_table_reads(&group_read).is_empty(), "{group_read:#?}");
    // A patient's appointments are searched from both ends of the time range, not every one
    // the patient ever held: on SQLite `(patient_id=? AND starts_at>? AND starts_at<?)`, on
    // PostgreSQL an index condition with both bounds.
    let holders: Vec<&String> = group_read
        .iter()
        .filter(|step| step.contains("appointments_patient") || step.contains("Index Cond"))
        .collect();
    assert!(
        holders.iter().any(|step| {
            let step = step.replace(' ', "");
            step.contains("starts_at>") && step.contains("starts_at<")
        }),
        "{group_read:#?}"
    );
}
