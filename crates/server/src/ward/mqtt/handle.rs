//! One MQTT message: route it by topic, authenticate the device by the secret it carries,
//! run it through the same ingest path as HTTP, and decide whether the message may be
//! acknowledged. It may be once its samples are committed, or once it is known to be
//! unusable (malformed JSON, bad credentials, an unknown bed): redelivering those would change
//! nothing. A database outage is retried here, and the message is left unacknowledged if the
//! instance stops meanwhile, so the broker delivers it again.
//!
//! Log lines carry ids and codes only: never payloads, secrets, values or QR codes.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use docde_domain::ward::RawSample;
use docde_domain::ward::legacy::LegacyPayload;
use docde_store::StoreError;
use docde_store::ward::{WardError, beds};
use rumqttc::{AsyncClient, QoS};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::credentials::Credentials;
use super::topics::{Route, Topics};
use crate::api::medication::DeliveryView;
use crate::auth::principal::DevicePrincipal;
use crate::state::AppState;
use crate::ward::MAX_BATCH;
use crate::ward::ingest::{ingest_legacy, ingest_raw};
use crate::ward::medication::{DeliveryError, deliver};

/// Attempts for an error that is neither an outage nor the message's fault, before the message
/// is dropped (acknowledged, counted and logged) rather than block its connection for good.
const MAX_ATTEMPTS: u32 = 5;

/// What to do with a message once handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Acknowledge (PUBACK): it is committed, or unusable.
    Ack,
    /// Leave unacknowledged: the instance is stopping before it could be committed.
    Hold,
}

/// Everything a message handler needs; shared by the connections of an instance.
pub struct Handler {
    pub state: AppState,
    pub topics: Topics,
    pub credentials: Credentials,
}

/// Why one attempt failed.
enum Failure {
    /// The database is unreachable: retry until it is back.
    Outage(String),
    /// Something else went wrong on our side: retry a few times.
    Internal(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Failure::Outage(e.to_string()),
            other => Failure::Internal(other.to_string()),
        }
    }
}

/// How a message ended, for metrics and the reply.
struct Handled {
    outcome: &'static str,
    /// Published to the device's results topic, if any.
    reply: Option<(Uuid, Value)>,
}

impl Handled {
    fn quiet(outcome: &'static str) -> Self {
        Self {
            outcome,
            reply: None,
        }
    }

    fn refused(outcome: &'static str, device: Uuid, status: u16, code: &str) -> Self {
        Self {
            outcome,
            reply: Some((device, json!({ "status": status, "code": code }))),
        }
    }
}

#[derive(Deserialize)]
struct SamplesMessage {
    #[serde(default)]
    secret: Option<String>,
    samples: Vec<RawSample>,
}

#[derive(Deserialize)]
struct DeliveryMessage {
    #[serde(default)]
    secret: Option<String>,
    #[serde(rename = "qrCode", alias = "qr_code")]
    qr_code: String,
}

