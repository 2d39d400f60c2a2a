//! Graceful shutdown: in-flight work finishes, new connections are refused, streams end,
//! and the server returns within the grace period whatever clients do.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::StatusCode;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn a_slow_request_in_flight_completes_and_new_connections_are_refused() {
    let app = spawn_app_with(|c| c.http.shutdown_grace_ms = 5_000).await;
    let slow = tokio::spawn(app.client.get(app.url("/probe/slow?ms=1000")).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = Instant::now();
    app.shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let fresh = reqwest::Client::new().get(app.url("/healthz")).send().await;
    assert!(
        fresh.is_err_and(|e| e.is_connect()),
        "new connections are refused once stopping"
    );

    let response = slow.await.unwrap().expect("in-flight request completes");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "done");

    tokio::time::timeout(Duration::from_secs(5), app.server)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
    assert!(
        stopping.elapsed() < Duration::from_secs(3),
        "stopped as soon as the request was done"
    );
}

#[tokio::test]
async fn open_streams_end_cleanly_when_the_server_stops() {
    let app = spawn_app_with(|c| c.http.shutdown_grace_ms = 10_000).await;
    let response = app.get("/probe/stream").await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.bytes_stream();
    let first = body.next().await.expect("a first event").unwrap();
    assert!(String::from_utf8_lossy(&first).contains("event: tick"));

    let stopping = Instant::now();
    app.shutdown.cancel();
    let drained = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(chunk) = body.next().await {
            chunk.expect("the stream ends cleanly, not with a reset");
        }
    })
    .await;
    assert!(drained.is_ok(), "the stream ended on shutdown");
    tokio::time::timeout(Duration::from_secs(3), app.server)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
    assert!(
        stopping.elapsed() < Duration::from_secs(3),
        "a live stream does not hold the process for the whole grace period"
    );
}

#[tokio::test]
async fn a_request_slower_than_the_grace_period_does_not_hold_the_process() {
    let app = spawn_app_with(|c| {
        c.http.shutdown_grace_ms = 500;
        c.http.request_timeout_ms = 60_000;
    })
    .await;
    let _stuck = tokio::spawn(app.client.get(app.url("/probe/slow?ms=30000")).send());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = Instant::now();
    app.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(3), app.server)
        .await
        .expect("server stops at the deadline")
        .unwrap()
        .unwrap();
    let took = stopping.elapsed();
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(2),
        "stopped at the deadline, took {took:?}"
    );
}

#[tokio::test]
async fn draining_reports_not_ready_while_it_keeps_serving_then_stops() {
    let app = spawn_app_with(|c| c.http.drain_delay_ms = 1_500).await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    let response = app.get("/probe/stream").await;
    let mut stream = response.bytes_stream();
    stream.next().await.expect("a first event").unwrap();

    let draining = Instant::now();
    app.drain.cancel();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // The balancer's health check sees it leave...
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["code"], "not_ready");
    assert_eq!(body["checks"]["lifecycle"], "shutting down");
    // ...while everything else is served as before: new connections, requests, open streams.
    let fresh = reqwest::Client::new()
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("new connections are still accepted while draining");
    assert_eq!(fresh.status(), StatusCode::OK);
    let slow = app.get("/probe/slow?ms=200").await;
    assert_eq!(slow.status(), StatusCode::OK);
    let tick = stream.next().await.expect("the stream goes on").unwrap();
    assert!(String::from_utf8_lossy(&tick).contains("event: tick"));

    // After the delay it stops as a plain shutdown does: streams end, the server returns.
    let healthz = app.url("/healthz");
    tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = stream.next().await {
            chunk.expect("the stream ends cleanly");
        }
    })
    .await
    .expect("the stream ended after the drain delay");
    tokio::time::timeout(Duration::from_secs(5), app.server)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
    let took = draining.elapsed();
    assert!(
        took >= Duration::from_millis(1_400),
        "it kept serving for the drain delay, stopped after {took:?}"
    );
    let after = reqwest::Client::new().get(healthz).send().await;
    assert!(after.is_err_and(|e| e.is_connect()), "refused once stopped");
}

#[tokio::test]
async fn a_stop_during_the_drain_delay_stops_at_once() {
    let app = spawn_app_with(|c| c.http.drain_delay_ms = 60_000).await;
    app.drain.cancel();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        app.get("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let stopping = Instant::now();
    app.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), app.server)
        .await
        .expect("a second signal does not wait out the drain delay")
        .unwrap()
        .unwrap();
    assert!(stopping.elapsed() < Duration::from_secs(3));
}
