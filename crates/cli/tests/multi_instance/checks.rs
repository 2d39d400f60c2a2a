//! What the scenarios hold the cluster to: the bookings in the database against what clients
//! were told, every ward event streamed once, the samples stored, and which instance served.

use std::collections::HashSet;
use std::time::Duration;

use crate::load::Api;
use crate::sse::SseClient;
use crate::startup::Cluster;

/// POST /api/v1/appointments answered by one instance, from its /metrics.
pub async fn bookings_served(api: &Api, base: &str) -> u64 {
    let text = api
        .http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| {
            l.starts_with("http_requests_total{")
                && l.contains("route=\"/api/v1/appointments\"")
                && l.contains("method=\"POST\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// The database against what the clients were told: no overbooking, no overlaps, the active
/// appointments exactly the acknowledged ones.
pub async fn check_bookings(c: &Cluster, told: &HashSet<String>, scenario: &str) {
    let violations = docde_store::booking::seats::violations(&c.store)
        .await
        .unwrap();
    let overlaps = docde_store::booking::seats::patient_overlaps(&c.store)
        .await
        .unwrap();
    let active: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM appointments WHERE status IN ('requested', 'booked', 'checked_in')",
    )
    .fetch_all(c.pool())
    .await
    .unwrap();
    let active: HashSet<String> = active.into_iter().map(|(id,)| id).collect();
    let missing = told.difference(&active).count();
    let unacknowledged = active.difference(told).count();
    println!(
        "  {scenario}: {} overbooked slots, {overlaps} patient overlaps, {} active appointments, {} acknowledged, {missing} acknowledged but missing, {unacknowledged} booked but never acknowledged",
        violations.len(),
        active.len(),
        told.len()
    );
    assert!(violations.is_empty(), "{violations:?}");
    assert_eq!(overlaps, 0);
    assert_eq!(
        missing, 0,
        "acknowledged bookings missing from the database"
    );
    assert_eq!(unacknowledged, 0, "bookings nobody was told about");
}

/// Every ward event after `after` in the log.
pub async fn ward_event_ids(c: &Cluster, ward: &str, after: i64) -> Vec<i64> {
    let rows: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM ward_events WHERE ward_id = $1 AND id > $2 ORDER BY id")
            .bind(ward)
            .bind(after)
            .fetch_all(c.pool())
            .await
            .unwrap();
    rows.into_iter().map(|(id,)| id).collect()
}

pub async fn max_ward_event(c: &Cluster, ward: &str) -> i64 {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM ward_events WHERE ward_id = $1")
        .bind(ward)
        .fetch_one(c.pool())
        .await
        .unwrap()
}

/// Waits until the client has the log's last event, then compares: nothing missed, nothing
/// twice.
pub async fn check_stream(c: &Cluster, ward: &str, client: &SseClient, after: i64, what: &str) {
    let last = max_ward_event(c, ward).await;
    let caught_up = client.wait_until(last, Duration::from_secs(20)).await;
    let expected = ward_event_ids(c, ward, after).await;
    let got: HashSet<i64> = client.ids().into_iter().filter(|id| *id > after).collect();
    let missed: Vec<i64> = expected
        .iter()
        .filter(|id| !got.contains(id))
        .copied()
        .collect();
    println!(
        "  {what}: {} events in the log, {} received, {} missed, {} duplicates, {} reconnects",
        expected.len(),
        got.len(),
        missed.len(),
        client.duplicates(),
        client.reconnects()
    );
    assert!(caught_up, "{what} did not reach event {last}");
    assert!(missed.is_empty(), "{what} missed {missed:?}");
    assert_eq!(client.duplicates(), 0, "{what} got events twice");
}

pub async fn stored_samples(c: &Cluster, kind: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM vital_samples WHERE kind = $1")
        .bind(kind)
        .fetch_one(c.pool())
        .await
        .unwrap()
}
