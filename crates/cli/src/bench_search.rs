//! `docde bench search`: the directory search over real HTTP, against the naive
//! `LIKE '%q%'` query on the same database and the same query mix.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use docde_server::{Application, Config};

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Hospitals in the data set (seeded once into --data-dir, about 10 doctors each).
    #[arg(long, default_value_t = 100_000)]
    hospitals: usize,
    /// Where the benchmark database lives; kept between runs so seeding happens once.
    #[arg(long, default_value = "bench-data/search")]
    data_dir: PathBuf,
    /// Requests per second of the open-loop run.
    #[arg(long, default_value_t = 2_000)]
    rate: u32,
    /// Seconds per HTTP run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients of the saturation run.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Times each query of the mix is run with LIKE (it is slow).
    #[arg(long, default_value_t = 3)]
    like_rounds: usize,
}

/// Broad one- and two-syllable queries whose every match is checked at full size.
const RECALL_QUERIES: &[&str] = &["내과", "서울", "치과"];

/// Pages per kind the server's search cache keeps (the index's default).
const DEFAULT_PAGE_CACHE: usize = 256;
/// Repetitions per query of the index-only and idle HTTP timings.
const INDEX_RUNS: usize = 50;

/// What patients type: syllables, words, names, initial consonants, spacing, Latin.
const QUERIES: &[&str] = &[
    "서울대",
    "내과",
    "서울",
    "소아청소년과",
    "ㅅㅇㄷ",
    "삼성서울병원",
    "대학교병원",
    "정형외과의원",
    "samsung",
    "seoul st mary",
    "치과",
    "김민준",
    "연세",
    "성모",
    "한의원",
    "부산",
    "피부과",
    "이비인후과",
    "분당",
    "서울 대학교",
];

