//! Configuration: built-in defaults → `docde.toml` → `DOCDE_*` environment → command-line flags.
//!
//! Every key has a default, so `docde serve` with nothing set runs the embedded setup: SQLite
//! in `./data`, in-process coordination. Environment variables map onto keys by section:
//! `DOCDE_DATABASE_URL` → `database.url`, `DOCDE_HTTP_BODY_LIMIT_BYTES` → `http.body_limit_bytes`,
//! `DOCDE_LISTEN` → `listen`. Unknown keys in the file are an error (a typo must not silently
//! fall back to a default); unknown `DOCDE_*` variables are only warned about, because
//! orchestrators inject variables such as `DOCDE_PORT` for a service named `docde`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod push;

pub use push::PushSettings;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The whole effective configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (the bound address is logged).
    pub listen: SocketAddr,
    /// Directory for the embedded database and other local files.
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub http: HttpSettings,
    pub log: LogSettings,
    pub smtp: SmtpSettings,
    pub auth: AuthSettings,
    pub booking: BookingSettings,
    pub records: RecordSettings,
    pub reception: ReceptionSettings,
    pub mqtt: MqttSettings,
    pub medication: MedicationSettings,
    pub reports: ReportSettings,
    pub outbound: OutboundSettings,
    // Ward monitoring (branch `ward`).
    pub ward: WardSettings,
    pub push: PushSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` for PostgreSQL, `sqlite://PATH` for a specific SQLite file, or unset for
    /// `DATA_DIR/docde.db`.
    pub url: Option<String>,
    /// PostgreSQL schema to keep DocDe's tables in (created if missing).
    pub schema: Option<String>,
    pub max_connections: u32,
    pub acquire_timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://…`; unset means in-process coordination (one instance).
    pub url: Option<String>,
    /// Prefix of every Redis key and channel, so installations can share a Redis.
    pub namespace: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Largest request body accepted; larger ones get 413.
    pub body_limit_bytes: usize,
    /// A request whose response has not started within this gets 503 `timeout`.
    pub request_timeout_ms: u64,
    /// On SIGTERM/SIGINT: how long in-flight requests may take to finish before the process
    /// closes what is left and exits.
    pub shutdown_grace_ms: u64,
    /// On SIGTERM: how long the instance keeps serving while `/readyz` answers 503, so a
    /// balancer's health check takes it out of rotation before it stops accepting. Set it to
    /// at least the balancer's check interval × its failure threshold. SIGINT (Ctrl+C) and a
    /// second signal skip it.
    pub drain_delay_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// `tracing` filter directives, e.g. `info` or `info,docde=debug`.
    pub filter: String,
}

/// Outgoing e-mail. Without `host`, messages are written to `DATA_DIR/outbox/` instead
/// (listed by `docde outbox`), so every flow works without a mail server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: Option<String>,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `From:` header, e.g. `DocDe <no-reply@hospital.example>`.
    pub from: String,
    pub tls: SmtpTls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or the test server.
    None,
}

/// Sign-in and tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// HMAC keys for access tokens as `KID:SECRET` (secret at least 32 bytes), the first one
    /// signs and all verify, so a key is rotated by putting a new one first and removing the
    /// old one after `access_ttl_s`. Unset on SQLite: a key is generated once and kept in
    /// `DATA_DIR/signing-key`. Required with PostgreSQL, where instances must share keys.
    pub signing_keys: Vec<String>,
    pub access_ttl_s: u64,
    pub refresh_ttl_s: u64,
    /// Use the first address of `X-Forwarded-For` as the client address (for rate limits and
    /// the audit log). Only enable behind a proxy that sets it.
    pub trust_forwarded_for: bool,
}

