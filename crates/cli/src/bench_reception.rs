//! `docde bench reception`: a check-in spike for one department against a spawned server.
//!
//! `--check-ins` check-ins are scheduled evenly within `--spread-ms` (open loop: each
//! request's latency counts from its scheduled time, over a bounded set of keep-alive
//! connections). The server's waiting room answers most of them `202` with a ticket; the
//! first `--watchers` tickets are then watched over WebSocket. Reported: every check-in done
//! exactly once and the waiting numbers 1..N with no gap or duplicate (read from the
//! database), position-update rate and delivery lag per watcher, and the server's resident
//! memory before and after the watchers connected.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::Args;
use docde_server::Config;
use docde_server::auth::SigningKeys;
use docde_store::directory::{self, HospitalFacts, Hours};
use hyper::Method;
use serde_json::{Value, json};
use uuid::Uuid;

#[path = "bench_reception/watchers.rs"]
mod watchers;

use super::bench_booking::http::{Connection, Prepared};
use super::bench_booking::seed;
use super::bench_booking::server::{Server, ServerSpec, free_addr};
use watchers::{pct, watch};

const DEPARTMENT: &str = "internal_medicine";

#[derive(Debug, Args)]
pub struct ReceptionArgs {
    /// Check-ins in the spike (one patient each).
    #[arg(long, default_value_t = 20_000)]
    check_ins: usize,
    /// The spike arrives within this many milliseconds.
    #[arg(long, default_value_t = 1_000)]
    spread_ms: u64,
    /// WebSocket clients watching their tickets' positions.
    #[arg(long, default_value_t = 5_000)]
    watchers: usize,
    /// WebSocket handshakes the watchers have in progress at once (0 = all at once). The
    /// generator shares the server's two cores: unbounded, its own 5,000 handshakes delay its
    /// reading of the first messages, which then shows up as delivery lag — and all watchers
    /// are connected later than with 64 at a time (docs/BENCHMARKS.md).
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    /// Keep-alive connections sending the check-ins.
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// Check-ins per hospital in progress above which the server queues (reception.capacity).
    #[arg(long, default_value_t = 64)]
    capacity: usize,
    /// PostgreSQL URL (default: embedded SQLite in --data-dir).
    #[arg(long)]
    database_url: Option<String>,
    /// Hold mode (milliseconds; 0 = live): the server's waiting-room worker stays off, the
    /// watchers connect after the spike and watch the full line this long (memory per
    /// connection and update rate are measured on a steady line), then this process drains the
    /// line with the same code the worker runs and the watchers get their results.
    #[arg(long, default_value_t = 10_000)]
    hold_ms: u64,
    /// Where the server's files go.
    #[arg(long, default_value = "bench-reception")]
    data_dir: PathBuf,
}

struct Answer {
    status: u16,
    body: Value,
    latency: Duration,
}

