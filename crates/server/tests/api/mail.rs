//! Outgoing e-mail end to end: messages queued in the outbox reach a real SMTP server
//! (aiosmtpd, started per test) with their Korean text intact, survive the server being down,
//! go out once even with two dispatchers, and land in `DATA_DIR/outbox` when no server is
//! configured.
//!
//! The SMTP server is Debian's `python3-aiosmtpd` (`scripts/install-test-deps` installs it).
//! Without it these tests print a skip line and pass, except with `CI=true`, where they fail.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use docde_server::mail::dispatcher::{self, DispatcherOptions};
use docde_server::mail::{NewEmail, list_directory};
use docde_server::{AppState, Config, startup};
use docde_store::outbox;
use tokio::time::{Instant, sleep};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

use crate::smtp::{DELIVERY_LIMIT, SmtpServer, free_port, smtp_server_available, smtp_to};

fn verification_email(to: &str) -> NewEmail {
    NewEmail {
        to: to.into(),
        subject: "DocDe 인증 코드".into(),
        body: "안녕하세요, 김민지 님.\n인증 코드는 482913 입니다.\n10분 안에 입력해 주세요.".into(),
    }
}

/// The value of `email_sent_total{outcome=...}` in this process (all tests share the recorder).
fn sent_total(outcome: &str) -> u64 {
    let needle = format!("email_sent_total{{outcome=\"{outcome}\"}} ");
    docde_server::metrics::recorder()
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(&needle)?.trim().parse().ok())
        .unwrap_or(0)
}

/// `app`'s state with `tweak` applied to its configuration and a database of its own (a new
/// SQLite file, or a new PostgreSQL schema), for a dispatcher no other one competes with.
async fn own_outbox(
    app: &TestApp,
    tweak: impl FnOnce(&mut Config),
) -> (AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = (*app.state.config).clone();
    config.data_dir = dir.path().to_owned();
    if config.database.url.is_some() {
        config.database.schema = Some(format!("t_{}", uuid::Uuid::now_v7().simple()));
    }
    tweak(&mut config);
    let store = startup::open_store(&config).await.expect("own database");
    let shared = &app.state;
    let state = AppState::new(
        Arc::new(config),
        store,
        shared.bus.clone(),
        shared.auth.clone(),
        shared.records.clone(),
        shared.outbound.clone(),
        shared.shutdown.clone(),
    );
    (state, dir)
}

/// Waits until the outbox has no pending message.
async fn wait_until_drained(state: &AppState) {
    let deadline = Instant::now() + DELIVERY_LIMIT;
    while outbox::pending_count(&state.store).await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the outbox did not drain");
        sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_enqueued_email_arrives_at_the_smtp_server_with_its_korean_text_intact() {
    if !smtp_server_available() {
        return;
    }
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(smtp_to(smtp.port)).await;

    let id = dispatcher::enqueue_and_wake(&app.state, verification_email("minji@example.com"))
        .await
        .unwrap();

    let messages = smtp.wait_for_messages(1).await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.to, "minji@example.com");
    assert_eq!(message.from, "DocDe <no-reply@docde.test>");
    assert_eq!(message.subject, "DocDe 인증 코드");
    assert_eq!(
        message.body.replace("\r\n", "\n").trim_end(),
        "안녕하세요, 김민지 님.\n인증 코드는 482913 입니다.\n10분 안에 입력해 주세요."
    );
    assert_eq!(message.message_id, format!("<{id}@docde.test>"));
    wait_until_drained(&app.state).await;
}

