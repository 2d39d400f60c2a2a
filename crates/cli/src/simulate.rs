//! `docde simulate`: bedside devices that report like real ones, over HTTP or MQTT, so a ward
//! can be watched (and alarms seen) without hardware. Each device is a simulated patient
//! ([`patient`]) ticking `rate` times a second; what it reports goes to the server as the
//! device itself (its id and secret), through the same endpoints real devices use.
//!
//! `docde demo` runs this in-process against its own server.

#[path = "simulate/patient.rs"]
pub mod patient;
#[path = "simulate/transport.rs"]
pub(crate) mod transport;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{SecondsFormat, Utc};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use self::patient::{Episode, Patient};
pub use self::transport::Transport;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportKind {
    Http,
    Mqtt,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The server (HTTP transport).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// `http` (POST /api/v1/devices/{id}/samples) or `mqtt` (<prefix>/devices/{id}/samples).
    #[arg(long, value_enum, default_value_t = TransportKind::Http)]
    transport: TransportKind,
    /// The broker (MQTT transport).
    #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
    mqtt_url: String,
    /// The server's `mqtt.topic_prefix`.
    #[arg(long, default_value = "docde/v1")]
    topic_prefix: String,
    /// A JSON file of device credentials, `[{"id": "…", "secret": "…"}, …]` (what
    /// `docde demo` writes to DATA_DIR/demo-devices.json).
    #[arg(long)]
    devices: Option<PathBuf>,
    /// One device's credentials as `ID:SECRET` (repeatable).
    #[arg(long = "device", value_name = "ID:SECRET")]
    device: Vec<String>,
    /// Simulate only the first N devices (default: all given).
    #[arg(long)]
    count: Option<usize>,
    /// Reports per device per second.
    #[arg(long, default_value_t = 1.0)]
    rate: f64,
    /// Stop after this many seconds (0: until Ctrl+C).
    #[arg(long, default_value_t = 0)]
    duration: u64,
    /// How many devices' patients go septic during the run.
    #[arg(long, default_value_t = 1)]
    sepsis: usize,
    /// Seconds into the run at which the first septic episode starts (later ones follow at
    /// intervals of the same length).
    #[arg(long, default_value_t = 30.0)]
    episode_after: f64,
    /// Seconds from an episode's start to its full severity.
    #[arg(long, default_value_t = 180.0)]
    episode_ramp: f64,
    /// Minutes a full IV bag lasts.
    #[arg(long, default_value_t = 45.0)]
    iv_minutes: f64,
    /// Seed of the patients' baselines and noise.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

/// A device the simulator reports as.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceCredentials {
    pub id: Uuid,
    pub secret: String,
}

/// What a run should do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub devices: Vec<DeviceCredentials>,
    pub rate: f64,
    pub duration: Option<Duration>,
    /// Patient of device `i` gets `episodes[i]`, if any.
    pub episodes: Vec<Option<Episode>>,
    /// Starting IV bag level per device (`None`: random).
    pub iv_start: Vec<Option<f64>>,
    pub iv_minutes: f64,
    pub seed: u64,
}

/// Counts of a run so far.
#[derive(Debug, Default)]
pub struct Stats {
    pub reports: AtomicU64,
    pub samples_sent: AtomicU64,
    /// Samples the server confirmed stored (HTTP only: MQTT answers only refusals).
    pub samples_stored: AtomicU64,
    /// Samples the server already held (same device, kind and millisecond), e.g. from the
    /// demo's own simulator reporting as the same device: kept once, not lost.
    pub samples_duplicate: AtomicU64,
    pub samples_rejected: AtomicU64,
    pub errors: AtomicU64,
}

impl Stats {
    pub fn line(&self) -> String {
        format!(
            "{} reports, {} samples sent, {} stored, {} duplicates, {} rejected, {} errors",
            self.reports.load(Ordering::Relaxed),
            self.samples_sent.load(Ordering::Relaxed),
            self.samples_stored.load(Ordering::Relaxed),
            self.samples_duplicate.load(Ordering::Relaxed),
            self.samples_rejected.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
        )
    }
}