pub async fn run(args: ReceptionArgs) -> anyhow::Result<()> {
    let stamp = Utc::now().format("%Y%m%d%H%M%S").to_string();
    if args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir)?;
    }
    std::fs::create_dir_all(&args.data_dir)?;
    let dir = std::fs::canonicalize(&args.data_dir)?;
    let schema = args
        .database_url
        .as_ref()
        .map(|_| format!("bench_reception_{stamp}"));
    let secret = Uuid::now_v7().simple().to_string() + &Uuid::now_v7().simple().to_string();
    let keys = SigningKeys::new(&[("bench".to_owned(), secret.as_bytes().to_vec())]);
    let mut config = Config {
        data_dir: dir.clone(),
        ..Config::default()
    };
    config.database.url = args.database_url.clone();
    config.database.schema = schema.clone();
    config.database.max_connections = 8;
    let store = docde_server::startup::open_store(&config).await?;

    println!(
        "== reception spike: {} check-ins within {} ms for one department, {} WebSocket watchers ({}) · {} · {} connections · capacity {} · {} cores, generator on the same machine",
        args.check_ins,
        args.spread_ms,
        args.watchers,
        if args.connect_concurrency == 0 {
            "all handshakes at once".to_owned()
        } else {
            format!("at most {} handshakes at once", args.connect_concurrency)
        },
        if schema.is_some() {
            "PostgreSQL"
        } else {
            "embedded SQLite"
        },
        args.connections,
        args.capacity,
        crate::bench::cores(),
    );
    let started = Instant::now();
    let tag = format!("reception-{stamp}");
    let seeded = seed::seed(&store, &keys, &tag, 1, args.check_ins).await?;
    let hospital: String = docde_store::with_reader!(store, pool => {
        sqlx::query_scalar("SELECT id FROM hospitals WHERE name = $1")
            .bind(format!("벤치 병원 {tag}"))
            .fetch_one(pool)
            .await?
    });
    let hospital: Uuid = hospital.parse()?;
    let all_day = (0..=7)
        .map(|day| Hours {
            day,
            open: 0,
            close: 1440,
            lunch: None,
        })
        .collect();
    let facts = HospitalFacts {
        name: format!("벤치 병원 {tag}"),
        latin_name: None,
        hospital_type: "general_hospital".into(),
        sido: None,
        sigungu: None,
        road_address: None,
        phone: None,
        lat: None,
        lon: None,
        announcement: None,
        hours: all_day,
        departments: vec![DEPARTMENT.into()],
    };
    directory::update_hospital(&store, hospital, &facts, Utc::now()).await?;
    println!(
        "seeded {} patients in {:.1} s",
        args.check_ins,
        started.elapsed().as_secs_f64()
    );

    let mut env = vec![
        ("DOCDE_LOG_FILTER".to_owned(), "warn".to_owned()),
        (
            "DOCDE_AUTH_SIGNING_KEYS".to_owned(),
            format!("[\"bench:{secret}\"]"),
        ),
        (
            "DOCDE_RECEPTION_CAPACITY".to_owned(),
            args.capacity.to_string(),
        ),
    ];
    let hold = args.hold_ms > 0;
    if hold {
        env.push((
            "DOCDE_RECEPTION_SERVE_WAITING_ROOM".to_owned(),
            "false".to_owned(),
        ));
    }
    if let Some(url) = &args.database_url {
        env.push(("DOCDE_DATABASE_URL".to_owned(), url.clone()));
        env.push(("DOCDE_DATABASE_MAX_CONNECTIONS".to_owned(), "32".to_owned()));
    }
    if let Some(schema) = &schema {
        env.push(("DOCDE_DATABASE_SCHEMA".to_owned(), schema.clone()));
    }
    let spec = ServerSpec {
        data_dir: dir.clone(),
        addr: free_addr()?,
        env,
        log: dir.join("server.log"),
    };
    let addr = spec.addr;
    let server = Server::start(spec).await?;
    let pid = server.pid().unwrap_or(0);
    let rss_idle = rss_kib(pid);

    // The spike.
    let path = format!("/api/v1/hospitals/{hospital}/reception/check-ins");
    let requests: Arc<Vec<Prepared>> = Arc::new(
        seeded
            .patients
            .iter()
            .map(|(_, auth)| {
                Prepared::json(
                    Method::POST,
                    path.clone(),
                    Some(auth.clone()),
                    &json!({"department": DEPARTMENT}),
                )
            })
            .collect(),
    );
    // Watchers connect as soon as their ticket is answered, while the line is long.
    let (ticket_tx, mut ticket_rx) = tokio::sync::mpsc::unbounded_channel::<(usize, String)>();
    let open = Arc::new(AtomicUsize::new(0));
    let connected = Arc::new(AtomicUsize::new(0));
    let watcher_auth: Vec<hyper::header::HeaderValue> =
        seeded.patients.iter().map(|(_, a)| a.clone()).collect();
    let handshakes = Arc::new(tokio::sync::Semaphore::new(
        if args.connect_concurrency == 0 {
            tokio::sync::Semaphore::MAX_PERMITS
        } else {
            args.connect_concurrency
        },
    ));
    let spawner = {
        let (open, connected, limit) = (open.clone(), connected.clone(), args.watchers);
        tokio::spawn(async move {
            let mut sessions = Vec::new();
            let mut held = Vec::new();
            if hold {
                // Everyone connects once the spike is over.
                while let Some(t) = ticket_rx.recv().await {
                    held.push(t);
                }
            }
            let mut live = held.into_iter();
            loop {
                let next = match live.next() {
                    Some(t) => Some(t),
                    None => ticket_rx.recv().await,
                };
                let Some((i, id)) = next else { break };
                if sessions.len() >= limit {
                    continue;
                }
                let (auth, open, connected, handshakes) = (
                    watcher_auth[i].clone(),
                    open.clone(),
                    connected.clone(),
                    handshakes.clone(),
                );
                sessions.push(tokio::spawn(async move {
                    watch(addr, &id, auth, open, connected, &handshakes).await
                }));
            }
            sessions
        })
    };
    // Samples the server's memory with the number of open watchers; keeps the peak.
    let sampler = {
        let open = open.clone();
        tokio::spawn(async move {
            let mut peak = (0_usize, 0_u64);
            let began = Instant::now();
            loop {
                let n = open.load(Ordering::Relaxed);
                let rss = rss_kib(pid);
                if n >= peak.0 && n > 0 {
                    peak = (n, rss);
                }
                if (n == 0 && peak.0 > 0) || began.elapsed() > Duration::from_secs(900) {
                    return peak;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now() + Duration::from_millis(200);
    let step = Duration::from_nanos(args.spread_ms * 1_000_000 / args.check_ins.max(1) as u64);
    let mut workers = Vec::new();
    for _ in 0..args.connections {
        let (requests, next, ticket_tx) = (requests.clone(), next.clone(), ticket_tx.clone());
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::open(addr).await?;
            let mut answers = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(i) else {
                    break;
                };
                let due = start + step * i as u32;
                tokio::time::sleep_until(due.into()).await;
                let (status, body) = match connection.send(request).await {
                    Ok(answer) => answer,
                    Err(_) => {
                        connection = Connection::open(addr).await?;
                        connection.send(request).await?
                    }
                };
                let latency = due.elapsed();
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                if status == 202
                    && let Some(id) = body["id"].as_str()
                {
                    let _ = ticket_tx.send((i, id.to_owned()));
                }
                answers.push((
                    i,
                    Answer {
                        status,
                        body,
                        latency,
                    },
                ));
            }
            anyhow::Ok(answers)
        }));
    }
    drop(ticket_tx);
    let mut answers: Vec<(usize, Answer)> = Vec::with_capacity(args.check_ins);
    for w in workers {
        answers.extend(w.await??);
    }
    let answered_in = start.elapsed();
    let answered_at = Instant::now();
    answers.sort_by_key(|(i, _)| *i);
    let created = answers.iter().filter(|(_, a)| a.status == 201).count();
    let queued: Vec<(usize, String)> = answers
        .iter()
        .filter(|(_, a)| a.status == 202)
        .filter_map(|(i, a)| a.body["id"].as_str().map(|id| (*i, id.to_owned())))
        .collect();
    let others = answers.len() - created - queued.len();
    let mut latencies: Vec<Duration> = answers.iter().map(|(_, a)| a.latency).collect();
    latencies.sort_unstable();
    println!(
        "answered {} check-ins in {:.2} s: {created} checked in at once (201), {} queued (202), {others} other; latency from schedule p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        answers.len(),
        answered_in.as_secs_f64(),
        queued.len(),
        pct(&latencies, 0.50),
        pct(&latencies, 0.99),
        pct(&latencies, 1.0),
    );

    let rss_after_spike = rss_kib(pid);
    let mut drain_note = String::new();
    let mut drain_started = None;
    let mut all_connected = None;
    let (open_now, rss_watching, rss_base, stats) = if hold {
        let expected = args.watchers.min(queued.len());
        let from = Instant::now();
        while connected.load(Ordering::Relaxed) < expected
            && from.elapsed() < Duration::from_secs(120)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        all_connected = Some(Instant::now());
        tokio::time::sleep(Duration::from_millis(args.hold_ms)).await;
        let open_now = open.load(Ordering::Relaxed);
        let rss_watching = rss_kib(pid);
        // Drain with the worker's own code, from this process.
        let from = Instant::now();
        drain_started = Some(from);
        let mut served = 0;
        loop {
            let done = docde_store::reception::admission::serve_check_ins(
                &store,
                hospital,
                512,
                Utc::now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("serving the line: {e}"))?;
            if done.is_empty() {
                break;
            }
            served += done.len();
        }
        let took = from.elapsed();
        drain_note = format!(
            "line drained by the worker code in {:.2} s ({:.0} check-ins/s, one transaction per 512)",
            took.as_secs_f64(),
            served as f64 / took.as_secs_f64()
        );
        let sessions = spawner.await?;
        let mut stats = Vec::new();
        for session in sessions {
            stats.push(session.await?);
        }
        sampler.abort();
        (open_now, rss_watching, rss_after_spike, stats)
    } else {
        let sessions = spawner.await?;
        let mut stats = Vec::new();
        for session in sessions {
            stats.push(session.await?);
        }
        let (open_now, rss_watching) = sampler.await?;
        (open_now, rss_watching, rss_idle, stats)
    };
    if !drain_note.is_empty() {
        println!("{drain_note}");
    }
    let failed = watchers::report(
        &stats,
        connected.load(Ordering::Relaxed),
        open_now,
        watchers::Moments {
            start,
            answered_at,
            all_connected,
            drain_started,
        },
    );
    let per_conn = if open_now > 0 {
        (rss_watching.saturating_sub(rss_base)) as f64 / open_now as f64
    } else {
        0.0
    };
    println!(
        "server RSS: {} KiB idle, {} KiB after the spike, {} KiB with {open_now} WebSockets open → {:.1} KiB per connection{}",
        rss_idle,
        rss_after_spike,
        rss_watching,
        per_conn,
        if hold {
            " (growth from after the spike to all watchers open)"
        } else {
            " (an upper bound: growth from idle, which also holds the queued work)"
        }
    );

    // Everything done? Wait for the waiting room to drain, then check the database.
    let drain_from = Instant::now();
    loop {
        let left = docde_store::reception::admission::queued_count(&store).await?;
        if left == 0 || drain_from.elapsed() > Duration::from_secs(600) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drained = drain_from.elapsed() + answered_in;
    let (visits, min, max, distinct): (i64, Option<i64>, Option<i64>, i64) = docde_store::with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT COUNT(*), MIN(number), MAX(number), COUNT(DISTINCT number) FROM reception_visits \
             WHERE hospital_id = $1 AND department = $2",
        )
        .bind(hospital.to_string())
        .bind(DEPARTMENT)
        .fetch_one(pool)
        .await?
    });
    let (tickets, done, done_ok): (i64, i64, i64) = docde_store::with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT COUNT(*), COUNT(done_at), COALESCE(SUM(CASE WHEN outcome_status = 201 THEN 1 ELSE 0 END), 0) \
             FROM admission_tickets WHERE hospital_id = $1",
        )
        .bind(hospital.to_string())
        .fetch_one(pool)
        .await?
    });
    let patients: i64 = docde_store::with_reader!(store, pool => {
        sqlx::query_scalar(
            "SELECT COUNT(DISTINCT patient_id) FROM reception_visits WHERE hospital_id = $1",
        )
        .bind(hospital.to_string())
        .fetch_one(pool)
        .await?
    });
    let n = args.check_ins as i64;
    let exactly_once = visits == n
        && patients == n
        && tickets as usize == queued.len()
        && done == tickets
        && done_ok == tickets;
    let gapless = min == Some(1) && max == Some(n) && distinct == n;
    println!(
        "all done {:.2} s after the spike began ({:.0} check-ins/s end to end); {visits} visits for {patients} patients, {tickets} tickets ({done} done, {done_ok} checked in); numbers {}..{} with {distinct} distinct",
        drained.as_secs_f64(),
        n as f64 / drained.as_secs_f64(),
        min.unwrap_or(0),
        max.unwrap_or(0),
    );
    println!(
        "verdict: every check-in processed exactly once: {}; numbers 1..{n} gapless and unique: {}",
        if exactly_once { "yes" } else { "NO" },
        if gapless { "yes" } else { "NO" },
    );
    server.stop().await?;
    if let Some(schema) = &schema {
        crate::bench::drop_schema(&store, schema).await?;
    }
    store.close().await;
    if exactly_once && gapless && failed == 0 {
        Ok(())
    } else {
        anyhow::bail!("the reception spike broke an invariant (see above)")
    }
}

/// Resident memory of a process in KiB (Linux `/proc`), 0 if unreadable.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
