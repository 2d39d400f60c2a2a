//! The clients of the multi-instance test: patients booking (retrying with their
//! Idempotency-Key when a connection breaks or the answer is 502/503/504, and following
//! tickets to their outcome), bedside monitors reporting vitals, an MQTT publisher.
//! Every loop is bounded in count and time.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{SecondsFormat, TimeDelta, Utc};
use futures::StreamExt;
use serde_json::{Value, json};

/// A bedside device's credentials.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    pub secret: String,
}

/// A free slot as the availability API wrote it.
#[derive(Debug, Clone)]
pub struct Slot {
    pub starts_at: String,
}

/// HTTP against one base URL (nginx or an instance).
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

/// How a set of booking requests went.
#[derive(Debug, Default)]
pub struct Booked {
    /// Appointment ids of 201/200 answers and of tickets booked.
    pub acknowledged: HashSet<String>,
    /// 202 answers (each followed to its outcome).
    pub tickets: usize,
    /// 409/422 answers (and ticket outcomes) by code.
    pub refused: usize,
    /// Retries after a broken connection or 502/503/504.
    pub retries: usize,
    /// Requests that ended in anything else.
    pub failed: usize,
    pub failures: Vec<String>,
}

impl Booked {
    pub fn print(&self, what: &str) {
        println!(
            "  {what}: {} bookings acknowledged ({} via tickets), {} refused (slot_full/patient_overlap), {} retries, {} failed",
            self.acknowledged.len(),
            self.tickets,
            self.refused,
            self.retries,
            self.failed
        );
    }
}

/// How a set of sample batches went.
#[derive(Debug, Default)]
pub struct Reported {
    pub batches: usize,
    /// Samples newly stored according to the 200 answers.
    pub stored: usize,
    pub retries: usize,
    pub failed: usize,
    pub failures: Vec<String>,
}

impl Reported {
    pub fn print(&self, what: &str) {
        println!(
            "  {what}: {} sample batches answered 200 ({} samples newly stored), {} retries, {} failed",
            self.batches, self.stored, self.retries, self.failed
        );
    }
}

enum Outcome {
    Booked(String),
    Ticket(String),
    Refused,
    Failed(String),
}

/// Attempts per request; 200 ms apart, so a request gives up after about 10 s.
const ATTEMPTS: usize = 50;

fn retryable(status: u16) -> bool {
    matches!(status, 502..=504)
}

/// One nurse call, pressed now.
pub fn nurse_call() -> Value {
    json!([{"measured_at": ago_ms(0), "kind": "nurse_call", "value": true}])
}

