//! `docde bench ward`: sample ingest against an in-process server on the embedded default (or
//! the database in `DOCDE_DATABASE_URL`): HTTP batches of 100 samples, HTTP one sample per
//! request, and MQTT messages through the broker, each closed-loop for `--seconds`; then the
//! database is counted against what was acknowledged (nothing acknowledged may be missing).
//! Alarm evaluation is on (the values are normal, so it finds nothing to raise). The live phase
//! ([`live`]) measures sample → SSE latency with nurse-station clients following the ward; the
//! ceiling phases ([`ceiling`]) what the machine carries with no server work, to read the
//! ingest figures against.

mod ceiling;
mod live;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, TimeDelta, Utc};
use clap::Args;
use docde_domain::account::Role;
use docde_domain::ward::BedLabel;
use docde_server::{Application, Config};
use docde_store::accounts::devices::{self, NewDevice};
use docde_store::accounts::hospitals;
use docde_store::accounts::users::{self, NewUser};
use docde_store::ward::admissions::{self, NewAdmission};
use docde_store::ward::beds;
use serde_json::json;
use uuid::Uuid;

use crate::bench::{cores, report};
use crate::simulate::{DeviceCredentials, Transport};

#[derive(Debug, Args)]
pub struct WardArgs {
    /// Devices (each a bed with an admitted patient); one HTTP client per device.
    #[arg(long, default_value_t = 64)]
    devices: usize,
    /// Duration of each phase, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Also measure MQTT through this broker (skipped when unreachable).
    #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
    mqtt_url: String,
    /// The server's connections to the broker (`mqtt.connections`). Each carries at most the
    /// broker's `max_inflight_messages` unacknowledged messages (Mosquitto: 20 by default,
    /// 200 in deploy/mosquitto.conf), and a message is acknowledged only after its commit.
    #[arg(long, default_value_t = 4,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    mqtt_connections: usize,
    /// Messages the publisher keeps unhandled at most. Keep it below the broker's
    /// `max_queued_messages` (Mosquitto: 1,000 by default), which drops the rest.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(1..))]
    mqtt_window: u64,
    /// Nurse-station clients following the ward's SSE stream in the live phase.
    #[arg(long, default_value_t = 500)]
    sse_clients: usize,
    /// Seconds of the live phase (every device sends 6 vitals once a second); 0 skips it.
    #[arg(long, default_value_t = 10)]
    live_seconds: u64,
    /// Seconds of each ceiling phase (0 skips them): `GET /healthz` with as many clients as
    /// the HTTP phases, and MQTT to a subscriber that only acknowledges — what this machine
    /// carries with no server work per message, the bound for one sample per request/message.
    /// With them, one core's JSON encode and decode of 20,000 bodies of 100 samples.
    #[arg(long, default_value_t = 3)]
    ceiling_seconds: u64,
    /// Skip the closed-loop HTTP and MQTT ingest phases (run only the live phase).
    #[arg(long)]
    live_only: bool,
    /// Beds per ward: the devices' beds fill wards of this size, and the live phase's
    /// nurse stations are spread evenly over the wards, each following its own ward (a
    /// station shows one ward). A value ≥ `--devices` puts every bed in one ward.
    #[arg(long, default_value_t = 40)]
    beds_per_ward: usize,
}

const SECRET_PREFIX: &str = "bench-ward-secret-";

