//! The processes of the multi-instance test, all on free 127.0.0.1 ports and all its own: a
//! PostgreSQL cluster in a temporary directory, redis-server, mosquitto, two `docde serve` and
//! nginx rendered from deploy/nginx.conf. Each can be stopped and started again on the same
//! port and data, so the scenarios can take parts away and give them back.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `http.drain_delay_ms` of the instances.
pub const DRAIN_DELAY_MS: u64 = 2_000;

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn log_file(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A child process that is killed when dropped, so a failed assertion leaves nothing behind.
pub struct Guarded {
    pub child: Option<Child>,
}

impl Guarded {
    pub fn spawn(command: &mut Command) -> Self {
        Self {
            child: Some(
                command
                    .spawn()
                    .unwrap_or_else(|e| panic!("{command:?}: {e}")),
            ),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until something listens on the port (at most `limit`).
pub fn wait_for_port(port: u16, limit: Duration, what: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        assert!(
            started.elapsed() < limit,
            "{what} did not listen on {port} within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// PostgreSQL from /usr/lib/postgresql/<newest>/bin, in its own data directory. As root the
/// server runs as the `postgres` user (it refuses root).
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

impl Postgres {
    pub fn bin_dir() -> Option<PathBuf> {
        let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let version = e.file_name().to_string_lossy().parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").exists().then_some((version, bin))
            })
            .collect();
        dirs.sort();
        dirs.pop().map(|(_, bin)| bin)
    }

    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    pub fn init(dir: &Path) -> Self {
        let bin = Self::bin_dir().expect("no /usr/lib/postgresql/*/bin/initdb");
        let root = dir.join("pg");
        std::fs::create_dir_all(&root).unwrap();
        let as_postgres = running_as_root();
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&root)
                .status()
                .unwrap();
            assert!(ok.success(), "chown of {}", root.display());
        }
        let pg = Self {
            bin,
            data: root.join("data"),
            log: root.join("postgres.log"),
            port: free_port(),
            as_postgres,
        };
        let out = pg
            .command("initdb")
            .arg("-D")
            .arg(&pg.data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=200",
            self.port,
            self.data.parent().unwrap().display()
        );
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .args(["-o", &options, "-w", "-t", "60", "start"])
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {} (see {})",
            String::from_utf8_lossy(&out.stderr),
            self.log.display()
        );
    }

    /// Fast shutdown: open connections are cut, as in a failover or a restart.
    pub fn stop(&self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "-t", "60", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// redis-server without persistence.
pub struct Redis {
    pub port: u16,
    log: PathBuf,
    process: Guarded,
}

impl Redis {
    pub fn start(dir: &Path) -> Self {
        let mut redis = Self {
            port: free_port(),
            log: dir.join("redis.log"),
            process: Guarded { child: None },
        };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        self.process.kill();
    }

    pub fn restart(&mut self) {
        self.process = Guarded::spawn(
            Command::new("redis-server")
                .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(log_file(&self.log))
                .stderr(log_file(&self.log)),
        );
        wait_for_port(self.port, Duration::from_secs(10), "redis-server");
    }
}

/// mosquitto with deploy/mosquitto.conf's settings on a free port.
pub struct Mosquitto {
    pub port: u16,
    _process: Guarded,
}

impl Mosquitto {
    pub fn start(dir: &Path, repo: &Path) -> Self {
        let port = free_port();
        let template = std::fs::read_to_string(repo.join("deploy/mosquitto.conf")).unwrap();
        let conf = template.replace("listener 1883", &format!("listener {port} 127.0.0.1"));
        assert_ne!(
            conf, template,
            "deploy/mosquitto.conf has no `listener 1883`"
        );
        let path = dir.join("mosquitto.conf");
        std::fs::write(&path, conf).unwrap();
        let log = dir.join("mosquitto.log");
        let process = Guarded::spawn(
            Command::new("mosquitto")
                .arg("-c")
                .arg(&path)
                .stdout(log_file(&log))
                .stderr(log_file(&log)),
        );
        wait_for_port(port, Duration::from_secs(10), "mosquitto");
        Self {
            port,
            _process: process,
        }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

/// nginx with deploy/nginx.conf, the two instances' ports substituted.
pub struct Nginx {
    pub port: u16,
    _process: Guarded,
}

impl Nginx {
    pub fn start(dir: &Path, repo: &Path, a: u16, b: u16) -> Self {
        let port = free_port();
        let template = std::fs::read_to_string(repo.join("deploy/nginx.conf")).unwrap();
        let site = template
            .replace("${DOCDE_A}", &format!("127.0.0.1:{a}"))
            .replace("${DOCDE_B}", &format!("127.0.0.1:{b}"))
            .replace("${NGINX_PORT}", &format!("127.0.0.1:{port}"));
        assert!(
            !site.contains("${"),
            "deploy/nginx.conf has a placeholder the test does not fill"
        );
        let root = dir.join("nginx");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("docde.conf"), site).unwrap();
        // The main configuration a distribution or the nginx image provides around conf.d/.
        let main = format!(
            "daemon off;\nworker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log warn;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log {root}/access.log;\n  client_body_temp_path {root}/body;\n  \
             proxy_temp_path {root}/proxy;\n  fastcgi_temp_path {root}/fastcgi;\n  \
             uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n  \
             include {root}/docde.conf;\n}}\n",
            root = root.display()
        );
        std::fs::write(root.join("nginx.conf"), main).unwrap();
        let log = root.join("stderr.log");
        let process = Guarded::spawn(
            Command::new("/usr/sbin/nginx")
                .arg("-p")
                .arg(&root)
                .arg("-c")
                .arg(root.join("nginx.conf"))
                .stdout(log_file(&log))
                .stderr(log_file(&log)),
        );
        wait_for_port(port, Duration::from_secs(10), "nginx");
        Self {
            port,
            _process: process,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// One `docde serve`.
pub struct Docde {
    pub name: &'static str,
    pub port: u16,
    data_dir: PathBuf,
    env: Vec<(String, String)>,
    pub process: Guarded,
}

impl Docde {
    pub fn new(name: &'static str, dir: &Path, env: Vec<(String, String)>) -> Self {
        let data_dir = dir.join(name);
        std::fs::create_dir_all(&data_dir).unwrap();
        Self {
            name,
            port: free_port(),
            data_dir,
            env,
            process: Guarded { child: None },
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> PathBuf {
        self.data_dir.join("docde.log")
    }

    /// Starts the process (not waiting for it to be ready).
    ///
    /// After SIGTERM it serves on, not ready, for [`DRAIN_DELAY_MS`].
    pub fn spawn(&mut self) {
        let mut command = docde_command(&self.data_dir, &self.env);
        command
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .env("DOCDE_MQTT_CLIENT_ID", format!("docde-{}", self.name))
            // Shorter than the 5 s default, long enough to see it not-ready while serving.
            .env("DOCDE_HTTP_DRAIN_DELAY_MS", DRAIN_DELAY_MS.to_string())
            .stdout(log_file(&self.log()))
            .stderr(log_file(&self.log()));
        self.process = Guarded::spawn(&mut command);
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// SIGTERM, without waiting.
    pub fn terminate(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.process.pid().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Waits for the process to exit; its status code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let started = Instant::now();
        let child = self.process.child.as_mut()?;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.process.child = None;
                return status.code();
            }
            if started.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `docde` with nothing from the caller's environment but PATH and HOME, and `env`.
pub fn docde_command(cwd: &Path, env: &[(String, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docde"));
    command.env_clear().current_dir(cwd).stdin(Stdio::null());
    for key in ["PATH", "HOME"] {
        if let Ok(value) = std::env::var(key) {
            command.env(key, value);
        }
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command
}
