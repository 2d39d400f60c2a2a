//! Subcommands: serve, migrate, config, demo, openapi, outbox.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use docde_server::{Application, Config, shutdown, startup, telemetry};
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DataArgs),
    /// Print the effective configuration (secrets redacted) as JSON.
    Config(ServeArgs),
    /// Run the server on a fresh embedded database with demo data, and print the URL to open.
    Demo(ServeArgs),
    /// Print the OpenAPI document.
    Openapi,
    /// List e-mails written to the on-disk outbox (when no SMTP server is configured).
    Outbox(DataArgs),
    /// Administration: bootstrap accounts.
    Admin {
        #[command(flatten)]
        data: DataArgs,
        #[command(subcommand)]
        command: crate::admin::AdminCommand,
    },
    /// Load generated Korean directory data (hospitals, hours, departments, doctors).
    SeedDirectory {
        #[command(flatten)]
        data: DataArgs,
        /// How many hospitals (each with 1–30 doctors).
        #[arg(long, default_value_t = 1_000)]
        hospitals: usize,
        /// Generator seed: the same seed gives the same directory.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Build the directory search index from the database and report its figures; with Redis
    /// configured, also make every running instance rebuild its own.
    Reindex(DataArgs),
    /// Benchmarks against a real server (figures in docs/BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: crate::bench::BenchCommand,
    },
    /// Re-wrap the medical records' data keys under the first of `records.master_keys`
    /// (key rotation without downtime; see docs/OPERATIONS.md).
    RotateKeys {
        #[command(flatten)]
        data: DataArgs,
        /// Print a new master key entry for the configuration and exit.
        #[arg(long)]
        generate: bool,
        /// Also add a fresh data key for new records (instances use it from their next start).
        #[arg(long)]
        new_data_key: bool,
    },
    /// Simulated bedside devices reporting vitals over HTTP or MQTT (baselines, noise,
    /// artefacts, IV bags draining, nurse calls, sepsis episodes).
    Simulate(crate::simulate::SimulateArgs),
    /// Print the audit trail (who read whose data), newest first.
    Audit {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        filter: crate::admin::AuditArgs,
    },
}

#[derive(Debug, Args, Serialize, Default)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one) [env: DOCDE_LISTEN]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    #[serde(flatten)]
    data: DataArgs,
}

#[derive(Debug, Args, Serialize, Default)]
pub struct DataArgs {
    /// Directory for the embedded database [env: DOCDE_DATA_DIR]
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
}

