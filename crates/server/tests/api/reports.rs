//! Error reports: 5xx answers and panics posted to an incoming webhook, retried, deduplicated,
//! never slowing a request, and never carrying patient data.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;

use crate::accounts::sign_up_body;
use crate::helpers::{TestApp, spawn_app_with};

/// A webhook on 127.0.0.1:0 that refuses its first `fail_first` posts (500), or never answers.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Value>>>,
    attempts: Arc<AtomicUsize>,
}

async fn receiver(fail_first: usize, hang: bool) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (app, received, attempts) = hook(fail_first, hang);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver {
        url: format!("http://{address}/hooks/docde"),
        received,
        attempts,
    }
}

type Received = Arc<Mutex<Vec<Value>>>;

/// The webhook's routes: `/hooks/docde` refusing its first `fail_first` posts, or hanging.
fn hook(fail_first: usize, hang: bool) -> (axum::Router, Received, Arc<AtomicUsize>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let attempts = Arc::new(AtomicUsize::new(0));
    let (r, a) = (received.clone(), attempts.clone());
    let app = axum::Router::new().route(
        "/hooks/docde",
        post(move |Json(body): Json<Value>| {
            let (r, a) = (r.clone(), a.clone());
            async move {
                let n = a.fetch_add(1, Ordering::SeqCst);
                if hang {
                    std::future::pending::<()>().await;
                }
                if n < fail_first {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                r.lock().unwrap().push(body);
                StatusCode::OK
            }
        }),
    );
    (app, received, attempts)
}

/// The same webhook over https with a certificate for 127.0.0.1 from a throwaway authority,
/// as a hospital's internal Mattermost would be. Returns it and the authority's PEM.
async fn tls_receiver() -> (Receiver, String) {
    let (listener, authority) = TlsListener::bind().await;
    let address = listener.tcp.local_addr().unwrap();
    let (app, received, attempts) = hook(0, false);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let receiver = Receiver {
        url: format!("https://{address}/hooks/docde"),
        received,
        attempts,
    };
    (receiver, authority)
}

/// A TLS listener on 127.0.0.1:0 whose certificate (for 127.0.0.1) a throwaway authority
/// signed; serve an axum app on it. Also used for the fake push service of `ward_push`.
pub(crate) struct TlsListener {
    tcp: tokio::net::TcpListener,
    tls: tokio_rustls::TlsAcceptor,
}

impl TlsListener {
    /// The listener and its authority's PEM (for `outbound.ca_file`).
    pub(crate) async fn bind() -> (Self, String) {
        let authority_key = rcgen::KeyPair::generate().unwrap();
        let mut authority = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        authority.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        authority
            .distinguished_name
            .push(rcgen::DnType::CommonName, "DocDe test authority");
        let authority = rcgen::CertifiedIssuer::self_signed(authority, authority_key).unwrap();
        let server_key = rcgen::KeyPair::generate().unwrap();
        let server = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&server_key, &authority)
            .unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![server.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
            )
            .unwrap();
        let listener = Self {
            tcp: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
            tls: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        };
        (listener, authority.pem())
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, address)) = self.tcp.accept().await else {
                continue;
            };
            // A client that does not trust the certificate fails the handshake: skip it.
            if let Ok(tls) = self.tls.accept(tcp).await {
                return (tls, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

impl Receiver {
    /// Waits up to 5 s until `n` reports arrived; returns what arrived.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..250 {
            if self.received.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.received.lock().unwrap().clone()
    }
}

async fn app_reporting_to(receiver: &Receiver, window_ms: u64) -> TestApp {
    let url = receiver.url.clone();
    spawn_app_with(move |c| {
        c.reports.webhook_url = Some(url);
        c.reports.instance = Some("docde-test".into());
        c.reports.retry_base_ms = 20;
        c.reports.timeout_ms = 500;
        c.reports.dedup_window_ms = window_ms;
        c.reports.per_minute = 600;
    })
    .await
}

fn field<'a>(report: &'a Value, title: &str) -> &'a str {
    report["attachments"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == title)
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no {title} field in {report}"))
}

#[tokio::test]
async fn a_500_reaches_a_webhook_that_fails_at_first_once_it_recovers() {
    let hook = receiver(2, false).await;
    let app = app_reporting_to(&hook, 60_000).await;
    let response = app.get("/probe/internal").await;
    assert_eq!(response.status(), 500);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();

    let reports = hook.wait_for(1).await;
    assert_eq!(reports.len(), 1, "delivered after the webhook recovered");
    assert_eq!(
        hook.attempts.load(Ordering::SeqCst),
        3,
        "two refusals, then delivery"
    );
    let report = &reports[0];
    assert!(
        report["text"]
            .as_str()
            .unwrap()
            .contains("500 on GET /probe/internal"),
        "{report}"
    );
    assert_eq!(field(report, "route"), "GET /probe/internal");
    assert_eq!(field(report, "request id"), request_id);
    assert_eq!(field(report, "instance"), "docde-test");
    assert!(
        report["attachments"][0]["text"]
            .as_str()
            .unwrap()
            .contains("relation patient_secret_table"),
        "the cause chain is there: {report}"
    );
    let text = report.to_string();
    assert!(!text.contains("Kim") && !text.contains("Minji"), "{text}");

    let metrics = app.get("/metrics").await.text().await.unwrap();
    for outcome in ["retry", "delivered"] {
        assert!(
            metrics.contains(&format!(
                r#"docde_webhook_deliveries_total{{kind="error_report",outcome="{outcome}"}}"#
            )),
            "{metrics}"
        );
    }
}