pub async fn run(args: WardArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_owned(),
        ..Config::default()
    };
    config.log.filter = "warn".into();
    // The server runs in this process: its log goes to stderr only when asked for (e.g.
    // `DOCDE_LOG_FILTER=warn,sqlx::query=debug` shows every statement).
    if let Ok(filter) = std::env::var("DOCDE_LOG_FILTER") {
        config.log.filter = filter;
        docde_server::telemetry::init(&config.log);
    }
    config.http.body_limit_bytes = 4 * 1024 * 1024;
    if let Ok(url) = std::env::var("DOCDE_DATABASE_URL") {
        config.database.url = Some(url);
        config.database.schema = Some(format!("bench_{}", Uuid::now_v7().simple()));
        config.auth.signing_keys = vec![format!("b:{}", Uuid::now_v7().simple())];
        // PostgreSQL requires the records' master key in configuration (every instance must
        // read records); this run's own schema gets a key of its own.
        config.records.master_keys = vec![docde_server::records::master::generate_entry()];
    }
    let prefix = format!("bench-{}/v1", Uuid::now_v7().simple());
    let mqtt = docde_server::config::parse_mqtt_url(&args.mqtt_url)
        .ok()
        .filter(|b| std::net::TcpStream::connect((b.host.as_str(), b.port)).is_ok());
    if mqtt.is_some() {
        config.mqtt.url = Some(args.mqtt_url.clone());
        config.mqtt.topic_prefix = prefix.clone();
        config.mqtt.client_id = Some(format!("docde-bench-{}", Uuid::now_v7().simple()));
        config.mqtt.clean_session = true;
        config.mqtt.connections = args.mqtt_connections;
    }
    let schema = config.database.schema.clone();
    let database = config.clone();
    let app = Application::build(config).await?;
    let url = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());
    let result: anyhow::Result<()> = async {
        anyhow::ensure!(args.beds_per_ward > 0, "--beds-per-ward must be at least 1");
        let (place, devices) = seed(&state, args.devices, args.beds_per_ward).await?;
        println!(
            "ward ingest · {} devices in {} wards · {} · {} cores · alarm evaluation on",
            devices.len(),
            place.1.len(),
            state.store.dialect(),
            cores()
        );
        // Measurement times: distinct per (device, sample), an hour back, so nothing is a
        // duplicate and nothing is in the future.
        let base = Utc::now() - TimeDelta::hours(1);
        let clock = Arc::new(AtomicU64::new(0));
        let transport = Arc::new(Transport::http(&url)?);
        let mut acknowledged = 0u64;
        // One sample per request: requests/s (read against the /healthz ceiling).
        let mut single_rate = None;
        let batches: &[usize] = if args.live_only { &[] } else { &[100, 1] };
        for &batch in batches {
            let start = Instant::now();
            let deadline = start + Duration::from_secs(args.seconds);
            let mut workers = Vec::new();
            for device in &devices {
                let (transport, clock, device) = (transport.clone(), clock.clone(), device.clone());
                workers.push(tokio::spawn(async move {
                    let mut out = Vec::new();
                    let mut stored = 0u64;
                    while Instant::now() < deadline {
                        let samples = samples(base, &clock, batch);
                        let sent = Instant::now();
                        let ok = match transport.send(&device, samples).await {
                            Ok(o) => {
                                stored += o.stored;
                                o.stored == batch as u64
                            }
                            Err(_) => false,
                        };
                        out.push((sent.elapsed(), ok));
                    }
                    (out, stored)
                }));
            }
            let mut latencies = Vec::new();
            let mut failures = 0;
            let mut stored = 0;
            for w in workers {
                let (out, n) = w.await?;
                stored += n;
                for (latency, ok) in out {
                    latencies.push(latency);
                    failures += usize::from(!ok);
                }
            }
            let elapsed = start.elapsed();
            acknowledged += stored;
            report(
                &format!("HTTP, {batch} per request"),
                &mut latencies,
                failures,
                elapsed,
            );
            let rate = stored as f64 / elapsed.as_secs_f64();
            println!("{:<28} samples/s={rate:.0}", "");
            if batch == 1 {
                single_rate = Some(rate);
            }
        }
        if let Some(single) = single_rate
            && args.ceiling_seconds > 0
        {
            let (encode, decode) = ceiling::codec(&samples(base, &clock, 100), 20_000)?;
            println!(
                "{:<28} encode {encode:.0} samples/s, decode and check {decode:.0} samples/s (one core each; both on these {} cores: at most {:.0} samples/s with nothing else to do)",
                "ceiling: JSON, 100 per body",
                cores(),
                cores() as f64 / (1.0 / encode + 1.0 / decode)
            );
            let healthz = ceiling::healthz(&url, devices.len(), args.ceiling_seconds).await?;
            println!(
                "{:<28} ok/s={healthz:>7.1}  (no server work: the bound for 1 sample per request; 1 per request ÷ healthz = {:.2})",
                "ceiling: GET /healthz",
                single / healthz.max(1e-9)
            );
        }

        if args.live_seconds > 0 {
            let f = live::run(
                &state,
                &url,
                (place.0, &place.1),
                &devices,
                args.sse_clients,
                args.live_seconds,
            )
            .await?;
            acknowledged += (f.sent - f.failed) * 6;
            let pct = |lags: &[Duration], q: f64| crate::bench::quantile(lags, q).as_secs_f64() * 1e3;
            let seconds = f.elapsed.as_secs_f64();
            println!(
                "live: {} beds in {} wards × 6 vitals at 1 Hz for {:.0} s ({} requests, {} failed, {:.0} samples/s) · {} SSE clients ({} failed), each following one ward",
                devices.len(),
                place.1.len(),
                seconds,
                f.sent,
                f.failed,
                (f.sent - f.failed) as f64 * 6.0 / seconds,
                f.clients,
                f.clients_failed,
            );
            println!(
                "live: sample → SSE event p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms over {} deliveries (after the ramp-up); ramp-up p50 {:.1} ms, p99 {:.1} ms over {}",
                pct(&f.lags, 0.5),
                pct(&f.lags, 0.99),
                pct(&f.lags, 0.999),
                pct(&f.lags, 1.0),
                f.lags.len(),
                pct(&f.ramp_lags, 0.5),
                pct(&f.ramp_lags, 0.99),
                f.ramp_lags.len(),
            );
            let by_second: Vec<String> = f
                .p99_by_second
                .iter()
                .map(|d| format!("{:.0}", d.as_secs_f64() * 1e3))
                .collect();
            println!("live: p99 by second (ms): {}", by_second.join(" "));
        }

        if mqtt.is_some() && !args.live_only {
            let publisher = Transport::mqtt(&args.mqtt_url, &prefix).await?;
            let before = state.ward.mqtt.handled();
            let start = Instant::now();
            let published = publish_in_window(
                &publisher,
                &devices,
                args.mqtt_window,
                args.seconds,
                || state.ward.mqtt.handled() - before,
                || samples(base, &clock, 1),
            )
            .await?;
            let publish_elapsed = start.elapsed();
            // Wait until the server has handled (committed and acknowledged) every message.
            while state.ward.mqtt.handled() - before < published
                && start.elapsed() < Duration::from_secs(args.seconds * 6 + 30)
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let handled = state.ward.mqtt.handled() - before;
            let elapsed = start.elapsed();
            acknowledged += handled;
            println!(
                "{:<28} published={published} in {:.1} s, handled={handled} in {:.1} s → {:.0} messages/s (1 sample each)",
                format!("MQTT QoS 1, {} connections", args.mqtt_connections),
                publish_elapsed.as_secs_f64(),
                elapsed.as_secs_f64(),
                handled as f64 / elapsed.as_secs_f64()
            );
            publisher.close().await;
            if args.ceiling_seconds > 0 {
                let rate = handled as f64 / elapsed.as_secs_f64();
                let noop = ceiling::mqtt_noop(
                    &args.mqtt_url,
                    &format!("{prefix}-noop"),
                    &devices,
                    args.mqtt_window,
                    args.ceiling_seconds,
                    || samples(base, &clock, 1),
                )
                .await?;
                println!(
                    "{:<28} {noop:.0} messages/s  (no server: the bound for 1 sample per message; server ÷ no-op = {:.2})",
                    "ceiling: MQTT no-op subscriber",
                    rate / noop.max(1e-9)
                );
            }
        } else if !args.live_only {
            println!("MQTT: no broker at {}; skipped", args.mqtt_url);
        }

        let in_db = count_samples(&state).await?;
        println!(
            "verify: {acknowledged} samples acknowledged, {in_db} in the database{}",
            if in_db >= acknowledged {
                ""
            } else {
                "  ← LOST SAMPLES"
            }
        );
        anyhow::ensure!(in_db >= acknowledged, "acknowledged samples are missing");
        Ok(())
    }
    .await;
    shutdown.cancel();
    server.await??;
    // The run's PostgreSQL schema goes whether the run passed, failed or broke off.
    if let Some(schema) = schema {
        let store = docde_server::startup::open_store(&database).await?;
        crate::bench::drop_schema(&store, &schema).await?;
        store.close().await;
    }
    result
}

