//! A server-sent-events client that behaves like the nurse station's browser: when its stream
//! ends or breaks it reconnects (to the same URL, i.e. through nginx to whichever instance is
//! left) with `Last-Event-ID`, and it remembers every event id it was given.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One event as received.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: i64,
    pub kind: String,
    pub data: String,
}

#[derive(Default)]
pub struct Seen {
    pub events: Vec<SseEvent>,
    /// Connections made after the first.
    pub reconnects: usize,
    /// Duplicate ids received (a resumed stream must start after the last one).
    pub duplicates: usize,
}

pub struct SseClient {
    pub seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl SseClient {
    /// Connects to `url` as `token`, resuming after `last` if given.
    pub fn start(url: String, token: String, last: Option<i64>) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = seen.clone();
        let task = tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(2))
                .build()
                .unwrap();
            let mut last = last;
            let mut connections = 0usize;
            // Bounded: at most 200 connections, 100 ms apart when refused.
            while connections < 200 {
                let mut request = client.get(&url).bearer_auth(&token);
                if let Some(id) = last {
                    request = request.header("Last-Event-ID", id.to_string());
                }
                let response = match request.send().await {
                    Ok(r) if r.status() == 200 => r,
                    _ => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if connections > 0 {
                    shared.lock().unwrap().reconnects += 1;
                }
                connections += 1;
                let mut response = response;
                let mut buffer = String::new();
                while let Ok(Some(chunk)) = response.chunk().await {
                    buffer.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = buffer.find("\n\n") {
                        let block: String = buffer.drain(..end + 2).collect();
                        if let Some(event) = parse(&block) {
                            let mut seen = shared.lock().unwrap();
                            if last.is_some_and(|l| event.id <= l) {
                                seen.duplicates += 1;
                            } else {
                                last = Some(event.id);
                                seen.events.push(event);
                            }
                        }
                    }
                }
            }
        });
        Self { seen, task }
    }

    pub fn ids(&self) -> Vec<i64> {
        self.seen
            .lock()
            .unwrap()
            .events
            .iter()
            .map(|e| e.id)
            .collect()
    }

    pub fn reconnects(&self) -> usize {
        self.seen.lock().unwrap().reconnects
    }

    pub fn duplicates(&self) -> usize {
        self.seen.lock().unwrap().duplicates
    }

    /// Waits (at most `limit`) until an event matching `found` arrived; whether it did.
    pub async fn wait_for(&self, limit: Duration, found: impl Fn(&SseEvent) -> bool) -> bool {
        self.wait_count(limit, 1, found).await
    }

    /// Waits (at most `limit`) until `n` events matching `found` arrived; whether they did.
    pub async fn wait_count(
        &self,
        limit: Duration,
        n: usize,
        found: impl Fn(&SseEvent) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if self
                .seen
                .lock()
                .unwrap()
                .events
                .iter()
                .filter(|e| found(e))
                .count()
                >= n
            {
                return true;
            }
            if tokio::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (at most `limit`) until the last id is at least `id`.
    pub async fn wait_until(&self, id: i64, limit: Duration) -> bool {
        self.wait_for(limit, |e| e.id >= id).await
    }
}

impl Drop for SseClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn parse(block: &str) -> Option<SseEvent> {
    let mut id = None;
    let mut kind = String::from("message");
    let mut data = String::new();
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("id:") {
            id = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("event:") {
            kind = v.trim().to_owned();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    Some(SseEvent {
        id: id?,
        kind,
        data,
    })
}
