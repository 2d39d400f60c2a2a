//! `docde bench booking`: booking load over real HTTP against a real `docde serve` process,
//! then a check of the database behind it.
//!
//! Scenarios, each on a fresh database (a fresh `--data-dir` subdirectory, or a fresh schema
//! with `--database-url postgres://…`) and a fresh server:
//! - **hot**: every patient asks once for one of a few slots (20,000 patients, 200 slots);
//! - **spread**: 200,000 requests over 20,000 slots, patients picking random slots;
//! - **rush**: the spread load with the server's admission queue always on
//!   (`DOCDE_BOOKING_RUSH=always`): every request is answered `202` with a ticket, and the
//!   tickets are then polled until all are done, measuring how fast the queue drains.
//!
//! Requests go out open-loop at `--rate` over `--connections` keep-alive connections (see
//! [`load`]). The same generator measures the same server's `/healthz` first, so the booking
//! figures come with the machine's HTTP ceiling beside them. `--kill-mid-run` sends SIGKILL to
//! the server when half the requests are out, starts it again on the same data, and lets the
//! clients retry with their idempotency keys, as real clients would.

#[path = "bench_booking/answers.rs"]
mod answers;
#[path = "bench_booking/healthz.rs"]
mod healthz;
#[path = "bench_booking/http.rs"]
pub(crate) mod http;
#[path = "bench_booking/load.rs"]
mod load;
#[path = "bench_booking/plan.rs"]
mod plan;
#[path = "bench_booking/scenario.rs"]
mod scenario;
#[path = "bench_booking/seed.rs"]
pub(crate) mod seed;
#[path = "bench_booking/server.rs"]
pub(crate) mod server;
#[path = "bench_booking/tickets.rs"]
mod tickets;
#[path = "bench_booking/verify.rs"]
mod verify;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use docde_server::Config;
use docde_server::auth::SigningKeys;
use tokio::sync::Mutex;
use uuid::Uuid;

use self::answers::{Booking, Counts, classify_booking, latency_by_answer};
use self::healthz::healthz;
use self::load::Drive;
pub use self::scenario::Scenario;
use self::scenario::Shape;
use self::server::{Server, ServerSpec};

#[derive(Debug, Args)]
pub struct BookingArgs {
    /// Where the scenarios' databases and server logs go (one fresh subdirectory each).
    #[arg(long, default_value = "bench-data/booking")]
    data_dir: PathBuf,
    /// PostgreSQL instead of the embedded SQLite: `postgres://…` (a fresh schema per scenario,
    /// dropped afterwards unless --keep-data).
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, value_enum, default_value_t = Scenario::All)]
    scenario: Scenario,
    /// Booking requests per second (open loop); 0 = closed loop, as fast as the connections go.
    #[arg(long, default_value_t = 25_000)]
    rate: u32,
    /// Keep-alive connections of the generator (one process may hold 20,000 descriptors, and
    /// the server holds the other end of each).
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// Patients (hot: each asks once; spread and rush: they take turns).
    #[arg(long, default_value_t = 20_000)]
    patients: usize,
    /// Slots of the hot scenario.
    #[arg(long, default_value_t = 200)]
    hot_slots: usize,
    /// Slots of the spread and rush scenarios.
    #[arg(long, default_value_t = 20_000)]
    slots: usize,
    /// Booking requests of the spread and rush scenarios.
    #[arg(long, default_value_t = 200_000)]
    requests: usize,
    /// SIGKILL the server when half the requests are out, restart it, finish, and check that
    /// nothing acknowledged was lost.
    #[arg(long)]
    kill_mid_run: bool,
    /// Rush: queue every request with no worker serving the queue
    /// (`DOCDE_BOOKING_SERVE_QUEUE=false`), then restart the server with its worker and time
    /// the whole backlog's drain — the workers' own rate, not the arrival rate.
    #[arg(long)]
    rush_backlog: bool,
    /// Seconds of /healthz load (at --rate, then closed loop) per scenario.
    #[arg(long, default_value_t = 2)]
    healthz_seconds: u64,
    /// Keep the PostgreSQL schemas (SQLite files are always kept).
    #[arg(long)]
    keep_data: bool,
    /// Seed of the request generator.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Spread and rush: every request asks for a slot no other request asks for (needs
    /// --requests ≤ --slots), so no attempt meets a taken seat and successful bookings/s is
    /// the rate of durable bookings itself. Without it slots are drawn at random and, as they
    /// fill, more and more attempts find theirs taken.
    #[arg(long)]
    distinct_slots: bool,
}