/// Appointment booking: group commit and the rush admission queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BookingSettings {
    /// When bookings go through the durable admission queue (answered `202` with a ticket):
    /// `auto` during `peak_windows` or above `rush_in_flight`, `always`, or `never`.
    pub rush: RushMode,
    /// Local (hospital time) windows `HH:MM-HH:MM` in which the queue is on in `auto` mode,
    /// judged by the time the request arrives.
    pub peak_windows: Vec<String>,
    /// In `auto` mode, bookings in progress on this instance above which new ones queue.
    pub rush_in_flight: usize,
    /// Group-commit writers (0 means 1). One suits both backends: SQLite has a single writer,
    /// and on PostgreSQL writers side by side make each other's batches fall back to booking
    /// one by one.
    pub writers: usize,
    /// E-mail the patient on every change of their appointment.
    pub notify_email: bool,
    /// Run a worker serving the rush queue on this instance (any number of instances may).
    pub serve_queue: bool,
}

impl Default for BookingSettings {
    fn default() -> Self {
        Self {
            rush: RushMode::Auto,
            peak_windows: vec!["08:00-10:00".into()],
            rush_in_flight: 2_000,
            writers: 0,
            notify_email: true,
            serve_queue: true,
        }
    }
}

/// Encryption of medical records (`crate::records`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordSettings {
    /// Master keys as `KID:BASE64` (32 random bytes; `docde rotate-keys --generate` makes
    /// one). The first wraps data keys, all unwrap them: rotate by putting a new key first,
    /// running `docde rotate-keys`, then removing the old one. Unset on SQLite: a key is
    /// generated once into `DATA_DIR/record-master-key`. Required with PostgreSQL.
    pub master_keys: Vec<String>,
}

/// Walk-in reception and its waiting room.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceptionSettings {
    /// Calls without the patient coming after which a called visit becomes a no-show.
    pub max_calls: u32,
    /// Check-ins of one hospital in progress on this instance above which new ones go to the
    /// waiting room (`202` with a ticket). 0 sends every check-in through the waiting room.
    pub capacity: usize,
    /// Run a worker serving the waiting room on this instance (any number of instances may).
    pub serve_waiting_room: bool,
    /// Tickets done per transaction by the waiting-room worker.
    pub batch: u32,
    /// Waiting numbers the lobby board shows after the ones being served.
    pub board_next: usize,
}

impl Default for ReceptionSettings {
    fn default() -> Self {
        Self {
            max_calls: 3,
            capacity: 64,
            serve_waiting_room: true,
            batch: 256,
            board_next: 5,
        }
    }
}

/// MQTT ingest of bedside devices (docs/API.md "MQTT ingest", docs/OPERATIONS.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MqttSettings {
    /// `mqtt://[user:password@]host[:port]`; unset means no MQTT ingest.
    pub url: Option<String>,
    /// This instance's MQTT client id (suffixed `-1`, `-2`… per connection). Keep it stable
    /// and unique per instance: with `clean_session = false` the broker keeps messages this
    /// instance received but had not yet acknowledged, and hands them over on reconnect.
    /// Unset: `docde-<host name>-<HTTP port>`.
    pub client_id: Option<String>,
    /// Start a fresh broker session on each connect (unacknowledged messages of a crashed
    /// instance are then redelivered only if the broker hands them to another member).
    pub clean_session: bool,
    /// Topics are `<topic_prefix>/devices/<device id>/samples` and so on.
    pub topic_prefix: String,
    /// Shared-subscription group: every instance subscribes as
    /// `$share/<share_group>/<topic>`, so each message goes to one of them.
    pub share_group: String,
    /// Connections per instance (each takes its share of the messages; the broker limits
    /// unacknowledged messages per connection, Mosquitto to 20 by default).
    pub connections: usize,
    /// How long a verified device secret is trusted without looking at the database again;
    /// also how long a revoked device may keep publishing.
    pub credential_cache_ms: u64,
    /// The predecessor's Raspberry Pi topics: `[{topic = "antips/ward-a", ward_id = "…"}]`.
    pub legacy_topics: Vec<LegacyTopic>,
}

