//! The Redis leg of the bus: commands through a self-healing `ConnectionManager`, and one
//! supervised pattern subscription that re-connects with backoff and re-subscribes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{RwLock, watch};
use tokio_util::sync::CancellationToken;

use crate::local::Fanout;
use crate::{BusError, BusHealth, REDIS_COMMAND_TIMEOUT};

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
const REBUILD_INTERVAL: Duration = Duration::from_secs(1);

pub(crate) struct RedisLink {
    client: redis::Client,
    config: ConnectionManagerConfig,
    /// Replaced when it fails in a way it does not recover from by itself (see
    /// [`RedisLink::command_failed`]).
    commands: RwLock<ConnectionManager>,
    last_rebuild: Mutex<Option<Instant>>,
    namespace: String,
    subscribed: Arc<AtomicBool>,
}

impl RedisLink {
    pub(crate) async fn connect(
        url: &str,
        namespace: &str,
        local: Fanout,
        shutdown: CancellationToken,
    ) -> Result<Self, BusError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_COMMAND_TIMEOUT))
            .set_response_timeout(Some(REDIS_COMMAND_TIMEOUT))
            .set_max_delay(BACKOFF_MAX);
        let commands = ConnectionManager::new_with_config(client.clone(), config.clone()).await?;

        let subscribed = Arc::new(AtomicBool::new(false));
        let (first_tx, mut first_rx) = watch::channel(false);
        tokio::spawn(subscriber_loop(
            client.clone(),
            namespace.to_owned(),
            local,
            subscribed.clone(),
            first_tx,
            shutdown,
        ));
        // Wait for the first subscription so nothing published right after start-up is missed.
        tokio::time::timeout(REDIS_COMMAND_TIMEOUT * 2, first_rx.wait_for(|ok| *ok))
            .await
            .map_err(|_| BusError::Timeout(REDIS_COMMAND_TIMEOUT * 2))?
            .ok();
        Ok(Self {
            client,
            config,
            commands: RwLock::new(commands),
            last_rebuild: Mutex::new(None),
            namespace: namespace.to_owned(),
            subscribed,
        })
    }

    async fn conn(&self) -> ConnectionManager {
        self.commands.read().await.clone()
    }

    /// `ConnectionManager` reconnects by itself after I/O errors, but gives up for good when a
    /// reconnect fails any other way (e.g. authentication refused during a credential
    /// rotation). Then build a fresh one, at most once a second, so the instance recovers
    /// without a restart.
    async fn command_failed(&self, e: &redis::RedisError) {
        let stuck =
            e.kind() == redis::ErrorKind::AuthenticationFailed || e.is_unrecoverable_error();
        if !stuck {
            return;
        }
        {
            let mut last = self.last_rebuild.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < REBUILD_INTERVAL) {
                return;
            }
            *last = Some(Instant::now());
        }
        let fresh = tokio::time::timeout(
            REDIS_COMMAND_TIMEOUT,
            ConnectionManager::new_with_config(self.client.clone(), self.config.clone()),
        )
        .await;
        if let Ok(Ok(manager)) = fresh {
            *self.commands.write().await = manager;
            tracing::info!(target: "docde::bus", "redis command connection rebuilt");
        }
    }

    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.namespace)
    }

    /// Whether the pattern subscription is live. When it is not, Redis is unreachable (or
    /// refusing this instance) and a command would only wait for its timeout.
    pub(crate) fn is_linked(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    pub(crate) async fn publish(&self, topic: &str, payload: Bytes) -> Result<(), BusError> {
        let mut conn = self.conn().await;
        let published: Result<i64, _> = conn.publish(self.key(topic), payload.as_ref()).await;
        if let Err(e) = &published {
            self.command_failed(e).await;
        }
        published?;
        Ok(())
    }

    pub(crate) async fn incr(&self, key: &str, window: Duration) -> Result<u64, BusError> {
        let mut conn = self.conn().await;
        let key = self.key(key);
        let millis = u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1);
        // INCR and PEXPIRE NX in one transaction: the window starts at the first increment
        // and later increments do not extend it.
        let counted: Result<(u64, i64), _> = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(millis)
            .arg("NX")
            .query_async(&mut conn)
            .await;
        if let Err(e) = &counted {
            self.command_failed(e).await;
        }
        Ok(counted?.0)
    }

    pub(crate) async fn health(&self) -> BusHealth {
        if !self.subscribed.load(Ordering::Acquire) {
            return BusHealth::NotReady("redis subscription is reconnecting".into());
        }
        let mut conn = self.conn().await;
        let ping = redis::cmd("PING");
        match tokio::time::timeout(REDIS_COMMAND_TIMEOUT, ping.query_async::<String>(&mut conn))
            .await
        {
            Ok(Ok(_)) => BusHealth::Ready,
            Ok(Err(e)) => {
                self.command_failed(&e).await;
                BusHealth::NotReady(format!("redis ping failed: {}", e.kind_str()))
            }
            Err(_) => BusHealth::NotReady("redis ping timed out".into()),
        }
    }
}

trait KindStr {
    fn kind_str(&self) -> String;
}

impl KindStr for redis::RedisError {
    /// The error category only: Redis error details may echo command arguments.
    fn kind_str(&self) -> String {
        format!("{:?}", self.kind())
    }
}

/// Keeps one pattern subscription alive for the life of the instance.
async fn subscriber_loop(
    client: redis::Client,
    namespace: String,
    local: Fanout,
    subscribed: Arc<AtomicBool>,
    first: watch::Sender<bool>,
    shutdown: CancellationToken,
) {
    let prefix = format!("{namespace}:");
    let pattern = format!("{namespace}:*");
    let mut backoff = BACKOFF_MIN;
    loop {
        let attempt = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.psubscribe(&pattern).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let pubsub = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = tokio::time::timeout(REDIS_COMMAND_TIMEOUT, attempt) => r,
        };
        match pubsub {
            Ok(Ok(pubsub)) => {
                subscribed.store(true, Ordering::Release);
                first.send_replace(true);
                tracing::info!(target: "docde::bus", "redis subscription established");
                backoff = BACKOFF_MIN;
                let mut messages = pubsub.into_on_message();
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        msg = messages.next() => match msg {
                            Some(msg) => {
                                if let Some(topic) = msg.get_channel_name().strip_prefix(&prefix) {
                                    local.deliver(topic, Bytes::copy_from_slice(msg.get_payload_bytes()));
                                }
                            }
                            None => break,
                        }
                    }
                }
                subscribed.store(false, Ordering::Release);
                tracing::warn!(target: "docde::bus", "redis subscription lost; reconnecting");
            }
            Ok(Err(e)) => {
                tracing::warn!(target: "docde::bus", error = %e.kind_str(), "redis subscribe failed")
            }
            Err(_) => tracing::warn!(target: "docde::bus", "redis subscribe timed out"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}
