//! The load engine: prepared requests sent on a schedule over a fixed set of connections.
//!
//! Open loop (`rate > 0`): request `i` is due at `start + i / rate`, whatever happened to the
//! ones before it, and its latency counts from that due time. A worker (one per connection)
//! claims the next due request, waits until it is due and sends it; when every connection is
//! busy the request waits, and that wait is part of its latency, so a server that falls behind
//! shows it instead of slowing the generator down (coordinated omission).
//!
//! Closed loop (`rate == 0`): every worker sends its next request as soon as the last one is
//! answered, and latency counts from the send: the saturation throughput.
//!
//! A request whose connection fails (the server was killed, a keep-alive connection closed)
//! is sent again on a new connection until `give_up` after its due time. Booking requests
//! carry an `Idempotency-Key`, so a retry of a booking that did commit returns the first
//! answer instead of booking twice.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hyper::body::Bytes;

use super::http::{Connection, Prepared};

/// How a run is driven.
#[derive(Debug, Clone, Copy)]
pub struct Drive {
    pub addr: SocketAddr,
    pub connections: usize,
    /// Requests per second; 0 = closed loop.
    pub rate: u32,
    /// How long after its due time a request is still retried after transport errors.
    pub give_up: Duration,
}

/// What happened to one request.
#[derive(Debug, Clone)]
pub struct Record<C> {
    /// From the due time (open loop) or the send (closed loop) to the whole answer.
    pub latency: Duration,
    /// When the request was due.
    pub due: Instant,
    /// When its answer arrived.
    pub answered: Instant,
    /// HTTP status of the final answer; 0 when no answer came before `give_up`.
    pub status: u16,
    /// Transport errors on the way (each followed by a retry).
    pub retries: u32,
    pub class: C,
}

/// A finished run.
pub struct Run<C> {
    /// One record per request, in request order.
    pub records: Vec<Record<C>>,
    pub start: Instant,
    /// From the first due time to the last answer.
    pub elapsed: Duration,
}

impl<C> Run<C> {
    /// Requests that received any answer, per second of the run.
    pub fn answered_per_second(&self) -> f64 {
        let n = self.records.iter().filter(|r| r.status != 0).count();
        n as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn latencies(&self) -> Vec<Duration> {
        self.records.iter().map(|r| r.latency).collect()
    }

    pub fn retries(&self) -> u64 {
        self.records.iter().map(|r| u64::from(r.retries)).sum()
    }
}

/// Sends every request of `requests` as `drive` says and classifies each answer with
/// `classify` (called on the worker, so only the small classification is kept). `claimed`
/// counts requests taken by workers; another task may watch it to act mid-run.
///
/// The load runs on a thread of its own with a single-threaded runtime: every microsecond the
/// generator spends is taken from the server it measures, and on one thread a connection's
/// worker and hyper's connection task wake each other without a cross-thread hand-off (a
/// futex wake and a context switch per request on the multi-threaded runtime).
pub async fn run<C, F>(
    drive: Drive,
    requests: Arc<Vec<Prepared>>,
    classify: F,
    claimed: Arc<AtomicUsize>,
) -> anyhow::Result<Run<C>>
where
    C: Send + 'static,
    F: Fn(u16, &Bytes) -> C + Send + Sync + 'static,
{
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("bench-load".into())
        .spawn(move || {
            let ran = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|runtime| {
                    runtime.block_on(drive_here(drive, requests, classify, claimed))
                });
            let _ = done.send(ran);
        })?;
    result.await?
}

