//! Two `docde serve` processes behind nginx, on their own PostgreSQL, Redis and Mosquitto, as
//! deploy/compose.yaml runs them — then parts are taken away while clients keep working.
//!
//! Run by `scripts/test-multi-instance` (which installs nginx if missing and sets
//! DOCDE_E2E=1); skipped with a printed line otherwise, because it needs those programs and
//! takes a few minutes. Everything listens on free 127.0.0.1 ports and lives in a temporary
//! directory, so stopping the database or Redis here harms no other test.
//!
//! Scenarios, in order, each printing the counts it asserts on:
//! 1. a booking storm through nginx: both instances serve, no overbooked slot, no overlapping
//!    appointments, every acknowledged booking (201, or a ticket's outcome) in the database
//!    and nothing else;
//! 2. alarms raised through instance A (HTTP ingest, and an MQTT publish) reach an SSE client
//!    of instance B and one connected through nginx;
//! 3. `kill -9` of instance A mid-load: every sample batch answered 200 is stored, every
//!    booking acknowledged is in the database, queued tickets are done exactly once by B, and
//!    SSE clients reconnect through nginx with Last-Event-ID and miss no event;
//! 4. Redis stopped mid-load: bookings and samples keep working, the invariants hold,
//!    `/readyz` says which part is missing, and it recovers by itself when Redis is back;
//! 5. PostgreSQL restarted: requests answer 503 problem+json promptly during the outage and
//!    succeed afterwards without restarting docde;
//! 6. a rolling restart: SIGTERM to B, which reports not-ready while still serving for its drain
//!    delay, then stops accepting, drains and exits 0 while its SSE clients resume on A by
//!    event id.

