//! The watchers of `docde bench reception`: WebSocket clients following their tickets, what
//! each saw (position updates, the result, delivery lag, gaps between messages), and the
//! report of those figures by phase of the run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// When the phases of a run began: the spike, its last answer, the last watcher connected,
/// and (in hold mode) the drain.
pub(super) struct Moments {
    pub start: Instant,
    pub answered_at: Instant,
    pub all_connected: Option<Instant>,
    pub drain_started: Option<Instant>,
}

/// Prints what the watchers saw: counts, gaps between updates and delivery lag, overall and
/// by phase (while the watchers connect, while the line stands, while it moves, results).
/// Returns how many watchers failed.
pub(super) fn report(
    stats: &[anyhow::Result<Watch>],
    connected: usize,
    open_now: usize,
    moments: Moments,
) -> usize {
    let ok: Vec<&Watch> = stats.iter().filter_map(|s| s.as_ref().ok()).collect();
    let failed = stats.len() - ok.len();
    // Position updates while the line stands still, position updates while it moves (in hold
    // mode the drain runs in this process, on the same two cores), and the results.
    let lags_where = |keep: &dyn Fn(Instant, bool) -> bool| {
        let mut v: Vec<Duration> = ok
            .iter()
            .flat_map(|w| w.lags.iter())
            .filter(|(at, _, result)| keep(*at, *result))
            .map(|(_, lag, _)| *lag)
            .collect();
        v.sort_unstable();
        v
    };
    let moving_from = moments.drain_started.unwrap_or(moments.start);
    let lags = lags_where(&|_, _| true);
    let connected_at = moments.all_connected.unwrap_or(moments.start);
    let connecting = lags_where(&|at, result| !result && at < connected_at.min(moving_from));
    let standing = lags_where(&|at, result| !result && at >= connected_at && at < moving_from);
    let moving = lags_where(&|at, result| !result && at >= moving_from);
    let result_lags = lags_where(&|_, result| result);
    let gaps_where = |keep: &dyn Fn(Instant) -> bool| {
        let mut v: Vec<Duration> = ok
            .iter()
            .flat_map(|w| w.gaps.iter())
            .filter(|(at, _)| keep(*at))
            .map(|(_, gap)| *gap)
            .collect();
        v.sort_unstable();
        v
    };
    let gaps = gaps_where(&|_| true);
    let updates: usize = ok.iter().map(|w| w.positions).sum();
    let results = ok.iter().filter(|w| w.result).count();
    println!(
        "watchers: {} connected ({failed} failed), at most {open_now} open at once, {results} got their result; {updates} position updates; gap between updates p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (≥ 1 Hz means ≤ 1000 ms); delivery lag p50 {:.1} ms, p99 {:.1} ms",
        connected,
        pct(&gaps, 0.5),
        pct(&gaps, 0.99),
        pct(&gaps, 1.0),
        pct(&lags, 0.5),
        pct(&lags, 0.99),
    );
    println!(
        "delivery lag p50 / p99 / max: position updates while the {} watchers connect {:.1} / {:.1} / {:.1} ms (n={}), then while the line stands {:.1} / {:.1} / {:.1} ms (n={}), while it moves {:.1} / {:.1} / {:.1} ms (n={}), results {:.1} / {:.1} / {:.1} ms (n={})",
        connected,
        pct(&connecting, 0.5),
        pct(&connecting, 0.99),
        pct(&connecting, 1.0),
        connecting.len(),
        pct(&standing, 0.5),
        pct(&standing, 0.99),
        pct(&standing, 1.0),
        standing.len(),
        pct(&moving, 0.5),
        pct(&moving, 0.99),
        pct(&moving, 1.0),
        moving.len(),
        pct(&result_lags, 0.5),
        pct(&result_lags, 0.99),
        pct(&result_lags, 1.0),
        result_lags.len(),
    );
    let (gaps_connecting, gaps_standing, gaps_moving) = (
        gaps_where(&|at| at < connected_at.min(moving_from)),
        gaps_where(&|at| at >= connected_at && at < moving_from),
        gaps_where(&|at| at >= moving_from),
    );
    println!(
        "gap between updates p99 / max: while the watchers connect {:.0} / {:.0} ms, then while the line stands {:.0} / {:.0} ms, while it moves {:.0} / {:.0} ms; {} of {} gaps over 1000 ms; watchers all connected {:.2} s after the spike was answered",
        pct(&gaps_connecting, 0.99),
        pct(&gaps_connecting, 1.0),
        pct(&gaps_standing, 0.99),
        pct(&gaps_standing, 1.0),
        pct(&gaps_moving, 0.99),
        pct(&gaps_moving, 1.0),
        gaps.iter().filter(|g| **g > Duration::from_secs(1)).count(),
        gaps.len(),
        moments.all_connected.map_or(0.0, |t: Instant| t
            .duration_since(moments.answered_at)
            .as_secs_f64()),
    );
    failed
}

/// What one watcher saw.
pub(super) struct Watch {
    positions: usize,
    /// Receive time minus the server's `sent_at` of each message, with when it arrived and
    /// whether it was the result (not a position update).
    lags: Vec<(Instant, Duration, bool)>,
    /// Time between consecutive messages, with when the later one arrived.
    gaps: Vec<(Instant, Duration)>,
    result: bool,
}

pub(super) async fn watch(
    addr: std::net::SocketAddr,
    ticket: &str,
    auth: hyper::header::HeaderValue,
    open: Arc<AtomicUsize>,
    connected: Arc<AtomicUsize>,
    handshakes: &tokio::sync::Semaphore,
) -> anyhow::Result<Watch> {
    let permit = handshakes.acquire().await?;
    let mut request =
        format!("ws://{addr}/api/v1/reception/tickets/{ticket}/ws").into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", auth.to_str()?.parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    drop(permit);
    connected.fetch_add(1, Ordering::Relaxed);
    open.fetch_add(1, Ordering::Relaxed);
    let w = read_watch(&mut socket).await;
    open.fetch_sub(1, Ordering::Relaxed);
    w
}

async fn read_watch<S>(socket: &mut S) -> anyhow::Result<Watch>
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut w = Watch {
        positions: 0,
        lags: Vec::new(),
        gaps: Vec::new(),
        result: false,
    };
    let mut last: Option<Instant> = None;
    while let Some(message) = tokio::time::timeout(Duration::from_secs(30), socket.next()).await? {
        let Message::Text(text) = message? else {
            continue;
        };
        let now = Instant::now();
        let body: Value = serde_json::from_str(&text)?;
        if let Some(sent) = body["sent_at"]
            .as_str()
            .and_then(|s| s.parse::<chrono::DateTime<Utc>>().ok())
        {
            let lag = (Utc::now() - sent).to_std().unwrap_or_default();
            w.lags.push((now, lag, body["type"] == "result"));
        }
        if let Some(prev) = last {
            w.gaps.push((now, now - prev));
        }
        last = Some(now);
        match body["type"].as_str() {
            Some("position") => w.positions += 1,
            Some("result") => {
                w.result = true;
                break;
            }
            _ => {}
        }
    }
    Ok(w)
}

/// The `q` quantile of `sorted`, in milliseconds.
pub(super) fn pct(sorted: &[Duration], q: f64) -> f64 {
    crate::bench::quantile(sorted, q).as_secs_f64() * 1000.0
}
