//! `docde bench …`: load generators that measure a real server over real HTTP.
//!
//! Latency is measured open-loop: requests are sent on a fixed schedule and each latency is
//! counted from its *scheduled* time, so a server that falls behind shows it in the figures
//! instead of silently slowing the generator down (coordinated omission).

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use docde_domain::account::Role;
use docde_server::{Application, Config};

pub use crate::bench_search::SearchArgs;
#[path = "bench_booking.rs"]
mod bench_booking;
#[path = "bench_reception.rs"]
mod bench_reception;
use docde_store::accounts::users::{self, NewUser};
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Sign-in latency (argon2id at OWASP cost) and saturation throughput on a fresh
    /// embedded server.
    SignIn(SignInArgs),
    /// Directory search over HTTP (open-loop latency, saturation) against the naive
    /// `LIKE '%q%'` query on the same data and query mix.
    Search(SearchArgs),
    /// Booking over HTTP against a spawned server: hot, spread and rush scenarios, open-loop
    /// latency, `/healthz` for scale, then the database checked for overbooking and losses.
    Booking(bench_booking::BookingArgs),
    /// Reception spike: thousands of check-ins within one second for one department through
    /// the waiting room, WebSocket watchers on their tickets, then the numbers checked.
    Reception(bench_reception::ReceptionArgs),
    /// Ward sample ingest against an in-process server: HTTP batches of 100, HTTP single
    /// samples, MQTT messages; then acknowledged samples counted in the database.
    Ward(crate::bench_ward::WardArgs),
}

#[derive(Debug, Args)]
pub struct SignInArgs {
    /// Accounts to sign in as (round-robin).
    #[arg(long, default_value_t = 50)]
    accounts: usize,
    /// Requests per second of the open-loop latency run (keep it below saturation).
    #[arg(long, default_value_t = 20)]
    rate: u32,
    /// Duration of each run, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients of the closed-loop saturation run.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::SignIn(args) => sign_in(args).await,
        BenchCommand::Search(args) => crate::bench_search::run(args).await,
        BenchCommand::Booking(args) => bench_booking::run(args).await,
        BenchCommand::Reception(args) => bench_reception::run(args).await,
        BenchCommand::Ward(args) => crate::bench_ward::run(args).await,
    }
}

const PASSWORD: &str = "benchmark passphrase 2026";

async fn sign_in(args: SignInArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: dir.path().to_owned(),
        ..Config::default()
    };
    // The generator sends X-Forwarded-For with a different address per request, so the
    // per-IP sign-in limit (30 per 5 minutes) does not end the run; per-account limits are
    // avoided by rotating over many accounts.
    config.auth.trust_forwarded_for = true;
    config.log.filter = "warn".into();
    let app = Application::build(config).await?;
    let url = format!("http://{}/api/v1/auth/sign-in", app.local_addr());
    let state = app.state().clone();
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());

    let hash = state.auth.passwords.hash(PASSWORD).await?;
    let total_requests = (u64::from(args.rate) * args.seconds) as usize + args.concurrency * 200;
    let accounts = args.accounts.max(total_requests / 9 + 1);
    let mut emails = Vec::with_capacity(accounts);
    for i in 0..accounts {
        let email = format!("bench{i}@bench.docde.kr");
        let user = NewUser {
            email: email.clone(),
            email_key: email.clone(),
            password_hash: Some(hash.clone()),
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
        users::create(
            &state.store,
            Uuid::now_v7(),
            &user,
            None,
            None,
            chrono::Utc::now(),
        )
        .await?;
        emails.push(email);
    }
    let emails = Arc::new(emails);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let request = {
        let (client, url, emails, counter) =
            (client.clone(), url.clone(), emails.clone(), counter.clone());
        move || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let body = serde_json::json!({"email": emails[n % emails.len()], "password": PASSWORD});
            let forwarded = format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255);
            client
                .post(url.clone())
                .header("x-forwarded-for", forwarded)
                .json(&body)
                .send()
        }
    };

    println!(
        "argon2id m=19456 KiB t=2 p=1 · {} accounts · embedded SQLite · {} cores",
        emails.len(),
        cores()
    );

    // Open loop at a fixed rate.
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1)));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..(u64::from(args.rate) * args.seconds) {
        let scheduled = start + interval * u32::try_from(i).unwrap_or(u32::MAX);
        tokio::time::sleep_until(scheduled.into()).await;
        let send = request();
        tasks.push(tokio::spawn(async move {
            let ok = send.await.map(|r| r.status().is_success()).unwrap_or(false);
            (scheduled.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for t in tasks {
        let (latency, ok) = t.await?;
        latencies.push(latency);
        failures += usize::from(!ok);
    }
    report(
        &format!("open loop at {}/s", args.rate),
        &mut latencies,
        failures,
        start.elapsed(),
    );

    // Closed loop: as fast as `concurrency` clients can go.
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let request = request.clone();
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let ok = request()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                out.push((sent.elapsed(), ok));
            }
            out
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for w in workers {
        for (latency, ok) in w.await? {
            latencies.push(latency);
            failures += usize::from(!ok);
        }
    }
    report(
        &format!("closed loop, {} clients", args.concurrency),
        &mut latencies,
        failures,
        start.elapsed(),
    );

    shutdown.cancel();
    server.await??;
    Ok(())
}

/// Drops a bench run's own PostgreSQL schema (a name the bench made, never input).
pub(crate) async fn drop_schema(store: &docde_store::Store, schema: &str) -> anyhow::Result<()> {
    docde_store::with_writer!(store, pool => {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE")))
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

pub(crate) fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0)
}

/// The `q` quantile of `sorted` by the nearest index (zero when empty); the live benches'
/// latencies and lags.
pub(crate) fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len().saturating_sub(1)) as f64 * q).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

pub(crate) fn report(name: &str, latencies: &mut [Duration], failures: usize, elapsed: Duration) {
    latencies.sort();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len().max(1)) - 1;
        latencies
            .get(i)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN)
    };
    println!(
        "{name:<28} n={:<6} ok/s={:>7.1}  p50={:>7.1} ms  p99={:>7.1} ms  max={:>7.1} ms  failures={failures}",
        latencies.len(),
        (latencies.len() - failures) as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        pct(1.0),
    );
}