#[tokio::test]
async fn a_caught_panic_is_reported_with_where_it_happened_but_not_its_message_values() {
    let hook = receiver(0, false).await;
    let app = app_reporting_to(&hook, 60_000).await;
    assert_eq!(app.get("/probe/panic").await.status(), 500);
    let reports = hook.wait_for(1).await;
    let chain = reports[0]["attachments"][0]["text"].as_str().unwrap();
    assert!(
        chain.contains("handler panicked: probe panicked with"),
        "{chain}"
    );
    assert!(
        chain.contains("helpers.rs:"),
        "the panic's location: {chain}"
    );
    assert!(
        !chain.contains("Kim") && !chain.contains("Minji"),
        "{chain}"
    );
}

#[tokio::test]
async fn repeats_within_the_window_are_counted_and_summarised_not_resent() {
    let hook = receiver(0, false).await;
    let app = app_reporting_to(&hook, 800).await;
    for _ in 0..5 {
        assert_eq!(app.get("/probe/internal").await.status(), 500);
    }
    let first = hook.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        hook.received.lock().unwrap().len(),
        1,
        "one message for five equal errors inside the window: {first:?}"
    );
    let reports = hook.wait_for(2).await;
    assert_eq!(reports.len(), 2, "a summary follows when the window ends");
    let summary = reports[1]["text"].as_str().unwrap();
    assert!(summary.contains("×4 since"), "{summary}");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains(r#"error_reports_total{outcome="deduplicated"}"#));
}

#[tokio::test]
async fn a_hung_webhook_never_delays_answers_and_the_full_queue_drops_its_oldest() {
    let hook = receiver(0, true).await;
    let url = hook.url.clone();
    let app = spawn_app_with(move |c| {
        c.reports.webhook_url = Some(url);
        c.reports.timeout_ms = 30_000;
        c.reports.dedup_window_ms = 0;
        c.reports.queue = 2;
    })
    .await;
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(app.get("/probe/internal").await.status(), 500);
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "20 failing requests answered in {took:?} while the webhook hangs"
    );
    assert!(
        hook.attempts.load(Ordering::SeqCst) >= 1,
        "the sender is stuck on the first post"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"error_reports_total{outcome="dropped"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_database_failure_while_signing_up_reports_no_patient_data() {
    let hook = receiver(0, false).await;
    let app = app_reporting_to(&hook, 60_000).await;
    // A real 5xx: the table the sign-up writes to disappears under the running application.
    docde_store::with_writer!(app.state.store, pool => {
        sqlx::query("ALTER TABLE users RENAME TO users_gone")
            .execute(pool)
            .await
            .unwrap();
    });
    let body = sign_up_body("minji.kim@example.kr", "correct horse battery staple 42");
    let response = app
        .client
        .post(app.url("/api/v1/auth/sign-up"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    let reports = hook.wait_for(1).await;
    assert_eq!(reports.len(), 1);
    let text = reports[0].to_string();
    assert!(text.contains("POST /api/v1/auth/sign-up"), "{text}");
    assert!(
        text.contains("database error"),
        "the kind of failure is named: {text}"
    );
    for secret in [
        "김민지",
        "minji",
        "example.kr",
        "010-2345-6789",
        "1990-05-01",
        "대학로",
        "서울",
        "horse",
    ] {
        assert!(!text.contains(secret), "{secret:?} leaked into {text}");
    }
}

#[tokio::test]
async fn a_500_reaches_an_https_webhook_whose_certificate_the_configured_authority_signed() {
    let (hook, authority) = tls_receiver().await;
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), &authority).unwrap();
    let (url, ca) = (hook.url.clone(), ca_file.path().to_owned());
    let app = spawn_app_with(move |c| {
        c.reports.webhook_url = Some(url);
        c.reports.retry_base_ms = 20;
        c.reports.timeout_ms = 2_000;
        c.outbound.ca_file = Some(ca);
    })
    .await;
    assert_eq!(app.get("/probe/internal").await.status(), 500);
    let reports = hook.wait_for(1).await;
    assert_eq!(reports.len(), 1, "delivered over https");
    assert!(reports[0]["text"].as_str().unwrap().contains("500"));
}

#[tokio::test]
async fn an_https_webhook_with_an_untrusted_certificate_gets_nothing() {
    let (hook, _authority) = tls_receiver().await;
    let url = hook.url.clone();
    let app = spawn_app_with(move |c| {
        c.reports.webhook_url = Some(url);
        c.reports.retry_base_ms = 20;
        c.reports.attempts = 2;
        c.reports.timeout_ms = 2_000;
    })
    .await;
    assert_eq!(app.get("/probe/internal").await.status(), 500);
    // Two attempts 20 ms apart, each refused at the handshake: well within a second.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        hook.attempts.load(Ordering::SeqCst),
        0,
        "no request gets past a certificate the system does not trust"
    );
    assert!(hook.received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_unreadable_or_empty_ca_file_stops_start_up_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    for path in [dir.path().join("missing.pem"), empty] {
        let mut config = docde_server::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_owned(),
            ..docde_server::Config::default()
        };
        config.outbound.ca_file = Some(path.clone());
        let error = docde_server::Application::build(config)
            .await
            .err()
            .unwrap_or_else(|| panic!("{} was accepted", path.display()));
        assert!(
            format!("{error:#}").contains("outbound.ca_file"),
            "the message names the key: {error:#}"
        );
    }
}
