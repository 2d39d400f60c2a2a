//! MQTT ingest: when `mqtt.url` is set, each instance keeps `mqtt.connections` connections to
//! the broker, subscribed with QoS 1 through a shared subscription (`$share/<group>/…`), so the
//! broker hands each device message to exactly one connection of one instance.
//!
//! Acknowledgement: acks are manual. Each message is handled in its own task (so the
//! group-commit writer sees many at once), and a per-connection acker sends the PUBACKs in the
//! order the messages arrived, each only after its message is committed (or known unusable; see
//! [`handle`]). After a reconnect the packet ids of the old connection mean nothing, so acks
//! left over from it are dropped: the broker redelivers those messages (persistent session) and
//! the idempotent ingest stores them once.
//!
//! Supervision: a lost connection is retried with exponential backoff (0.1 s to 10 s);
//! readiness reports `mqtt` as failing while no connection is up. On shutdown the connections
//! stop taking messages, ack what finished, and disconnect.

mod credentials;
pub mod handle;
pub mod topics;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use rumqttc::{
    AsyncClient, Event, MqttOptions, Packet, Publish, QoS, SubscribeFilter, SubscribeReasonCode,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use self::credentials::Credentials;
use self::handle::{Disposition, Handler};
use self::topics::Topics;
use crate::config::{MqttBroker, MqttSettings, parse_mqtt_url};
use crate::state::AppState;

/// Backoff bounds between reconnect attempts.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Messages one connection may have in its handlers at once (the broker's own limit on
/// unacknowledged messages, 20 by default in Mosquitto, usually binds first).
const MAX_IN_HANDLERS: usize = 1024;
/// The largest message read; bigger ones are dropped by the broker or, if it allows them,
/// end our connection, so keep the broker's `message_size_limit` below this.
const MAX_PACKET: usize = 16 * 1024 * 1024;

/// This instance's MQTT ingest, as readiness and tests see it.
#[derive(Debug, Default)]
pub struct MqttStatus {
    /// Connections that are up with their subscriptions granted.
    subscribed: AtomicUsize,
    /// Messages handled to the end (acknowledged or not).
    handled: AtomicU64,
}

impl MqttStatus {
    pub fn connected(&self) -> usize {
        self.subscribed.load(Ordering::Acquire)
    }

    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::Acquire)
    }
}

/// Starts MQTT ingest with `settings` if they name a broker; the task ends after shutdown.
/// (Startup passes `mqtt` of the configuration; tests start it once their wards exist.)
pub fn spawn(state: AppState, settings: MqttSettings) -> Option<JoinHandle<()>> {
    let url = settings.url.clone()?;
    let broker = match parse_mqtt_url(&url) {
        Ok(b) => b,
        Err(e) => {
            // Validated at load; only reachable if the config was built by hand.
            tracing::error!(error = %e, "mqtt.url is invalid; MQTT ingest is off");
            return None;
        }
    };
    let handler = Arc::new(Handler {
        topics: Topics::new(&settings),
        credentials: Credentials::new(Duration::from_millis(settings.credential_cache_ms)),
        state: state.clone(),
    });
    let base_id = settings
        .client_id
        .clone()
        .unwrap_or_else(|| default_client_id(state.config.listen.port()));
    Some(tokio::spawn(async move {
        let connections = (1..=settings.connections).map(|n| {
            let options = options(&broker, &format!("{base_id}-{n}"), settings.clean_session);
            run_connection(handler.clone(), options)
        });
        futures::future::join_all(connections).await;
    }))
}

/// `docde-<host name>-<HTTP port>`: stable across restarts (so a persistent session finds its
/// instance again) and distinct for instances sharing a host (the broker disconnects the older
/// of two connections with one client id).
fn default_client_id(port: u16) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "local".into());
    format!("docde-{host}-{port}")
}

fn options(broker: &MqttBroker, client_id: &str, clean_session: bool) -> MqttOptions {
    let mut options = MqttOptions::new(client_id, broker.host.clone(), broker.port);
    options
        .set_manual_acks(true)
        .set_clean_session(clean_session)
        .set_keep_alive(Duration::from_secs(30))
        .set_max_packet_size(MAX_PACKET, MAX_PACKET);
    if let Some(user) = &broker.username {
        options.set_credentials(user.clone(), broker.password.clone().unwrap_or_default());
    }
    options
}

/// One message in the acker's queue: its handler, and the connection generation it came on.
struct Pending {
    publish: Publish,
    generation: u64,
    done: JoinHandle<Disposition>,
}