#[path = "multi_instance/checks.rs"]
mod checks;
#[path = "multi_instance/cluster.rs"]
mod cluster;
#[path = "multi_instance/load.rs"]
mod load;
#[path = "multi_instance/seeding.rs"]
mod seeding;
#[path = "multi_instance/sse.rs"]
mod sse;
#[path = "multi_instance/startup.rs"]
mod startup;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use checks::{bookings_served, check_bookings, check_stream, max_ward_event, stored_samples};
use load::Api;
use seeding::PATIENT_PASSWORD;
use sse::SseClient;
use startup::{enabled, ready, start_cluster, start_ready};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_behind_nginx_keep_every_promise_through_kills_and_outages() {
    if !enabled() {
        return;
    }
    let started = Instant::now();
    let (mut c, api, demo, emails) = start_cluster(started).await;

    let nurse = api.sign_in("nurse@demo.docde.kr", &demo.password).await;
    let mut patients = Vec::new();
    for email in &emails {
        patients.push(api.sign_in(email, PATIENT_PASSWORD).await);
    }
    let slots = api.free_slots(&demo.doctor).await;
    assert!(slots.len() >= 40, "only {} free slots", slots.len());
    let mut told: HashSet<String> = HashSet::new();

    // 1. Booking storm.
    println!("1. booking storm through nginx");
    let storm_slots = &slots[0..8];
    let before = (
        bookings_served(&api, &c.a.url()).await,
        bookings_served(&api, &c.b.url()).await,
    );
    let booked = api.storm(&patients, &demo.doctor, storm_slots).await;
    let after = (
        bookings_served(&api, &c.a.url()).await,
        bookings_served(&api, &c.b.url()).await,
    );
    booked.print("storm");
    let (on_a, on_b) = (after.0 - before.0, after.1 - before.1);
    println!("  storm: instance a answered {on_a} booking requests, instance b {on_b}");
    assert!(
        on_a > 0 && on_b > 0,
        "nginx sent everything to one instance"
    );
    assert_eq!(booked.failed, 0, "{:?}", booked.failures);
    assert_eq!(
        booked.acknowledged.len(),
        storm_slots.len(),
        "every contested one-seat slot is booked exactly once"
    );
    told.extend(booked.acknowledged.iter().cloned());
    check_bookings(&c, &told, "storm").await;

    // 2. Alarms across instances.
    println!("2. an alarm raised through instance a reaches SSE clients of b and of nginx");
    let ward_path = format!("/api/v1/wards/{}/events", demo.ward);
    let start_id = max_ward_event(&c, &demo.ward).await;
    let on_b = SseClient::start(
        format!("{}{ward_path}", c.b.url()),
        nurse.clone(),
        Some(start_id),
    );
    let via_nginx = SseClient::start(
        format!("{}{ward_path}", c.nginx.url()),
        nurse.clone(),
        Some(start_id),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let direct_a = Api::new(c.a.url());
    let t = Instant::now();
    let status = direct_a.report(&demo.devices[0], &load::nurse_call()).await;
    assert_eq!(status, Some(200));
    // One nurse call per bed: each press opens a new alarm, whose event names the kind.
    let nurse_call_alarm = |e: &sse::SseEvent| e.kind == "alarm" && e.data.contains("nurse_call");
    let (seen_b, seen_n) = tokio::join!(
        on_b.wait_count(Duration::from_secs(10), 1, nurse_call_alarm),
        via_nginx.wait_count(Duration::from_secs(10), 1, nurse_call_alarm),
    );
    println!(
        "  http: alarm on b's stream {seen_b}, on nginx's stream {seen_n}, after {} ms",
        t.elapsed().as_millis()
    );
    assert!(
        seen_b && seen_n,
        "the HTTP-ingested alarm did not cross instances"
    );
    let t = Instant::now();
    load::mqtt_publish(c.mqtt_port, &demo.devices[1], &load::nurse_call()).await;
    let (seen_b, seen_n) = tokio::join!(
        on_b.wait_count(Duration::from_secs(15), 2, nurse_call_alarm),
        via_nginx.wait_count(Duration::from_secs(15), 2, nurse_call_alarm),
    );
    println!(
        "  mqtt: second alarm on b's stream {seen_b}, on nginx's stream {seen_n}, after {} ms",
        t.elapsed().as_millis()
    );
    assert!(
        seen_b && seen_n,
        "the MQTT-ingested alarm did not reach the streams"
    );
    drop(on_b);
    drop(via_nginx);

    // 3. kill -9 of instance a mid-load.
    println!("3. kill -9 of instance a mid-load");
    let start_id = max_ward_event(&c, &demo.ward).await;
    // Two streams through nginx: round robin puts one on each instance.
    let streams = [
        SseClient::start(
            format!("{}{ward_path}", c.nginx.url()),
            nurse.clone(),
            Some(start_id),
        ),
        SseClient::start(
            format!("{}{ward_path}", c.nginx.url()),
            nurse.clone(),
            Some(start_id),
        ),
    ];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let samples_before = stored_samples(&c, "heart_rate").await;
    let load_slots = slots[8..24].to_vec();
    let devices = demo.devices[2..8].to_vec();
    let booking_load = {
        let api = api.clone();
        let patients = patients.clone();
        let doctor = demo.doctor.clone();
        tokio::spawn(async move { api.storm(&patients, &doctor, &load_slots).await })
    };
    let sample_load = {
        let api = api.clone();
        tokio::spawn(async move { api.vitals(&devices, 40, Duration::from_millis(50)).await })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    c.a.kill();
    println!("  killed instance a 0.7 s into the load");
    let booked = booking_load.await.unwrap();
    let samples = sample_load.await.unwrap();
    booked.print("during the kill");
    samples.print("during the kill");
    assert_eq!(booked.failed, 0, "{:?}", booked.failures);
    assert_eq!(samples.failed, 0, "{:?}", samples.failures);
    told.extend(booked.acknowledged.iter().cloned());
    check_bookings(&c, &told, "after the kill").await;
    let stored = stored_samples(&c, "heart_rate").await - samples_before;
    println!(
        "  samples: {} acknowledged with 200, {stored} new rows",
        samples.stored
    );
    assert!(stored >= samples.stored as i64, "acknowledged samples lost");
    let queued: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM booking_tickets WHERE status <> 'done'")
            .fetch_one(c.pool())
            .await
            .unwrap();
    let tickets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM booking_tickets")
        .fetch_one(c.pool())
        .await
        .unwrap();
    println!(
        "  tickets: {tickets} in all, {queued} still queued, {} answered by their outcome",
        booked.tickets
    );
    assert_eq!(queued, 0);
    for (i, stream) in streams.iter().enumerate() {
        check_stream(&c, &demo.ward, stream, start_id, &format!("stream {i}")).await;
    }
    assert!(
        streams.iter().map(SseClient::reconnects).sum::<usize>() >= 1,
        "no stream was on the killed instance"
    );
    drop(streams);
    start_ready(&api, &mut c.a).await;

    // 4. Redis stopped mid-load.
    println!("4. Redis stopped mid-load");
    let load_slots = slots[24..32].to_vec();
    let devices = demo.devices[2..8].to_vec();
    let samples_before = stored_samples(&c, "heart_rate").await;
    c.redis.stop();
    let booking_load = {
        let api = api.clone();
        let patients = patients.clone();
        let doctor = demo.doctor.clone();
        tokio::spawn(async move { api.storm(&patients, &doctor, &load_slots).await })
    };
    let sample_load = {
        let api = api.clone();
        tokio::spawn(async move {
            let t = Instant::now();
            let samples = api.vitals(&devices, 20, Duration::from_millis(50)).await;
            (samples, t.elapsed())
        })
    };
    let readyz = Api::new(c.a.url()).readyz().await;
    println!("  readyz of a without redis: {readyz}");
    let booked = booking_load.await.unwrap();
    let (samples, took) = sample_load.await.unwrap();
    booked.print("without redis");
    samples.print("without redis");
    println!(
        "  20 batches per device, 50 ms apart, took {} ms without redis",
        took.as_millis()
    );
    // Each batch publishes a ward wake-up after its commit. Were that to wait for Redis's 2 s
    // command timeout, 20 batches in a row would take 40 s; at pace they take about 1 s.
    assert!(
        took < Duration::from_secs(15),
        "ingest waited for the unreachable Redis: {took:?}"
    );
    assert!(
        readyz.starts_with("503") && readyz.contains("redis"),
        "readyz did not name redis: {readyz}"
    );
    assert_eq!(booked.failed, 0, "{:?}", booked.failures);
    assert_eq!(samples.failed, 0, "{:?}", samples.failures);
    told.extend(booked.acknowledged.iter().cloned());
    check_bookings(&c, &told, "without redis").await;
    let stored = stored_samples(&c, "heart_rate").await - samples_before;
    assert!(stored >= samples.stored as i64, "acknowledged samples lost");
    c.redis.restart();
    let t = Instant::now();
    let (url_a, url_b) = (c.a.url(), c.b.url());
    let (ra, rb) = tokio::join!(
        ready(&api, &url_a, Duration::from_secs(30)),
        ready(&api, &url_b, Duration::from_secs(30))
    );
    println!(
        "  redis back: a ready {ra}, b ready {rb} after {} ms",
        t.elapsed().as_millis()
    );
    assert!(ra && rb, "instances did not recover from the Redis outage");

    // 5. PostgreSQL restarted.
    println!("5. PostgreSQL restarted");
    c.pg.stop();
    let direct = Api::new(c.b.url());
    let mut outage = Vec::new();
    for (i, patient) in patients.iter().take(4).enumerate() {
        let t = Instant::now();
        let (status, content_type, code) = direct
            .problem_of(
                "POST",
                "/api/v1/appointments",
                patient,
                json!({"doctor_id": demo.doctor, "starts_at": slots[32 + i].starts_at, "reason": "e2e"}),
            )
            .await;
        outage.push((status, content_type.clone(), code.clone(), t.elapsed()));
    }
    for (status, ct, code, took) in &outage {
        println!(
            "  during the outage: {status} {ct} code {code} in {} ms",
            took.as_millis()
        );
    }
    let readyz = direct.readyz().await;
    println!("  readyz of b without the database: {readyz}");
    c.pg.start();
    for (status, ct, code, took) in &outage {
        assert_eq!(*status, 503, "code {code}");
        assert!(ct.starts_with("application/problem+json"), "{ct}");
        assert!(!code.is_empty());
        assert!(*took < Duration::from_secs(10), "took {took:?}");
    }
    assert!(readyz.starts_with("503"), "{readyz}");
    let t = Instant::now();
    let mut recovered = false;
    while t.elapsed() < Duration::from_secs(30) {
        let (status, _, _) = direct
            .problem_of("GET", "/api/v1/me/appointments", &patients[0], Value::Null)
            .await;
        if status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "  database back: requests succeed again after {} ms",
        t.elapsed().as_millis()
    );
    assert!(recovered, "docde did not recover from the database restart");
    let booked = api
        .storm(&patients[..4], &demo.doctor, &slots[32..36])
        .await;
    booked.print("after the restart");
    assert_eq!(booked.failed, 0, "{:?}", booked.failures);
    told.extend(booked.acknowledged.iter().cloned());
    check_bookings(&c, &told, "after the database restart").await;

    // 6. Rolling restart of b.
    println!("6. rolling restart: SIGTERM to instance b");
    assert!(ready(&api, &c.a.url(), Duration::from_secs(30)).await);
    assert!(ready(&api, &c.b.url(), Duration::from_secs(30)).await);
    let start_id = max_ward_event(&c, &demo.ward).await;
    let streams = [
        SseClient::start(
            format!("{}{ward_path}", c.nginx.url()),
            nurse.clone(),
            Some(start_id),
        ),
        SseClient::start(
            format!("{}{ward_path}", c.nginx.url()),
            nurse.clone(),
            Some(start_id),
        ),
    ];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let samples_before = stored_samples(&c, "heart_rate").await;
    let devices = demo.devices[2..8].to_vec();
    let sample_load = {
        let api = api.clone();
        tokio::spawn(async move { api.vitals(&devices, 30, Duration::from_millis(50)).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    c.b.terminate();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let direct_b = Api::new(c.b.url());
    let readyz = direct_b.readyz_once().await;
    println!("  readyz of b right after SIGTERM: {readyz}");
    // Draining: not ready, yet still serving new connections until the delay is over.
    let healthz = direct_b
        .http
        .get(format!("{}/healthz", c.b.url()))
        .send()
        .await;
    let serving = healthz.as_ref().is_ok_and(|r| r.status().is_success());
    println!(
        "  healthz of b while draining: {:?}",
        healthz.map(|r| r.status())
    );
    let exit = c.b.wait_exit(Duration::from_secs(20));
    println!("  b exited with {exit:?}");
    let samples = sample_load.await.unwrap();
    samples.print("during the rolling restart");
    assert!(
        readyz.starts_with("503") && readyz.contains("shutting down"),
        "b did not report not-ready while draining: {readyz}"
    );
    assert!(serving, "b stopped serving before its drain delay was over");
    assert_eq!(exit, Some(0), "b did not drain and exit 0");
    assert_eq!(samples.failed, 0, "{:?}", samples.failures);
    let stored = stored_samples(&c, "heart_rate").await - samples_before;
    assert!(stored >= samples.stored as i64, "acknowledged samples lost");
    for (i, stream) in streams.iter().enumerate() {
        check_stream(&c, &demo.ward, stream, start_id, &format!("stream {i}")).await;
    }
    assert!(
        streams.iter().map(SseClient::reconnects).sum::<usize>() >= 1,
        "no stream was on the stopped instance"
    );
    drop(streams);
    start_ready(&api, &mut c.b).await;
    let booked = api
        .storm(&patients[..4], &demo.doctor, &slots[36..40])
        .await;
    booked.print("after the rolling restart");
    assert_eq!(booked.failed, 0, "{:?}", booked.failures);
    told.extend(booked.acknowledged.iter().cloned());
    check_bookings(&c, &told, "after the rolling restart").await;
    println!(
        "all scenarios passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
