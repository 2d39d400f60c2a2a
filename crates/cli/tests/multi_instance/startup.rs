//! The running cluster of the scenarios: whether the test runs at all, bringing every
//! process up on its own ports with the database seeded, and waiting for an instance to be
//! ready.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cluster::{Docde, Mosquitto, Nginx, Postgres, Redis};
use crate::load::Api;
use crate::seeding::{Demo, create_patients, seed_demo};

pub fn enabled() -> bool {
    if std::env::var("DOCDE_E2E").as_deref() == Ok("1") {
        return true;
    }
    println!(
        "skipped: the multi-instance test (needs nginx, PostgreSQL, Redis and Mosquitto; run scripts/test-multi-instance)"
    );
    false
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct Cluster {
    _dir: tempfile::TempDir,
    pub pg: Postgres,
    pub redis: Redis,
    _mqtt: Mosquitto,
    pub a: Docde,
    pub b: Docde,
    pub nginx: Nginx,
    pub store: docde_store::Store,
    pub mqtt_port: u16,
}

impl Cluster {
    pub fn pool(&self) -> &sqlx::PgPool {
        match self.store.backend() {
            docde_store::Backend::Postgres(pool) => pool,
            _ => unreachable!("the test runs on PostgreSQL"),
        }
    }
}

pub async fn ready(api: &Api, base: &str, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(r) = api.http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

pub async fn start_ready(api: &Api, d: &mut Docde) {
    d.spawn();
    assert!(
        ready(api, &d.url(), Duration::from_secs(120)).await,
        "instance {} not ready; see {}",
        d.name,
        d.log().display()
    );
}

/// Starts PostgreSQL, Redis and Mosquitto in a temporary directory, seeds the database
/// through `docde demo` and `docde admin create-user`, then both instances behind nginx, each
/// ready; prints where everything listens.
pub async fn start_cluster(started: Instant) -> (Cluster, Api, Demo, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    // The PostgreSQL server may run as another user: let it reach its directory.
    Command::new("chmod")
        .arg("755")
        .arg(dir.path())
        .status()
        .unwrap();
    let pg = Postgres::init(dir.path());
    pg.start();
    let redis = Redis::start(dir.path());
    let mqtt = Mosquitto::start(dir.path(), &repo());
    let env: Vec<(String, String)> = vec![
        ("DOCDE_DATABASE_URL".into(), pg.url()),
        ("DOCDE_DATABASE_ACQUIRE_TIMEOUT_MS".into(), "2000".into()),
        ("DOCDE_REDIS_URL".into(), redis.url()),
        (
            "DOCDE_AUTH_SIGNING_KEYS".into(),
            format!("[\"e2e:{}\"]", uuid::Uuid::new_v4().simple()),
        ),
        (
            "DOCDE_RECORDS_MASTER_KEYS".into(),
            format!("[\"{}\"]", docde_server::records::master::generate_entry()),
        ),
        ("DOCDE_AUTH_TRUST_FORWARDED_FOR".into(), "true".into()),
        // A small in-flight limit, so a storm queues some bookings as tickets.
        ("DOCDE_BOOKING_RUSH_IN_FLIGHT".into(), "4".into()),
        ("DOCDE_HTTP_SHUTDOWN_GRACE_MS".into(), "3000".into()),
        ("DOCDE_MEDICATION_RESET_WORKER".into(), "false".into()),
    ];
    let demo = seed_demo(dir.path(), &env);
    let emails = create_patients(dir.path(), &env);
    let mut served_env = env.clone();
    served_env.push(("DOCDE_MQTT_URL".into(), mqtt.url()));
    let a = Docde::new("a", dir.path(), served_env.clone());
    let b = Docde::new("b", dir.path(), served_env);
    let nginx = Nginx::start(dir.path(), &repo(), a.port, b.port);
    let store = docde_store::Store::connect(&docde_store::DatabaseConfig {
        url: pg.url(),
        schema: None,
        max_connections: 4,
        acquire_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    let mqtt_port = mqtt.port;
    let mut c = Cluster {
        _dir: dir,
        pg,
        redis,
        _mqtt: mqtt,
        a,
        b,
        nginx,
        store,
        mqtt_port,
    };
    let api = Api::new(c.nginx.url());
    start_ready(&api, &mut c.a).await;
    start_ready(&api, &mut c.b).await;
    println!(
        "cluster up in {:.1} s: postgres :{}, redis :{}, mosquitto :{}, docde :{} and :{}, nginx :{}",
        started.elapsed().as_secs_f64(),
        c.pg.port,
        c.redis.port,
        c.mqtt_port,
        c.a.port,
        c.b.port,
        c.nginx.port
    );
    (c, api, demo, emails)
}
