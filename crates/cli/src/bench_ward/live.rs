//! The live phase of `docde bench ward`: every bed's device sends its vitals once a second
//! (open loop, measured "now"), while nurse-station clients follow their ward's SSE stream;
//! each client measures, for every `vitals` event, the time from the sample's measurement (its
//! send) to the event's arrival — sample accepted → committed → logged → fanned out → read.
//! The first [`RAMP_UP`] seconds' samples are reported apart.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use docde_domain::account::Role;
use docde_server::AppState;
use docde_server::auth::keys::{AccessClaims, ISSUER};
use docde_store::accounts::hospitals;
use docde_store::accounts::sessions::{self, NewRefresh};
use docde_store::accounts::users::{self, NewUser};
use futures::StreamExt;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::simulate::{DeviceCredentials, Transport};

/// What the live phase measured.
pub struct LiveFigures {
    pub sent: u64,
    pub failed: u64,
    /// Sample → SSE arrival, per event and client, sorted, of samples measured after the
    /// ramp-up.
    pub lags: Vec<Duration>,
    /// The same for the ramp-up's samples (each stay's first evaluation: its first NEWS2,
    /// restoring its open alarms), sorted.
    pub ramp_lags: Vec<Duration>,
    /// The p99 lag of the samples measured in each second after the ramp-up, in order: where
    /// in the run the slow deliveries were.
    pub p99_by_second: Vec<Duration>,
    pub clients: usize,
    pub clients_failed: usize,
    /// How long the devices sent (ramp-up included).
    pub elapsed: Duration,
}

/// A nurse of the ward with a session and a signed access token (`Bearer …`).
async fn nurse_token(
    state: &AppState,
    hospital: Uuid,
    ward: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let id = Uuid::now_v7();
    let email = format!("bench-nurse-{}@bench.docde.kr", id.simple());
    let user = NewUser::active(&email, Role::Nurse, Some(hospital), "bench nurse");
    users::create(&state.store, id, &user, None, None, now).await?;
    hospitals::assign_nurse(&state.store, ward, id).await?;
    let refresh = NewRefresh {
        id: Uuid::now_v7(),
        secret_hash: docde_server::auth::secrets::sha256_hex(&Uuid::now_v7().to_string()),
        expires_at: now + TimeDelta::hours(12),
    };
    let session = sessions::start(&state.store, id, &refresh, now).await?;
    let claims = AccessClaims {
        sub: id,
        sid: session,
        role: Role::Nurse,
        hid: Some(hospital),
        typ: "access".into(),
        iss: ISSUER.into(),
        iat: now.timestamp(),
        exp: now.timestamp() + 12 * 3600,
    };
    Ok(format!("Bearer {}", state.auth.keys.sign(&claims)?))
}

/// Six vitals of a stable adult, measured `at`.
fn vitals(at: DateTime<Utc>, n: u64) -> Vec<Value> {
    let at = at.to_rfc3339_opts(SecondsFormat::Micros, true);
    let r = |kind: &str, value: f64, unit: &str| json!({"measured_at": at, "kind": kind, "value": value, "unit": unit});
    vec![
        r("heart_rate", 70.0 + (n % 7) as f64, "/min"),
        r("respiratory_rate", 14.0 + (n % 3) as f64, "/min"),
        r("spo2", 97.0 + (n % 2) as f64, "%"),
        r("body_temperature", 36.8, "Cel"),
        r("systolic_bp", 120.0 + (n % 5) as f64, "mm[Hg]"),
        r("diastolic_bp", 78.0, "mm[Hg]"),
    ]
}

/// `"measured_at":"…"` of the first sample in a `vitals` payload.
fn first_measured_at(data: &str) -> Option<DateTime<Utc>> {
    const KEY: &str = "\"measured_at\":\"";
    let start = data.find(KEY)? + KEY.len();
    let end = start + data[start..].find('"')?;
    data[start..end].parse().ok()
}

