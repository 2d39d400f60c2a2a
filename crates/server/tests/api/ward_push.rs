//! Web Push through the API: nurses subscribe their browsers (checked; only their own), a
//! high-priority alarm in their ward and its escalations reach a fake push service over
//! https, encrypted for the browser (RFC 8291) and signed with the installation's VAPID key
//! (RFC 8292); a subscription the service calls gone is dropped while the others still get
//! their page; a page about an alarm acknowledged meanwhile is not sent.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeDelta, Utc};
use docde_server::config::Config;
use docde_server::ward::escalate_due;
use docde_server::ward::push::worker::deliver_due;
use docde_store::ward::push::deliveries_of_alarm;
use serde_json::{Value, json};
use uuid::Uuid;
use web_push_native::jwt_simple::prelude::{
    ECDSAP256PublicKeyLike, ES256PublicKey, NoCustomClaims, VerificationOptions,
};
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
use web_push_native::{Auth, p256};

use crate::helpers::{TestApp, external_backends, problem, spawn_app_with, spawn_peer};
use crate::people::{Person, get};
use crate::reports::TlsListener;
use crate::ward::{Setup, setup};
use crate::ward_escalation::{delete, level_1_due, nurse_call};

/// One request the push service got.
#[derive(Debug, Clone)]
struct Pushed {
    name: String,
    headers: HeaderMap,
    body: Bytes,
    status: u16,
}

type Script = Arc<Mutex<(HashMap<String, Vec<u16>>, Vec<Pushed>)>>;

/// A push service on https://127.0.0.1: `POST /push/{name}` answers with the statuses
/// scripted for `name` in turn, then 201, and keeps every request.
struct PushService {
    base: String,
    authority: String,
    state: Script,
}

impl PushService {
    async fn start(script: &[(&str, &[u16])]) -> Self {
        let (listener, authority) = TlsListener::bind().await;
        let addr = axum::serve::Listener::local_addr(&listener).unwrap();
        let statuses = script
            .iter()
            .map(|(name, s)| {
                let mut s = s.to_vec();
                s.reverse();
                ((*name).to_owned(), s)
            })
            .collect();
        let state: Script = Arc::new(Mutex::new((statuses, Vec::new())));
        let app = axum::Router::new()
            .route("/push/{name}", post(answer))
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: format!("https://{addr}/push"),
            authority,
            state,
        }
    }

    fn got(&self) -> Vec<Pushed> {
        self.state.lock().unwrap().1.clone()
    }

    fn accepted_for(&self, name: &str) -> Vec<Pushed> {
        self.got()
            .into_iter()
            .filter(|p| p.name == name && (200..300).contains(&p.status))
            .collect()
    }

    async fn wait_for(&self, name: &str, n: usize) -> Vec<Pushed> {
        for _ in 0..250 {
            if self.accepted_for(name).len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.accepted_for(name)
    }
}

async fn answer(
    State(state): State<Script>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut state = state.lock().unwrap();
    let status = state.0.get_mut(&name).and_then(Vec::pop).unwrap_or(201);
    state.1.push(Pushed {
        name,
        headers,
        body,
        status,
    });
    StatusCode::from_u16(status).unwrap()
}

/// A browser: its P-256 key pair and auth secret, as `pushManager.subscribe` makes them.
struct Browser {
    secret: p256::SecretKey,
    auth: [u8; 16],
    endpoint: String,
}

impl Browser {
    fn new(service: &PushService, name: &str) -> Self {
        let secret = loop {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).unwrap();
            if let Ok(key) = p256::SecretKey::from_slice(&bytes) {
                break key;
            }
        };
        let mut auth = [0u8; 16];
        getrandom::fill(&mut auth).unwrap();
        Self {
            secret,
            auth,
            endpoint: format!("{}/{name}", service.base),
        }
    }

    fn subscription(&self) -> Value {
        let public = self.secret.public_key().to_encoded_point(false);
        json!({
            "endpoint": self.endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(public.as_bytes()),
                "auth": URL_SAFE_NO_PAD.encode(self.auth),
            }
        })
    }

    /// Decrypts what the push service got, as the browser would.
    fn read(&self, pushed: &Pushed) -> Value {
        let plain =
            web_push_native::decrypt(pushed.body.to_vec(), &self.secret, &Auth::from(self.auth))
                .unwrap();
        serde_json::from_slice(&plain).unwrap()
    }
}

