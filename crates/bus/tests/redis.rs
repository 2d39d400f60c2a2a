//! The Redis bus as several instances see it: two `Bus::redis` clients stand for two DocDe
//! instances sharing one Redis.
//!
//! These tests run only when `TEST_REDIS_URL` is set; otherwise each prints why it skipped.
//! When it is set, an unreachable Redis is a failure, not a skip. Every test works in its own
//! namespace (and the reconnection test with its own ACL user), so they can run in parallel
//! against one Redis, alongside other users of it.

use std::time::Duration;

use bytes::Bytes;
use docde_bus::{Bus, BusHealth, Message, Subscription};
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

/// Long enough for a message that is on its way; a missing message fails well before a hang.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The Redis URL, or `None` after printing why the test is skipped.
fn redis_url(test: &str) -> Option<String> {
    match std::env::var("TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            println!(
                "skipping {test}: set TEST_REDIS_URL=redis://127.0.0.1:6379 to run the Redis coordination tests"
            );
            None
        }
    }
}

/// A namespace no other test (or earlier run) uses.
fn fresh_namespace() -> String {
    format!("docde-test-{}", uuid::Uuid::now_v7().simple())
}

async fn instance(url: &str, namespace: &str, shutdown: &CancellationToken) -> Bus {
    Bus::redis(url, namespace, shutdown.clone())
        .await
        .unwrap_or_else(|e| panic!("cannot connect the bus to TEST_REDIS_URL: {e}"))
}

async fn next(sub: &mut Subscription) -> Option<Message> {
    timeout(RECEIVE_TIMEOUT, sub.recv())
        .await
        .expect("no message arrived within the timeout")
}

#[tokio::test]
async fn a_message_published_on_one_instance_reaches_subscribers_of_that_topic_on_another() {
    let Some(url) = redis_url(
        "a_message_published_on_one_instance_reaches_subscribers_of_that_topic_on_another",
    ) else {
        return;
    };
    let namespace = fresh_namespace();
    let shutdown = CancellationToken::new();
    let publisher = instance(&url, &namespace, &shutdown).await;
    let subscriber = instance(&url, &namespace, &shutdown).await;
    assert_eq!(subscriber.kind(), "redis");
    let mut orders = subscriber.subscribe("orders");
    let mut beds = subscriber.subscribe("beds");

    publisher.publish("orders", "order 1").await.unwrap();
    // One instance receives its namespace in publish order, so if "order 1" had leaked to
    // the other topic it would arrive there before "bed 7".
    publisher.publish("beds", "bed 7").await.unwrap();

    assert_eq!(
        next(&mut orders).await,
        Some(Message::Data(Bytes::from("order 1")))
    );
    assert_eq!(
        next(&mut beds).await,
        Some(Message::Data(Bytes::from("bed 7")))
    );
    shutdown.cancel();
}

#[tokio::test]
async fn instances_in_different_namespaces_do_not_see_each_others_messages() {
    let Some(url) = redis_url("instances_in_different_namespaces_do_not_see_each_others_messages")
    else {
        return;
    };
    let shutdown = CancellationToken::new();
    let ours = fresh_namespace();
    let publisher = instance(&url, &ours, &shutdown).await;
    let subscriber = instance(&url, &ours, &shutdown).await;
    let stranger = instance(&url, &fresh_namespace(), &shutdown).await;
    let mut ours_sub = subscriber.subscribe("orders");
    let mut stranger_sub = stranger.subscribe("orders");

    stranger.publish("orders", "theirs").await.unwrap();
    publisher.publish("orders", "ours").await.unwrap();

    assert_eq!(
        next(&mut ours_sub).await,
        Some(Message::Data(Bytes::from("ours")))
    );
    assert_eq!(
        next(&mut stranger_sub).await,
        Some(Message::Data(Bytes::from("theirs")))
    );
    shutdown.cancel();
}

#[tokio::test]
async fn counters_are_shared_between_instances_and_restart_after_the_window() {
    let Some(url) = redis_url("counters_are_shared_between_instances_and_restart_after_the_window")
    else {
        return;
    };
    let namespace = fresh_namespace();
    let shutdown = CancellationToken::new();
    let first = instance(&url, &namespace, &shutdown).await;
    let second = instance(&url, &namespace, &shutdown).await;
    let window = Duration::from_millis(300);

    assert_eq!(first.incr("login:ward-3", window).await.unwrap(), 1);
    assert_eq!(second.incr("login:ward-3", window).await.unwrap(), 2);
    assert_eq!(second.incr("login:ward-4", window).await.unwrap(), 1);

    tokio::time::sleep(window + Duration::from_millis(200)).await;
    assert_eq!(
        second.incr("login:ward-3", window).await.unwrap(),
        1,
        "the counter starts again after its window"
    );
    shutdown.cancel();
}

