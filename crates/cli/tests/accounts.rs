//! Bootstrapping and auditing an installation from the command line, and the demo's accounts.

use std::io::{BufRead, BufReader, Write};
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

/// Starts `args`, returns the child and the URL it logged, plus every stdout line so far.
fn start(
    dir: &std::path::Path,
    args: &[&str],
) -> (Child, String, std::sync::mpsc::Receiver<String>) {
    let mut child = docde(dir)
        .args(args)
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
                let _ = url_tx.send(
                    line[i + "listening on ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap()
                        .to_owned(),
                );
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
        .recv_timeout(Duration::from_secs(30))
        .expect("server started");
    (child, url, out_rx)
}

fn stop(mut child: Child) {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    child.wait().unwrap();
}

async fn sign_in(url: &str, email: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{url}/api/v1/auth/sign-in"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_installation_is_bootstrapped_with_an_admin_and_its_audit_trail_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = docde(dir.path())
        .args([
            "admin",
            "--data-dir",
            "d",
            "create-user",
            "--email",
            "root@hospital.kr",
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password (shown once): "))
        .expect("generated password printed")
        .to_owned();

    let mut patient = docde(dir.path())
        .args([
            "admin",
            "--data-dir",
            "d",
            "create-user",
            "--email",
            "pat@hospital.kr",
            "--role",
            "patient",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    patient
        .stdin
        .take()
        .unwrap()
        .write_all(b"patient chosen passphrase\n")
        .unwrap();
    let out = patient.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        !stdout.contains("password"),
        "a password given on stdin is not echoed"
    );
    let patient_id = stdout.split_whitespace().nth(2).unwrap().to_owned();

    let bad = docde(dir.path())
        .args([
            "admin",
            "--data-dir",
            "d",
            "create-user",
            "--email",
            "x@hospital.kr",
            "--role",
            "king",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--role"));

    let (child, url, _) = start(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0", "--data-dir", "d"],
    );
    let admin: Value = sign_in(&url, "root@hospital.kr", &password)
        .await
        .json()
        .await
        .unwrap();
    let token = admin["access_token"].as_str().unwrap();
    assert_eq!(
        sign_in(&url, "pat@hospital.kr", "patient chosen passphrase")
            .await
            .status(),
        200
    );
    let read = reqwest::Client::new()
        .get(format!("{url}/api/v1/users/{patient_id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    stop(child);

    let out = docde(dir.path())
        .args(["audit", "--data-dir", "d", "--patient", &patient_id])
        .output()
        .unwrap();
    let audit = String::from_utf8(out.stdout).unwrap();
    assert_eq!(audit.lines().count(), 1, "{audit}");
    assert!(
        audit.contains("user.read")
            && audit.contains(&format!("patient={patient_id}"))
            && audit.contains("(admin)"),
        "{audit}"
    );
}

#[tokio::test]
async fn the_demo_prints_one_working_account_per_role() {
    let dir = tempfile::tempdir().unwrap();
    let (child, url, stdout) = start(
        dir.path(),
        &["demo", "--listen", "127.0.0.1:0", "--data-dir", "d"],
    );
    let mut lines = Vec::new();
    while let Ok(line) = stdout.recv_timeout(Duration::from_secs(10)) {
        let done = line.starts_with("Press Ctrl+C");
        lines.push(line);
        if done {
            break;
        }
    }
    let text = lines.join("\n");
    let password = text
        .split("password for all: ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .expect("password printed")
        .to_owned();
    for role in [
        "admin",
        "hospital_admin",
        "doctor",
        "nurse",
        "reception",
        "patient",
    ] {
        let email = lines
            .iter()
            .find_map(|l| {
                l.trim()
                    .strip_prefix(role)
                    .filter(|r| r.starts_with(' '))
                    .and_then(|r| r.split_whitespace().next())
            })
            .unwrap_or_else(|| panic!("no {role} account printed in:\n{text}"));
        assert_eq!(
            sign_in(&url, email, &password).await.status(),
            200,
            "{role} {email}"
        );
    }
    stop(child);
}

#[test]
fn seed_directory_then_reindex_reports_what_the_index_holds() {
    let dir = tempfile::tempdir().unwrap();
    let out = docde(dir.path())
        .args(["seed-directory", "--data-dir", "d", "--hospitals", "60"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loaded = String::from_utf8(out.stdout).unwrap();
    assert!(loaded.starts_with("loaded 60 hospitals and "), "{loaded}");
    let doctors: usize = loaded.split_whitespace().nth(4).unwrap().parse().unwrap();
    let out = docde(dir.path())
        .args(["reindex", "--data-dir", "d"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(
        report.starts_with(&format!("index of 60 hospitals and {doctors} doctors")),
        "{report}"
    );
}