/// A topic on which the predecessor's `{"bedNumber", "temperature", "weight"}` payload arrives
/// for one ward.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyTopic {
    pub topic: String,
    pub ward_id: uuid::Uuid,
}

impl Default for MqttSettings {
    fn default() -> Self {
        Self {
            url: None,
            client_id: None,
            clean_session: false,
            topic_prefix: "docde/v1".into(),
            share_group: "docde".into(),
            connections: 2,
            credential_cache_ms: 5_000,
            legacy_topics: Vec::new(),
        }
    }
}

/// The medicine round: delivered medicines go back to `to_do` at these local times of day
/// (each hospital's time zone).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MedicationSettings {
    /// `HH:MM` local times, e.g. `["06:00", "12:00", "18:00"]`.
    pub reset_times: Vec<String>,
    /// Run the reset worker on this instance (any number of instances may).
    pub reset_worker: bool,
}

impl Default for MedicationSettings {
    fn default() -> Self {
        Self {
            reset_times: vec!["06:00".into(), "12:00".into(), "18:00".into()],
            reset_worker: true,
        }
    }
}

impl MedicationSettings {
    /// The reset times, parsed (validated at load).
    pub fn times(&self) -> Vec<chrono::NaiveTime> {
        self.reset_times
            .iter()
            .filter_map(|t| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").ok())
            .collect()
    }
}

/// Error reports to an incoming webhook (`crate::reports`, docs/OPERATIONS.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSettings {
    /// Mattermost/Slack-compatible incoming webhook, `https://` (certificate checked, see
    /// `outbound.ca_file`) or `http://`. Unset: no reports.
    pub webhook_url: Option<String>,
    /// How this instance names itself in reports. Unset: `<host name>:<HTTP port>`.
    pub instance: Option<String>,
    /// The same error within this window is counted, not re-sent; a summary follows.
    pub dedup_window_ms: u64,
    /// Most posts per minute (token bucket, bursts of as many).
    pub per_minute: u32,
    /// Reports waiting to be posted; when full, the oldest is dropped.
    pub queue: usize,
    /// Attempts per report, with doubling backoff from `retry_base_ms`.
    pub attempts: u32,
    pub retry_base_ms: u64,
    /// Timeout of one post.
    pub timeout_ms: u64,
}

/// Outgoing HTTP (the error-report and ward-escalation webhooks).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundSettings {
    /// A PEM file of certificate authorities to trust for outgoing `https://` besides the
    /// system's (a hospital's internal CA that signed its Mattermost server, say).
    pub ca_file: Option<PathBuf>,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            webhook_url: None,
            instance: None,
            dedup_window_ms: 600_000,
            per_minute: 20,
            queue: 64,
            attempts: 5,
            retry_base_ms: 1_000,
            timeout_ms: 5_000,
        }
    }
}

/// Ward monitoring's background work (branch `ward`). Alarm limits themselves are per ward
/// and patient in the database (`PUT /api/v1/wards/{id}/thresholds`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WardSettings {
    /// Run the technical-alarm check (silent device, sensor off) on this instance; any
    /// number of instances may.
    pub technical_worker: bool,
    /// How often it runs (ms).
    pub technical_every_ms: u64,
    /// Run the retention sweep (`crate::ward::retention`) on this instance; any number may.
    pub retention_worker: bool,
    /// How often it runs (s).
    pub retention_every_secs: u64,
    /// Raw vital samples older than this many days are deleted.
    pub raw_retention_days: u32,
    /// Ward stream events older than this many days are deleted (at least 1: a reconnecting
    /// nurse station must be able to replay the last 24 h).
    pub event_retention_days: u32,
    /// Escalation webhook (Mattermost/Slack-compatible incoming webhook, `http://` or
    /// `https://`) for wards that set none of their own. Unset: only wards with their own URL
    /// post escalations. A secret: shown redacted, never logged.
    pub escalation_webhook_url: Option<String>,
    /// Run the escalation webhook delivery worker on this instance; any number may.
    pub webhook_worker: bool,
    /// Timeout of one post (ms).
    pub webhook_timeout_ms: u64,
    /// Wait after the first failed post (ms), doubled after each further one …
    pub webhook_retry_base_ms: u64,
    /// … up to this (ms).
    pub webhook_retry_cap_ms: u64,
    /// Posts of one escalation before it is given up (`failed`).
    pub webhook_max_attempts: u32,
    /// An escalation not delivered within this many seconds is given up (`failed`): a page
    /// about a bed that arrives an hour late helps nobody.
    pub webhook_give_up_secs: u64,
    /// Run the rollup worker (`crate::ward::rollup`) on this instance; any number may. Raw
    /// samples are only swept once their minute is rolled up, so at least one should.
    pub rollup_worker: bool,
    /// How often it runs (s).
    pub rollup_every_secs: u64,
    /// 1-minute rollups older than this many days are deleted (at least the raw retention:
    /// the rollups are what the history reads once the raw samples are gone).
    pub rollup_retention_days: u32,
}