/// [`run`] on the current runtime.
async fn drive_here<C, F>(
    drive: Drive,
    requests: Arc<Vec<Prepared>>,
    classify: F,
    claimed: Arc<AtomicUsize>,
) -> anyhow::Result<Run<C>>
where
    C: Send + 'static,
    F: Fn(u16, &Bytes) -> C + Send + Sync + 'static,
{
    let n = requests.len();
    let workers = drive.connections.clamp(1, n.max(1));
    let classify = Arc::new(classify);
    // Every worker connects first; the clock starts once all are connected.
    let (start_tx, start_rx) = tokio::sync::watch::channel(None::<Instant>);
    let connected = Arc::new(tokio::sync::Barrier::new(workers + 1));
    let interval = if drive.rate == 0 {
        None
    } else {
        Some(Duration::from_secs_f64(1.0 / f64::from(drive.rate)))
    };
    let mut tasks = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (requests, classify, claimed) = (requests.clone(), classify.clone(), claimed.clone());
        let (connected, mut start_rx) = (connected.clone(), start_rx.clone());
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::open(drive.addr).await.ok();
            connected.wait().await;
            let start = match start_rx.wait_for(Option::is_some).await {
                Ok(start) => start.expect("checked"),
                Err(_) => return Vec::new(),
            };
            let mut out = Vec::new();
            loop {
                let i = claimed.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return out;
                }
                let due = match interval {
                    Some(interval) => {
                        let due = start + interval.mul_f64(i as f64);
                        tokio::time::sleep_until(due.into()).await;
                        due
                    }
                    None => Instant::now(),
                };
                let (status, body, retries) =
                    send_with_retries(&mut connection, drive, &requests[i], due).await;
                let answered = Instant::now();
                out.push((
                    i,
                    Record {
                        latency: answered - due,
                        due,
                        answered,
                        status,
                        retries,
                        class: classify(status, &body),
                    },
                ));
            }
        }));
    }
    connected.wait().await;
    let start = Instant::now() + Duration::from_millis(5);
    start_tx.send_replace(Some(start));
    let mut indexed = Vec::with_capacity(n);
    for task in tasks {
        indexed.extend(task.await?);
    }
    indexed.sort_unstable_by_key(|(i, _)| *i);
    let records: Vec<Record<C>> = indexed.into_iter().map(|(_, r)| r).collect();
    let last = records.iter().map(|r| r.answered).max().unwrap_or(start);
    Ok(Run {
        records,
        start,
        elapsed: last.saturating_duration_since(start),
    })
}

/// Sends `request`, reconnecting and retrying after transport errors until `give_up` after
/// `due`. Returns status 0 and an empty body if no answer came.
async fn send_with_retries(
    connection: &mut Option<Connection>,
    drive: Drive,
    request: &Prepared,
    due: Instant,
) -> (u16, Bytes, u32) {
    let deadline = due + drive.give_up;
    let mut retries = 0;
    loop {
        if connection.is_none() {
            match Connection::open(drive.addr).await {
                Ok(c) => *connection = Some(c),
                Err(_) => {
                    if Instant::now() >= deadline {
                        return (0, Bytes::new(), retries);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            }
        }
        let Some(open) = connection.as_mut() else {
            continue;
        };
        match open.send(request).await {
            Ok((status, body)) => return (status, body, retries),
            Err(_) => {
                *connection = None;
                retries += 1;
                if Instant::now() >= deadline {
                    return (0, Bytes::new(), retries);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Answers in each second of a run (1 s buckets from `start`).
pub fn per_second(start: Instant, answered: &[Instant]) -> Vec<usize> {
    let mut buckets: Vec<usize> = Vec::new();
    for at in answered {
        let Ok(second) = usize::try_from(at.saturating_duration_since(start).as_secs()) else {
            continue;
        };
        if buckets.len() <= second {
            buckets.resize(second + 1, 0);
        }
        buckets[second] += 1;
    }
    buckets
}

/// The p99 latency of the requests due in each second of a run (1 s buckets from `start`, by
/// due time, not answer time): where a backlog builds and whether it drains shows here, which
/// the run's single p99 hides.
pub fn p99_by_due_second<C>(start: Instant, records: &[Record<C>]) -> Vec<Duration> {
    let mut buckets: Vec<Vec<Duration>> = Vec::new();
    for r in records.iter().filter(|r| r.status != 0) {
        let Ok(second) = usize::try_from(r.due.saturating_duration_since(start).as_secs()) else {
            continue;
        };
        if buckets.len() <= second {
            buckets.resize_with(second + 1, Vec::new);
        }
        buckets[second].push(r.latency);
    }
    buckets
        .into_iter()
        .map(|mut b| {
            b.sort();
            crate::bench::quantile(&b, 0.99)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(start: Instant, due_ms: u64, latency_ms: u64, status: u16) -> Record<()> {
        let due = start + Duration::from_millis(due_ms);
        let latency = Duration::from_millis(latency_ms);
        Record {
            latency,
            due,
            answered: due + latency,
            status,
            retries: 0,
            class: (),
        }
    }

    #[test]
    fn p99_is_taken_per_second_of_due_time_and_unanswered_requests_are_left_out() {
        let start = Instant::now();
        let mut records: Vec<Record<()>> = (0..9).map(|i| record(start, i, 2, 200)).collect();
        // Due in the first second but answered in the third: still the first second's.
        records.push(record(start, 999, 2_000, 200));
        records.extend((0..100).map(|i| record(start, 2_000 + i, 30 + i % 2, 409)));
        records.push(record(start, 2_500, 0, 0));
        let by_second = p99_by_due_second(start, &records);
        assert_eq!(
            by_second,
            [
                Duration::from_millis(2_000),
                Duration::ZERO,
                Duration::from_millis(31)
            ]
        );
    }
}
