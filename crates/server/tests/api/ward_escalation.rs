//! The escalation webhook through the API: hospital admins set a ward's URL (checked, shown
//! redacted), escalations are queued with the escalation and posted by the delivery worker,
//! failures are retried with backoff and each escalation reaches the receiver once, even with
//! two instances. Escalation and delivery are driven by hand with an explicit clock (the
//! background delivery worker is off unless a test says otherwise), so nobody waits minutes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{DateTime, TimeDelta, Utc};
use docde_server::ward::escalate_due;
use docde_server::ward::webhook::{DELIVERY_HEADER, deliver_due};
use docde_store::ward::webhooks::deliveries_of_ward;
use reqwest::Response;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::helpers::{TestApp, external_backends, problem, spawn_app_with, spawn_peer};
use crate::people::get;
use crate::ward::{Setup, ago, read_events, report, setup};

/// One post the receiver got.
#[derive(Debug, Clone)]
struct Received {
    delivery: String,
    body: Value,
    status: u16,
}

/// A webhook receiver on 127.0.0.1: answers posts with the statuses of its script in turn,
/// then 200, and keeps every post.
struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
    task: JoinHandle<()>,
}

impl Receiver {
    async fn start(script: &[u16]) -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap(), script).await
    }

    async fn start_on(addr: SocketAddr, script: &[u16]) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let mut statuses = script.to_vec();
        statuses.reverse();
        let state = (statuses, got.clone());
        let app = axum::Router::new()
            .route("/hooks/{token}", post(answer))
            .with_state(Arc::new(Mutex::new(state)));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, got, task }
    }

    fn url(&self) -> String {
        url_at(self.addr)
    }

    fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn delivered(&self) -> Vec<Received> {
        self.all()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type ReceiverState = Arc<Mutex<(Vec<u16>, Arc<Mutex<Vec<Received>>>)>>;

async fn answer(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> StatusCode {
    let mut state = state.lock().unwrap();
    let status = state.0.pop().unwrap_or(200);
    let delivery = headers
        .get(DELIVERY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    state.1.lock().unwrap().push(Received {
        delivery,
        body,
        status,
    });
    StatusCode::from_u16(status).unwrap()
}

fn url_at(addr: SocketAddr) -> String {
    format!("http://{addr}/hooks/s3cret-hook-token")
}

/// An address nothing listens on (yet).
fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

pub(crate) async fn quiet_app() -> TestApp {
    spawn_app_with(|c| {
        c.ward.technical_worker = false;
        c.ward.webhook_worker = false;
        c.push.worker = false;
    })
    .await
}

fn webhook_path(ward: Uuid) -> String {
    format!("/api/v1/wards/{ward}/escalation-webhook")
}

pub(crate) async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> Response {
    app.client
        .put(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn delete(app: &TestApp, path: &str, token: &str) -> Response {
    app.client
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn set_webhook(app: &TestApp, s: &Setup, url: &str) {
    let r = put(
        app,
        &webhook_path(s.p.ward1),
        &s.p.hadmin.token,
        json!({ "url": url }),
    )
    .await;
    assert_eq!(r.status(), 200);
}

/// Presses the nurse call: a high-priority alarm.
pub(crate) async fn nurse_call(app: &TestApp, s: &Setup) {
    let r = report(
        app,
        &s.device,
        json!([{"measured_at": ago(1), "kind": "nurse_call", "value": "pressed"}]),
    )
    .await;
    assert_eq!(r.status(), 200);
}

/// High priority: the charge nurse after 60 s, the next level after 180 s.
pub(crate) fn level_1_due() -> DateTime<Utc> {
    Utc::now() + TimeDelta::seconds(90)
}

fn level_2_due() -> DateTime<Utc> {
    Utc::now() + TimeDelta::seconds(200)
}

fn levels(received: &[Received]) -> Vec<u64> {
    let mut levels: Vec<u64> = received
        .iter()
        .map(|r| r.body["docde"]["escalation_level"].as_u64().unwrap())
        .collect();
    levels.sort_unstable();
    levels
}

#[tokio::test]
async fn a_receiver_that_fails_twice_then_recovers_gets_every_escalation_once() {
    let app = quiet_app().await;
    let s = setup(&app).await;
    let rx = Receiver::start(&[500, 500]).await;
    set_webhook(&app, &s, &rx.url()).await;
    nurse_call(&app, &s).await;

    let t1 = level_1_due();
    assert_eq!(escalate_due(&app.state, t1).await.unwrap(), 1);
    let round = deliver_due(&app.state, t1).await.unwrap();
    assert_eq!((round.claimed, round.retried), (1, 1), "500: retried");
    assert_eq!(
        deliver_due(&app.state, t1).await.unwrap().claimed,
        0,
        "backing off: not due again at once"
    );
    let round = deliver_due(&app.state, t1 + TimeDelta::seconds(2))
        .await
        .unwrap();
    assert_eq!(round.retried, 1, "500 again, after 2 s");
    let round = deliver_due(&app.state, t1 + TimeDelta::seconds(5))
        .await
        .unwrap();
    assert_eq!(round.claimed, 0, "the second wait is 4 s");
    let round = deliver_due(&app.state, t1 + TimeDelta::seconds(6))
        .await
        .unwrap();
    assert_eq!(round.delivered, 1);

    // Still unacknowledged: the next level is posted too.
    let t2 = level_2_due();
    assert_eq!(escalate_due(&app.state, t2).await.unwrap(), 1);
    assert_eq!(deliver_due(&app.state, t2).await.unwrap().delivered, 1);
    let later = t2 + TimeDelta::minutes(30);
    assert_eq!(deliver_due(&app.state, later).await.unwrap().claimed, 0);

    let all = rx.all();
    assert_eq!(all.len(), 4, "three posts of level 1, one of level 2");
    assert!(
        all[..3].iter().all(|r| r.delivery == all[0].delivery),
        "every attempt carries the same delivery id"
    );
    let delivered = rx.delivered();
    assert_eq!(levels(&delivered), [1, 2], "each level exactly once");
    assert_ne!(delivered[0].delivery, delivered[1].delivery);
    for r in &delivered {
        assert_eq!(r.body["docde"]["delivery_id"], r.delivery.as_str());
        let text = r.body.to_string();
        assert!(text.contains("101-1"), "names the bed: {text}");
        assert!(text.contains("nurse_call"), "names the alarm kind: {text}");
        assert!(
            text.contains(&format!("/nurse?ward={}", s.p.ward1)),
            "links the station"
        );
        // Every test account is named "<role> 테스트"; no patient data may leave.
        assert!(!text.contains("테스트"), "no names: {text}");
        assert!(!text.contains(&s.p.patient.id.to_string()));
        assert!(!text.contains(&s.admission));
    }
    assert!(
        delivered[1].body["text"]
            .as_str()
            .unwrap()
            .starts_with("Escalation 2: Nurse call")
    );
    let rows = deliveries_of_ward(&app.state.store, s.p.ward1)
        .await
        .unwrap();
    let summary: Vec<(u8, &str, u32)> = rows
        .iter()
        .map(|d| (d.level, d.status.as_str(), d.attempts))
        .collect();
    assert_eq!(summary, [(1, "delivered", 3), (2, "delivered", 1)]);
}

#[tokio::test]
async fn a_receiver_that_is_down_neither_delays_the_escalation_nor_loses_its_post() {
    let app = quiet_app().await;
    let s = setup(&app).await;
    let addr = free_addr();
    set_webhook(&app, &s, &url_at(addr)).await;
    nurse_call(&app, &s).await;

    let t1 = level_1_due();
    let started = Instant::now();
    assert_eq!(escalate_due(&app.state, t1).await.unwrap(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "escalating only queues the post"
    );
    let text = read_events(
        &app,
        s.p.ward1,
        &s.p.nurse.token,
        None,
        "\"what\":\"escalated\"",
    )
    .await;
    assert!(text.contains("\"what\":\"escalated\""), "{text}");

    let round = deliver_due(&app.state, t1).await.unwrap();
    assert_eq!(round.retried, 1);
    let rows = deliveries_of_ward(&app.state.store, s.p.ward1)
        .await
        .unwrap();
    assert_eq!(rows[0].status, "pending");
    assert_eq!(rows[0].last_error.as_deref(), Some("connect"));

    let rx = Receiver::start_on(addr, &[]).await;
    let round = deliver_due(&app.state, t1 + TimeDelta::seconds(2))
        .await
        .unwrap();
    assert_eq!(round.delivered, 1);
    assert_eq!(levels(&rx.delivered()), [1]);
    let rows = deliveries_of_ward(&app.state.store, s.p.ward1)
        .await
        .unwrap();
    assert_eq!(
        (rows[0].status.as_str(), rows[0].attempts),
        ("delivered", 2)
    );
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_given_up_after_its_attempts() {
    let app = spawn_app_with(|c| {
        c.ward.technical_worker = false;
        c.ward.webhook_worker = false;
        c.ward.webhook_max_attempts = 2;
    })
    .await;
    let s = setup(&app).await;
    let rx = Receiver::start(&[503, 503, 503]).await;
    set_webhook(&app, &s, &rx.url()).await;
    nurse_call(&app, &s).await;
    let t1 = level_1_due();
    escalate_due(&app.state, t1).await.unwrap();
    assert_eq!(deliver_due(&app.state, t1).await.unwrap().retried, 1);
    let round = deliver_due(&app.state, t1 + TimeDelta::seconds(2))
        .await
        .unwrap();
    assert_eq!(round.failed, 1);
    assert_eq!(
        deliver_due(&app.state, t1 + TimeDelta::hours(1))
            .await
            .unwrap()
            .claimed,
        0
    );
    let rows = deliveries_of_ward(&app.state.store, s.p.ward1)
        .await
        .unwrap();
    assert_eq!(rows[0].status, "failed");
    assert_eq!(rows[0].last_error.as_deref(), Some("status_503"));
    assert_eq!(rx.all().len(), 2);
}

#[tokio::test]
async fn only_the_hospitals_admins_set_the_webhook_which_is_checked_and_shown_redacted() {
    let app = quiet_app().await;
    let s = setup(&app).await;
    let p = &s.p;
    let path = webhook_path(p.ward1);
    let secret_url = "https://chat.hospital.example:8443/hooks/s3cret-token";

    let none: Value = get(&app, &path, &p.hadmin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["source"], "none");
    assert!(none["url"].is_null());
    for outsider in [&p.nurse, &p.doctor, &p.hadmin_h2, &p.patient] {
        assert_eq!(get(&app, &path, &outsider.token).await.status(), 403);
        let r = put(&app, &path, &outsider.token, json!({"url": secret_url})).await;
        assert_eq!(r.status(), 403, "{}", outsider.email);
        assert_eq!(delete(&app, &path, &outsider.token).await.status(), 403);
    }
    let missing = webhook_path(Uuid::now_v7());
    assert_eq!(get(&app, &missing, &p.admin.token).await.status(), 404);
    assert_eq!(
        get(&app, &missing, &p.hadmin.token).await.status(),
        403,
        "others learn nothing of wards that do not exist"
    );

    for bad in [
        "not a url s3cret",
        "/hooks/s3cret",
        "ftp://chat.hospital.example/hooks/s3cret",
        "http://",
    ] {
        let r = put(&app, &path, &p.hadmin.token, json!({"url": bad})).await;
        assert_eq!(r.status(), 422, "{bad}");
        let body = problem(r).await;
        assert_eq!(body["code"], "invalid_webhook_url", "{bad}");
        assert!(!body.to_string().contains("s3cret"), "not echoed: {body}");
    }
    let r = put(&app, &path, &p.hadmin.token, json!({})).await;
    assert_eq!(problem(r).await["code"], "validation_failed");

    let r = put(&app, &path, &p.hadmin.token, json!({"url": secret_url})).await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(!text.contains("s3cret"), "{text}");
    let shown: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(shown["url"], "https://chat.hospital.example:8443/***");
    assert_eq!(shown["source"], "ward");
    assert_eq!(shown["updated_by"], p.hadmin.id.to_string());
    let read = get(&app, &path, &p.hadmin.token)
        .await
        .text()
        .await
        .unwrap();
    assert!(!read.contains("s3cret"), "{read}");
    assert_eq!(
        serde_json::from_str::<Value>(&read).unwrap()["url"],
        "https://chat.hospital.example:8443/***"
    );

    let r = delete(&app, &path, &p.hadmin.token).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["source"], "none");
}

#[tokio::test]
async fn wards_without_a_url_of_their_own_post_to_the_configured_default() {
    let rx = Receiver::start(&[]).await;
    let default = rx.url();
    let app = spawn_app_with(move |c| {
        c.ward.technical_worker = false;
        c.ward.webhook_worker = false;
        c.ward.escalation_webhook_url = Some(default);
    })
    .await;
    let s = setup(&app).await;
    let shown: Value = get(&app, &webhook_path(s.p.ward1), &s.p.hadmin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["source"], "default");
    assert_eq!(shown["url"], format!("http://{}/***", rx.addr));
    nurse_call(&app, &s).await;
    let t1 = level_1_due();
    escalate_due(&app.state, t1).await.unwrap();
    assert_eq!(deliver_due(&app.state, t1).await.unwrap().delivered, 1);
    assert_eq!(levels(&rx.delivered()), [1]);
}

#[tokio::test]
async fn a_ward_without_any_webhook_queues_no_posts() {
    let app = quiet_app().await;
    let s = setup(&app).await;
    nurse_call(&app, &s).await;
    let t1 = level_1_due();
    assert_eq!(escalate_due(&app.state, t1).await.unwrap(), 1);
    assert!(
        deliveries_of_ward(&app.state.store, s.p.ward1)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn two_instances_post_each_escalation_once() {
    if !external_backends("two_instances_post_each_escalation_once") {
        return;
    }
    // Both instances also run their background delivery workers (on the real clock).
    let a = spawn_app_with(|c| c.ward.technical_worker = false).await;
    let s = setup(&a).await;
    let b = spawn_peer(&a).await;
    let rx = Receiver::start(&[500]).await;
    set_webhook(&a, &s, &rx.url()).await;
    nurse_call(&a, &s).await;

    for due in [level_1_due(), level_2_due()] {
        let (ea, eb) = tokio::join!(escalate_due(&a.state, due), escalate_due(&b.state, due));
        assert_eq!(ea.unwrap() + eb.unwrap(), 1, "one instance escalates");
        for step in 0..4 {
            let t = due + TimeDelta::seconds(2 * step);
            let (ra, rb) = tokio::join!(deliver_due(&a.state, t), deliver_due(&b.state, t));
            let (ra, rb) = (ra.unwrap(), rb.unwrap());
            assert!(ra.claimed + rb.claimed <= 1, "never claimed twice at once");
        }
    }
    let delivered = rx.delivered();
    assert_eq!(levels(&delivered), [1, 2], "{:?}", rx.all());
    assert_eq!(rx.all().len(), 3, "one failed post, then one per level");
    let rows = deliveries_of_ward(&a.state.store, s.p.ward1).await.unwrap();
    assert!(rows.iter().all(|d| d.status == "delivered"), "{rows:?}");
}