impl Default for WardSettings {
    fn default() -> Self {
        Self {
            technical_worker: true,
            technical_every_ms: 5_000,
            retention_worker: true,
            retention_every_secs: 3_600,
            raw_retention_days: 7,
            event_retention_days: 30,
            escalation_webhook_url: None,
            webhook_worker: true,
            webhook_timeout_ms: 5_000,
            webhook_retry_base_ms: 2_000,
            webhook_retry_cap_ms: 120_000,
            webhook_max_attempts: 20,
            webhook_give_up_secs: 3_600,
            rollup_worker: true,
            rollup_every_secs: 30,
            rollup_retention_days: 365,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RushMode {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database: DatabaseSettings::default(),
            redis: RedisSettings::default(),
            http: HttpSettings::default(),
            log: LogSettings::default(),
            smtp: SmtpSettings::default(),
            auth: AuthSettings::default(),
            booking: BookingSettings::default(),
            records: RecordSettings::default(),
            reception: ReceptionSettings::default(),
            mqtt: MqttSettings::default(),
            medication: MedicationSettings::default(),
            reports: ReportSettings::default(),
            outbound: OutboundSettings::default(),
            ward: WardSettings::default(),
            push: PushSettings::default(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            schema: None,
            max_connections: 16,
            acquire_timeout_ms: 5_000,
        }
    }
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: None,
            namespace: "docde".into(),
        }
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            request_timeout_ms: 15_000,
            shutdown_grace_ms: 10_000,
            drain_delay_ms: 5_000,
        }
    }
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: None,
            port: 587,
            username: None,
            password: None,
            from: "DocDe <no-reply@docde.invalid>".into(),
            tls: SmtpTls::Starttls,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            signing_keys: Vec::new(),
            access_ttl_s: 15 * 60,
            refresh_ttl_s: 30 * 24 * 3600,
            trust_forwarded_for: false,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            filter: "info".into(),
        }
    }
}

/// Configuration that cannot be used, with the key at fault.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

/// `DOCDE_*` variables that are read elsewhere (the config file's path), not keys.
const NOT_CONFIG_KEYS: [&str; 1] = ["config"];

/// Sections whose keys `DOCDE_<SECTION>_<KEY>` variables address.
const SECTIONS: [&str; 14] = [
    "database",
    "redis",
    "http",
    "log",
    "smtp",
    "auth",
    "booking",
    "records",
    "reception",
    "mqtt",
    "medication",
    "reports",
    "outbound",
    "ward",
];

