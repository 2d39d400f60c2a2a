//! Starting chromedriver and a headless chromium with a fresh profile, and the explicit waits
//! every browser test uses (poll for a condition up to a timeout; never sleep as an assertion).

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::json;

/// How long a wait polls before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Killing chromedriver alone leaves its chromium running, orphaned, with its pages
        // still polling; chromedriver was started as the leader of its own process group, so
        // the whole group goes.
        let group = Pid::from_raw(self.driver.id() as i32);
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.driver.wait();
    }
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([
            PathBuf::from("/usr/bin"),
            PathBuf::from("/usr/lib/chromium"),
        ])
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A fresh headless chromium, or `None` (with a printed skip line) when chromium or
/// chromedriver is not installed outside CI. With `CI=true` their absence fails the test.
pub async fn browser(test: &str) -> Option<Browser> {
    let chromium = find(&["chromium", "chromium-browser", "google-chrome"]);
    let chromedriver = find(&["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but chromium / chromedriver are missing: run scripts/install-test-deps"
        );
        println!(
            "skipping {test}: chromium and chromedriver are not installed (scripts/install-test-deps)"
        );
        return None;
    };
    let port = free_port();
    let driver = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("profile dir");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--autoplay-policy=no-user-gesture-required",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => break client,
            Err(e) if started.elapsed() < WAIT => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("chromedriver did not answer on {url}: {e}"),
        }
    };
    Some(Browser {
        client,
        driver,
        _profile: profile,
    })
}

/// Polls `check` every 50 ms until it answers `Some`, failing the test after `timeout`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The text of the first element matching `css`, if there is one.
pub async fn text_of(client: &Client, css: &str) -> Option<String> {
    let el = client.find(Locator::Css(css)).await.ok()?;
    el.text().await.ok()
}

/// Waits until the element matching `css` exists and its text contains `needle`.
pub async fn wait_text(client: &Client, css: &str, needle: &str) -> String {
    wait_for(&format!("{css} to show {needle:?}"), WAIT, || async {
        text_of(client, css).await.filter(|t| t.contains(needle))
    })
    .await
}

/// Whether an element matching `css` exists and is displayed.
pub async fn shown(client: &Client, css: &str) -> bool {
    match client.find(Locator::Css(css)).await {
        Ok(el) => el.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

pub async fn wait_shown(client: &Client, css: &str, want: bool) {
    wait_for(
        &format!("{css} to be {}", if want { "shown" } else { "gone" }),
        WAIT,
        || async { (shown(client, css).await == want).then_some(()) },
    )
    .await
}

/// Clicks the element matching `css`, finding it afresh if the page re-rendered it between
/// finding and clicking (a live page replaces list items as events arrive).
pub async fn click(client: &Client, css: &str) {
    wait_for(&format!("{css} to be clicked"), WAIT, || async {
        let el = client.find(Locator::Css(css)).await.ok()?;
        el.click().await.ok()
    })
    .await;
}

/// Types into the element matching `css`, finding it afresh like [`click`].
pub async fn type_into(client: &Client, css: &str, text: &str) {
    wait_for(&format!("{css} to take {text:?}"), WAIT, || async {
        let el = client.find(Locator::Css(css)).await.ok()?;
        el.send_keys(text).await.ok()
    })
    .await;
}

fn screenshot_dir() -> PathBuf {
    // tests run in crates/server; target/ is the workspace's.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Writes a PNG of the page as a test artefact.
pub async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}