/// CPU time (user + system, every thread) a process has used so far, in seconds, from Linux
/// `/proc/<pid>/stat`; `None` where that is unreadable. A benchmark divides the CPU a phase
/// used by the requests it answered: on a machine whose speed swings, CPU per request moves
/// far less than requests per second, so it is the figure to compare binaries by.
pub(crate) fn cpu_seconds(pid: u32) -> Option<f64> {
    // USER_HZ: the kernel reports these times in ticks of 1/100 s on every architecture
    // Linux ships (it is fixed for user space, whatever the kernel's own tick rate).
    const TICKS_PER_SECOND: f64 = 100.0;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    // Fields 14 and 15 of the file (utime, stime) are 12th and 13th after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / TICKS_PER_SECOND)
}

/// CPU used by the server under test and by this generator over one phase.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuSpent {
    pub server: f64,
    pub generator: f64,
}

/// Starts measuring the CPU of `server` and of this process; [`CpuMeter::spent`] ends it.
pub(crate) struct CpuMeter {
    server: Option<u32>,
    began: Option<CpuSpent>,
}

impl CpuMeter {
    pub(crate) fn start(server: Option<u32>) -> Self {
        Self {
            server,
            began: Self::now(server),
        }
    }

    fn now(server: Option<u32>) -> Option<CpuSpent> {
        Some(CpuSpent {
            server: cpu_seconds(server?)?,
            generator: cpu_seconds(std::process::id())?,
        })
    }

    /// The CPU seconds spent since [`CpuMeter::start`], if both processes could be read at
    /// both ends (not if the server was restarted in between).
    pub(crate) fn spent(&self) -> Option<CpuSpent> {
        let (began, now) = (self.began?, Self::now(self.server)?);
        Some(CpuSpent {
            server: now.server - began.server,
            generator: now.generator - began.generator,
        })
    }
}

impl CpuSpent {
    /// Microseconds of each process's CPU per request, over `requests`.
    pub(crate) fn micros_per(&self, requests: usize) -> (f64, f64) {
        let n = requests.max(1) as f64;
        (self.server * 1e6 / n, self.generator * 1e6 / n)
    }
}

#[cfg(test)]
mod cpu_tests {
    use super::*;

    #[test]
    fn this_process_cpu_grows_with_work_it_does() {
        let before = cpu_seconds(std::process::id()).expect("/proc is readable on Linux");
        // Spin until the count moves by 50 ms (five of the kernel's ticks), or give up after
        // 20 s of wall time on a machine too busy to give this thread that much.
        let started = Instant::now();
        let mut x = 0u64;
        let mut after = before;
        while after - before < 0.05 && started.elapsed() < Duration::from_secs(20) {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            after = cpu_seconds(std::process::id()).unwrap();
        }
        assert!(after - before >= 0.05, "{before} → {after}");
        assert_eq!(cpu_seconds(u32::MAX), None, "no such process");
    }
}
