//! How simulated devices reach the server: HTTP with Basic credentials, or MQTT with the
//! secret in the message (docs/API.md "MQTT ingest").

use anyhow::Context;
use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::DeviceCredentials;

/// What the server said about one report (MQTT: sent is all we know).
pub struct Outcome {
    pub stored: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

/// Options for a client of the broker at `url` (`mqtt://[user:password@]host:port`), with a
/// fresh client id starting with `id_prefix`.
pub fn mqtt_options(url: &str, id_prefix: &str) -> anyhow::Result<MqttOptions> {
    let broker = docde_server::config::parse_mqtt_url(url)
        .map_err(|e| anyhow::anyhow!("--mqtt-url: {e}"))?;
    let id = format!("{id_prefix}-{}", uuid::Uuid::now_v7().simple());
    let mut options = MqttOptions::new(id, broker.host, broker.port);
    options.set_keep_alive(std::time::Duration::from_secs(30));
    if let Some(user) = broker.username {
        options.set_credentials(user, broker.password.unwrap_or_default());
    }
    Ok(options)
}

pub enum Transport {
    Http {
        client: reqwest::Client,
        base: String,
    },
    Mqtt {
        client: AsyncClient,
        prefix: String,
        eventloop: JoinHandle<()>,
    },
}

impl Transport {
    pub fn http(base: &str) -> anyhow::Result<Self> {
        Ok(Transport::Http {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()?,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// One connection for all simulated devices (each publishes to its own topic).
    pub async fn mqtt(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let mut options = mqtt_options(url, "docde-simulate")?;
        options.set_inflight(1000);
        let (client, mut eventloop) = AsyncClient::new(options, 10_000);
        let (ready_tx, ready) = tokio::sync::oneshot::channel();
        let mut ready_tx = Some(ready_tx);
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        if let Some(tx) = ready_tx.take() {
                            let _ = tx.send(());
                        }
                    }
                    // `close` sent it: the broker's hang-up that follows is no error.
                    Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("MQTT: {e}; reconnecting");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        tokio::time::timeout(std::time::Duration::from_secs(10), ready)
            .await
            .context("the MQTT broker did not answer in 10 s")?
            .context("MQTT connection ended")?;
        Ok(Transport::Mqtt {
            client,
            prefix: prefix.trim_end_matches('/').to_owned(),
            eventloop: task,
        })
    }

    pub async fn send(
        &self,
        device: &DeviceCredentials,
        samples: Vec<Value>,
    ) -> anyhow::Result<Outcome> {
        match self {
            Transport::Http { client, base } => {
                let r = client
                    .post(format!("{base}/api/v1/devices/{}/samples", device.id))
                    .basic_auth(device.id, Some(&device.secret))
                    .json(&json!({ "samples": samples }))
                    .send()
                    .await?;
                let status = r.status();
                anyhow::ensure!(
                    status.as_u16() == 200 || status.as_u16() == 207,
                    "HTTP {status}"
                );
                let body: Value = r.json().await?;
                Ok(Outcome {
                    stored: body["stored"].as_u64().unwrap_or(0),
                    duplicates: body["duplicates"].as_u64().unwrap_or(0),
                    rejected: body["rejected"].as_u64().unwrap_or(0),
                })
            }
            Transport::Mqtt { client, prefix, .. } => {
                let body = json!({ "secret": device.secret, "samples": samples });
                client
                    .publish(
                        format!("{prefix}/devices/{}/samples", device.id),
                        QoS::AtLeastOnce,
                        false,
                        body.to_string(),
                    )
                    .await?;
                Ok(Outcome {
                    stored: 0,
                    duplicates: 0,
                    rejected: 0,
                })
            }
        }
    }

    pub async fn close(&self) {
        if let Transport::Mqtt {
            client, eventloop, ..
        } = self
        {
            let _ = client.disconnect().await;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            eventloop.abort();
        }
    }
}
