//! Coordination between DocDe instances: publish/subscribe, expiring counters and wake-ups.
//!
//! The bus only sheds load and carries notifications. It never holds state that matters:
//! anything a client must not miss is in the database first (the event log), and a message
//! lost while Redis reconnects is recovered by replaying from there. That is why delivery here
//! is at-most-once and why a lagging subscriber is told it lagged instead of slowing publishers.
//!
//! Two implementations sit behind [`Bus`]:
//! - in-process (the embedded default): topics are `tokio::sync::broadcast` channels;
//! - Redis: publishes go to Redis, and one pattern subscription per instance brings every
//!   message of the namespace back into the same local fan-out, so local and remote
//!   subscribers see one ordered stream per instance.

mod local;
mod redis_link;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

pub use local::{Message, Subscription};

/// What went wrong talking to the coordination backend.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("coordination backend did not answer within {0:?}")]
    Timeout(Duration),
}

/// Health of the coordination backend, for `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusHealth {
    Ready,
    NotReady(String),
}

/// Handle to the coordination bus; cheap to clone.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

struct Inner {
    local: local::Fanout,
    counters: local::Counters,
    remote: Option<redis_link::RedisLink>,
}

/// Redis commands must never hang a request: past this, the caller gets an error.
const REDIS_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

impl Bus {
    /// The in-process bus: one instance, nothing to connect to.
    pub fn in_process() -> Self {
        Self {
            inner: Arc::new(Inner {
                local: local::Fanout::default(),
                counters: local::Counters::default(),
                remote: None,
            }),
        }
    }

    /// A Redis-backed bus. `namespace` prefixes every key and channel so several
    /// installations (or test runs) can share one Redis. The first connection must succeed;
    /// after that, losing Redis is survived by reconnecting with backoff.
    pub async fn redis(
        url: &str,
        namespace: &str,
        shutdown: CancellationToken,
    ) -> Result<Self, BusError> {
        let local = local::Fanout::default();
        let remote =
            redis_link::RedisLink::connect(url, namespace, local.clone(), shutdown).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                local,
                counters: local::Counters::default(),
                remote: Some(remote),
            }),
        })
    }

    /// `"in-process"` or `"redis"`, for logs and `docde config`.
    pub fn kind(&self) -> &'static str {
        if self.inner.remote.is_some() {
            "redis"
        } else {
            "in-process"
        }
    }

    /// Publishes `payload` on `topic` to every subscriber of every instance.
    ///
    /// While Redis is unreachable the message reaches this instance's subscribers only, at
    /// once: a request that publishes after its commit (a ward wake-up on every sample batch)
    /// must not wait for a command timeout, and this instance's own streams must still wake.
    /// Other instances miss it, as at-most-once delivery allows; they recover from the
    /// database when their subscription comes back.
    pub async fn publish(&self, topic: &str, payload: impl Into<Bytes>) -> Result<(), BusError> {
        let payload = payload.into();
        let Some(remote) = &self.inner.remote else {
            self.inner.local.deliver(topic, payload);
            return Ok(());
        };
        if !remote.is_linked() {
            self.inner.local.deliver(topic, payload);
            return Ok(());
        }
        // Normally the message comes back to this instance through the pattern subscription,
        // so local subscribers are served by the same path as remote ones.
        match remote.publish(topic, payload.clone()).await {
            Ok(()) => Ok(()),
            Err(e) => {
                // It will not come back through Redis: serve this instance's subscribers here.
                self.inner.local.deliver(topic, payload);
                Err(e)
            }
        }
    }

    /// Subscribes to `topic`. Messages published before this call are not delivered.
    pub fn subscribe(&self, topic: &str) -> Subscription {
        self.inner.local.subscribe(topic)
    }

    /// Adds one to the counter `key` and returns the new value. The counter starts at 1 and
    /// disappears `window` after its first increment (a fixed window, as rate limits need).
    ///
    /// With Redis the count is shared by every instance. While Redis is unreachable the count
    /// falls back to this instance alone: limits then hold per instance instead of failing
    /// every request that is counted (sign-in must keep working through a Redis outage).
    pub async fn incr(&self, key: &str, window: Duration) -> Result<u64, BusError> {
        match &self.inner.remote {
            // Known unreachable: count here at once instead of waiting for a timeout.
            Some(remote) if !remote.is_linked() => Ok(self.inner.counters.incr(key, window)),
            Some(remote) => match remote.incr(key, window).await {
                Ok(count) => Ok(count),
                Err(e) => {
                    tracing::warn!(target: "docde::bus", error = %e, "redis counter unavailable; counting on this instance");
                    Ok(self.inner.counters.incr(key, window))
                }
            },
            None => Ok(self.inner.counters.incr(key, window)),
        }
    }

    /// Wakes every waiter on `channel` in every instance (e.g. "new work in the queue").
    /// A wake-up carries no data: the woken side reads the database.
    pub async fn wake(&self, channel: &str) -> Result<(), BusError> {
        self.publish(&wake_topic(channel), Bytes::new()).await
    }

    /// Subscribes to wake-ups on `channel`.
    pub fn wakeups(&self, channel: &str) -> Subscription {
        self.subscribe(&wake_topic(channel))
    }

    /// Whether the backend is usable right now. In-process is always ready; Redis is ready
    /// when its subscription is live and a PING answers.
    pub async fn health(&self) -> BusHealth {
        match &self.inner.remote {
            None => BusHealth::Ready,
            Some(remote) => remote.health().await,
        }
    }
}

fn wake_topic(channel: &str) -> String {
    format!("wake:{channel}")
}