pub async fn run(args: SearchArgs) -> anyhow::Result<()> {
    let mut config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: args.data_dir.clone(),
        ..Config::default()
    };
    config.log.filter = "warn".into();
    config.database.max_connections = 16;

    let store = docde_server::startup::open_store(&config).await?;
    let have = docde_store::directory::all_hospitals(&store).await?.len();
    if have < args.hospitals {
        eprintln!(
            "seeding {} hospitals into {} (once)…",
            args.hospitals - have,
            args.data_dir.display()
        );
        let started = Instant::now();
        let done =
            docde_server::seed::seed_directory(&store, args.hospitals - have, 2026, |_| {}).await?;
        eprintln!(
            "seeded {} hospitals, {} doctors in {:.1} s",
            done.hospitals,
            done.doctors,
            started.elapsed().as_secs_f64()
        );
    }

    let app = Application::build(config).await?;
    let base = format!("http://{}/api/v1/search/hospitals", app.local_addr());
    let state = app.state().clone();
    let shutdown = app.shutdown_token();
    let started = Instant::now();
    let server = tokio::spawn(app.run_until_stopped());
    while state.directory.get().is_none() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ready = started.elapsed();
    let (index, cards) = state.directory.with_cards().expect("built");
    let card_bytes = docde_server::directory_index::card_bytes(&cards.read().expect("cards"));
    println!(
        "data: {} hospitals, {} doctors · index ready {:.1} s after start (load + build), index {} MiB + result cards {} MiB · {} cores, generator on the same machine",
        index.len(),
        index.doctor_count(),
        ready.as_secs_f64(),
        index.memory_bytes() / (1024 * 1024),
        card_bytes / (1024 * 1024),
        super::bench::cores(),
    );

    // The index alone, one query at a time (no HTTP): where a request's time goes. Without the
    // page cache, which would otherwise answer every repetition.
    index.set_page_cache(0);
    let mut index_us = Vec::new();
    for q in QUERIES {
        let query = docde_server::directory_index::HospitalQuery {
            text: (*q).into(),
            ..Default::default()
        };
        let mut times = Vec::new();
        let mut page = index.search_hospitals(&query)?;
        for _ in 0..INDEX_RUNS {
            let sent = Instant::now();
            page = index.search_hospitals(&query)?;
            times.push(sent.elapsed());
        }
        let p50 = median(&mut times);
        index_us.push(p50);
        println!(
            "  index only {q:<14} median {:>7.1} µs · total {}{}",
            p50.as_secs_f64() * 1e6,
            page.total,
            if page.total_is_lower_bound { "+" } else { "" }
        );
    }

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let urls: Arc<Vec<String>> = Arc::new(
        QUERIES
            .iter()
            .map(|q| format!("{base}?q={}", urlencode(q)))
            .collect(),
    );
    for url in urls.iter() {
        let status = client.get(url).send().await?.status();
        anyhow::ensure!(status.is_success(), "warm-up query {url} answered {status}");
    }
    // Each query over HTTP on an idle server (one client), page cache off: the figure compared
    // with LIKE. Then with the cache (what a repeated query costs).
    let mut http_idle = Vec::new();
    for url in urls.iter() {
        http_idle.push(idle_median(&client, url).await?);
    }
    index.set_page_cache(DEFAULT_PAGE_CACHE);
    let mut http_cached = Vec::new();
    for url in urls.iter() {
        http_cached.push(idle_median(&client, url).await?);
    }
    let mut open_p50 = Duration::ZERO;
    for cache in [true, false] {
        index.set_page_cache(if cache { DEFAULT_PAGE_CACHE } else { 0 });
        let label = if cache {
            "page cache on"
        } else {
            "page cache off"
        };
        let p50 = load_runs(&args, &client, &urls, label).await?;
        if cache {
            open_p50 = p50;
        }
    }
    index.set_page_cache(DEFAULT_PAGE_CACHE);
    // The naive query the predecessor replaced: LIKE '%q%' on name, address and doctor names,
    // straight to the database (no HTTP: that favours LIKE), the same query mix, the same page
    // size. Two forms: the first 20 rows in no order and without a count (what LIKE is best
    // at), and what the search endpoint answers — the first page in an order (by name: LIKE has
    // no relevance) plus a total counted up to the same cap.
    const MATCH: &str = "h.deleted_at IS NULL AND (h.name LIKE $1 OR h.road_address LIKE $1
        OR EXISTS (SELECT 1 FROM doctors d WHERE d.hospital_id = h.id AND d.name LIKE $1))";
    let unordered = format!("SELECT h.id FROM hospitals h WHERE {MATCH} LIMIT 20");
    let ordered =
        format!("SELECT h.id FROM hospitals h WHERE {MATCH} ORDER BY h.name, h.id LIMIT 20");
    let count = format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM hospitals h WHERE {MATCH} LIMIT {})",
        docde_server::directory_index::TOTAL_CAP + 1
    );
    let mut like = Vec::new();
    let mut like_page = Vec::new();
    let mut per_query = Vec::new();
    let (mut mix_like, mut mix_paged) = (Vec::new(), Vec::new());
    for (i, q) in QUERIES.iter().enumerate() {
        let pattern = format!("%{q}%");
        let (mut fast, mut paged) = (Vec::new(), Vec::new());
        for _ in 0..args.like_rounds {
            let sent = Instant::now();
            let rows: Vec<(String,)> = docde_store::with_reader!(state.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(unordered.clone()))
                .bind(&pattern)
                .fetch_all(pool)
                .await)?;
            fast.push(sent.elapsed());
            let _ = rows;
            let sent = Instant::now();
            let rows: Vec<(String,)> = docde_store::with_reader!(state.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(ordered.clone()))
                .bind(&pattern)
                .fetch_all(pool)
                .await)?;
            let counted: (i64,) = docde_store::with_reader!(state.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(count.clone()))
                .bind(&pattern)
                .fetch_one(pool)
                .await)?;
            paged.push(sent.elapsed());
            let _ = (rows, counted);
        }
        let (fast_p50, paged_p50) = (median(&mut fast), median(&mut paged));
        mix_like.push(fast_p50.as_secs_f64());
        mix_paged.push(paged_p50.as_secs_f64());
        println!(
            "  {q:<14} LIKE {:>8.2} ms · LIKE page+count {:>8.2} ms · search index {:>7.3} ms · search HTTP {:>7.3} ms (cached {:>6.3} ms) · ratio {:>6.0}× / {:>6.0}×",
            fast_p50.as_secs_f64() * 1e3,
            paged_p50.as_secs_f64() * 1e3,
            index_us[i].as_secs_f64() * 1e3,
            http_idle[i].as_secs_f64() * 1e3,
            http_cached[i].as_secs_f64() * 1e3,
            fast_p50.as_secs_f64() / http_idle[i].as_secs_f64(),
            paged_p50.as_secs_f64() / http_idle[i].as_secs_f64(),
        );
        per_query.push((
            fast_p50.as_secs_f64() / http_idle[i].as_secs_f64(),
            paged_p50.as_secs_f64() / http_idle[i].as_secs_f64(),
        ));
        like.extend(fast);
        like_page.extend(paged);
    }
    let like_p50 = median(&mut like.clone());
    super::bench::report(
        "LIKE '%q%' LIMIT 20 (database only)",
        &mut like,
        0,
        Duration::from_secs(1),
    );
    super::bench::report(
        "LIKE '%q%' ordered page + count to the cap (database only)",
        &mut like_page,
        0,
        Duration::from_secs(1),
    );
    let mid = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "median over the query mix of (LIKE / search over HTTP, idle, page cache off): {:.0}× (LIMIT 20), {:.0}× (page + count)",
        mid(per_query.iter().map(|r| r.0).collect()),
        mid(per_query.iter().map(|r| r.1).collect()),
    );
    println!(
        "ratio of medians: LIKE {:.2} ms / search over HTTP at {}/s (page cache on) {:.3} ms = {:.0}×",
        like_p50.as_secs_f64() * 1000.0,
        args.rate,
        open_p50.as_secs_f64() * 1000.0,
        like_p50.as_secs_f64() / open_p50.as_secs_f64()
    );

    let like_mix: f64 = mix_like.iter().sum();
    let paged_mix: f64 = mix_paged.iter().sum();
    let search_mix: f64 = http_idle.iter().map(Duration::as_secs_f64).sum();
    println!(
        "the whole mix once (sum over the {} queries): LIKE LIMIT 20 {:.0} ms, LIKE page + count {:.0} ms, search over HTTP (idle, page cache off) {:.2} ms = {:.0}× / {:.0}×",
        QUERIES.len(),
        like_mix * 1e3,
        paged_mix * 1e3,
        search_mix * 1e3,
        like_mix / search_mix,
        paged_mix / search_mix,
    );

    // Recall at full size: paging through every result of the broad one- and two-syllable
    // queries must reach every hospital that LIKE finds by name, address or doctor name (the
    // search also matches departments, so it may find more — never fewer).
    let every = format!("SELECT h.id FROM hospitals h WHERE {MATCH}");
    for q in RECALL_QUERIES {
        let mut found = std::collections::HashSet::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let page = index.search_hospitals(&docde_server::directory_index::HospitalQuery {
                text: (*q).into(),
                limit: docde_server::directory_index::MAX_LIMIT,
                cursor,
                ..Default::default()
            })?;
            pages += 1;
            found.extend(page.items.iter().map(|h| h.id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let rows: Vec<(String,)> = docde_store::with_reader!(state.store, pool => sqlx::query_as(sqlx::AssertSqlSafe(every.clone()))
            .bind(format!("%{q}%"))
            .fetch_all(pool)
            .await)?;
        let missing = rows
            .iter()
            .filter(|(id,)| !id.parse().is_ok_and(|id| found.contains(&id)))
            .count();
        println!(
            "recall {q}: {} hospitals in {pages} pages; LIKE on name, address and doctor names finds {}, of which the search missed {missing} ({} more match by department)",
            found.len(),
            rows.len(),
            found.len().saturating_sub(rows.len() - missing),
        );
        anyhow::ensure!(
            missing == 0,
            "search missed {missing} hospitals LIKE finds for {q}"
        );
    }

    shutdown.cancel();
    server.await??;
    store.close().await;
    Ok(())
}

/// Median of `INDEX_RUNS` requests of `url`, one at a time.
async fn idle_median(client: &reqwest::Client, url: &str) -> anyhow::Result<Duration> {
    let mut times = Vec::new();
    for _ in 0..INDEX_RUNS {
        let sent = Instant::now();
        let response = client.get(url).send().await?;
        anyhow::ensure!(response.status().is_success());
        response.bytes().await?;
        times.push(sent.elapsed());
    }
    Ok(median(&mut times))
}

/// The open-loop run at `--rate` (requests on a fixed schedule, latency counted from the
/// scheduled time), then the saturation run with `--concurrency` clients. Returns the open
/// loop's median.
async fn load_runs(
    args: &SearchArgs,
    client: &reqwest::Client,
    urls: &Arc<Vec<String>>,
    label: &str,
) -> anyhow::Result<Duration> {
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1)));
    let total = u64::from(args.rate) * args.seconds;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let scheduled = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let request = client.get(&urls[i as usize % urls.len()]).send();
        tasks.push(tokio::spawn(async move {
            let ok = match request.await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            (scheduled.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    let mut failures = 0;
    for t in tasks {
        let (latency, ok) = t.await?;
        latencies.push(latency);
        failures += usize::from(!ok);
    }
    let open_p50 = median(&mut latencies.clone());
    super::bench::report(
        &format!("search, open loop {}/s, {label}", args.rate),
        &mut latencies,
        failures,
        start.elapsed(),
    );

    // Saturation: as fast as `concurrency` clients can go.
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    let mut workers = Vec::new();
    for w in 0..args.concurrency {
        let (client, urls) = (client.clone(), Arc::clone(urls));
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            let mut i = w;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let ok = match client.get(&urls[i % urls.len()]).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                out.push((sent.elapsed(), ok));
                i += 1;
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
    super::bench::report(
        &format!("search, saturation ({} clients), {label}", args.concurrency),
        &mut latencies,
        failures,
        start.elapsed(),
    );

    Ok(open_p50)
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
