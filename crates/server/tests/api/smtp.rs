//! A real SMTP server for tests: Debian's `python3-aiosmtpd` (installed by
//! `scripts/install-test-deps`), started per test, storing what it receives in a Maildir.
//! Without it, tests print a skip line and pass, except with `CI=true`, where they fail.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use docde_server::Config;
use docde_server::config::SmtpTls;
use serde::Deserialize;
use tokio::time::{Instant, sleep};

/// Debian's interpreter: a pyenv or venv `python3` earlier on PATH lacks the package.
pub const PYTHON: &str = "/usr/bin/python3";
/// How long a message may take to arrive.
pub const DELIVERY_LIMIT: Duration = Duration::from_secs(5);

/// One message as the SMTP server stored it, decoded by Python's e-mail parser (an
/// implementation independent of the one that wrote it).
#[derive(Debug, Deserialize)]
pub struct Received {
    pub to: String,
    pub from: String,
    pub subject: String,
    pub message_id: String,
    pub body: String,
}

/// An aiosmtpd process writing what it receives to a Maildir; killed on drop.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

/// Whether the SMTP server can run here; outside CI, prints why the test is skipped.
pub fn smtp_server_available() -> bool {
    let available = Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "{PYTHON} lacks aiosmtpd; run scripts/install-test-deps"
        );
        eprintln!("skipped: {PYTHON} lacks aiosmtpd (run scripts/install-test-deps)");
    }
    available
}

/// A port nothing listens on (free a moment ago).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl SmtpServer {
    pub async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    pub async fn start_on(port: u16) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("maildir"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("aiosmtpd exited with {status} before listening on {port}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {port}"
            );
            sleep(Duration::from_millis(50)).await;
        }
        Self { child, port, dir }
    }

    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    /// Every message received so far.
    pub fn read_messages(&self) -> Vec<Received> {
        read_maildir(&self.maildir())
    }

    /// Waits until at least `count` messages arrived, and returns them.
    pub async fn wait_for_messages(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + DELIVERY_LIMIT;
        loop {
            let messages = self.read_messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} messages arrived within {DELIVERY_LIMIT:?}",
                messages.len()
            );
            sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parses the Maildir's `new/` messages with Python's `email` package into [`Received`].
pub fn read_maildir(maildir: &Path) -> Vec<Received> {
    const SCRIPT: &str = r#"
import email, email.policy, json, pathlib, sys
new = pathlib.Path(sys.argv[1], "new")
out = []
for path in sorted(new.iterdir()) if new.is_dir() else []:
    m = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    out.append({"to": str(m["To"]), "from": str(m["From"]), "subject": str(m["Subject"]),
                "message_id": str(m["Message-ID"]), "body": m.get_content()})
json.dump(out, sys.stdout)
"#;
    let output = Command::new(PYTHON)
        .args(["-c", SCRIPT])
        .arg(maildir)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "reading the maildir failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("messages as JSON")
}

pub fn smtp_to(port: u16) -> impl FnOnce(&mut Config) {
    move |c| {
        c.smtp.host = Some("127.0.0.1".into());
        c.smtp.port = port;
        c.smtp.tls = SmtpTls::None;
        c.smtp.from = "DocDe <no-reply@docde.test>".into();
    }
}