pub async fn run(args: BookingArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.patients > 0, "--patients must be at least 1");
    anyhow::ensure!(
        args.slots > 0 && args.hot_slots > 0,
        "--slots and --hot-slots must be at least 1"
    );
    anyhow::ensure!(args.connections > 0, "--connections must be at least 1");
    anyhow::ensure!(
        !args.distinct_slots || args.requests <= args.slots,
        "--distinct-slots needs --requests ({}) ≤ --slots ({})",
        args.requests,
        args.slots
    );
    std::fs::create_dir_all(&args.data_dir)?;
    let mut all_passed = true;
    for shape in Shape::of(args.scenario, &args) {
        all_passed &= scenario(&args, &shape).await?;
    }
    anyhow::ensure!(all_passed, "invariant checks failed (see FAIL above)");
    Ok(())
}

/// A random-enough secret for this run's signing key (the server gets it too).
fn signing_secret() -> String {
    format!("{}{}", Uuid::now_v7().simple(), Uuid::now_v7().simple())
}

async fn scenario(args: &BookingArgs, shape: &Shape) -> anyhow::Result<bool> {
    let postgres = args.database_url.is_some();
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let dir = args.data_dir.join(shape.name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let schema = postgres.then(|| format!("bench_booking_{}_{stamp}", shape.name));
    let secret = signing_secret();
    let keys = SigningKeys::new(&[("bench".to_owned(), secret.as_bytes().to_vec())]);

    let mut config = Config {
        data_dir: dir.clone(),
        ..Config::default()
    };
    config.database.url = args.database_url.clone();
    config.database.schema = schema.clone();
    config.database.max_connections = 8;
    let store = docde_server::startup::open_store(&config).await?;
    let context = Context {
        dir,
        schema: schema.clone(),
        secret,
        keys,
        stamp,
    };
    let result = measure(args, shape, &store, &context).await;
    // The schema goes whether the scenario passed, failed or broke off.
    if let (Some(schema), false) = (&schema, args.keep_data) {
        crate::bench::drop_schema(&store, schema).await?;
    }
    store.close().await;
    result
}

/// What a scenario's run shares with its setup.
struct Context {
    dir: PathBuf,
    schema: Option<String>,
    secret: String,
    keys: SigningKeys,
    stamp: String,
}

/// Seeds, starts the server, runs the load, reads the tickets and checks the database.
async fn measure(
    args: &BookingArgs,
    shape: &Shape,
    store: &docde_store::Store,
    context: &Context,
) -> anyhow::Result<bool> {
    let Context {
        dir,
        schema,
        secret,
        keys,
        stamp,
    } = context;
    let postgres = args.database_url.is_some();

    println!();
    println!(
        "== {}: {} patients, {} slots (capacity 1), {} requests{} · {} · {} connections · {} · {} cores, generator on the same machine",
        shape.name,
        shape.patients,
        shape.slots,
        shape.requests,
        if shape.rush {
            ", admission queue always on"
        } else {
            ""
        },
        if postgres {
            "PostgreSQL"
        } else {
            "embedded SQLite"
        },
        args.connections,
        if args.rate == 0 {
            "closed loop".to_owned()
        } else {
            format!("open loop {}/s", args.rate)
        },
        crate::bench::cores(),
    );

    // Seed.
    let started = Instant::now();
    let doctors = shape.slots.div_ceil(plan::SLOTS_PER_DOCTOR);
    let seeded = seed::seed(
        store,
        keys,
        &format!("{}-{stamp}", shape.name),
        doctors,
        shape.patients,
    )
    .await?;
    let seeded_in = started.elapsed();

    // Server.
    let mut env = vec![
        // Quiet unless asked (e.g. `DOCDE_LOG_FILTER=warn,sqlx::query=debug` to see every
        // statement the server runs); the log is the scenario's server.log.
        (
            "DOCDE_LOG_FILTER".to_owned(),
            std::env::var("DOCDE_LOG_FILTER").unwrap_or_else(|_| "warn".to_owned()),
        ),
        (
            "DOCDE_AUTH_SIGNING_KEYS".to_owned(),
            format!("[\"bench:{secret}\"]"),
        ),
        (
            "DOCDE_RECORDS_MASTER_KEYS".to_owned(),
            format!("[\"{}\"]", docde_server::records::master::generate_entry()),
        ),
        (
            "DOCDE_BOOKING_RUSH".to_owned(),
            if shape.rush { "always" } else { "never" }.to_owned(),
        ),
    ];
    let backlog = shape.rush && args.rush_backlog;
    if backlog {
        env.push(("DOCDE_BOOKING_SERVE_QUEUE".to_owned(), "false".to_owned()));
    }
    if let Some(url) = &args.database_url {
        env.push(("DOCDE_DATABASE_URL".to_owned(), url.clone()));
    }
    if let Some(schema) = &schema {
        env.push(("DOCDE_DATABASE_SCHEMA".to_owned(), schema.clone()));
    }
    let spec = ServerSpec {
        data_dir: dir.clone(),
        addr: server::free_addr()?,
        env,
        log: dir.join("server.log"),
    };
    let addr = spec.addr;
    let server = Server::start(spec).await?;

    plan::check_tokens(addr, &seeded).await?;
    let started = Instant::now();
    let slots = plan::schedules_and_slots(addr, &seeded, shape.slots).await?;
    println!(
        "seeded {} patients and {doctors} doctors in {:.1} s (store, multi-row inserts); schedules and {} slots through the API in {:.1} s",
        shape.patients,
        seeded_in.as_secs_f64(),
        slots.len(),
        started.elapsed().as_secs_f64()
    );

    // The no-op ceiling: /healthz with the same generator.
    let server_pid = server.pid();
    let healthz = healthz(args, addr, server_pid).await?;

    // The bookings.
    let asks = plan::asks(
        shape.patients,
        &slots,
        shape.requests,
        args.seed,
        shape.distinct,
    );
    let requests = Arc::new(plan::booking_requests(
        &format!("{}-{stamp}", shape.name),
        &asks,
        &slots,
        &seeded.patients,
    ));
    let drive = Drive {
        addr,
        connections: args.connections,
        rate: args.rate,
        give_up: Duration::from_secs(120),
    };
    let claimed = Arc::new(AtomicUsize::new(0));
    let server = Arc::new(Mutex::new(server));
    let killer = args.kill_mid_run.then(|| {
        let (server, claimed, half) = (server.clone(), claimed.clone(), requests.len() / 2);
        tokio::spawn(async move {
            while claimed.load(Ordering::Relaxed) < half {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let at = Instant::now();
            let restart = server.lock().await.kill_and_restart().await;
            restart.map(|took| (at, took))
        })
    });
    let cpu = crate::bench::CpuMeter::start(server_pid);
    let run = load::run(drive, requests.clone(), classify_booking, claimed).await?;
    // A restarted server's CPU is not the first one's: no per-request figure then.
    let cpu = if args.kill_mid_run { None } else { cpu.spent() };
    let kill = match killer {
        Some(k) => Some(k.await??),
        None => None,
    };

    let counts = Counts::of(&run);
    let mut latencies = run.latencies();
    crate::bench::report(
        &format!("{}: booking", shape.name),
        &mut latencies,
        counts.errors(),
        run.elapsed,
    );
    println!("  answers: {}", counts.line());
    println!("  latency by answer: {}", latency_by_answer(&run));
    let by_second: Vec<String> = load::p99_by_due_second(run.start, &run.records)
        .iter()
        .map(|p99| format!("{:.0}", p99.as_secs_f64() * 1000.0))
        .collect();
    println!(
        "  p99 (ms) of the requests due in each second: {}",
        by_second.join(" · ")
    );
    let attempts = run.answered_per_second();
    let successes: Vec<Instant> = run
        .records
        .iter()
        .filter(|r| matches!(r.class, Booking::Created(_)))
        .map(|r| r.answered)
        .collect();
    let seconds = load::per_second(run.start, &successes);
    if !shape.rush {
        println!(
            "  attempts/s={attempts:.0}{} · successful bookings/s={:.0} over the run, {} in the busiest second · {:.0}% of slots booked",
            if args.rate > 0 {
                format!(" (offered {}/s)", args.rate)
            } else {
                String::new()
            },
            successes.len() as f64 / run.elapsed.as_secs_f64().max(1e-9),
            seconds.iter().copied().max().unwrap_or(0),
            100.0 * successes.len() as f64 / slots.len() as f64,
        );
        // Whether the rate held, rose or fell over the run. As slots fill, more attempts
        // find theirs taken, so successes fall even at a steady rate of attempts.
        let answered: Vec<Instant> = run
            .records
            .iter()
            .filter(|r| r.status != 0)
            .map(|r| r.answered)
            .collect();
        let series = |counts: &[usize]| {
            counts
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" · ")
        };
        println!(
            "  in each second (the last partial): attempts answered {}; successful {}",
            series(&load::per_second(run.start, &answered)),
            series(&seconds)
        );
    } else {
        println!(
            "  attempts/s={attempts:.0}{} (each answered 202 after its ticket was durably queued)",
            if args.rate > 0 {
                format!(" (offered {}/s)", args.rate)
            } else {
                String::new()
            },
        );
    }
    if let Some((_, took)) = kill {
        println!(
            "  killed (SIGKILL) after {} of {} requests were out; restarted and ready in {:.1} s",
            requests.len() / 2,
            requests.len(),
            took.as_secs_f64()
        );
    }
    println!(
        "  booking attempts/s ÷ healthz saturation req/s = {attempts:.0} / {:.0} = {:.2}{}",
        healthz.saturation,
        attempts / healthz.saturation.max(1e-9),
        if args.rate > 0 {
            format!(
                " (÷ healthz at the same offered rate: {:.2})",
                attempts / healthz.open.max(1e-9)
            )
        } else {
            String::new()
        },
    );

    if let (Some(booking), Some(noop)) = (cpu, healthz.cpu) {
        let (server, generator) = booking.micros_per(run.records.len());
        println!(
            "  CPU per request: server {server:.1} µs booking, {:.1} µs healthz ({:.2}×) · generator {generator:.1} µs, {:.1} µs",
            noop.0,
            server / noop.0.max(1e-9),
            noop.1,
        );
    }

    // What the clients were told.
    let mut told = verify::Told {
        overlaps_allowed: plan::expected_overlaps(&asks, &slots),
        patient_overlap_answers: counts
            .conflicts
            .get("patient_overlap")
            .copied()
            .unwrap_or(0),
        ..verify::Told::default()
    };
    let mut given: HashMap<Uuid, usize> = HashMap::new();
    let mut shared_ids = 0;
    for (i, r) in run.records.iter().enumerate() {
        if let Booking::Created(id) | Booking::Replayed(id) = r.class {
            told.acknowledged.insert(id);
            if let Some((at, _)) = kill
                && r.answered < at
            {
                told.before_kill.insert(id);
            }
            if *given.entry(id).or_insert(i) != i {
                shared_ids += 1;
            }
        }
    }
    let mut extra_checks = vec![verify_distinct("requests", shared_ids)];

    if shape.rush {
        let queued: Vec<(usize, Uuid, Instant)> = run
            .records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match r.class {
                Booking::Queued(t) => Some((i, t, r.answered)),
                _ => None,
            })
            .collect();
        let mut first_enqueue = run
            .records
            .iter()
            .filter(|r| matches!(r.class, Booking::Queued(_)))
            .map(|r| r.due)
            .min()
            .unwrap_or(run.start);
        if backlog {
            // The whole queue is waiting: a server with its worker starts on it now.
            let mut server = server.lock().await;
            let mut spec = server.spec.clone();
            spec.env
                .retain(|(key, _)| key != "DOCDE_BOOKING_SERVE_QUEUE");
            let (started, took) = server.restart(spec).await?;
            // From the start of the server with the worker (the old one's graceful stop, which
            // waits for the generator's idle connections, is not the queue's time).
            first_enqueue = started;
            println!(
                "  backlog: {} tickets queued with no worker; restarted with one, ready in {:.2} s (counted in the drain)",
                queued.len(),
                took.as_secs_f64()
            );
        }
        let outcome = tickets::drain(
            addr,
            args.connections,
            &queued,
            &asks,
            &seeded.patients,
            first_enqueue,
        )
        .await?;
        outcome.print(queued.len());
        let mut shared = 0;
        for (i, id) in &outcome.appointments {
            told.acknowledged.insert(*id);
            if *given.entry(*id).or_insert(*i) != *i {
                shared += 1;
            }
        }
        told.patient_overlap_answers += outcome
            .conflicts
            .get("patient_overlap")
            .copied()
            .unwrap_or(0);
        let before_kill = match kill {
            Some((at, _)) => format!(
                " ({} accepted before the kill)",
                queued
                    .iter()
                    .filter(|(_, _, answered)| *answered < at)
                    .count()
            ),
            None => String::new(),
        };
        extra_checks.push(verify::Check {
            name: "every ticket completed with one outcome".into(),
            pass: outcome.pending == 0 && outcome.errors == 0 && outcome.done == queued.len(),
            detail: format!(
                "{} tickets{before_kill}, {} done, {} still queued, {} unreadable",
                queued.len(),
                outcome.done,
                outcome.pending,
                outcome.errors
            ),
        });
        extra_checks.push(verify_distinct("tickets", shared));
    }

    // Stop the server, then read the database it left.
    let server = Arc::try_unwrap(server)
        .map_err(|_| anyhow::anyhow!("server handle still shared"))?
        .into_inner();
    server.stop().await?;
    let mut checks = verify::verify(store, &told, kill.is_some()).await?;
    checks.extend(extra_checks);
    let passed = verify::print(shape.name, &checks);

    Ok(passed)
}

fn verify_distinct(what: &str, shared: usize) -> verify::Check {
    verify::Check {
        name: format!("no two {what} were given the same appointment"),
        pass: shared == 0,
        detail: format!("{shared} shared"),
    }
}
