//! MQTT ingest through the local Mosquitto (127.0.0.1:1883): samples with the device's
//! secret, refusals answered on the results topic, the predecessor's Raspberry Pi payload,
//! acknowledgement only after commit (a message received while the database is gone is held
//! and redelivered to the next instance), and two instances splitting a shared subscription.
//!
//! Every test uses its own topic prefix, share group and client ids, so tests running in
//! parallel (and the PostgreSQL run) never see each other's messages.

use std::collections::HashMap;
use std::time::Duration;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use uuid::Uuid;

use docde_domain::ward::VitalKind;
use docde_server::config::{LegacyTopic, MqttSettings};
use docde_store::ward::samples::{self, Subject};

use crate::helpers::{TestApp, external_backends, spawn_app, spawn_app_with, spawn_peer};
use crate::people::get;
use crate::ward::{Setup, ago, setup};

const BROKER: &str = "127.0.0.1:1883";

/// Whether the broker is there. Outside CI a missing broker skips the test with a line; in CI
/// (`CI=true`) it fails, so a broken CI set-up cannot pass silently.
pub fn broker_available(test: &str) -> bool {
    let address = BROKER.parse().expect("broker address");
    match std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1)) {
        Ok(_) => true,
        Err(e) => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "no MQTT broker at {BROKER} in CI: {e}"
            );
            println!("skipping {test}: no MQTT broker at {BROKER} ({e})");
            false
        }
    }
}

fn unique(what: &str) -> String {
    format!("{what}-{}", Uuid::now_v7().simple())
}

/// Settings of one test: its own prefix, group and client id.
pub fn settings() -> MqttSettings {
    MqttSettings {
        url: Some(format!("mqtt://{BROKER}")),
        client_id: Some(unique("docde-test")),
        clean_session: true,
        topic_prefix: format!("{}/v1", unique("test")),
        share_group: unique("g"),
        connections: 1,
        ..MqttSettings::default()
    }
}

/// Starts MQTT ingest on `app` and waits until its connections are subscribed.
pub async fn start_ingest(app: &TestApp, settings: &MqttSettings) {
    let before = app.state.ward.mqtt.connected();
    docde_server::ward::mqtt::spawn(app.state.clone(), settings.clone()).expect("mqtt.url is set");
    for _ in 0..200 {
        if app.state.ward.mqtt.connected() >= before + settings.connections {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("MQTT ingest did not subscribe within 10 s");
}

/// A device (or robot, or Raspberry Pi) on the broker, reading one results topic.
pub struct Publisher {
    client: AsyncClient,
    replies: mpsc::UnboundedReceiver<Value>,
}

impl Publisher {
    pub async fn connect(results: Option<String>) -> Self {
        Self::connect_as(&unique("device"), true, results).await
    }

    async fn connect_as(client_id: &str, clean_session: bool, results: Option<String>) -> Self {
        let host_port: Vec<&str> = BROKER.split(':').collect();
        let mut options = MqttOptions::new(client_id, host_port[0], host_port[1].parse().unwrap());
        options.set_clean_session(clean_session);
        let (client, mut eventloop) = AsyncClient::new(options, 64);
        let (tx, replies) = mpsc::unbounded_channel();
        let (ready_tx, mut ready) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = ready_tx.send(false);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = ready_tx.send(true);
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let value = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                        if tx.send(value).is_err() {
                            return;
                        }
                    }
                    Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return,
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
        assert_eq!(ready.recv().await, Some(false), "connected");
        if let Some(topic) = results {
            client.subscribe(topic, QoS::AtLeastOnce).await.unwrap();
            assert_eq!(ready.recv().await, Some(true), "subscribed");
        }
        Self { client, replies }
    }

    pub async fn publish(&self, topic: &str, body: Value) {
        self.publish_raw(topic, body.to_string().into_bytes()).await;
    }

    pub async fn publish_raw(&self, topic: &str, body: Vec<u8>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, body)
            .await
            .unwrap();
    }

    /// The next message on the results topic (or a failure after 10 s).
    pub async fn reply(&mut self) -> Value {
        tokio::time::timeout(Duration::from_secs(10), self.replies.recv())
            .await
            .expect("a reply on the results topic within 10 s")
            .expect("publisher still running")
    }

    pub async fn disconnect(self) {
        let _ = self.client.disconnect().await;
    }
}