#[tokio::test]
async fn without_an_smtp_server_the_email_is_written_to_the_data_directory_outbox() {
    let app = spawn_app().await;

    let id = dispatcher::enqueue_and_wake(&app.state, verification_email("minji@example.com"))
        .await
        .unwrap();

    let dir = app.data_dir.join("outbox");
    let deadline = Instant::now() + DELIVERY_LIMIT;
    let stored = loop {
        let stored = list_directory(&dir).unwrap();
        if !stored.is_empty() {
            break stored;
        }
        assert!(Instant::now() < deadline, "no file in {}", dir.display());
        sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(stored.len(), 1);
    let email = &stored[0];
    assert_eq!(email.id, id);
    assert_eq!(email.to, "minji@example.com");
    assert_eq!(email.from, "DocDe <no-reply@docde.invalid>");
    assert_eq!(email.subject, "DocDe 인증 코드");
    assert!(email.body.contains("인증 코드는 482913 입니다."));
    wait_until_drained(&app.state).await;
}

#[tokio::test]
async fn an_unparseable_recipient_is_given_up_without_being_written() {
    let app = spawn_app().await;
    let failed_before = sent_total("failed");

    dispatcher::enqueue_and_wake(&app.state, verification_email("minji at example"))
        .await
        .unwrap();

    wait_until_drained(&app.state).await;
    assert!(sent_total("failed") > failed_before);
    assert!(
        list_directory(&app.data_dir.join("outbox"))
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_email_enqueued_while_the_smtp_server_is_down_is_delivered_once_it_is_up() {
    if !smtp_server_available() {
        return;
    }
    let port = free_port();
    let app = spawn_app().await;
    // A dispatcher that retries within milliseconds instead of seconds, on an outbox of its
    // own so that the application's dispatcher (5 s backoff) cannot take the message.
    let (state, _dir) = own_outbox(&app, smtp_to(port)).await;
    dispatcher::spawn_with(
        state.clone(),
        DispatcherOptions {
            poll_interval: Duration::from_millis(50),
            retry_base: Duration::from_millis(100),
            retry_cap: Duration::from_millis(200),
            ..DispatcherOptions::default()
        },
    );
    let retries_before = sent_total("retry");

    dispatcher::enqueue_and_wake(&state, verification_email("minji@example.com"))
        .await
        .unwrap();
    let deadline = Instant::now() + DELIVERY_LIMIT;
    while sent_total("retry") <= retries_before {
        assert!(
            Instant::now() < deadline,
            "no failed attempt while the server was down"
        );
        sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(outbox::pending_count(&state.store).await.unwrap(), 1);
    let smtp = SmtpServer::start_on(port).await;

    let messages = smtp.wait_for_messages(1).await;
    assert_eq!(messages[0].to, "minji@example.com");
    assert_eq!(messages[0].subject, "DocDe 인증 코드");
    wait_until_drained(&state).await;
}

#[tokio::test]
async fn two_dispatchers_on_one_outbox_send_each_email_exactly_once() {
    if !smtp_server_available() {
        return;
    }
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(smtp_to(smtp.port)).await;
    // Another instance's dispatcher, as far as the outbox can tell.
    dispatcher::spawn(app.state.clone());

    const COUNT: usize = 20;
    for n in 0..COUNT {
        let email = verification_email(&format!("patient{n}@example.com"));
        outbox::enqueue(&app.state.store, &email, chrono::Utc::now())
            .await
            .unwrap();
    }
    dispatcher::wake(&app.state).await;

    smtp.wait_for_messages(COUNT).await;
    wait_until_drained(&app.state).await;
    // Anything sent twice would have arrived by now.
    sleep(Duration::from_millis(300)).await;
    let messages = smtp.read_messages();
    let ids: HashSet<_> = messages.iter().map(|m| m.message_id.as_str()).collect();
    let recipients: HashSet<_> = messages.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(messages.len(), COUNT);
    assert_eq!(ids.len(), COUNT);
    assert_eq!(recipients.len(), COUNT);
}

/// A dispatcher on an outbox directory of its own whose rounds wait up to `max_defer` for
/// bookings.
async fn deferring_dispatcher(app: &TestApp, max_defer: Duration) -> (AppState, tempfile::TempDir) {
    let (state, dir) = own_outbox(app, |_| {}).await;
    dispatcher::spawn_with(
        state.clone(),
        DispatcherOptions {
            min_gap: Duration::from_millis(20),
            max_defer,
            ..DispatcherOptions::default()
        },
    );
    (state, dir)
}

/// Waits until the message `id` is in `dir`'s outbox directory.
async fn wait_for_file(dir: &std::path::Path, id: uuid::Uuid) {
    let deadline = Instant::now() + DELIVERY_LIMIT;
    while !list_directory(&dir.join("outbox"))
        .unwrap()
        .iter()
        .any(|e| e.id == id)
    {
        assert!(Instant::now() < deadline, "message {id} was not written");
        sleep(Duration::from_millis(20)).await;
    }
}

/// The ids of the messages written to the directory transport under `data`.
fn written(data: &std::path::Path) -> Vec<uuid::Uuid> {
    list_directory(&data.join("outbox"))
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// With a booking waiting for the writer, a letter queued now is not written within `pause`
/// (only `first` is there); once the booking is done, it goes out.
async fn waits_for_a_booking(
    state: &AppState,
    data: &std::path::Path,
    first: uuid::Uuid,
    pause: Duration,
) {
    let booking = state.booking.enter();
    let second = dispatcher::enqueue_and_wake(state, verification_email("jiho@example.com"))
        .await
        .unwrap();
    sleep(pause).await;
    assert_eq!(written(data), [first], "written while a booking waited");
    drop(booking);
    wait_for_file(data, second).await;
    wait_until_drained(state).await;
}

#[tokio::test]
async fn letters_wait_while_bookings_wait_for_the_writer_and_go_out_right_after() {
    let app = spawn_app().await;
    let (state, dir) = deferring_dispatcher(&app, Duration::from_secs(600)).await;
    // A first letter with nothing else going on goes out at once (and the dispatcher has
    // now started its rounds).
    let first = dispatcher::enqueue_and_wake(&state, verification_email("minji@example.com"))
        .await
        .unwrap();
    wait_for_file(dir.path(), first).await;

    waits_for_a_booking(&state, dir.path(), first, Duration::from_millis(500)).await;
}

/// After a quiet spell longer than the deferral limit, the first letter of a burst of
/// bookings waits for them too, as later ones do: its round would run beside the burst's
/// first batches.
#[tokio::test]
async fn after_a_quiet_spell_the_first_letter_of_a_burst_waits_for_its_bookings() {
    let app = spawn_app().await;
    let max_defer = Duration::from_secs(2);
    let (state, dir) = deferring_dispatcher(&app, max_defer).await;
    let first = dispatcher::enqueue_and_wake(&state, verification_email("minji@example.com"))
        .await
        .unwrap();
    wait_for_file(dir.path(), first).await;
    // Quiet for longer than the limit; then a burst begins.
    sleep(max_defer + Duration::from_millis(300)).await;
    waits_for_a_booking(&state, dir.path(), first, Duration::from_millis(800)).await;
}

#[tokio::test]
async fn under_a_stream_of_bookings_letters_still_go_out_within_the_deferral_limit() {
    let app = spawn_app().await;
    let (state, dir) = deferring_dispatcher(&app, Duration::from_millis(300)).await;
    // Bookings are waiting the whole time.
    let _booking = state.booking.enter();
    for to in ["minji@example.com", "jiho@example.com"] {
        let id = dispatcher::enqueue_and_wake(&state, verification_email(to))
            .await
            .unwrap();
        wait_for_file(dir.path(), id).await;
    }
    wait_until_drained(&state).await;
}
