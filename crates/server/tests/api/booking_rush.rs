//! Bookings under load and across instances through the API: the rush queue and its tickets,
//! the live appointment channel, two instances sharing the database, and Redis dying mid-storm.

use std::time::Duration;

use chrono::Utc;
use docde_server::config::RushMode;
use futures::StreamExt;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::booking::{app_queueing_only, app_with, book, doctor_with_schedule, free_starts, slot};
use crate::booking_retries::book_keyed;
use crate::helpers::{external_backends, problem, restart, spawn_app_with, spawn_peer};
use crate::people::{get, people, post, quick_patient};

#[tokio::test]
async fn during_a_rush_bookings_are_queued_with_a_ticket_and_booked_in_order_exactly_once() {
    let app = app_with(RushMode::Always).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let at = slot("10:00");
    let r = book(&app, &p.patient, doctor, &at).await;
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["status"], "queued");
    let second = book(&app, &p.patient_other, doctor, &at).await;
    let second_status = second.status();
    let second: Value = second.json().await.unwrap();
    // The owner follows the ticket live until its result.
    let response = app
        .client
        .get(app.url(&format!("{location}/events")))
        .bearer_auth(&p.patient.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    while !text.contains("event: result") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("result within 10 s")
            .expect("stream open")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let done: Value = get(&app, &location, &p.patient.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["status"], "done");
    assert_eq!(done["outcome"]["status"], 201);
    let appointment = done["outcome"]["appointment_id"].as_str().unwrap();
    let a: Value = get(
        &app,
        &format!("/api/v1/appointments/{appointment}"),
        &p.patient.token,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(a["status"], "booked");
    // The second came later for the same seat: refused, and told so — by its ticket, or at
    // once when the worker had already served the first ticket and the seat was known gone.
    let queued_second = second_status == 202;
    let outcome = if queued_second {
        let second_path = format!("/api/v1/booking-tickets/{}", second["id"].as_str().unwrap());
        let mut outcome = Value::Null;
        for _ in 0..100 {
            let t: Value = get(&app, &second_path, &p.patient_other.token)
                .await
                .json()
                .await
                .unwrap();
            if t["status"] == "done" {
                outcome = t["outcome"].clone();
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        outcome
    } else {
        json!({"status": second_status.as_u16(), "code": second["code"]})
    };
    assert_eq!(outcome["status"], 409, "{second}");
    assert_eq!(outcome["code"], "slot_full", "{second}");
    // Only its owner sees a ticket.
    assert_eq!(
        get(&app, &location, &p.patient_other.token).await.status(),
        404
    );
    // Each served ticket's wait is measured (other tests' tickets may add to the count).
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let served = metrics
        .lines()
        .find_map(|l| l.strip_prefix("booking_queue_wait_seconds_count "))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no booking_queue_wait_seconds in /metrics:\n{metrics}"));
    let tickets = if queued_second { 2.0 } else { 1.0 };
    assert!(served >= tickets, "every ticket's wait recorded: {served}");
}

#[tokio::test]
async fn the_appointment_channel_replays_what_was_missed_after_last_event_id() {
    let app = app_with(RushMode::Never).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let a: Value = book(&app, &p.patient, doctor, &slot("11:30"))
        .await
        .json()
        .await
        .unwrap();
    let id = a["id"].as_str().unwrap();
    post(
        &app,
        &format!("/api/v1/appointments/{id}/cancel"),
        Some(&p.patient.token),
        json!({}),
    )
    .await;
    let read = |last: Option<&str>| {
        let mut request = app
            .client
            .get(app.url("/api/v1/me/appointment-events"))
            .bearer_auth(&p.patient.token);
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last);
        }
        async move {
            let mut stream = request.send().await.unwrap().bytes_stream();
            let mut text = String::new();
            while text.matches("event: appointment").count() < 2 && !text.contains("cancelled") {
                let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
                match chunk {
                    Ok(Some(Ok(bytes))) => text.push_str(&String::from_utf8_lossy(&bytes)),
                    _ => break,
                }
            }
            text
        }
    };
    let all = read(None).await;
    assert!(all.contains("\"status\":\"booked\""), "{all}");
    assert!(all.contains("\"status\":\"cancelled\""), "{all}");
    let first_id = all
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap()
        .to_owned();
    let after = read(Some(&first_id)).await;
    assert!(!after.contains("\"status\":\"booked\""), "{after}");
    assert!(after.contains("\"status\":\"cancelled\""), "{after}");
}

#[tokio::test]
async fn two_instances_sharing_the_database_never_overbook_a_seat() {
    if !external_backends("two_instances_sharing_the_database_never_overbook_a_seat") {
        return;
    }
    let a = app_with(RushMode::Never).await;
    let b = spawn_peer(&a).await;
    let p = people(&a).await;
    let doctor = doctor_with_schedule(&a, &p, 1).await;
    let mut patients = Vec::new();
    for _ in 0..40 {
        patients.push(quick_patient(&a).await);
    }
    let at = slot("15:30");
    let attempts = patients
        .iter()
        .enumerate()
        .map(|(i, who)| book(if i % 2 == 0 { &a } else { &b }, who, doctor, &at));
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    // Instance b learns that the seat is gone through the bus, well before its own view
    // would reload from the database (`FRESH_FOR`, 5 s). A fixed wait would race the bus on a
    // loaded machine, so the test polls for a bounded time instead.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while free_starts(&b, doctor).await.contains(&at) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "instance b still offers the taken seat"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn queued_tickets_outlive_the_instance_that_took_them_and_are_served_once_elsewhere() {
    // This instance takes tickets but never serves them: it stops with all of them pending.
    let a = app_queueing_only().await;
    let p = people(&a).await;
    let doctor = doctor_with_schedule(&a, &p, 1).await;
    let starts: Vec<String> = ["09:00", "09:30", "10:00", "10:30", "11:00"]
        .iter()
        .map(|t| slot(t))
        .collect();
    let mut tickets = Vec::new();
    // Two patients per slot: one wins, one is told the slot is full.
    for round in 0..2 {
        for at in &starts {
            let who = quick_patient(&a).await;
            let r = book(&a, &who, doctor, at).await;
            assert_eq!(r.status(), 202, "round {round}");
            let t: Value = r.json().await.unwrap();
            tickets.push((who, t["id"].as_str().unwrap().to_owned()));
        }
    }
    let b = restart(a, |c| c.booking.rush = RushMode::Never).await;
    let mut outcomes = Vec::new();
    for (who, id) in &tickets {
        let path = format!("/api/v1/booking-tickets/{id}");
        let mut done = Value::Null;
        for _ in 0..200 {
            let t: Value = get(&b, &path, &who.token).await.json().await.unwrap();
            if t["status"] == "done" {
                done = t;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        outcomes.push(
            done["outcome"]["status"]
                .as_u64()
                .expect("every ticket is served"),
        );
    }
    assert_eq!(
        outcomes.iter().filter(|s| **s == 201).count(),
        5,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|s| **s == 409).count(),
        5,
        "{outcomes:?}"
    );
    // Served in order: the first round took every seat.
    assert!(outcomes[..5].iter().all(|s| *s == 201), "{outcomes:?}");
    let listed: Value = get(
        &b,
        &format!(
            "/api/v1/doctors/{doctor}/appointments?from={}",
            Utc::now().date_naive()
        ),
        &p.reception.token,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 5);
    assert!(
        docde_store::booking::seats::violations(&b.state.store)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A Redis ACL user for one test, so the test can cut its own connections (as if Redis died)
/// without touching anyone else's. Deleted on drop.
struct RedisUser {
    admin_url: String,
    name: String,
}

impl RedisUser {
    fn cli(&self, args: &[&str]) {
        let status = std::process::Command::new("redis-cli")
            .arg("-u")
            .arg(&self.admin_url)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("redis-cli runs");
        assert!(status.success(), "redis-cli {args:?}");
    }

    fn create(admin_url: &str) -> (Self, String) {
        let name = format!("docde-booking-{}", Uuid::now_v7().simple());
        let password = Uuid::now_v7().simple().to_string();
        let user = Self {
            admin_url: admin_url.to_owned(),
            name: name.clone(),
        };
        user.cli(&[
            "ACL",
            "SETUSER",
            &name,
            "on",
            &format!(">{password}"),
            "~*",
            "&*",
            "+@all",
        ]);
        let mut url = url::Url::parse(admin_url).unwrap();
        url.set_username(&name).unwrap();
        url.set_password(Some(&password)).unwrap();
        (user, url.into())
    }

    /// Redis is gone for this user: no login, every connection closed.
    fn cut(&self) {
        self.cli(&["ACL", "SETUSER", &self.name, "off"]);
        self.cli(&["CLIENT", "KILL", "USER", &self.name]);
    }
}

impl Drop for RedisUser {
    fn drop(&mut self) {
        let _ = std::process::Command::new("redis-cli")
            .arg("-u")
            .arg(&self.admin_url)
            .args(["ACL", "DELUSER", &self.name])
            .stdout(std::process::Stdio::null())
            .status();
    }
}

#[tokio::test]
async fn bookings_stay_correct_when_redis_dies_mid_storm() {
    if !external_backends("bookings_stay_correct_when_redis_dies_mid_storm") {
        return;
    }
    let (user, url) = RedisUser::create(&std::env::var("TEST_REDIS_URL").unwrap());
    let a = spawn_app_with(|c| {
        c.booking.rush = RushMode::Never;
        c.redis.url = Some(url.clone());
    })
    .await;
    let config = a.state.config.clone();
    let b = spawn_app_with(move |c| {
        c.booking.rush = RushMode::Never;
        c.database.schema = config.database.schema.clone();
        c.redis = config.redis.clone();
        c.auth.signing_keys = config.auth.signing_keys.clone();
    })
    .await;
    let p = people(&a).await;
    let doctor = doctor_with_schedule(&a, &p, 1).await;
    let mut patients = Vec::new();
    for _ in 0..40 {
        patients.push(quick_patient(&a).await);
    }
    let starts: Vec<String> = ["13:00", "13:30", "14:00", "14:30"]
        .iter()
        .map(|t| slot(t))
        .collect();
    let storm = |range: std::ops::Range<usize>| {
        let attempts = range.map(|i| {
            let app = if i % 2 == 0 { &a } else { &b };
            book(app, &patients[i], doctor, &starts[i % starts.len()])
        });
        futures::future::join_all(attempts)
    };
    let mut statuses: Vec<u16> = storm(0..20)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    user.cut();
    statuses.extend(storm(20..40).await.iter().map(|r| r.status().as_u16()));
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        4,
        "{statuses:?}"
    );
    assert!(
        docde_store::booking::seats::violations(&a.state.store)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        docde_store::booking::seats::patient_overlaps(&a.state.store)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_retry_of_a_queued_booking_whose_ticket_took_the_seat_gets_that_ticket_back() {
    // The first attempt's 202 was lost (a dropped connection, a killed instance); its ticket
    // was served and took the seat. The retry, with the same key, must not be told the slot
    // is full: the booking it asked for is the one in that seat.
    let app = app_with(RushMode::Always).await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let at = slot("14:00");
    let first = book_keyed(&app, &p.patient, doctor, &at, "lost-answer").await;
    assert_eq!(first.status(), 202);
    let ticket: Value = first.json().await.unwrap();
    let path = format!("/api/v1/booking-tickets/{}", ticket["id"].as_str().unwrap());
    let mut done = Value::Null;
    for _ in 0..200 {
        let t: Value = get(&app, &path, &p.patient.token)
            .await
            .json()
            .await
            .unwrap();
        if t["status"] == "done" {
            done = t;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(done["outcome"]["status"], 201, "{done}");
    let retry = book_keyed(&app, &p.patient, doctor, &at, "lost-answer").await;
    assert_eq!(retry.status(), 202);
    let again: Value = retry.json().await.unwrap();
    assert_eq!(again["id"], ticket["id"]);
    assert_eq!(again["outcome"], done["outcome"]);
    // Another patient is still refused at once.
    let other = book_keyed(&app, &p.patient_other, doctor, &at, "lost-answer").await;
    assert_eq!(other.status(), 409);

    // On an instance that does not queue (the rush is over), the retry lost its seat to its
    // own ticket in the writer; it gets the ticket back too.
    if !external_backends(
        "a_retry_of_a_queued_booking_whose_ticket_took_the_seat_gets_that_ticket_back (second half)",
    ) {
        return;
    }
    let config = app.state.config.clone();
    let calm = spawn_app_with(move |c| {
        c.database.schema = config.database.schema.clone();
        c.redis.namespace = config.redis.namespace.clone();
        c.auth.signing_keys = config.auth.signing_keys.clone();
        c.booking.rush = RushMode::Never;
    })
    .await;
    let retry = book_keyed(&calm, &p.patient, doctor, &at, "lost-answer").await;
    assert_eq!(retry.status(), 202);
    let again: Value = retry.json().await.unwrap();
    assert_eq!(again["id"], ticket["id"]);
    assert_eq!(again["outcome"], done["outcome"]);
}

#[tokio::test]
async fn a_retry_while_its_ticket_is_still_queued_gets_the_same_ticket_and_its_place() {
    // No worker serves the queue here, so the tickets stay queued. The retry is told about
    // its first ticket through the unique (patient, key) index, which refuses a second.
    let app = app_queueing_only().await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let first = book_keyed(&app, &p.patient, doctor, &slot("15:00"), "dropped").await;
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let behind = book_keyed(&app, &p.patient_other, doctor, &slot("15:30"), "other").await;
    assert_eq!(behind.status(), 202);
    let behind: Value = behind.json().await.unwrap();
    // Places in line follow the queue (nothing served yet).
    let (one, two) = (
        first["position"].as_i64().unwrap(),
        behind["position"].as_i64().unwrap(),
    );
    assert!(one >= 1 && two > one, "{first} then {behind}");

    let retry = book_keyed(&app, &p.patient, doctor, &slot("15:00"), "dropped").await;
    assert_eq!(retry.status(), 202);
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry["id"], first["id"]);
    assert_eq!(retry["status"], "queued");
    assert_eq!(retry["position"], first["position"]);
    // One ticket for the key, not two.
    let queued = docde_store::booking::tickets::queued(&app.state.store)
        .await
        .unwrap();
    assert_eq!(queued, 2);
}

/// During a rush the booking writer confirms the session when it queues the ticket: a token
/// whose session ended gets 401 and no ticket, and a live one is queued beside it as usual.
#[tokio::test]
async fn during_a_rush_a_logged_out_token_queues_nothing() {
    let app = app_queueing_only().await;
    let p = people(&app).await;
    let doctor = doctor_with_schedule(&app, &p, 1).await;
    let leaver = quick_patient(&app).await;
    let r = post(&app, "/api/v1/auth/logout", Some(&leaver.token), json!({})).await;
    assert_eq!(r.status(), 204, "{:?}", r.text().await);
    let r = book(&app, &leaver, doctor, &slot("10:00")).await;
    assert_eq!(r.status(), 401);
    assert_eq!(problem(r).await["code"], "session_revoked");
    assert_eq!(
        docde_store::booking::tickets::queued(&app.state.store)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        book(&app, &p.patient, doctor, &slot("10:00"))
            .await
            .status(),
        202
    );
    assert_eq!(
        docde_store::booking::tickets::queued(&app.state.store)
            .await
            .unwrap(),
        1
    );
}