/// An app that trusts the fake push service's authority and sends to 127.0.0.1; the worker
/// runs only if `worker` (otherwise tests drive `deliver_due` with an explicit clock).
async fn app_pushing_to(service: &PushService, worker: bool) -> TestApp {
    app_pushing_to_with(service, |c| c.push.worker = worker).await
}

/// [`app_pushing_to`] with the worker off and `tweak` applied last.
async fn app_pushing_to_with(service: &PushService, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("push-ca.pem");
    std::fs::write(&ca, &service.authority).unwrap();
    let app = spawn_app_with(|c| {
        c.ward.technical_worker = false;
        c.ward.webhook_worker = false;
        c.push.worker = false;
        c.push.endpoint_hosts = vec!["127.0.0.1".into()];
        c.outbound.ca_file = Some(ca.clone());
        tweak(c);
    })
    .await;
    // The file is read at start-up; keep the directory alive no longer than needed.
    drop(dir);
    app
}

async fn subscribe(app: &TestApp, who: &Person, browser: &Browser) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/push/subscriptions"))
        .bearer_auth(&who.token)
        .json(&browser.subscription())
        .send()
        .await
        .unwrap()
}

async fn public_key(app: &TestApp, who: &Person) -> String {
    let r = get(app, "/api/v1/push/vapid-public-key", &who.token).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["public_key"].as_str().unwrap().to_owned()
}

async fn open_alarm(app: &TestApp, s: &Setup) -> Value {
    let alarms = crate::ward::open_alarms(app, s).await;
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    alarms[0].clone()
}