pub async fn run(command: Command, config_file: Option<&Path>) -> ExitCode {
    let result = match command {
        Command::Serve(args) => match load(config_file, &args) {
            Ok(config) => serve(config).await,
            Err(code) => return code,
        },
        Command::Migrate(args) => match load(config_file, &args) {
            Ok(config) => migrate(config).await,
            Err(code) => return code,
        },
        Command::Config(args) => match load(config_file, &args) {
            Ok(config) => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&config.redacted()).unwrap_or_default()
                );
                Ok(())
            }
            Err(code) => return code,
        },
        Command::Demo(args) => match load(config_file, &args) {
            Ok(config) => demo(config).await,
            Err(code) => return code,
        },
        Command::Admin { data, command } => match load(config_file, &data) {
            Ok(config) => crate::admin::run(config, command).await,
            Err(code) => return code,
        },
        Command::Bench { command } => crate::bench::run(command).await,
        Command::Simulate(args) => {
            telemetry::init(&Config::default().log);
            crate::simulate::run_command(args).await
        }
        Command::Reindex(data) => match load(config_file, &data) {
            Ok(config) => reindex(config).await,
            Err(code) => return code,
        },
        Command::SeedDirectory {
            data,
            hospitals,
            seed,
        } => match load(config_file, &data) {
            Ok(config) => seed_directory(config, hospitals, seed).await,
            Err(code) => return code,
        },
        Command::Audit { data, filter } => match load(config_file, &data) {
            Ok(config) => crate::admin::audit(config, filter).await,
            Err(code) => return code,
        },
        Command::RotateKeys { generate: true, .. } => {
            crate::rotate_keys::generate();
            Ok(())
        }
        Command::RotateKeys {
            data, new_data_key, ..
        } => match load(config_file, &data) {
            Ok(config) => crate::rotate_keys::run(config, new_data_key).await,
            Err(code) => return code,
        },
        Command::Outbox(args) => match load(config_file, &args) {
            Ok(config) => outbox(&config),
            Err(code) => return code,
        },
        Command::Openapi => {
            println!(
                "{}",
                docde_server::routes::api()
                    .1
                    .to_pretty_json()
                    .unwrap_or_default()
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "docde failed");
            eprintln!("docde: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the configuration and sets up logging; a bad configuration is one line and exit 2.
fn load(file: Option<&Path>, overrides: &impl Serialize) -> Result<Config, ExitCode> {
    match Config::load(file, overrides) {
        Ok((config, warnings)) => {
            telemetry::init(&config.log);
            for warning in warnings {
                tracing::warn!("{warning}");
            }
            Ok(config)
        }
        Err(e) => {
            eprintln!("docde: {e}");
            Err(ExitCode::from(2))
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    shutdown::drain_on_signal(app.drain_token(), app.shutdown_token());
    app.run_until_stopped().await
}

async fn seed_directory(config: Config, hospitals: usize, seed: u64) -> anyhow::Result<()> {
    let store = startup::open_store(&config).await?;
    let started = std::time::Instant::now();
    let done = docde_server::seed::seed_directory(&store, hospitals, seed, |p| {
        eprint!("\r{} hospitals, {} doctors", p.hospitals, p.doctors);
    })
    .await?;
    eprintln!();
    println!(
        "loaded {} hospitals and {} doctors in {:.1} s",
        done.hospitals,
        done.doctors,
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    Ok(())
}

async fn reindex(config: Config) -> anyhow::Result<()> {
    let store = startup::open_store(&config).await?;
    let stats = docde_server::directory_index::build_offline(&store).await?;
    println!(
        "index of {} hospitals and {} doctors: loaded in {} ms, built in {} ms, {} MiB",
        stats.hospitals,
        stats.doctors,
        stats.load_ms,
        stats.index_ms,
        stats.memory_bytes / (1024 * 1024)
    );
    if let Some(url) = &config.redis.url {
        let token = tokio_util::sync::CancellationToken::new();
        let bus = docde_bus::Bus::redis(url, &config.redis.namespace, token.clone()).await?;
        docde_server::directory_index::broadcast_rebuild(&bus).await?;
        token.cancel();
        println!("every running instance was told to rebuild its index");
    } else {
        println!(
            "embedded setup: a running server rebuilds at start, or on POST /api/v1/admin/search/reindex"
        );
    }
    store.close().await;
    Ok(())
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let store = startup::open_store(&config).await?;
    tracing::info!(database = store.dialect(), "migrations applied");
    store.close().await;
    Ok(())
}

/// Prints the on-disk outbox, oldest first; says so on stderr when it is empty.
fn outbox(config: &Config) -> anyhow::Result<()> {
    let dir = docde_server::mail::outbox_dir(config);
    let emails = docde_server::mail::list_directory(&dir)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", dir.display()))?;
    if config.smtp.host.is_some() {
        eprintln!("note: smtp.host is set, so new e-mail goes to the SMTP server, not here");
    }
    if emails.is_empty() {
        eprintln!("no e-mails in {}", dir.display());
    }
    print!("{}", docde_server::mail::render_listing(&emails));
    Ok(())
}

/// The demo always starts from an empty database of its own (`DATA_DIR/demo.db`), so it
/// never touches a real installation's data.
async fn demo(mut config: Config) -> anyhow::Result<()> {
    if config.database.url.is_none() {
        let path = config.data_dir.join("demo.db");
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::remove_file(&file)?;
            }
        }
        config.database.url = Some(format!("sqlite://{}", path.display()));
    }
    let app = Application::build(config).await?;
    let url = format!("http://{}", app.local_addr());
    let demo = docde_server::demo::seed(app.state()).await?;
    let directory =
        docde_server::seed::seed_directory(&app.state().store, 3_000, 2026, |_| {}).await?;
    app.state().directory.rebuild(&app.state().store).await?;
    let password = docde_server::demo::DEMO_PASSWORD;
    println!(
        "\nDocDe demo is running. Nurse station: {url}/nurse?ward={} (nurse@demo.docde.kr / {password})",
        demo.ward_id
    );
    println!(
        "Pages: {url}/ (patient app {url}/app, lobby boards {url}/board/…); API explorer {url}/docs; health {url}/readyz."
    );
    println!("\nDemo accounts (password for all: {password}):");
    for account in &demo.accounts {
        let number = account
            .employee_number
            .as_deref()
            .map(|n| format!("  employee no. {n}"))
            .unwrap_or_default();
        println!("  {:<15} {}{number}", account.role.as_str(), account.email);
    }
    println!("  hospital {}  ward {}", demo.hospital_id, demo.ward_id);
    println!(
        "\nDirectory: {} generated hospitals with {} doctors; try {url}/api/v1/search/hospitals?q=서울대",
        directory.hospitals, directory.doctors
    );
    println!(
        "\nBooking: doctor {} has free slots at {url}/api/v1/doctors/{}/availability",
        demo.doctor_id, demo.doctor_id
    );
    println!("  book as patient@demo.docde.kr with POST {url}/api/v1/appointments");
    let devices_file = demo_devices_file(&app, &demo)?;
    println!(
        "\nWard (live): {} beds, each with a simulated bedside monitor reporting every second;",
        demo.beds.len()
    );
    println!(
        "  bed {} turns septic after ~10 s, bed {}'s IV bag is nearly empty; alarms follow within a minute.",
        demo.beds[0].label, demo.beds[3].label
    );
    println!(
        "  as the nurse: GET {url}/api/v1/wards/{}/beds/live",
        demo.ward_id
    );
    println!(
        "                GET {url}/api/v1/wards/{}/events  (SSE)",
        demo.ward_id
    );
    println!(
        "  more devices: docde simulate --url {url} --devices {}",
        devices_file.display()
    );
    println!(
        "  delivery robot {}  secret {}  (POST {url}/api/v1/devices/{}/medication-deliveries {{\"qrCode\": \"{}\"}})",
        demo.robot_id, demo.robot_secret, demo.robot_id, demo.beds[0].qr_code
    );
    spawn_demo_simulator(&app, &url, &demo);
    println!("\nSign in: curl -s {url}/api/v1/auth/sign-in -H 'content-type: application/json' \\");
    println!("          -d '{{\"email\":\"nurse@demo.docde.kr\",\"password\":\"{password}\"}}'");
    println!("\nPress Ctrl+C to stop.\n");
    shutdown::cancel_on_signal(app.shutdown_token());
    app.run_until_stopped().await
}

/// Writes the demo's bedside credentials where `docde simulate --devices` reads them.
fn demo_devices_file(
    app: &Application,
    demo: &docde_server::demo::Demo,
) -> anyhow::Result<PathBuf> {
    let path = app.state().config.data_dir.join("demo-devices.json");
    let list: Vec<crate::simulate::DeviceCredentials> = demo
        .beds
        .iter()
        .map(|b| crate::simulate::DeviceCredentials {
            id: b.device_id,
            secret: b.device_secret.clone(),
        })
        .collect();
    std::fs::write(&path, serde_json::to_vec_pretty(&list)?)?;
    Ok(path)
}

/// The demo's own simulator: every bed reports once a second over HTTP to this server; the
/// first bed's patient turns septic after 10 s, the fourth bed's IV bag runs low. It stops
/// with the server.
fn spawn_demo_simulator(app: &Application, url: &str, demo: &docde_server::demo::Demo) {
    use crate::simulate::patient::Episode;
    let n = demo.beds.len();
    let mut episodes = vec![None; n];
    episodes[0] = Some(Episode {
        start_s: 10.0,
        ramp_s: 60.0,
    });
    let mut iv_start = vec![None; n];
    iv_start[3] = Some(20.6);
    let plan = crate::simulate::Plan {
        devices: demo
            .beds
            .iter()
            .map(|b| crate::simulate::DeviceCredentials {
                id: b.device_id,
                secret: b.device_secret.clone(),
            })
            .collect(),
        rate: 1.0,
        duration: None,
        episodes,
        iv_start,
        iv_minutes: 45.0,
        seed: 2026,
    };
    let stop = app.shutdown_token();
    let url = url.to_owned();
    tokio::spawn(async move {
        // Let the server start listening first.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        match crate::simulate::Transport::http(&url) {
            Ok(transport) => {
                let stats = std::sync::Arc::new(crate::simulate::Stats::default());
                crate::simulate::run(plan, transport, stats, stop).await;
            }
            Err(e) => tracing::warn!(error = %e, "demo simulator could not start"),
        }
    });
}
