//! The in-process bus (the embedded default) through its public API: the same behaviours the
//! Redis tests check across instances, here within one instance.

use std::time::Duration;

use bytes::Bytes;
use docde_bus::{Bus, BusHealth, Message, Subscription};

/// Long enough for a message that is on its way; a missing message fails well before a hang.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(5);

async fn next(sub: &mut Subscription) -> Option<Message> {
    tokio::time::timeout(RECEIVE_TIMEOUT, sub.recv())
        .await
        .expect("no message arrived within the timeout")
}

#[tokio::test]
async fn a_published_message_reaches_subscribers_of_its_topic_through_any_clone_of_the_bus() {
    let bus = Bus::in_process();
    let publisher = bus.clone();
    let mut orders = bus.subscribe("orders");
    let mut beds = bus.subscribe("beds");

    publisher.publish("orders", "order 1").await.unwrap();
    // Delivery is ordered per instance, so if "order 1" had leaked to the other topic it
    // would arrive there before "bed 7".
    publisher.publish("beds", "bed 7").await.unwrap();

    assert_eq!(
        next(&mut orders).await,
        Some(Message::Data(Bytes::from("order 1")))
    );
    assert_eq!(
        next(&mut beds).await,
        Some(Message::Data(Bytes::from("bed 7")))
    );
    assert_eq!(bus.kind(), "in-process");
    assert_eq!(bus.health().await, BusHealth::Ready);
}

#[tokio::test]
async fn counters_count_within_the_window_restart_after_it_and_are_not_shared_between_buses() {
    let window = Duration::from_millis(300);
    let bus = Bus::in_process();
    let other_instance = Bus::in_process();

    assert_eq!(bus.incr("login:ward-3", window).await.unwrap(), 1);
    assert_eq!(bus.clone().incr("login:ward-3", window).await.unwrap(), 2);
    assert_eq!(
        other_instance.incr("login:ward-3", window).await.unwrap(),
        1,
        "a separate in-process bus is a separate instance with its own counters"
    );

    tokio::time::sleep(window + Duration::from_millis(100)).await;
    assert_eq!(
        bus.incr("login:ward-3", window).await.unwrap(),
        1,
        "the counter starts again after its window"
    );
}

#[tokio::test]
async fn a_wake_up_reaches_waiters_on_that_channel_only() {
    let bus = Bus::in_process();
    let mut queue_waiter = bus.wakeups("queue");
    let mut alarms_waiter = bus.wakeups("alarms");

    bus.wake("queue").await.unwrap();
    bus.wake("alarms").await.unwrap();

    assert_eq!(
        next(&mut queue_waiter).await,
        Some(Message::Data(Bytes::new()))
    );
    assert_eq!(
        next(&mut alarms_waiter).await,
        Some(Message::Data(Bytes::new()))
    );
    // Both wake-ups were delivered before we got here; a leaked "queue" wake-up would be
    // waiting in the alarms subscription now.
    assert!(
        tokio::time::timeout(Duration::from_millis(100), alarms_waiter.recv())
            .await
            .is_err(),
        "the alarms waiter was woken by a wake-up on another channel"
    );
}

#[tokio::test]
async fn a_wake_up_is_not_delivered_to_subscribers_of_a_topic_with_the_channel_name() {
    let bus = Bus::in_process();
    let mut topic = bus.subscribe("queue");

    bus.wake("queue").await.unwrap();
    bus.publish("queue", "data").await.unwrap();

    assert_eq!(
        next(&mut topic).await,
        Some(Message::Data(Bytes::from("data")))
    );
}
