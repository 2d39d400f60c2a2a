//! In-process fan-out and counters, used alone (embedded) or as the local leg of Redis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::broadcast;

/// Per-topic channel capacity. A subscriber more than this many messages behind is told it
/// lagged (see [`Message::Lagged`]) rather than slowing the publisher: live streams recover
/// by replaying from the persisted event log.
const TOPIC_CAPACITY: usize = 1024;

/// One item from a [`Subscription`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Data(Bytes),
    /// This many messages were dropped because the subscriber fell behind.
    Lagged(u64),
}

/// A live subscription to one topic.
pub struct Subscription {
    rx: broadcast::Receiver<Bytes>,
}

impl Subscription {
    /// The next message; `None` once the bus is gone.
    pub async fn recv(&mut self) -> Option<Message> {
        match self.rx.recv().await {
            Ok(bytes) => Some(Message::Data(bytes)),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(Message::Lagged(n)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// Takes every message already waiting, without waiting for more; `false` once the bus
    /// is gone. For a subscriber whose messages only say "look again" (a wake-up): the many
    /// that came in while it was looking ask for one more look, not one each.
    pub fn skip_waiting(&mut self) -> bool {
        loop {
            match self.rx.try_recv() {
                Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => {}
                Err(broadcast::error::TryRecvError::Empty) => return true,
                Err(broadcast::error::TryRecvError::Closed) => return false,
            }
        }
    }
}

#[derive(Clone, Default)]
pub(crate) struct Fanout {
    topics: Arc<Mutex<HashMap<String, broadcast::Sender<Bytes>>>>,
}

impl Fanout {
    pub(crate) fn subscribe(&self, topic: &str) -> Subscription {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        let tx = topics
            .entry(topic.to_owned())
            .or_insert_with(|| broadcast::channel(TOPIC_CAPACITY).0);
        Subscription { rx: tx.subscribe() }
    }

    pub(crate) fn deliver(&self, topic: &str, payload: Bytes) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = topics.get(topic)
            && tx.send(payload).is_err()
        {
            // Nobody listens any more: forget the topic so the map does not grow forever.
            topics.remove(topic);
        }
    }
}

/// Fixed-window counters for a single instance.
#[derive(Default)]
pub(crate) struct Counters {
    map: Mutex<HashMap<String, (u64, Instant)>>,
}

impl Counters {
    pub(crate) fn incr(&self, key: &str, window: Duration) -> u64 {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        // Sweep expired entries now and then so abandoned keys do not accumulate.
        if map.len() > 4096 {
            map.retain(|_, (_, expires)| *expires > now);
        }
        let entry = map.entry(key.to_owned()).or_insert((0, now + window));
        if entry.1 <= now {
            *entry = (0, now + window);
        }
        entry.0 += 1;
        entry.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_subscriber_receives_what_is_published_after_it_subscribed() {
        let fanout = Fanout::default();
        fanout.deliver("t", Bytes::from_static(b"before"));
        let mut sub = fanout.subscribe("t");
        fanout.deliver("t", Bytes::from_static(b"after"));
        fanout.deliver("other", Bytes::from_static(b"elsewhere"));
        assert_eq!(
            sub.recv().await,
            Some(Message::Data(Bytes::from_static(b"after")))
        );
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_how_many_messages_it_missed() {
        let fanout = Fanout::default();
        let mut sub = fanout.subscribe("t");
        for i in 0..(TOPIC_CAPACITY + 5) {
            fanout.deliver("t", Bytes::from(i.to_string()));
        }
        assert_eq!(sub.recv().await, Some(Message::Lagged(5)));
        assert_eq!(sub.recv().await, Some(Message::Data(Bytes::from("5"))));
    }

    #[tokio::test]
    async fn skipping_takes_what_waits_and_only_that() {
        let fanout = Fanout::default();
        let mut sub = fanout.subscribe("t");
        for i in 0..(TOPIC_CAPACITY + 5) {
            fanout.deliver("t", Bytes::from(i.to_string()));
        }
        assert!(sub.skip_waiting());
        fanout.deliver("t", Bytes::from_static(b"later"));
        assert_eq!(
            sub.recv().await,
            Some(Message::Data(Bytes::from_static(b"later")))
        );
        drop(fanout);
        assert!(!sub.skip_waiting(), "the bus is gone");
    }

    #[test]
    fn counters_count_within_a_window_and_restart_after_it() {
        let counters = Counters::default();
        assert_eq!(counters.incr("k", Duration::from_secs(60)), 1);
        assert_eq!(counters.incr("k", Duration::from_secs(60)), 2);
        assert_eq!(counters.incr("other", Duration::from_secs(60)), 1);
        assert_eq!(counters.incr("short", Duration::ZERO), 1);
        assert_eq!(
            counters.incr("short", Duration::ZERO),
            1,
            "an expired window starts again at 1"
        );
    }
}