async fn acknowledge(app: &TestApp, s: &Setup, alarm_id: &str) {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/alarms/{alarm_id}/acknowledge")))
        .bearer_auth(&s.p.nurse.token)
        .json(&json!({"note": "환자 확인"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn header<'a>(p: &'a Pushed, name: &str) -> &'a str {
    p.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn a_ward_nurses_browser_gets_the_high_priority_alarm_encrypted_and_signed() {
    let service = PushService::start(&[]).await;
    let app = app_pushing_to(&service, true).await;
    let s = setup(&app).await;
    let key = public_key(&app, &s.p.nurse).await;

    let browser = Browser::new(&service, "nurse-phone");
    let r = subscribe(&app, &s.p.nurse, &browser).await;
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["endpoint_host"], "127.0.0.1");
    assert!(first.get("endpoint").is_none() && first.get("keys").is_none());
    // The same browser again: the same subscription.
    let r = subscribe(&app, &s.p.nurse, &browser).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["id"], first["id"]);
    // A nurse of another ward subscribes too, and must not be paged about this one.
    let elsewhere = Browser::new(&service, "other-ward");
    assert_eq!(
        subscribe(&app, &s.p.nurse_other, &elsewhere).await.status(),
        201
    );

    nurse_call(&app, &s).await;
    let got = service.wait_for("nurse-phone", 1).await;
    assert_eq!(got.len(), 1, "{:?}", service.got());
    let pushed = &got[0];
    let alarm = open_alarm(&app, &s).await;

    // Encrypted for this browser: what it reads names the bed and the alarm, not the patient.
    let message = browser.read(pushed);
    assert_eq!(message["bed"], "101-1");
    assert_eq!(message["kind"], "nurse_call");
    assert_eq!(message["priority"], "high");
    assert_eq!(message["reason"], "high");
    assert_eq!(message["alarm_id"], alarm["id"]);
    assert_eq!(message["url"], format!("/nurse?ward={}", s.p.ward1));
    let text = message.to_string();
    assert!(!text.contains(&s.p.patient.id.to_string()), "{text}");
    assert!(!String::from_utf8_lossy(&pushed.body).contains("101-1"));
    assert_eq!(header(pushed, "content-encoding"), "aes128gcm");
    assert_eq!(header(pushed, "urgency"), "high");
    assert_eq!(header(pushed, "ttl"), "600");
    let alarm_id: Uuid = alarm["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(header(pushed, "topic"), alarm_id.simple().to_string());

    // Signed with the key the browser subscribed with, for this push service's origin.
    let authorization = header(pushed, "authorization");
    let (token, k) = authorization
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .unwrap_or_else(|| panic!("not a VAPID header: {authorization}"));
    assert_eq!(k, key);
    let public = ES256PublicKey::from_bytes(&URL_SAFE_NO_PAD.decode(&key).unwrap()).unwrap();
    let options = VerificationOptions {
        allowed_audiences: Some(HashSet::from(["https://127.0.0.1".to_owned()])),
        ..Default::default()
    };
    let claims = public
        .verify_token::<NoCustomClaims>(token, Some(options))
        .unwrap();
    assert_eq!(
        claims.subject.as_deref(),
        Some("mailto:it@hospital.example")
    );

    // The other ward's nurse got nothing; the browser's last delivery is recorded.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(service.accepted_for("other-ward").is_empty());
    let r = get(&app, "/api/v1/push/subscriptions", &s.p.nurse.token).await;
    let mine: Vec<Value> = r.json().await.unwrap();
    assert_eq!(mine.len(), 1);
    assert!(mine[0]["last_sent_at"].is_string(), "{mine:?}");
}

#[tokio::test]
async fn a_gone_subscription_is_dropped_and_a_failing_one_is_retried_without_holding_up_others() {
    let service = PushService::start(&[("gone", &[410]), ("flaky", &[503, 503])]).await;
    let app = app_pushing_to(&service, false).await;
    let s = setup(&app).await;
    let gone = Browser::new(&service, "gone");
    let flaky = Browser::new(&service, "flaky");
    let fine = Browser::new(&service, "fine");
    for b in [&gone, &flaky, &fine] {
        assert_eq!(subscribe(&app, &s.p.nurse, b).await.status(), 201);
    }
    nurse_call(&app, &s).await;
    let alarm_id: Uuid = open_alarm(&app, &s).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let now = Utc::now();
    let round = deliver_due(&app.state, now).await.unwrap();
    assert_eq!(
        (round.claimed, round.delivered, round.retried, round.dropped),
        (3, 1, 1, 1)
    );
    assert_eq!(service.accepted_for("fine").len(), 1);
    // The gone browser's subscription (and its messages) are no more.
    let r = get(&app, "/api/v1/push/subscriptions", &s.p.nurse.token).await;
    let mine: Vec<Value> = r.json().await.unwrap();
    assert_eq!(mine.len(), 2, "{mine:?}");
    // The flaky one is not due again before its backoff, then once more, then delivered.
    let early = deliver_due(&app.state, now + TimeDelta::seconds(1))
        .await
        .unwrap();
    assert_eq!(early.claimed, 0);
    let second = deliver_due(&app.state, now + TimeDelta::seconds(3))
        .await
        .unwrap();
    assert_eq!((second.claimed, second.retried), (1, 1));
    let third = deliver_due(&app.state, now + TimeDelta::seconds(8))
        .await
        .unwrap();
    assert_eq!((third.claimed, third.delivered), (1, 1));
    let pages = service.accepted_for("flaky");
    assert_eq!(pages.len(), 1);
    assert_eq!(flaky.read(&pages[0])["bed"], "101-1");
    let states = deliveries_of_alarm(&app.state.store, alarm_id)
        .await
        .unwrap();
    let mut summary: Vec<(String, u32)> = states
        .iter()
        .map(|d| (d.status.clone(), d.attempts))
        .collect();
    summary.sort();
    assert_eq!(summary, [("delivered".into(), 1), ("delivered".into(), 3)]);
    // Nothing is sent twice.
    assert_eq!(
        deliver_due(&app.state, now + TimeDelta::hours(1))
            .await
            .unwrap()
            .claimed,
        0
    );
    assert_eq!(service.accepted_for("fine").len(), 1);
}

#[tokio::test]
async fn an_escalation_pages_again_and_an_alarm_acknowledged_meanwhile_is_not_paged() {
    let service = PushService::start(&[]).await;
    let app = app_pushing_to(&service, false).await;
    let s = setup(&app).await;
    let browser = Browser::new(&service, "station");
    assert_eq!(subscribe(&app, &s.p.nurse, &browser).await.status(), 201);

    nurse_call(&app, &s).await;
    let now = Utc::now();
    assert_eq!(deliver_due(&app.state, now).await.unwrap().delivered, 1);
    // Unacknowledged: the escalation queues a second page, which replaces the first on the
    // device (same tag) and says its level.
    // (Escalated on a clock 90 s ahead, so the page is due from then.)
    let escalated_at = level_1_due();
    assert_eq!(escalate_due(&app.state, escalated_at).await.unwrap(), 1);
    assert_eq!(
        deliver_due(&app.state, escalated_at)
            .await
            .unwrap()
            .delivered,
        1
    );
    let pages = service.accepted_for("station");
    assert_eq!(pages.len(), 2);
    let (first, second) = (browser.read(&pages[0]), browser.read(&pages[1]));
    assert_eq!(second["reason"], "escalated:1");
    assert_eq!(second["escalation_level"], 1);
    assert_eq!(first["tag"], second["tag"]);

    // Acknowledged: no further escalation, so no further page.
    let alarm = open_alarm(&app, &s).await;
    acknowledge(&app, &s, alarm["id"].as_str().unwrap()).await;
    // The acknowledged alarm does not escalate, so nothing new is queued.
    let later = Utc::now() + TimeDelta::hours(1);
    assert_eq!(escalate_due(&app.state, later).await.unwrap(), 0);
    assert_eq!(deliver_due(&app.state, later).await.unwrap().claimed, 0);
    assert_eq!(service.accepted_for("station").len(), 2);
}

#[tokio::test]
async fn a_page_queued_for_an_alarm_acknowledged_before_it_was_sent_is_given_up() {
    let service = PushService::start(&[]).await;
    let app = app_pushing_to(&service, false).await;
    let s = setup(&app).await;
    let browser = Browser::new(&service, "station");
    assert_eq!(subscribe(&app, &s.p.nurse, &browser).await.status(), 201);
    nurse_call(&app, &s).await;
    let alarm = open_alarm(&app, &s).await;
    let alarm_id = alarm["id"].as_str().unwrap();
    acknowledge(&app, &s, alarm_id).await;
    let round = deliver_due(&app.state, Utc::now()).await.unwrap();
    assert_eq!((round.claimed, round.failed), (1, 1));
    assert!(service.got().is_empty());
    let states = deliveries_of_alarm(&app.state.store, alarm_id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(states[0].last_error.as_deref(), Some("alarm_closed"));
}

#[tokio::test]
async fn only_nurses_subscribe_only_their_own_browsers_and_bad_subscriptions_are_refused() {
    let service = PushService::start(&[]).await;
    let app = app_pushing_to(&service, false).await;
    let s = setup(&app).await;
    let browser = Browser::new(&service, "b");
    for who in [&s.p.doctor, &s.p.patient, &s.p.reception, &s.p.hadmin] {
        let r = subscribe(&app, who, &browser).await;
        assert_eq!(r.status(), 403, "{}", who.email);
    }
    let r = app
        .client
        .post(app.url("/api/v1/push/subscriptions"))
        .json(&browser.subscription())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let mut cases = Vec::new();
    let mut http = browser.subscription();
    http["endpoint"] = json!(browser.endpoint.replace("https://", "http://"));
    cases.push((http, "endpoint"));
    let mut elsewhere = browser.subscription();
    elsewhere["endpoint"] = json!("https://intranet.hospital.example/admin");
    cases.push((elsewhere, "endpoint"));
    let mut key = browser.subscription();
    key["keys"]["p256dh"] = json!("AAAA");
    cases.push((key, "keys.p256dh"));
    let mut auth = browser.subscription();
    auth["keys"]["auth"] = json!("c2hvcnQ");
    cases.push((auth, "keys.auth"));
    for (body, field) in cases {
        let r = app
            .client
            .post(app.url("/api/v1/push/subscriptions"))
            .bearer_auth(&s.p.nurse.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{field}");
        let p = problem(r).await;
        assert_eq!(p["code"], "invalid_push_subscription", "{p}");
        assert!(p.to_string().contains(field), "{p}");
        assert!(!p.to_string().contains("intranet"), "{p}");
    }

    let r = subscribe(&app, &s.p.nurse, &browser).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/push/subscriptions/{id}");
    // Another nurse can neither see nor remove it.
    let theirs: Vec<Value> = get(&app, "/api/v1/push/subscriptions", &s.p.nurse_other.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(theirs.is_empty());
    assert_eq!(
        delete(&app, &path, &s.p.nurse_other.token).await.status(),
        404
    );
    assert_eq!(delete(&app, &path, &s.p.nurse.token).await.status(), 204);
    assert_eq!(delete(&app, &path, &s.p.nurse.token).await.status(), 404);
    // Unsubscribed: an alarm pages nobody.
    nurse_call(&app, &s).await;
    assert_eq!(
        deliver_due(&app.state, Utc::now()).await.unwrap().claimed,
        0
    );
}

#[tokio::test]
async fn the_vapid_key_is_made_once_and_stored_sealed() {
    let service = PushService::start(&[]).await;
    let app = app_pushing_to(&service, false).await;
    let s = setup(&app).await;
    let key = public_key(&app, &s.p.nurse).await;
    assert_eq!(public_key(&app, &s.p.doctor).await, key);
    let stored = docde_store::ward::push::vapid_key(&app.state.store)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.public_key, key);
    // The private half is sealed with the record keys, not stored as the key itself.
    let private = app
        .state
        .records
        .open("push.vapid_private_key", &stored.private_key)
        .await
        .unwrap();
    assert!(!stored.private_key.contains(&private));
    assert_eq!(
        get(&app, "/api/v1/push/vapid-public-key", "")
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn every_instance_signs_with_the_same_vapid_key() {
    if !external_backends("every_instance_signs_with_the_same_vapid_key") {
        return;
    }
    let service = PushService::start(&[]).await;
    let a = app_pushing_to(&service, false).await;
    let b = spawn_peer(&a).await;
    let s = setup(&a).await;
    // Both ask at once: whichever stores its pair first, both answer with that one.
    let (ka, kb) = tokio::join!(public_key(&a, &s.p.nurse), public_key(&b, &s.p.nurse));
    assert_eq!(ka, kb);
}

#[tokio::test]
async fn the_retention_sweep_deletes_settled_pages_with_the_events_and_keeps_pending_ones() {
    let service = PushService::start(&[("down", &[503; 10])]).await;
    let app = app_pushing_to_with(&service, |c| {
        c.ward.retention_worker = false;
        c.ward.rollup_worker = false;
    })
    .await;
    let s = setup(&app).await;
    let up = Browser::new(&service, "up");
    let down = Browser::new(&service, "down");
    for b in [&up, &down] {
        assert_eq!(subscribe(&app, &s.p.nurse, b).await.status(), 201);
    }
    nurse_call(&app, &s).await;
    let alarm_id: Uuid = open_alarm(&app, &s).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let round = deliver_due(&app.state, Utc::now()).await.unwrap();
    assert_eq!((round.delivered, round.retried), (1, 1));

    // Within the event retention nothing goes; past it the delivered page goes and the one
    // still being retried stays.
    let now = Utc::now();
    let swept = docde_server::ward::retention::sweep(&app.state, now + TimeDelta::days(29))
        .await
        .unwrap();
    assert_eq!(swept.deliveries, 0);
    let swept = docde_server::ward::retention::sweep(&app.state, now + TimeDelta::days(31))
        .await
        .unwrap();
    assert_eq!(swept.deliveries, 1);
    let left = deliveries_of_alarm(&app.state.store, alarm_id)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].status, "pending");
}
