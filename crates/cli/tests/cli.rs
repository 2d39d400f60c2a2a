//! The `docde` binary as an operator uses it: start, probe, stop with a signal; configure
//! through file, environment and flags; fail clearly on bad configuration.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The binary with a clean environment, so variables of the developer's shell cannot leak in.
fn docde(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docde"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir);
    cmd
}

/// Waits for the "listening on http://…" log line and returns the URL.
fn wait_for_address(child: &mut Child) -> String {
    let stderr = child.stderr.take().expect("stderr piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(i) = line.find("listening on http://") {
                let url: String = line[i + "listening on ".len()..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_owned();
                let _ = tx.send(url);
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("server logged its address")
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[tokio::test]
async fn serve_on_port_zero_logs_its_address_serves_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = docde(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "store"])
        .env("DOCDE_HTTP_DRAIN_DELAY_MS", "1000")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = wait_for_address(&mut child);
    assert_eq!(
        reqwest::get(format!("{url}/healthz"))
            .await
            .unwrap()
            .status(),
        200,
        "alive at once"
    );
    // Ready once the search index is built (an empty directory: a moment).
    let mut ready = false;
    for _ in 0..100 {
        if reqwest::get(format!("{url}/readyz"))
            .await
            .unwrap()
            .status()
            == 200
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "ready within 5 s");
    assert!(
        dir.path().join("store/docde.db").exists(),
        "the embedded database lives in --data-dir"
    );

    let sent = Instant::now();
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    // SIGTERM drains first: not ready, still serving, for http.drain_delay_ms.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let readyz = reqwest::get(format!("{url}/readyz"))
        .await
        .unwrap()
        .status();
    assert_eq!(readyz, 503, "not ready while draining");
    let healthz = reqwest::get(format!("{url}/healthz"))
        .await
        .unwrap()
        .status();
    assert_eq!(healthz, 200, "still serving while draining");
    let status =
        wait_with_timeout(&mut child, Duration::from_secs(10)).expect("exits after SIGTERM");
    assert!(status.success(), "clean exit, got {status:?}");
    let took = sent.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(6),
        "stopped after the 1 s drain delay, took {took:?}"
    );
}

#[test]
fn invalid_configuration_fails_at_start_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = docde(dir.path())
        .args(["serve"])
        .env("DOCDE_HTTP_REQUEST_TIMEOUT_MS", "soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "one line, no backtrace: {stderr}"
    );
    assert!(stderr.contains("http.request_timeout_ms"), "{stderr}");

    let out = docde(dir.path())
        .args(["serve"])
        .env("DOCDE_DATABASE_URL", "mysql://x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("database.url")
    );
}

#[test]
fn an_unknown_key_in_the_config_file_is_an_error_but_an_unknown_variable_only_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("docde.toml"), "[http]\nbody_limit = 5\n").unwrap();
    let out = docde(dir.path()).args(["config"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("body_limit")
    );

    std::fs::remove_file(dir.path().join("docde.toml")).unwrap();
    let out = docde(dir.path())
        .args(["config"])
        .env("DOCDE_PORT", "tcp://10.0.0.1:80")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("DOCDE_PORT")
    );
}

#[test]
fn flags_override_environment_which_overrides_the_file_which_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("site.toml"),
        "listen = \"127.0.0.1:7000\"\n[http]\nbody_limit_bytes = 2048\nshutdown_grace_ms = 1234\n",
    )
    .unwrap();
    let out = docde(dir.path())
        .args([
            "config",
            "--config",
            "site.toml",
            "--listen",
            "127.0.0.1:9000",
        ])
        .env("DOCDE_LISTEN", "127.0.0.1:8000")
        .env("DOCDE_HTTP_BODY_LIMIT_BYTES", "4096")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(config["listen"], "127.0.0.1:9000", "flag beats environment");
    assert_eq!(
        config["http"]["body_limit_bytes"], 4096,
        "environment beats file"
    );
    assert_eq!(
        config["http"]["shutdown_grace_ms"], 1234,
        "file beats default"
    );
    assert_eq!(config["http"]["request_timeout_ms"], 15000, "default");
}

#[test]
fn config_redacts_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let out = docde(dir.path())
        .args(["config"])
        .env(
            "DOCDE_DATABASE_URL",
            "postgres://docde:hunter2@db.internal:5432/docde",
        )
        .env("DOCDE_REDIS_URL", "redis://:s3cret@cache.internal:6379")
        .env("DOCDE_SMTP_PASSWORD", "mailpass-42")
        .env(
            "DOCDE_AUTH_SIGNING_KEYS",
            r#"["k2:new-signing-secret-0123456789abcdefgh", "k1:old-signing-secret-0123456789abcdefgh"]"#,
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    for secret in ["hunter2", "s3cret", "mailpass-42", "signing-secret"] {
        assert!(!stdout.contains(secret), "{secret} leaked: {stdout}");
    }
    assert!(stdout.contains("postgres://docde:***@db.internal:5432/docde"));
    let config: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        config["auth"]["signing_keys"],
        serde_json::json!(["k2:***", "k1:***"]),
        "key ids stay visible"
    );
}

#[test]
fn postgres_without_shared_signing_keys_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = docde(dir.path())
        .args(["config"])
        .env("DOCDE_DATABASE_URL", "postgres://docde@db.internal/docde")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("auth.signing_keys")
    );
    let out = docde(dir.path())
        .args(["config"])
        .env("DOCDE_AUTH_SIGNING_KEYS", r#"["k1:too-short"]"#)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("auth.signing_keys[0]")
    );
}

#[test]
fn migrate_creates_and_migrates_the_embedded_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = docde(dir.path())
        .args(["migrate", "--data-dir", "d"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("d/docde.db").exists());
    let again = docde(dir.path())
        .args(["migrate", "--data-dir", "d"])
        .output()
        .unwrap();
    assert!(again.status.success(), "migrating twice is harmless");
}

#[test]
fn version_and_openapi_are_printed() {
    let dir = tempfile::tempdir().unwrap();
    let out = docde(dir.path()).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("docde {}", env!("CARGO_PKG_VERSION"))
    );
    let out = docde(dir.path()).arg("openapi").output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
}