/// One supervised connection: (re)connects, subscribes, dispatches messages, and on shutdown
/// drains its acker before disconnecting.
async fn run_connection(handler: Arc<Handler>, options: MqttOptions) {
    let state = handler.state.clone();
    let status = &state.ward.mqtt;
    let client_id = options.client_id();
    let (client, mut eventloop) = AsyncClient::new(options, MAX_IN_HANDLERS);
    let generation = Arc::new(AtomicU64::new(0));
    let mut acker: Option<(mpsc::Sender<Pending>, JoinHandle<()>)> = None;
    let mut connected = false;
    let mut backoff = BACKOFF_MIN;
    loop {
        let event = tokio::select! {
            _ = state.shutdown.cancelled() => break,
            event = eventloop.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                backoff = BACKOFF_MIN;
                let current = generation.fetch_add(1, Ordering::AcqRel) + 1;
                acker = Some(spawn_acker(
                    client.clone(),
                    generation.clone(),
                    state.clone(),
                ));
                tracing::info!(
                    client_id,
                    session_present = ack.session_present,
                    generation = current,
                    "MQTT connected"
                );
                // One SUBSCRIBE for all topics, so one SUBACK says whether we are in business.
                let filters = handler
                    .topics
                    .subscriptions()
                    .into_iter()
                    .map(|t| SubscribeFilter::new(t, QoS::AtLeastOnce));
                if let Err(e) = client.subscribe_many(filters).await {
                    tracing::warn!(error = %e, "MQTT subscribe request failed");
                }
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                if ack
                    .return_codes
                    .iter()
                    .any(|c| matches!(c, SubscribeReasonCode::Failure))
                {
                    tracing::error!(
                        client_id,
                        "the MQTT broker refused a subscription (check its ACL)"
                    );
                } else if !connected {
                    connected = true;
                    status.subscribed.fetch_add(1, Ordering::AcqRel);
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                let Some((queue, _)) = &acker else { continue };
                let task = {
                    let handler = handler.clone();
                    let client = client.clone();
                    let topic = publish.topic.clone();
                    let payload = publish.payload.clone();
                    tokio::spawn(async move { handler.handle(&client, &topic, &payload).await })
                };
                let pending = Pending {
                    publish,
                    generation: generation.load(Ordering::Acquire),
                    done: task,
                };
                // The queue is as deep as the broker's in-flight window allows; waiting here
                // only slows reading, which is the back-pressure we want.
                if queue.send(pending).await.is_err() {
                    tracing::error!(client_id, "MQTT acker stopped");
                }
            }
            Ok(_) => {}
            Err(e) => {
                if connected {
                    connected = false;
                    status.subscribed.fetch_sub(1, Ordering::AcqRel);
                }
                // Acks still queued belong to the old connection: the acker drops them.
                generation.fetch_add(1, Ordering::AcqRel);
                acker = None;
                tracing::warn!(client_id, error = %e, retry_in_ms = backoff.as_millis() as u64, "MQTT connection lost");
                tokio::select! {
                    _ = state.shutdown.cancelled() => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
    // Shutdown: no new messages; let the acker finish what was received, keep polling so its
    // acks reach the broker, then say goodbye.
    if let Some((queue, task)) = acker {
        drop(queue);
        let drain = async {
            tokio::pin!(task);
            loop {
                tokio::select! {
                    _ = &mut task => break,
                    event = eventloop.poll() => if event.is_err() { break },
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_millis(1500), drain).await;
        let _ = client.try_disconnect();
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while eventloop.poll().await.is_ok() {}
        })
        .await;
    }
    if connected {
        status.subscribed.fetch_sub(1, Ordering::AcqRel);
    }
    tracing::info!(client_id, "MQTT ingest stopped");
}

/// Acks messages in arrival order, each once its handler says so, if the connection it came
/// on is still the current one.
fn spawn_acker(
    client: AsyncClient,
    generation: Arc<AtomicU64>,
    state: AppState,
) -> (mpsc::Sender<Pending>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Pending>(MAX_IN_HANDLERS);
    let task = tokio::spawn(async move {
        while let Some(pending) = rx.recv().await {
            let disposition = pending.done.await.unwrap_or_else(|e| {
                // A panicking handler: leave the message to be redelivered.
                tracing::error!(error = %e, "MQTT message handler failed");
                Disposition::Hold
            });
            state.ward.mqtt.handled.fetch_add(1, Ordering::AcqRel);
            let current = generation.load(Ordering::Acquire) == pending.generation;
            if disposition == Disposition::Ack
                && current
                && let Err(e) = client.ack(&pending.publish).await
            {
                tracing::warn!(error = %e, "MQTT ack could not be queued");
            }
        }
    });
    (tx, task)
}
