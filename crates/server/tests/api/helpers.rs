//! `spawn_app`: starts the real server on port 0 against a fresh database, plus probe routes
//! that exercise the shared middleware (errors, timeouts, panics, streams) the way product
//! endpoints will.

use std::convert::Infallible;
use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::sse::{Event, Sse};
use axum::routing::{get, post};
use docde_server::extract::ApiJson;
use docde_server::problem::ApiError;
use docde_server::{AppState, Application, Config};
use futures::Stream;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The record master key test apps use (32 bytes, base64).
pub const TEST_MASTER_KEY: &str = "test-mk:ZG9jZGUgdGVzdCBtYXN0ZXIga2V5LCAzMiBieXRlcyE=";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub shutdown: CancellationToken,
    /// Cancel to drain then stop, as SIGTERM does for `docde serve`.
    pub drain: CancellationToken,
    pub server: JoinHandle<anyhow::Result<()>>,
    /// The application's `data_dir` (files such as the on-disk e-mail outbox live there).
    pub data_dir: PathBuf,
    _data_dir: tempfile::TempDir,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request failed")
    }
}

/// Configuration every test starts from; `tweak` adjusts it per test.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.path().to_owned(),
        ..Config::default()
    };
    config.http.body_limit_bytes = 4096;
    config.http.request_timeout_ms = 2_000;
    config.http.shutdown_grace_ms = 5_000;
    // Every test app gets its own signing key; instances of one service share it explicitly.
    config.auth.signing_keys = vec![format!("test:{}", uuid::Uuid::now_v7().simple())];
    // One record master key for every test app, so instances of one database share it.
    config.records.master_keys = vec![TEST_MASTER_KEY.to_owned()];
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        config.database.url = Some(url);
        config.database.schema = Some(format!("t_{}", uuid::Uuid::now_v7().simple()));
        config.database.max_connections = 4;
    }
    if let Ok(url) = std::env::var("TEST_REDIS_URL") {
        config.redis.url = Some(url);
        config.redis.namespace = format!("test-{}", uuid::Uuid::now_v7().simple());
    }
    tweak(&mut config);
    let app_data_dir = config.data_dir.clone();
    if let Ok(filter) = std::env::var("TEST_LOG") {
        config.log.filter = filter;
        docde_server::telemetry::init(&config.log);
    }
    let app = Application::build_with(config, probe_routes())
        .await
        .expect("application failed to start");
    let address = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let shutdown = app.shutdown_token();
    let drain = app.drain_token();
    let server = tokio::spawn(app.run_until_stopped());
    // The search index builds in the background; tests start once it is there.
    for _ in 0..500 {
        if state.directory.get().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    TestApp {
        address,
        client: reqwest::Client::new(),
        state,
        shutdown,
        drain,
        server,
        data_dir: app_data_dir,
        _data_dir: data_dir,
    }
}

/// A second instance of the same service as `first`: the same database schema, Redis namespace
/// and signing keys. Only meaningful with external backends (see [`external_backends`]).
pub async fn spawn_peer(first: &TestApp) -> TestApp {
    let config = first.state.config.clone();
    spawn_app_with(move |c| {
        c.database.schema = config.database.schema.clone();
        c.redis.namespace = config.redis.namespace.clone();
        c.auth.signing_keys = config.auth.signing_keys.clone();
        // Instances of one deployment book alike. Without this, a peer of an instance that
        // never queues would queue during the default peak window (08:00–10:00 in Seoul).
        c.booking = config.booking.clone();
    })
    .await
}

/// Stops `app`, waiting up to 10 s, and starts the instance that takes over from it: on the
/// same data (data directory, database schema, Redis namespace) with the same signing keys,
/// then `tweak`. The data directory now lives as long as the new instance.
pub async fn restart(app: TestApp, tweak: impl FnOnce(&mut Config)) -> TestApp {
    app.shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), app.server).await;
    let config = app.state.config.clone();
    let mut next = spawn_app_with(move |c| {
        c.data_dir = config.data_dir.clone();
        c.database.schema = config.database.schema.clone();
        c.redis.namespace = config.redis.namespace.clone();
        c.auth.signing_keys = config.auth.signing_keys.clone();
        tweak(c);
    })
    .await;
    next._data_dir = app._data_dir;
    next
}

/// Whether PostgreSQL and Redis are given, as tests of several instances need; prints why
/// `test` is skipped otherwise.
pub fn external_backends(test: &str) -> bool {
    let given = |v: &str| std::env::var(v).is_ok_and(|u| !u.is_empty());
    let both = given("TEST_DATABASE_URL") && given("TEST_REDIS_URL");
    if !both {
        println!(
            "skipping {test}: needs TEST_DATABASE_URL and TEST_REDIS_URL (scripts/test external)"
        );
    }
    both
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A request body with rules, standing in for any validated create request.
#[derive(Debug, Serialize, Deserialize, garde::Validate)]
pub struct Review {
    #[garde(length(chars, min = 1, max = 20))]
    pub title: String,
    #[garde(range(min = 1, max = 5))]
    pub stars: u8,
}

#[derive(Deserialize)]
struct Slow {
    ms: u64,
}

fn probe_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/probe/echo",
            post(|ApiJson(review): ApiJson<Review>| async move { axum::Json(review) }),
        )
        .route(
            "/probe/slow",
            get(|Query(q): Query<Slow>| async move {
                tokio::time::sleep(Duration::from_millis(q.ms)).await;
                "done"
            }),
        )
        .route(
            "/probe/internal",
            get(|| async {
                Err::<(), _>(ApiError::Internal(anyhow::anyhow!(
                    "relation patient_secret_table: Kim Minji"
                )))
            }),
        )
        .route("/probe/panic", get(panicking))
        .route("/probe/stream", get(stream))
}

/// A live stream that ticks until the application shuts down, like the ward streams will.
async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let ticks = futures::stream::unfold(0u64, |n| async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Some((
            Ok(Event::default().id(n.to_string()).event("tick").data("x")),
            n + 1,
        ))
    });
    Sse::new(futures::StreamExt::take_until(
        ticks,
        state.shutdown.clone().cancelled_owned(),
    ))
}

/// Reads a problem+json response, asserting the content type.
pub async fn problem(response: reqwest::Response) -> serde_json::Value {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(
        content_type, "application/problem+json",
        "error responses are problem+json"
    );
    response.json().await.expect("problem body is JSON")
}

async fn panicking() -> &'static str {
    panic!("probe panicked with Kim Minji")
}