/// The bed's newest value per kind, as the nurse station sees it.
async fn latest(app: &TestApp, s: &Setup) -> HashMap<String, f64> {
    let r = get(
        app,
        &format!("/api/v1/wards/{}/beds/live", s.p.ward1),
        &s.p.nurse.token,
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["beds"][0]["latest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_owned(),
                l["value"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// Waits (up to 10 s) until the bed's latest values include every `(kind, value)`.
async fn wait_for_latest(app: &TestApp, s: &Setup, want: &[(&str, f64)]) -> HashMap<String, f64> {
    let mut seen = HashMap::new();
    for _ in 0..100 {
        seen = latest(app, s).await;
        if want.iter().all(|(k, v)| seen.get(*k) == Some(v)) {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {want:?} among the latest values, saw {seen:?}");
}

fn samples_topic(settings: &MqttSettings, device: &str) -> String {
    format!("{}/devices/{device}/samples", settings.topic_prefix)
}

fn results_topic(settings: &MqttSettings, device: &str) -> String {
    format!("{}/devices/{device}/results", settings.topic_prefix)
}

/// A Prometheus counter summed over its label sets.
fn counter(name: &str, labels: &str) -> f64 {
    docde_server::metrics::recorder()
        .render()
        .lines()
        .filter(|l| l.starts_with(name) && l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn heart_rates(app: &TestApp, s: &Setup) -> usize {
    let from = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    let to = chrono::Utc::now() + chrono::TimeDelta::minutes(1);
    let patient = s.p.patient.id;
    samples::history(
        &app.state.store,
        Subject::Patient(patient),
        VitalKind::HeartRate,
        from,
        to,
        10_000,
    )
    .await
    .unwrap()
    .len()
}

#[tokio::test]
async fn samples_published_with_the_device_secret_are_stored_and_refusals_are_answered_on_the_results_topic()
 {
    if !broker_available("mqtt samples") {
        return;
    }
    let app = spawn_app().await;
    let s = setup(&app).await;
    let settings = settings();
    start_ingest(&app, &settings).await;
    let topic = samples_topic(&settings, &s.device.id);
    let mut device = Publisher::connect(Some(results_topic(&settings, &s.device.id))).await;

    device
        .publish(
            &topic,
            json!({"secret": "not the secret", "samples": [
                {"measured_at": ago(9), "kind": "respiratory_rate", "value": 30}]}),
        )
        .await;
    assert_eq!(
        device.reply().await,
        json!({"status": 401, "code": "invalid_device_credentials"})
    );
    device
        .publish(
            &topic,
            json!({"samples": [{"measured_at": ago(9), "kind": "respiratory_rate", "value": 30}]}),
        )
        .await;
    assert_eq!(device.reply().await["status"], 401, "no secret at all");
    device
        .publish_raw(&topic, b"{\"secret\": \"x\", ".to_vec())
        .await;
    assert_eq!(
        device.reply().await,
        json!({"status": 400, "code": "malformed_json"})
    );

    device
        .publish(
            &topic,
            json!({"secret": s.device.secret, "samples": [
                {"measured_at": ago(5), "kind": "heart_rate", "value": 72},
                {"measured_at": ago(5), "kind": "spo2", "value": 140}]}),
        )
        .await;
    let reply = device.reply().await;
    assert_eq!(reply["status"], 207);
    assert_eq!(
        (reply["stored"].as_u64(), reply["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(reply["results"][1]["code"], "out_of_range");

    device
        .publish(
            &topic,
            json!({"secret": s.device.secret, "samples": [
                {"measured_at": ago(4), "kind": "body_temperature", "value": 37.1, "unit": "Cel"}]}),
        )
        .await;
    let seen = wait_for_latest(
        &app,
        &s,
        &[("heart_rate", 72.0), ("body_temperature", 37.1)],
    )
    .await;
    assert!(
        !seen.contains_key("respiratory_rate"),
        "nothing from the refused messages was stored: {seen:?}"
    );
    device.disconnect().await;
}

#[tokio::test]
async fn the_predecessors_raspberry_pi_payload_on_a_ward_topic_becomes_samples_of_the_bed() {
    if !broker_available("mqtt legacy payload") {
        return;
    }
    let app = spawn_app().await;
    let s = setup(&app).await;
    let mut settings = settings();
    let legacy = format!("{}/antips/ward-a", settings.topic_prefix);
    settings.legacy_topics = vec![LegacyTopic {
        topic: legacy.clone(),
        ward_id: s.p.ward1,
    }];
    start_ingest(&app, &settings).await;
    let pi = Publisher::connect(None).await;

    pi.publish(
        &legacy,
        json!({"bedNumber": "999-9", "temperature": 39.0, "weight": -1}),
    )
    .await;
    pi.publish_raw(&legacy, b"temperature=37".to_vec()).await;
    pi.publish(
        &legacy,
        json!({"bedNumber": "101-1", "temperature": 37.8, "weight": 2}),
    )
    .await;
    let seen = wait_for_latest(&app, &s, &[("body_temperature", 37.8), ("iv_bag", 20.0)]).await;
    assert_eq!(seen.len(), 2, "{seen:?}");

    pi.publish(
        &legacy,
        json!({"bedNumber": "101-1", "temperature": -1, "weight": 1}),
    )
    .await;
    let seen = wait_for_latest(&app, &s, &[("iv_bag", 0.0)]).await;
    assert_eq!(seen["body_temperature"], 37.8, "-1 is no reading");
    pi.disconnect().await;
}

#[tokio::test]
async fn a_message_received_while_the_database_is_gone_is_not_acknowledged_and_the_next_instance_stores_it()
 {
    if !broker_available("mqtt ack after commit") {
        return;
    }
    let first = spawn_app().await;
    let s = setup(&first).await;
    let mut settings = settings();
    // A persistent session: what this client id received but did not acknowledge is kept by
    // the broker for its next connection.
    settings.clean_session = false;
    start_ingest(&first, &settings).await;
    let retries = counter("mqtt_retries_total", "");
    let held = counter("mqtt_messages_total", "outcome=\"held\"");

    first.state.store.close().await;
    let device = Publisher::connect(None).await;
    device
        .publish(
            &samples_topic(&settings, &s.device.id),
            json!({"secret": s.device.secret, "samples": [
                {"measured_at": ago(3), "kind": "heart_rate", "value": 88}]}),
        )
        .await;
    for _ in 0..100 {
        if counter("mqtt_retries_total", "") > retries {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        counter("mqtt_retries_total", "") > retries,
        "the instance received the message and could not store it"
    );
    first.shutdown.cancel();
    for _ in 0..100 {
        if first.state.ward.mqtt.connected() == 0
            && counter("mqtt_messages_total", "outcome=\"held\"") > held
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        counter("mqtt_messages_total", "outcome=\"held\"") > held,
        "stopping left the message unacknowledged"
    );

    // The next instance of the service: same database, same MQTT client id.
    let config = first.state.config.clone();
    let data_dir = first.data_dir.clone();
    let second = spawn_app_with(move |c| {
        c.data_dir = data_dir;
        c.database.url = config.database.url.clone();
        c.database.schema = config.database.schema.clone();
        c.redis.namespace = config.redis.namespace.clone();
        c.auth.signing_keys = config.auth.signing_keys.clone();
    })
    .await;
    assert_eq!(heart_rates(&second, &s).await, 0, "not stored before");
    start_ingest(&second, &settings).await;
    for _ in 0..100 {
        if heart_rates(&second, &s).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        heart_rates(&second, &s).await,
        1,
        "redelivered and stored once"
    );

    // Leave no session behind on the broker.
    second.shutdown.cancel();
    for _ in 0..100 {
        if second.state.ward.mqtt.connected() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let client_id = format!("{}-1", settings.client_id.as_deref().unwrap());
    Publisher::connect_as(&client_id, true, None)
        .await
        .disconnect()
        .await;
    device.disconnect().await;
}

#[tokio::test]
async fn two_instances_on_one_shared_subscription_store_each_message_once() {
    if !external_backends("mqtt shared subscription")
        || !broker_available("mqtt shared subscription")
    {
        return;
    }
    let a = spawn_app().await;
    let s = setup(&a).await;
    let b = spawn_peer(&a).await;
    let settings = settings();
    start_ingest(&a, &settings).await;
    let mut other = settings.clone();
    other.client_id = Some(unique("docde-test"));
    start_ingest(&b, &other).await;

    let device = Publisher::connect(None).await;
    let topic = samples_topic(&settings, &s.device.id);
    let messages = 40;
    for i in 0..messages {
        device
            .publish(
                &topic,
                json!({"secret": s.device.secret, "samples": [
                    {"measured_at": ago(100 - i), "kind": "heart_rate", "value": 60 + i}]}),
            )
            .await;
    }
    let handled = || a.state.ward.mqtt.handled() + b.state.ward.mqtt.handled();
    for _ in 0..100 {
        if handled() >= messages as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(handled(), messages as u64, "each message handled once");
    assert!(
        a.state.ward.mqtt.handled() > 0 && b.state.ward.mqtt.handled() > 0,
        "both instances took a share"
    );
    assert_eq!(heart_rates(&a, &s).await, messages as usize);
    device.disconnect().await;
}