/// Publishes one-sample messages, every device in turn, for `seconds`, never more than `window`
/// of them not yet `received()`: a broker queues only so much for a subscriber and drops the
/// rest (`--mqtt-window`). Returns how many it published.
async fn publish_in_window(
    publisher: &Transport,
    devices: &[DeviceCredentials],
    window: u64,
    seconds: u64,
    received: impl Fn() -> u64,
    sample: impl Fn() -> Vec<serde_json::Value>,
) -> anyhow::Result<u64> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut published = 0u64;
    'publish: while Instant::now() < deadline {
        for device in devices {
            while published - received() >= window {
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            publisher.send(device, sample()).await?;
            published += 1;
            if published.is_multiple_of(100) && Instant::now() >= deadline {
                break 'publish;
            }
        }
    }
    Ok(published)
}

/// `n` normal heart-rate samples with fresh measurement times.
fn samples(base: chrono::DateTime<Utc>, clock: &AtomicU64, n: usize) -> Vec<serde_json::Value> {
    let first = clock.fetch_add(n as u64, Ordering::Relaxed);
    (0..n as u64)
        .map(|i| {
            let at = base + TimeDelta::microseconds((first + i) as i64 * 7);
            json!({
                "measured_at": at.to_rfc3339_opts(SecondsFormat::Micros, true),
                "kind": "heart_rate",
                "value": 60 + (first + i) % 30,
                "unit": "/min",
            })
        })
        .collect()
}

