//! `docde demo` shows a live ward (its own simulator reports for every bed), and
//! `docde simulate` reports samples to a running server as the demo's devices.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

fn docde(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docde"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir);
    cmd
}

/// Starts the demo; returns the child, its URL and its stdout up to "Press Ctrl+C".
fn start_demo(dir: &std::path::Path) -> (Child, String, String) {
    start_demo_with(dir, &[])
}

fn start_demo_with(dir: &std::path::Path, env: &[(&str, &str)]) -> (Child, String, String) {
    let mut child = docde(dir)
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir", "d"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(i) = line.find("listening on http://") {
                let url = line[i + "listening on ".len()..].split_whitespace().next();
                let _ = url_tx.send(url.unwrap().to_owned());
            }
        }
    });
    let (out_tx, out_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = out_tx.send(line);
        }
    });
    let url = url_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server started");
    let mut text = String::new();
    while let Ok(line) = out_rx.recv_timeout(Duration::from_secs(30)) {
        text.push_str(&line);
        text.push('\n');
        if line.starts_with("Press Ctrl+C") {
            break;
        }
    }
    (child, url, text)
}

fn stop(mut child: Child) {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    child.wait().unwrap();
}

/// Beds of the live view that show a heart rate.
async fn beds_with_heart_rate(url: &str, ward: &str, token: &str) -> (usize, usize) {
    let live: Value = reqwest::Client::new()
        .get(format!("{url}/api/v1/wards/{ward}/beds/live"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let beds = live["beds"].as_array().unwrap();
    let reporting = beds
        .iter()
        .filter(|b| {
            b["latest"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["kind"] == "heart_rate")
        })
        .count();
    (beds.len(), reporting)
}

#[tokio::test]
async fn the_demo_ward_is_live_and_simulate_reports_as_the_demo_devices() {
    let dir = tempfile::tempdir().unwrap();
    let (child, url, text) = start_demo(dir.path());
    let password = text
        .split("password for all: ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .expect("password printed");
    let ward = text
        .split("/api/v1/wards/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("ward printed")
        .to_owned();
    let signed_in: Value = reqwest::Client::new()
        .post(format!("{url}/api/v1/auth/sign-in"))
        .json(&json!({"email": "nurse@demo.docde.kr", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed_in["access_token"].as_str().unwrap();
    let mut seen = (0, 0);
    for _ in 0..100 {
        seen = beds_with_heart_rate(&url, &ward, token).await;
        if seen.0 > 0 && seen.1 == seen.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(seen, (8, 8), "every demo bed reports vitals");

    let out = docde(dir.path())
        .args([
            "simulate",
            "--url",
            &url,
            "--devices",
            "d/demo-devices.json",
            "--count",
            "2",
            "--rate",
            "5",
            "--duration",
            "2",
            "--sepsis",
            "0",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8(out.stdout).unwrap();
    let numbers: Vec<u64> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    // "<reports> reports, <sent> samples sent, <stored> stored, <duplicates> duplicates,
    //  <rejected> rejected, <errors> errors"
    assert_eq!(numbers.len(), 6, "{summary}");
    assert!(numbers[0] >= 2 && numbers[2] > 0, "{summary}");
    // The demo's own simulator reports as the same devices; on a busy machine both may take
    // a reading in the same millisecond, which the server keeps once (a duplicate).
    assert_eq!(
        numbers[2] + numbers[3],
        numbers[1],
        "every sample stored or already held: {summary}"
    );
    assert!(numbers[3] <= numbers[1] / 10, "{summary}");
    assert_eq!((numbers[4], numbers[5]), (0, 0), "{summary}");

    let bad = docde(dir.path())
        .args(["simulate", "--url", &url, "--duration", "1"])
        .output()
        .unwrap();
    assert!(!bad.status.success(), "no devices is an error");
    stop(child);
}

/// A Prometheus counter of the server, summed over the label sets containing `labels`.
async fn counter(url: &str, name: &str, labels: &str) -> f64 {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn simulate_over_mqtt_reaches_a_server_subscribed_to_the_broker() {
    let broker = "127.0.0.1:1883".parse().unwrap();
    if let Err(e) = std::net::TcpStream::connect_timeout(&broker, Duration::from_secs(1)) {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "no MQTT broker in CI: {e}"
        );
        println!("skipping simulate over MQTT: no broker at 127.0.0.1:1883 ({e})");
        return;
    }
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let prefix = format!("test-{unique}/v1");
    let dir = tempfile::tempdir().unwrap();
    let (child, url, _) = start_demo_with(
        dir.path(),
        &[
            ("DOCDE_MQTT_URL", "mqtt://127.0.0.1:1883"),
            ("DOCDE_MQTT_TOPIC_PREFIX", &prefix),
            ("DOCDE_MQTT_SHARE_GROUP", &format!("g{unique}")),
            ("DOCDE_MQTT_CLIENT_ID", &format!("docde-test-{unique}")),
            ("DOCDE_MQTT_CLEAN_SESSION", "true"),
        ],
    );
    for _ in 0..100 {
        if reqwest::get(format!("{url}/readyz"))
            .await
            .unwrap()
            .status()
            == 200
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = docde(dir.path())
        .args([
            "simulate",
            "--transport",
            "mqtt",
            "--topic-prefix",
            &prefix,
            "--devices",
            "d/demo-devices.json",
            "--count",
            "3",
            "--rate",
            "4",
            "--duration",
            "2",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8(out.stdout).unwrap();
    let sent: f64 = summary.split_whitespace().next().unwrap().parse().unwrap();
    assert!(sent >= 3.0, "{summary}");
    let mut stored = 0.0;
    for _ in 0..100 {
        stored = counter(&url, "mqtt_messages_total", "outcome=\"stored\"").await;
        if stored >= sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        stored, sent,
        "every report published was stored ({summary})"
    );
    stop(child);
}