fn ago_ms(ms: i64) -> String {
    (Utc::now() - TimeDelta::milliseconds(ms)).to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Api {
    pub fn new(base: String) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .connect_timeout(Duration::from_secs(2))
                .build()
                .unwrap(),
            base,
        }
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let r = self
            .http
            .post(format!("{}/api/v1/auth/sign-in", self.base))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "sign-in of {email}: {body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn free_slots(&self, doctor: &str) -> Vec<Slot> {
        let today = Utc::now().date_naive();
        let to = today + chrono::Days::new(13);
        let r = self
            .http
            .get(format!(
                "{}/api/v1/doctors/{doctor}/availability?from={today}&to={to}&only_free=true",
                self.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        // Leave an hour of margin, so no slot closes while the scenarios run.
        let soon = Utc::now() + TimeDelta::hours(1);
        body["slots"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["free"].as_i64().unwrap_or(1) > 0)
            .filter_map(|s| s["starts_at"].as_str())
            .filter(|at| {
                chrono::DateTime::parse_from_rfc3339(at).is_ok_and(|t| t.with_timezone(&Utc) > soon)
            })
            .map(|at| Slot {
                starts_at: at.to_owned(),
            })
            .collect()
    }

    /// Every patient asks for every slot (at most 32 requests in flight): each one-seat slot
    /// is contested by all of them.
    pub async fn storm(&self, patients: &[String], doctor: &str, slots: &[Slot]) -> Booked {
        let mut requests = Vec::new();
        for slot in slots {
            for patient in patients {
                requests.push((patient.clone(), slot.starts_at.clone()));
            }
        }
        let results: Vec<(Outcome, usize)> = futures::stream::iter(requests)
            .map(|(patient, at)| {
                let api = self.clone();
                let doctor = doctor.to_owned();
                async move { api.book(&patient, &doctor, &at).await }
            })
            .buffer_unordered(32)
            .collect()
            .await;
        let mut booked = Booked::default();
        let mut tickets = Vec::new();
        for (outcome, retries) in results {
            booked.retries += retries;
            match outcome {
                Outcome::Booked(id) => {
                    booked.acknowledged.insert(id);
                }
                Outcome::Ticket(t) => tickets.push(t),
                Outcome::Refused => booked.refused += 1,
                Outcome::Failed(why) => {
                    booked.failed += 1;
                    booked.failures.push(why);
                }
            }
        }
        booked.tickets = tickets.len();
        for ticket in tickets {
            match self.ticket_outcome(&ticket).await {
                Outcome::Booked(id) => {
                    booked.acknowledged.insert(id);
                }
                Outcome::Refused => booked.refused += 1,
                Outcome::Ticket(_) => unreachable!(),
                Outcome::Failed(why) => {
                    booked.failed += 1;
                    booked.failures.push(why);
                }
            }
        }
        booked
    }

    async fn book(&self, patient: &str, doctor: &str, at: &str) -> (Outcome, usize) {
        let key = uuid::Uuid::new_v4().to_string();
        let body = json!({"doctor_id": doctor, "starts_at": at, "reason": "다중 인스턴스 시험"});
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let sent = self
                .http
                .post(format!("{}/api/v1/appointments", self.base))
                .bearer_auth(patient)
                .header("Idempotency-Key", &key)
                .json(&body)
                .send()
                .await;
            let r = match sent {
                Ok(r) => r,
                Err(e) => {
                    last = format!("POST booking: {e}");
                    continue;
                }
            };
            let status = r.status().as_u16();
            let answer: Value = r.json().await.unwrap_or(Value::Null);
            let outcome = match status {
                200 | 201 => Outcome::Booked(answer["id"].as_str().unwrap_or_default().to_owned()),
                202 => Outcome::Ticket(answer["id"].as_str().unwrap_or_default().to_owned()),
                409 if matches!(
                    answer["code"].as_str(),
                    Some("slot_full" | "patient_overlap")
                ) =>
                {
                    Outcome::Refused
                }
                s if retryable(s) => {
                    last = format!("POST booking: {s} {answer}");
                    continue;
                }
                s => Outcome::Failed(format!("POST booking: {s} {answer}")),
            };
            // A ticket is followed as its patient.
            if let Outcome::Ticket(t) = outcome {
                return (Outcome::Ticket(format!("{t} {patient}")), attempt);
            }
            return (outcome, attempt);
        }
        (Outcome::Failed(last), ATTEMPTS)
    }

    /// Polls a ticket (`<id> <patient token>`, at most 60 s) until it is done.
    async fn ticket_outcome(&self, patient_ticket: &str) -> Outcome {
        let (ticket, patient) = patient_ticket.split_once(' ').unwrap();
        let mut last = String::new();
        for _ in 0..300 {
            let answer = self
                .http
                .get(format!("{}/api/v1/booking-tickets/{ticket}", self.base))
                .bearer_auth(patient)
                .send()
                .await;
            if let Ok(r) = answer
                && r.status() == 200
                && let Ok(body) = r.json::<Value>().await
            {
                if body["status"] == "done" {
                    let outcome = &body["outcome"];
                    return match outcome["status"].as_u64() {
                        Some(201) => Outcome::Booked(
                            outcome["appointment_id"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned(),
                        ),
                        Some(409) => Outcome::Refused,
                        _ => Outcome::Failed(format!("ticket {ticket}: {body}")),
                    };
                }
                last = body.to_string();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Outcome::Failed(format!("ticket {ticket} not done after 60 s: {last}"))
    }

    /// One sample batch from a device; the status (None: no answer).
    pub async fn report(&self, device: &Device, samples: &Value) -> Option<u16> {
        self.send_samples(device, samples)
            .await
            .ok()
            .map(|(s, _)| s)
    }

    async fn send_samples(&self, device: &Device, samples: &Value) -> Result<(u16, Value), String> {
        let r = self
            .http
            .post(format!(
                "{}/api/v1/devices/{}/samples",
                self.base, device.id
            ))
            .basic_auth(&device.id, Some(&device.secret))
            .json(&json!({ "samples": samples }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    /// `batches` heart-rate samples per device, one batch every `every`, retried (idempotent:
    /// device, kind and measured_at) when the connection breaks or the answer is 502/503/504.
    pub async fn vitals(&self, devices: &[Device], batches: usize, every: Duration) -> Reported {
        let runs = devices.iter().cloned().map(|device| {
            let api = self.clone();
            async move {
                let mut report = Reported::default();
                let mut tick = tokio::time::interval(every);
                for i in 0..batches {
                    tick.tick().await;
                    let samples = json!([{
                        "measured_at": ago_ms(0),
                        "kind": "heart_rate",
                        "value": 70 + (i % 9) as i64,
                        "unit": "/min"
                    }]);
                    let mut done = false;
                    let mut last = String::new();
                    for attempt in 0..ATTEMPTS {
                        if attempt > 0 {
                            report.retries += 1;
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        match api.send_samples(&device, &samples).await {
                            Ok((200, body)) => {
                                report.batches += 1;
                                report.stored += body["stored"].as_u64().unwrap_or(0) as usize;
                                done = true;
                                break;
                            }
                            Ok((s, body)) if retryable(s) => last = format!("{s} {body}"),
                            Ok((s, body)) => {
                                last = format!("{s} {body}");
                                break;
                            }
                            Err(e) => last = e,
                        }
                    }
                    if !done {
                        report.failed += 1;
                        report
                            .failures
                            .push(format!("samples of {}: {last}", device.id));
                    }
                }
                report
            }
        });
        let mut total = Reported::default();
        for r in futures::future::join_all(runs).await {
            total.batches += r.batches;
            total.stored += r.stored;
            total.retries += r.retries;
            total.failed += r.failed;
            total.failures.extend(r.failures);
        }
        total
    }

    /// `<status> <body>` of /readyz, polled up to 5 s for a non-200 answer (or the last one).
    pub async fn readyz(&self) -> String {
        let mut last = String::new();
        for _ in 0..50 {
            last = self.readyz_once().await;
            if !last.starts_with("200") {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        last
    }

    pub async fn readyz_once(&self) -> String {
        match self.http.get(format!("{}/readyz", self.base)).send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                format!("{status} {}", r.text().await.unwrap_or_default())
            }
            Err(e) => format!("no answer ({e})"),
        }
    }

    /// One request: status, content type and problem `code` (empty if none).
    pub async fn problem_of(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Value,
    ) -> (u16, String, String) {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "POST" => self
                .http
                .post(url)
                .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                .json(&body),
            _ => self.http.get(url),
        };
        match request.bearer_auth(token).send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let ct = r
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                (
                    status,
                    ct,
                    body["code"].as_str().unwrap_or_default().to_owned(),
                )
            }
            Err(e) => (0, String::new(), format!("no answer: {e}")),
        }
    }
}

/// Publishes one sample batch for `device` with QoS 1 and waits for the broker's PUBACK.
pub async fn mqtt_publish(port: u16, device: &Device, samples: &Value) {
    use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};
    let options = MqttOptions::new(
        format!("e2e-device-{}", uuid::Uuid::new_v4().simple()),
        "127.0.0.1",
        port,
    );
    let (client, mut eventloop) = AsyncClient::new(options, 16);
    let topic = format!("docde/v1/devices/{}/samples", device.id);
    let payload = json!({"secret": device.secret, "samples": samples}).to_string();
    client
        .publish(topic, QoS::AtLeastOnce, false, payload.into_bytes())
        .await
        .unwrap();
    let acked = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => return true,
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => return false,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert_eq!(
        acked,
        Ok(true),
        "the broker did not acknowledge the publish"
    );
    let _ = client.disconnect().await;
}