async fn count_samples(state: &docde_server::AppState) -> anyhow::Result<u64> {
    Ok(docde_store::ward::samples::count_all(&state.store).await?)
}

/// A hospital, wards of `per_ward` beds and `n` beds in all, each with a bound device and an
/// admitted patient, all from two hours back. Returns (hospital, wards) and the devices, the
/// devices in bed order (bed `i` is in ward `i / per_ward`).
async fn seed(
    state: &docde_server::AppState,
    n: usize,
    per_ward: usize,
) -> anyhow::Result<((Uuid, Vec<Uuid>), Vec<DeviceCredentials>)> {
    let now = Utc::now();
    let since = now - TimeDelta::hours(2);
    let hospital = hospitals::create_hospital(&state.store, "벤치병원", "Asia/Seoul", now).await?;
    let mut wards = Vec::new();
    for w in 0..n.div_ceil(per_ward).max(1) {
        let name = format!("벤치병동 {}", w + 1);
        wards.push(hospitals::create_ward(&state.store, hospital.id, &name, now).await?);
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let ward = &wards[i / per_ward];
        let label = BedLabel::parse(&format!("{}-{}", 100 + i / 4, 1 + i % 4))?;
        let bed = beds::add_bed(&state.store, ward.id, &label, since).await?;
        let secret = format!("{SECRET_PREFIX}{i}");
        let device = devices::create(
            &state.store,
            &NewDevice {
                hospital_id: hospital.id,
                ward_id: Some(ward.id),
                name: format!("bench {label}"),
                kind: "bedside_monitor".into(),
                secret_hash: docde_server::auth::secrets::sha256_hex(&secret),
            },
            since,
        )
        .await?;
        beds::bind_device(&state.store, device.id, bed.id, since).await?;
        let patient = Uuid::now_v7();
        let email = format!("bench-patient{i}@bench.docde.kr");
        let user = NewUser {
            email: email.clone(),
            email_key: email,
            password_hash: None,
            role: Role::Patient,
            hospital_id: None,
            employee_number: None,
            name: "bench".into(),
            phone: None,
            birth_date: None,
            gender: None,
            address: None,
            active: true,
        };
        users::create(&state.store, patient, &user, None, None, since).await?;
        admissions::admit(
            &state.store,
            &NewAdmission {
                patient_id: patient,
                bed_id: bed.id,
                urgency: 0,
                notes: String::new(),
                now: since,
            },
        )
        .await?;
        out.push(DeviceCredentials {
            id: device.id,
            secret,
        });
    }
    Ok(((hospital.id, wards.iter().map(|w| w.id).collect()), out))
}