#[tokio::test]
async fn a_wake_up_on_one_instance_wakes_waiters_on_another() {
    let Some(url) = redis_url("a_wake_up_on_one_instance_wakes_waiters_on_another") else {
        return;
    };
    let namespace = fresh_namespace();
    let shutdown = CancellationToken::new();
    let waker = instance(&url, &namespace, &shutdown).await;
    let sleeper = instance(&url, &namespace, &shutdown).await;
    let mut queue_waiter = sleeper.wakeups("queue");
    let mut alarms_waiter = sleeper.wakeups("alarms");

    waker.wake("queue").await.unwrap();
    waker.wake("alarms").await.unwrap();

    assert_eq!(
        next(&mut queue_waiter).await,
        Some(Message::Data(Bytes::new()))
    );
    assert_eq!(
        next(&mut alarms_waiter).await,
        Some(Message::Data(Bytes::new()))
    );
    // Both wake-ups reached this instance, in order, before we got here; a leaked "queue"
    // wake-up would be waiting in the alarms subscription now.
    assert!(
        timeout(Duration::from_millis(200), alarms_waiter.recv())
            .await
            .is_err(),
        "the alarms waiter was woken by a wake-up on another channel"
    );
    shutdown.cancel();
}

/// A Redis ACL user that exists for one test, so that test can kill its own connections
/// without touching anyone else's. Deleted on drop, also when the test fails.
struct ThrowawayUser {
    admin: redis::Client,
    name: String,
}

impl ThrowawayUser {
    /// Creates the user and returns it with a URL that logs in as it.
    async fn create(admin_url: &str) -> (Self, String) {
        let admin = redis::Client::open(admin_url).expect("TEST_REDIS_URL is not a valid URL");
        let name = format!("docde-test-{}", uuid::Uuid::now_v7().simple());
        // redis-rs sends AUTH only when the URL has a password, so the user needs one:
        // with a name alone it would log in as the default user.
        let password = uuid::Uuid::now_v7().simple().to_string();
        let mut conn = admin
            .get_multiplexed_async_connection()
            .await
            .expect("cannot connect to TEST_REDIS_URL");
        let () = redis::cmd("ACL")
            .arg("SETUSER")
            .arg(&name)
            .arg("on")
            .arg(format!(">{password}"))
            .arg("~*")
            .arg("&*")
            .arg("+@all")
            .query_async(&mut conn)
            .await
            .expect("ACL SETUSER failed");
        let mut url = url::Url::parse(admin_url).expect("TEST_REDIS_URL is not a valid URL");
        url.set_username(&name).unwrap();
        url.set_password(Some(&password)).unwrap();
        (Self { admin, name }, url.into())
    }

    /// Disables the user, so the bus cannot log in again until it is re-enabled.
    async fn disable(&self, enabled: bool) {
        let mut conn = self.admin.get_multiplexed_async_connection().await.unwrap();
        let () = redis::cmd("ACL")
            .arg("SETUSER")
            .arg(&self.name)
            .arg(if enabled { "on" } else { "off" })
            .query_async(&mut conn)
            .await
            .expect("ACL SETUSER on/off failed");
    }

    /// Closes every connection logged in as this user; returns how many there were.
    async fn kill_connections(&self) -> i64 {
        let mut conn = self.admin.get_multiplexed_async_connection().await.unwrap();
        redis::cmd("CLIENT")
            .arg("KILL")
            .arg("USER")
            .arg(&self.name)
            .query_async(&mut conn)
            .await
            .expect("CLIENT KILL USER failed")
    }
}

impl Drop for ThrowawayUser {
    fn drop(&mut self) {
        // Synchronous on purpose: Drop cannot await, and this is one short command.
        let deleted = self.admin.get_connection().and_then(|mut conn| {
            redis::cmd("ACL")
                .arg("DELUSER")
                .arg(&self.name)
                .query::<i64>(&mut conn)
        });
        if let Err(e) = deleted {
            eprintln!("could not delete Redis ACL user {}: {e}", self.name);
        }
    }
}