pub async fn run_command(args: SimulateArgs) -> anyhow::Result<()> {
    let mut devices = Vec::new();
    if let Some(path) = &args.devices {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let list: Vec<DeviceCredentials> = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a list of {{id, secret}}", path.display()))?;
        devices.extend(list);
    }
    for entry in &args.device {
        let (id, secret) = entry
            .split_once(':')
            .context("--device must be ID:SECRET")?;
        devices.push(DeviceCredentials {
            id: id.parse().context("--device: the id is not a UUID")?,
            secret: secret.to_owned(),
        });
    }
    if let Some(n) = args.count {
        anyhow::ensure!(
            n <= devices.len(),
            "--count {n} but only {} device credentials given",
            devices.len()
        );
        devices.truncate(n);
    }
    anyhow::ensure!(
        !devices.is_empty(),
        "no devices: give --devices FILE or --device ID:SECRET"
    );
    anyhow::ensure!(
        args.rate > 0.0 && args.rate <= 100.0,
        "--rate must be in (0, 100]"
    );
    let transport = match args.transport {
        TransportKind::Http => Transport::http(&args.url)?,
        TransportKind::Mqtt => Transport::mqtt(&args.mqtt_url, &args.topic_prefix).await?,
    };
    let episodes = (0..devices.len())
        .map(|i| {
            (i < args.sepsis).then_some(Episode {
                start_s: args.episode_after * (i as f64 + 1.0),
                ramp_s: args.episode_ramp,
            })
        })
        .collect();
    let plan = Plan {
        iv_start: vec![None; devices.len()],
        devices,
        rate: args.rate,
        duration: (args.duration > 0).then(|| Duration::from_secs(args.duration)),
        episodes,
        iv_minutes: args.iv_minutes,
        seed: args.seed,
    };
    let stop = CancellationToken::new();
    docde_server::shutdown::cancel_on_signal(stop.clone());
    eprintln!(
        "simulating {} devices at {} reports/s each over {:?}",
        plan.devices.len(),
        plan.rate,
        args.transport
    );
    let stats = Arc::new(Stats::default());
    let progress = {
        let stats = stats.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(5)) => eprintln!("{}", stats.line()),
                }
            }
        })
    };
    run(plan, transport, stats.clone(), stop.clone()).await;
    stop.cancel();
    let _ = progress.await;
    println!("{}", stats.line());
    Ok(())
}

/// Runs the plan until its duration is over or `stop` fires.
pub async fn run(plan: Plan, transport: Transport, stats: Arc<Stats>, stop: CancellationToken) {
    let transport = Arc::new(transport);
    let start = Instant::now();
    let period = Duration::from_secs_f64(1.0 / plan.rate);
    let tasks = plan.devices.iter().enumerate().map(|(i, device)| {
        let mut patient = Patient::new(
            plan.seed.wrapping_add(i as u64),
            plan.episodes.get(i).copied().flatten(),
            plan.iv_minutes,
        );
        if let Some(Some(level)) = plan.iv_start.get(i) {
            patient = patient.with_iv(*level);
        }
        let device = device.clone();
        let transport = transport.clone();
        let stats = stats.clone();
        let stop = stop.clone();
        let duration = plan.duration;
        // Devices start spread over one period, as real ones would.
        let offset = period.mul_f64(i as f64 / plan.devices.len().max(1) as f64);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                let elapsed = start.elapsed();
                if duration.is_some_and(|d| elapsed >= d) {
                    return;
                }
                let measured_at = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
                let samples: Vec<serde_json::Value> = patient
                    .tick(elapsed.as_secs_f64())
                    .into_iter()
                    .map(|mut r| {
                        r["measured_at"] = serde_json::Value::String(measured_at.clone());
                        r
                    })
                    .collect();
                let n = samples.len() as u64;
                stats.reports.fetch_add(1, Ordering::Relaxed);
                stats.samples_sent.fetch_add(n, Ordering::Relaxed);
                match transport.send(&device, samples).await {
                    Ok(outcome) => {
                        stats
                            .samples_stored
                            .fetch_add(outcome.stored, Ordering::Relaxed);
                        stats
                            .samples_duplicate
                            .fetch_add(outcome.duplicates, Ordering::Relaxed);
                        stats
                            .samples_rejected
                            .fetch_add(outcome.rejected, Ordering::Relaxed);
                    }
                    Err(e) => {
                        if stats
                            .errors
                            .fetch_add(1, Ordering::Relaxed)
                            .is_multiple_of(100)
                        {
                            eprintln!("device {}: {e:#}", device.id);
                        }
                    }
                }
            }
        })
    });
    futures::future::join_all(tasks.collect::<Vec<_>>()).await;
    transport.close().await;
}
