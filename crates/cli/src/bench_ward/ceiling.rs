//! What the machine carries when the server does no work per message: the ceilings the ingest
//! phases are read against.
//!
//! - HTTP: `GET /healthz` closed loop with as many clients as the ingest phases, through the
//!   same client library. A one-sample ingest request cannot cost less than a request that does
//!   nothing, so its rate is a bound for one sample per request on this machine.
//! - MQTT: the same publisher and payloads through the same broker to a subscriber that only
//!   acknowledges (no server in the path). That is the bound for one sample per message.
//!
//! Both run on the same cores as the server and the load generator, like the ingest phases.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use rumqttc::{AsyncClient, Event, Packet, QoS};

use crate::simulate::{DeviceCredentials, Transport};

/// `GET {url}/healthz` by `clients` closed-loop clients for `seconds`: answered requests/s.
pub async fn healthz(url: &str, clients: usize, seconds: u64) -> anyhow::Result<f64> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let target = format!("{url}/healthz");
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut workers = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (client, target) = (client.clone(), target.clone());
        workers.push(tokio::spawn(async move {
            let mut ok = 0u64;
            while Instant::now() < deadline {
                if let Ok(r) = client.get(&target).send().await
                    && r.status().is_success()
                    && r.bytes().await.is_ok()
                {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for w in workers {
        ok += w.await?;
    }
    Ok(ok as f64 / start.elapsed().as_secs_f64())
}

/// Messages like the MQTT phase's (one sample each, every device in turn, at most `window`
/// unreceived) published for `seconds` to topics under `prefix` that only a subscriber which
/// acknowledges and counts reads: received messages/s.
pub async fn mqtt_noop(
    url: &str,
    prefix: &str,
    devices: &[DeviceCredentials],
    window: u64,
    seconds: u64,
    sample: impl Fn() -> Vec<serde_json::Value>,
) -> anyhow::Result<f64> {
    let mut options = crate::simulate::transport::mqtt_options(url, "docde-bench-noop")?;
    options.set_clean_session(true);
    let (subscriber, mut eventloop) = AsyncClient::new(options, 1_000);
    let received = Arc::new(AtomicU64::new(0));
    let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
    let counter = received.clone();
    let task = tokio::spawn(async move {
        let mut subscribed_tx = Some(subscribed_tx);
        loop {
            match eventloop.poll().await {
                // rumqttc acknowledges each QoS 1 publish as it reads it.
                Ok(Event::Incoming(Packet::Publish(_))) => {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    if let Some(tx) = subscribed_tx.take() {
                        let _ = tx.send(());
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    subscriber
        .subscribe(format!("{prefix}/#"), QoS::AtLeastOnce)
        .await?;
    tokio::time::timeout(Duration::from_secs(10), subscribed)
        .await
        .context("the broker did not confirm the no-op subscription in 10 s")??;

    let publisher = Transport::mqtt(url, prefix).await?;
    let start = Instant::now();
    let published = super::publish_in_window(
        &publisher,
        devices,
        window,
        seconds,
        || received.load(Ordering::Relaxed),
        sample,
    )
    .await?;
    while received.load(Ordering::Relaxed) < published
        && start.elapsed() < Duration::from_secs(seconds * 3 + 10)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rate = received.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    publisher.close().await;
    let _ = subscriber.disconnect().await;
    task.abort();
    Ok(rate)
}

/// Samples per second one core gets through the JSON work no design of the server can skip for
/// batched HTTP ingest: (encode, decode). Encode is the cheapest a client can do (typed
/// structs, no intermediate JSON values), decode is what the server does with a body before
/// anything is stored (the endpoint's `SampleBatch`, then `Sample::parse` per sample). Both
/// run on this thread over `rounds` bodies of `samples`.
pub fn codec(samples: &[serde_json::Value], rounds: usize) -> anyhow::Result<(f64, f64)> {
    use docde_domain::ward::{RawSample, Sample};
    use docde_server::api::ward_ingest::SampleBatch;

    #[derive(serde::Serialize)]
    struct Body<'a> {
        samples: &'a [RawSample],
    }
    let raw: Vec<RawSample> = samples
        .iter()
        .map(|s| serde_json::from_value(s.clone()))
        .collect::<Result<_, _>>()?;
    let n = (raw.len() * rounds) as f64;

    let start = Instant::now();
    let mut body = Vec::new();
    for _ in 0..rounds {
        body.clear();
        serde_json::to_writer(&mut body, &Body { samples: &raw })?;
        std::hint::black_box(&body);
    }
    let encode = n / start.elapsed().as_secs_f64();

    let now = chrono::Utc::now();
    let start = Instant::now();
    let mut valid = 0usize;
    for _ in 0..rounds {
        let batch: SampleBatch = serde_json::from_slice(std::hint::black_box(&body))?;
        valid += batch
            .samples
            .iter()
            .filter(|s| Sample::parse(s, now, docde_server::ward::FUTURE_TOLERANCE).is_ok())
            .count();
    }
    let decode = n / start.elapsed().as_secs_f64();
    anyhow::ensure!(
        valid == raw.len() * rounds,
        "the bench's own samples must be valid"
    );
    Ok((encode, decode))
}