#[tokio::test]
async fn delivery_resumes_after_the_redis_connections_are_killed() {
    let Some(admin_url) = redis_url("delivery_resumes_after_the_redis_connections_are_killed")
    else {
        return;
    };
    let (user, url) = ThrowawayUser::create(&admin_url).await;
    let namespace = fresh_namespace();
    let shutdown = CancellationToken::new();
    let bus = instance(&url, &namespace, &shutdown).await;
    let mut orders = bus.subscribe("orders");
    bus.publish("orders", "before").await.unwrap();
    assert_eq!(
        next(&mut orders).await,
        Some(Message::Data(Bytes::from("before")))
    );

    let killed = user.kill_connections().await;
    assert!(
        killed >= 2,
        "expected the bus's command and subscription connections to be killed, got {killed}"
    );

    // The bus reconnects with backoff and re-subscribes. Messages another instance publishes
    // in between are lost (delivery is at-most-once), so keep publishing until one comes
    // through Redis. (This instance's own publishes reach its subscribers even meanwhile.)
    let other = instance(&admin_url, &namespace, &shutdown).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut attempt = 0;
    let received = loop {
        assert!(
            Instant::now() < deadline,
            "no message was delivered within 10 s of the connections being killed"
        );
        attempt += 1;
        other
            .publish("orders", format!("after {attempt}"))
            .await
            .unwrap();
        if let Ok(message) = timeout(Duration::from_millis(200), orders.recv()).await {
            break message;
        }
    };
    match received {
        Some(Message::Data(payload)) => assert!(
            payload.starts_with(b"after "),
            "unexpected message after reconnecting: {payload:?}"
        ),
        other => panic!("expected a message after reconnecting, got {other:?}"),
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while bus.health().await != BusHealth::Ready {
        assert!(Instant::now() < deadline, "ready again after reconnecting");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(bus.health().await, BusHealth::Ready);

    // Stop the bus before its user disappears, so it does not retry against a deleted user.
    shutdown.cancel();
    drop(bus);
    drop(user);
}

#[tokio::test]
async fn counters_fall_back_to_this_instance_while_redis_is_unreachable() {
    let Some(admin_url) =
        redis_url("counters_fall_back_to_this_instance_while_redis_is_unreachable")
    else {
        return;
    };
    let (user, url) = ThrowawayUser::create(&admin_url).await;
    let shutdown = CancellationToken::new();
    let bus = instance(&url, &fresh_namespace(), &shutdown).await;
    let window = Duration::from_secs(60);
    assert_eq!(bus.incr("k", window).await.unwrap(), 1);
    assert_eq!(bus.incr("k", window).await.unwrap(), 2, "counted in Redis");

    user.disable(false).await;
    user.kill_connections().await;
    // Redis now refuses this bus: counting goes on, locally, from scratch.
    let mut counts = Vec::new();
    for _ in 0..3 {
        counts.push(
            bus.incr("k", window)
                .await
                .expect("a counter never fails the caller"),
        );
    }
    assert_eq!(counts, [1, 2, 3], "local fallback counts on its own");
    assert!(
        matches!(bus.health().await, BusHealth::NotReady(_)),
        "the outage is reported to /readyz"
    );

    user.disable(true).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while bus.health().await != BusHealth::Ready {
        assert!(
            Instant::now() < deadline,
            "the bus reconnects once Redis accepts it again: {:?}",
            bus.health().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        bus.incr("k", window).await.unwrap(),
        3,
        "back on the shared Redis count"
    );
    shutdown.cancel();
}

#[tokio::test]
async fn while_redis_is_unreachable_a_publish_wakes_this_instance_at_once() {
    let Some(admin_url) =
        redis_url("while_redis_is_unreachable_a_publish_wakes_this_instance_at_once")
    else {
        return;
    };
    let (user, url) = ThrowawayUser::create(&admin_url).await;
    let shutdown = CancellationToken::new();
    let namespace = fresh_namespace();
    let bus = instance(&url, &namespace, &shutdown).await;
    let mut ward = bus.subscribe("ward");
    let mut wakeups = bus.wakeups("queue");

    user.disable(false).await;
    user.kill_connections().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while bus.health().await == BusHealth::Ready {
        assert!(Instant::now() < deadline, "the cut is noticed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A request that publishes after its commit must neither wait for Redis's command
    // timeout (2 s) nor leave this instance's own streams asleep.
    let started = Instant::now();
    bus.publish("ward", "changed")
        .await
        .expect("a publish while Redis is away is delivered here");
    bus.wake("queue").await.expect("so is a wake-up");
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(500),
        "publishing waited {took:?} for an unreachable Redis"
    );
    assert_eq!(
        next(&mut ward).await,
        Some(Message::Data(Bytes::from("changed")))
    );
    assert!(matches!(next(&mut wakeups).await, Some(Message::Data(_))));

    // Back to Redis once it accepts the instance again: a message goes round through it.
    user.disable(true).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while bus.health().await != BusHealth::Ready {
        assert!(Instant::now() < deadline, "the bus reconnects");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let other = instance(&admin_url, &namespace, &shutdown).await;
    other
        .publish("ward", "from another instance")
        .await
        .unwrap();
    assert_eq!(
        next(&mut ward).await,
        Some(Message::Data(Bytes::from("from another instance")))
    );
    shutdown.cancel();
    drop(bus);
    drop(user);
}
