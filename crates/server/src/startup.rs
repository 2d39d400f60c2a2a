//! Building and running the application: `Application::build` connects and binds,
//! `run_until_stopped` serves until the shutdown token fires, then drains within the
//! configured grace period. The drain token comes first in a rolling restart: the instance
//! reports not-ready while it keeps serving for `http.drain_delay_ms`, so the balancer stops
//! sending it work before it stops accepting.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use docde_bus::Bus;
use docde_store::{DatabaseConfig, Store};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::{Auth, Passwords, SigningKeys};
use crate::config::Config;
use crate::state::AppState;

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    address: SocketAddr,
    workers: Vec<JoinHandle<()>>,
    drain: CancellationToken,
}

impl Application {
    /// Connects to the database (migrating it) and the bus, and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, Router::new()).await
    }

    /// As [`build`](Self::build), with extra routes mounted under the same middleware.
    pub async fn build_with(config: Config, extra: Router<AppState>) -> anyhow::Result<Self> {
        crate::metrics::recorder();
        let outbound = crate::outbound::client(&config.outbound)?;
        let shutdown = CancellationToken::new();
        let store = open_store(&config).await?;
        let bus = match &config.redis.url {
            Some(url) => Bus::redis(url, &config.redis.namespace, shutdown.child_token())
                .await
                .context("connecting to Redis (redis.url)")?,
            None => Bus::in_process(),
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let address = listener.local_addr()?;
        let auth = Auth {
            keys: Arc::new(
                SigningKeys::from_config(&config)
                    .context("loading signing keys (auth.signing_keys)")?,
            ),
            passwords: Passwords::new()?,
            sessions: crate::auth::session_checks::reads(),
            devices: crate::auth::device_checks::reads(),
        };
        // A wrong or missing record key stops start-up here, before anything is served.
        let records = crate::records::Vault::start(&store, &config)
            .await
            .context("checking the record encryption keys (records.master_keys)")?;
        let state = AppState::new(
            Arc::new(config),
            store,
            bus,
            auth,
            records,
            outbound,
            shutdown,
        );
        // Background workers end when the shutdown token fires; run_until_stopped waits for them.
        let mut workers = vec![
            crate::mail::dispatcher::spawn(state.clone()),
            crate::directory_index::spawn(state.clone()),
            crate::booking::availability::spawn(state.clone()),
            crate::ward::spawn_escalation(state.clone()),
            crate::reports::spawn(state.clone()),
            crate::wal_checkpoint::spawn(state.clone()),
            state
                .auth
                .sessions
                .spawn(state.store.clone(), state.shutdown.child_token()),
            state
                .auth
                .devices
                .spawn(state.store.clone(), state.shutdown.child_token()),
            state
                .booking
                .key_checks
                .spawn(state.store.clone(), state.shutdown.child_token()),
            state
                .ward
                .contexts
                .spawn(state.store.clone(), state.shutdown.child_token()),
        ];
        if state.config.reception.serve_waiting_room {
            workers.push(crate::reception::waiting_room::spawn_worker(state.clone()));
        }
        workers.extend(crate::ward::mqtt::spawn(
            state.clone(),
            state.config.mqtt.clone(),
        ));
        if state.config.ward.retention_worker {
            let every =
                std::time::Duration::from_secs(state.config.ward.retention_every_secs.max(1));
            workers.push(crate::ward::retention::spawn(state.clone(), every));
        }
        if state.config.ward.rollup_worker {
            let every = std::time::Duration::from_secs(state.config.ward.rollup_every_secs.max(1));
            workers.push(crate::ward::rollup::spawn(state.clone(), every));
        }
        // Ward technical alarms (branch `ward`).
        if state.config.ward.technical_worker {
            let every =
                std::time::Duration::from_millis(state.config.ward.technical_every_ms.max(100));
            workers.push(crate::ward::technical::spawn(state.clone(), every));
        }
        // Escalation webhook posts (crates/server/src/ward/webhook.rs).
        if state.config.ward.webhook_worker {
            workers.push(crate::ward::webhook::spawn(state.clone()));
        }
        // Web push to nurses' browsers (crates/server/src/ward/push/worker.rs).
        if state.config.push.worker {
            workers.push(crate::ward::push::worker::spawn(state.clone()));
        }
        if state.config.medication.reset_worker {
            workers.push(crate::ward::medication::spawn_reset(state.clone()));
        }
        if state.config.booking.serve_queue {
            workers.push(crate::booking::rush::spawn_worker(state.clone()));
        }
        let router = crate::routes::router(state.clone(), extra);
        Ok(Self {
            listener,
            router,
            state,
            address,
            workers,
            drain: CancellationToken::new(),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Cancel this to stop the application gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.state.shutdown.clone()
    }

    /// Cancel this to drain, then stop: `/readyz` answers 503 at once, everything else is
    /// served as before for `http.drain_delay_ms`, then the shutdown token fires.
    pub fn drain_token(&self) -> CancellationToken {
        self.drain.clone()
    }

    /// Serves until the shutdown token fires; then stops accepting, lets in-flight requests
    /// finish and streams end, and returns within the grace period either way.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            listener,
            router,
            state,
            address,
            workers,
            drain,
        } = self;
        let token = state.shutdown.clone();
        let grace = state.config.shutdown_grace();
        tokio::spawn(drain_then_stop(state.clone(), drain));
        tracing::info!(
            %address,
            database = state.store.dialect(),
            coordination = state.bus.kind(),
            "docde listening on http://{address}"
        );
        let server = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown({
            let token = token.clone();
            async move { token.cancelled().await }
        })
        .into_future();
        tokio::pin!(server);
        let deadline = async {
            token.cancelled().await;
            state.set_draining();
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = &mut server => result.context("serving HTTP")?,
            () = deadline => tracing::warn!(?grace, "grace period over; closing the remaining connections"),
        }
        // Workers watch the same token; give them a short window to finish the item in hand
        // (an e-mail cut off mid-send stays claimed and is retried after its lease).
        if tokio::time::timeout(Duration::from_secs(2), futures::future::join_all(workers))
            .await
            .is_err()
        {
            tracing::warn!("background workers still busy at exit");
        }
        if tokio::time::timeout(Duration::from_secs(2), state.store.close())
            .await
            .is_err()
        {
            tracing::warn!("database connections still busy at exit");
        }
        tracing::info!("docde stopped");
        Ok(())
    }
}

/// When `drain` fires: report not-ready, keep serving for the drain delay (unless the stop
/// comes sooner), then fire the shutdown token.
async fn drain_then_stop(state: AppState, drain: CancellationToken) {
    let shutdown = state.shutdown.clone();
    tokio::select! {
        _ = shutdown.cancelled() => return,
        _ = drain.cancelled() => {}
    }
    state.set_draining();
    let delay = state.config.drain_delay();
    tracing::info!(
        ?delay,
        "not ready; serving on until the balancer has moved away"
    );
    tokio::select! {
        _ = shutdown.cancelled() => {}
        _ = tokio::time::sleep(delay) => shutdown.cancel(),
    }
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let db = DatabaseConfig {
        url: config.database_url(),
        schema: config.database.schema.clone(),
        max_connections: config.database.max_connections,
        acquire_timeout: Duration::from_millis(config.database.acquire_timeout_ms),
    };
    let store = Store::connect(&db)
        .await
        .context("connecting to the database (database.url)")?;
    store
        .migrate()
        .await
        .context("applying database migrations")?;
    Ok(store)
}
