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

mod auth;
mod booking;
mod http_server;
mod logging;
mod mail;
mod mqtt;
mod push;
mod reception;
mod records;
mod redact;
mod reports;
mod storage;
#[cfg(test)]
mod tests;
mod ward;

pub use auth::{AuthSettings, parse_signing_key};
pub use booking::{BookingSettings, RushMode, parse_window};
pub use http_server::HttpSettings;
pub use logging::{LogFormat, LogSettings};
pub use mail::{SmtpSettings, SmtpTls};
pub use mqtt::{LegacyTopic, MqttBroker, MqttSettings, parse_mqtt_url};
pub use push::PushSettings;
pub use reception::ReceptionSettings;
pub use records::RecordSettings;
pub use reports::{OutboundSettings, ReportSettings};
pub use storage::{DatabaseSettings, RedisSettings};
pub use ward::{MedicationSettings, WardSettings};

use redact::{redact_url, redact_webhook};

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
