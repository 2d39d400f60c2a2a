//! Many nurse stations on one ward share one reader of the ward's log (ward::fanout): each
//! stream still gets every event exactly once and in order, a late or returning station
//! replays what it missed, and the reader stops and starts again with its stations.

use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};
use crate::ward::{ago, report, setup};

/// An open ward stream, parsed as it arrives.
struct Station {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>,
    text: String,
}

impl Station {
    async fn open(app: &TestApp, ward: Uuid, token: &str, last: Option<i64>) -> Station {
        let mut request = app
            .client
            .get(app.url(&format!("/api/v1/wards/{ward}/events")))
            .bearer_auth(token);
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        Station {
            body: Box::pin(response.bytes_stream()),
            text: String::new(),
        }
    }

    /// (id, event name) of every complete event so far.
    fn events(&self) -> Vec<(i64, String)> {
        self.text
            .split("\n\n")
            .filter_map(|block| {
                let id = block.lines().find_map(|l| l.strip_prefix("id: "))?;
                let name = block.lines().find_map(|l| l.strip_prefix("event: "))?;
                Some((id.trim().parse().ok()?, name.trim().to_owned()))
            })
            .collect()
    }

    /// Reads until `n` vitals events arrived (or 5 s pass).
    async fn until_vitals(&mut self, n: usize) -> Vec<(i64, String)> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while self.events().iter().filter(|(_, e)| e == "vitals").count() < n {
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Ok(Some(Ok(bytes))) => self.text.push_str(&String::from_utf8_lossy(&bytes)),
                _ => break,
            }
        }
        self.events()
    }
}

fn assert_in_order_once(events: &[(i64, String)]) {
    assert!(
        events.windows(2).all(|w| w[0].0 < w[1].0),
        "ids not strictly increasing: {events:?}"
    );
}

#[tokio::test]
async fn many_stations_on_one_ward_each_get_every_event_once_and_in_order() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let mut stations = Vec::new();
    for _ in 0..12 {
        stations.push(Station::open(&app, s.p.ward1, &s.p.nurse.token, None).await);
    }
    for (i, value) in (80..85).enumerate() {
        let r = report(
            &app,
            &s.device,
            json!([{"measured_at": ago(10 - i as i64), "kind": "heart_rate", "value": value}]),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    let mut seen = Vec::new();
    for station in &mut stations {
        let events = station.until_vitals(5).await;
        assert_in_order_once(&events);
        let vitals: Vec<i64> = events
            .iter()
            .filter(|(_, e)| e == "vitals")
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(vitals.len(), 5, "{}", station.text);
        for value in 80..85 {
            assert!(
                station.text.contains(&format!("\"value\":{value}.0"))
                    || station.text.contains(&format!("\"value\":{value}")),
                "{}",
                station.text
            );
        }
        seen.push(events);
    }
    // Every station saw the same log.
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");

    // A station joining late replays from where it says it was, then goes on live.
    let third_vitals = seen[0]
        .iter()
        .filter(|(_, e)| e == "vitals")
        .nth(2)
        .unwrap()
        .0;
    let mut late = Station::open(&app, s.p.ward1, &s.p.nurse.token, Some(third_vitals)).await;
    let r = report(
        &app,
        &s.device,
        json!([{"measured_at": ago(1), "kind": "heart_rate", "value": 99}]),
    )
    .await;
    assert_eq!(r.status(), 200);
    let events = late.until_vitals(3).await;
    assert_in_order_once(&events);
    assert!(
        events.iter().all(|(id, _)| *id > third_vitals),
        "{events:?}"
    );
    assert_eq!(
        events.iter().filter(|(_, e)| e == "vitals").count(),
        3,
        "{}",
        late.text
    );
    // And the others get the new one too, once.
    for station in &mut stations {
        let events = station.until_vitals(6).await;
        assert_in_order_once(&events);
        assert_eq!(events.iter().filter(|(_, e)| e == "vitals").count(), 6);
    }
}

#[tokio::test]
async fn when_every_station_left_the_reader_stops_and_a_returning_station_misses_nothing() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let mut station = Station::open(&app, s.p.ward1, &s.p.nurse.token, None).await;
    report(
        &app,
        &s.device,
        json!([{"measured_at": ago(5), "kind": "heart_rate", "value": 71}]),
    )
    .await;
    let events = station.until_vitals(1).await;
    let last = events.last().unwrap().0;
    drop(station);
    // While nobody watches: the ward's reader notices at its next wake-up and stops.
    tokio::time::sleep(Duration::from_millis(100)).await;
    report(
        &app,
        &s.device,
        json!([{"measured_at": ago(4), "kind": "heart_rate", "value": 72}]),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut back = Station::open(&app, s.p.ward1, &s.p.nurse.token, Some(last)).await;
    report(
        &app,
        &s.device,
        json!([{"measured_at": ago(3), "kind": "heart_rate", "value": 73}]),
    )
    .await;
    let events = back.until_vitals(2).await;
    assert_in_order_once(&events);
    assert_eq!(
        events.iter().filter(|(_, e)| e == "vitals").count(),
        2,
        "{}",
        back.text
    );
    assert!(back.text.contains("72"), "{}", back.text);
    assert!(back.text.contains("73"), "{}", back.text);
    assert!(!back.text.contains("\"value\":71"), "{}", back.text);
}