/// When a follower stops, and from when a sample's lag counts (before: the ramp-up's).
#[derive(Debug, Clone, Copy)]
struct Window {
    until: Instant,
    measure_from: DateTime<Utc>,
}

/// Follows the ward stream, recording each `vitals` event's lag: says when it is connected,
/// then waits for its [`Window`].
async fn follow(
    client: reqwest::Client,
    url: String,
    token: String,
    connected: tokio::sync::mpsc::Sender<()>,
    mut window: tokio::sync::watch::Receiver<Option<Window>>,
) -> anyhow::Result<(Vec<Duration>, Vec<(u32, Duration)>)> {
    let response = client
        .get(&url)
        .header("authorization", token)
        .header("accept", "text/event-stream")
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "ward stream answered {}",
        response.status()
    );
    let _ = connected.send(()).await;
    drop(connected);
    let Window {
        until,
        measure_from,
    } = (*window.wait_for(Option::is_some).await?).expect("waited for a window");
    let mut body = response.bytes_stream();
    let mut buffer = Vec::<u8>::new();
    let (mut ramp, mut lags) = (Vec::new(), Vec::new());
    let mut vitals = false;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let chunk = match tokio::time::timeout(left, body.next()).await {
            Err(_) | Ok(None) => break,
            Ok(Some(chunk)) => chunk?,
        };
        buffer.extend_from_slice(&chunk);
        // Every whole line of the buffer, then one drain: a chunk may carry a page of many
        // events, and draining line by line would move the rest of it each time.
        let mut start = 0;
        while let Some(end) = buffer[start..].iter().position(|&b| b == b'\n') {
            let line = String::from_utf8_lossy(&buffer[start..start + end]);
            start += end + 1;
            let line = line.trim_end();
            if let Some(name) = line.strip_prefix("event:") {
                vitals = name.trim() == "vitals";
            } else if let Some(data) = line.strip_prefix("data:")
                && vitals
            {
                let arrived = Utc::now();
                // The first sample's time, found without parsing the whole payload: 500
                // clients parsing every event would spend the shared cores on the generator.
                if let Some(at) = first_measured_at(data) {
                    let lag = (arrived - at).to_std().unwrap_or_default();
                    if at < measure_from {
                        ramp.push(lag);
                    } else {
                        let second = (at - measure_from).num_seconds() as u32;
                        lags.push((second, lag));
                    }
                }
            } else if line.is_empty() {
                vitals = false;
            }
        }
        buffer.drain(..start);
    }
    Ok((ramp, lags))
}

/// How long the devices send before lags count: every stay's first evaluation (its first
/// NEWS2 announced, its open alarms restored) falls in it, once per stay after a start, and
/// is reported apart.
const RAMP_UP: Duration = Duration::from_secs(2);