impl Config {
    /// Loads the layered configuration. `file` is read if given, else `docde.toml` in the
    /// working directory if present; `overrides` (from flags) win over everything.
    /// Unknown `DOCDE_*` variables are returned as warnings for the caller to log once
    /// logging is set up (logging itself is configured here).
    pub fn load(
        file: Option<&Path>,
        overrides: impl Serialize,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let known = known_keys();
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new("docde.toml").exists() => {
                figment = figment.merge(Toml::file_exact("docde.toml"))
            }
            None => {}
        }
        let warnings = std::env::vars()
            .filter_map(|(name, _)| {
                let key = env_key(name.strip_prefix("DOCDE_")?);
                let known = known.contains(&key) || NOT_CONFIG_KEYS.contains(&key.as_str());
                (!known).then(|| format!("ignoring unknown configuration variable {name}"))
            })
            .collect();
        let env = Env::prefixed("DOCDE_")
            .map(|key| env_key(key.as_str()).into())
            .filter(move |key| known.iter().any(|k| k == key.as_str()));
        let config: Config = figment
            .merge(env)
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError(one_line(e)))?;
        config.validate()?;
        Ok((config, warnings))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.database.url {
            if !(url.starts_with("sqlite://")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
            {
                return Err(ConfigError(
                    "database.url: must start with sqlite:// or postgres://".into(),
                ));
            }
            url::Url::parse(url).map_err(|e| ConfigError(format!("database.url: {e}")))?;
        }
        if let Some(url) = &self.redis.url {
            let parsed =
                url::Url::parse(url).map_err(|e| ConfigError(format!("redis.url: {e}")))?;
            if !matches!(parsed.scheme(), "redis" | "rediss") {
                return Err(ConfigError(
                    "redis.url: must start with redis:// or rediss://".into(),
                ));
            }
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError(
                "database.max_connections: must be at least 1".into(),
            ));
        }
        if self.http.body_limit_bytes == 0 {
            return Err(ConfigError(
                "http.body_limit_bytes: must be at least 1".into(),
            ));
        }
        if self.http.request_timeout_ms == 0 {
            return Err(ConfigError(
                "http.request_timeout_ms: must be at least 1".into(),
            ));
        }
        for (i, window) in self.booking.peak_windows.iter().enumerate() {
            parse_window(window)
                .map_err(|e| ConfigError(format!("booking.peak_windows[{i}]: {e}")))?;
        }
        for (i, entry) in self.auth.signing_keys.iter().enumerate() {
            parse_signing_key(entry)
                .map_err(|e| ConfigError(format!("auth.signing_keys[{i}]: {e}")))?;
        }
        if !self.records.master_keys.is_empty() {
            crate::records::MasterKeys::parse(&self.records.master_keys).map_err(ConfigError)?;
        }
        let postgres = self.database_url().starts_with("postgres");
        if postgres && self.auth.signing_keys.is_empty() {
            return Err(ConfigError(
                "auth.signing_keys: must be set with PostgreSQL, so every instance signs with the same keys \
                 (e.g. DOCDE_AUTH_SIGNING_KEYS='[\"k1:<at least 32 random characters>\"]')"
                    .into(),
            ));
        }
        if self.auth.access_ttl_s == 0 || self.auth.refresh_ttl_s < self.auth.access_ttl_s {
            return Err(ConfigError(
                "auth.refresh_ttl_s: must be at least auth.access_ttl_s, which must be positive"
                    .into(),
            ));
        }
        if let Some(url) = &self.mqtt.url {
            parse_mqtt_url(url).map_err(|e| ConfigError(format!("mqtt.url: {e}")))?;
        }
        if let Some(key) = &self.push.vapid_private_key {
            crate::ward::push::keys::parse_private_key(key)
                .map_err(|e| ConfigError(format!("push.vapid_private_key: {e}")))?;
        }
        if !(self.push.contact.starts_with("mailto:") || self.push.contact.starts_with("https://"))
        {
            return Err(ConfigError(
                "push.contact: must start with mailto: or https://".into(),
            ));
        }
        if self.mqtt.connections == 0 {
            return Err(ConfigError("mqtt.connections: must be at least 1".into()));
        }
        let topic_ok = |t: &str| !t.is_empty() && !t.contains(['+', '#']) && !t.starts_with('$');
        if !topic_ok(&self.mqtt.topic_prefix) || self.mqtt.share_group.contains(['/', '+', '#']) {
            return Err(ConfigError(
                "mqtt.topic_prefix / mqtt.share_group: must be non-empty MQTT names without wildcards"
                    .into(),
            ));
        }
        for (i, legacy) in self.mqtt.legacy_topics.iter().enumerate() {
            if !topic_ok(&legacy.topic) {
                return Err(ConfigError(format!(
                    "mqtt.legacy_topics[{i}].topic: must be a topic name without wildcards"
                )));
            }
        }
        if self.medication.times().len() != self.medication.reset_times.len()
            || self.medication.reset_times.is_empty()
        {
            return Err(ConfigError(
                "medication.reset_times: must be one or more times like \"06:00\"".into(),
            ));
        }
        if self.ward.raw_retention_days == 0 || self.ward.event_retention_days == 0 {
            return Err(ConfigError(
                "ward.raw_retention_days, ward.event_retention_days: must be at least 1 (a day of replay)"
                    .into(),
            ));
        }
        if let Some(url) = &self.ward.escalation_webhook_url {
            crate::ward::webhook::WebhookUrl::parse(url)
                .map_err(|e| ConfigError(format!("ward.escalation_webhook_url: {e}")))?;
        }
        if self.ward.webhook_timeout_ms == 0
            || self.ward.webhook_retry_base_ms == 0
            || self.ward.webhook_max_attempts == 0
            || self.ward.webhook_give_up_secs == 0
            || self.ward.webhook_retry_cap_ms < self.ward.webhook_retry_base_ms
        {
            return Err(ConfigError(
                "ward.webhook_timeout_ms / webhook_retry_base_ms / webhook_max_attempts / webhook_give_up_secs: \
                 must be at least 1, and ward.webhook_retry_cap_ms at least ward.webhook_retry_base_ms"
                    .into(),
            ));
        }
        if self.ward.rollup_retention_days < self.ward.raw_retention_days {
            return Err(ConfigError(
                "ward.rollup_retention_days: must be at least ward.raw_retention_days (rollups outlive the raw samples)"
                    .into(),
            ));
        }
        if let Some(url) = &self.reports.webhook_url {
            let parsed = url::Url::parse(url)
                .map_err(|e| ConfigError(format!("reports.webhook_url: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") || !parsed.has_host() {
                return Err(ConfigError(
                    "reports.webhook_url: must be an https:// or http:// URL".into(),
                ));
            }
        }
        if self.reports.per_minute == 0 || self.reports.queue == 0 || self.reports.attempts == 0 {
            return Err(ConfigError(
                "reports.per_minute / reports.queue / reports.attempts: must be at least 1".into(),
            ));
        }
        if self.redis.namespace.is_empty() || self.redis.namespace.contains(['*', ' ']) {
            return Err(ConfigError(
                "redis.namespace: must be non-empty, without spaces or '*'".into(),
            ));
        }
        Ok(())
    }

    /// The database URL in effect: the configured one, or the SQLite file in `data_dir`.
    pub fn database_url(&self) -> String {
        self.database
            .url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("docde.db").display()))
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.http.request_timeout_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.http.shutdown_grace_ms)
    }

    pub fn drain_delay(&self) -> Duration {
        Duration::from_millis(self.http.drain_delay_ms)
    }

    /// The configuration as JSON with every secret (URL passwords) replaced by `***`.
    pub fn redacted(&self) -> serde_json::Value {
        let mut copy = self.clone();
        copy.database.url = Some(redact_url(&self.database_url()));
        copy.redis.url = copy.redis.url.as_deref().map(redact_url);
        copy.mqtt.url = copy.mqtt.url.as_deref().map(redact_url);
        copy.smtp.password = copy.smtp.password.map(|_| "***".into());
        // An incoming webhook's path is its secret.
        copy.reports.webhook_url = copy.reports.webhook_url.as_deref().map(redact_webhook);
        copy.ward.escalation_webhook_url = copy
            .ward
            .escalation_webhook_url
            .as_deref()
            .map(crate::ward::webhook::redact);
        copy.push.vapid_private_key = copy.push.vapid_private_key.map(|_| "***".into());
        copy.auth.signing_keys = copy
            .auth
            .signing_keys
            .iter()
            .map(|k| format!("{}:***", k.split(':').next().unwrap_or("")))
            .collect();
        copy.records.master_keys = copy
            .records
            .master_keys
            .iter()
            .map(|k| format!("{}:***", k.split(':').next().unwrap_or("")))
            .collect();
        serde_json::to_value(copy).unwrap_or_default()
    }
}