impl Handler {
    /// Handles one message, retrying outages until it is committed or the instance stops.
    pub async fn handle(
        self: &Arc<Self>,
        client: &AsyncClient,
        topic: &str,
        payload: &[u8],
    ) -> Disposition {
        let route = self.topics.route(topic);
        let mut attempt = 0u32;
        let mut backoff = Duration::from_millis(50);
        loop {
            attempt += 1;
            let failure = match self.attempt(route, payload).await {
                Ok(handled) => {
                    metrics::counter!("mqtt_messages_total", "route" => route.kind(), "outcome" => handled.outcome)
                        .increment(1);
                    if let Some((device, body)) = handled.reply {
                        let topic = self.topics.results(device);
                        // Best effort: a full request queue drops the reply, never the message.
                        if client
                            .try_publish(topic, QoS::AtMostOnce, false, body.to_string())
                            .is_err()
                        {
                            metrics::counter!("mqtt_replies_dropped_total").increment(1);
                        }
                    }
                    return Disposition::Ack;
                }
                Err(failure) => failure,
            };
            let (kind, why) = match failure {
                Failure::Outage(why) => ("outage", why),
                Failure::Internal(why) if attempt >= MAX_ATTEMPTS => {
                    tracing::error!(route = route.kind(), error = %why, attempts = attempt,
                        "MQTT message dropped after repeated failures");
                    metrics::counter!("mqtt_messages_total", "route" => route.kind(), "outcome" => "failed")
                        .increment(1);
                    return Disposition::Ack;
                }
                Failure::Internal(why) => ("internal", why),
            };
            metrics::counter!("mqtt_retries_total").increment(1);
            if attempt == 1 || attempt.is_multiple_of(20) {
                tracing::warn!(route = route.kind(), error = %why, kind, attempt, "MQTT message not stored yet; retrying");
            }
            tokio::select! {
                _ = self.state.shutdown.cancelled() => {
                    metrics::counter!("mqtt_messages_total", "route" => route.kind(), "outcome" => "held")
                        .increment(1);
                    return Disposition::Hold;
                }
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    async fn attempt(&self, route: Route, payload: &[u8]) -> Result<Handled, Failure> {
        match route {
            Route::Samples(device) => self.samples(device, payload).await,
            Route::Delivery(device) => self.delivery(device, payload).await,
            Route::Legacy(ward) => self.legacy(ward, payload).await,
            Route::Unknown => Ok(Handled::quiet("unknown_topic")),
        }
    }

    async fn device(
        &self,
        id: Uuid,
        secret: Option<&str>,
    ) -> Result<Option<DevicePrincipal>, Failure> {
        let Some(secret) = secret.filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        Ok(self
            .credentials
            .verify(&self.state.store, id, secret)
            .await?)
    }

    async fn samples(&self, device_id: Uuid, payload: &[u8]) -> Result<Handled, Failure> {
        let Ok(message) = serde_json::from_slice::<SamplesMessage>(payload) else {
            return Ok(malformed(device_id));
        };
        if self
            .device(device_id, message.secret.as_deref())
            .await?
            .is_none()
        {
            return Ok(Handled::refused(
                "unauthorized",
                device_id,
                401,
                "invalid_device_credentials",
            ));
        }
        if message.samples.len() > MAX_BATCH {
            return Ok(Handled::refused(
                "invalid",
                device_id,
                422,
                "batch_too_large",
            ));
        }
        match ingest_raw(&self.state, device_id, &message.samples, Utc::now()).await {
            Ok(answer) => {
                metrics::counter!("mqtt_samples_rejected_total").increment(answer.rejected as u64);
                if answer.rejected == 0 {
                    let all_seen = answer.stored == 0 && answer.duplicates > 0;
                    return Ok(Handled::quiet(if all_seen {
                        "duplicate"
                    } else {
                        "stored"
                    }));
                }
                let mut body = serde_json::to_value(&answer).unwrap_or_default();
                body["status"] = json!(207);
                Ok(Handled {
                    outcome: "partial",
                    reply: Some((device_id, body)),
                })
            }
            Err(e) => ward_failure(e, device_id),
        }
    }

    async fn delivery(&self, device_id: Uuid, payload: &[u8]) -> Result<Handled, Failure> {
        let Ok(message) = serde_json::from_slice::<DeliveryMessage>(payload) else {
            return Ok(malformed(device_id));
        };
        let Some(device) = self.device(device_id, message.secret.as_deref()).await? else {
            return Ok(Handled::refused(
                "unauthorized",
                device_id,
                401,
                "invalid_device_credentials",
            ));
        };
        match deliver(&self.state, &device, &message.qr_code, Utc::now()).await {
            Ok(delivery) => {
                let mut body =
                    serde_json::to_value(DeliveryView::from(delivery)).unwrap_or_default();
                body["status"] = json!(200);
                Ok(Handled {
                    outcome: "stored",
                    reply: Some((device_id, body)),
                })
            }
            Err(DeliveryError::Store(e)) => Err(e.into()),
            Err(e @ DeliveryError::Unexpected(_)) => Err(Failure::Internal(e.to_string())),
            Err(e) => {
                let status = match e {
                    DeliveryError::UnknownCode => 404,
                    DeliveryError::AdmissionClosed => 409,
                    _ => 422,
                };
                Ok(Handled::refused("invalid", device_id, status, e.code()))
            }
        }
    }

    /// The predecessor's payload names a bed of the topic's ward; its samples are stored as
    /// the device bound to that bed. The topic itself is the credential (the Raspberry Pi
    /// publishers cannot send a secret): the broker must let only them publish there.
    async fn legacy(&self, ward_id: Uuid, payload: &[u8]) -> Result<Handled, Failure> {
        let Ok(message) = serde_json::from_slice::<LegacyPayload>(payload) else {
            tracing::info!(%ward_id, "malformed legacy MQTT message dropped");
            return Ok(Handled::quiet("malformed"));
        };
        let now = Utc::now();
        let reading = match message.to_samples(now) {
            Ok(reading) => reading,
            Err(problem) => {
                tracing::info!(%ward_id, code = problem.code(), "legacy MQTT message refused");
                return Ok(Handled::quiet("invalid"));
            }
        };
        let Some(bed) = beds::find_bed(&self.state.store, ward_id, &reading.bed).await? else {
            tracing::info!(%ward_id, "legacy MQTT message for a bed the ward does not have");
            return Ok(Handled::quiet("unknown_bed"));
        };
        let Some(device_id) = beds::device_of_bed(&self.state.store, bed.id).await? else {
            tracing::info!(%ward_id, bed_id = %bed.id, "legacy MQTT message for a bed without a device");
            return Ok(Handled::quiet("no_device"));
        };
        match ingest_legacy(&self.state, device_id, reading, now).await {
            Ok(answer) if answer.rejected > 0 => Ok(Handled::quiet("partial")),
            Ok(_) => Ok(Handled::quiet("stored")),
            Err(e) => ward_failure(e, device_id),
        }
    }
}

fn malformed(device_id: Uuid) -> Handled {
    tracing::info!(%device_id, "malformed MQTT message dropped");
    Handled::refused("malformed", device_id, 400, "malformed_json")
}

/// A refusal by a ward rule is final (acknowledged with a reply); a database error is retried.
fn ward_failure(e: WardError, device_id: Uuid) -> Result<Handled, Failure> {
    match e {
        WardError::Store(e) => Err(e.into()),
        WardError::Conflict(c) => Ok(Handled::refused("invalid", device_id, 409, c.code())),
        WardError::NotFound(what) => {
            tracing::info!(%device_id, what, "MQTT message refused: not found");
            Ok(Handled::refused("invalid", device_id, 404, "not_found"))
        }
    }
}
