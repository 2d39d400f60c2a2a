//! The server under test: this same binary running `docde serve` as a child process, so the
//! benchmark measures a real process over real sockets and can `kill -9` it mid-run.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::process::{Child, Command};

use super::http::{Prepared, once};

/// How to start the server; kept so it can be started again on the same data and port.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    pub data_dir: PathBuf,
    pub addr: SocketAddr,
    /// `DOCDE_*` variables for the child (database, schema, signing keys, rush mode, …).
    pub env: Vec<(String, String)>,
    /// Where the child's output goes (appended, across restarts).
    pub log: PathBuf,
}

/// A running server.
pub struct Server {
    pub spec: ServerSpec,
    child: Child,
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_addr() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?)
}

impl Server {
    /// Starts `docde serve` and waits until `/readyz` answers 200.
    pub async fn start(spec: ServerSpec) -> anyhow::Result<Self> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.log)
            .with_context(|| format!("opening {}", spec.log.display()))?;
        let mut command = Command::new(std::env::current_exe()?);
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(&spec.data_dir)
            .arg("--listen")
            .arg(spec.addr.to_string())
            // No docde.toml from wherever the benchmark was started.
            .current_dir(&spec.data_dir)
            .env_remove("DOCDE_CONFIG")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        for (key, value) in &spec.env {
            command.env(key, value);
        }
        let mut child = command.spawn().context("starting docde serve")?;
        let started = Instant::now();
        let ready = Prepared::get("/readyz", None);
        loop {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!(
                    "docde serve exited with {status} before it was ready; see {}",
                    spec.log.display()
                );
            }
            if matches!(once(spec.addr, &ready).await, Ok((200, _))) {
                break;
            }
            if started.elapsed() > Duration::from_secs(120) {
                anyhow::bail!(
                    "docde serve was not ready after 120 s; see {}",
                    spec.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self { spec, child })
    }

    /// The child's process id (to read its memory use).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `kill -9`: no shutdown, no flush, nothing in flight finishes.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// Kills the server and starts it again on the same data and address.
    pub async fn kill_and_restart(&mut self) -> anyhow::Result<Duration> {
        self.kill().await?;
        let started = Instant::now();
        let next = Server::start(self.spec.clone()).await?;
        *self = next;
        Ok(started.elapsed())
    }

    /// Stops the server (as [`Server::stop`]) and starts it again with `spec`; returns when
    /// the new one was started (after the old one had exited) and how long it took to be ready.
    pub async fn restart(&mut self, spec: ServerSpec) -> anyhow::Result<(Instant, Duration)> {
        self.terminate().await?;
        let started = Instant::now();
        *self = Server::start(spec).await?;
        Ok((started, started.elapsed()))
    }

    /// Asks the server to stop (SIGTERM) and waits; kills it if it takes too long.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.terminate().await
    }

    async fn terminate(&mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()
                .await;
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => self.kill().await?,
        }
        Ok(())
    }
}