/// Where and as whom to connect to the MQTT broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttBroker {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Parses `mqtt://[user:password@]host[:port]` (`tcp://` is accepted too; TLS is not yet).
pub fn parse_mqtt_url(raw: &str) -> Result<MqttBroker, String> {
    let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "mqtt" | "tcp") {
        return Err("must start with mqtt:// (TLS is not supported yet)".into());
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("needs a host")?
        .to_owned();
    // User info is percent-encoded in a URL (`%40` for `@`).
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (bytes[i], hex) {
                (b'%', Some(b)) => {
                    out.push(b);
                    i += 3;
                }
                (b, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    Ok(MqttBroker {
        host,
        port: url.port().unwrap_or(1883),
        username: (!url.username().is_empty()).then(|| decode(url.username())),
        password: url.password().map(decode),
    })
}

/// Splits a signing key `KID:SECRET`, checking both parts.
pub fn parse_signing_key(entry: &str) -> Result<(&str, &str), String> {
    let (kid, secret) = entry.split_once(':').ok_or("must be KID:SECRET")?;
    if kid.is_empty()
        || !kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("the key id must be letters, digits, '-' or '_'".into());
    }
    if secret.len() < 32 {
        return Err("the secret must be at least 32 characters".into());
    }
    Ok((kid, secret))
}

/// `DATABASE_URL` → `database.url`; `LISTEN` → `listen`.
fn env_key(raw: &str) -> String {
    let key = raw.to_ascii_lowercase();
    for section in SECTIONS {
        if let Some(rest) = key.strip_prefix(section).and_then(|r| r.strip_prefix('_')) {
            return format!("{section}.{rest}");
        }
    }
    key
}

/// Every leaf key of the configuration, dotted (`database.url`).
fn known_keys() -> Vec<String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            _ => out.push(prefix.to_owned()),
        }
    }
    let mut out = Vec::new();
    walk(
        "",
        &serde_json::to_value(Config::default()).unwrap_or_default(),
        &mut out,
    );
    out
}