/// Runs the live phase for `seconds`: `clients` stream followers spread evenly over the
/// wards (station `i` follows ward `i % wards`, as a nurse of that ward), every device at 1 Hz.
pub async fn run(
    state: &AppState,
    url: &str,
    (hospital, wards): (Uuid, &[Uuid]),
    devices: &[DeviceCredentials],
    clients: usize,
    seconds: u64,
) -> anyhow::Result<LiveFigures> {
    let mut stations = Vec::with_capacity(wards.len());
    for ward in wards {
        let token = nurse_token(state, hospital, *ward, Utc::now()).await?;
        stations.push((format!("{url}/api/v1/wards/{ward}/events"), token));
    }
    // One connection per follower, as separate nurse stations would have. The devices start
    // once every follower is connected (or failed), so no event is sent before its station
    // listens and the connection storm is not in the figures.
    let (connected, mut connections) = tokio::sync::mpsc::channel(clients.max(1));
    let (window, windows) = tokio::sync::watch::channel(None);
    let mut followers = Vec::with_capacity(clients);
    for i in 0..clients {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let (stream_url, token) = &stations[i % stations.len()];
        followers.push(tokio::spawn(follow(
            client,
            stream_url.clone(),
            token.clone(),
            connected.clone(),
            windows.clone(),
        )));
    }
    drop(connected);
    let connecting = Instant::now();
    let mut listening = 0;
    while listening < clients
        && tokio::time::timeout(Duration::from_secs(60), connections.recv())
            .await
            .ok()
            .flatten()
            .is_some()
    {
        listening += 1;
    }
    println!(
        "live: {listening} of {clients} stations connected in {:.1} s",
        connecting.elapsed().as_secs_f64()
    );
    let until = Instant::now() + RAMP_UP + Duration::from_secs(seconds) + Duration::from_secs(1);
    let _ = window.send(Some(Window {
        until,
        measure_from: Utc::now() + RAMP_UP,
    }));

    // Every device once a second, spread evenly over the second (open loop).
    let transport = Arc::new(Transport::http(url)?);
    let start = Instant::now();
    let deadline = start + RAMP_UP + Duration::from_secs(seconds);
    let mut senders = Vec::with_capacity(devices.len());
    for (i, device) in devices.iter().enumerate() {
        let (transport, device) = (transport.clone(), device.clone());
        let offset = Duration::from_secs(1).mul_f64(i as f64 / devices.len() as f64);
        senders.push(tokio::spawn(async move {
            let (mut sent, mut failed) = (0u64, 0u64);
            let mut tick =
                tokio::time::interval_at((start + offset).into(), Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            loop {
                tick.tick().await;
                if Instant::now() >= deadline {
                    break;
                }
                let ok = matches!(
                    transport.send(&device, vitals(Utc::now(), sent)).await,
                    Ok(o) if o.stored == 6
                );
                sent += 1;
                failed += u64::from(!ok);
            }
            (sent, failed)
        }));
    }
    let (mut sent, mut failed) = (0, 0);
    // The devices send until the deadline (open loop): the nominal span is the rate's.
    let elapsed = deadline - start;
    for s in senders {
        let (n, f) = s.await?;
        sent += n;
        failed += f;
    }
    let (mut ramp_lags, mut lags) = (Vec::new(), Vec::new());
    let mut clients_failed = 0;
    for f in followers {
        match f.await? {
            Ok((r, l)) => {
                ramp_lags.extend(r);
                lags.extend(l);
            }
            Err(e) => {
                clients_failed += 1;
                if clients_failed == 1 {
                    eprintln!("a stream follower failed: {e:#}");
                }
            }
        }
    }
    let mut by_second: Vec<Vec<Duration>> = Vec::new();
    for &(second, lag) in &lags {
        let second = second as usize;
        if by_second.len() <= second {
            by_second.resize_with(second + 1, Vec::new);
        }
        by_second[second].push(lag);
    }
    let p99_by_second = by_second
        .into_iter()
        .map(|mut l| {
            l.sort_unstable();
            crate::bench::quantile(&l, 0.99)
        })
        .collect();
    let mut lags: Vec<Duration> = lags.into_iter().map(|(_, lag)| lag).collect();
    lags.sort_unstable();
    ramp_lags.sort_unstable();
    Ok(LiveFigures {
        sent,
        failed,
        lags,
        ramp_lags,
        p99_by_second,
        clients,
        clients_failed,
        elapsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_samples_time_is_read_from_a_vitals_payload() {
        let data = r#"{"admission_id":null,"samples":[{"kind":"heart_rate","measured_at":"2026-12-02T16:56:31.123456Z","unit":"/min","value":71.0},{"kind":"spo2","measured_at":"2026-12-02T16:56:32Z"}]}"#;
        assert_eq!(
            first_measured_at(data),
            Some("2026-12-02T16:56:31.123456Z".parse().unwrap())
        );
        assert_eq!(first_measured_at(r#"{"samples":[]}"#), None);
        assert_eq!(first_measured_at(r#"{"measured_at":"soon"}"#), None);
    }
}