fn one_line(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let source = e
                .metadata
                .as_ref()
                .map(|m| match &m.source {
                    Some(src) => format!(" (from {} {src})", m.name),
                    None => format!(" (from {})", m.name),
                })
                .unwrap_or_default();
            if key.is_empty() {
                format!("{}{source}", e.kind)
            } else {
                format!("{key}: {}{source}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

/// `http://host/hooks/secret` → `http://host/***`.
fn redact_webhook(raw: &str) -> String {
    match url::Url::parse(raw) {
        // Host and port only: a password in the URL is as secret as the path.
        Ok(url) => match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{}://{host}:{port}/***", url.scheme()),
            (Some(host), None) => format!("{}://{host}/***", url.scheme()),
            (None, _) => "***".into(),
        },
        Err(_) => "***".into(),
    }
}

/// A local time window `HH:MM-HH:MM` (end after start).
pub fn parse_window(text: &str) -> Result<(chrono::NaiveTime, chrono::NaiveTime), String> {
    let parse = |t: &str| {
        chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M")
            .map_err(|_| format!("{t:?} is not a time like 08:00"))
    };
    let (start, end) = text
        .split_once('-')
        .ok_or_else(|| format!("{text:?} is not a window like 08:00-10:00"))?;
    let (start, end) = (parse(start)?, parse(end)?);
    if end <= start {
        return Err(format!("{text:?} ends before it starts"));
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names_map_onto_sections() {
        assert_eq!(env_key("DATABASE_URL"), "database.url");
        assert_eq!(env_key("HTTP_BODY_LIMIT_BYTES"), "http.body_limit_bytes");
        assert_eq!(env_key("DATA_DIR"), "data_dir");
        assert_eq!(env_key("LISTEN"), "listen");
    }

    #[test]
    fn every_default_key_is_known() {
        let keys = known_keys();
        for k in [
            "listen",
            "data_dir",
            "database.url",
            "redis.url",
            "http.shutdown_grace_ms",
            "log.format",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k} missing from {keys:?}");
        }
    }

    #[test]
    fn mqtt_urls_name_host_port_and_credentials() {
        let b = parse_mqtt_url("mqtt://docde:s3%40cret@broker.local:1884").unwrap();
        assert_eq!(b.host, "broker.local");
        assert_eq!(b.port, 1884);
        assert_eq!(b.username.as_deref(), Some("docde"));
        assert_eq!(b.password.as_deref(), Some("s3@cret"));
        assert_eq!(parse_mqtt_url("mqtt://127.0.0.1").unwrap().port, 1883);
        assert!(parse_mqtt_url("http://127.0.0.1").is_err());
        assert!(parse_mqtt_url("mqtts://127.0.0.1").is_err());
    }

    #[test]
    fn the_default_escalation_webhook_is_checked_and_shown_without_its_secret() {
        let mut config = Config::default();
        config.ward.escalation_webhook_url = Some("ftp://chat.example/hooks/x".into());
        assert!(config.validate().is_err());
        config.ward.escalation_webhook_url =
            Some("https://bot:pw@chat.example:8443/hooks/s3cret".into());
        assert!(config.validate().is_ok());
        let shown = config.redacted()["ward"]["escalation_webhook_url"].to_string();
        assert_eq!(shown, "\"https://chat.example:8443/***\"");
    }

    #[test]
    fn an_error_report_webhook_must_be_http_or_https_and_its_secret_path_is_redacted() {
        let mut config = Config::default();
        for refused in [
            "ftp://chat.example/hooks/x",
            "mailto:it@hospital.example",
            "chat",
        ] {
            config.reports.webhook_url = Some(refused.into());
            assert!(config.validate().is_err(), "{refused} is refused at start");
        }
        config.reports.webhook_url = Some("https://chat.example/hooks/s3cret".into());
        assert!(config.validate().is_ok());
        let shown = config.redacted()["reports"]["webhook_url"].to_string();
        assert_eq!(shown, "\"https://chat.example/***\"");
        config.reports.webhook_url = Some("http://chat.internal:8065/hooks/s3cret".into());
        assert!(config.validate().is_ok());
        let shown = config.redacted()["reports"]["webhook_url"].to_string();
        assert_eq!(shown, "\"http://chat.internal:8065/***\"");
    }

    #[test]
    fn a_ward_retention_of_zero_days_is_refused_at_start() {
        let mut config = Config::default();
        config.ward.event_retention_days = 0;
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("ward.event_retention_days"), "{err}");
        config.ward.event_retention_days = 1;
        assert!(config.validate().is_ok());
    }

    #[test]
    fn a_rollup_retention_shorter_than_the_raw_retention_is_refused_at_start() {
        let mut config = Config::default();
        assert_eq!(config.ward.rollup_retention_days, 365);
        config.ward.raw_retention_days = 30;
        config.ward.rollup_retention_days = 29;
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("ward.rollup_retention_days"), "{err}");
        config.ward.rollup_retention_days = 30;
        assert!(
            config.validate().is_ok(),
            "as long as the raw samples are kept is enough"
        );
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@db/x"),
            "postgres://u:***@db/x"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }
}
